from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import (
    LABEL_KEEPING_AGGREGATIONS,
    call_name,
    children,
    metric_name,
    op_text,
    selectors,
    unwrap,
)
from ...registry import Check, register


@register
class HistogramKeepsLe(Check):
    """histogram_quantile() gets its classic buckets with the `le` label kept.

    ## What it does
    Follows the buckets (`*_bucket` series) given to histogram_quantile() through every aggregation and vector
    match on the way, and reports the one that removes the `le` label. Native histograms have no `le` and are
    not affected.

    ## Why is this bad?
    Without `le`, all buckets of a series collapse into one and histogram_quantile() returns nothing (or NaN): the
    latency panel or alert is empty.

    ## Example
    ```promql
    histogram_quantile(0.99, sum by (route) (rate(http_request_duration_seconds_bucket[$__rate_interval])))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: histogram_quantile() input loses the `le` label in `sum by (route)`: `histogram_quantile(0.99, sum by (route) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`
    ```

    ## Use instead
    ```promql
    histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket[$__rate_interval])))
    ```
    """

    id = "promql/histogram-le"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        for node, _ in ctx.nodes(query):
            if call_name(node) == "histogram_quantile" and len(node.args) == 2:
                classic = any(
                    (metric_name(sel) or "").endswith("_bucket") for sel, _ in selectors(node.args[1])
                )
                culprit = _drops_le(node.args[1]) if classic else None  # native histograms have no `le`
                if culprit is not None:
                    yield self.report(
                        ctx,
                        f"{query.label}: histogram_quantile() input loses the `le` label in `{culprit}`: "
                        f"`{one_line(query.text)}`",
                        query=query,
                    )


def _drops_le(node: object) -> str | None:
    """The aggregation (as text) that removes `le` on the way to histogram_quantile, if any."""
    node = unwrap(node)
    if isinstance(node, pp.AggregateExpr):
        op = op_text(node)
        if op not in LABEL_KEEPING_AGGREGATIONS:
            modifier = node.modifier
            labels = list(modifier.labels) if modifier is not None else []
            without = modifier is not None and "Without" in str(modifier.type)
            if ("le" in labels) == without:
                grouping = f" {'without' if without else 'by'} ({', '.join(labels)})" if modifier else ""
                return one_line(f"{op}{grouping}", 60)
        return _drops_le(node.expr)
    if isinstance(node, pp.BinaryExpr):
        return _binary_drops_le(node)
    for child in children(node):
        if isinstance(child, pp.NumberLiteral | pp.StringLiteral):
            continue
        found = _drops_le(child)
        if found:
            return found
    return None


def _binary_drops_le(node: pp.BinaryExpr) -> str | None:
    """Follow the side whose labels the result carries (Prometheus' vector matching rules)."""
    lhs, rhs = unwrap(node.lhs), unwrap(node.rhs)
    if isinstance(lhs, pp.NumberLiteral):
        return _drops_le(rhs)
    if isinstance(rhs, pp.NumberLiteral):
        return _drops_le(lhs)
    modifier = node.modifier
    card = str(modifier.card) if modifier is not None else ""
    op = op_text(node)
    if card.endswith("OneToMany"):
        return _drops_le(rhs)
    if op == "or":
        return _drops_le(lhs) or _drops_le(rhs)
    matching = modifier.matching if modifier is not None else None
    if matching is not None and not card.endswith("ManyToOne") and op not in ("and", "unless"):
        on = "Include" in str(matching.type)
        if ("le" in list(matching.labels)) != on:
            return one_line(f"{'on' if on else 'ignoring'} ({', '.join(matching.labels)})", 60)
    return _drops_le(lhs)
