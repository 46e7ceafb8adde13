"""`lgtm-dash import PATH...` and `lgtm-dash import --live --env ENV [--uid U]... [--folder F] [--tag T] [--rules]`.

Exit codes: 0 everything imported, 2 a file could not be imported or a module exists (the others are still
written), 3 Grafana or Mimir failed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from ..artifacts import read_json_file
from ..errors import EXIT_BAD_INPUT, EXIT_OK, LgtmError, UsageError
from ..model.folder import Folder
from ..source import display_path
from ..yamlio import dump_yaml
from . import ImportReport, import_into
from .dashboards import DashboardSource, unwrap
from .datasources import KnownDatasource
from .rules import NamespaceSource, read_rule_documents, read_rule_file

DASHBOARD_SUFFIXES = (".json",)
RULE_SUFFIXES = (".yaml", ".yml")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH",
        help="dashboard .json files, rule .yaml/.yml files, or directories of them",
    )  # fmt: skip
    parser.add_argument("--live", action="store_true", help="read from the environment's Grafana (and Mimir)")
    parser.add_argument("--env", default=None, help="environment of --live (default: dev)")
    parser.add_argument("--uid", action="append", default=[], help="--live: this dashboard (repeatable)")
    parser.add_argument("--folder", default=None, help="--live: the dashboards of this folder uid")
    parser.add_argument("--tag", default=None, help="--live: the dashboards with this tag")
    parser.add_argument(
        "--rules", action="store_true", help="--live: also every rule namespace of the tenant"
    )
    parser.add_argument("--force", action="store_true", help="replace modules that exist already")


def run(args: argparse.Namespace) -> int:
    if args.live == bool(args.paths):
        raise UsageError("give dashboard and rule files (PATH...) or --live, not both")
    if not args.live and (args.uid or args.folder or args.tag or args.rules):
        raise UsageError("--uid, --folder, --tag and --rules select what --live imports")
    if args.live:
        dashboards, namespaces, failures, instance = read_live(args)
    else:
        dashboards, namespaces, failures = read_paths(args.paths)
        instance = []
    report = import_into(
        args.project,
        dashboards,
        namespaces,
        force=args.force,
        instance_datasources=instance,
        failures=failures,
    )
    print_report(report)
    return EXIT_OK if report.ok else EXIT_BAD_INPUT


def read_paths(paths: list[Path]) -> tuple[list[DashboardSource], list[NamespaceSource], list[str]]:
    dashboards: list[DashboardSource] = []
    namespaces: list[NamespaceSource] = []
    failures: list[str] = []
    for path in _files(paths):
        try:
            if path.suffix in DASHBOARD_SUFFIXES:
                data, folder = unwrap(read_json_file(path))
                dashboards.append(DashboardSource(data, path.name, folder))
            else:
                namespaces.extend(read_rule_file(path))
        except LgtmError as err:
            failures.append(str(err) if err.location else f"{display_path(path)}: {err}")
    return dashboards, namespaces, failures


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path} does not exist")
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in (*DASHBOARD_SUFFIXES, *RULE_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.suffix in (*DASHBOARD_SUFFIXES, *RULE_SUFFIXES):
            found.append(path)
        else:
            raise UsageError(f"{path}: expected a dashboard .json, a rule .yaml/.yml file or a directory")
    return found


def read_live(
    args: argparse.Namespace,
) -> tuple[list[DashboardSource], list[NamespaceSource], list[str], list[KnownDatasource]]:
    """Dashboards (and with --rules, rule namespaces) from the environment's Grafana and Mimir."""
    from ..clients.grafana import Grafana, NotLegacyDashboard
    from ..environments import resolve_environment
    from ..normalize import DASHBOARD_MARKER

    env = resolve_environment(args.project, args.env)
    grafana = Grafana(env.grafana)
    instance = [
        KnownDatasource(
            uid=str(d.get("uid")),
            name=str(d.get("name")),
            type=str(d.get("type")),
            default=bool(d.get("isDefault")),
        )
        for d in grafana.list_datasources()
        if d.get("uid")
    ]
    folders = {f["uid"]: f for f in grafana.list_folders() if f.get("uid")}
    uids = list(args.uid) or [
        hit["uid"]
        for hit in grafana.search_dashboards(tag=args.tag, folder_uid=args.folder)
        if hit.get("uid")
    ]
    dashboards: list[DashboardSource] = []
    failures: list[str] = []
    for uid in dict.fromkeys(uids):
        try:
            body = grafana.get_dashboard(uid)
        except NotLegacyDashboard as err:  # a schema v2 dashboard: the legacy API cannot read it
            failures.append(f"grafana:{uid}: {err}")
            continue
        if body is None:
            failures.append(f"grafana: no dashboard with uid {uid!r}")
            continue
        meta: dict[str, Any] = body.get("meta") or {}
        try:
            data, _ = unwrap(body)
        except LgtmError as err:
            failures.append(f"grafana:{uid}: {err}")
            continue
        data.pop(DASHBOARD_MARKER, None)  # what publish adds to every dashboard it saves
        dashboards.append(
            DashboardSource(data, f"Grafana ({env.name}) uid {uid}", _folder(meta.get("folderUid"), folders))
        )
    namespaces: list[NamespaceSource] = []
    if args.rules:
        from ..clients.mimir import Mimir
        from ..normalize import unmark_rule_group

        for name, groups in sorted(Mimir(env.mimir).list_rules().items()):
            groups = [unmark_rule_group(g) for g in groups]  # the comment publish adds to every group
            document = yaml.compose(dump_yaml({"namespace": name, "groups": groups}))
            try:
                namespaces.extend(
                    read_rule_documents([document], name, f"Mimir ({env.name}) namespace {name}")
                )
            except LgtmError as err:
                failures.append(str(err))
    return dashboards, namespaces, failures, instance


def _folder(uid: Any, folders: dict[str, dict[str, Any]]) -> Folder | None:
    """The dashboard's folder with its parents (None: the General folder)."""
    if not isinstance(uid, str) or not uid or uid not in folders:
        return None
    entry = folders[uid]
    return Folder(
        uid=uid, title=str(entry.get("title") or uid), parent=_folder(entry.get("parentUid"), folders)
    )


def print_report(report: ImportReport) -> None:
    for item in report.written:
        print(f"wrote {item.path}: {item.what}")
        for note in item.notes:
            print(f"    {note}")
    if report.unresolved:
        print("datasources the project did not define, declared as external (check their uid and type):")
        for uid, module in report.unresolved.items():
            print(f"    {uid!r} in {module}")
    for failure in report.failures:
        print(f"error: {failure}")
    dashboards = sum(1 for w in report.written if w.path.startswith("dashboards/"))
    rules = sum(1 for w in report.written if w.path.startswith("alerts/"))
    failed = f", {len(report.failures)} failed" if report.failures else ""
    print(f"imported {dashboards} dashboards and {rules} rule namespaces{failed}")
