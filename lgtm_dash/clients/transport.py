"""HTTP/1.1 requests to one server over the standard library's `http.client`: what every client sends through.

One kept-alive connection per worker thread, each request bounded as a whole (`clients.http.within`), the
redirect rule of `clients.http.redirect_refusal` (a read may follow a redirect on the same origin, nothing
else is followed), a connection failure turned into a `TransientError` and a certificate that does not
verify into a `TLSVerificationFailed`, with secrets redacted from anything the error says. What an answer
means (401, 403, 404, 5xx...) is each client's business: `request` returns every answer that is not a
redirect.

Why not requests (or grafana-client over niquests): a no-op publish reads every dashboard back, and its time
was mostly the client's CPU per read: about 2 ms through either library, 0.55 ms here (a 29 KB dashboard;
README, Benchmark). The environment's proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are honoured
as requests honours them; CA certificates come from the system store, `SSL_CERT_FILE` or
`REQUESTS_CA_BUNDLE`.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import getproxies, proxy_bypass

import orjson

from ..errors import RemoteError
from .http import (
    TLSVerificationFailed,
    TransientError,
    connection_problem,
    is_tls_failure,
    redirect_refusal,
    server_words,
    within,
)

USER_AGENT = "lgtm-dash"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
Params = Mapping[str, Any] | list[tuple[str, Any]]


@dataclass(frozen=True)
class Answer:
    """A server's answer: status, headers (case-insensitive `get`) and the whole body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not); orjson first, the standard library for what it
        refuses (NaN, integers beyond 64 bits)."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return json.loads(self.body)


def basic_auth(user: str, password: str) -> str:
    """The `Authorization` value of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@cache
def _tls_context() -> ssl.SSLContext:
    # SSL_CERT_FILE is read by OpenSSL itself; REQUESTS_CA_BUNDLE is what users of requests-based tools set.
    return ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE") or None)


class HttpTransport:
    """Requests to `base_url` (its path is a prefix of every request's). Thread-safe: a connection per thread."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        headers: Mapping[str, str],
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        # A bad URL (a datasource's, say) fails each request with a clear message, not the constructor.
        self._valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        try:
            self._port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a port that is not a number
            self._valid, self._port = False, 0
        self._prefix = parts.path.rstrip("/")
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        self._secrets = secrets or {}
        self._proxy = _proxy_for(parts.scheme, self._host) if self._valid else None
        self._local = threading.local()

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        timeout: float,
        params: Params | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Answer:
        """Send one request (`path` below the base URL) and return the server's answer, whatever its status.

        A connection failure or an answer not complete within `timeout` is a `TransientError` (the caller's
        retry policy decides), a certificate that does not verify a `TLSVerificationFailed`, a refused
        redirect a `RedirectRefused`.
        """
        if not self._valid:
            shown = server_words(self.base_url, self._secrets)
            raise RemoteError(f"{what}: the address of {self.service} ({shown}) is not an http(s) URL")
        method = method.upper()
        target = self._prefix + path
        if params:
            target += "?" + urlencode(params, doseq=True)
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        for _hop in range(MAX_REDIRECTS + 1):
            answer = within(
                timeout, partial(self._send, method, target, body, headers, timeout, what), what, self._drop
            )
            location = answer.headers.get("Location")
            if answer.status not in REDIRECT_STATUSES or not location:
                return answer
            here = f"{self._scheme}://{self._host}:{self._port}{target}"
            there = urljoin(here, location)
            refusal = redirect_refusal(
                self.service, self.base_url, method, here, answer.status, there, self._secrets
            )
            if refusal is not None:
                raise refusal
            target = urlsplit(there)._replace(scheme="", netloc="").geturl()
        raise TransientError(
            f"{what}: {self.service} at {self.base_url} redirected more than {MAX_REDIRECTS} times"
        )

    def _send(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str], timeout: float, what: str
    ) -> Answer:
        connection = self._connection(timeout)
        if self._proxy is not None and self._scheme == "http":
            target = f"http://{self._host}:{self._port}{target}"  # a plain-HTTP proxy takes the absolute form
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            self._local.connection = None
            detail = server_words(connection_problem(err), self._secrets)
            if is_tls_failure(err):
                raise TLSVerificationFailed(
                    f"{what}: the TLS certificate of {self.service} at {self.base_url} does not "
                    f"verify ({detail}); not retried: fix the certificate or the CA bundle"
                ) from None
            raise TransientError(
                f"{what}: cannot reach {self.service} at {self.base_url}: {detail}"
            ) from None
        if response.will_close:
            connection.close()
        return answer

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """This thread's connection, a new one when it has none or the server closed it while idle."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is not None and _closed_by_peer(connection.sock):
            connection.close()  # the next request opens a new socket on the same object
        if connection is None:
            host, port = self._proxy or (self._host, self._port)
            if self._scheme == "https":
                connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls_context())
            else:
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
            if self._proxy is not None and self._scheme == "https":
                connection.set_tunnel(self._host, self._port)
            self._local.connection = connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop(self) -> None:
        """Forget this thread's connection: a request abandoned on it may still be using it."""
        self._local.connection = None


def _closed_by_peer(sock: Any) -> bool:
    """An idle kept-alive socket that is readable has been closed (or spoken to) by the server: not reusable."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """The (host, port) of the proxy the environment names for `scheme`, unless NO_PROXY exempts `host`."""
    proxy = getproxies().get(scheme)
    if not proxy or proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or 80
