"""Small helpers over promql-parser's AST (children, walks with ancestors, selectors)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import promql_parser as pp

RANGE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
COMPARISON_OPS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})
# Aggregations that keep every input label (so they never drop `le`).
LABEL_KEEPING_AGGREGATIONS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


def children(node: Any) -> list[Any]:
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return [node.expr]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def walk(node: Any, ancestors: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node with its ancestors (outermost first), depth first."""
    stack = [(node, ancestors)]
    while stack:
        current, parents = stack.pop()
        yield current, parents
        inner = (*parents, current)
        stack.extend((child, inner) for child in reversed(children(current)))


def selectors(node: Any) -> Iterator[tuple[pp.VectorSelector, tuple[Any, ...]]]:
    for current, parents in walk(node):
        if isinstance(current, pp.VectorSelector):
            yield current, parents


def metric_name(selector: pp.VectorSelector) -> str | None:
    if selector.name:
        return selector.name
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and str(matcher.op) == "MatchOp.Equal":
            return matcher.value
    return None


def call_name(node: Any) -> str | None:
    return node.func.name if isinstance(node, pp.Call) else None


def op_text(node: Any) -> str:
    return str(node.op).strip().lower()


def unwrap(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node
