"""LogQL checks: syntax (our lark grammar, after Grafana interpolation) and adaptive range windows."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..context import LintContext, Query
from ..findings import Finding, Severity, one_line
from ..querytext import range_windows
from ..registry import Check, register

LOGQL = frozenset({"logql"})
FIXED_DURATION = re.compile(r"^\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y)(\d+(ns|us|µs|ms|s|m|h|d|w|y))*$")


@register
class LogQLSyntax(Check):
    id = "logql/syntax"
    severity = Severity.ERROR
    summary = "LogQL parses (the full grammar) after Grafana variables are interpolated"
    languages = LOGQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        _summary, error = ctx.parse(query)
        if error:
            yield self.report(
                ctx, f"{query.label}: invalid LogQL: {error}: `{one_line(query.text)}`", query=query
            )


@register
class LogQLRangeAuto(Check):
    id = "logql/range-auto"
    severity = Severity.WARNING
    summary = "dashboard LogQL metric queries use [$__auto] (or a variable), not a fixed range"
    languages = LOGQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if query.origin != "panel":
            return
        summary, _error = ctx.parse(query)
        if summary is None or summary.kind != "metric":
            return
        for _, window in range_windows(query.text):
            if FIXED_DURATION.match(window):
                yield self.report(
                    ctx,
                    f"{query.label}: fixed range [{window}] should be [$__auto]: `{one_line(query.text)}`",
                    query=query,
                )
                return
