from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, hint, known_metric, matches, shown

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class LabelNeverSeen(LiveCheck):
    """Labels tested by matchers occur on the metric's series.

    ## What it does
    Checks that every label a matcher tests occurs on the selected metric's series on the server. A matcher
    that selects series *without* the label (`label=""`) is meant and left alone.

    ## Why is this bad?
    A matcher on a label the metric does not carry selects nothing (`service="api"`), or filters nothing
    (`service!="api"`). Labels differ between sources: `service_name` from OTLP, `service` from Alloy.

    ## Example
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total{service_name="backend"}[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: label 'service_name' of `service_name="backend"` never occurs on 'qgx_http_requests_total' (did you mean 'service'?) (its labels: 'service', 'status') [env dev, prometheus, last 7d]
    ```

    ## Use instead
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total{service="backend"}[$__rate_interval]))
    ```
    """

    id = "live/label-never-seen"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = known_metric(selector, state)
        labels = state.labels.get(metric) if metric else None
        if metric is None or labels is None:
            return
        for matcher in selector.matchers:
            if matcher.name in labels:
                continue
            if matcher.op in ("=", "=~") and matches(matcher, "") is True:
                continue  # `label=""` selects the series without the label: meant
            yield (
                f"label {matcher.name!r} of `{matcher}` never occurs on {metric!r}"
                f"{hint(matcher.name, labels)} (its labels: {shown(labels - {'__name__'})})"
            )
