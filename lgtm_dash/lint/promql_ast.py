"""Small helpers over promql-parser's AST: children, walks with ancestors, selectors, the Prometheus 3.x
experimental syntax promql-parser does not know, and the labels of a query's result."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

RANGE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
# Functions whose result is computed over a window of samples: what they return is a gauge.
WINDOW_FUNCTIONS = RANGE_FUNCTIONS | {
    "delta", "idelta", "deriv", "predict_linear", "histogram_quantile", "histogram_fraction", "resets", "changes",
    "double_exponential_smoothing", "holt_winters",
}  # fmt: skip
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


def walk_paths(node: Any) -> Iterator[tuple[Any, tuple[tuple[Any, int], ...]]]:
    """Every node with its path from the root: (ancestor, index of the child taken) pairs. promql-parser
    builds a new Python object on every attribute access, so the side a node came from is known only this way."""
    stack: list[tuple[Any, tuple[tuple[Any, int], ...]]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        yield current, path
        kids = children(current)
        stack.extend((kid, (*path, (current, index))) for index, kid in reversed(list(enumerate(kids))))


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


# ------------------------------------------------------------------ Prometheus 3.x experimental syntax

# Functions the Prometheus parser accepts only with --enable-feature=promql-experimental-functions (Mimir:
# -querier.promql-experimental-functions-enabled): prometheus/prometheus promql/parser/functions.go,
# `Experimental: true`; limitk and limit_ratio are experimental aggregations.
EXPERIMENTAL_FUNCTIONS = frozenset({
    "double_exponential_smoothing", "end", "first_over_time", "histogram_quantiles", "info", "integral",
    "mad_over_time", "range", "sort_by_label", "sort_by_label_desc", "start", "step", "ts_of_first_over_time",
    "ts_of_last_over_time", "ts_of_max_over_time", "ts_of_min_over_time",
})  # fmt: skip
EXPERIMENTAL_AGGREGATIONS = frozenset({"limitk", "limit_ratio"})
PLAIN_DURATION = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$|^\d+(\.\d+)?$")
RANGE_MODIFIER = re.compile(r"(?<=[\]}\w])(\s+)(anchored|smoothed)\b(?!\s*[({=~!])")
OFFSET_EXPRESSION = re.compile(r"\boffset\s*[-+]?\s*(?=\(|min_of\s*\(|max_of\s*\(|step\s*\(|range\s*\()")
# Cheap test before walking an AST for experimental functions, aggregations and fill() modifiers.
EXPERIMENTAL_HINT = re.compile(
    r"\b("
    + "|".join(sorted(EXPERIMENTAL_FUNCTIONS | EXPERIMENTAL_AGGREGATIONS))
    + r"|fill|fill_left|fill_right)\s*\("
)
UNKNOWN_FUNCTION = re.compile(r"unknown function with name '(\w+)'")


def parse_promql(text: str) -> tuple[Any, str | None, tuple[str, ...]]:
    """(AST, error, experimental features used). Syntax that only Prometheus 3.x feature flags enable
    (duration expressions, `anchored`/`smoothed`, `fill()` modifiers, experimental functions) is reported as a
    feature, never as an error: the query is parsed again without it so the rest is still checked."""
    try:
        ast = pp.parse(text)
    except BaseException as err:  # the Rust parser raises ValueError, or panics on odd input
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        error = " ".join(str(err).split()) or type(err).__name__
        unknown = UNKNOWN_FUNCTION.search(error)
        if unknown and unknown.group(1) in EXPERIMENTAL_FUNCTIONS:
            return None, None, (f"function {unknown.group(1)}()",)
        plain, features = _without_experimental_syntax(text)
        if not features:
            return None, error, ()
        try:
            return pp.parse(plain), None, features
        except BaseException as again:
            if isinstance(again, KeyboardInterrupt | SystemExit):
                raise
            return None, error, ()
    return ast, None, tuple(_experimental_in(ast)) if EXPERIMENTAL_HINT.search(text) else ()


def _experimental_in(ast: Any) -> list[str]:
    found: list[str] = []
    for node, _ in walk(ast):
        name = call_name(node)
        if name in EXPERIMENTAL_FUNCTIONS:
            found.append(f"function {name}()")
        elif isinstance(node, pp.AggregateExpr) and op_text(node) in EXPERIMENTAL_AGGREGATIONS:
            found.append(f"aggregation {op_text(node)}")
        elif isinstance(node, pp.BinaryExpr) and _fills(node.modifier):
            found.append("fill() modifier")
    return list(dict.fromkeys(found))


def _fills(modifier: Any) -> bool:
    fill = getattr(modifier, "fill_values", None) if modifier is not None else None
    return fill is not None and (fill.lhs is not None or fill.rhs is not None)


def _without_experimental_syntax(text: str) -> tuple[str, tuple[str, ...]]:
    """The text with duration expressions, `anchored`/`smoothed` and offset expressions replaced by plain ones."""
    from .querytext import closing, quoted_mask

    features: list[str] = []
    quoted = quoted_mask(text)
    out, i, braces = [], 0, 0
    while i < len(text):
        char = text[i]
        if quoted[i]:
            out.append(char)
        elif char == "{":
            braces += 1
            out.append(char)
        elif char == "}":
            braces = max(0, braces - 1)
            out.append(char)
        elif char == "[" and braces == 0:
            close = text.find("]", i)
            close = len(text) if close < 0 else close
            parts = text[i + 1 : close].split(":")
            plain_parts = [
                "1m" if p.strip() and not PLAIN_DURATION.match(p.strip()) and is_duration_expression(p) else p
                for p in parts
            ]
            if plain_parts != parts:
                features.append("duration expression")
            out.append("[" + ":".join(plain_parts) + "]")
            i = close
        else:
            match = OFFSET_EXPRESSION.match(text, i) if char == "o" else None
            if match is not None and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                end = min(closing(text, text.index("(", match.end()), "()"), len(text) - 1)
                out.append("offset 1m")
                features.append("duration expression")
                i = end
            else:
                out.append(char)
        i += 1
    plain = "".join(out)
    plain, modifiers = RANGE_MODIFIER.subn("", plain)
    if modifiers:
        features.append("anchored/smoothed range modifier")
    return plain, tuple(dict.fromkeys(features))


DURATION_TOKEN = re.compile(
    r"\s*(?:(?P<duration>(\d+(\.\d+)?(ms|s|m|h|d|w|y))+)|(?P<number>\d+(\.\d+)?)|(?P<call>step|range)\s*\(\s*\)"
    r"|(?P<function>min_of|max_of)\s*\(|(?P<op>[-+*/%^])|(?P<open>\()|(?P<close>\))|(?P<comma>,))"
)


def is_duration_expression(text: str) -> bool:
    """Whether `text` is a Prometheus 3 duration expression: durations, numbers, step(), range(), min_of(),
    max_of() joined by arithmetic (`5m * 2`, `-(step() + 1m)`), as opposed to a misspelt duration (`5mm`)."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = DURATION_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return False
        tokens.append(match.lastgroup or "")
        pos = match.end()
    position = 0

    def term() -> bool:
        nonlocal position
        while position < len(tokens) and tokens[position] == "op":  # unary signs
            position += 1
        if position >= len(tokens):
            return False
        kind = tokens[position]
        position += 1
        if kind in ("duration", "number", "call"):
            return True
        if kind in ("open", "function"):
            if not expression():
                return False
            while kind == "function" and position < len(tokens) and tokens[position] == "comma":
                position += 1
                if not expression():
                    return False
            if position < len(tokens) and tokens[position] == "close":
                position += 1
                return True
        return False

    def expression() -> bool:
        nonlocal position
        if not term():
            return False
        while position < len(tokens) and tokens[position] == "op":
            position += 1
            if not term():
                return False
        return True

    return bool(tokens) and expression() and position == len(tokens)


# ------------------------------------------------------------------ the labels of a result


@dataclass(frozen=True)
class Labels:
    """The labels a query's result carries, as far as the query text tells: exactly `names` (`closed`), or any
    label except `names` (open: a selector's labels are unknown)."""

    names: frozenset[str] = frozenset()
    closed: bool = False

    def absent(self, label: str) -> bool:
        """True when the result certainly has no such label."""
        return (label not in self.names) if self.closed else (label in self.names)

    def keep(self, labels: frozenset[str]) -> Labels:
        # Open: whatever was certainly absent stays absent among the kept ones.
        return Labels(self.names & labels if self.closed else labels - self.names, True)

    def drop(self, labels: frozenset[str]) -> Labels:
        return Labels(self.names - labels, True) if self.closed else Labels(self.names | labels)

    def add(self, labels: frozenset[str]) -> Labels:
        return Labels(self.names | labels, True) if self.closed else Labels(self.names - labels)

    def union(self, other: Labels) -> Labels:
        if self.closed and other.closed:
            return Labels(self.names | other.names, True)
        if self.closed:
            return Labels(other.names - self.names)
        if other.closed:
            return Labels(self.names - other.names)
        return Labels(self.names & other.names)


NO_LABELS = Labels(frozenset(), True)
ANY_LABELS = Labels()
SCALAR_FUNCTIONS = frozenset({"scalar", "time", "pi", "start", "end", "step", "range"})


def result_labels(node: Any) -> tuple[Labels, bool]:
    """(labels of the result, whether it is a scalar), following Prometheus' rules for aggregations, vector
    matching (`on` keeps only its labels in one-to-one matches, `group_left` adds its labels), label_replace()
    and absent()."""
    node = unwrap(node)
    if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
        return NO_LABELS, True
    if isinstance(node, pp.VectorSelector | pp.MatrixSelector):
        return ANY_LABELS, False
    if isinstance(node, pp.UnaryExpr | pp.SubqueryExpr):
        return result_labels(node.expr)
    if isinstance(node, pp.AggregateExpr):
        return _aggregate_labels(node), False
    if isinstance(node, pp.Call):
        return _call_labels(node)
    if isinstance(node, pp.BinaryExpr):
        return _binary_labels(node)
    return ANY_LABELS, False


def _aggregate_labels(node: pp.AggregateExpr) -> Labels:
    inner, _ = result_labels(node.expr)
    op = op_text(node)
    if op in LABEL_KEEPING_AGGREGATIONS:
        return inner
    modifier = node.modifier
    if modifier is None:
        grouped = NO_LABELS
    elif "Without" in str(modifier.type):
        grouped = inner.drop(frozenset(modifier.labels))
    else:
        grouped = inner.keep(frozenset(modifier.labels))
    if op == "count_values" and isinstance(node.param, pp.StringLiteral):
        grouped = grouped.add(frozenset({node.param.val}))
    return grouped


def _call_labels(node: pp.Call) -> tuple[Labels, bool]:
    name = node.func.name
    if name in SCALAR_FUNCTIONS:
        return NO_LABELS, True
    if name == "vector":
        return NO_LABELS, False
    if name in ("absent", "absent_over_time"):
        selector = unwrap(node.args[0]) if node.args else None
        if isinstance(selector, pp.MatrixSelector):
            selector = selector.vector_selector
        if isinstance(selector, pp.VectorSelector):
            equal = {m.name for m in selector.matchers.matchers if str(m.op) == "MatchOp.Equal"}
            return Labels(frozenset(equal - {"__name__"}), True), False
        return NO_LABELS, False
    if name == "info":
        return ANY_LABELS, False  # adds the info metric's labels
    vectors = [a for a in node.args if not isinstance(unwrap(a), pp.NumberLiteral | pp.StringLiteral)]
    labels, _ = result_labels(vectors[-1] if name in ("histogram_quantile", "histogram_fraction") and vectors
                              else vectors[0]) if vectors else (NO_LABELS, False)  # fmt: skip
    if name in ("label_replace", "label_join") and len(node.args) > 1:
        target = unwrap(node.args[1])
        if isinstance(target, pp.StringLiteral):
            labels = labels.add(frozenset({target.val}))
    if name in ("histogram_quantile", "histogram_fraction"):
        labels = labels.drop(frozenset({"le"}))
    return labels, False


def _binary_labels(node: pp.BinaryExpr) -> tuple[Labels, bool]:
    (lhs, lhs_scalar), (rhs, rhs_scalar) = result_labels(node.lhs), result_labels(node.rhs)
    if lhs_scalar and rhs_scalar:
        return NO_LABELS, True
    if lhs_scalar or rhs_scalar:
        return (rhs if lhs_scalar else lhs), False
    op = op_text(node)
    if op in ("and", "unless"):
        return lhs, False
    if op == "or":
        return lhs.union(rhs), False
    modifier = node.modifier
    card = str(modifier.card) if modifier is not None else ""
    include = frozenset(modifier.group_labels or ()) if modifier is not None else frozenset()
    if card.endswith("ManyToOne"):
        return lhs.add(include), False
    if card.endswith("OneToMany"):
        return rhs.add(include), False
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return lhs, False
    labels = frozenset(matching.labels)
    return (lhs.keep(labels) if "Include" in str(matching.type) else lhs.drop(labels)), False


def range_function_arguments(nodes: Iterable[tuple[Any, tuple[Any, ...]]]) -> Iterator[tuple[str, Any]]:
    """(function, its first argument with parentheses removed) for every rate(), irate() and increase() among
    walked nodes (`walk(ast)`, or `LintContext.nodes(query)`, walked once per query)."""
    for node, _ in nodes:
        function = call_name(node)
        if function in RANGE_FUNCTIONS and node.args:
            yield function, unwrap(node.args[0])


def recorded_kind(ast: Any) -> str | None:
    """What an expression records: "gauge" when it computes over windows (rate(), *_over_time()...),
    "aggregated samples" when it aggregates raw series, else None (a plain selector or anything else)."""
    aggregated = False
    for node, _ in walk(ast):
        name = call_name(node)
        if (
            name in WINDOW_FUNCTIONS
            or (name or "").endswith("_over_time")
            or isinstance(node, pp.SubqueryExpr)
        ):
            return "gauge"
        aggregated = aggregated or isinstance(node, pp.AggregateExpr)
    return "aggregated samples" if aggregated else None
