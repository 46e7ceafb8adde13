"""Well-formedness of Go text/template strings, as Prometheus/Mimir parse alert labels and annotations.

Checks what the template parser rejects before any data is involved: unclosed `{{`, unbalanced
`if/range/with/define/block ... end`, `else` outside a block, unbalanced parentheses, unknown functions, and
undefined variables (`$labels`, `$value`, `$externalLabels`, `$externalURL` and `$` exist; others must be
declared with `:=`).
"""

from __future__ import annotations

import re

PROMETHEUS_VARIABLES = frozenset({"$", "$labels", "$value", "$externalLabels", "$externalURL"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# text/template built-ins and the functions Prometheus adds for rule templates.
FUNCTIONS = _words(
    """
    and or not len index slice print printf println html js urlquery call eq ne lt le gt ge
    query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower graphLink tableLink
    sortByLabel humanize humanize1024 humanizeDuration humanizePercentage humanizeTimestamp toTime toDuration
    pathPrefix externalURL parseDuration stripPort stripDomain now urlQueryEscape
    """
)
OPENERS = frozenset({"if", "range", "with", "define", "block"})
CONSTANTS = frozenset({"true", "false", "nil"})
TOKEN = re.compile(
    r'\s+|"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])+\'|:=|=|\||\(|\)|,'
    r"|\$\w*(?:\.\w+)*|(?:\.\w+)+|\.|[-+]?\d[\w.+-]*|\w+|."
)


class TemplateError(ValueError):
    pass


def check_template(text: str, variables: frozenset[str] = PROMETHEUS_VARIABLES) -> None:
    """Raise TemplateError with a one-line reason when `text` would not parse as a rule template."""
    stack: list[str] = []
    declared: set[str] = set(variables)
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            break
        end = _action_end(text, start + 2)
        if end < 0:
            raise TemplateError(f"unclosed action starting at offset {start}")
        body = text[start + 2 : end].strip()
        pos = end + 2
        body = body.removeprefix("-").removesuffix("-").strip()
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("unclosed comment")
            continue
        _check_action(body, stack, declared)
    if stack:
        raise TemplateError(f"unexpected end of template: {{{{{stack[-1]}}}}} has no {{{{end}}}}")


def _action_end(text: str, pos: int) -> int:
    quote = ""
    i = pos
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote != "`":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in '"`':
            quote = char
        elif text.startswith("}}", i):
            return i
        i += 1
    return -1


def _check_action(body: str, stack: list[str], declared: set[str]) -> None:
    tokens = [t for t in TOKEN.findall(body) if not t.isspace()]
    if not tokens:
        raise TemplateError("missing value for command")
    keyword = tokens[0]
    if keyword in OPENERS:
        stack.append(keyword)
        tokens = tokens[1:]
        if keyword in ("define", "block") and (not tokens or tokens[0][0] not in '"`'):
            raise TemplateError(f"{{{{{keyword}}}}} needs a quoted template name")
    elif keyword == "else":
        if not stack or stack[-1] not in ("if", "range", "with"):
            raise TemplateError("unexpected {{else}}")
        tokens = tokens[1:]
        if tokens and tokens[0] in ("if", "with"):
            tokens = tokens[1:]
    elif keyword == "end":
        if not stack:
            raise TemplateError("unexpected {{end}}")
        stack.pop()
        if len(tokens) > 1:
            raise TemplateError("unexpected text after {{end}}")
        return
    elif keyword == "template":
        tokens = tokens[1:]
    elif keyword in ("break", "continue"):
        if "range" not in stack:
            raise TemplateError(f"{{{{{keyword}}}}} outside {{{{range}}}}")
        return
    if ":=" in tokens or "=" in tokens:
        cut = tokens.index(":=") if ":=" in tokens else tokens.index("=")
        declared.update(t for t in tokens[:cut] if t.startswith("$"))
        tokens = tokens[cut + 1 :]
    depth = 0
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise TemplateError("unexpected right paren")
        elif token.startswith("$"):
            root = token.split(".")[0]
            if root not in declared:
                raise TemplateError(f"undefined variable {root!r}")
        elif re.fullmatch(r"[A-Za-z_]\w*", token) and token not in FUNCTIONS and token not in CONSTANTS:
            raise TemplateError(f"function {token!r} not defined")
        elif len(token) == 1 and not token.isalnum() and token not in "(),|.=_":
            raise TemplateError(f"unexpected {token!r} in command")
    if depth > 0:
        raise TemplateError("unclosed left paren")
