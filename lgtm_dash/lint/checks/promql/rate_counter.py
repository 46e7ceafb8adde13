from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import metric_name, range_function_arguments
from ...registry import Check, register


@register
class RateOfGauge(Check):
    """rate(), irate() and increase() are applied to counters, when the metric's type is known.

    ## What it does
    Reports rate(), irate() and increase() of a metric whose type is known not to be a counter: a gauge or
    histogram in the metric catalog (`catalog.yaml`), a gauge by the servers' metadata in `lint --live` (for
    what the catalog does not describe), or a recording rule of the same build that already computes over a
    window (a rate, a ratio of rates, a quantile...). A metric of unknown type is left alone.

    ## Why is this bad?
    rate() treats every decrease as a counter reset: on a gauge that goes up and down it adds the drops back as
    growth, and the graph shows numbers that mean nothing.

    ## Example
    ```yaml catalog
    metrics:
      queue_depth: {type: gauge}
    ```
    ```promql
    sum(rate(queue_depth[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: rate() of 'queue_depth', which is a gauge, not a counter: `sum(rate(queue_depth[$__rate_interval]))`
    ```

    ## Use instead
    ```yaml catalog
    metrics:
      queue_depth: {type: gauge}
    ```
    ```promql
    max(avg_over_time(queue_depth[$__rate_interval]))
    ```
    """

    id = "promql/rate-counter"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        for function, argument in range_function_arguments(ctx.nodes(query)):
            if not isinstance(argument, pp.MatrixSelector):
                continue
            name = metric_name(argument.vector_selector)
            kind = ctx.metric_type(name) if name else None
            described = f"{kind}{ctx.metric_type_source(name)}" if kind and name else None
            if kind is None and name and ctx.recorded_kind(name) == "gauge":
                kind, described = "gauge", "gauge (a recording rule that already computes over a window)"
            if kind is not None and kind != "counter":
                yield self.report(
                    ctx,
                    f"{query.label}: {function}() of {name!r}, which is a {described}, not a counter: "
                    f"`{one_line(query.text)}`",
                    query=query,
                )
