"""LogQL parser (Grafana Loki's query language), built on lark's LALR parser.

Public API::

    parse_logql(query) -> ParsedLogQL     # raises LogQLSyntaxError

The grammar lives next to this module in ``logql.lark``.  Parsing is done in
two steps:

1. lark (LALR(1), contextual lexer) checks the syntax and builds a small tree;
2. one walk over that tree collects the summary (selectors, range windows, ...)
   and applies the cheap checks that Loki makes right after parsing (at least
   one non-empty matcher per selector, unwrap required or forbidden per range
   function, grouping/parameter rules, literal legs of ``and``/``or``/``unless``,
   log queries used where a metric is needed, regex validity, Go string escapes).

Grafana's range macros (``$__auto``, ``$__interval``, ``$__range``,
``$__rate_interval``, also in the ``${__name}`` form) are accepted as range
durations inside ``[...]``.  Any other template variable must be interpolated
before calling :func:`parse_logql`.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NoReturn

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedToken,
    VisitError,
)

__all__ = ["LogQLSyntaxError", "Matcher", "ParsedLogQL", "parse_logql"]


class LogQLSyntaxError(Exception):
    """A LogQL query was rejected.

    ``message`` is a single line that already ends with the position
    (``... at line L, column C``); ``line`` and ``column`` are 1-based.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Matcher:
    """One label matcher of a stream selector; ``value`` is the decoded string."""

    name: str
    op: str  # one of = != =~ !~
    value: str


@dataclass(frozen=True)
class ParsedLogQL:
    """Summary of a parsed query.

    ``selectors``, ``range_windows``, ``range_functions`` and ``unwrapped`` hold
    every occurrence in source order.  ``parsers`` holds each pipeline stage kind
    once, in order of first use.
    """

    kind: str  # "log" or "metric"
    selectors: tuple[tuple[Matcher, ...], ...]
    range_windows: tuple[str, ...]
    range_functions: tuple[str, ...]
    parsers: tuple[str, ...]
    unwrapped: tuple[str, ...]


# --------------------------------------------------------------------- parser

_PARSER: Lark | None = None
_PARSER_LOCK = threading.Lock()


def _get_parser() -> Lark:
    global _PARSER
    parser = _PARSER
    if parser is None:
        with _PARSER_LOCK:
            if _PARSER is None:
                grammar = resources.files(__package__).joinpath("logql.lark").read_text(encoding="utf-8")
                _PARSER = Lark(
                    grammar,
                    parser="lalr",
                    lexer="contextual",
                    start="start",
                    maybe_placeholders=False,
                    propagate_positions=False,
                    lexer_callbacks={"STRING": _check_string_token},
                    cache=True,  # lark keeps the parse tables in the temp directory: ~5x faster to load
                )
            parser = _PARSER
    return parser


def prepare_parser() -> None:
    """Build the parser now (before worker processes fork, so that each does not build its own)."""
    _get_parser()


def parse_logql(query: str) -> ParsedLogQL:
    """Parse a LogQL query and return its summary; raise LogQLSyntaxError if invalid."""
    if not isinstance(query, str):
        raise TypeError(f"parse_logql() expects a str, not {type(query).__name__}")
    return _parse_cached(query)


@lru_cache(maxsize=2048)
def _parse_cached(query: str) -> ParsedLogQL:
    # Only successful results are cached (exceptions are not), and ParsedLogQL
    # is immutable, so sharing results between callers is safe.
    bad = _SURROGATE_RE.search(query)
    if bad is not None:
        line, column = _position(query, bad.start())
        _fail("invalid UTF-8 encoding", line, column)
    parser = _get_parser()
    try:
        tree = parser.parse(query)
    except LogQLSyntaxError as exc:
        error = exc
    except UnexpectedToken as exc:
        error = _from_unexpected_token(exc, query, parser)
    except UnexpectedCharacters as exc:
        error = _from_unexpected_characters(exc, query)
    except UnexpectedEOF:
        line, column = _end_position(query)
        error = LogQLSyntaxError(
            f"syntax error: unexpected end of query at line {line}, column {column}", line, column
        )
    except VisitError as exc:  # pragma: no cover - no tree visitors run during parse
        orig = exc.orig_exc
        error = orig if isinstance(orig, LogQLSyntaxError) else _plain_error(str(orig))
    except LarkError as exc:  # pragma: no cover - defensive: never leak lark errors
        error = _plain_error(str(exc))
    else:
        return _summarise(tree)
    # Raised outside the except blocks so no lark exception is chained as context.
    raise error


# ---------------------------------------------------------------- error texts

_SURROGATE_RE = re.compile("[\ud800-\udfff]")

_TERMINAL_NAMES = {
    "$END": "end of query",
    "IDENTIFIER": "identifier",
    "STRING": "string",
    "NUMBER": "number",
    "DURATION": "duration",
    "BYTES": "bytes",
    "RANGE": "range such as [5m]",
    "PARSER_FLAG": "parser flag",
    "RANGE_OP": "range function",
    "VEC_OP": "aggregation",
    "CONV_OP": "conversion function",
    "LABEL_REPLACE": "label_replace",
    "VECTOR": "vector",
    "VARIANTS": "variants",
    "IP": "ip",
}


def _plain_error(text: str) -> LogQLSyntaxError:
    return LogQLSyntaxError(f"syntax error: {_one_line(text)} at line 1, column 1", 1, 1)


def _fail(message: str, line: int, column: int) -> NoReturn:
    raise LogQLSyntaxError(f"{message} at line {line}, column {column}", line, column)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _show(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _end_position(text: str) -> tuple[int, int]:
    return _position(text, len(text))


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except (KeyError, AttributeError):
        return name.lower()
    if pattern.type == "str":
        return _show(pattern.value)
    return name.lower()


def _from_unexpected_token(exc: UnexpectedToken, query: str, parser: Lark) -> LogQLSyntaxError:
    token = exc.token
    if token.type == "$END":
        line, column = _end_position(query)
        what = "end of query"
    else:
        line, column = token.line or 1, token.column or 1
        if token.type == "BAD_RANGE":
            return _bad_range(token)
        what = f"string {_show(_unquote(str(token)), 30)}" if token.type == "STRING" else _show(str(token))
    message = f"syntax error: unexpected {what}"
    expected = sorted({_describe_terminal(n, parser) for n in exc.expected or () if n != "BAD_RANGE"})
    if 0 < len(expected) <= 4:
        message += ", expecting " + " or ".join(expected)
    return LogQLSyntaxError(f"{message} at line {line}, column {column}", line, column)


def _from_unexpected_characters(exc: UnexpectedCharacters, query: str) -> LogQLSyntaxError:
    line, column = exc.line or 1, exc.column or 1
    # lark declares pos_in_stream None on UnexpectedInput; UnexpectedCharacters always sets the offset.
    pos: int = exc.pos_in_stream  # type: ignore[assignment]
    char = query[pos] if 0 <= pos < len(query) else ""
    if char in ('"', "`"):
        message = "syntax error: unterminated string"
    elif char == "[":
        message = "syntax error: missing closing ']' in range"
    else:
        message = f"syntax error: unexpected character {_show(char)}"
    return LogQLSyntaxError(f"{message} at line {line}, column {column}", line, column)


def _bad_range(token: Token) -> LogQLSyntaxError:
    text = str(token)
    line, column = token.line or 1, token.column or 1
    if not text.endswith("]"):
        message = "syntax error: missing closing ']' in range"
    else:
        message = f"invalid range duration {_show(text[1:-1])}"
    return LogQLSyntaxError(f"{message} at line {line}, column {column}", line, column)


# ------------------------------------------------------------------- strings

# A valid Go escape inside "...": \a \b \f \n \r \t \v \\ \" \ooo \xhh \uhhhh \Uhhhhhhhh
_GO_ESCAPE_RE = re.compile(
    r"\\(?:([abfnrtv\\\"])|([0-7]{3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
}


def _check_string_token(token: Token) -> Token:
    """Lexer callback: reject invalid escapes in double-quoted strings."""
    text = str(token)
    if text[0] == '"' and "\\" in text:
        _unquote(text, token)
    return token


def _unquote(text: str, token: Token | None = None) -> str:
    """Decode a Go string literal ("..." with escapes, or `raw`)."""
    body = text[1:-1]
    if text[0] == "`" or "\\" not in body:
        return body
    out = bytearray()
    pos = 0
    for m in _GO_ESCAPE_RE.finditer(body):
        out += body[pos : m.start()].encode("utf-8", "surrogateescape")
        pos = m.end()
        simple, octal, hex2, hex4, hex8, bad = m.groups()
        if bad is not None:
            _string_error(f"invalid escape sequence \\{bad}", token, m.start())
        if simple is not None:
            out += _SIMPLE_ESCAPES[simple].encode()
        elif octal is not None:
            value = int(octal, 8)
            if value > 255:
                _string_error(f"invalid octal escape \\{octal}", token, m.start())
            out.append(value)
        elif hex2 is not None:
            out.append(int(hex2, 16))
        else:
            digits = hex4 if hex4 is not None else hex8
            value = int(digits, 16)
            if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                _string_error(f"invalid Unicode escape \\{'u' if hex4 else 'U'}{digits}", token, m.start())
            out += chr(value).encode("utf-8")
    out += body[pos:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "surrogateescape")


def _string_error(message: str, token: Token | None, offset: int) -> NoReturn:
    if token is None:
        raise ValueError(message)
    line = token.line or 1
    column = (token.column or 1) + 1 + offset
    _fail(f"syntax error: {message} in string", line, column)


# -------------------------------------------------------------------- regexes

# Python's `re` accepts most RE2 syntax; these RE2-only features make it fail.
_RE2_ONLY = re.compile(r"\\[pPzQEC]|\[\[:|\(\?[a-zA-Z]*U|\(\?[imsU-]+\)")
_RE_DEFINITELY_BAD = (
    "bad escape",
    "missing )",
    "unbalanced parenthesis",
    "unterminated character set",
    "nothing to repeat",
    "multiple repeat",
    "bad character range",
)


@lru_cache(maxsize=4096)
def _regex_status(pattern: str) -> tuple[str, bool]:
    """Return ("ok"|"bad"|"unknown", matches_empty) for a Go RE2 regex."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = re.compile(pattern)
    except re.error as exc:
        msg = str(exc)
        if _RE2_ONLY.search(pattern) is None and msg.startswith(_RE_DEFINITELY_BAD):
            return "bad", False
        return "unknown", False
    try:
        return "ok", compiled.fullmatch("") is not None
    except RecursionError:  # pragma: no cover - pathological pattern
        return "unknown", False


def _regex_error(pattern: str) -> str | None:
    status, _ = _regex_status(pattern)
    if status != "bad":
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        return _one_line(str(exc))
    return None  # pragma: no cover


# ----------------------------------------------------------------- tree walk

_LOG, _LITERAL, _METRIC = 0, 1, 2

_LOGICAL_OPS = frozenset({"or", "and", "unless"})
_GROUPING_ALLOWED = frozenset(
    {
        "avg_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "quantile_over_time",
        "max_over_time",
        "min_over_time",
        "first_over_time",
        "last_over_time",
    }
)
_UNWRAP_ALLOWED = frozenset(
    {
        "avg_over_time",
        "sum_over_time",
        "max_over_time",
        "min_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "quantile_over_time",
        "rate",
        "rate_counter",
        "absent_over_time",
        "first_over_time",
        "last_over_time",
    }
)
_NO_UNWRAP_ALLOWED = frozenset(
    {"bytes_over_time", "bytes_rate", "count_over_time", "rate", "absent_over_time"}
)
_K_AGGREGATIONS = frozenset({"topk", "bottomk", "approx_topk"})
_INT_RE = re.compile(r"[+-]?\d+")


class _Acc:
    __slots__ = ("functions", "selectors", "stages", "unwrapped", "windows")

    def __init__(self) -> None:
        self.selectors: list[tuple[Matcher, ...]] = []
        self.windows: list[str] = []
        self.functions: list[str] = []
        self.stages: dict[str, None] = {}
        self.unwrapped: list[str] = []


def _summarise(tree: Tree) -> ParsedLogQL:
    acc = _Acc()
    root = tree.children[0]
    kind = _expr(root, acc)
    return ParsedLogQL(
        kind="log" if kind == _LOG else "metric",
        selectors=tuple(acc.selectors),
        range_windows=tuple(acc.windows),
        range_functions=tuple(acc.functions),
        parsers=tuple(acc.stages),
        unwrapped=tuple(acc.unwrapped),
    )


def _first_token(node) -> Token | None:
    while isinstance(node, Tree):
        if not node.children:
            return None
        node = node.children[0]
    return node


def _fail_at(message: str, node) -> NoReturn:
    token = _first_token(node)
    if token is None or token.line is None:
        _fail(message, 1, 1)
    _fail(message, token.line, token.column or 1)


def _expr(node, acc: _Acc) -> int:
    handler = _EXPR_HANDLERS.get(node.data)
    if handler is None:  # pragma: no cover - grammar and walker out of sync
        _fail_at(f"internal error: unexpected node {node.data}", node)
    return handler(node, acc)


def _metric_arg(node, acc: _Acc, where: str) -> int:
    kind = _expr(node, acc)
    if kind == _LOG:
        _fail_at(f"syntax error: a log query is not allowed as {where}, a metric expression is needed", node)
    return kind


def _binop(node, acc: _Acc) -> int:
    children = node.children
    left, op_token, right = children[0], children[1], children[-1]
    op = op_token.lower()
    left_kind = _expr(left, acc)
    right_kind = _expr(right, acc)
    if left_kind == _LOG:
        _fail_at(f"unexpected log query as left leg of binary operation ({op})", left)
    if right_kind == _LOG:
        _fail_at(f"unexpected log query as right leg of binary operation ({op})", right)
    if op in _LOGICAL_OPS:
        if left_kind == _LITERAL:
            _fail_at(f"unexpected literal for left leg of logical/set binary operation ({op})", left)
        if right_kind == _LITERAL:
            _fail_at(f"unexpected literal for right leg of logical/set binary operation ({op})", right)
    if left_kind == _LITERAL and right_kind == _LITERAL:
        return _LITERAL
    return _METRIC


def _literal(node, acc: _Acc) -> int:
    return _LITERAL


def _vector_fn(node, acc: _Acc) -> int:
    return _METRIC


def _label_replace(node, acc: _Acc) -> int:
    children = node.children
    _metric_arg(children[1], acc, "the argument of label_replace")
    regex_token = children[5]
    error = _regex_error(_unquote(str(regex_token), regex_token))
    if error is not None:
        _fail(f"invalid regex in label_replace: {error}", regex_token.line, regex_token.column)
    return _METRIC


def _grouping_labels(grouping: Tree) -> int:
    return len(grouping.children) - 1


def _aggregation_parts(node) -> tuple[Token, str, Token | None, Tree | None, Tree | None]:
    """(operator token, operator name, parameter, grouping, operand) of a vector or range aggregation."""
    op_token = node.children[0]
    param = grouping = operand = None
    for child in node.children[1:]:
        if isinstance(child, Token):
            param = child
        elif child.data == "grouping":
            grouping = child
        else:
            operand = child
    return op_token, op_token.lower(), param, grouping, operand


def _vector_agg(node, acc: _Acc) -> int:
    op_token, op, param, grouping, arg = _aggregation_parts(node)
    _metric_arg(arg, acc, f"the argument of {op}")
    if op in _K_AGGREGATIONS:
        if param is None:
            _fail_at(f"parameter required for operation {op}", op_token)
        if not _INT_RE.fullmatch(param):
            _fail_at(f"invalid parameter {op}({param},", param)
        if int(param) <= 0:
            _fail_at(f"invalid parameter (must be greater than 0) {op}({param}", param)
        if op == "approx_topk" and grouping is not None:
            _fail_at(f"grouping not allowed for {op} aggregation", grouping)
    elif param is not None:
        _fail_at(f"unsupported parameter for operation {op}({param},", param)
    if op in ("sort", "sort_desc") and grouping is not None and _grouping_labels(grouping) > 0:
        _fail_at("sort and sort_desc doesn't allow grouping by", grouping)
    return _METRIC


def _range_agg(node, acc: _Acc) -> int:
    op_token, op, param, grouping, log_range = _aggregation_parts(node)
    acc.functions.append(op)
    assert log_range is not None  # the grammar requires the range operand
    has_unwrap = _log_range(log_range, acc)
    if param is not None and op != "quantile_over_time":
        _fail_at(f"parameter {param} not supported for operation {op}", param)
    if param is None and op == "quantile_over_time":
        _fail_at(f"parameter required for operation {op}", op_token)
    if grouping is not None and op not in _GROUPING_ALLOWED:
        _fail_at(f"grouping not allowed for {op} aggregation", grouping)
    if has_unwrap:
        if op not in _UNWRAP_ALLOWED:
            _fail_at(f"invalid aggregation {op} with unwrap", op_token)
    elif op not in _NO_UNWRAP_ALLOWED:
        _fail_at(f"invalid aggregation {op} without unwrap", op_token)
    return _METRIC


def _variants(node, acc: _Acc) -> int:
    for child in node.children[1:]:
        if child.data == "log_range":
            _log_range(child, acc)
        else:
            _metric_arg(child, acc, "a variant")
    return _METRIC


def _log_expr(node, acc: _Acc) -> int:
    children = node.children
    _selector(children[0], acc)
    for child in children[1:]:
        _stage(child, acc)
    return _LOG


def _log_range(node: Tree, acc: _Acc) -> bool:
    """Walk a log range; return whether it has an unwrap stage."""
    has_unwrap = False
    for child in node.children:
        if isinstance(child, Token):
            kind = child.type
            if kind == "RANGE":
                acc.windows.append(child[1:-1])
            elif kind == "BAD_RANGE":
                raise _bad_range(child)
            # DURATION: the offset, nothing to record
            continue
        data = child.data
        if data == "selector":
            _selector(child, acc)
        elif data == "log_range":
            has_unwrap = _log_range(child, acc) or has_unwrap
        elif data == "unwrap":
            has_unwrap = True
            _unwrap(child, acc)
        else:
            _stage(child, acc)
    return has_unwrap


def _unwrap(node: Tree, acc: _Acc) -> None:
    acc.stages["unwrap"] = None
    for child in node.children:
        if isinstance(child, Token):
            if child.type == "IDENTIFIER":
                acc.unwrapped.append(str(child))
        else:
            acc.stages[child.data] = None  # label_filter post-filters


def _stage(node: Tree, acc: _Acc) -> None:
    acc.stages[node.data] = None


def _selector(node: Tree, acc: _Acc) -> None:
    matchers = []
    constrained = False
    for child in node.children[1:]:
        name_token, op_token, value_token = child.children
        assert isinstance(value_token, Token)  # the grammar's matcher value is a string token
        op = str(op_token)
        value = _unquote(str(value_token), value_token)
        if op == "=":
            matches_empty = value == ""
        elif op == "!=":
            matches_empty = value != ""
        else:
            status, regex_matches_empty = _regex_status(value)
            if status == "bad":
                _fail(
                    f"invalid regular expression {_show(value)}: {_regex_error(value)}",
                    value_token.line or 1,
                    value_token.column or 1,
                )
            if status == "unknown":
                matches_empty = False
            elif op == "=~":
                matches_empty = regex_matches_empty
            else:
                matches_empty = not regex_matches_empty
        if not matches_empty:
            constrained = True
        matchers.append(Matcher(str(name_token), op, value))
    if not constrained:
        _fail_at(
            "queries require at least one regexp or equality matcher that does not have an "
            'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
            'but app=~".+" will',
            node,
        )
    acc.selectors.append(tuple(matchers))


_EXPR_HANDLERS = {
    "binop": _binop,
    "literal": _literal,
    "vector_fn": _vector_fn,
    "label_replace": _label_replace,
    "vector_agg": _vector_agg,
    "range_agg": _range_agg,
    "variants": _variants,
    "log_expr": _log_expr,
}
