from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...querytext import fixed_window_is_deliberate, range_windows
from ...registry import Check, register


@register
class LogQLRangeAuto(Check):
    """Dashboard LogQL metric queries use `[$__auto]`, not a short fixed range.

    ## What it does
    Reports LogQL metric queries of dashboard panels (`count_over_time`, `rate`, `sum_over_time`...) whose range
    is a short fixed duration or `$__interval`. Not reported: `$__auto`, `$__range`, variables the viewer picks,
    ranges of an hour or more, a range the panel title names, and instant queries.

    ## Why is this bad?
    A fixed range does not follow the panel's step: zoomed out, most log lines fall between the points and are
    never counted; zoomed in, Loki does the same work many times over. `[$__auto]` is the step-aligned range
    Grafana computes for each panel.

    ## Example
    ```logql
    sum(count_over_time({app="api"} |= "error" [5m]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: fixed range [5m] should be [$__auto]: `sum(count_over_time({app="api"} |= "error" [5m]))`
    ```

    ## Use instead
    ```logql
    sum(count_over_time({app="api"} |= "error" [$__auto]))
    ```
    """

    id = "logql/range-auto"
    severity = Severity.WARNING
    languages = frozenset({"logql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if query.origin != "panel":
            return
        summary, _error = ctx.parse(query)
        if summary is None or summary.kind != "metric":
            return
        for _, window in range_windows(query.text):
            title = query.panel.title if query.panel is not None else ""
            if not fixed_window_is_deliberate("", window, instant=query.instant, title=title):
                yield self.report(
                    ctx, f"{query.label}: fixed range [{window}] should be [$__auto]: `{one_line(query.text)}`",
                    query=query,
                )  # fmt: skip
                return
