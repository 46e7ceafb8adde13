from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, hint

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class MetricNeverSeen(LiveCheck):
    """Metrics selected by PromQL queries have series on the server.

    ## What it does
    Checks that every metric a PromQL query selects has at least one series on the server the query's
    datasource points to, within the look-back window (`--since`, default 7 days). Recording rules of the
    build are left to `live/recording-rule-no-series`.

    ## Why is this bad?
    A metric that does not exist makes a panel say "No data" and an alert never fire. It usually means the
    metric was renamed (an exporter or Alloy upgrade) or is spelled differently in this environment.

    ## Example
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
    ```
    ```promql
    sum(rate(http_requests_total[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: metric 'http_requests_total' has no series (did you mean 'qgx_http_requests_total'?) [env dev, prometheus, last 7d]
    ```

    ## Use instead
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    """

    id = "live/metric-never-seen"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = selector.metric
        if (
            metric is None
            or selector.metric_from_variable
            or state.metric_names is None
            or metric in ctx.recording_rules
        ):
            return
        if metric not in state.metric_names:
            yield f"metric {metric!r} has no series{hint(metric, state.metric_names)}"
