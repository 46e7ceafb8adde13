"""Live state (and out/) written in the out/ layout, normalised the way `plan` compares.

`diff --live` writes both trees and diffs them with the same semantic diff it uses for git refs, so it
shows exactly what `plan` considers different. Secrets never land in either tree: datasource secure
fields and Alertmanager credentials appear as `<secret>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import artifacts as layout
from ..artifacts import Artifacts
from ..clients.grafana import Grafana, NotLegacyDashboard
from ..clients.http import RetryPolicy
from ..clients.loki import LokiRuler
from ..clients.mimir import Mimir
from ..compile import dumps_json, write_atomically
from ..environments import Environment
from ..model.dashboard import MANAGED_TAG
from ..normalize import (
    DATASOURCE_BOOKKEEPING_KEYS,
    DATASOURCE_MARKER,
    marked_folders,
    mask_alertmanager_secrets,
    normalize_alertmanager,
    normalize_dashboard,
    normalize_datasource,
    normalize_folder,
    normalize_loki_rule_group,
    normalize_rule_group,
)
from ..secrets import expand, to_provisioning
from ..yamlio import dump_yaml
from .foldertree import FolderTree, desired_tree


class _KeepPlaceholders(Mapping[str, str]):
    """An environment in which every `${VAR}` stays as written (nothing secret is read)."""

    def __getitem__(self, name: str) -> str:
        return "${" + name + "}"

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self):  # pragma: no cover - Mapping protocol only
        return iter(())

    def __len__(self) -> int:  # pragma: no cover
        return 0


def _datasource_entry(normalized: dict[str, Any]) -> dict[str, Any]:
    entry = dict(normalized)
    json_data = {
        k: v for k, v in (entry.get("jsonData") or {}).items() if k not in DATASOURCE_BOOKKEEPING_KEYS
    }
    if json_data:
        entry["jsonData"] = json_data
    else:
        entry.pop("jsonData", None)
    result = to_provisioning(_sorted_keys(entry))  # back to the provisioning file's `$$` spelling
    assert isinstance(result, dict)
    return result


def _sorted_keys(value: Any) -> Any:
    """Mappings with sorted keys (list order kept), so live and desired files compare line by line."""
    if isinstance(value, Mapping):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _alertmanager_file(body: Mapping[str, Any]) -> dict[str, Any]:
    normalized = normalize_alertmanager(body)
    config = _sorted_keys(mask_alertmanager_secrets(normalized["alertmanager_config"]))
    return {"template_files": normalized["template_files"], "alertmanager_config": dump_yaml(config)}


def _render_tree(
    env_name: str,
    generator: str,
    datasources: Iterable[dict[str, Any]],
    folders: Iterable[dict[str, Any]],
    dashboards: Iterable[tuple[str, dict[str, Any]]],
    rule_namespaces: Mapping[str, list[dict[str, Any]]],
    alertmanager: Mapping[str, Any] | None,
    loki_rule_namespaces: Mapping[str, list[dict[str, Any]]],
) -> dict[str, str]:
    files = {
        layout.BUILD_INFO: dumps_json({"env": env_name, "generator": generator}),
        layout.DATASOURCES: dump_yaml(
            {"apiVersion": 1, "datasources": sorted(datasources, key=lambda d: str(d.get("uid")))}
        ),
        layout.FOLDERS: dump_yaml({"folders": list(folders)}),
    }
    for folder_uid, data in dashboards:
        files[layout.dashboard_path(folder_uid or "general", data["uid"])] = dumps_json(
            normalize_dashboard(data)
        )
    for ruler, namespaces, normalize in (
        ("mimir", rule_namespaces, normalize_rule_group),
        ("loki", loki_rule_namespaces, normalize_loki_rule_group),
    ):
        for namespace, groups in sorted(namespaces.items()):
            # The rulers list groups by name, whatever order they were written in.
            normalized = sorted((normalize(g) for g in groups), key=lambda g: g["name"])
            files[layout.rules_path(namespace, ruler)] = dump_yaml(
                {"namespace": namespace, "groups": normalized}
            )
    if alertmanager is not None:
        files[layout.ALERTMANAGER] = dump_yaml(_alertmanager_file(alertmanager))
    return files


def _ordered_folders(folders: list[dict[str, Any]], depths: Mapping[str, int]) -> list[dict[str, Any]]:
    return sorted(folders, key=lambda f: (depths.get(f["uid"], 0), f["uid"]))


def export_desired(arts: Artifacts, dest_dir: Path) -> None:
    """out/ normalised like `export_live` output (no environment variable is read)."""
    keep = _KeepPlaceholders()
    datasources = []
    for entry in arts.datasources:
        body = expand(dict(entry), keep)
        assert isinstance(body, dict)
        datasources.append(_datasource_entry(normalize_datasource(body)))
    folders = _ordered_folders([normalize_folder(f) for f in arts.folders], desired_tree(arts).depths)
    dashboards = [(d.folder_uid, d.data) for d in arts.dashboards]
    write_atomically(
        _render_tree(
            arts.env or "",
            "lgtm-dash out",
            datasources,
            folders,
            dashboards,
            arts.rule_namespaces,
            arts.alertmanager,
            arts.loki_rule_namespaces,
        ),
        dest_dir,
    )


def export_live(
    env: Environment,
    dest_dir: Path,
    *,
    artifacts: Artifacts | None = None,
    retry: RetryPolicy | None = None,
    secrets: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """The live state in scope, in the out/ layout.

    In scope: what lgtm-dash manages (datasources it marked, dashboards tagged `lgtm-dash`, the folders
    their publish markers name), plus, when `artifacts` (a read out/) is given, every object out/ names,
    and only the rule namespaces out/ has (without it: every namespace of the tenant), of Mimir and, when the
    environment names one, of Loki's ruler. A dashboard stored as schema v2 cannot be read through the legacy
    API and is left out. `dest_dir` is replaced.
    """
    limit = {"timeout": timeout} if timeout else {}
    grafana = Grafana(env.grafana, retry=retry, secrets=secrets, **limit)
    mimir = Mimir(env.mimir, retry=retry, secrets=secrets, **limit)
    wanted_ds = {d.get("uid") for d in artifacts.datasources} if artifacts else set()
    wanted_folders = {f["uid"] for f in artifacts.folders} if artifacts else set()
    wanted_dashboards = {d.uid for d in artifacts.dashboards} if artifacts else set()

    datasources = []
    for item in grafana.list_datasources():
        if item.get("uid") in wanted_ds or (item.get("jsonData") or {}).get(DATASOURCE_MARKER):
            live = grafana.get_datasource(item["uid"])
            if live is not None:
                datasources.append(_datasource_entry(normalize_datasource(live)))

    dashboard_uids = {hit["uid"] for hit in grafana.search_dashboards(tag=MANAGED_TAG)} | wanted_dashboards
    dashboards = []
    owned_folders = set(wanted_folders)
    for uid in sorted(dashboard_uids):
        try:
            live = grafana.get_dashboard(uid)
        except NotLegacyDashboard:
            continue
        if live is not None:
            owned_folders.update(marked_folders(live["dashboard"]))
            dashboards.append((live.get("meta", {}).get("folderUid") or "", live["dashboard"]))

    live_folders = grafana.list_folders()
    depths = FolderTree.of(live_folders).depths
    folders = [normalize_folder(item) for item in live_folders if item["uid"] in owned_folders]

    rules = mimir.list_rules()
    if artifacts is not None:
        rules = {ns: groups for ns, groups in rules.items() if ns in artifacts.rule_namespaces}
    alertmanager = mimir.get_alertmanager()
    loki_rules: dict[str, list[dict[str, Any]]] = {}
    if env.loki is not None and env.loki.tenant:
        loki_rules = LokiRuler(env.loki, retry=retry, secrets=secrets, **limit).list_rules()
        if artifacts is not None:
            loki_rules = {ns: g for ns, g in loki_rules.items() if ns in artifacts.loki_rule_namespaces}

    write_atomically(
        _render_tree(
            env.name,
            "lgtm-dash live",
            datasources,
            _ordered_folders(folders, depths),
            dashboards,
            rules,
            alertmanager,
            loki_rules,
        ),
        dest_dir,
    )


__all__ = ["export_desired", "export_live"]
