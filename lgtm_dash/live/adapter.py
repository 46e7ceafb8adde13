"""Live results as ordinary lint findings: located at the Python `file:line` through the source map (the
same `LintContext.finding` offline checks use), each message naming environment, datasource and window."""

from __future__ import annotations

from ..lint.context import LintContext
from ..lint.findings import Finding, Severity
from .run import LiveReport


def to_findings(report: LiveReport, ctx: LintContext, env: str, *, strict: bool = False) -> list[Finding]:
    severity = Severity.ERROR if strict else Severity.WARNING
    window = report.window.text if report.window else ""
    findings = []
    for result in report.results:
        where = f"[env {env}, {result.server}, last {window}]"
        if result.query is not None:
            message = f"{result.query.label}: {result.message} {where}"
            findings.append(ctx.finding(result.rule, severity, message, query=result.query))
        else:
            location = result.location
            findings.append(
                Finding(
                    file=location.file if location else "",
                    line=location.line if location else 0,
                    rule=result.rule,
                    severity=severity,
                    message=f"{result.message} [env {env}, last {window}]",
                )
            )
    return sorted(set(findings))
