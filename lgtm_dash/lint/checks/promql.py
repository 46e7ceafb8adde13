"""PromQL checks: syntax (promql-parser, after Grafana interpolation) and the mistakes that parse but mislead."""

from __future__ import annotations

import re
from collections.abc import Iterable

import promql_parser as pp

from ..context import LintContext, Query
from ..findings import Finding, Severity, one_line
from ..promql_ast import (
    LABEL_KEEPING_AGGREGATIONS,
    RANGE_FUNCTIONS,
    call_name,
    children,
    metric_name,
    op_text,
    selectors,
    unwrap,
    walk,
)
from ..querytext import rate_windows
from ..registry import Check, register

PROMQL = frozenset({"promql"})
# Functions that legitimately take a raw counter.
COUNTER_FUNCTIONS = RANGE_FUNCTIONS | {
    "resets", "changes", "absent", "absent_over_time", "present_over_time", "timestamp", "count_over_time",
    "last_over_time",
}  # fmt: skip
COUNTING_AGGREGATIONS = frozenset({"count", "group", "count_values"})
COUNTER_SUFFIX = "_total"
# Windows that adapt to the panel: the recommended one, and the whole range (increase over the dashboard range).
GOOD_RATE_WINDOWS = re.compile(r"^\$\{?__(rate_interval|range)\}?$|^\[\[__(rate_interval|range)\]\]$")
GRAFANA_VARIABLE = re.compile(r"\$\{?\w+|\[\[\w+")


def parsed(query: Query, ctx: LintContext) -> pp.Expr | None:
    ast, _error = ctx.parse(query)
    return ast


@register
class PromQLSyntax(Check):
    id = "promql/syntax"
    severity = Severity.ERROR
    summary = "PromQL parses (promql-parser) after Grafana variables are interpolated; also empty queries"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        _ast, error = ctx.parse(query)
        if error:
            yield self.report(
                ctx, f"{query.label}: invalid PromQL: {error}: `{one_line(query.text)}`", query=query
            )


def _counter_like(name: str, ctx: LintContext) -> bool:
    if ctx.catalog is not None and ctx.catalog.metric_type(name):
        return ctx.catalog.metric_type(name) == "counter"
    return name.endswith(COUNTER_SUFFIX)


@register
class RateOnCounter(Check):
    id = "promql/rate-counter"
    severity = Severity.ERROR
    summary = "rate/irate/increase are applied to counters only (catalog types and recording rules)"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        ast = parsed(query, ctx)
        if ast is None:
            return
        for node, _ in walk(ast):
            function = call_name(node)
            if function not in RANGE_FUNCTIONS or not node.args:
                continue
            argument = unwrap(node.args[0])
            if not isinstance(argument, pp.MatrixSelector):
                continue
            name = metric_name(argument.vector_selector)
            kind = self._known_type(name, ctx) if name else None
            if kind is not None and kind != "counter":
                yield self.report(
                    ctx,
                    f"{query.label}: {function}() of {name!r}, which is a {kind}, not a counter: "
                    f"`{one_line(query.text)}`",
                    query=query,
                )

    @staticmethod
    def _known_type(name: str, ctx: LintContext) -> str | None:
        if ctx.catalog is not None and ctx.catalog.metric_type(name):
            return ctx.catalog.metric_type(name)
        if name in ctx.recording_rules:
            # A recording rule's output is a gauge (e.g. an already computed rate) unless named as a counter.
            return "counter" if name.endswith(COUNTER_SUFFIX) else "gauge (recording rule)"
        return None


@register
class CounterWithoutRate(Check):
    id = "promql/counter-without-rate"
    severity = Severity.ERROR
    summary = "a counter (`*_total` or a catalog counter) is wrapped in rate/irate/increase, not used raw"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        # A variable query (label_values(metric_total, label)) only reads the series' labels.
        ast = parsed(query, ctx) if query.origin != "variable" else None
        if ast is None:
            return
        reported: set[str] = set()
        for selector, ancestors in selectors(ast):
            name = metric_name(selector)
            if not name or name in reported or not _counter_like(name, ctx):
                continue
            if any(self._accepts_counter(node) for node in ancestors):
                continue
            reported.add(name)
            yield self.report(
                ctx,
                f"{query.label}: counter {name!r} is not wrapped in rate(), irate() or increase(): "
                f"`{one_line(query.text)}`",
                query=query,
            )

    @staticmethod
    def _accepts_counter(node: object) -> bool:
        if call_name(node) in COUNTER_FUNCTIONS:
            return True
        return isinstance(node, pp.AggregateExpr) and op_text(node) in COUNTING_AGGREGATIONS


@register
class RateInterval(Check):
    id = "promql/rate-interval"
    severity = Severity.WARNING
    summary = "dashboard rate/irate/increase windows use $__rate_interval (or $__range, or a variable)"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        # Only where Grafana's Prometheus datasource computes $__rate_interval: known Prometheus panels.
        if query.origin != "panel" or not query.certain or parsed(query, ctx) is None:
            return
        for function, window in rate_windows(query.text):
            if GOOD_RATE_WINDOWS.match(window):
                continue
            if GRAFANA_VARIABLE.search(window) and "__interval" not in window:
                continue  # a window the dashboard lets the user choose
            yield self.report(
                ctx,
                f"{query.label}: {function}() over [{window}] should use [$__rate_interval]: "
                f"`{one_line(query.text)}`",
                query=query,
            )


@register
class HistogramKeepsLe(Check):
    id = "promql/histogram-le"
    severity = Severity.ERROR
    summary = "histogram_quantile() gets its buckets with the `le` label kept by every aggregation"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        ast = parsed(query, ctx)
        if ast is None:
            return
        for node, _ in walk(ast):
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


@register
class UnknownMetric(Check):
    id = "promql/unknown-metric"
    severity = Severity.WARNING
    summary = "metrics and label matchers are in the catalog (catalog.yaml) or defined by a recording rule"
    languages = PROMQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        catalog = ctx.catalog
        ast = parsed(query, ctx) if catalog is not None else None
        if ast is None or catalog is None:
            return
        for selector, _ in selectors(ast):
            name = metric_name(selector)
            if not name:
                continue
            if name in ctx.recording_rules:
                continue
            if name not in catalog.metrics:
                yield self.report(
                    ctx,
                    f"{query.label}: metric {name!r} is not in the catalog: `{one_line(query.text)}`",
                    query=query,
                )
                continue
            known = catalog.labels_of(name) | {"__name__"}
            for matcher in selector.matchers.matchers:
                if matcher.name not in known:
                    yield self.report(
                        ctx,
                        f"{query.label}: label {matcher.name!r} of {name!r} is not in the catalog: "
                        f"`{one_line(query.text)}`",
                        query=query,
                    )
