"""Which labels a LogQL metric query's result carries, as far as the query text tells (the same `Labels` as
PromQL's in `promql_ast`), and whether an alert expression filters at all.

Used where a rule's templates name `$labels.x`: a label the result certainly lacks renders empty. The rules are
Loki's (which follow Prometheus'): a vector aggregation keeps its `by` labels (`sum` alone keeps none, `topk` and
`sort` keep all); a range aggregation keeps the stream labels plus what the pipeline adds (`json a, b` and
`logfmt a` add `a` and `b`, `regexp`/`pattern` add their named captures, `label_format a=b` renames `b` to `a`),
minus `drop`, within `keep`; `absent_over_time` keeps only the equality matchers of its selector; binary
operations follow vector matching (`on` keeps only its labels in one-to-one matches, `group_left(x)` adds `x`,
`and`/`unless` keep the left side); `label_replace` adds its target.
"""

from __future__ import annotations

import re

from lark import Token, Tree
from lark.exceptions import LarkError

from .logql import LogQLSyntaxError, _get_parser, _unquote, parse_logql
from .promql_ast import ANY_LABELS, COMPARISON_OPS, NO_LABELS, Labels

__all__ = ["has_condition", "result_labels"]


LABEL_KEEPING_AGGREGATIONS = frozenset({"topk", "bottomk", "approx_topk", "sort", "sort_desc"})
_REGEXP_CAPTURE = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")
_PATTERN_CAPTURE = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


def _tree(query: str) -> Tree | None:
    try:
        parse_logql(query)  # Loki's checks after parsing, cached
        root = _get_parser().parse(query).children[0]
        assert isinstance(root, Tree)  # the grammar's start rule wraps one expression rule
        return root
    except (LogQLSyntaxError, LarkError, RecursionError):
        return None


def result_labels(query: str) -> Labels | None:
    """The labels of `query`'s result; None when it does not parse (logql/syntax reports that)."""
    tree = _tree(query)
    return None if tree is None else _expr(tree)[0]


FILTERING_AGGREGATIONS = frozenset({"topk", "bottomk", "approx_topk"})


def has_condition(query: str) -> bool | None:
    """Whether an alert expression filters (a comparison without `bool`, `and`/`unless`, topk, absent_over_time);
    None when it does not parse."""
    tree = _tree(query)
    if tree is None:
        return None
    for node in tree.iter_subtrees():
        if node.data == "binop":
            op = str(node.children[1]).lower()
            modifier = node.children[2] if len(node.children) == 4 else None
            returns_bool = modifier is not None and any(
                isinstance(c, Token) and c.type == "BOOL" for c in modifier.children
            )
            if (op in COMPARISON_OPS and not returns_bool) or op in ("and", "unless"):
                return True
        elif node.data in ("vector_agg", "range_agg") and _parts(node)[0] in (
            *FILTERING_AGGREGATIONS,
            "absent_over_time",
        ):
            return True
    return False


def _names(tokens: list[Token | Tree]) -> frozenset[str]:
    return frozenset(str(t) for t in tokens if isinstance(t, Token) and t.type == "IDENTIFIER")


def _expr(node: Tree) -> tuple[Labels, bool]:
    """(labels, whether the value is a scalar)."""
    kind = node.data
    if kind == "literal":
        return NO_LABELS, True
    if kind == "vector_fn":
        return NO_LABELS, False
    if kind == "log_expr":
        return _pipeline(node.children), False
    if kind == "range_agg":
        return _range_aggregation(node), False
    if kind == "vector_agg":
        return _vector_aggregation(node), False
    if kind == "label_replace":
        inner, _ = _expr(node.children[1])
        return inner.add(frozenset({_unquote(str(node.children[2]))})), False
    if kind == "binop":
        return _binary(node)
    return ANY_LABELS, False  # variants(): each variant has its own shape


def _grouped(labels: Labels, grouping: Tree | None) -> Labels:
    if grouping is None:
        return labels
    keyword, *names = grouping.children
    return labels.keep(_names(names)) if str(keyword).lower() == "by" else labels.drop(_names(names))


def _parts(node: Tree) -> tuple[str, Tree | None, Tree | None]:
    """(operator, grouping, operand) of a vector or range aggregation."""
    grouping = operand = None
    for child in node.children[1:]:
        if isinstance(child, Tree):
            if child.data == "grouping":
                grouping = child
            else:
                operand = child
    return str(node.children[0]).lower(), grouping, operand


def _vector_aggregation(node: Tree) -> Labels:
    op, grouping, operand = _parts(node)
    inner = _expr(operand)[0] if operand is not None else ANY_LABELS
    if op in LABEL_KEEPING_AGGREGATIONS:
        return inner
    return _grouped(inner, grouping) if grouping is not None else NO_LABELS


def _range_aggregation(node: Tree) -> Labels:
    op, grouping, log_range = _parts(node)
    if log_range is None:
        return ANY_LABELS
    if op == "absent_over_time":
        return _absent_labels(log_range)
    return _grouped(_pipeline(log_range.children), grouping)


def _selector(node: Tree) -> Tree | None:
    for child in node.children:
        if isinstance(child, Tree):
            if child.data == "selector":
                return child
            if child.data == "log_range":
                return _selector(child)
    return None


def _absent_labels(log_range: Tree) -> Labels:
    """Like Prometheus' absent(): the names of equality matchers that are the only matcher of their name."""
    selector = _selector(log_range)
    if selector is None:
        return NO_LABELS
    seen: dict[str, int] = {}
    equal: set[str] = set()
    for matcher in selector.children[1:]:
        name, op, _value = matcher.children
        seen[str(name)] = seen.get(str(name), 0) + 1
        if str(op) == "=":
            equal.add(str(name))
    return Labels(frozenset(n for n in equal if seen[n] == 1), True)


def _pipeline(children: list[Token | Tree]) -> Labels:
    """The stream's labels (unknown) after the pipeline stages, in order."""
    labels = ANY_LABELS
    for child in children:
        if not isinstance(child, Tree):
            continue
        stage = child.data
        if stage == "log_range":
            labels = _pipeline(child.children)
        elif stage in ("json", "logfmt"):
            extracted = _names(child.children)
            # Without parameters they add every field of the line: anything may be there afterwards.
            labels = labels.add(extracted) if extracted else _opened(labels)
        elif stage in ("regexp", "pattern"):
            pattern = _unquote(str(child.children[0]))
            found = (_REGEXP_CAPTURE if stage == "regexp" else _PATTERN_CAPTURE).findall(pattern)
            labels = labels.add(frozenset(found) - {"_"})
        elif stage == "unpack":
            labels = _opened(labels)
        elif stage == "label_format":
            labels = _label_format(labels, child.children)
        elif stage in ("drop", "keep"):
            labels = _drop_keep(labels, stage, child.children)
    return labels


def _opened(labels: Labels) -> Labels:
    """After a stage that adds labels nobody can name: what was certainly absent may now be there."""
    return ANY_LABELS if labels.closed else Labels()


def _label_format(labels: Labels, tokens: list[Token | Tree]) -> Labels:
    """`dst=src` renames (src is gone), `dst="template"` sets: tokens come as (IDENTIFIER, "=", value) triples."""
    for index in range(0, len(tokens) - 2, 3):
        target, value = str(tokens[index]), tokens[index + 2]
        if isinstance(value, Token) and value.type == "IDENTIFIER" and str(value) != target:
            labels = labels.drop(frozenset({str(value)}))
        labels = labels.add(frozenset({target}))
    return labels


def _drop_keep(labels: Labels, stage: str, tokens: list[Token | Tree]) -> Labels:
    """`drop a, b="x"`: only a bare name is certainly dropped; `keep a, b="x"`: nothing beyond a and b stays."""
    named: list[tuple[str, bool]] = []  # (name, conditional)
    for index, token in enumerate(tokens):
        if isinstance(token, Token) and token.type == "IDENTIFIER":
            conditional = index + 1 < len(tokens) and getattr(tokens[index + 1], "type", "") in (
                "EQ",
                "NEQ",
                "RE",
                "NRE",
            )
            named.append((str(token), conditional))
    if stage == "drop":
        return labels.drop(frozenset(name for name, conditional in named if not conditional))
    return labels.keep(frozenset(name for name, _ in named))


def _binary(node: Tree) -> tuple[Labels, bool]:
    children = node.children
    left, op, right = children[0], str(children[1]).lower(), children[-1]
    modifier = children[2] if len(children) == 4 else None
    (lhs, lhs_scalar), (rhs, rhs_scalar) = _expr(left), _expr(right)
    if lhs_scalar and rhs_scalar:
        return NO_LABELS, True
    if lhs_scalar or rhs_scalar:
        return (rhs if lhs_scalar else lhs), False
    if op in ("and", "unless"):
        return lhs, False
    if op == "or":
        return lhs.union(rhs), False
    matching = next(
        (c for c in (modifier.children if modifier is not None else []) if isinstance(c, Tree)), None
    )
    if matching is None:
        return lhs, False
    keyword, *rest = matching.children
    group = next((c for c in rest if isinstance(c, Tree) and c.data == "group"), None)
    if group is not None:
        side, *extra = group.children
        base = lhs if str(side).lower() == "group_left" else rhs
        return base.add(_names(extra)), False
    names = _names(rest)
    return (lhs.keep(names) if str(keyword).lower() == "on" else lhs.drop(names)), False
