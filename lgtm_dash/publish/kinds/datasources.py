"""Datasources: `grafana/datasources.yaml` (the provisioning file) sent over Grafana's datasource API.

Compared: only the fields an API body sets, plus those out/ sets, each at the server's default counting
as absent (`normalize.normalize_datasource`); secure fields by key only (Grafana returns
`secureJsonFields`, never values; rows G-DS-GET, G-DS-UPDATE). Owned (what `--prune` may delete): the
datasources whose `jsonData` carries `lgtmDashManaged: true`, which publish sets and Grafana stores and
returns as sent. A read-only (file-provisioned) datasource that differs is a conflict, never written
(Grafana would answer 403, row G-DS-READONLY).

Drift: publish also stores a digest of the settings it wrote (`jsonData.lgtmDashDigest`, never compared
itself). A live datasource whose settings no longer match that digest was changed in Grafana since: the
plan says so (`Change.drift`) above the diff of Grafana's settings against out/'s, then applies out/.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...normalize import (
    DATASOURCE_DIGEST,
    DATASOURCE_MARKER,
    SECURE_FINGERPRINT,
    datasource_digest,
    datasource_drifted,
    is_managed_datasource,
    normalize_datasource,
    secure_fingerprint,
)
from ...secrets import expand
from ..plan import Change, PlanContext, drift_diff
from .base import ApplyContext, Kind

# Provisioning-file keys the HTTP API does not take.
_PROVISIONING_ONLY = ("orgId", "editable", "version")


def datasource_body(entry: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A provisioning-file entry as an API body: `$$` undone, `${VAR}` filled, our ownership mark set."""
    body = expand(dict(entry), environ, context=f"datasource {entry.get('uid')}")
    assert isinstance(body, dict)
    for key in _PROVISIONING_ONLY:
        body.pop(key, None)
    marks: dict[str, Any] = {DATASOURCE_MARKER: True}
    if entry.get("secureJsonData"):
        marks[SECURE_FINGERPRINT] = secure_fingerprint(entry["secureJsonData"])
    body["jsonData"] = {**(body.get("jsonData") or {}), **marks}
    body["jsonData"][DATASOURCE_DIGEST] = datasource_digest(body)
    return body


class Datasources(Kind):
    name: ClassVar[str] = "datasource"
    service: ClassVar[str] = "grafana"
    prunes: ClassVar[bool] = True

    def desired_count(self, arts: Artifacts) -> int:
        return len(arts.datasources)

    def check_desired(self, ctx: PlanContext) -> None:
        for entry in ctx.arts.datasources:
            datasource_body(entry, ctx.environ)  # a missing secret variable fails here

    def plan(self, ctx: PlanContext) -> list[Change]:
        grafana, options = ctx.clients.grafana, ctx.options
        assert grafana is not None
        bodies = [datasource_body(entry, ctx.environ) for entry in ctx.arts.datasources]
        desired_uids = {b["uid"] for b in bodies}

        def one(body: dict[str, Any]) -> Change:
            uid = body["uid"]
            source = ctx.source(f"datasource:{uid}")
            live = grafana.get_datasource(uid)
            if live is None:
                return Change(self.name, uid, "create", body=body, source=source)
            want = normalize_datasource(body)
            have = normalize_datasource(live, also=frozenset(body))
            missing_secrets = set(want.get("secureJsonData", {})) - set(have.get("secureJsonData", {}))
            same = {k: v for k, v in want.items() if k != "secureJsonData"} == {
                k: v for k, v in have.items() if k != "secureJsonData"
            }
            # A changed fingerprint means a secure setting's source changed (a tenant, a variable name).
            secure_changed = bool(body.get("secureJsonData")) and (want.get("jsonData") or {}).get(
                SECURE_FINGERPRINT
            ) != (have.get("jsonData") or {}).get(SECURE_FINGERPRINT)
            resend_secrets = (options.update_secrets or secure_changed) and bool(body.get("secureJsonData"))
            if same and not missing_secrets and not resend_secrets:
                return Change(self.name, uid, "unchanged", source=source)
            drift = "changed in Grafana since the last publish" if datasource_drifted(live) else ""
            diff = drift_diff(have, want, drift)
            reason = "secrets re-sent (--update-secrets)" if same and not missing_secrets else ""
            if secure_changed:
                reason = "secure settings changed (e.g. the tenant): all secure fields are re-sent"
            if missing_secrets:
                reason = f"secure field(s) {', '.join(sorted(missing_secrets))} not set in Grafana"
            if live.get("readOnly"):
                return Change(
                    self.name,
                    uid,
                    "conflict",
                    reason="read-only in Grafana (provisioned from a file): change it where it is provisioned",
                    diff=diff,
                    source=source,
                )
            if not resend_secrets:
                # PUT keeps the secure fields left out (row G-DS-UPDATE): secrets already set are not re-sent.
                kept = set(live.get("secureJsonFields") or {})
                secure = {k: v for k, v in (body.get("secureJsonData") or {}).items() if k not in kept}
                body = {k: v for k, v in body.items() if k != "secureJsonData"}
                if secure:
                    body["secureJsonData"] = secure
            return Change(
                self.name,
                uid,
                "update",
                reason=reason,
                diff=diff,
                body=body,
                live=live,
                live_version=live.get("version"),
                source=source,
                drift=drift,
            )

        changes = ctx.parallel(bodies, one)
        if options.prune:
            for live in grafana.list_datasources():
                if live.get("uid") not in desired_uids and is_managed_datasource(live):
                    changes.append(Change(self.name, live["uid"], "delete", reason="no longer in out/"))
        return changes

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        grafana = self.client(ctx.clients)
        if change.action == "create":
            grafana.create_datasource(change.body)
        elif change.action == "update":
            version = None if ctx.force else change.live_version
            grafana.update_datasource(change.key, {**change.body, "version": version})
        else:
            grafana.delete_datasource(change.key)
        return ""
