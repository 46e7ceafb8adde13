"""Loki's ruler API, over requests: the rule groups of one tenant (`/loki/api/v1/rules`, lokitool's routes).

Every request carries `X-Scope-OrgID` (the tenant) and, when a key is configured, basic auth (a key without a
user authenticates as the tenant, like lokitool). Path segments are percent-encoded. Loki answers a tenant
without any rule group with 404 `no rule groups found` (docs/server-contract.md, "Loki ruler API"): that is an
empty listing, not an error.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .environments import LokiTarget
from .errors import RemoteError
from .publish.remote import (
    AuthError,
    RetryPolicy,
    TransientError,
    auth_message,
    connection_problem,
    is_retryable_status,
    parse_retry_after,
)
from .secrets import redact
from .yamlio import dump_yaml, load_yaml

DEFAULT_TIMEOUT = 30.0
RULES_PATH = "/loki/api/v1/rules"


class LokiRuler:
    """One Loki tenant's rule groups. Thread-safe: each worker thread gets its own `requests.Session`."""

    def __init__(
        self,
        target: LokiTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target
        self.url = target.address.rstrip("/")
        self.rules_base = self.url + RULES_PATH
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._secrets = {**(secrets or {}), "key": target.key or ""}
        self._local = threading.local()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers["X-Scope-OrgID"] = self.target.tenant
            if self.target.key:
                session.auth = (self.target.user or self.target.tenant, self.target.key)
            self._local.session = session
        return session

    def _request(self, method: str, url: str, what: str, *, body: str | None = None) -> tuple[int, str]:
        """(status, text) of a request that succeeded or answered 404; raises RemoteError otherwise."""
        import requests

        def attempt() -> tuple[int, str]:
            try:
                response = self._session().request(
                    method,
                    url,
                    data=body.encode("utf-8") if body is not None else None,
                    headers={"Content-Type": "application/yaml"} if body is not None else None,
                    timeout=self.timeout,
                )
            except requests.RequestException as err:
                message = redact(connection_problem(err), self._secrets)
                raise TransientError(f"{what}: cannot reach Loki at {self.url}: {message}") from None
            status = response.status_code
            if status < 300 or status == 404:
                return status, response.text
            detail = redact(" ".join(response.text.split())[:300], self._secrets)
            if status in (401, 403):
                credentials = f"{self.target.credential_name} and LOKI_TENANT_ID"
                raise AuthError(
                    auth_message(f"Loki (tenant {self.target.tenant})", self.url, status, credentials, detail)
                )
            if is_retryable_status(status):
                raise TransientError(
                    f"{what}: Loki answered HTTP {status}: {detail}",
                    status,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            raise RemoteError(f"{what}: Loki answered HTTP {status}: {detail}")

        try:
            return self.retry.run(attempt)
        except TransientError as err:
            raise RemoteError(f"{err.message} (gave up after {self.retry.attempts} attempts)") from None

    def list_rules(self) -> dict[str, list[dict[str, Any]]]:
        """Every namespace of the tenant: `{namespace: [group, ...]}` as Loki stores them."""
        status, text = self._request("GET", self.rules_base, "list Loki rule groups")
        if status == 404:
            return {}
        data = load_yaml(text) or {}
        if not isinstance(data, dict):
            raise RemoteError(
                f"list Loki rule groups: Loki at {self.url} returned something other than a mapping"
            )
        return {str(ns): list(groups or []) for ns, groups in data.items()}

    def set_rule_group(self, namespace: str, group: Mapping[str, Any]) -> None:
        """Create or replace one group (Loki upserts by name; the namespace's other groups are untouched)."""
        what = f"Loki rule group {namespace}/{group.get('name')}"
        status, text = self._request(
            "POST", f"{self.rules_base}/{quote(namespace, safe='')}", what, body=dump_yaml(dict(group))
        )
        if status == 404:
            raise RemoteError(
                f"{what}: Loki answered HTTP 404 (is the ruler API enabled?): {text.strip()[:200]}"
            )

    def delete_rule_group(self, namespace: str, name: str) -> None:
        """Delete one group; one already gone is fine (the goal is reached)."""
        self._request(
            "DELETE",
            f"{self.rules_base}/{quote(namespace, safe='')}/{quote(name, safe='')}",
            f"Loki rule group {namespace}/{name}",
        )
