"""A stateful in-process emulator of Mimir's ruler config API and Alertmanager config API.

It implements ``docs/server-contract.md`` (rows ``M-*``, each cited to grafana/mimir's source and walked
by ``tests/test_server_contract.py``): tenant header on every request, per-tenant state, ruler config routes under a configurable prefix (default ``/prometheus``), the Alertmanager
config API at ``/api/v1/alerts`` (no prefix) and ``/alertmanager/api/v1/alerts`` answering 410 Gone.

Rule groups are stored the way Mimir stores them (its protobuf ``RuleGroupDesc``) and rendered back the
way Mimir renders them, so a GET shows what a real Mimir would show: durations in Prometheus' canonical
form (``60s`` → ``1m``, ``90s`` → ``1m30s``), zero durations omitted, unknown keys dropped (non-strict
YAML), empty fields omitted, label and annotation maps sorted, and the group fields Mimir's storage has
no place for (group ``labels`` and ``limit``) dropped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import promql_parser
import yaml

from .faults import HTTPEmulator, Request, Response, Route, match_route

__all__ = [
    "MimirEmulator",
    "check_go_template",
    "format_prometheus_duration",
    "parse_prometheus_duration",
]

SUCCESS_BODY = {"status": "success", "data": None, "errorType": "", "error": ""}
NO_ORG_ID = "no org id"
GROUP_NOT_FOUND = "group does not exist"
NAMESPACE_NOT_FOUND = "group namespace does not exist"
PROTECTED = "namespace is protected, no modification allowed"
DECODE_ERROR = "unable to decode rule group"
AM_NOT_FOUND = "alertmanager storage object not found"
AM_EMPTY = (
    "configuration provided is empty, if you'd like to remove your configuration please use the delete "
    "configuration endpoint"
)
V1_GONE = (
    "the Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - "
    "please use the equivalent route in the v2 API"
)
OVERRIDE_PROTECTION_HEADER = "X-Mimir-Ruler-Override-Namespace-Protection"
PROTECTED_NAMESPACES_HEADER = "X-Mimir-Ruler-Protected-Namespaces"


# ============================================================================================ durations
# Own copy, not lgtm_dash.durations: the emulator stands in for Mimir; sharing would make tests circular.

_DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNITS_MS = (
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)


def parse_prometheus_duration(text: str) -> int:
    """Prometheus ``model.ParseDuration``: ``"1h30m"`` → milliseconds. Raises ``ValueError``."""
    if text == "0":
        return 0
    if text == "":
        raise ValueError("empty duration string")
    m = _DURATION_RE.match(text)
    if m is None or not any(m.groups()):
        raise ValueError(f"not a valid duration string: {_go_quote(text)}")
    return sum(int(v) * mult for v, (_, mult) in zip(m.groups(), _UNITS_MS, strict=True) if v)


def format_prometheus_duration(ms: int) -> str:
    """Prometheus ``model.Duration.String()``: years and weeks only when exact, e.g. 90000 → ``1m30s``."""
    if ms == 0:
        return "0s"
    out = ""
    for unit, mult in _UNITS_MS:
        if unit in ("y", "w") and ms % mult != 0:
            continue
        value = ms // mult
        if value > 0:
            out += f"{value}{unit}"
            ms -= value * mult
    return out


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ============================================================================================ Go templates
# Own checker, not lgtm_dash.gotemplate: the emulator stands in for Mimir; sharing would make tests circular.


_KEYWORDS_CONTROL = {"if", "range", "with"}
_VAR_RE = re.compile(r"\$[A-Za-z0-9_]*")
_DECL_RE = re.compile(r"^\s*(\$[A-Za-z0-9_]*)\s*(?:,\s*(\$[A-Za-z0-9_]*)\s*)?(:?=)")


@dataclass
class _Frame:
    kind: str
    line: int
    var_mark: int
    seen_else: bool = False


class _TemplateError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def _scan_action(text: str, pos: int, line: int) -> tuple[str, int, int, list[tuple[str, int]]]:
    """Scan one action body starting after ``{{`` (and a trim marker).

    Returns (content, position after ``}}``, line after the action, [(variable, line)] outside strings).
    """
    depth = 0
    start = pos
    variables: list[tuple[str, int]] = []
    n = len(text)
    while True:
        if pos >= n:
            raise _TemplateError(line, "unclosed action")
        if text.startswith("}}", pos) or text.startswith(" -}}", pos) or text.startswith("\t-}}", pos):
            if depth > 0:
                raise _TemplateError(line, "unclosed left paren")
            content = text[start:pos]
            end = pos + (2 if text.startswith("}}", pos) else 4)
            return content, end, line, variables
        c = text[pos]
        if c == "\n":
            line += 1
            pos += 1
        elif c == '"' or c == "'":
            quote = c
            pos += 1
            while True:
                if pos >= n or text[pos] == "\n":
                    what = "quoted string" if quote == '"' else "character constant"
                    raise _TemplateError(line, f"unterminated {what}")
                if text[pos] == "\\":
                    pos += 2
                    continue
                if text[pos] == quote:
                    pos += 1
                    break
                pos += 1
        elif c == "`":
            close = text.find("`", pos + 1)
            if close < 0:
                raise _TemplateError(line, "unterminated raw quoted string")
            line += text.count("\n", pos, close)
            pos = close + 1
        elif c == "(":
            depth += 1
            pos += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise _TemplateError(line, "unexpected right paren")
            pos += 1
        elif c == "$":
            m = _VAR_RE.match(text, pos)
            assert m is not None
            variables.append((m.group(0), line))
            pos = m.end()
        else:
            pos += 1


def _strip_strings(content: str) -> str:
    return re.sub(r'"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])*\'', '""', content)


# Functions each parser knows. Go's text/template built-ins: golang/go src/text/template/funcs.go,
# builtins(). Prometheus rule templates: prometheus/prometheus template/template.go, NewTemplateExpander
# (`toDuration`, `now`: pint's mirror of the newer funcMap, internal/checks/alerts_template.go).
# Alertmanager templates: prometheus/alertmanager template/template.go, DefaultFuncs.
def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


GO_BUILTINS = _names(
    "and call html index slice js len not or print printf println urlquery eq ge gt le lt ne"
)
PROMETHEUS_TEMPLATE_FUNCTIONS = GO_BUILTINS | _names(
    """query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower graphLink
    tableLink sortByLabel stripPort stripDomain humanize humanize1024 humanizeDuration humanizePercentage
    humanizeTimestamp toTime toDuration now pathPrefix externalURL parseDuration"""
)
ALERTMANAGER_TEMPLATE_FUNCTIONS = GO_BUILTINS | _names(
    """toUpper toLower title trimSpace join match safeHtml safeUrl urlUnescape reReplaceAll stringSlice date
    tz since humanizeDuration toJson"""
)
_CONSTANTS = {"true", "false", "nil"}
_IDENTIFIER_RE = re.compile(r"(?<![\w.$])[A-Za-z_]\w*")


def check_go_template(
    text: str, name: str, variables: Iterable[str] = ("$",), functions: frozenset[str] | None = None
) -> str | None:
    """Check that ``text`` parses as a Go ``text/template``; return Go's error text or ``None``.

    Covers what breaks a template in practice: unclosed actions/comments/strings/parens, empty actions,
    ``if/range/with/define/block … end`` balance, misplaced ``else``/``end``/``break``/``continue``,
    ``define`` below top level, missing names in ``define``/``block``/``template``, undefined
    ``$variables`` and, given ``functions``, calls to functions the parser does not know (Go's parser
    refuses them: ``function "x" not defined``). The message looks like ``template: <name>:<line>: <problem>``.
    """
    try:
        _check_template(text, list(variables), functions)
    except _TemplateError as e:
        return f"template: {name}:{e.line}: {e.message}"
    return None


def _unknown_function(pipeline: str, functions: frozenset[str] | None) -> str | None:
    if functions is None:
        return None
    bare = re.sub(r"\$\w*(?:\.\w+)*|\.\w+(?:\.\w+)*", " ", _strip_strings(pipeline).replace('""', " "))
    for word in _IDENTIFIER_RE.findall(bare):
        if word not in functions and word not in _CONSTANTS:
            return word
    return None


def _check_template(text: str, top_vars: list[str], functions: frozenset[str] | None = None) -> None:
    pos, line = 0, 1
    stack: list[_Frame] = []
    scope: list[str] = list(top_vars)
    while True:
        nxt = text.find("{{", pos)
        if nxt < 0:
            line += text.count("\n", pos)
            break
        line += text.count("\n", pos, nxt)
        pos = nxt + 2
        if text.startswith("- ", pos) or text.startswith("-\t", pos) or text.startswith("-\n", pos):
            pos += 1
        if text.startswith("/*", pos):  # a comment must follow the delimiter (and trim marker) directly
            close = text.find("*/", pos + 2)
            if close < 0:
                raise _TemplateError(line, "unclosed comment")
            line += text.count("\n", pos, close)
            after = close + 2
            if text.startswith("}}", after):
                pos = after + 2
            elif text.startswith(" -}}", after):
                pos = after + 4
            else:
                raise _TemplateError(line, "comment ends before closing delimiter")
            continue
        start_line = line
        content, pos, line, used = _scan_action(text, pos, line)
        _check_action(content, start_line, stack, scope, used, top_vars, functions)
    if stack:
        raise _TemplateError(line, "unexpected EOF")


def _check_action(
    content: str,
    line: int,
    stack: list[_Frame],
    scope: list[str],
    used: list[tuple[str, int]],
    top_vars: list[str],
    functions: frozenset[str] | None = None,
) -> None:
    body = content.strip()
    if not body:
        raise _TemplateError(line, "missing value for command")
    words = body.split(None, 1)
    keyword = words[0]
    rest = words[1] if len(words) > 1 else ""

    def check_pipeline(pipeline: str, context: str, *, required: bool) -> None:
        declared: list[str] = []
        assigned: str | None = None
        m = _DECL_RE.match(pipeline)
        if m:
            if m.group(3) == ":=":
                declared = [v for v in (m.group(1), m.group(2)) if v]
            else:
                assigned = m.group(1)
            pipeline = pipeline[m.end() :]
        if required and not _strip_strings(pipeline).strip():
            raise _TemplateError(line, f"missing value for {context}")
        skip = set(declared)
        for var, var_line in used:
            if var in skip:
                skip.discard(var)
                continue
            if var not in scope and var != "$":
                raise _TemplateError(var_line, f"undefined variable {_go_quote(var)}")
        if assigned is not None and assigned not in scope:
            raise _TemplateError(line, f"undefined variable {_go_quote(assigned)}")
        unknown = _unknown_function(pipeline, functions)
        if unknown is not None:
            raise _TemplateError(line, f"function {_go_quote(unknown)} not defined")
        scope.extend(declared)

    if keyword in _KEYWORDS_CONTROL:
        stack.append(_Frame(keyword, line, len(scope)))
        check_pipeline(rest, keyword, required=True)
    elif keyword == "else":
        frame = stack[-1] if stack else None
        if frame is None or frame.kind not in _KEYWORDS_CONTROL:
            raise _TemplateError(line, "unexpected {{else}}")
        if frame.seen_else:
            raise _TemplateError(line, "expected end; found {{else}}")
        chained = rest.split(None, 1)
        if chained and chained[0] in ("if", "with"):
            check_pipeline(chained[1] if len(chained) > 1 else "", chained[0], required=True)
        elif rest.strip():
            raise _TemplateError(line, f"unexpected {_first_token(rest)} in else")
        else:
            frame.seen_else = True
    elif keyword == "end":
        if rest.strip():
            raise _TemplateError(line, f"unexpected {_first_token(rest)} in end")
        if not stack:
            raise _TemplateError(line, "unexpected {{end}}")
        frame = stack.pop()
        del scope[frame.var_mark :]
        if frame.kind == "define":
            scope[:] = list(top_vars)
    elif keyword == "define":
        if stack:
            raise _TemplateError(line, "unexpected <define> in command")
        if not re.match(r'^("(?:\\.|[^"\\])*"|`[^`]*`)\s*$', rest):
            raise _TemplateError(line, f"unexpected {_first_token(rest)} in define clause")
        stack.append(_Frame("define", line, 0))
        scope[:] = ["$"]
    elif keyword in ("block", "template"):
        m = re.match(r'^("(?:\\.|[^"\\])*"|`[^`]*`)', rest)
        if not m:
            raise _TemplateError(line, f"unexpected {_first_token(rest)} in {keyword} clause")
        check_pipeline(rest[m.end() :], keyword, required=False)
        if keyword == "block":
            stack.append(_Frame("block", line, len(scope)))
    elif keyword in ("break", "continue"):
        if not any(f.kind == "range" for f in stack):
            raise _TemplateError(line, f"{{{{{keyword}}}}} outside {{{{range}}}}")
    else:
        check_pipeline(body, "command", required=True)


def _first_token(text: str) -> str:
    token = text.strip().split(None, 1)
    return _go_quote(token[0]) if token else "<eof>"


# ============================================================================================ YAML decoding


class _DecodeError(Exception):
    pass


def _compose(text: str) -> yaml.Node | None:
    """The first YAML document as a node tree (``None`` when empty), like Go's ``yaml.Unmarshal``."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_node() if loader.check_node() else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise _DecodeError(f"yaml: {where}{e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise _DecodeError(f"yaml: {e}") from None
    return node


_NULL = "tag:yaml.org,2002:null"
_KIND = {yaml.ScalarNode: "!!str", yaml.SequenceNode: "!!seq", yaml.MappingNode: "!!map"}


def _is_null(node: yaml.Node | None) -> bool:
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL)


def _type_error(node: yaml.Node | None, target: str) -> _DecodeError:
    assert node is not None  # callers test _is_null() first: a null is never a type error
    kind = _KIND.get(type(node), "!!str")
    if isinstance(node, yaml.ScalarNode):
        kind = "!!" + node.tag.rsplit(":", 1)[-1]
        return _DecodeError(
            f"yaml: unmarshal errors:\n  line {node.start_mark.line + 1}: cannot unmarshal {kind} "
            f"`{node.value}` into {target}"
        )
    return _DecodeError(
        f"yaml: unmarshal errors:\n  line {node.start_mark.line + 1}: cannot unmarshal {kind} into {target}"
    )


def _pairs(node: yaml.Node | None, target: str) -> list[tuple[str, yaml.Node, int]]:
    """Key/value pairs of a mapping node (null → empty); duplicate keys are an error like in yaml.v3."""
    if _is_null(node):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise _type_error(node, target)
    seen: dict[str, int] = {}
    out = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _type_error(key_node, "string")
        key = key_node.value
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DecodeError(f'yaml: line {line}: mapping key "{key}" already defined at line {seen[key]}')
        seen[key] = line
        out.append((key, value_node, line))
    return out


def _string(node: yaml.Node | None) -> str:
    if _is_null(node):
        return ""
    if not isinstance(node, yaml.ScalarNode):
        raise _type_error(node, "string")
    return node.value


def _duration(node: yaml.Node | None) -> int:
    text = _string(node)
    if _is_null(node):
        return 0
    try:
        return parse_prometheus_duration(text)
    except ValueError as e:
        raise _DecodeError(str(e)) from None


def _bool(node: yaml.Node | None) -> bool:
    text = _string(node)
    if _is_null(node):
        return False
    lowered = text.lower()
    if lowered in ("true", "yes", "on", "y"):
        return True
    if lowered in ("false", "no", "off", "n"):
        return False
    raise _type_error(node, "bool")


def _int(node: yaml.Node | None) -> int:
    text = _string(node)
    if _is_null(node):
        return 0
    try:
        return int(text, 0)
    except ValueError:
        raise _type_error(node, "int") from None


def _string_map(node: yaml.Node | None) -> dict[str, str]:
    return {key: _string(value) for key, value, _ in _pairs(node, "map[string]string")}


def _string_list(node: yaml.Node | None) -> list[str]:
    if _is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise _type_error(node, "[]string")
    return [_string(item) for item in node.value]


# ============================================================================================ rule groups


@dataclass
class _RuleIn:
    record: str = ""
    alert: str = ""
    expr: str = ""
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class _GroupIn:
    name: str = ""
    interval_ms: int = 0
    query_offset_ms: int | None = None
    evaluation_delay_ms: int | None = None
    limit: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    source_tenants: list[str] = field(default_factory=list)
    align_evaluation_time_on_interval: bool = False
    rules: list[_RuleIn] = field(default_factory=list)


def _decode_group(text: str) -> _GroupIn:
    """Non-strict decode of one rule group (unknown keys ignored), like Mimir's ``yaml.Unmarshal``."""
    root = _compose(text)
    group = _GroupIn()
    for key, value, _ in _pairs(root, "rulefmt.RuleGroup"):
        if key == "name":
            group.name = _string(value)
        elif key == "interval":
            group.interval_ms = _duration(value)
        elif key == "query_offset":
            group.query_offset_ms = None if _is_null(value) else _duration(value)
        elif key == "evaluation_delay":
            group.evaluation_delay_ms = None if _is_null(value) else _duration(value)
        elif key == "limit":
            group.limit = _int(value)
        elif key == "labels":
            group.labels = _string_map(value)
        elif key == "source_tenants":
            group.source_tenants = _string_list(value)
        elif key == "align_evaluation_time_on_interval":
            group.align_evaluation_time_on_interval = _bool(value)
        elif key == "rules":
            if _is_null(value):
                continue
            if not isinstance(value, yaml.SequenceNode):
                raise _type_error(value, "[]rulefmt.RuleNode")
            group.rules = [_decode_rule(item) for item in value.value]
    return group


def _decode_rule(node: yaml.Node) -> _RuleIn:
    rule = _RuleIn()
    for key, value, _ in _pairs(node, "rulefmt.RuleNode"):
        if key == "record":
            rule.record = _string(value)
        elif key == "alert":
            rule.alert = _string(value)
        elif key == "expr":
            rule.expr = _string(value)
        elif key == "for":
            rule.for_ms = _duration(value)
        elif key == "keep_firing_for":
            rule.keep_firing_for_ms = _duration(value)
        elif key == "labels":
            rule.labels = _string_map(value)
        elif key == "annotations":
            rule.annotations = _string_map(value)
    return rule


_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_PROMETHEUS_TEMPLATE_VARS = ("$", "$labels", "$externalLabels", "$externalURL", "$value")


def _validate_rule(rule: _RuleIn) -> list[str]:
    """Prometheus ``rulefmt`` ``Rule.Validate`` (legacy name validation), in its order."""
    errs: list[str] = []
    if rule.record and rule.alert:
        errs.append("only one of 'record' and 'alert' must be set")
    if not rule.record and not rule.alert:
        errs.append("one of 'record' or 'alert' must be set")
    if not rule.expr:
        errs.append("field 'expr' must be set in rule")
    else:
        try:
            promql_parser.parse(rule.expr)
        except ValueError as e:
            errs.append(f"could not parse expression: {e}")
    if rule.record:
        if rule.annotations:
            errs.append("invalid field 'annotations' in recording rule")
        if rule.for_ms:
            errs.append("invalid field 'for' in recording rule")
        if rule.keep_firing_for_ms:
            errs.append("invalid field 'keep_firing_for' in recording rule")
        if not _METRIC_NAME_RE.match(rule.record):
            errs.append(f"invalid recording rule name: {rule.record}")
    for name in sorted(rule.labels):
        if not _LABEL_NAME_RE.match(name) or name == "__name__":
            errs.append(f"invalid label name: {name}")
    for name in sorted(rule.annotations):
        if not _LABEL_NAME_RE.match(name):
            errs.append(f"invalid annotation name: {name}")
    if rule.alert:
        template_name = f"__alert_{rule.alert}"
        for kind, values in (("label", rule.labels), ("annotation", rule.annotations)):
            for key in sorted(values):
                problem = check_go_template(
                    values[key], template_name, _PROMETHEUS_TEMPLATE_VARS, PROMETHEUS_TEMPLATE_FUNCTIONS
                )
                if problem:
                    errs.append(f"{kind} {_go_quote(key)}: {problem}")
    return errs


def _render_group(group: _GroupIn) -> dict[str, Any]:
    """What Mimir stores and returns: ``RuleGroupDesc`` → ``rulefmt.RuleGroup`` with omitempty fields."""
    out: dict[str, Any] = {"name": group.name}
    if group.interval_ms:
        out["interval"] = format_prometheus_duration(group.interval_ms)
    if group.query_offset_ms:
        out["query_offset"] = format_prometheus_duration(group.query_offset_ms)
    rules = []
    for rule in group.rules:
        r: dict[str, Any] = {}
        if rule.record:
            r["record"] = rule.record
        else:
            r["alert"] = rule.alert
        r["expr"] = rule.expr
        if rule.for_ms:
            r["for"] = format_prometheus_duration(rule.for_ms)
        if rule.keep_firing_for_ms:
            r["keep_firing_for"] = format_prometheus_duration(rule.keep_firing_for_ms)
        if rule.labels:
            r["labels"] = dict(sorted(rule.labels.items()))
        if rule.annotations:
            r["annotations"] = dict(sorted(rule.annotations.items()))
        rules.append(r)
    out["rules"] = rules
    if group.source_tenants:
        out["source_tenants"] = list(group.source_tenants)
    if group.evaluation_delay_ms:
        out["evaluation_delay"] = format_prometheus_duration(group.evaluation_delay_ms)
    if group.align_evaluation_time_on_interval:
        out["align_evaluation_time_on_interval"] = True
    return out


# ============================================================================================ YAML output


# libyaml's emitter where PyYAML was built with it: the pure-Python one made listing 100 rule groups cost the
# emulator (standing in for a Go server) more CPU than the client that reads them.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]  # chosen at import time
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_representer)


def _dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=10**6
    )


# ============================================================================================ Alertmanager


_TOP_LEVEL_KEYS = {
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "mute_time_intervals",
    "time_intervals",
}
_ROUTE_KEYS = {
    "receiver",
    "group_by",
    "continue",
    "match",
    "match_re",
    "matchers",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "mute_time_intervals",
    "active_time_intervals",
    "routes",
}
_RECEIVER_KEYS = {
    "name",
    "discord_configs",
    "email_configs",
    "pagerduty_configs",
    "slack_configs",
    "webhook_configs",
    "opsgenie_configs",
    "wechat_configs",
    "pushover_configs",
    "victorops_configs",
    "sns_configs",
    "telegram_configs",
    "webex_configs",
    "msteams_configs",
    "msteamsv2_configs",
    "jira_configs",
}

_ERR_PASSWORD_FILE = "setting password_file, bearer_token_file and credentials_file is not allowed"
_ERR_TLS = "setting TLS ca_file, cert_file and key_file is not allowed"
# key -> message, wherever the key appears in `global` or a receiver
_FORBIDDEN_ANYWHERE = {
    "password_file": _ERR_PASSWORD_FILE,
    "bearer_token_file": _ERR_PASSWORD_FILE,
    "credentials_file": _ERR_PASSWORD_FILE,
    "smtp_auth_password_file": "setting SMTP smtp_auth_password_file is not allowed",
    "auth_password_file": "setting SMTP auth_password_file is not allowed",
    "slack_api_url_file": "setting Slack api_url_file and global slack_api_url_file is not allowed",
    "victorops_api_key_file": "setting VictorOps api_key_file and global victorops_api_key_file is not allowed",
    "opsgenie_api_key_file": "setting OpsGenie api_key_file and global opsgenie_api_key_file is not allowed",
}
# (receiver config list, key) -> message
_FORBIDDEN_IN_RECEIVER = {
    (
        "slack_configs",
        "api_url_file",
    ): "setting Slack api_url_file and global slack_api_url_file is not allowed",
    ("victorops_configs", "api_key_file"): (
        "setting VictorOps api_key_file and global victorops_api_key_file is not allowed"
    ),
    ("opsgenie_configs", "api_key_file"): (
        "setting OpsGenie api_key_file and global opsgenie_api_key_file is not allowed"
    ),
    ("pagerduty_configs", "service_key_file"): "setting PagerDuty service_key_file is not allowed",
    ("pagerduty_configs", "routing_key_file"): "setting PagerDuty routing_key_file is not allowed",
    ("pushover_configs", "user_key_file"): "setting Pushover user_key_file is not allowed",
    ("pushover_configs", "token_file"): "setting Pushover token_file is not allowed",
    ("telegram_configs", "bot_token_file"): "setting Telegram bot_token_file is not allowed",
    ("webhook_configs", "url_file"): "setting Webhook url_file is not allowed",
    ("discord_configs", "webhook_url_file"): "setting Discord webhook_url_file is not allowed",
    ("msteams_configs", "webhook_url_file"): "setting MSTeams webhook_url_file is not allowed",
    ("msteamsv2_configs", "webhook_url_file"): "setting MSTeamsV2 webhook_url_file is not allowed",
}
_TLS_KEYS = ("ca_file", "cert_file", "key_file", "ca", "cert", "key")


def _set(node: yaml.Node | None) -> bool:
    """A Go field counts as set when it is not the zero value."""
    if node is None or _is_null(node):
        return False
    if isinstance(node, yaml.ScalarNode):
        return node.value not in ("", "false", "False", "FALSE")
    return bool(node.value)


def _forbidden_fields(
    node: yaml.Node | None, receiver_kind: str | None, parent_key: str | None
) -> str | None:
    """First forbidden field in a ``global`` or receiver subtree (Mimir's ``validateAlertmanagerConfig``)."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problem = _forbidden_fields(item, receiver_kind, parent_key)
            if problem:
                return problem
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if _set(value):
            if key in _FORBIDDEN_ANYWHERE:
                return _FORBIDDEN_ANYWHERE[key]
            if receiver_kind and (receiver_kind, key) in _FORBIDDEN_IN_RECEIVER:
                return _FORBIDDEN_IN_RECEIVER[(receiver_kind, key)]
            if parent_key == "oauth2":
                if key == "client_secret_file":
                    return "setting OAuth2 client_secret_file is not allowed"
                if key == "proxy_url":
                    return "setting proxy_url is not allowed"
                if key == "proxy_from_environment":
                    return "setting proxy_from_environment is not allowed"
            if parent_key in ("tls_config", "smtp_tls_config") and key in _TLS_KEYS:
                return _ERR_TLS
        kind = key if key.endswith("_configs") else receiver_kind
        problem = _forbidden_fields(value, kind, key)
        if problem:
            return problem
    return None


def _go_base(name: str) -> str:
    """Go's ``filepath.Base``."""
    if name == "":
        return "."
    stripped = name.rstrip("/")
    if stripped == "":
        return "/"
    return stripped.rsplit("/", 1)[-1]


def _template_name_error(name: str) -> str | None:
    if _go_base(name) != name or name in (".", ".."):
        return f"invalid template name {_go_quote(name)}: the template name cannot contain any path"
    return None


def _unknown_fields(pairs: list[tuple[str, yaml.Node, int]], known: set[str]) -> list[str]:
    return [
        f"  line {line}: field {key} not found in type config.plain"
        for key, _, line in pairs
        if key not in known
    ]


def _load_alertmanager_config(raw: str) -> dict[str, Any]:
    """A subset of upstream ``config.Load``: strict keys (top level, routes, receivers) and the
    semantic checks a publisher trips over. Returns a summary; raises ``_DecodeError``."""
    root = _compose(raw)
    top = _pairs(root, "config.plain")
    unknown = _unknown_fields(top, _TOP_LEVEL_KEYS)
    sections = {key: value for key, value, _ in top}

    routes: list[tuple[yaml.Node | None, bool]] = []

    def walk_route(node: yaml.Node | None, is_root: bool) -> None:
        pairs = _pairs(node, "config.plain")
        unknown.extend(_unknown_fields(pairs, _ROUTE_KEYS))
        routes.append((node, is_root))
        for key, value, _ in pairs:
            if key == "routes" and not _is_null(value):
                if not isinstance(value, yaml.SequenceNode):
                    raise _type_error(value, "[]*config.Route")
                for child in value.value:
                    walk_route(child, False)

    route_node = sections.get("route")
    if not _is_null(route_node):
        walk_route(route_node, True)
    receivers = sections.get("receivers")
    receiver_pairs: list[list[tuple[str, yaml.Node, int]]] = []
    if not _is_null(receivers):
        if not isinstance(receivers, yaml.SequenceNode):
            raise _type_error(receivers, "[]config.Receiver")
        for item in receivers.value:
            pairs = _pairs(item, "config.plain")
            unknown.extend(_unknown_fields(pairs, _RECEIVER_KEYS))
            receiver_pairs.append(pairs)
    if unknown:
        raise _DecodeError("yaml: unmarshal errors:\n" + "\n".join(unknown))

    global_pairs = {k: v for k, v, _ in _pairs(sections.get("global"), "config.plain")}
    has_global_slack = _set(global_pairs.get("slack_api_url")) or _set(global_pairs.get("slack_api_url_file"))
    names: list[str] = []
    for pairs in receiver_pairs:
        fields = {k: v for k, v, _ in pairs}
        name = _string(fields.get("name"))
        if not name:
            raise _DecodeError("missing name in receiver")
        if name in names:
            raise _DecodeError(f"notification config name {_go_quote(name)} is not unique")
        names.append(name)
        slack = fields.get("slack_configs")
        if isinstance(slack, yaml.SequenceNode):
            for cfg in slack.value:
                cfg_fields = {k: v for k, v, _ in _pairs(cfg, "config.plain")}
                if not (
                    _set(cfg_fields.get("api_url"))
                    or _set(cfg_fields.get("api_url_file"))
                    or has_global_slack
                ):
                    raise _DecodeError("no Slack API URL nor App token set either inline or in a file")
        webhooks = fields.get("webhook_configs")
        if isinstance(webhooks, yaml.SequenceNode):
            for cfg in webhooks.value:
                cfg_fields = {k: v for k, v, _ in _pairs(cfg, "config.plain")}
                if not (_set(cfg_fields.get("url")) or _set(cfg_fields.get("url_file"))):
                    raise _DecodeError("one of url or url_file must be configured")

    if not routes:
        raise _DecodeError("no route provided in config")
    root_fields = {k: v for k, v, _ in _pairs(route_node, "config.plain")}
    if not _string(root_fields.get("receiver")):
        raise _DecodeError("root route must specify a default receiver")
    if any(_set(root_fields.get(k)) for k in ("match", "match_re", "matchers")):
        raise _DecodeError("root route must not have any matchers")
    if _set(root_fields.get("mute_time_intervals")):
        raise _DecodeError("root route must not have any mute time intervals")
    if _set(root_fields.get("active_time_intervals")):
        raise _DecodeError("root route must not have any active time intervals")

    intervals: set[str] = set()
    for section in ("time_intervals", "mute_time_intervals"):
        node = sections.get(section)
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                intervals.add(_string(dict((k, v) for k, v, _ in _pairs(item, "config.plain")).get("name")))
    for node, _ in routes:
        fields = {k: v for k, v, _ in _pairs(node, "config.plain")}
        receiver = _string(fields.get("receiver"))
        if receiver and receiver not in names:
            raise _DecodeError(f"undefined receiver {_go_quote(receiver)} used in route")
        for key in ("mute_time_intervals", "active_time_intervals"):
            for interval in _string_list(fields.get(key)):
                if interval not in intervals:
                    raise _DecodeError(f"undefined time interval {_go_quote(interval)} used in route")

    forbidden = _forbidden_fields(sections.get("global"), None, "global")
    if forbidden is None and isinstance(receivers, yaml.SequenceNode):
        forbidden = _forbidden_fields(receivers, None, "receivers")
    return {"templates": _string_list(sections.get("templates")), "forbidden": forbidden}


# ============================================================================================ emulator


@dataclass
class _Tenant:
    rules: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # ns -> name -> group
    alertmanager: dict[str, Any] | None = None


class MimirEmulator(HTTPEmulator):
    """In-process Mimir ruler config API + Alertmanager config API, speaking real HTTP.

    Args:
        basic_auth: ``(user, password)`` required on every request when given (401 otherwise).
        prefix: the Prometheus HTTP prefix of the ruler routes (default ``/prometheus``).
        max_rules_per_group: per-tenant rules-per-group limit (Mimir default 20; 0 = unlimited).
        max_rule_groups_per_tenant: per-tenant rule-group limit (Mimir default 70; 0 = unlimited).
        federation_enabled: accept ``source_tenants`` (Mimir default: off → 400).
        max_config_size_bytes: Alertmanager payload limit (0 = unlimited, Mimir's default).
        max_templates: Alertmanager template count limit (0 = unlimited).
        max_template_size_bytes: Alertmanager per-template size limit (0 = unlimited).
        port: serve on this port (0: an ephemeral one).
    """

    def __init__(
        self,
        *,
        basic_auth: tuple[str, str] | None = None,
        prefix: str = "/prometheus",
        max_rules_per_group: int = 20,
        max_rule_groups_per_tenant: int = 70,
        federation_enabled: bool = False,
        max_config_size_bytes: int = 0,
        max_templates: int = 0,
        max_template_size_bytes: int = 0,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.basic_auth = basic_auth
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.max_rules_per_group = max_rules_per_group
        self.max_rule_groups_per_tenant = max_rule_groups_per_tenant
        self.federation_enabled = federation_enabled
        self.max_config_size_bytes = max_config_size_bytes
        self.max_templates = max_templates
        self.max_template_size_bytes = max_template_size_bytes
        self._tenants: dict[str, _Tenant] = {}
        self._protected: set[tuple[str | None, str]] = set()
        base = (*(s for s in self.prefix.split("/") if s), "config", "v1", "rules")
        self._routes: list[Route] = [
            ("GET", base, self._get_all),
            ("GET", (*base, "{}"), self._get_namespace),
            ("POST", (*base, "{}"), self._post_group),
            ("DELETE", (*base, "{}"), self._delete_namespace),
            ("GET", (*base, "{}", "{}"), self._get_group),
            ("DELETE", (*base, "{}", "{}"), self._delete_group),
            ("GET", ("api", "v1", "alerts"), self._am_get),
            ("POST", ("api", "v1", "alerts"), self._am_post),
            ("DELETE", ("api", "v1", "alerts"), self._am_delete),
        ]

    # ================================================================================ test helpers

    def tenants(self) -> list[str]:
        with self.lock:
            return sorted(self._tenants)

    def rules(self, tenant: str) -> dict[str, list[dict[str, Any]]]:
        """``{namespace: [group, …]}`` as ``GET <prefix>/config/v1/rules`` would return it (a copy)."""
        with self.lock:
            state = self._tenants.get(tenant)
            if state is None:
                return {}
            return {ns: self._sorted_groups(state, ns) for ns in sorted(state.rules)}

    def rule_group(self, tenant: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            state = self._tenants.get(tenant)
            group = state.rules.get(namespace, {}).get(name) if state else None
            return copy.deepcopy(group)

    def alertmanager_config(self, tenant: str) -> dict[str, Any] | None:
        """``{"template_files": {...}, "alertmanager_config": "<raw YAML>"}`` or ``None`` (a copy)."""
        with self.lock:
            state = self._tenants.get(tenant)
            return copy.deepcopy(state.alertmanager) if state and state.alertmanager is not None else None

    def seed_rule_group(self, tenant: str, namespace: str, group: dict[str, Any] | str) -> dict[str, Any]:
        """Store a group directly (decoded and normalised as a POST would be, but not validated)."""
        text = group if isinstance(group, str) else yaml.safe_dump(group, sort_keys=False)
        rendered = _render_group(_decode_group(text))
        with self.lock:
            self._tenant(tenant).rules.setdefault(namespace, {})[rendered["name"]] = rendered
        return copy.deepcopy(rendered)

    def seed_alertmanager_config(
        self, tenant: str, config: str | dict[str, Any], template_files: dict[str, str] | None = None
    ) -> None:
        """Store an Alertmanager config directly, without validation."""
        raw = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        with self.lock:
            self._tenant(tenant).alertmanager = {
                "template_files": dict(template_files or {}),
                "alertmanager_config": raw,
            }

    def protect_namespace(self, tenant: str | None, namespace: str) -> None:
        """Make writes to ``namespace`` answer 403 (``tenant=None``: for every tenant), unless the request
        carries ``X-Mimir-Ruler-Override-Namespace-Protection: <namespace>``."""
        with self.lock:
            self._protected.add((tenant, namespace))

    # ================================================================================ dispatch

    def handle(self, request: Request) -> Response:
        if self.basic_auth is not None and not self._basic_ok(request):
            return Response.text(401, "unauthorized", {"WWW-Authenticate": 'Basic realm="mimir"'})
        tenant = (request.header("x-scope-orgid") or "").strip()
        if not tenant:
            return Response.text(401, NO_ORG_ID)
        segments = request.segments
        if segments[:4] == ["alertmanager", "api", "v1", "alerts"]:
            return Response.text(410, V1_GONE)
        handler, captured, path_known = match_route(self._routes, request.method, segments)
        if handler is None:
            if path_known:
                return Response.text(405, "Method Not Allowed")
            return Response.text(404, "404 page not found")
        return handler(request, tenant, *captured)

    def _basic_ok(self, request: Request) -> bool:
        import base64
        import binascii

        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (user, password) == tuple(self.basic_auth or ())

    def _tenant(self, tenant: str) -> _Tenant:
        return self._tenants.setdefault(tenant, _Tenant())

    def _is_protected(self, tenant: str, namespace: str) -> bool:
        return (tenant, namespace) in self._protected or (None, namespace) in self._protected

    def _protection_check(self, request: Request, tenant: str, namespace: str) -> Response | None:
        if not self._is_protected(tenant, namespace):
            return None
        override = request.header(OVERRIDE_PROTECTION_HEADER.lower()) or ""
        if namespace in {v.strip() for v in override.split(",")}:
            return None
        return Response.text(403, PROTECTED)

    def _protected_header(self, tenant: str, namespaces: Iterable[str]) -> dict[str, str]:
        protected = sorted(ns for ns in namespaces if self._is_protected(tenant, ns))
        return {PROTECTED_NAMESPACES_HEADER: ",".join(protected)} if protected else {}

    @staticmethod
    def _sorted_groups(state: _Tenant, namespace: str) -> list[dict[str, Any]]:
        groups = state.rules.get(namespace, {})
        return [copy.deepcopy(groups[name]) for name in sorted(groups)]

    # ================================================================================ ruler

    def _get_all(self, request: Request, tenant: str) -> Response:
        state = self._tenant(tenant)
        payload = {ns: self._sorted_groups(state, ns) for ns in sorted(state.rules)}
        return Response.yaml(200, _dump(payload), self._protected_header(tenant, payload))

    def _get_namespace(self, request: Request, tenant: str, namespace: str) -> Response:
        state = self._tenant(tenant)
        payload = {namespace: self._sorted_groups(state, namespace)} if namespace in state.rules else {}
        return Response.yaml(200, _dump(payload), self._protected_header(tenant, payload))

    def _get_group(self, request: Request, tenant: str, namespace: str, name: str) -> Response:
        group = self._tenant(tenant).rules.get(namespace, {}).get(name)
        if group is None:
            return Response.text(404, GROUP_NOT_FOUND)
        return Response.yaml(200, _dump(group), self._protected_header(tenant, [namespace]))

    def _post_group(self, request: Request, tenant: str, namespace: str) -> Response:
        denied = self._protection_check(request, tenant, namespace)
        if denied:
            return denied
        try:
            group = _decode_group(request.text())
        except _DecodeError:
            return Response.text(400, DECODE_ERROR)
        errors = self._validate_group(group)
        if errors:
            return Response.text(400, ", ".join(errors))
        if self.max_rules_per_group > 0 and len(group.rules) > self.max_rules_per_group:
            return Response.text(
                400,
                f"per-user rules per rule group limit (limit: {self.max_rules_per_group} "
                f"actual: {len(group.rules)}) exceeded",
            )
        state = self._tenant(tenant)
        if self.max_rule_groups_per_tenant > 0:
            # CreateRuleGroup counts every group of the tenant plus one, the group it replaces included.
            actual = sum(len(groups) for groups in state.rules.values()) + 1
            if actual > self.max_rule_groups_per_tenant:
                return Response.text(
                    400,
                    f"per-user rule groups limit (limit: {self.max_rule_groups_per_tenant} actual: {actual}) "
                    "exceeded",
                )
        state.rules.setdefault(namespace, {})[group.name] = _render_group(group)
        return Response.json(202, SUCCESS_BODY)

    def _validate_group(self, group: _GroupIn) -> list[str]:
        if not group.name:
            return ["invalid rules configuration: rule group name must not be empty"]
        if not group.rules:
            return [f"invalid rules configuration: rule group '{group.name}' has no rules"]
        errors: list[str] = []
        if group.source_tenants and not self.federation_enabled:
            errors.append(
                f"invalid rules configuration: rule group '{group.name}' is a federated rule group, but rules "
                "federation is disabled; please contact your service administrator to have it enabled"
            )
        if (
            group.query_offset_ms is not None
            and group.evaluation_delay_ms is not None
            and group.query_offset_ms != group.evaluation_delay_ms
        ):
            errors.append(
                f"invalid rules configuration: rule group '{group.name}' has both query_offset and (deprecated) "
                "evaluation_delay set, but to different values; please remove the deprecated evaluation_delay "
                "and use query_offset instead"
            )
        for index, rule in enumerate(group.rules):
            rule_name = rule.alert or rule.record
            for err in _validate_rule(rule):
                errors.append(f"group {_go_quote(group.name)}, rule {index}, {_go_quote(rule_name)}: {err}")
        return errors

    def _delete_group(self, request: Request, tenant: str, namespace: str, name: str) -> Response:
        denied = self._protection_check(request, tenant, namespace)
        if denied:
            return denied
        state = self._tenant(tenant)
        groups = state.rules.get(namespace, {})
        if name not in groups:
            return Response.text(404, GROUP_NOT_FOUND)
        del groups[name]
        if not groups:
            del state.rules[namespace]
        return Response.json(202, SUCCESS_BODY)

    def _delete_namespace(self, request: Request, tenant: str, namespace: str) -> Response:
        denied = self._protection_check(request, tenant, namespace)
        if denied:
            return denied
        state = self._tenant(tenant)
        if namespace not in state.rules:
            return Response.text(404, NAMESPACE_NOT_FOUND)
        del state.rules[namespace]
        return Response.json(202, SUCCESS_BODY)

    # ================================================================================ alertmanager

    def _am_get(self, request: Request, tenant: str) -> Response:
        config = self._tenant(tenant).alertmanager
        if config is None:
            return Response.text(404, AM_NOT_FOUND)
        payload = {
            "template_files": dict(config["template_files"]),
            "alertmanager_config": config["alertmanager_config"],
        }
        return Response.yaml(200, _dump(payload))

    def _am_post(self, request: Request, tenant: str) -> Response:
        if self.max_config_size_bytes > 0 and len(request.body) > self.max_config_size_bytes:
            return Response.text(
                400, f"Alertmanager configuration is too big, limit: {self.max_config_size_bytes} bytes"
            )
        try:
            template_files, raw = self._decode_user_config(request.text())
        except _DecodeError as e:
            return Response.text(400, f"error marshalling YAML Alertmanager config: {e}")
        problem = self._validate_user_config(raw, template_files)
        if problem:
            return Response.text(400, f"error validating Alertmanager config: {problem}")
        self._tenant(tenant).alertmanager = {"template_files": template_files, "alertmanager_config": raw}
        return Response.empty(201)

    def _am_delete(self, request: Request, tenant: str) -> Response:
        self._tenant(tenant).alertmanager = None
        return Response.empty(200)

    @staticmethod
    def _decode_user_config(text: str) -> tuple[dict[str, str], str]:
        root = _compose(text)
        template_files: dict[str, str] = {}
        raw = ""
        for key, value, _ in _pairs(root, "alertmanager.UserConfig"):
            if key == "template_files":
                template_files = _string_map(value)
            elif key == "alertmanager_config":
                raw = _string(value)
        return template_files, raw

    def _validate_user_config(self, raw: str, template_files: dict[str, str]) -> str | None:
        """Mimir's ``validateUserConfig``, in its order; returns the error text or ``None``."""
        if raw == "":
            return AM_EMPTY
        try:
            loaded = _load_alertmanager_config(raw)
        except _DecodeError as e:
            return str(e)
        if loaded["forbidden"]:
            return loaded["forbidden"]
        for name in loaded["templates"]:
            problem = _template_name_error(name)
            if problem:
                return problem
        if self.max_template_size_bytes > 0:
            for name in sorted(template_files):
                size = len(template_files[name].encode("utf-8"))
                if size > self.max_template_size_bytes:
                    return f"template {name} is too big: {size} bytes (limit: {self.max_template_size_bytes} bytes)"
        if self.max_templates > 0 and len(template_files) > self.max_templates:
            return f"too many templates in the configuration: {len(template_files)} (limit: {self.max_templates})"
        for name in template_files:
            problem = _template_name_error(name)
            if problem:
                return problem
        for name in sorted(template_files):
            problem = check_go_template(template_files[name], name, functions=ALERTMANAGER_TEMPLATE_FUNCTIONS)
            if problem:
                return problem
        return None
