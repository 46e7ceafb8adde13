"""Loki's ruler API (`/loki/api/v1/rules`, lokitool's routes): the rule groups of one Loki tenant.

The same Cortex-derived API as Mimir's ruler (`clients.ruler`), with one difference the client must know: a
tenant, or a namespace, without any rule group is answered 404 `no rule groups found`, which is an empty
listing, not an error (docs/server-contract.md, "Loki ruler API").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..environments import LokiTarget
from .http import DEFAULT_TIMEOUT, RetryPolicy
from .ruler import RulerClient

RULES_PATH = "/loki/api/v1/rules"


class LokiRuler(RulerClient):
    service = "Loki"
    tenant_variable = "LOKI_TENANT_ID"
    noun = "Loki rule group"

    def __init__(
        self,
        target: LokiTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            target, target.address.rstrip("/") + RULES_PATH, retry=retry, timeout=timeout, secrets=secrets
        )

    def list_rules(self) -> dict[str, list[dict[str, Any]]]:
        """Every namespace of the tenant (Loki's 404 for "no rule groups" is `{}`)."""
        return self._listing(self._request("GET", self.rules_base, f"list {self.noun}s", missing_ok=True))
