"""Apply a plan: only what changed, in dependency order, a few objects at a time.

Stages run one after another (datasources, folders by depth, dashboards, rule groups, Alertmanager, then
deletions in reverse); objects within a stage run concurrently. A failed object does not stop the others,
but whatever depends on it (a dashboard on its folder, a folder deletion on its dashboards' deletion) is
skipped. A 401/403 stops everything: no later request can succeed with the same credential.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import LgtmError
from ..normalize import FOLDER_MARKER
from .plan import Change, Clients, Plan
from .remote import AuthError, VersionConflict

STATUS_FOR_ACTION = {"create": "created", "update": "updated", "delete": "deleted"}


@dataclass
class Outcome:
    change: Change
    status: str  # created | updated | deleted | unchanged | conflict | failed | skipped
    error: str = ""


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    auth_error: AuthError | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("created", "updated", "deleted", "unchanged")]
        parts += [f"{self.count(s)} {s}" for s in ("conflict", "failed", "skipped") if self.count(s)]
        return ", ".join(parts)


def stages(plan: Plan) -> list[list[Change]]:
    """The pending changes grouped into stages that must run in order."""
    pending = plan.pending
    upserts = [c for c in pending if c.action != "delete"]
    deletes = [c for c in pending if c.action == "delete"]

    def of(changes: list[Change], kind: str) -> list[Change]:
        return [c for c in changes if c.kind == kind]

    result = [of(upserts, "datasource")]
    folders = of(upserts, "folder")
    result += [[c for c in folders if c.depth == d] for d in sorted({c.depth for c in folders})]
    result += [of(upserts, "dashboard"), of(upserts, "rule-group"), of(upserts, "alertmanager")]
    result += [of(deletes, "rule-group"), of(deletes, "dashboard")]
    folder_deletes = of(deletes, "folder")
    result += [
        [c for c in folder_deletes if c.depth == d]
        for d in sorted({c.depth for c in folder_deletes}, reverse=True)
    ]
    result.append(of(deletes, "datasource"))
    return [stage for stage in result if stage]


def apply_plan(
    plan: Plan,
    clients: Clients,
    *,
    message: str,
    force: bool = False,
    concurrency: int = 4,
    on_done: Callable[[Outcome], None] | None = None,
) -> ApplyResult:
    result = ApplyResult(
        outcomes=[Outcome(c, c.action) for c in plan.changes if c.action in ("unchanged", "conflict")]
    )
    for outcome in result.outcomes:
        if outcome.status == "conflict":
            outcome.error = outcome.change.reason
    blocked: set[str] = {c.ref for c in plan.changes if c.action == "conflict"}
    lock = threading.Lock()
    stop = threading.Event()

    def run(change: Change) -> Outcome:
        if stop.is_set():
            return Outcome(change, "skipped", "stopped after an authentication failure")
        failed_deps = [d for d in change.depends_on if d in blocked]
        if failed_deps:
            return Outcome(change, "skipped", f"depends on {', '.join(failed_deps)}, which was not applied")
        try:
            _apply_one(change, clients, message=message, force=force)
            return Outcome(change, STATUS_FOR_ACTION[change.action])
        except AuthError as err:
            stop.set()
            with lock:
                result.auth_error = result.auth_error or err
            return Outcome(change, "failed", str(err))
        except VersionConflict as err:
            return Outcome(
                change, "conflict", f"changed in Grafana while publishing ({err}); run publish again"
            )
        except LgtmError as err:
            return Outcome(change, "failed", str(err))

    for stage in stages(plan):
        workers = max(1, min(concurrency, len(stage)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for outcome in pool.map(run, stage):
                if outcome.status in ("failed", "skipped", "conflict"):
                    blocked.add(outcome.change.ref)
                result.outcomes.append(outcome)
                if on_done is not None:
                    on_done(outcome)
    return result


def _apply_one(change: Change, clients: Clients, *, message: str, force: bool) -> None:
    grafana, mimir = clients.grafana, clients.mimir
    kind, action, body = change.kind, change.action, change.body
    if kind == "datasource":
        assert grafana is not None
        if action == "create":
            grafana.create_datasource(body)
        elif action == "update":
            grafana.update_datasource(change.key, {**body, "version": None if force else change.live_version})
        else:
            grafana.delete_datasource(change.key)
    elif kind == "folder":
        assert grafana is not None
        if action == "create":
            grafana.create_folder(change.key, body["title"], body.get("parentUid"), FOLDER_MARKER)
        elif action == "update":
            live = change.live or {}
            if (live.get("parentUid") or "") != (body.get("parentUid") or ""):
                grafana.move_folder(change.key, body.get("parentUid"))
            if (live.get("title") or "").strip() != body["title"]:
                version = None if force else change.live_version
                if (live.get("parentUid") or "") != (body.get("parentUid") or ""):
                    version = None  # the move above bumped the version
                grafana.update_folder(change.key, body["title"], live.get("description") or "", version)
        else:
            grafana.delete_folder(change.key)
    elif kind == "dashboard":
        assert grafana is not None
        if action == "delete":
            grafana.delete_dashboard(change.key)
        else:
            grafana.save_dashboard(
                body["dashboard"],
                body["folderUid"],
                message,
                version=change.live_version,
                overwrite=force and action == "update",
            )
    elif kind == "rule-group":
        assert mimir is not None
        namespace, _, name = change.key.partition("/")
        if action == "delete":
            mimir.delete_rule_group(namespace, name)
        else:
            mimir.set_rule_group(namespace, body)
    elif kind == "alertmanager":
        assert mimir is not None
        mimir.set_alertmanager(body)
    else:  # pragma: no cover - plan only produces the kinds above
        raise AssertionError(kind)
