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

from ..errors import RemoteError
from ..secrets import redact
from .http import (
    AuthError,
    Deadline,
    OutOfTime,
    RetryPolicy,
    TransientError,
    auth_message,
    connection_problem,
    is_retryable_status,
    parse_retry_after,
    refuse_redirects,
)

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
        return {k: v for k, v in values.items() if v}


def envelope_data(body: Any, what: str) -> Any:
    """`data` of the `{"status": "success", "data": ...}` envelope Prometheus, Mimir and Loki answer with."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise QueryRefused(f"{what}: {error or 'not a query API answer'}", 200)
    return body.get("data")


class HttpApi:
    """GET/POST JSON from one target; thread-safe (one `requests.Session` per worker thread)."""

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
        self._local = threading.local()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers.update(self.target.headers)
            if self.target.bearer:
                session.headers["Authorization"] = f"Bearer {self.target.bearer}"
            elif self.target.basic_auth:
                session.auth = self.target.basic_auth
            session.hooks["response"].append(
                refuse_redirects(self.target.name, self.base, self.target.secrets())
            )
            self._local.session = session
        return session

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None, *, post: bool = False) -> Any:
        """The decoded JSON body of a successful request to `base + path`.

        `post` sends the parameters as a form body (long selectors; Prometheus and Loki accept both).
        """
        import requests

        url = self.base + path
        what = f"{self.target.name}: {path}"

        def attempt() -> Any:
            if self.deadline is not None and self.deadline.passed:
                raise OutOfTime(f"{what}: the time budget was spent before this request")
            timeout = self.timeout
            if self.deadline is not None:
                timeout = max(0.5, min(timeout, self.deadline.remaining()))
            with self._count_lock:
                self.requests_made += 1
            try:
                if post:
                    response = self._session().post(url, data=params or [], timeout=timeout)
                else:
                    response = self._session().get(url, params=params or [], timeout=timeout)
            except requests.RequestException as err:
                detail = redact(connection_problem(err), self.target.secrets())
                raise TransientError(f"cannot reach {self.target.name} at {self.base}: {detail}") from None
            status = response.status_code
            if status < 300:
                try:
                    return response.json()
                except ValueError:
                    raise QueryRefused(f"{what}: the answer is not JSON", status) from None
            detail = redact(" ".join(response.text.split())[:300], self.target.secrets())
            if status in (401, 403):
                raise AuthError(
                    auth_message(self.target.name, self.base, status, self.target.credential, detail)
                )
            if is_retryable_status(status):
                raise TransientError(
                    f"{self.target.name} at {self.base} answered HTTP {status}: {detail}",
                    status,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            raise QueryRefused(f"{what}: HTTP {status}: {detail}", status)

        try:
            return self.retry.run(attempt)
        except TransientError as err:
            raise Unreachable(f"{err.message} (gave up after {self.retry.attempts} attempts)") from None
