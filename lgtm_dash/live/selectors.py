"""What each query asks a server for: PromQL selectors, LogQL stream selectors, SQL text, after Grafana's
variable expansion.

Variables are expanded as Grafana sends them on dashboard load: a custom or constant variable by its current
value, "All" by the variable's `allValue` or else by the alternation of all its options; and a query
variable, whose options Grafana fetches from the server itself, by a marker (`VARIABLE_MARKER`). A matcher
whose value carries the marker is only checked for its label: its value is whatever the server offers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import promql_parser as pp

from ..lint.context import Query, variable_query_selector
from ..lint.interpolate import ALL_VALUE, InterpolationError, Interpolator, Variable
from ..lint.promql_ast import RANGE_FUNCTIONS, call_name, metric_name, op_text, selectors

VARIABLE_MARKER = "lgtm_live_variable"
# Functions and aggregations that take a raw counter on purpose (as offline promql/counter-without-rate).
COUNTER_FUNCTIONS = RANGE_FUNCTIONS | {
    "resets", "changes", "absent", "absent_over_time", "present_over_time", "timestamp", "count_over_time",
    "last_over_time",
}  # fmt: skip
COUNTING_AGGREGATIONS = frozenset({"count", "group", "count_values"})
PROM_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


@dataclass(frozen=True)
class LabelMatcher:
    name: str
    op: str  # = != =~ !~
    value: str

    @property
    def from_variable(self) -> bool:
        return VARIABLE_MARKER in self.value

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


@dataclass(frozen=True)
class PromSelector:
    """One vector selector of a PromQL query and how the query uses it.

    `usage`: "range" (the argument of rate/irate/increase), "raw" (no function or aggregation that takes a
    counter as it is), "other", or "labels" (a variable query, which only reads label values).
    """

    metric: str | None
    matchers: tuple[LabelMatcher, ...]
    usage: str
    function: str = ""  # the range function for usage "range"

    @property
    def metric_from_variable(self) -> bool:
        return self.metric is not None and VARIABLE_MARKER in self.metric


@dataclass(frozen=True)
class LokiSelector:
    matchers: tuple[LabelMatcher, ...]

    @property
    def text(self) -> str:
        return "{" + ", ".join(f"{m.name}{m.op}{_go_quote(m.value)}" for m in self.matchers) + "}"


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ interpolation


def live_interpolator(templating: list[Mapping[str, Any]]) -> Interpolator:
    """The dashboard's variables as Grafana sends them on load (see module docstring)."""
    base = Interpolator.for_templating(templating)
    variables: dict[str, Variable] = {}
    for entry in templating:
        name = str(entry.get("name") or "")
        variable = base.variables.get(name)
        if variable is None:
            continue
        kind = variable.kind
        is_all = ALL_VALUE in variable.values or variable.values in (("All",), ("all",))
        if kind == "query":
            if not (is_all and variable.all_value):
                variable = replace(
                    variable, values=(VARIABLE_MARKER,), texts=(VARIABLE_MARKER,), all_value=None
                )
        elif is_all and not variable.all_value:
            options = tuple(
                str(o.get("value"))
                for o in entry.get("options") or []
                if isinstance(o, Mapping) and o.get("value") not in (None, ALL_VALUE)
            ) or tuple(v.strip() for v in str(entry.get("query") or "").split(",") if v.strip())
            if options:
                variable = replace(variable, values=options, texts=options)
        variables[name] = variable
    return replace(base, variables=variables)


def expanded(query: Query, interpolator: Interpolator) -> str | None:
    """The query text as sent to the server, or None when it cannot be expanded (offline lint says why)."""
    try:
        if query.language == "logql":
            return interpolator.with_options(keep_range_macros=True)(query.text)
        return interpolator(query.text)
    except InterpolationError:
        return None


# ------------------------------------------------------------------ shapes
# Dashboards repeat the same query for many services, differing only in quoted values. Each query is
# parsed once per *shape* (its text with every string literal replaced by a numbered placeholder) and
# the values are put back into the selectors found, so 1,000 near-identical queries cost one parse.

_PLACEHOLDER = "lgtm_literal_{}_"
_PLACEHOLDER_RE = re.compile(r"^lgtm_literal_(\d+)_$")


# Strings as PromQL and LogQL write them ("..." and '...' with backslash escapes, `...` raw), and comments.
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`|#[^\n]*')


def _shape(text: str) -> tuple[str, tuple[str, ...]]:
    if '"' not in text and "'" not in text and "`" not in text:
        return text, ()
    literals: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        literal = match.group(0)
        if literal[0] == "#":
            return literal  # a comment, not a string
        literals.append(literal)
        return f"{literal[0]}{_PLACEHOLDER.format(len(literals) - 1)}{literal[0]}"

    return _LITERAL.sub(placeholder, text), tuple(literals)


def _unquote(literal: str) -> str | None:
    if literal[:1] == "`" or "\\" not in literal:
        return literal[1:-1]
    try:
        value = ast.literal_eval(literal)  # Go's escapes in "..." and '...' are Python's too
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _filled(value: str, literals: tuple[str, ...]) -> str | None:
    match = _PLACEHOLDER_RE.match(value)
    if match is None:
        return value
    index = int(match.group(1))
    return _unquote(literals[index]) if index < len(literals) else None


def _fill_matchers(
    matchers: tuple[LabelMatcher, ...], literals: tuple[str, ...]
) -> tuple[LabelMatcher, ...] | None:
    filled = []
    for matcher in matchers:
        value = _filled(matcher.value, literals)
        if value is None:
            return None
        filled.append(LabelMatcher(matcher.name, matcher.op, value))
    return tuple(filled)


# ------------------------------------------------------------------ PromQL


def prom_selectors(text: str, origin: str) -> list[PromSelector]:
    """Every vector selector of an expanded PromQL query (or of a `label_values(...)` variable query)."""
    shape, literals = _shape(text)
    found = []
    for selector in _prom_shape(shape, origin):
        matchers = _fill_matchers(selector.matchers, literals)
        metric = _filled(selector.metric, literals) if selector.metric else None
        if matchers is None or (selector.metric and metric is None):
            return _prom_selectors(text, origin)  # a literal Python reads differently: parse it as it is
        found.append(replace(selector, metric=metric, matchers=matchers))
    return found


@lru_cache(maxsize=16384)
def _prom_shape(shape: str, origin: str) -> tuple[PromSelector, ...]:
    return tuple(_prom_selectors(shape, origin))


def _prom_selectors(text: str, origin: str) -> list[PromSelector]:
    if origin == "variable":
        inner = variable_query_selector(text)
        if inner is None:
            return []
        text, usage_override = inner, "labels"
    else:
        usage_override = None
    try:
        ast = pp.parse(text)
    except BaseException as err:  # the Rust parser raises ValueError, or panics on odd input
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        return []  # invalid PromQL: promql/syntax reports it
    found = []
    for selector, ancestors in selectors(ast):
        matchers = tuple(
            LabelMatcher(m.name, PROM_OPS.get(str(m.op), "="), m.value)
            for m in selector.matchers.matchers
            if m.name != "__name__"
        )
        usage, function = usage_override or _usage(ancestors), ""
        if usage == "range":
            function = next(name for a in reversed(ancestors) if (name := call_name(a)) in RANGE_FUNCTIONS)
        found.append(PromSelector(metric_name(selector), matchers, usage, function))
    return found


def _usage(ancestors: tuple[Any, ...]) -> str:
    if (
        len(ancestors) >= 2
        and isinstance(ancestors[-1], pp.MatrixSelector)
        and call_name(ancestors[-2]) in RANGE_FUNCTIONS
    ):
        return "range"
    for node in ancestors:
        if call_name(node) in COUNTER_FUNCTIONS:
            return "other"
        if isinstance(node, pp.AggregateExpr) and op_text(node) in COUNTING_AGGREGATIONS:
            return "other"
    return "raw"


# ------------------------------------------------------------------ LogQL


def loki_selectors(text: str) -> list[LokiSelector]:
    shape, literals = _shape(text)
    found = []
    for selector in _loki_shape(shape):
        matchers = _fill_matchers(selector.matchers, literals)
        if matchers is None:
            return _loki_selectors(text)
        found.append(LokiSelector(matchers))
    return found


@lru_cache(maxsize=16384)
def _loki_shape(shape: str) -> tuple[LokiSelector, ...]:
    return tuple(_loki_selectors(shape))


def _loki_selectors(text: str) -> list[LokiSelector]:
    from ..lint.logql import LogQLSyntaxError, parse_logql

    try:
        parsed = parse_logql(text)
    except (LogQLSyntaxError, RecursionError):
        return []  # logql/syntax reports it
    seen: dict[tuple[LabelMatcher, ...], None] = {}
    for group in parsed.selectors:
        seen.setdefault(tuple(LabelMatcher(m.name, m.op, m.value) for m in group), None)
    return [LokiSelector(m) for m in seen]


def iter_templating(query: Query) -> list[Mapping[str, Any]]:
    return query.dashboard.templating if query.dashboard is not None else []


def interpolators_by_dashboard(queries: list[Query]) -> Iterator[tuple[Query, Interpolator]]:
    """Each query with its dashboard's live interpolator (built once per dashboard)."""
    cache: dict[int, Interpolator] = {}
    for query in queries:
        key = id(query.dashboard)
        interpolator = cache.get(key)
        if interpolator is None:
            interpolator = cache[key] = live_interpolator(iter_templating(query))
        yield query, interpolator
