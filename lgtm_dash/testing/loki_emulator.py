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
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from .faults import HTTPEmulator, Request, Response, Route, match_route

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


class LokiEmulator(HTTPEmulator):
    """Loki's label and series query API over streams added with :meth:`add_stream`.

    ``now_ns`` pins "now" (the default window end); ``auth_enabled=False`` is Loki's single-tenant mode
    (every request is tenant ``fake``).
    """

    def __init__(self, *, auth_enabled: bool = True, now_ns: int | None = None) -> None:
        super().__init__()
        self.auth_enabled = auth_enabled
        self.now_ns = now_ns
        self.streams: dict[str, dict[tuple[tuple[str, str], ...], LokiStream]] = {}
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

    # dispatch ----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if self.auth_enabled:
            tenant = request.header("X-Scope-OrgID")
            if not tenant:
                return Response.text(401, NO_ORG_ID)
        else:
            tenant = "fake"
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
        start = _timestamp((form.get("start") or [None])[0], now - DEFAULT_SINCE_NS)
        end = _timestamp((form.get("end") or [None])[0], now)
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
