"""Run the enabled checks over one input and collect the findings (sorted, deduplicated).

The configuration (`LintConfig`, from pyproject.toml) decides which rules run, their severities and the
per-file-ignores; findings a subject suppresses itself (`lintIgnore`, `# lgtm-dash: ignore=`) are dropped here.

A check that raises is a bug in the linter, not in the input: it becomes a `lint/internal-error` finding naming
the check, so one bad check never hides the others or crashes the run.

Dashboards are linted one at a time (the per-query caches of the context hold one dashboard: memory stays flat
however many there are); large inputs by dashboard in parallel worker processes (forked, so they share the
parsed input and the check context); rules and whole-run checks stay in the parent. With lint's cache
(`lgtm_dash.lint.cache`), a dashboard nothing it depends on changed for is not checked again. The findings
are the same either way.

The `live/...` rules (`Check.live`) judge what the servers answered: they run only when the context carries
live answers (`lint --live`), and are skipped otherwise.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from ..buildcache import combine
from ..errors import DefinitionError, LgtmError
from .cache import LintCache
from .config import LintConfig
from .context import Catalog, LintContext, rated_in
from .findings import Finding, Severity
from .inputs import DashboardDoc, KnownDashboard, LintInput
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
    cache: LintCache | None = None,
) -> list[Finding]:
    """Lint everything in `lint_input` with the rules `config` enables (default: the correctness rules), or
    exactly `checks` when given. `jobs`: worker processes (default: one per CPU for large inputs). `cache`:
    reuse the findings of dashboards nothing they depend on changed for (`lgtm_dash.lint.cache`)."""
    facts_key = LintCache.facts_key(lint_input) if cache is not None else ""
    # A dashboard the cache knows with facts of other datasources (or when no cache is used) is read after all.
    lint_input.dashboards = [
        dash.load() if isinstance(dash, KnownDashboard) and dash.facts.get("key") != facts_key else dash
        for dash in lint_input.dashboards
    ]
    ctx = LintContext(lint_input, catalog=catalog, project=project)
    return lint_context(ctx, checks=checks, jobs=jobs, config=config, cache=cache)


def lint_context(
    ctx: LintContext,
    checks: list[Check] | None = None,
    jobs: int | None = None,
    config: LintConfig | None = None,
    cache: LintCache | None = None,
) -> list[Finding]:
    """`lint` of a context built by the caller: `lint --live` first asks the servers (`ctx.live`), then lints.
    The `live/...` rules run only when the context has live answers (and then without `cache`: the answers
    are not part of its key)."""
    config = config or LintConfig()
    lint_input = ctx.input
    checks = config.enabled_checks(all_checks()) if checks is None else checks
    if ctx.live is None:
        checks = [check for check in checks if not check.live]
    else:
        cache = None
    facts_key = LintCache.facts_key(lint_input) if cache is not None else ""
    by_language: dict[str, list[Check]] = {}
    for check in checks:
        for language in check.languages:
            by_language.setdefault(language, []).append(check)
    run = _Run(ctx, checks, by_language)
    rule_checks = _overriding(checks, "check_rule")

    findings: set[Finding] = set()
    pending: list[DashboardDoc] = []
    keys: dict[int, str] = {}
    if cache is not None:
        run_key = combine([facts_key, ctx.run_facts(), *(f"{c.id}:{type(c).__qualname__}" for c in checks)])
        sources = _sources_by_uid(lint_input.dashboards)
        for dash in lint_input.dashboards:
            key = combine([run_key, dash.digest, dash.file, *sources.get(dash.uid or "", ())])
            known = cache.findings(dash, key) if dash.digest else None
            if known is not None:
                findings.update(known)
            else:
                pending.append(dash.load() if isinstance(dash, KnownDashboard) else dash)
                keys[id(pending[-1])] = key
    else:
        # without the cache every dashboard is a DashboardDoc; load() covers a KnownDashboard all the same
        pending = [d.load() if isinstance(d, KnownDashboard) else d for d in lint_input.dashboards]

    jobs = _jobs(jobs, len(pending))
    if jobs > 1:
        _ = ctx.rated_metrics  # run-wide facts are worked out once, before the workers fork
        if by_language.get("logql"):
            from .logql import prepare_parser

            prepare_parser()
        per_dashboard = _lint_dashboards_in_parallel(run, pending, jobs)
    else:
        per_dashboard = [run.dashboard(dash) for dash in pending]
    for dash, found in zip(pending, per_dashboard):
        findings.update(found)
        if cache is not None:
            facts = {"uid": dash.uid, "title": dash.title, "ignores": list(dash.ignores),
                     "rated": sorted(rated_in(ctx.dashboard_queries(dash)))}  # fmt: skip
            cache.store(dash, facts_key, facts, keys[id(dash)], found)
    run.findings = findings
    run.queries(q for q in ctx.queries if q.dashboard is None)  # rule expressions
    for group in lint_input.rule_groups:
        for rule in group.rules:
            for check in rule_checks:
                run.collect(check, partial(check.check_rule, rule, ctx), rule.file)
    for check in _overriding(checks, "check_run"):
        run.collect(check, partial(check.check_run, ctx), "")
    if cache is not None:
        cache.save(lint_input.dashboards)
    return sorted(config.apply(run.findings))


def _sources_by_uid(dashboards: list[Any]) -> dict[str, list[str]]:
    """Each dashboard's source-map entries (where its findings point), from the source maps of the input."""
    by_uid: dict[str, list[str]] = {}
    seen: set[int] = set()
    for dash in dashboards:
        if id(dash.sources) in seen:
            continue
        seen.add(id(dash.sources))
        for key, value in dash.sources.items():
            if key.startswith("dashboard:"):
                uid = key[len("dashboard:") :].split("/", 1)[0]
                by_uid.setdefault(uid, []).append(f"{key}={value}")
    return by_uid


class _Run:
    """The checks of one lint run and the findings collected so far."""

    def __init__(self, ctx: LintContext, checks: list[Check], by_language: dict[str, list[Check]]) -> None:
        self.ctx, self.checks, self.by_language = ctx, checks, by_language
        self.dashboard_checks = _overriding(checks, "check_dashboard")
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
                self.collect(check, partial(check.check_query, query, self.ctx), where)

    def dashboard(self, dash: DashboardDoc) -> list[Finding]:
        """The findings of one dashboard: its queries' and the dashboard checks'."""
        self.findings = set()
        self.queries(self.ctx.dashboard_queries(dash))
        for check in self.dashboard_checks:
            self.collect(check, partial(check.check_dashboard, dash, self.ctx), dash.file)
        return list(self.findings)


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


def _lint_chunk(index: int) -> tuple[list[list[Finding]], str | None]:
    assert _FORKED is not None
    run, chunks = _FORKED
    try:
        return [run.dashboard(dash) for dash in chunks[index]], None
    except LgtmError as err:
        return [], str(err)


def _lint_dashboards_in_parallel(run: _Run, dashboards: list[Any], jobs: int) -> list[list[Finding]]:
    """Each dashboard's findings (in order), from `jobs` forked workers."""
    global _FORKED
    chunks = [dashboards[i::jobs] for i in range(jobs)]
    _FORKED = (run, chunks)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_lint_chunk, range(jobs))
    finally:
        _FORKED = None
    per_dashboard: list[list[Finding]] = [[] for _ in dashboards]
    for worker, (found, error) in enumerate(results):
        if error:
            raise DefinitionError(error)
        for position, findings in enumerate(found):
            per_dashboard[worker + position * jobs] = findings
    return per_dashboard
