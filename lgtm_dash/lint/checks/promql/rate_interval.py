from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...querytext import fixed_window_is_deliberate, rate_windows
from ...registry import Check, register


@register
class RateInterval(Check):
    """Dashboard rate(), irate() and increase() windows adapt to the panel: `$__rate_interval`.

    ## What it does
    In panels of a Prometheus datasource, reports rate(), irate() and increase() over a short fixed window
    (`[5m]`) or over `$__interval`. Not reported: `$__rate_interval`, `$__range`, a dashboard variable the viewer
    picks, windows of an hour or more (a count per hour or day), any window of an instant query (a table or
    stat of "the last 5 minutes"), a window the panel title names ("Rate[5m]"), and `increase(x[$__interval])`,
    a count per graph bucket.

    ## Why is this bad?
    A fixed window ignores the panel's step: zoomed out, the step grows past the window and the graph skips
    most samples (spikes vanish); zoomed in, a window shorter than four scrape intervals goes empty.
    `$__interval` is the step itself, often below two scrapes. `$__rate_interval` is always at least four scrape
    intervals and one step.

    ## Example
    ```promql
    sum(rate(http_requests_total[5m]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: rate() over [5m] should use [$__rate_interval]: `sum(rate(http_requests_total[5m]))`
    ```

    ## Use instead
    ```promql
    sum(rate(http_requests_total[$__rate_interval]))
    ```
    """

    id = "promql/rate-interval"
    severity = Severity.WARNING
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        # Only where Grafana's Prometheus datasource computes $__rate_interval: known Prometheus panels.
        if query.origin != "panel" or not query.certain or ctx.parse(query)[0] is None:
            return
        for function, window in rate_windows(query.text):
            title = query.panel.title if query.panel is not None else ""
            if fixed_window_is_deliberate(function, window, instant=query.instant, title=title):
                continue
            yield self.report(
                ctx,
                f"{query.label}: {function}() over [{window}] should use [$__rate_interval]: "
                f"`{one_line(query.text)}`",
                query=query,
            )
