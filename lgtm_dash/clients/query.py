"""A JSON-over-HTTP client for read-only query APIs (Prometheus, Mimir, Thanos, Loki, Grafana's proxy).

It shares the retry policy, deadlines, redirect refusal and remote error kinds of `clients.http` with the
Grafana, Mimir and Loki ruler clients. Transient failures (connection errors, 429, 5xx) are retried
with backoff; 401/403 become `AuthError` naming the credential variable (never its value); any other
refusal is a `QueryRefused` for that one request. Every request stops at the run's deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ..errors import RemoteError
from ..secrets import basic_credentials, redact
from .http import (
    AuthError,
    Deadline,
    OutOfTime,
    RetryPolicy,
    TransientError,
    auth_message,
    is_retryable_status,
    parse_retry_after,
)
from .transport import HttpTransport, basic_auth

__all__ = [
    "ApiTarget",
    "AuthError",
    "Deadline",
    "HttpApi",
    "QueryRefused",
    "RemoteError",
    "RetryPolicy",
    "Unreachable",
]

DEFAULT_TIMEOUT = 30.0


class Unreachable(RemoteError):
    """The server could not be reached, or kept failing, after every retry."""


class QueryRefused(RemoteError):
    """The server understood the request and refused it (4xx other than 401/403/429)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ApiTarget:
    """Where one datasource's API is reached: its base URL, headers and credentials.

    `name` is what findings show (`qgx-mimir`); `credential` names the variable(s) to check on 401/403.
    """

    name: str
    kind: str  # "prometheus" | "loki" | "mysql"
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)
    credential: str = ""
    # MySQL only: the database whose information_schema is read, and the user and password.
    database: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    via: str = "direct"  # "direct" or "grafana"

    @property
    def key(self) -> tuple[Any, ...]:
        """Two datasources with the same key are the same server and tenant: their requests are shared."""
        return (self.kind, self.base_url.rstrip("/"), tuple(sorted(self.headers.items())), self.database)

    def secrets(self) -> dict[str, str]:
        values = {"password": self.password or "", "bearer": self.bearer or ""}
        if self.basic_auth:
            values["basic"] = self.basic_auth[1]
            values["basic auth"] = basic_credentials(*self.basic_auth)
        return {k: v for k, v in values.items() if v}


def envelope_data(body: Any, what: str) -> Any:
    """`data` of the `{"status": "success", "data": ...}` envelope Prometheus, Mimir and Loki answer with."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise QueryRefused(f"{what}: {error or 'not a query API answer'}", 200)
    return body.get("data")


class HttpApi:
    """GET/POST JSON from one target; thread-safe (a connection per worker thread)."""

    def __init__(
        self,
        target: ApiTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: Deadline | None = None,
    ) -> None:
        self.target = target
        self.base = target.base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.deadline = deadline
        self.requests_made = 0
        self._count_lock = threading.Lock()
        headers = dict(target.headers)
        if target.bearer:
            headers["Authorization"] = f"Bearer {target.bearer}"
        elif target.basic_auth:
            headers["Authorization"] = basic_auth(*target.basic_auth)
        self._http = HttpTransport(self.base, service=target.name, headers=headers, secrets=target.secrets())

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None, *, post: bool = False) -> Any:
        """The decoded JSON body of a successful request to `base + path`.

        `post` sends the parameters as a form body (long selectors; Prometheus and Loki accept both).
        """
        what = f"{self.target.name}: {path}"

        def attempt() -> Any:
            if self.deadline is not None and self.deadline.passed:
                raise OutOfTime(f"{what}: the time budget was spent before this request")
            timeout = self.timeout
            if self.deadline is not None:
                timeout = max(0.5, min(timeout, self.deadline.remaining()))
            with self._count_lock:
                self.requests_made += 1
            if post:
                answer = self._http.request(
                    "POST",
                    path,
                    what=what,
                    timeout=timeout,
                    body=urlencode(params or []).encode("ascii"),
                    content_type="application/x-www-form-urlencoded",
                )
            else:
                answer = self._http.request("GET", path, what=what, timeout=timeout, params=params)
            status = answer.status
            if status < 300:
                try:
                    return answer.json()
                except ValueError:
                    raise QueryRefused(f"{what}: the answer is not JSON", status) from None
            detail = redact(" ".join(answer.text.split())[:300], self.target.secrets())
            if status in (401, 403):
                raise AuthError(
                    auth_message(self.target.name, self.base, status, self.target.credential, detail)
                )
            if is_retryable_status(status):
                raise TransientError(
                    f"{self.target.name} at {self.base} answered HTTP {status}: {detail}",
                    status,
                    parse_retry_after(answer.headers.get("Retry-After")),
                )
            raise QueryRefused(f"{what}: HTTP {status}: {detail}", status)

        try:
            return self.retry.run(attempt)
        except TransientError as err:
            raise Unreachable(f"{err.message} (gave up after {self.retry.attempts} attempts)") from None
