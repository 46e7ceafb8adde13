from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, known_elsewhere, known_metric

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class CounterUsedRaw(LiveCheck):
    """Counters are used through rate/irate/increase, by the server's metadata where it contradicts the catalog.

    ## What it does
    Reads the metric metadata of the server a query goes to and reports a metric that server describes as a
    counter, shown or compared as it is (not wrapped in `rate()`, `irate()` or `increase()`, counted, or
    tested with `absent()`), where the rest of the run thinks otherwise: the catalog says it is a gauge, or
    another server's metadata disagrees.

    Where the catalog does not know a metric's type, the servers' metadata fills it in for the whole run and
    the offline rule `promql/counter-without-rate` judges the query, as it does with the catalog.

    ## Why is this bad?
    A counter's raw value is the total since the process started: it resets on every restart and says
    nothing about the current traffic. And a catalog that calls the counter a gauge hides that from offline
    lint.

    ## Example
    ```yaml catalog
    metrics:
      jobs_processed_total: {type: gauge}
    ```
    ```yaml server
    series:
      - jobs_processed_total{queue="orders"}
    metadata:
      jobs_processed_total: counter
    ```
    ```promql
    sum(jobs_processed_total)
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: counter 'jobs_processed_total' (server metadata; the catalog says gauge) is used raw, not through rate(), irate() or increase() [env dev, prometheus, last 7d]
    ```

    ## Use instead
    ```yaml catalog
    metrics:
      jobs_processed_total: {type: counter}
    ```
    ```yaml server
    series:
      - jobs_processed_total{queue="orders"}
    metadata:
      jobs_processed_total: counter
    ```
    ```promql
    sum(rate(jobs_processed_total[$__rate_interval]))
    ```
    """

    id = "live/counter-used-raw"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = known_metric(selector, state)
        if metric is None or selector.usage != "raw" or state.metric_type(metric) != "counter":
            return
        if ctx.metric_type(metric) == "counter":
            return  # the run knows it is a counter: promql/counter-without-rate judges the query
        yield (
            f"counter {metric!r} (server metadata; {known_elsewhere(metric, ctx)}) is used raw, "
            "not through rate(), irate() or increase()"
        )
