from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, hint, known_metric, shown

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class ValueNeverSeen(LiveCheck):
    """Fixed matcher values occur in the label's values.

    ## What it does
    Checks that the fixed value of an `=` or `!=` matcher occurs in the label's values on the metric. Values
    written in a template variable's options are checked as the variable sends them; the values of a query
    variable come from the server itself and are not judged.

    ## Why is this bad?
    `status="5xx"` selects nothing when the label holds `500`, `502`…; `status!="5xx"` filters nothing.

    ## Example
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
      - qgx_http_requests_total{service="backend", status="500"}
      - qgx_http_requests_total{service="backend", status="502"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total{status="5xx"}[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: `status="5xx"` selects nothing: 'status' of 'qgx_http_requests_total' never has the value '5xx' (values: '200', '500', '502') [env dev, prometheus, last 7d]
    ```

    ## Use instead
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend", status="200"}
      - qgx_http_requests_total{service="backend", status="500"}
      - qgx_http_requests_total{service="backend", status="502"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total{status=~"5.."}[$__rate_interval]))
    ```
    """

    id = "live/value-never-seen"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = known_metric(selector, state)
        if metric is None:
            return
        for matcher in selector.matchers:
            values = state.values.get((metric, matcher.name))
            if values is None or matcher.op not in ("=", "!=") or not matcher.value or matcher.from_variable:
                continue
            if matcher.value not in values:
                effect = "selects nothing" if matcher.op == "=" else "excludes nothing"
                yield (
                    f"`{matcher}` {effect}: {matcher.name!r} of {metric!r} never has the value "
                    f"{matcher.value!r}{hint(matcher.value, values)} (values: {shown(values)})"
                )
