"""Shared HTTP plumbing and fault injection for the in-process API emulators.

Both emulators (:mod:`.grafana_emulator`, :mod:`.mimir_emulator`) are real HTTP/1.1 servers on
``127.0.0.1`` with an ephemeral port, served by a :class:`http.server.ThreadingHTTPServer` in a daemon
thread. This module owns everything they have in common:

* :class:`Request` / :class:`Response`: what a handler receives and returns.
* :class:`Faults`: latency, "answer the next *n* matching requests with status X", "close the socket
  without answering" (the client sees a connection error), stall, trickle, echo the request back,
  redirect elsewhere, and hooks that run a callback when a matching request arrives (to change state
  between a plan and its apply, or to kill the server mid-run with :meth:`HTTPEmulator.kill`).
* :class:`RequestRecord`: one entry of the request log.
* :class:`HTTPEmulator`: the base class (server lifecycle, context manager, request log, write counter,
  fault application, a lock that serialises state changes).

A subclass implements :meth:`HTTPEmulator.handle`, which is called with the emulator lock held.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

__all__ = [
    "FaultRule",
    "Faults",
    "HTTPEmulator",
    "Request",
    "RequestRecord",
    "Response",
]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --------------------------------------------------------------------------------------------- messages


@dataclass
class Request:
    """An HTTP request as seen by an emulator handler."""

    method: str
    raw_path: str  # the path exactly as sent (percent-encoded), without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # header names lower-cased
    body: bytes

    @property
    def segments(self) -> list[str]:
        """Path segments, each percent-decoded on its own (so ``%2F`` stays inside one segment)."""
        return [unquote(s) for s in self.raw_path.split("/")[1:]]

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        """All values of a repeatable query parameter."""
        return list(self.query.get(name, []))

    def json(self) -> Any:
        """Decode the body as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Response:
    """What a handler returns. Use the ``json``/``text``/``yaml``/``empty`` constructors."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between two bytes of the answer (a fault), 0: all at once

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        # Compact UTF-8, like Go's encoder; orjson is 10x faster than the standard library on a large
        # dashboard, which keeps the emulator's CPU out of what the benchmark charges to the client.
        try:
            body = orjson.dumps(payload)
        except TypeError:  # beyond orjson (integers over 64 bits)
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """A Go ``http.Error``-style plain-text body (the message plus a trailing newline)."""
        body = (message + "\n").encode("utf-8")
        return cls(
            status,
            body,
            {
                "Content-Type": "text/plain; charset=utf-8",
                "X-Content-Type-Options": "nosniff",
                **(headers or {}),
            },
        )

    @classmethod
    def yaml(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "application/yaml", **(headers or {})})

    @classmethod
    def empty(cls, status: int, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))


@dataclass
class RequestRecord:
    """One entry of :attr:`HTTPEmulator.request_log`.

    ``status`` is the status sent (``None`` when the connection was reset); ``fault`` is ``None`` for a
    request that reached the handler, else ``"fail"`` or ``"reset"``.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    started: float
    status: int | None = None
    fault: str | None = None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


# --------------------------------------------------------------------------------------------- faults


@dataclass
class FaultRule:
    """One injected fault. ``remaining`` is ``None`` for "until cleared"."""

    kind: str  # "fail" | "reset" | "stall" | "trickle" | "echo" | "redirect"
    method: str | None  # None or "*" = any method
    pattern: re.Pattern[str]
    remaining: int | None
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0  # stall: before answering; trickle: between two bytes of the answer

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method not in (None, "*") and self.method.upper() != method:
            return False
        return self.pattern.search(path) is not None


class Faults:
    """Fault injection shared by both emulators (``emu.faults``).

    * ``latency``: seconds slept before every request is processed (also before injected failures).
    * :meth:`fail`: answer the next ``times`` requests whose method matches and whose path (without
      query string, as sent) matches ``path_regex`` (``re.search``) with ``status``.
    * :meth:`reset_connection`: close the socket of the next ``times`` matching requests without any
      response; ``requests``/``niquests`` raise a ``ConnectionError``.
    * :meth:`stall`: wait ``seconds`` before handling the next ``times`` matching requests.
    * :meth:`trickle`: handle them, then send the answer (status line, headers, body) one byte every
      ``seconds``: a socket read timeout never fires, only a deadline on the whole request does.
    * :meth:`echo`: answer with ``status`` and the request itself as the body (request line, every header
      including ``Authorization``, the body), like a debugging proxy or a careless error page.
    * :meth:`redirect`: answer with ``status`` (301/302/307/308) and ``Location: location``.
    * :meth:`on`: call ``callback(request_record)`` when a matching request arrives, before it is
      handled (a hook, not a fault: the request is then served normally, or by a matching rule).
    * :meth:`clear`: remove every rule and hook and set ``latency`` back to 0.

    Rules are consulted in the order they were added; the first one that matches is consumed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._hooks: list[tuple[FaultRule, Callable[[RequestRecord], None]]] = []
        self.latency: float = 0.0

    def _add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def stall(self, method: str | None, path_regex: str, seconds: float, times: int | None = 1) -> FaultRule:
        """Wait ``seconds`` before handling the next ``times`` matching requests."""
        return self._add(FaultRule("stall", method, re.compile(path_regex), times, seconds=seconds))

    def trickle(
        self, method: str | None, path_regex: str, seconds: float, times: int | None = 1
    ) -> FaultRule:
        """Send the answer of the next ``times`` matching requests one byte every ``seconds``."""
        return self._add(FaultRule("trickle", method, re.compile(path_regex), times, seconds=seconds))

    def echo(self, method: str | None, path_regex: str, status: int, times: int | None = 1) -> FaultRule:
        """Answer the next ``times`` matching requests with ``status`` and the raw request as the body."""
        return self._add(FaultRule("echo", method, re.compile(path_regex), times, status))

    def redirect(
        self, method: str | None, path_regex: str, status: int, location: str, times: int | None = 1
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with a redirect to ``location``."""
        if status not in (301, 302, 303, 307, 308):
            raise ValueError("redirect() injects 301, 302, 303, 307 or 308")
        return self._add(
            FaultRule(
                "redirect", method, re.compile(path_regex), times, status, headers={"Location": location}
            )
        )

    def on(
        self,
        method: str | None,
        path_regex: str,
        callback: Callable[[RequestRecord], None],
        times: int | None = 1,
    ) -> FaultRule:
        """Call ``callback`` when each of the next ``times`` matching requests arrives."""
        rule = FaultRule("hook", method, re.compile(path_regex), times)
        with self._lock:
            self._hooks.append((rule, callback))
        return rule

    def hooks_for(self, method: str, path: str) -> list[Callable[[RequestRecord], None]]:
        """Consume and return the callbacks of every hook matching this request (used by the server)."""
        found = []
        with self._lock:
            for rule, callback in self._hooks:
                if rule.matches(method, path):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    found.append(callback)
        return found

    def fail(
        self,
        method: str | None,
        path_regex: str,
        status: int,
        times: int | None = 1,
        *,
        body: str | bytes | None = None,
        retry_after: str | int | None = None,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with ``status`` (``times=None``: until cleared).

        The default body is ``"<status> <reason>\\n"`` (text/plain). A 429 carries ``Retry-After: 0``
        unless ``retry_after`` says otherwise; other statuses carry ``Retry-After`` only when given.
        """
        if status < 400:
            raise ValueError("fail() injects error statuses (>= 400)")
        reason = http.client.responses.get(status, "Error")
        if body is None:
            payload = f"{status} {reason}\n".encode()
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = body
        hdrs = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        if retry_after is None and status == 429:
            retry_after = 0
        if retry_after is not None:
            hdrs["Retry-After"] = str(retry_after)
        return self._add(FaultRule("fail", method, re.compile(path_regex), times, status, payload, hdrs))

    def reset_connection(self, method: str | None, path_regex: str, times: int | None = 1) -> FaultRule:
        """Close the connection of the next ``times`` matching requests without answering."""
        return self._add(FaultRule("reset", method, re.compile(path_regex), times))

    def clear(self) -> None:
        """Remove all fault rules and hooks and reset latency to 0."""
        with self._lock:
            self._rules.clear()
            self._hooks.clear()
        self.latency = 0.0

    @property
    def pending(self) -> list[FaultRule]:
        """Rules that can still fire."""
        with self._lock:
            return [r for r in self._rules if r.remaining is None or r.remaining > 0]

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume and return the first rule matching this request (used by the server)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None


# --------------------------------------------------------------------------------------------- server


class _ResetConnection(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real servers; every response has Content-Length
    disable_nagle_algorithm = True
    server_version = "lgtm-dash-emulator"
    sys_version = ""
    emulator: HTTPEmulator  # set on the per-emulator subclass
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's pending header lines (absent from its stubs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.emulator._track(self.connection, True)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        try:
            response = self.emulator._serve(self.command, self.path, dict(self.headers.items()), body)
        except _ResetConnection:
            self._reset()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        # Headers and body in one write: separate small writes meet delayed ACKs (~40 ms per request).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and response.body:
            self._headers_buffer.append(response.body)
        if response.trickle > 0:
            self._trickle(b"".join(self._headers_buffer), response.trickle)
            self._headers_buffer = []
            return
        self.flush_headers()

    def _trickle(self, data: bytes, seconds: float) -> None:
        """Send `data` one byte every `seconds`, until done, the client leaves or the server stops."""
        for i in range(len(data)):
            if not self.emulator.running:
                break
            try:
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            except OSError:
                break
            time.sleep(seconds)
        self.close_connection = True

    def _reset(self) -> None:
        """Abort the TCP connection (RST) without sending a byte."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()

    def finish(self) -> None:
        self.emulator._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away is not an error worth printing


class HTTPEmulator:
    """Base class: a threaded HTTP server plus request log, write counter and fault injection.

    Usable as a context manager (``with Sub() as emu: emu.url``) or with :meth:`start`/:meth:`stop`.

    Attributes shared by every emulator:

    * ``url``: ``http://127.0.0.1:<port>`` (no trailing slash); ``host``/``port``. The port is the one given
      to the constructor, or an ephemeral one (``port=0``, the default) chosen when the server starts.
    * ``faults``: the :class:`Faults` of this emulator.
    * ``requests``: ``[(method, path)]`` of every request received, path without query string and
      exactly as sent (percent-encoded), including requests answered by an injected fault.
    * ``request_log``: a :class:`RequestRecord` per request, with headers, body, status and fault.
    * :meth:`write_count`: non-GET/HEAD/OPTIONS requests that reached a handler (not faulted ones).
    * ``lock``: the re-entrant lock held while a handler runs; hold it to read state consistently
      while requests are in flight.
    """

    def __init__(self, port: int = 0) -> None:
        self.faults = Faults()
        self.lock: contextlib.AbstractContextManager[object] = threading.RLock()  # (proxies: no lock)
        self._log_lock = threading.Lock()
        self.request_log: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = port
        self._bind_port = port
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._closer: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running; use it as a context manager or start()"
            )
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        if self._closer is not None:  # after kill(): the old listening socket must be closed first
            self._closer.join(timeout=10)
            self._closer = None
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"emulator": self})
        self._server = _Server((self.host, self._bind_port), handler)
        self.port = self._server.server_address[1]
        self._bind_port = self.port  # a restart after kill() or stop() comes back on the same address
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def kill(self) -> None:
        """Die like a killed process: stop listening and abort every open connection (the request in
        flight too). State is kept: :meth:`start` brings the server back on the same port."""
        server = self._server
        if server is None:
            return
        self._server = None
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        # Closed on another thread: kill() may be called from a hook, inside one of the server's handlers.
        self._closer = threading.Thread(target=self._close, args=(server,), daemon=True)
        self._closer.start()

    def _close(self, server: _Server) -> None:
        server.shutdown()
        server.server_close()

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # request log -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._log_lock:
            return [(r.method, r.path) for r in self.request_log]

    def write_count(self) -> int:
        """Number of non-GET (and non-HEAD/OPTIONS) requests that reached a handler."""
        with self._log_lock:
            return sum(1 for r in self.request_log if r.method not in READ_METHODS and r.fault is None)

    def clear_log(self) -> None:
        """Forget the request log (state is kept)."""
        with self._log_lock:
            self.request_log.clear()

    # dispatch ----------------------------------------------------------------------------------------

    def _serve(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        raw_path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        lower = {k.lower(): v for k, v in headers.items()}
        record = RequestRecord(method, raw_path, query, lower, body, time.time())
        with self._log_lock:
            self.request_log.append(record)
        for callback in self.faults.hooks_for(method, raw_path):
            callback(record)
        if not self.running:  # killed by a hook
            raise _ResetConnection()
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        rule = self.faults.take(method, raw_path)
        trickle = 0.0
        if rule is not None:
            record.fault = rule.kind
            if rule.kind == "reset":
                raise _ResetConnection()
            if rule.kind == "stall":
                time.sleep(rule.seconds)
            elif rule.kind == "trickle":
                trickle = rule.seconds
            elif rule.kind == "echo":
                record.status = rule.status
                return Response(
                    rule.status, _echo(method, target, headers, body), {"Content-Type": "text/plain"}
                )
            else:  # fail, redirect
                record.status = rule.status
                return Response(rule.status, rule.body, dict(rule.headers))
        request = Request(method, raw_path, query, lower, body)
        try:
            with self.lock:
                response = self.handle(request)
        except Exception as exc:  # an emulator bug must surface as a 500, not a hung client
            response = Response.text(500, f"emulator error: {type(exc).__name__}: {exc}")
        record.status = response.status
        response.trickle = trickle
        return response

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError


def _echo(method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
    """The request as it came in: request line, headers (credentials included), blank line, body."""
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items()), ""]
    return "\r\n".join(lines).encode("utf-8") + b"\r\n" + body


# --------------------------------------------------------------------------------------------- routing


Route = tuple[str, tuple[str, ...], Callable[..., Response]]


def match_route(
    routes: list[Route], method: str, segments: list[str]
) -> tuple[Callable[..., Response] | None, list[str], bool]:
    """Find the handler for ``method`` + path ``segments``.

    A route pattern is a tuple of literal segments and ``"{}"`` placeholders (which never match an empty
    segment). Returns
    ``(handler, captured, path_known)``; ``handler`` is ``None`` when nothing matches, and ``path_known``
    then tells whether some route matched the path with another method (405 rather than 404).
    """
    path_known = False
    for route_method, pattern, handler in routes:
        if len(pattern) != len(segments):
            continue
        captured: list[str] = []
        for want, got in zip(pattern, segments, strict=True):
            if want == "{}" and got != "":
                captured.append(got)
            elif want != got:
                break
        else:
            if route_method == method or (route_method == "GET" and method == "HEAD"):
                return handler, captured, True
            path_known = True
    return None, [], path_known
