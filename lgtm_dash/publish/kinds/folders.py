"""Folders: `grafana/folders.yaml` sent over Grafana's folder API, parents before children.

Compared: uid, title and parent. Drift: a folder that differs and was last changed by someone other
than the credential publish writes as (`updatedBy` against `GET /api/user`, rows G-FOLDER-UPDATED-BY and
G-USER) was changed in Grafana: the plan says so, then applies out/ as for any update.

Owned (what `--prune` may delete): Grafana's folder API returns no description or other free field a
marker could live in (row G-FOLDER-GET), so ownership is witnessed by the dashboards instead: every
dashboard publish writes carries, in its marker, the lgtm-dash folders above it. A folder absent from out/
is deleted only when such a marker names it and nothing else is left in it (no dashboard or folder
lgtm-dash does not delete in the same run, no library panel, no alert rule). A folder that never held a
published dashboard is therefore never pruned; delete it by hand.

Deleting a folder deletes everything in it (row G-FOLDER-DELETE), so emptiness is checked twice: in the
plan, and again right before the delete (`GET /api/folders/:uid/counts`, row G-FOLDER-COUNTS). A folder
something was saved into meanwhile is not deleted: that folder is a conflict, with what it holds.

Nesting depth comes from `publish.foldertree` (computed once per plan, cycle-safe).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...errors import RemoteError
from ...normalize import normalize_folder
from ..foldertree import FolderCycle, FolderTree
from ..plan import Change, PlanContext, drift_diff
from .base import ApplyContext, Kind, UnsafeToApply

# The descendant-count key of sub-folders (row G-FOLDER-COUNTS); every other key is content.
SUBFOLDERS = "folder"


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items()))


class Folders(Kind):
    name: ClassVar[str] = "folder"
    service: ClassVar[str] = "grafana"
    prunes: ClassVar[bool] = True

    def desired_count(self, arts: Artifacts) -> int:
        return len(arts.folders)

    def check_desired(self, ctx: PlanContext) -> None:
        ctx.folder_tree()  # a cycle in folders.yaml fails here

    def plan(self, ctx: PlanContext) -> list[Change]:
        grafana = self.client(ctx.clients)
        tree = ctx.folder_tree()

        def one(folder: dict[str, Any]) -> Change:
            uid = folder["uid"]
            want = normalize_folder(folder)
            deps = (f"folder:{want['parentUid']}",) if want.get("parentUid") in tree.parents else ()
            source = ctx.source(f"folder:{uid}")
            depth = tree.depths[uid]
            live = grafana.get_folder(uid)
            if live is None:
                return Change(
                    self.name, uid, "create", body=want, depends_on=deps, source=source, depth=depth
                )
            have = normalize_folder(live)
            if have == want:
                return Change(self.name, uid, "unchanged", source=source, depth=depth)
            drift = self._drift(grafana, live)
            return Change(
                self.name,
                uid,
                "update",
                drift=drift,
                diff=drift_diff(have, want, drift),
                body=want,
                live=live,
                live_version=live.get("version"),
                depends_on=deps,
                source=source,
                depth=depth,
            )

        return ctx.parallel(ctx.arts.folders, one)

    @staticmethod
    def _drift(grafana: Any, live: dict[str, Any]) -> str:
        """Who changed a differing folder in Grafana, when it was not the credential publish writes as."""
        who = str(live.get("updatedBy") or "")
        me = grafana.identity()
        if not who or not me or who == me:
            return ""
        when = f" at {live['updated']}" if live.get("updated") else ""
        return f"changed in Grafana by {who}{when}"

    def plan_after(self, ctx: PlanContext) -> list[Change]:
        """Owned folders no longer in out/, deleted only when nothing else is left in them."""
        if not ctx.options.prune:
            return []
        grafana = self.client(ctx.clients)
        desired = {f["uid"] for f in ctx.arts.folders}
        live_folders = grafana.list_folders()
        tree = FolderTree.of(live_folders)
        try:
            depths = tree.depths
        except FolderCycle as err:  # Grafana refuses cycles on move; a loop here is a server bug
            raise RemoteError(f"Grafana's folders form a cycle: {err}") from None
        children: dict[str, list[str]] = {}
        for uid, parent in tree.parents.items():
            children.setdefault(parent, []).append(uid)
        owned = {uid for uid in tree.parents if uid not in desired and uid in ctx.witnessed_folders}
        dashboards = [c for c in ctx.changes if c.kind == "dashboard"]
        leaving = {c.key for c in dashboards if c.action == "delete"}
        # A dashboard moved to another folder in this run leaves its old one too.
        leaving |= {
            c.key
            for c in dashboards
            if c.action == "update" and (c.live or {}).get("folderUid") != (c.body or {}).get("folderUid")
        }
        changes: list[Change] = []
        # Deepest first, so a parent knows whether its children go.
        for uid in sorted(owned, key=lambda u: (-depths[u], u)):
            going = {c.key for c in changes if c.action == "delete"}
            blockers = [child for child in children.get(uid, []) if child not in going]
            deps = [f"folder:{child}" for child in children.get(uid, []) if child in going]
            for hit in grafana.search_dashboards(folder_uid=uid):
                if hit["uid"] in leaving:
                    deps.append(f"dashboard:{hit['uid']}")
                else:
                    blockers.append(hit["uid"])
            # What the search does not list and Grafana would delete along (library panels, alert rules).
            try:
                counts = self._contents(grafana, uid)
            except UnsafeToApply:
                counts = {"content Grafana would not count": 1}
            others = {k: n for k, n in counts.items() if n and k not in (SUBFOLDERS, "dashboard")}
            if others:
                blockers.append(describe_counts(others))
            if blockers:
                changes.append(
                    Change(
                        self.name,
                        uid,
                        "conflict",
                        reason=f"no longer in out/, but still holds {', '.join(sorted(blockers)[:5])} "
                        "which lgtm-dash does not delete; move or delete them first",
                        depth=depths[uid],
                    )
                )
            else:
                changes.append(
                    Change(
                        self.name,
                        uid,
                        "delete",
                        reason="no longer in out/",
                        depends_on=tuple(deps),
                        depth=depths[uid],
                    )
                )
        return changes

    @staticmethod
    def _contents(grafana: Any, uid: str) -> dict[str, int]:
        """What an existing folder holds, by kind; UnsafeToApply when Grafana cannot say."""
        counts = grafana.folder_counts(uid)
        if counts is None:
            raise UnsafeToApply(
                f"folder {uid}: Grafana did not say what it holds (GET /api/folders/{uid}/counts answered "
                "404): not deleted"
            )
        return counts

    def stages(self, pending: list[Change]) -> tuple[list[list[Change]], list[list[Change]]]:
        upserts = [c for c in pending if c.action != "delete"]
        deletes = [c for c in pending if c.action == "delete"]
        early = [[c for c in upserts if c.depth == d] for d in sorted({c.depth for c in upserts})]
        late = [
            [c for c in deletes if c.depth == d] for d in sorted({c.depth for c in deletes}, reverse=True)
        ]
        return early, late

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        grafana = self.client(ctx.clients)
        body = change.body
        if change.action == "create":
            grafana.create_folder(change.key, body["title"], body.get("parentUid"))
        elif change.action == "update":
            live = change.live or {}
            moved = (live.get("parentUid") or "") != (body.get("parentUid") or "")
            if moved:
                grafana.move_folder(change.key, body.get("parentUid"))
            if (live.get("title") or "").strip() != body["title"]:
                # The move above bumped the version: overwrite, as we just wrote it ourselves.
                version = None if ctx.force or moved else change.live_version
                grafana.update_folder(change.key, body["title"], version)
        else:
            # Re-checked right before the delete: Grafana deletes whatever is inside along with it.
            if grafana.get_folder(change.key) is None:
                return "already gone"
            left = {kind: n for kind, n in self._contents(grafana, change.key).items() if n}
            if left:
                raise UnsafeToApply(
                    f"folder {change.key} is not empty any more ({describe_counts(left)} saved into it since "
                    "the plan): not deleted, as Grafana would delete them with it; move or delete them first"
                )
            grafana.delete_folder(change.key)
        return ""
