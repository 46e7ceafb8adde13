"""Run the enabled checks over one input and collect the findings (sorted, deduplicated).

The configuration (`LintConfig`, from pyproject.toml) decides which rules run, their severities and the
per-file-ignores; findings a subject suppresses itself (`lintIgnore`, `# lgtm-dash: ignore=`) are dropped here.

A check that raises is a bug in the linter, not in the input: it becomes a `lint/internal-error` finding naming
the check, so one bad check never hides the others or crashes the run.

Large inputs are linted by dashboard in parallel worker processes (forked, so they share the parsed input and
the check context); rules and whole-run checks stay in the parent. The findings are the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, LgtmError
from .config import LintConfig
from .context import Catalog, LintContext
from .findings import Finding, Severity
from .inputs import LintInput
from .registry import Check, all_checks

INTERNAL_ERROR = "lint/internal-error"
# Below this many dashboards a worker process costs more than it saves.
PARALLEL_MIN_DASHBOARDS = 64


def lint(
    lint_input: LintInput,
    catalog: Catalog | None = None,
    checks: list[Check] | None = None,
    project: Path | None = None,
    jobs: int | None = None,
    config: LintConfig | None = None,
) -> list[Finding]:
    """Lint everything in `lint_input` with the rules `config` enables (default: the correctness rules), or
    exactly `checks` when given. `jobs`: worker processes (default: one per CPU for large inputs)."""
    config = config or LintConfig()
    ctx = LintContext(lint_input, catalog=catalog, project=project)
    checks = config.enabled_checks(all_checks()) if checks is None else checks
    by_language: dict[str, list[Check]] = {}
    for check in checks:
        for language in check.languages:
            by_language.setdefault(language, []).append(check)
    run = _Run(ctx, checks, by_language)
    rule_checks = _overriding(checks, "check_rule")

    dashboards = list(lint_input.dashboards)
    jobs = _jobs(jobs, len(dashboards))
    if jobs > 1:
        _ = ctx.rated_metrics  # run-wide facts are worked out once, before the workers fork
        run.findings.update(_lint_dashboards_in_parallel(run, dashboards, jobs))
    else:
        run.dashboards(dashboards)
    run.queries(q for q in ctx.queries if q.dashboard is None)  # rule expressions
    for group in lint_input.rule_groups:
        for rule in group.rules:
            for check in rule_checks:
                run.collect(check, lambda c=check, r=rule: list(c.check_rule(r, ctx)), rule.file)
    for check in _overriding(checks, "check_run"):
        run.collect(check, lambda c=check: list(c.check_run(ctx)), "")
    return sorted(config.apply(run.findings))


class _Run:
    """The checks of one lint run and the findings collected so far."""

    def __init__(self, ctx: LintContext, checks: list[Check], by_language: dict[str, list[Check]]) -> None:
        self.ctx, self.checks, self.by_language = ctx, checks, by_language
        self.findings: set[Finding] = set()

    def collect(self, check: Check, produce: Callable[[], Iterable[Finding]], where: str) -> None:
        try:
            self.findings.update(f for f in produce() if not f.suppressed)
        except LgtmError:
            raise  # bad project input a check reads (e.g. the MySQL schema): exit 2, not a finding
        except Exception as err:  # a linter bug: report it as a finding and keep going
            self.findings.add(
                Finding(file=where, line=0, rule=INTERNAL_ERROR, severity=Severity.ERROR,
                        message=f"check {check.id} failed: {type(err).__name__}: {' '.join(str(err).split())}")
            )  # fmt: skip

    def queries(self, queries: Iterable[Any]) -> None:
        for query in queries:
            where = query.rule.file if query.rule else (query.dashboard.file if query.dashboard else "")
            for check in self.by_language.get(query.language, ()):
                self.collect(check, lambda c=check, q=query: list(c.check_query(q, self.ctx)), where)

    def dashboards(self, dashboards: list[Any]) -> None:
        """The queries and the dashboard checks of these dashboards."""
        wanted = {id(d) for d in dashboards}
        self.queries(q for q in self.ctx.queries if q.dashboard is not None and id(q.dashboard) in wanted)
        dashboard_checks = _overriding(self.checks, "check_dashboard")
        for dash in dashboards:
            for check in dashboard_checks:
                self.collect(check, lambda c=check, d=dash: list(c.check_dashboard(d, self.ctx)), dash.file)


def _overriding(checks: list[Check], hook: str) -> list[Check]:
    """The checks that implement a hook (the others would only return nothing)."""
    return [check for check in checks if getattr(type(check), hook) is not getattr(Check, hook)]


def _jobs(requested: int | None, dashboards: int) -> int:
    if requested is not None:
        return max(1, requested)
    if dashboards < PARALLEL_MIN_DASHBOARDS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


# The run a forked worker inherits (set just before the fork; workers never pickle the input).
_FORKED: tuple[_Run, list[list[Any]]] | None = None


def _lint_chunk(index: int) -> tuple[list[Finding], str | None]:
    assert _FORKED is not None
    run, chunks = _FORKED
    run.findings = set()
    try:
        run.dashboards(chunks[index])
    except LgtmError as err:
        return [], str(err)
    return list(run.findings), None


def _lint_dashboards_in_parallel(run: _Run, dashboards: list[Any], jobs: int) -> set[Finding]:
    global _FORKED
    chunks = [dashboards[i::jobs] for i in range(jobs)]
    _FORKED = (run, chunks)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_lint_chunk, range(jobs))
    finally:
        _FORKED = None
    findings: set[Finding] = set()
    for found, error in results:
        if error:
            raise DefinitionError(error)
        findings.update(found)
    return findings
