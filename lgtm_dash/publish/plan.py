"""Plan: desired state (out/) against live state (Grafana, Mimir), object by object.

Every object gets one action: create, update, unchanged, delete or conflict. Nothing here writes.

Ownership (what `--prune` may delete): dashboards tagged `lgtm-dash`; datasources whose `jsonData`
carries `lgtmDashManaged: true` (publish sets it); folders whose description is "Managed by lgtm-dash"
(publish sets it) and that hold nothing else; rule groups only inside the namespaces present in out/.
Nothing outside those is ever deleted, and `--prune` refuses to run on an empty desired state.

A dashboard is in conflict when the live copy differs from out/ and its newest saved version was not
written by lgtm-dash (a person edited it in the UI, or another tool owns that uid): publishing it would
lose that edit, so it is only overwritten with `--force`.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifacts import Artifacts, build_hint
from ..environments import Environment
from ..errors import DefinitionError, UsageError
from ..grafana import Grafana
from ..mimir import Mimir
from ..normalize import (
    DATASOURCE_MARKER,
    FOLDER_MARKER,
    SECURE_FINGERPRINT,
    canonical_json,
    dropped_group_fields,
    is_managed_dashboard,
    is_managed_datasource,
    mask_alertmanager_secrets,
    normalize_alertmanager,
    normalize_dashboard,
    normalize_datasource,
    normalize_folder,
    normalize_rule_group,
    secure_fingerprint,
)
from ..secrets import expand, placeholders_in
from .remote import RetryPolicy

MESSAGE_PREFIX = "lgtm-dash publish"
ACTIONS = ("create", "update", "delete", "unchanged", "conflict")
# Kinds in dependency order: what publish creates first comes first.
KINDS = ("datasource", "folder", "dashboard", "rule-group", "alertmanager")
# Provisioning-file keys the HTTP API does not take.
_PROVISIONING_ONLY = ("orgId", "editable", "version")
MAX_DIFF_LINES = 80


@dataclass(frozen=True)
class Change:
    """One object's planned action. `body` is what apply sends; `ref` is `<kind>:<key>`."""

    kind: str
    key: str
    action: str
    reason: str = ""
    diff: str = ""
    body: Any = None
    live: Any = None
    live_version: int | None = None
    depends_on: tuple[str, ...] = ()
    source: str | None = None
    depth: int = 0  # folders: nesting level, so parents are created first and deleted last

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    force: bool = False
    update_secrets: bool = False
    concurrency: int = 4  # writes in flight (apply)
    # Reads in flight while planning: GETs are idempotent and cheap for the server, and reading back
    # every dashboard is what bounds a no-op publish.
    read_concurrency: int = 32


@dataclass
class Plan:
    env: Environment
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def pending(self) -> list[Change]:
        """What apply would do (conflicts are never applied)."""
        return [c for c in self.changes if c.action in ("create", "update", "delete")]

    def summary(self) -> str:
        line = (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('delete')} to delete, {self.count('unchanged')} unchanged"
        )
        conflicts = self.count("conflict")
        if conflicts:
            line += f", {conflicts} conflict{'s' if conflicts != 1 else ''}"
        return line


@dataclass
class Clients:
    """The live instances; either may be None when out/ has nothing for it."""

    grafana: Grafana | None
    mimir: Mimir | None


# --- desired state ------------------------------------------------------------------------------------


def check_environment(arts: Artifacts, env: Environment) -> None:
    if arts.env is None:
        raise DefinitionError(f"{arts.root} has no build.json: build it first with `{build_hint(env.name)}`")
    if arts.env != env.name:
        raise UsageError(
            f"{arts.root} was built for environment {arts.env!r}, not {env.name!r}: "
            f"run `{build_hint(env.name)}` and pass that directory as --out (or `make plan ENV={env.name}`)"
        )


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
    return body


def alertmanager_body(body: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    expanded = expand(dict(body), environ, context="the Alertmanager config", grafana_escapes=False)
    assert isinstance(expanded, dict)
    return expanded


def require_variables(arts: Artifacts, environ: Mapping[str, str]) -> None:
    """Fail (naming all of them at once) when variables the artifacts' `${VAR}` placeholders need are unset."""
    needed: dict[str, list[str]] = {}
    for entry in arts.datasources:
        for name in sorted(placeholders_in(entry)):
            needed.setdefault(name, []).append(f"datasource {entry.get('uid')}")
    if arts.alertmanager:
        for name in sorted(_braced_placeholders(arts.alertmanager)):
            needed.setdefault(name, []).append("the Alertmanager config")
    missing = [name for name in sorted(needed) if name not in environ]
    if missing:
        listed = "; ".join(f"{name} (needed by {', '.join(needed[name])})" for name in missing)
        raise UsageError(f"environment variable{'s' if len(missing) > 1 else ''} not set: {listed}")


def secret_values(env: Environment, arts: Artifacts, environ: Mapping[str, str]) -> dict[str, str]:
    """Every secret value this run may handle, by variable name, for redaction."""
    names = set(env.secret_variables())
    for entry in arts.datasources:
        names |= placeholders_in(entry.get("secureJsonData") or {})
    if arts.alertmanager:
        names |= _braced_placeholders(arts.alertmanager)
    values = {name: environ[name] for name in names if environ.get(name)}
    for label, value in (
        ("grafana token", env.grafana.token),
        ("grafana password", env.grafana.password),
        ("mimir key", env.mimir.key),
    ):
        if value:
            values[label] = value
    return values


class _PlaceholderRecorder(Mapping[str, str]):
    """An environment that knows every variable and remembers which ones were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return ""

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self):  # pragma: no cover - Mapping protocol only
        return iter(self.asked)

    def __len__(self) -> int:  # pragma: no cover
        return len(self.asked)


def _braced_placeholders(value: object) -> set[str]:
    """`${VAR}` names in a Mimir artifact (Go templates' `$labels` are not placeholders there)."""
    recorder = _PlaceholderRecorder()
    expand(value, recorder, grafana_escapes=False)
    return recorder.asked


def commit_message(project: Path) -> str:
    """`lgtm-dash publish <short sha>[ (dirty)]`: stored with each dashboard version."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=project, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{MESSAGE_PREFIX} {sha}{' (dirty)' if dirty else ''}"


def make_clients(
    env: Environment, arts: Artifacts, options: PlanOptions, retry: RetryPolicy, secrets: Mapping[str, str]
) -> Clients:
    needs_grafana = bool(arts.datasources or arts.folders or arts.dashboards or options.prune)
    needs_mimir = bool(arts.rule_namespaces or arts.alertmanager)
    return Clients(
        grafana=Grafana(env.grafana, retry=retry, secrets=secrets) if needs_grafana else None,
        mimir=Mimir(env.mimir, retry=retry, secrets=secrets) if needs_mimir else None,
    )


# --- comparing ----------------------------------------------------------------------------------------


def text_diff(live: Any, desired: Any, live_name: str = "live", desired_name: str = "out/") -> str:
    lines = list(
        difflib.unified_diff(
            canonical_json(live).splitlines(),
            canonical_json(desired).splitlines(),
            live_name,
            desired_name,
            n=2,
            lineterm="",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def _parallel(items: Iterable[Any], work: Callable[[Any], Any], concurrency: int) -> list[Any]:
    items = list(items)
    if len(items) <= 1 or concurrency <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(work, items))


def _plan_datasources(
    grafana: Grafana, arts: Artifacts, environ: Mapping[str, str], options: PlanOptions
) -> list[Change]:
    bodies = [datasource_body(entry, environ) for entry in arts.datasources]  # missing secrets fail here
    desired_uids = {b["uid"] for b in bodies}

    def one(body: dict[str, Any]) -> Change:
        uid = body["uid"]
        source = _source(arts, f"datasource:{uid}")
        live = grafana.get_datasource(uid)
        if live is None:
            return Change("datasource", uid, "create", body=body, source=source)
        want, have = normalize_datasource(body), normalize_datasource(live)
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
            return Change("datasource", uid, "unchanged", source=source)
        reason = "secrets re-sent (--update-secrets)" if same and not missing_secrets else ""
        if secure_changed:
            reason = "secure settings changed (e.g. the tenant): all secure fields are re-sent"
        if missing_secrets:
            reason = f"secure field(s) {', '.join(sorted(missing_secrets))} not set in Grafana"
        if live.get("readOnly"):
            return Change(
                "datasource",
                uid,
                "conflict",
                reason="read-only in Grafana (provisioned from a file): change it where it is provisioned",
                diff=text_diff(have, want),
                source=source,
            )
        if not resend_secrets:
            # PUT keeps secure fields left out, so secrets already set are not re-sent (or overwritten).
            kept = set(live.get("secureJsonFields") or {})
            body = {
                **body,
                "secureJsonData": {
                    k: v for k, v in (body.get("secureJsonData") or {}).items() if k not in kept
                },
            }
            if not body["secureJsonData"]:
                del body["secureJsonData"]
        return Change(
            "datasource",
            uid,
            "update",
            reason=reason,
            diff=text_diff(have, want),
            body=body,
            live=live,
            live_version=live.get("version"),
            source=source,
        )

    changes = _parallel(bodies, one, options.read_concurrency)
    if options.prune:
        for live in grafana.list_datasources():
            if live.get("uid") not in desired_uids and is_managed_datasource(live):
                changes.append(Change("datasource", live["uid"], "delete", reason="no longer in out/"))
    return changes


def _plan_folders(grafana: Grafana, arts: Artifacts, options: PlanOptions) -> list[Change]:
    by_uid = {f["uid"]: f for f in arts.folders}

    def depth(uid: str) -> int:
        parent = by_uid.get(uid, {}).get("parentUid")
        return 1 + (depth(parent) if parent in by_uid else 0)

    def one(folder: dict[str, Any]) -> Change:
        uid = folder["uid"]
        want = normalize_folder(folder)
        deps = (f"folder:{want['parentUid']}",) if want.get("parentUid") in by_uid else ()
        source = _source(arts, f"folder:{uid}")
        live = grafana.get_folder(uid)
        if live is None:
            return Change(
                "folder", uid, "create", body=want, depends_on=deps, source=source, depth=depth(uid)
            )
        have = normalize_folder(live)
        if have == want:
            return Change("folder", uid, "unchanged", source=source, depth=depth(uid))
        return Change(
            "folder",
            uid,
            "update",
            diff=text_diff(have, want),
            body=want,
            live=live,
            live_version=live.get("version"),
            depends_on=deps,
            source=source,
            depth=depth(uid),
        )

    return _parallel(arts.folders, one, options.read_concurrency)


def _plan_dashboards(grafana: Grafana, arts: Artifacts, options: PlanOptions) -> list[Change]:
    folder_refs = {f["uid"] for f in arts.folders}

    def one(art: Any) -> Change:
        uid = art.uid
        folder_uid = "" if art.folder_uid == "general" else art.folder_uid
        deps = (f"folder:{folder_uid}",) if folder_uid in folder_refs else ()
        source = _source(arts, f"dashboard:{uid}")
        body = {"dashboard": art.data, "folderUid": folder_uid}
        live = grafana.get_dashboard(uid)
        if live is None:
            return Change("dashboard", uid, "create", body=body, depends_on=deps, source=source)
        have = normalize_dashboard(live["dashboard"])
        want = normalize_dashboard(art.data)
        live_folder = live.get("meta", {}).get("folderUid") or ""
        version = live.get("meta", {}).get("version") or live["dashboard"].get("version")
        if have == want and live_folder == folder_uid:
            return Change("dashboard", uid, "unchanged", source=source)
        diff = text_diff(have, want)
        if live_folder != folder_uid:
            diff = f"folder: {live_folder or 'General'} -> {folder_uid or 'General'}\n{diff}".rstrip()
        edited_by = _edited_elsewhere(grafana, uid, live)
        reason = ""
        if edited_by is not None:
            if not options.force:
                return Change(
                    "dashboard",
                    uid,
                    "conflict",
                    reason=f"changed in Grafana by {edited_by} since the last publish; "
                    "use --force to overwrite it",
                    diff=diff,
                    live=live,
                    source=source,
                )
            reason = f"overwrites the change by {edited_by} (--force)"
        return Change(
            "dashboard",
            uid,
            "update",
            reason=reason,
            diff=diff,
            body=body,
            live_version=version,
            depends_on=deps,
            source=source,
        )

    changes = _parallel(arts.dashboards, one, options.read_concurrency)
    if options.prune:
        desired = {d.uid for d in arts.dashboards}
        from ..model.dashboard import MANAGED_TAG

        doomed = [hit for hit in grafana.search_dashboards(tag=MANAGED_TAG) if hit.get("uid") not in desired]

        def delete(hit: dict[str, Any]) -> Change | None:
            live = grafana.get_dashboard(hit["uid"])
            if live is None or not is_managed_dashboard(live["dashboard"]):
                return None
            edited_by = _edited_elsewhere(grafana, hit["uid"], live)
            if edited_by is not None and not options.force:
                return Change(
                    "dashboard",
                    hit["uid"],
                    "conflict",
                    reason=f"no longer in out/, but changed in Grafana by {edited_by} since the last "
                    "publish; use --force to delete it",
                    live=live,
                )
            folder = live.get("meta", {}).get("folderUid") or ""
            return Change(
                "dashboard", hit["uid"], "delete", reason="no longer in out/", live={"folderUid": folder}
            )

        changes.extend(c for c in _parallel(doomed, delete, options.read_concurrency) if c is not None)
    return changes


def _edited_elsewhere(grafana: Grafana, uid: str, live: Mapping[str, Any]) -> str | None:
    """Who saved the live dashboard last, when it was not lgtm-dash; None when it was."""
    message = grafana.latest_version_message(uid)
    if message is not None and message.startswith(MESSAGE_PREFIX):
        return None
    return str(live.get("meta", {}).get("updatedBy") or "someone")


def _plan_folder_deletes(grafana: Grafana, arts: Artifacts, dashboards: list[Change]) -> list[Change]:
    """Managed folders no longer in out/, deleted only when nothing else is left in them."""
    desired = {f["uid"] for f in arts.folders}
    live_folders = grafana.list_folders()
    children: dict[str, list[str]] = {}
    for folder in live_folders:
        children.setdefault(folder.get("parentUid") or "", []).append(folder["uid"])
    candidates = {}
    for folder in live_folders:
        if folder["uid"] in desired:
            continue
        detail = grafana.get_folder(folder["uid"])
        if detail is not None and detail.get("description") == FOLDER_MARKER:
            candidates[folder["uid"]] = folder
    dashboard_deletes = {c.key: c for c in dashboards if c.action == "delete"}
    depth = {f["uid"]: _depth(f["uid"], {x["uid"]: x for x in live_folders}) for f in live_folders}
    changes: list[Change] = []
    # Deepest first, so a parent knows whether its children go.
    for uid in sorted(candidates, key=lambda u: -depth[u]):
        going = {c.key for c in changes if c.action == "delete"}
        blockers = [child for child in children.get(uid, []) if child not in going]
        deps = [f"folder:{child}" for child in children.get(uid, []) if child in going]
        for hit in grafana.search_dashboards(folder_uid=uid):
            if hit["uid"] in dashboard_deletes:
                deps.append(f"dashboard:{hit['uid']}")
            else:
                blockers.append(hit["uid"])
        if blockers:
            changes.append(
                Change(
                    "folder",
                    uid,
                    "conflict",
                    reason=f"no longer in out/, but still holds {', '.join(sorted(blockers)[:5])} "
                    "which lgtm-dash does not delete; move or delete them first",
                    depth=depth[uid],
                )
            )
        else:
            changes.append(
                Change(
                    "folder",
                    uid,
                    "delete",
                    reason="no longer in out/",
                    depends_on=tuple(deps),
                    depth=depth[uid],
                )
            )
    return changes


def _depth(uid: str, folders: Mapping[str, Mapping[str, Any]]) -> int:
    parent = folders.get(uid, {}).get("parentUid")
    return 1 + (_depth(parent, folders) if parent in folders else 0)


def _plan_rules(mimir: Mimir, arts: Artifacts, options: PlanOptions, warnings: list[str]) -> list[Change]:
    live_rules = mimir.list_rules()
    changes: list[Change] = []
    for namespace, groups in sorted(arts.rule_namespaces.items()):
        live_groups = {g.get("name"): g for g in live_rules.get(namespace, [])}
        desired_names = set()
        for group in groups:
            name = str(group.get("name"))
            desired_names.add(name)
            key = f"{namespace}/{name}"
            source = _source(arts, f"group:{key}")
            dropped = dropped_group_fields(group)
            if dropped:
                warnings.append(
                    f"rule group {key}: Mimir does not store {', '.join(dropped)}; it will be ignored"
                )
            want = normalize_rule_group(group)
            live = live_groups.get(name)
            if live is None:
                changes.append(Change("rule-group", key, "create", body=group, source=source))
                continue
            have = normalize_rule_group(live)
            if have == want:
                changes.append(Change("rule-group", key, "unchanged", source=source))
            else:
                changes.append(
                    Change("rule-group", key, "update", diff=text_diff(have, want), body=group, source=source)
                )
        if options.prune:
            for name in sorted(set(live_groups) - desired_names):
                changes.append(
                    Change("rule-group", f"{namespace}/{name}", "delete", reason="no longer in out/")
                )
    return changes


def _plan_alertmanager(mimir: Mimir, arts: Artifacts, environ: Mapping[str, str]) -> list[Change]:
    body = alertmanager_body(arts.alertmanager or {}, environ)
    source = _source(arts, "alertmanager")
    live = mimir.get_alertmanager()
    if live is None:
        return [Change("alertmanager", "config", "create", body=body, source=source)]
    want, have = normalize_alertmanager(body), normalize_alertmanager(live)
    if want == have:
        return [Change("alertmanager", "config", "unchanged", source=source)]
    shown = text_diff(mask_alertmanager_secrets(have), mask_alertmanager_secrets(want))
    return [
        Change(
            "alertmanager",
            "config",
            "update",
            reason="" if shown else "a secret value changed",
            diff=shown,
            body=body,
            source=source,
        )
    ]


def _source(arts: Artifacts, key: str) -> str | None:
    return arts.sourcemap.get(key)


def _refuse_empty_prune(arts: Artifacts, changes: list[Change]) -> None:
    desired = {
        "datasource": len(arts.datasources),
        "folder": len(arts.folders),
        "dashboard": len(arts.dashboards),
        "rule-group": sum(len(g) for g in arts.rule_namespaces.values()),
    }
    if not any(desired.values()):
        raise UsageError(
            f"--prune refuses to run: {arts.root} holds nothing to publish, so it would delete everything"
        )
    for kind, count in desired.items():
        doomed = [c for c in changes if c.kind == kind and c.action == "delete"]
        if count == 0 and doomed:
            raise UsageError(
                f"--prune refuses to delete every managed {kind} ({len(doomed)} in total): "
                f"{arts.root} defines none; delete them by hand if that is really intended"
            )


def compute_plan(
    env: Environment,
    arts: Artifacts,
    clients: Clients,
    options: PlanOptions,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    environ = os.environ if environ is None else environ
    check_environment(arts, env)
    require_variables(arts, environ)  # every missing secret is named, before any request
    plan = Plan(env=env)

    if clients.grafana is not None:
        plan.changes += _plan_datasources(clients.grafana, arts, environ, options)
        plan.changes += _plan_folders(clients.grafana, arts, options)
        dashboards = _plan_dashboards(clients.grafana, arts, options)
        plan.changes += dashboards
        if options.prune:
            plan.changes += _plan_folder_deletes(clients.grafana, arts, dashboards)
    if clients.mimir is not None:
        if arts.rule_namespaces:
            plan.changes += _plan_rules(clients.mimir, arts, options, plan.warnings)
        if arts.alertmanager:
            plan.changes += _plan_alertmanager(clients.mimir, arts, environ)
    if options.prune:
        _refuse_empty_prune(arts, plan.changes)
    plan.changes.sort(key=lambda c: (KINDS.index(c.kind), c.key))
    return plan
