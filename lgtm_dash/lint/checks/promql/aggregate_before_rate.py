from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import metric_name, op_text, range_function_arguments, walk
from ...registry import Check, register


@register
class AggregateBeforeRate(Check):
    """Counters are rated before they are aggregated, never the other way round.

    ## What it does
    Reports rate(), irate() and increase() of an aggregation of raw series: a subquery such as
    `rate(sum(x)[5m:])`, or a recording rule of the same build whose expression aggregates raw samples
    (`record: job:x:sum` with `expr: sum by (job) (x)`).

    ## Why is this bad?
    When one of the summed counters resets (a pod restarts), the sum drops; rate() takes that drop for a reset of
    the sum and adds the whole sum back as growth: the graph spikes to absurd values and alerts fire. Only a
    single counter's resets can be detected, so rate() must come first.

    ## Example
    ```promql
    rate(sum by (job) (http_requests_total)[5m:])
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: rate() of an aggregation (sum) of raw series: counter resets of one series look like a reset of the sum; take rate() of each series first, then aggregate: `rate(sum by (job) (http_requests_total)[5m:])`
    ```

    ## Use instead
    ```promql
    sum by (job) (rate(http_requests_total[$__rate_interval]))
    ```
    """

    id = "promql/aggregate-before-rate"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        for function, argument in range_function_arguments(ctx.nodes(query)):
            if isinstance(argument, pp.SubqueryExpr):
                aggregation = _raw_aggregation(argument.expr)
                if aggregation:
                    yield self.report(ctx, f"{query.label}: {function}() of an aggregation ({aggregation}) of raw "
                                      "series: counter resets of one series look like a reset of the sum; take "
                                      f"rate() of each series first, then aggregate: `{one_line(query.text)}`",
                                      query=query)  # fmt: skip
            elif isinstance(argument, pp.MatrixSelector):
                name = metric_name(argument.vector_selector)
                if name and ctx.recorded_kind(name) == "aggregated samples":
                    yield self.report(ctx, f"{query.label}: {function}() of {name!r}, a recording rule that "
                                      "aggregates raw series: counter resets of one series look like a reset of "
                                      "the sum; record the rate() of each series instead: "
                                      f"`{one_line(query.text)}`", query=query)  # fmt: skip


def _raw_aggregation(node: object) -> str | None:
    """The operator of an aggregation that reads raw samples (a selector not inside a range function)."""
    for current, ancestors in walk(node):
        if not isinstance(current, pp.VectorSelector):
            continue
        if any(isinstance(a, pp.MatrixSelector | pp.SubqueryExpr) for a in ancestors):
            continue
        aggregations = [a for a in ancestors if isinstance(a, pp.AggregateExpr)]
        if aggregations:
            return op_text(aggregations[-1])
    return None
