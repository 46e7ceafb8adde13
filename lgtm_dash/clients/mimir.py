"""Mimir's ruler config API and Alertmanager config API.

The ruler part is `clients.ruler` (shared with Loki's ruler): `X-Scope-OrgID` and basic auth on every request,
percent-encoded path segments. Ruler routes live under the environment's `ruler_prefix` (default
`/prometheus`); the Alertmanager config API has no prefix (`/api/v1/alerts`). Refusals are classified like
Grafana's (`clients.http.classify_refusal`): a protected namespace answers 403 on a write, which fails
that group alone. What each endpoint answers is written down in docs/server-contract.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..environments import MimirTarget
from ..yamlio import dump_yaml, load_yaml
from .http import DEFAULT_TIMEOUT, RetryPolicy
from .ruler import RulerClient


class Mimir(RulerClient):
    """One Mimir tenant: its rule groups (`clients.ruler`) and its Alertmanager configuration."""

    service = "Mimir"
    tenant_variable = "MIMIR_TENANT_ID"

    def __init__(
        self,
        target: MimirTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        prefix = target.ruler_prefix.strip("/")
        base = f"/{prefix}/config/v1/rules" if prefix else "/config/v1/rules"
        super().__init__(target, base, retry=retry, timeout=timeout, secrets=secrets)

    # --- Alertmanager ---------------------------------------------------------------------------------

    def get_alertmanager(self) -> dict[str, Any] | None:
        """`{"template_files": {...}, "alertmanager_config": "<yaml>"}`, or None when none is stored."""
        text = self._request("GET", "/api/v1/alerts", "Alertmanager config", missing_ok=True)
        if text is None:
            return None
        data = load_yaml(text) or {}
        return data if isinstance(data, dict) else None

    def set_alertmanager(self, body: dict[str, Any]) -> None:
        self._request("POST", "/api/v1/alerts", "Alertmanager config", body=dump_yaml(body))
