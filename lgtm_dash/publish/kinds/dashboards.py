"""Dashboards: `grafana/dashboards/<folder>/<uid>.json` saved with `POST /api/dashboards/db`.

Grafana stores the dashboard JSON as sent and returns it with only `id` and `version` rewritten (rows
G-DASH-SAVE, G-DASH-GET). So publish adds a marker to what it sends (`normalize.DASHBOARD_MARKER`): a
digest of the content and the lgtm-dash folders above the dashboard. That decides drift and ownership:

- The live copy equals out/ (marker aside): unchanged.
- It differs, and its content still matches the digest in its marker: lgtm-dash published it and nobody
  changed it since, so it is updated (one save, guarded by the live version).
- It differs, and the marker is missing or does not match: someone else saved it (a UI edit, another
  tool). That is a conflict, never overwritten without `--force`.

Version messages are not used for this: Grafana rewrites the message of a first version to "Initial
save" (row G-DASH-VERSIONS). `--prune` deletes only dashboards lgtm-dash owns: tagged `lgtm-dash` and
carrying a marker published under their own uid (`normalize.owns_dashboard`: a tag anyone can add, and a
copy keeps both tag and marker). One whose content no longer matches its marker is a conflict unless
`--force`: `--force` overrides an edit, never ownership. A dashboard stored as schema v2 cannot be read
through the legacy API (406, row G-DASH-GET-V2): it is a conflict, not a failure of the plan.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...clients.grafana import NotLegacyDashboard
from ...errors import RemoteError
from ...model.dashboard import MANAGED_TAG
from ...normalize import (
    changed_since_publish,
    dashboard_marker,
    mark_dashboard,
    marked_folders,
    normalize_dashboard,
    owns_dashboard,
)
from ..plan import Change, PlanContext, text_diff
from .base import ApplyContext, Kind

V2_REASON = "stored as a schema v2 dashboard, which Grafana's legacy API cannot read or safely overwrite"


class Dashboards(Kind):
    name: ClassVar[str] = "dashboard"
    service: ClassVar[str] = "grafana"
    prunes: ClassVar[bool] = True

    def desired_count(self, arts: Artifacts) -> int:
        return len(arts.dashboards)

    def plan(self, ctx: PlanContext) -> list[Change]:
        grafana, options = self.client(ctx.clients), ctx.options
        tree = ctx.folder_tree()

        def one(art: Any) -> Change:
            uid = art.uid
            data = art.data
            folder_uid = "" if art.folder_uid == "general" else art.folder_uid
            deps = (f"folder:{folder_uid}",) if folder_uid in tree.parents else ()
            source = ctx.source(f"dashboard:{uid}")

            def body() -> dict[str, Any]:  # only built for a write: the digest costs a full serialisation
                return {
                    "dashboard": mark_dashboard(data, tree.chain(folder_uid)),
                    "folderUid": folder_uid,
                }

            try:
                live = grafana.get_dashboard(uid)
            except NotLegacyDashboard as err:
                return Change(
                    self.name, uid, "conflict", reason=f"{V2_REASON} ({err.message})", source=source
                )
            if live is None:
                return Change(self.name, uid, "create", body=body(), depends_on=deps, source=source)
            ctx.witness_folders(marked_folders(live["dashboard"]))
            meta = live.get("meta", {})
            have = normalize_dashboard(live["dashboard"])
            want = normalize_dashboard(data)
            live_folder = meta.get("folderUid") or ""
            if have == want and live_folder == folder_uid:
                return Change(self.name, uid, "unchanged", source=source)
            diff = text_diff(have, want)
            if live_folder != folder_uid:
                diff = f"folder: {live_folder or 'General'} -> {folder_uid or 'General'}\n{diff}".rstrip()
            reason = ""
            if changed_since_publish(live["dashboard"]):
                edit = self._who_changed(grafana, uid, live)
                if not options.force:
                    return Change(
                        self.name,
                        uid,
                        "conflict",
                        reason=f"{edit}; use --force to overwrite it",
                        diff=diff,
                        live=live,
                        source=source,
                    )
                reason = f"overwrites it: {edit} (--force)"
            return Change(
                self.name,
                uid,
                "update",
                reason=reason,
                diff=diff,
                body=body(),
                live={"folderUid": live_folder},
                live_version=meta.get("version") or live["dashboard"].get("version"),
                depends_on=deps,
                source=source,
            )

        changes = ctx.parallel(ctx.arts.dashboards, one)
        if options.prune:
            changes += self._plan_deletes(ctx)
        return changes

    def _plan_deletes(self, ctx: PlanContext) -> list[Change]:
        grafana, options = self.client(ctx.clients), ctx.options
        desired = {d.uid for d in ctx.arts.dashboards}
        doomed = [hit for hit in grafana.search_dashboards(tag=MANAGED_TAG) if hit.get("uid") not in desired]

        def delete(hit: dict[str, Any]) -> Change | None:
            uid = hit["uid"]
            try:
                live = grafana.get_dashboard(uid)
            except NotLegacyDashboard as err:
                return Change(
                    self.name, uid, "conflict", reason=f"no longer in out/, but {V2_REASON} ({err})"
                )
            if live is None or MANAGED_TAG not in (live["dashboard"].get("tags") or []):
                return None
            if not owns_dashboard(live["dashboard"]):
                with ctx.lock:
                    ctx.warnings.append(
                        f"dashboard {uid} is tagged {MANAGED_TAG!r} but lgtm-dash did not publish it under "
                        "this uid (no publish marker naming it): never pruned, even with --force"
                    )
                return None
            ctx.witness_folders(marked_folders(live["dashboard"]))
            if changed_since_publish(live["dashboard"]) and not options.force:
                edit = self._who_changed(grafana, uid, live)
                return Change(
                    self.name,
                    uid,
                    "conflict",
                    reason=f"no longer in out/, but {edit}; use --force to delete it",
                    live=live,
                )
            folder = live.get("meta", {}).get("folderUid") or ""
            return Change(self.name, uid, "delete", reason="no longer in out/", live={"folderUid": folder})

        return [c for c in ctx.parallel(doomed, delete) if c is not None]

    @staticmethod
    def _who_changed(grafana: Any, uid: str, live: dict[str, Any]) -> str:
        """Why the live copy is someone else's, with who saved it last (and their message, if any)."""
        who = str(live.get("meta", {}).get("updatedBy") or "someone")
        if dashboard_marker(live["dashboard"]) is None:
            text = f"in Grafana, saved by {who}, but not published by lgtm-dash"
        else:
            text = f"changed in Grafana by {who} since the last publish"
        try:
            newest = grafana.latest_version(uid)
        except RemoteError:  # context only (the versions API needs save rights): never fail the plan on it
            newest = None
        message = (newest or {}).get("message") or ""
        if message and message != "Initial save":
            text += f" (version {newest.get('version')}: {message!r})"
        return text

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        grafana = self.client(ctx.clients)
        if change.action == "delete":
            grafana.delete_dashboard(change.key)
            return ""
        answer = grafana.save_dashboard(
            change.body["dashboard"],
            change.body["folderUid"],
            ctx.message,
            version=change.live_version,
            overwrite=ctx.force and change.action == "update",
        )
        return f"version {answer['version']}" if answer.get("version") else ""
