"""Go text/template well-formedness: the one scanner behind rule label/annotation templates (lint) and
Alertmanager template files (model).

`scan_template` checks what Go's template parser rejects before any data is involved: unclosed `{{` (or a new
`{{` before the action closed), unclosed comments, empty actions, unbalanced `if/range/with/define/block ...
end`, `else` outside `if/range/with`, text after `end`, `break`/`continue` outside `range`, unbalanced
parentheses and stray characters; optionally undefined variables (those not given nor declared with `:=`) and
unknown functions. It also lists the `define`/`block` templates and the `template "x"` calls. A problem is a
`TemplateError` with the 1-based line of the action (or of the block left open).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# The variables Prometheus gives a rule template.
PROMETHEUS_VARIABLES = frozenset({"$", "$labels", "$value", "$externalLabels", "$externalURL"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Functions a template may call, by where it is parsed (docs/server-contract.md, rows M-RULE-TEMPLATE and
# M-AM-TEMPLATE). Go's parser rejects an unknown function at parse time ("function %q not defined"), so a
# rule or an Alertmanager template using one is refused by Mimir's API: the build refuses it first.
#
# Go's text/template built-ins: golang/go src/text/template/funcs.go, builtins().
GO_BUILTIN_FUNCTIONS = _words(
    "and call html index slice js len not or print printf println urlquery eq ge gt le lt ne"
)
# Prometheus rule templates: prometheus/prometheus template/template.go, NewTemplateExpander's funcMap
# (rulefmt's testTemplateParsing parses labels and annotations with it; Mimir's ruler API runs that
# validation). `toDuration` and `now` were not read in Prometheus itself: they come from pint's mirror of
# the newer funcMap (cloudflare/pint internal/checks/alerts_template.go).
PROMETHEUS_FUNCTIONS = GO_BUILTIN_FUNCTIONS | _words(
    """
    query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower graphLink tableLink
    sortByLabel stripPort stripDomain humanize humanize1024 humanizeDuration humanizePercentage
    humanizeTimestamp toTime toDuration now pathPrefix externalURL parseDuration
    """
)
# Alertmanager notification templates: prometheus/alertmanager template/template.go, DefaultFuncs (Mimir's
# validateUserConfig parses the template files with template.FromGlobs, which registers them).
ALERTMANAGER_FUNCTIONS = GO_BUILTIN_FUNCTIONS | _words(
    """
    toUpper toLower title trimSpace join match safeHtml safeUrl urlUnescape reReplaceAll stringSlice date tz
    since humanizeDuration toJson
    """
)
OPENERS = frozenset({"if", "range", "with", "define", "block"})
CONSTANTS = frozenset({"true", "false", "nil"})
TOKEN = re.compile(
    r'\s+|"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])+\'|:=|=|\||\(|\)|,'
    r"|\$\w*(?:\.\w+)*|(?:\.\w+)+|\.|[-+]?\d[\w.+-]*|\w+|."
)
_COMMENT_OPENING = re.compile(r"[- \t\n]*/\*")


class TemplateError(ValueError):
    """Why a template would not parse; `line` is 1-based. `str()` is the message alone."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class TemplateDefine:
    name: str
    text: str  # the whole `{{ define "name" }}...{{ end }}` block
    calls: frozenset[str]


@dataclass(frozen=True)
class ParsedTemplate:
    defines: tuple[TemplateDefine, ...]
    calls: frozenset[str]  # every `template "x"` in the text


@dataclass(frozen=True)
class _Action:
    start: int  # offset of `{{`
    end: int  # offset just past `}}`
    line: int
    tokens: tuple[str, ...]


@dataclass
class _Block:
    keyword: str
    start: int
    line: int
    name: str | None  # of a `define`/`block`
    calls: set[str] = field(default_factory=set)


def scan_template(
    text: str, variables: frozenset[str] | None = None, functions: frozenset[str] | None = None
) -> ParsedTemplate:
    """Check `text` and list its defines and calls; raise TemplateError on the first problem.

    `variables` (the predefined ones) turns on the undefined-variable check, `functions` the unknown-function
    check.
    """
    stack: list[_Block] = []
    defines: list[TemplateDefine] = []
    calls: set[str] = set()
    declared = set(variables or ())
    for action in _actions(text):
        keyword, rest = action.tokens[0], list(action.tokens[1:])
        called = _called_name(action.tokens)
        if called is not None:
            calls.add(called)
            for block in stack:
                block.calls.add(called)
        if keyword in OPENERS:
            named = keyword in ("define", "block")
            if named and not (rest and _is_string(rest[0])):
                raise TemplateError(f"{keyword} needs a quoted name", action.line)
            stack.append(_Block(keyword, action.start, action.line, _unquote(rest[0]) if named else None))
        elif keyword == "else":
            if not stack or stack[-1].keyword not in ("if", "range", "with"):
                raise TemplateError("'else' outside if/range/with", action.line)
            if rest and rest[0] in ("if", "with"):
                rest = rest[1:]
        elif keyword == "end":
            if not stack:
                raise TemplateError("'end' without an open block", action.line)
            if rest:
                raise TemplateError("unexpected text after {{end}}", action.line)
            block = stack.pop()
            if block.name is not None:
                defines.append(
                    TemplateDefine(block.name, text[block.start : action.end], frozenset(block.calls))
                )
            continue
        elif keyword in ("break", "continue"):
            if not any(block.keyword == "range" for block in stack):
                raise TemplateError(f"{{{{{keyword}}}}} outside {{{{range}}}}", action.line)
            continue
        elif keyword != "template":
            rest = list(action.tokens)
        _check_pipeline(rest, action.line, declared if variables is not None else None, functions)
    if stack:
        raise TemplateError(f"'{stack[-1].keyword}' is never closed with 'end'", stack[-1].line)
    return ParsedTemplate(tuple(defines), frozenset(calls))


def template_calls(text: str) -> frozenset[str]:
    """The `template "x"` (and `block "x"`) names in `text`, as far as its actions can be read; no checks."""
    found: set[str] = set()
    try:
        for action in _actions(text):
            called = _called_name(action.tokens)
            if called is not None:
                found.add(called)
    except TemplateError:
        pass
    return frozenset(found)


def _actions(text: str) -> Iterator[_Action]:
    """Every non-comment action, in order; TemplateError for an unclosed action or comment or an empty one."""
    position, line, counted = 0, 1, 0
    while True:
        start = text.find("{{", position)
        if start < 0:  # outside actions `}}` is plain text, as in Go
            return
        line += text.count("\n", counted, start)
        counted = start
        end = _action_end(text, start + 2)
        if end < 0:
            raise TemplateError("unclosed action '{{'", line)
        body = text[start + 2 : end].strip().removeprefix("-").removesuffix("-").strip()
        position = end + 2
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("unclosed comment", line)
        elif not body:
            raise TemplateError("empty action '{{ }}'", line)
        else:
            yield _Action(start, position, line, tuple(t for t in TOKEN.findall(body) if not t.isspace()))


def _action_end(text: str, index: int) -> int:
    """Offset of the `}}` closing an action, skipping quoted strings and comments; -1 when unclosed."""
    if _COMMENT_OPENING.match(text, index):
        close = text.find("*/", index)
        if close < 0:
            return -1
        return text.find("}}", close)
    quote: str | None = None
    while index < len(text) - 1:
        char = text[index]
        if quote:
            if char == "\\" and quote != "`":
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "\"`'":
            quote = char
        elif text.startswith("}}", index):
            return index
        elif text.startswith("{{", index):  # a new action before this one closed
            return -1
        index += 1
    return -1


def _is_string(token: str) -> bool:
    return token[0] in '"`'


def _unquote(token: str) -> str:
    return token[1:-1]


def _called_name(tokens: tuple[str, ...]) -> str | None:
    if tokens[0] in ("template", "block") and len(tokens) > 1 and _is_string(tokens[1]):
        return _unquote(tokens[1])
    return None


def _check_pipeline(
    tokens: list[str], line: int, declared: set[str] | None, functions: frozenset[str] | None
) -> None:
    if ":=" in tokens or "=" in tokens:
        cut = tokens.index(":=") if ":=" in tokens else tokens.index("=")
        if declared is not None:
            declared.update(t for t in tokens[:cut] if t.startswith("$"))
        tokens = tokens[cut + 1 :]
    depth = 0
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise TemplateError("unexpected right paren", line)
        elif token.startswith("$"):
            root = token.split(".")[0]
            if declared is not None and root not in declared:
                raise TemplateError(f"undefined variable {root!r}", line)
        elif re.fullmatch(r"[A-Za-z_]\w*", token):
            if functions is not None and token not in functions and token not in CONSTANTS:
                raise TemplateError(f"function {token!r} not defined", line)
        elif len(token) == 1 and not token.isalnum() and token not in "(),|.=_":
            raise TemplateError(f"unexpected {token!r} in command", line)
    if depth > 0:
        raise TemplateError("unclosed left paren", line)
