from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, known_elsewhere, known_metric

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext

NOT_COUNTERS = ("gauge", "info", "stateset")


@register
class RateOfGauge(LiveCheck):
    """rate/irate/increase take counters, by the server's metadata where it contradicts the catalog.

    ## What it does
    Reads the metric metadata of the server a query goes to (`/api/v1/metadata`) and reports `rate()`,
    `irate()` or `increase()` of a metric that server describes as a gauge, where the rest of the run thinks
    otherwise: the catalog says it is a counter, or another server's metadata disagrees.

    Where the catalog does not know a metric's type, the servers' metadata fills it in for the whole run and
    the offline rule `promql/rate-counter` reports a gauge under `rate()`, as it does with the catalog: one
    finding per fault, by one rule. This rule covers what only the servers can tell.

    ## Why is this bad?
    A gauge goes down as well as up; rate() reads every decrease as a counter reset and returns nonsense.
    And a catalog that calls the gauge a counter hides that from offline lint.

    ## Example
    ```yaml catalog
    metrics:
      queue_depth: {type: counter}
    ```
    ```yaml server
    series:
      - queue_depth{queue="orders"}
    metadata:
      queue_depth: gauge
    ```
    ```promql
    sum(rate(queue_depth[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: rate() of 'queue_depth', which the server's metadata says is a gauge (the catalog says counter) [env dev, prometheus, last 7d]
    ```

    ## Use instead
    Use the gauge as a gauge, and correct the catalog:
    ```yaml catalog
    metrics:
      queue_depth: {type: gauge}
    ```
    ```yaml server
    series:
      - queue_depth{queue="orders"}
    metadata:
      queue_depth: gauge
    ```
    ```promql
    max(avg_over_time(queue_depth[$__rate_interval]))
    ```
    """

    id = "live/rate-of-gauge"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = known_metric(selector, state)
        if metric is None or selector.usage != "range":
            return
        kind = state.metric_type(metric)
        known = ctx.metric_type(metric)
        if kind not in NOT_COUNTERS or (known is not None and known != "counter"):
            return  # a counter here; or the run knows it is none, and promql/rate-counter says so
        yield (
            f"{selector.function}() of {metric!r}, which the server's metadata says is a {kind} "
            f"({known_elsewhere(metric, ctx)})"
        )
