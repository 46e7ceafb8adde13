from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import RANGE_FUNCTIONS, SET_OPS, call_name, metric_name, op_text, selectors, walk_paths
from ...registry import Check, register

# Functions that legitimately read a counter's raw value.
COUNTER_FUNCTIONS = RANGE_FUNCTIONS | {
    "resets", "changes", "absent", "absent_over_time", "present_over_time", "timestamp", "count_over_time",
    "last_over_time", "first_over_time", "max_over_time", "min_over_time",
}  # fmt: skip
COUNTING_AGGREGATIONS = frozenset({"count", "group", "count_values"})
# Comparing two raw counters (created - removed, errors / requests since start) is deliberate.
COUNTER_PAIR_OPS = frozenset({"-", "/", "+"})
COUNTER_SUFFIX = "_total"
# Prometheus' naming conventions: a `_total` after a base unit is a counter (a gauge in seconds ends in `_seconds`).
UNIT_COUNTER_SUFFIXES = ("_seconds_total", "_bytes_total", "_joules_total", "_meters_total", "_grams_total")


@register
class CounterWithoutRate(Check):
    """A counter is read through rate(), irate() or increase(), not shown raw.

    ## What it does
    Reports a counter used as a raw value. When the metric catalog (or, in `lint --live`, the servers'
    metadata) says it is a counter, that is an error. Without a known type, a `*_total` name alone is not proof (many gauges are named so:
    `cortex_ruler_managers_total`): the name-based guess is a warning, made only when the metric is named like a
    counter of a base unit (`*_seconds_total`, `*_bytes_total`) or the same input passes it to rate() elsewhere.
    Raw values are fine where they are meant: counting series (`count`, `group`), functions made for counters
    (`resets`, `changes`, `timestamp`, `max_over_time`...), the difference or ratio of two raw counters
    (`created_total - removed_total`, lifetime ratios), uptime counters, and template variable queries
    (`label_values(x_total, job)`).

    ## Why is this bad?
    A counter only grows, from whenever the process started, and drops to zero on every restart: its raw value
    is a sawtooth that says nothing about the current rate of events, and an alert on it fires forever once the
    threshold is crossed.

    ## Example
    ```promql
    sum by (job) (http_requests_total)
    ```
    ```promql
    sum by (job) (rate(http_requests_total[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: 'http_requests_total' looks like a counter (named *_total, and passed to rate() elsewhere) and is not wrapped in rate(), irate() or increase(): `sum by (job) (http_requests_total)`
    ```

    ## Use instead
    ```promql
    sum by (job) (increase(http_requests_total[$__range]))
    ```
    ```promql
    sum by (job) (rate(http_requests_total[$__rate_interval]))
    ```
    """

    id = "promql/counter-without-rate"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        # A variable query (label_values(metric_total, label)) only reads the series' labels.
        ast = ctx.parse(query)[0] if query.origin != "variable" else None
        if ast is None:
            return
        reported: set[str] = set()
        for selector, path in walk_paths(ast):
            if not isinstance(selector, pp.VectorSelector):
                continue
            ancestors = [node for node, _ in path]
            name = metric_name(selector)
            if not name or name in reported or "uptime" in name:
                continue
            known = ctx.metric_type(name)
            if known is not None and known != "counter":
                continue
            if known is None and not _named_like_counter(name, ctx):
                continue
            if any(_accepts_counter(node) for node in ancestors) or _paired_with_counter(path, ctx):
                continue
            reported.add(name)
            if known == "counter":
                yield self.report(ctx, f"{query.label}: counter {name!r}{ctx.metric_type_source(name)} is not "
                                  "wrapped in rate(), irate() or "
                                  f"increase(): `{one_line(query.text)}`", query=query)  # fmt: skip
            else:
                why = (
                    "of a base unit"
                    if name.endswith(UNIT_COUNTER_SUFFIXES)
                    else "and passed to rate() elsewhere"
                )
                yield self.report(ctx, f"{query.label}: {name!r} looks like a counter (named *_total, {why}) and is "
                                  f"not wrapped in rate(), irate() or increase(): `{one_line(query.text)}`",
                                  severity=Severity.WARNING, query=query)  # fmt: skip


def _accepts_counter(node: object) -> bool:
    if call_name(node) in COUNTER_FUNCTIONS:
        return True
    return isinstance(node, pp.AggregateExpr) and op_text(node) in COUNTING_AGGREGATIONS


def _paired_with_counter(path: tuple[tuple[Any, int], ...], ctx: LintContext) -> bool:
    """Whether the nearest `-`, `/` or `+` above the selector has a raw counter on its other side (set
    operators such as `x_total or vector(0)` pass the value through)."""
    for node, side in reversed(path):
        if not isinstance(node, pp.BinaryExpr) or op_text(node) in SET_OPS:
            continue
        if op_text(node) not in COUNTER_PAIR_OPS:
            return False
        other = node.rhs if side == 0 else node.lhs
        return any(_raw_counter(s, a, ctx) for s, a in selectors(other))
    return False


def _named_like_counter(name: str, ctx: LintContext) -> bool:
    return name.endswith(UNIT_COUNTER_SUFFIXES) or (
        name.endswith(COUNTER_SUFFIX) and name in ctx.rated_metrics
    )


def _raw_counter(selector: pp.VectorSelector, ancestors: tuple[Any, ...], ctx: LintContext) -> bool:
    name = metric_name(selector) or ""
    kind = ctx.metric_type(name)
    counter = kind == "counter" or (kind is None and name.endswith(COUNTER_SUFFIX))
    return counter and not any(call_name(a) in RANGE_FUNCTIONS for a in ancestors)
