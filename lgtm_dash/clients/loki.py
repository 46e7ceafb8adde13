"""Loki's HTTP APIs as lgtm-dash uses them: the ruler (`LokiRuler`) and the read side of the query API
(`LokiQueryApi`).

The ruler (`/loki/api/v1/rules`, lokitool's routes) holds the rule groups of one Loki tenant: the same
Cortex-derived API as Mimir's ruler (`clients.ruler`), with one difference the client must know: a tenant, or a
namespace, without any rule group is answered 404 `no rule groups found`, which is an empty listing, not an
error (docs/server-contract.md, "Loki ruler API").

The query API answers label names, label values and series (streams), each over a window, for live lint.
Behaviour relied on (docs/server-contract.md, "Loki query API", rows L-QUERY-*): `/loki/api/v1/labels` and
`/loki/api/v1/label/<name>/values` answer `{"status": "success", "data": [...]}` with `data` left out when
empty; `/loki/api/v1/series` takes `match[]` and answers `{"status": "success", "data": [{label: value}]}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..environments import LokiTarget
from .http import DEFAULT_TIMEOUT, RetryPolicy
from .prometheus_api import MAX_GET_SELECTOR, Window
from .query import HttpApi, envelope_data
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
        super().__init__(target, RULES_PATH, retry=retry, timeout=timeout, secrets=secrets)

    def list_rules(self) -> dict[str, list[dict[str, Any]]]:
        """Every namespace of the tenant (Loki's 404 for "no rule groups" is `{}`)."""
        return self._listing(self._request("GET", self.rules_base, f"list {self.noun}s", missing_ok=True))


class LokiQueryApi:
    """Label names, label values and streams of the tenant `http` is set up for (`clients.query.HttpApi`)."""

    def __init__(self, http: HttpApi):
        self.http = http

    def label_names(self, window: Window) -> set[str]:
        return {
            str(v)
            for v in envelope_data(self.http.get_json("/loki/api/v1/labels", window.loki()), "labels") or []
        }

    def label_values(self, name: str, window: Window) -> set[str]:
        body = self.http.get_json(f"/loki/api/v1/label/{quote(name, safe='')}/values", window.loki())
        return {str(v) for v in envelope_data(body, f"values of {name}") or []}

    def series(self, selector: str, window: Window) -> list[dict[str, str]]:
        params = [("match[]", selector), *window.loki()]
        body = self.http.get_json("/loki/api/v1/series", params, post=len(selector) > MAX_GET_SELECTOR)
        return [dict(s) for s in envelope_data(body, f"streams of {selector}") or [] if isinstance(s, dict)]
