"""Mimir's ruler config API and Alertmanager config API, over requests.

Every request carries `X-Scope-OrgID` (the tenant) and, when configured, basic auth. Ruler routes live
under the environment's `ruler_prefix` (default `/prometheus`); the Alertmanager config API has no prefix
(`/api/v1/alerts`). Path segments are percent-encoded, as Mimir expects. Refusals are classified like
Grafana's (`clients.http.classify_refusal`): a protected namespace answers 403 on a write, which fails
that group alone. Requests are bounded, redirected and redacted like Grafana's (`clients.http`: `within`,
`refuse_redirects`, `server_words`). What each endpoint answers is written down in
docs/server-contract.md.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..environments import MimirTarget
from ..errors import RemoteError
from ..secrets import basic_credentials
from ..yamlio import dump_yaml, load_yaml
from .http import (
    DEFAULT_TIMEOUT,
    RetryPolicy,
    TLSVerificationFailed,
    TransientError,
    classify_refusal,
    connection_problem,
    is_retryable_status,
    is_tls_failure,
    parse_retry_after,
    refuse_redirects,
    server_words,
    within,
)


class Mimir:
    """One Mimir tenant. Thread-safe: each worker thread gets its own `requests.Session`."""

    def __init__(
        self,
        target: MimirTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target
        self.url = target.address.rstrip("/")
        prefix = target.ruler_prefix.strip("/")
        self.rules_base = f"{self.url}/{prefix}/config/v1/rules" if prefix else f"{self.url}/config/v1/rules"
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._secrets = {
            **(secrets or {}),
            "key": target.key or "",
            "basic": basic_credentials(target.user or target.tenant, target.key),
        }
        self._local = threading.local()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers["X-Scope-OrgID"] = self.target.tenant
            if self.target.key:
                # Like mimirtool: a key without a user authenticates as the tenant.
                session.auth = (self.target.user or self.target.tenant, self.target.key)
            session.hooks["response"].append(refuse_redirects("Mimir", self.url, self._secrets))
            self._local.session = session
        return session

    def _forget_session(self) -> None:
        """Drop this thread's session (an abandoned request may still be using its connection)."""
        self._local.session = None

    def _request(
        self, method: str, url: str, what: str, *, body: str | None = None, missing_ok: bool = False
    ) -> str | None:
        """The response text of a successful request; None for a tolerated 404."""
        import requests

        def attempt() -> str | None:
            session = self._session()
            timeout = self.retry.request_timeout(self.timeout)
            try:
                response = within(
                    timeout,
                    lambda: session.request(
                        method,
                        url,
                        data=body.encode("utf-8") if body is not None else None,
                        headers={"Content-Type": "application/yaml"} if body is not None else None,
                        timeout=timeout,
                    ),
                    what,
                    self._forget_session,
                )
            except requests.RequestException as err:
                message = server_words(connection_problem(err), self._secrets)
                if is_tls_failure(err):
                    raise TLSVerificationFailed(
                        f"{what}: the TLS certificate of Mimir at {self.url} does not verify ({message}); "
                        "not retried: fix the certificate or the CA bundle"
                    ) from None
                raise TransientError(f"{what}: cannot reach Mimir at {self.url}: {message}") from None
            status = response.status_code
            if status < 300:
                return response.text
            detail = server_words(response.text, self._secrets)
            refusal = classify_refusal(
                method,
                status,
                what,
                detail,
                service=f"Mimir (tenant {self.target.tenant})",
                url=self.url,
                credential=self.target.credential_name + " and MIMIR_TENANT_ID",
            )
            if refusal is not None:
                raise refusal
            if status == 404 and missing_ok:
                return None
            if is_retryable_status(status):
                raise TransientError(
                    f"{what}: Mimir answered HTTP {status}: {detail}",
                    status,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            raise RemoteError(f"{what}: Mimir answered HTTP {status}: {detail}")

        return self.retry.call(attempt, what=what)

    # --- rules ----------------------------------------------------------------------------------------

    def list_rules(self) -> dict[str, list[dict[str, Any]]]:
        """Every namespace of the tenant: `{namespace: [group, ...]}` as Mimir stores them."""
        text = self._request("GET", self.rules_base, "list rule groups")
        data = load_yaml(text or "") or {}
        if not isinstance(data, dict):
            raise RemoteError(
                f"list rule groups: Mimir at {self.url} returned something other than a mapping"
            )
        return {str(ns): list(groups or []) for ns, groups in data.items()}

    def set_rule_group(self, namespace: str, group: dict[str, Any]) -> None:
        """Create or replace one group (Mimir upserts by name; other groups are untouched)."""
        self._request(
            "POST",
            f"{self.rules_base}/{quote(namespace, safe='')}",
            f"rule group {namespace}/{group.get('name')}",
            body=dump_yaml(group),
        )

    def delete_rule_group(self, namespace: str, name: str) -> None:
        self._request(
            "DELETE",
            f"{self.rules_base}/{quote(namespace, safe='')}/{quote(name, safe='')}",
            f"rule group {namespace}/{name}",
            missing_ok=True,  # already gone: the goal is reached
        )

    # --- Alertmanager ---------------------------------------------------------------------------------

    def get_alertmanager(self) -> dict[str, Any] | None:
        """`{"template_files": {...}, "alertmanager_config": "<yaml>"}`, or None when none is stored."""
        text = self._request("GET", f"{self.url}/api/v1/alerts", "Alertmanager config", missing_ok=True)
        if text is None:
            return None
        data = load_yaml(text) or {}
        return data if isinstance(data, dict) else None

    def set_alertmanager(self, body: dict[str, Any]) -> None:
        self._request("POST", f"{self.url}/api/v1/alerts", "Alertmanager config", body=dump_yaml(body))
