"""The Alertmanager configuration: `mimir/alertmanager.yaml` sent to Mimir's `POST /api/v1/alerts`.

Compared: the config string parsed as a structure, templates by content (Mimir returns both as stored,
row M-AM-GET). One object per tenant; `--prune` never deletes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...normalize import mask_alertmanager_secrets, normalize_alertmanager
from ...secrets import expand
from ..plan import Change, PlanContext, text_diff
from .base import ApplyContext, Kind


def alertmanager_body(body: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    expanded = expand(dict(body), environ, context="the Alertmanager config", grafana_escapes=False)
    assert isinstance(expanded, dict)
    return expanded


class AlertmanagerConfig(Kind):
    name: ClassVar[str] = "alertmanager"
    service: ClassVar[str] = "mimir"

    def check_desired(self, ctx: PlanContext) -> None:
        if ctx.arts.alertmanager:
            alertmanager_body(ctx.arts.alertmanager, ctx.environ)  # a missing secret fails here

    def plan(self, ctx: PlanContext) -> list[Change]:
        if not ctx.arts.alertmanager:
            return []
        body = alertmanager_body(ctx.arts.alertmanager, ctx.environ)
        source = ctx.source("alertmanager")
        live = self.client(ctx.clients).get_alertmanager()
        if live is None:
            return [Change(self.name, "config", "create", body=body, source=source)]
        want, have = normalize_alertmanager(body), normalize_alertmanager(live)
        if want == have:
            return [Change(self.name, "config", "unchanged", source=source)]
        shown = text_diff(mask_alertmanager_secrets(have), mask_alertmanager_secrets(want))
        return [
            Change(
                self.name,
                "config",
                "update",
                reason="" if shown else "a secret value changed",
                diff=shown,
                body=body,
                source=source,
            )
        ]

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        self.client(ctx.clients).set_alertmanager(change.body)
        return ""
