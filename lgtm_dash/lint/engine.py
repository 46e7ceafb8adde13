"""Run every registered check over one input and collect the findings (sorted, deduplicated).

A check that raises is a bug in the linter, not in the input: it becomes a `lint/internal-error` finding naming
the check, so one bad check never hides the others or crashes the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import LgtmError
from .context import Catalog, LintContext
from .findings import Finding, Severity
from .inputs import LintInput
from .registry import Check, all_checks

INTERNAL_ERROR = "lint/internal-error"


def lint(
    lint_input: LintInput,
    catalog: Catalog | None = None,
    checks: list[Check] | None = None,
    project: Path | None = None,
) -> list[Finding]:
    ctx = LintContext(lint_input, catalog=catalog, project=project)
    checks = all_checks() if checks is None else checks
    findings: set[Finding] = set()

    def collect(check: Check, produce: Callable[[], Iterable[Finding]], where: str) -> None:
        try:
            findings.update(produce())
        except LgtmError:
            raise  # bad project input a check reads (e.g. the MySQL schema): exit 2, not a finding
        except Exception as err:  # a linter bug: report it as a finding and keep going
            findings.add(
                Finding(file=where, line=0, rule=INTERNAL_ERROR, severity=Severity.ERROR,
                        message=f"check {check.id} failed: {type(err).__name__}: {' '.join(str(err).split())}")
            )  # fmt: skip

    by_language: dict[str, list[Check]] = {}
    for check in checks:
        for language in check.languages:
            by_language.setdefault(language, []).append(check)
    for query in ctx.queries:
        where = query.rule.file if query.rule else (query.dashboard.file if query.dashboard else "")
        for check in by_language.get(query.language, ()):
            collect(check, lambda c=check, q=query: list(c.check_query(q, ctx)), where)
    for dash in lint_input.dashboards:
        for check in checks:
            collect(check, lambda c=check, d=dash: list(c.check_dashboard(d, ctx)), dash.file)
    for group in lint_input.rule_groups:
        for rule in group.rules:
            for check in checks:
                collect(check, lambda c=check, r=rule: list(c.check_rule(r, ctx)), rule.file)
    for check in checks:
        collect(check, lambda c=check: list(c.check_run(ctx)), "")
    return sorted(findings)
