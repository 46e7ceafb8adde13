"""A tenant of a Prometheus-style ruler config API, over `clients.transport`: what Mimir's and Loki's rulers share.

Both come from Cortex's ruler API: `GET <base>` lists `{namespace: [group, ...]}` in YAML, `POST
<base>/<namespace>` upserts one group, `DELETE <base>/<namespace>/<group>` deletes one. Every request carries
`X-Scope-OrgID` (the tenant) and, when a key is configured, basic auth (a key without a user authenticates as the
tenant, like mimirtool and lokitool). Path segments are percent-encoded. Requests are bounded, never redirected
on a write nor to another origin, and what the server says is redacted before it is printed, like Grafana's
(`clients.transport`, `clients.http.server_words`); a TLS certificate that does not verify is not retried. Where the two differ (Mimir lists an
empty tenant as `{}`, Loki answers 404) is in docs/server-contract.md and in the subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

from ..errors import RemoteError
from ..secrets import basic_credentials
from ..yamlio import dump_yaml, load_yaml
from .http import DEFAULT_TIMEOUT, RetryPolicy, failed_answer, server_words
from .transport import HttpTransport, basic_auth


class RulerTarget(Protocol):
    # Read-only: the targets are frozen dataclasses (environments.MimirTarget, LokiTarget).
    @property
    def address(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def user(self) -> str | None: ...
    @property
    def key(self) -> str | None: ...
    @property
    def credential_name(self) -> str: ...


class RulerClient:
    """One tenant's rule groups. Thread-safe (a connection per worker thread)."""

    service: ClassVar[str]  # "Mimir", as messages name the server
    tenant_variable: ClassVar[str]  # the variable that overrides the tenant, named when access is refused
    noun: ClassVar[str] = "rule group"  # how messages name one group

    def __init__(
        self,
        target: RulerTarget,
        rules_base: str,  # the path of the rules API below the address
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target
        self.url = target.address.rstrip("/")
        self.rules_base = rules_base
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._secrets = {
            **(secrets or {}),
            "key": target.key or "",
            "basic auth": basic_credentials(target.user or target.tenant, target.key),
        }
        headers = {"X-Scope-OrgID": target.tenant}
        if target.key:
            headers["Authorization"] = basic_auth(target.user or target.tenant, target.key)
        self._http = HttpTransport(self.url, service=self.service, headers=headers, secrets=self._secrets)

    def _request(
        self, method: str, path: str, what: str, *, body: str | None = None, missing_ok: bool = False
    ) -> str | None:
        """The response text of a successful request (`path` below the address); None for a tolerated 404."""

        def attempt() -> str | None:
            answer = self._http.request(
                method,
                path,
                what=what,
                timeout=self.retry.request_timeout(self.timeout),
                body=body.encode("utf-8") if body is not None else None,
                content_type="application/yaml",
            )
            status = answer.status
            if status < 300:
                return answer.text
            if status == 404 and missing_ok:
                return None
            raise failed_answer(
                method,
                status,
                what,
                server_words(answer.text, self._secrets),  # redacted before it is cut to length
                service=self.service,
                refused_by=f"{self.service} (tenant {self.target.tenant})",
                url=self.url,
                credential=f"{self.target.credential_name} and {self.tenant_variable}",
                retry_after=answer.headers.get("Retry-After"),
            )

        return self.retry.call(attempt, what=what)

    def _listing(self, text: str | None) -> dict[str, list[dict[str, Any]]]:
        data = load_yaml(text or "") or {}
        if not isinstance(data, dict):
            raise RemoteError(
                f"list {self.noun}s: {self.service} at {self.url} returned something other than a mapping"
            )
        return {str(ns): list(groups or []) for ns, groups in data.items()}

    def list_rules(self) -> dict[str, list[dict[str, Any]]]:
        """Every namespace of the tenant: `{namespace: [group, ...]}` as the ruler stores them."""
        return self._listing(self._request("GET", self.rules_base, f"list {self.noun}s"))

    def set_rule_group(self, namespace: str, group: dict[str, Any]) -> None:
        """Create or replace one group (upserted by name; the namespace's other groups are untouched)."""
        self._request(
            "POST",
            f"{self.rules_base}/{quote(namespace, safe='')}",
            f"{self.noun} {namespace}/{group.get('name')}",
            body=dump_yaml(group),
        )

    def delete_rule_group(self, namespace: str, name: str) -> None:
        self._request(
            "DELETE",
            f"{self.rules_base}/{quote(namespace, safe='')}/{quote(name, safe='')}",
            f"{self.noun} {namespace}/{name}",
            missing_ok=True,  # already gone: the goal is reached
        )
