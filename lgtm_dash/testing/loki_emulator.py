"""A stateful in-process emulator of Loki's query API for label names, label values and series.

Each behaviour is read in grafana/loki and listed, with its citation, in docs/server-contract.md under
"Loki query API":

* tenant: with auth enabled (Loki's multi-tenant mode) every request needs ``X-Scope-OrgID``; without it
  dskit's ``AuthenticateUser`` answers **401** ``no org id`` (text). Each tenant sees only its streams.
* routes (``pkg/loki/modules.go``, GET and POST): ``/loki/api/v1/labels`` (and its alias ``/loki/api/v1/label``),
  ``/loki/api/v1/label/<name>/values``, ``/loki/api/v1/series``. Parameters come from the query string and,
  for POST, the form body (Go's ``r.Form``).
* ``start``/``end`` (``pkg/loghttp/params.go``, ``bounds``/``parseTimestamp``): default now-1h and now; a
  value with a ``.`` is float Unix seconds; an integer of at most 10 digits is Unix seconds, longer is Unix
  nanoseconds; else RFC3339Nano; anything else is **400** with the parse error.
* labels and label values (``pkg/loghttp/labels.go``, ``LabelResponse``): ``{"status":"success","data":[...]}``
  with ``data`` **omitted when empty**; label values accept ``query``, a stream selector that narrows them.
* series (``pkg/loghttp/series.go``, ``ParseSeriesQuery``): ``match[]`` and ``match`` are merged; a single
  ``{}`` means no matcher (every stream); every group must parse and hold at least one matcher, else
  **400** with the parse error (``Match``). The answer is ``{"status":"success","data":[{...}]}`` with
  ``data`` always a list (``pkg/util/marshal``, ``WriteSeriesResponseJSON``); a stream is returned when
  it matches any group.
* errors are written by ``serverutil.WriteError`` (``pkg/util/server/error.go``): text/plain, the message
  without a trailing newline.

A stream is in a window when its first and last entry times overlap ``[start, end]`` (Loki answers these
questions from its index, which is kept per chunk time range).

The ruler API (``docs/server-contract.md``, "Loki ruler API"; ``pkg/ruler/base/api.go``, routes in
``pkg/loki/modules.go`` ``initRuler``): ``/loki/api/v1/rules[/{namespace}[/{group}]]`` (and the legacy
``/api/prom/rules`` aliases) store rule groups per tenant the way Loki's ``rulespb`` does and render them back the
way ``FromProto`` + yaml.v3 do, so a GET shows what a real Loki shows: durations canonical (``60s`` → ``1m``), zero
durations and empty maps omitted, label and annotation maps sorted, and what ``RuleGroupDesc``/``RuleDesc`` have no
field for dropped (``keep_firing_for``, ``query_offset``, group ``labels``, unknown keys). A POST is validated like
``pkg/ruler/compat.go`` ``ValidateGroups`` (LogQL parsed; a log query is accepted, as ``syntax.ParseExpr`` does).
``/prometheus/api/v1/rules`` lists the stored groups in the Prometheus JSON shape, never evaluated.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import yaml

from .faults import HTTPEmulator, Request, Response, Route, match_route

# Go-compatible decoding shared with the Mimir emulator: both stand in for Go's yaml.v3, Prometheus' model.Duration
# and text/template, not for each other.
from .mimir_emulator import (
    PROMETHEUS_TEMPLATE_FUNCTIONS,
    _decode_group,
    _DecodeError,
    _dump,
    _go_quote,
    check_go_template,
    format_prometheus_duration,
    parse_prometheus_duration,
)

__all__ = ["LokiEmulator", "LokiStream", "parse_stream_selector"]

NO_ORG_ID = "no org id"
DEFAULT_SINCE_NS = 3600 * 1_000_000_000  # defaultSince = 1h


@dataclass(frozen=True)
class LokiStream:
    labels: tuple[tuple[str, str], ...]
    first_ns: int
    last_ns: int

    def as_dict(self) -> dict[str, str]:
        return dict(self.labels)


class SelectorError(ValueError):
    pass


# ============================================================================ stream selectors
# Own parser (not lgtm_dash.lint.logql): the emulator stands in for Loki; sharing would make tests circular.

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*(,|})')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse_stream_selector(text: str) -> list[tuple[str, str, str]]:
    """`{a="x", b=~"y.*"}` → [(name, op, value)]; raises SelectorError like Loki's parse errors."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        raise SelectorError(f"parse error at line 1, col 1: syntax error: unexpected {stripped[:1] or 'end'}")
    rest, matchers = stripped[1:], []
    if rest.strip() == "}":
        return []
    while rest:
        match = _MATCHER.match(rest)
        if match is None:
            raise SelectorError(f"parse error : syntax error: unexpected input near {rest.strip()[:20]!r}")
        name, op, value, end = match.groups()
        matchers.append((name, op, _unquote(value)))
        rest = rest[match.end() :]
        if end == "}":
            if rest.strip():
                raise SelectorError(f"parse error : syntax error: unexpected {rest.strip()[:20]!r}")
            return matchers
    raise SelectorError("parse error : syntax error: unexpected end of input")


def _matches(matchers: list[tuple[str, str, str]], labels: dict[str, str]) -> bool:
    for name, op, value in matchers:
        actual = labels.get(name, "")
        if op == "=":
            ok = actual == value
        elif op == "!=":
            ok = actual != value
        else:
            found = re.fullmatch(value, actual, re.DOTALL) is not None
            ok = found if op == "=~" else not found
        if not ok:
            return False
    return True


def _timestamp(value: str | None, default: int) -> int:
    """Unix nanoseconds, as pkg/loghttp/params.go parseTimestamp reads them."""
    if value is None or value == "":
        return default
    if "." in value:
        try:
            return round(float(value) * 1000) * 1_000_000
        except ValueError:
            pass
    try:
        number = int(value)
    except ValueError:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1_000_000_000)
        except ValueError:
            raise ValueError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
    return number * 1_000_000_000 if len(value) <= 10 else number


# ============================================================================ ruler

NO_RULE_GROUPS = "no rule groups found"  # ListRules, pkg/ruler/base/api.go ErrNoRuleGroups
GROUP_NOT_FOUND = "group does not exist"  # pkg/ruler/rulestore/store.go
NAMESPACE_NOT_FOUND = "group namespace does not exist"
DECODE_ERROR = "unable to decoded rule group"  # sic, ErrBadRuleGroup
ACCEPTED_BODY = {"status": "success", "data": None, "errorType": "", "error": ""}
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# testTemplateParsing defines these three before parsing (not $externalURL, unlike Prometheus), and parses with
# Prometheus' template functions (template.NewTemplateExpander).
_TEMPLATE_VARIABLES = ("$", "$labels", "$externalLabels", "$value")


@dataclass
class _Rule:
    record: str = ""
    alert: str = ""
    expr: str = ""
    for_ms: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class _Group:
    """What ``rulespb.RuleGroupDesc`` keeps of a posted ``rulefmt.RuleGroup``: name, interval, limit, rules."""

    name: str = ""
    interval_ms: int = 0
    limit: int = 0
    rules: list[_Rule] = field(default_factory=list)


def _decode_rule_group(text: str) -> _Group:
    """yaml.v3 ``Unmarshal`` into ``rulefmt.RuleGroup`` (not strict: unknown keys ignored), then ``ToProto``: what
    ``RuleGroupDesc`` has a field for. Decoded like Mimir's body (the same Go decoder and ``rulefmt`` types)."""
    decoded = _decode_group(text)
    return _Group(
        name=decoded.name,
        interval_ms=decoded.interval_ms,
        limit=decoded.limit,
        rules=[
            _Rule(r.record, r.alert, r.expr, r.for_ms, dict(r.labels), dict(r.annotations))
            for r in decoded.rules
        ],
    )


def _parse_logql(expr: str) -> str | None:
    """Loki's ``syntax.ParseExpr``: any expression, log queries included; the error text or None.

    The emulator parses with lgtm-dash's LogQL grammar, which tests/test_logql_corpus.py holds to Loki's own parser
    test cases; its error wording is not Loki's.
    """
    from ..lint.logql import LogQLSyntaxError, parse_logql

    try:
        parse_logql(expr)
    except LogQLSyntaxError as err:
        return f"parse error: {err.message}"
    return None


def _validate_rule(rule: _Rule, group: str) -> str | None:
    """``validateRuleNode`` (pkg/ruler/compat.go): the first problem of one rule, or None."""
    if rule.record and rule.alert:
        return "only one of 'record' and 'alert' must be set"
    if not rule.record and not rule.alert:
        return "one of 'record' or 'alert' must be set"
    if not rule.expr:
        return "field 'expr' must be set in rule"
    problem = _parse_logql(rule.expr)
    if problem:
        kind, name = ("record", rule.record) if rule.record else ("alert", rule.alert)
        return f"could not parse expression for {kind} '{name}' in group '{group}': {problem}"
    if rule.record:
        if rule.annotations:
            return "invalid field 'annotations' in recording rule"
        if rule.for_ms:
            return "invalid field 'for' in recording rule"
        if not _METRIC_NAME.match(rule.record):
            return f"invalid recording rule name: {rule.record}"
    for name in sorted(rule.labels):  # a Go map: Loki reports whichever comes first
        if not _LABEL_NAME.match(name) or name == "__name__":
            return f"invalid label name: {name}"
    for name in sorted(rule.annotations):
        if not _LABEL_NAME.match(name):
            return f"invalid annotation name: {name}"
    if rule.alert:
        for kind, values in (("label", rule.labels), ("annotation", rule.annotations)):
            for key in sorted(values):
                problem = check_go_template(
                    values[key], f"__alert_{rule.alert}", _TEMPLATE_VARIABLES, PROMETHEUS_TEMPLATE_FUNCTIONS
                )
                if problem:
                    return f"{kind} {_go_quote(key)}: {problem}"
    return None


def _validate_group(group: _Group) -> list[str]:
    """``ValidateGroups`` for the one posted group: every problem (a group without rules is accepted)."""
    errors = ["group 0: Groupname must not be empty"] if not group.name else []
    for rule in group.rules:
        problem = _validate_rule(rule, group.name)
        if problem:
            errors.append(problem)
    return errors


def _render_group(group: _Group) -> dict[str, Any]:
    """``rulespb.FromProto`` marshalled by yaml.v3: omitempty fields left out, maps sorted."""
    out: dict[str, Any] = {"name": group.name}
    if group.interval_ms:
        out["interval"] = format_prometheus_duration(group.interval_ms)
    if group.limit:
        out["limit"] = group.limit
    rules = []
    for rule in group.rules:
        rendered: dict[str, Any] = {"record": rule.record} if rule.record else {"alert": rule.alert}
        rendered["expr"] = rule.expr
        if rule.for_ms:
            rendered["for"] = format_prometheus_duration(rule.for_ms)
        if rule.labels:
            rendered["labels"] = dict(sorted(rule.labels.items()))
        if rule.annotations:
            rendered["annotations"] = dict(sorted(rule.annotations.items()))
        rules.append(rendered)
    out["rules"] = rules
    return out


def _prometheus_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One stored rule in ``/prometheus/api/v1/rules``' shape, as a ruler that has not evaluated it yet."""
    common = {
        "name": rule.get("alert") or rule.get("record"),
        "query": rule["expr"],
        "labels": rule.get("labels") or {},
        "health": "unknown",
        "lastError": "",
        "lastEvaluation": "0001-01-01T00:00:00Z",
        "evaluationTime": 0,
    }
    if "alert" not in rule:
        return {**common, "type": "recording"}
    duration = parse_prometheus_duration(rule.get("for", "0")) / 1000
    return {
        **common,
        "state": "inactive",
        "duration": duration,
        "annotations": rule.get("annotations") or {},
        "alerts": [],
        "type": "alerting",
    }


class LokiEmulator(HTTPEmulator):
    """Loki's label and series query API over streams added with :meth:`add_stream`, and its ruler API.

    ``now_ns`` pins "now" (the default window end); ``auth_enabled=False`` is Loki's single-tenant mode
    (every request is tenant ``fake``). ``basic_auth=(user, password)`` stands for the gateway in front of Loki
    (the Helm chart's nginx with ``loki.tenants``): 401 without them. ``max_rules_per_group`` and
    ``max_rule_groups_per_tenant`` are the ruler limits (Loki's default 0: unlimited).
    """

    def __init__(
        self,
        *,
        auth_enabled: bool = True,
        now_ns: int | None = None,
        basic_auth: tuple[str, str] | None = None,
        max_rules_per_group: int = 0,
        max_rule_groups_per_tenant: int = 0,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.auth_enabled = auth_enabled
        self.now_ns = now_ns
        self.basic_auth = basic_auth
        self.max_rules_per_group = max_rules_per_group
        self.max_rule_groups_per_tenant = max_rule_groups_per_tenant
        self.streams: dict[str, dict[tuple[tuple[str, str], ...], LokiStream]] = {}
        self._rules: dict[str, dict[str, dict[str, _Group]]] = {}  # tenant -> namespace -> name -> group
        self._ruler_routes: list[Route] = []
        for prefix in (("loki", "api", "v1", "rules"), ("api", "prom", "rules")):
            self._ruler_routes += [
                ("GET", prefix, self._list_rules),
                ("GET", (*prefix, "{}"), self._list_rules),
                ("POST", (*prefix, "{}"), self._create_rule_group),
                ("DELETE", (*prefix, "{}"), self._delete_namespace),
                ("GET", (*prefix, "{}", "{}"), self._get_rule_group),
                ("DELETE", (*prefix, "{}", "{}"), self._delete_rule_group),
            ]
        self._ruler_routes += [
            ("GET", ("prometheus", "api", "v1", "rules"), self._prometheus_rules),
            ("GET", ("prometheus", "api", "v1", "alerts"), self._prometheus_alerts),
        ]
        self._routes: list[Route] = []
        for method in ("GET", "POST"):
            self._routes += [
                (method, ("loki", "api", "v1", "labels"), self._labels),
                (method, ("loki", "api", "v1", "label"), self._labels),
                (method, ("loki", "api", "v1", "label", "{}", "values"), self._label_values),
                (method, ("loki", "api", "v1", "series"), self._series),
            ]

    # state -------------------------------------------------------------------------------------------

    def add_stream(
        self, tenant: str, labels: dict[str, str], first_ns: int, last_ns: int | None = None
    ) -> None:
        """A stream of `tenant` with entries from `first_ns` to `last_ns` (Unix nanoseconds)."""
        key = tuple(sorted(labels.items()))
        with self.lock:
            known = self.streams.setdefault(tenant, {}).get(key)
            last = last_ns if last_ns is not None else first_ns
            if known is not None:
                first_ns, last = min(first_ns, known.first_ns), max(last, known.last_ns)
            self.streams[tenant][key] = LokiStream(key, first_ns, last)

    def _now(self) -> int:
        return self.now_ns if self.now_ns is not None else time.time_ns()

    def rules(self, tenant: str) -> dict[str, list[dict[str, Any]]]:
        """``{namespace: [group, ...]}`` as ``GET /loki/api/v1/rules`` renders them (a copy; ``{}`` for none)."""
        with self.lock:
            return {
                ns: [_render_group(groups[name]) for name in sorted(groups)]
                for ns, groups in sorted(self._rules.get(tenant, {}).items())
            }

    def seed_rule_group(self, tenant: str, namespace: str, group: dict[str, Any] | str) -> dict[str, Any]:
        """Store a group directly (decoded and rewritten as a POST would be, not validated); its rendering."""
        text = group if isinstance(group, str) else yaml.safe_dump(group, sort_keys=False)
        decoded = _decode_rule_group(text)
        with self.lock:
            self._rules.setdefault(tenant, {}).setdefault(namespace, {})[decoded.name] = decoded
        return _render_group(decoded)

    # dispatch ----------------------------------------------------------------------------------------

    def _basic_auth_ok(self, request: Request) -> bool:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and (user, password) == tuple(self.basic_auth or ())

    def handle(self, request: Request) -> Response:
        if self.basic_auth is not None and not self._basic_auth_ok(request):
            return Response.text(401, "401 Unauthorized", {"WWW-Authenticate": 'Basic realm="loki"'})
        if self.auth_enabled:
            tenant = request.header("X-Scope-OrgID")
            if not tenant:
                return Response.text(401, NO_ORG_ID)
        else:
            tenant = "fake"
        handler, captured, known = match_route(self._ruler_routes, request.method, request.segments)
        if handler is not None:
            return handler(request, tenant, *captured)
        if known:
            return Response.empty(405)
        handler, captured, known = match_route(self._routes, request.method, request.segments)
        if handler is None:
            return Response.empty(405) if known else Response.text(404, "404 page not found")
        form = dict(request.query)
        if request.method == "POST" and request.body:
            for key, values in parse_qs(request.text(), keep_blank_values=True).items():
                form.setdefault(key, []).extend(values)
        try:
            return handler(tenant, form, *captured)
        except (ValueError, SelectorError) as err:
            return Response(400, str(err).encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def _window(self, form: dict[str, list[str]]) -> tuple[int, int]:
        now = self._now()
        start = _timestamp(next(iter(form.get("start") or []), None), now - DEFAULT_SINCE_NS)
        end = _timestamp(next(iter(form.get("end") or []), None), now)
        return start, end

    def _in_window(self, tenant: str, form: dict[str, list[str]]) -> list[LokiStream]:
        start, end = self._window(form)
        return [s for s in self.streams.get(tenant, {}).values() if s.last_ns >= start and s.first_ns <= end]

    @staticmethod
    def _json(payload: dict[str, Any]) -> Response:
        response = Response.json(200, payload)
        response.body += b"\n"  # Go's json.Encoder ends every value with a newline
        return response

    def _labels(self, tenant: str, form: dict[str, list[str]]) -> Response:
        streams = self._in_window(tenant, form)
        names = sorted({name for s in streams for name, _ in s.labels})
        return self._json({"status": "success", **({"data": names} if names else {})})

    def _label_values(self, tenant: str, form: dict[str, list[str]], name: str) -> Response:
        streams = self._in_window(tenant, form)
        query = (form.get("query") or [""])[0]
        if query:
            matchers = parse_stream_selector(query)
            streams = [s for s in streams if _matches(matchers, s.as_dict())]
        values = sorted({value for s in streams for key, value in s.labels if key == name})
        return self._json({"status": "success", **({"data": values} if values else {})})

    def _series(self, tenant: str, form: dict[str, list[str]]) -> Response:
        streams = self._in_window(tenant, form)
        groups_text = sorted(set(form.get("match", [])) | set(form.get("match[]", [])))
        if len(groups_text) == 1 and groups_text[0].replace(" ", "") == "{}":
            groups_text = []
        groups = []
        for text in groups_text:
            matchers = parse_stream_selector(text)
            if not matchers:
                raise SelectorError(f"0 matchers in group: {text}")
            groups.append(matchers)
        found = [s.as_dict() for s in streams if not groups or any(_matches(g, s.as_dict()) for g in groups)]
        return self._json({"status": "success", "data": sorted(found, key=lambda d: sorted(d.items()))})

    # ruler -------------------------------------------------------------------------------------------

    def _list_rules(self, request: Request, tenant: str, namespace: str | None = None) -> Response:
        stored = self._rules.get(tenant, {})
        chosen = {namespace: stored[namespace]} if namespace in stored else {} if namespace else stored
        if not any(chosen.values()):
            return Response.text(404, NO_RULE_GROUPS)
        payload = {
            ns: [_render_group(groups[n]) for n in sorted(groups)] for ns, groups in sorted(chosen.items())
        }
        return Response.yaml(200, _dump(payload))

    def _get_rule_group(self, request: Request, tenant: str, namespace: str, name: str) -> Response:
        group = self._rules.get(tenant, {}).get(namespace, {}).get(name)
        if group is None:
            return Response.text(404, GROUP_NOT_FOUND)
        return Response.yaml(200, _dump(_render_group(group)))

    def _create_rule_group(self, request: Request, tenant: str, namespace: str) -> Response:
        try:
            group = _decode_rule_group(request.text())
        except _DecodeError:
            return Response.text(400, DECODE_ERROR)
        errors = _validate_group(group)
        if errors:
            return Response.text(400, ", ".join(errors))
        limit = self.max_rules_per_group
        if limit > 0 and len(group.rules) > limit:
            return Response.text(
                400,
                f"per-user rules per rule group limit (limit: {limit} actual: {len(group.rules)}) exceeded",
            )
        namespaces = self._rules.setdefault(tenant, {})
        # Counted as in CreateRuleGroup: every stored group plus this one, even when it replaces one of them.
        count = sum(len(groups) for groups in namespaces.values()) + 1
        limit = self.max_rule_groups_per_tenant
        if limit > 0 and count > limit:
            return Response.text(400, f"per-user rule groups limit (limit: {limit} actual: {count}) exceeded")
        namespaces.setdefault(namespace, {})[group.name] = group
        return Response.json(202, ACCEPTED_BODY)

    def _delete_rule_group(self, request: Request, tenant: str, namespace: str, name: str) -> Response:
        namespaces = self._rules.get(tenant, {})
        if name not in namespaces.get(namespace, {}):
            return Response.text(404, GROUP_NOT_FOUND)
        del namespaces[namespace][name]
        if not namespaces[namespace]:
            del namespaces[namespace]
        return Response.json(202, ACCEPTED_BODY)

    def _delete_namespace(self, request: Request, tenant: str, namespace: str) -> Response:
        namespaces = self._rules.get(tenant, {})
        if namespace not in namespaces:
            return Response.text(404, NAMESPACE_NOT_FOUND)
        del namespaces[namespace]
        return Response.json(202, ACCEPTED_BODY)

    def _prometheus_rules(self, request: Request, tenant: str) -> Response:
        groups = []
        for namespace, stored in sorted(self._rules.get(tenant, {}).items()):
            for name in sorted(stored):
                rendered = _render_group(stored[name])
                groups.append(
                    {
                        "name": name,
                        "file": namespace,
                        "rules": [_prometheus_rule(rule) for rule in rendered["rules"]],
                        "interval": stored[name].interval_ms / 1000,
                        "lastEvaluation": "0001-01-01T00:00:00Z",
                        "evaluationTime": 0,
                    }
                )
        return Response.json(
            200, {"status": "success", "data": {"groups": groups}, "errorType": "", "error": ""}
        )

    def _prometheus_alerts(self, request: Request, tenant: str) -> Response:
        return Response.json(200, {"status": "success", "data": {"alerts": []}, "errorType": "", "error": ""})
