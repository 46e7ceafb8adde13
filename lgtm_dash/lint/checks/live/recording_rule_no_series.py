from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class RecordingRuleNoSeries(LiveCheck):
    """Recording rules used by queries produce series on the server.

    ## What it does
    Checks that every recording rule a query uses (a `record:` of the same build) has series on the server
    the query goes to, within the look-back window.

    ## Why is this bad?
    The rule is not deployed yet, is deployed to another tenant, or its expression selects nothing: every
    panel and alert built on it is empty.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - record: service:qgx_http_requests:rate5m
            expr: sum by (service) (rate(qgx_http_requests_total[5m]))
    ```
    ```promql
    sum(service:qgx_http_requests:rate5m)
    ```
    ```yaml server
    series:   # the rule group was never published
      - qgx_http_requests_total{service="backend"}
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: recording rule 'service:qgx_http_requests:rate5m' produces no series (not deployed, or its expression selects nothing) [env dev, prometheus, last 7d]
    ```

    ## Use instead
    Publish the rule group (`make publish`), or fix the rule's expression until it produces series:
    ```yaml
    groups:
      - name: http
        rules:
          - record: service:qgx_http_requests:rate5m
            expr: sum by (service) (rate(qgx_http_requests_total[5m]))
    ```
    ```promql
    sum(service:qgx_http_requests:rate5m)
    ```
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend"}
      - service:qgx_http_requests:rate5m{service="backend"}
    ```
    """

    id = "live/recording-rule-no-series"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = selector.metric
        if (
            metric in ctx.recording_rules
            and state.metric_names is not None
            and metric not in state.metric_names
        ):
            yield f"recording rule {metric!r} produces no series (not deployed, or its expression selects nothing)"
