"""`lgtm-dash build`: definitions -> out/ (deterministic; built in a temporary directory, then swapped in).

Layout of out/ (the contract every later stage reads, see artifacts.py):
  build.json                                    which environment the artifacts are for
  sourcemap.json                                object key -> Python file:line that defined it
  grafana/datasources.yaml                      provisioning file (apiVersion: 1), secrets as ${VAR}
  grafana/folders.yaml                          folders (uid, title, parentUid), parents first
  grafana/dashboards/<folder-uid>/<uid>.json    one file per dashboard
  mimir/rules/<namespace>.yaml                  mimirtool's format: namespace + groups
  loki/rules/<namespace>.yaml                   the same format for Loki's ruler (lokitool, cortextool)
  mimir/alertmanager.yaml                       the body of Mimir's POST /api/v1/alerts
  mimir/alertmanager-fallback-values.yaml       mimir-distributed Helm values (alertmanager.fallbackConfig)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson

from . import artifacts as layout
from .environments import Environment, resolve_environment
from .errors import DefinitionError
from .load import Project, load_project
from .model.folder import Folder
from .secrets import to_provisioning
from .source import SourceLocation
from .ui import console
from .yamlio import dump_yaml

NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
# Datasource references that are not datasource UIDs: Grafana's built-ins.
BUILTIN_DATASOURCES = {"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --", "__expr__", "-100"}


def dumps_json(data: Any) -> str:
    """Indented, key-sorted JSON ending in a newline (the form of every JSON file in out/)."""
    try:
        return orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
        ).decode()
    except TypeError:  # what orjson refuses (e.g. integers beyond 64 bits) the standard library still writes
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _check_unique(items: list[tuple[str, SourceLocation]], what: str) -> None:
    seen: dict[str, SourceLocation] = {}
    for key, loc in items:
        if key in seen:
            raise DefinitionError(f"duplicate {what} {key!r} (first defined at {seen[key]})", loc)
        seen[key] = loc


def datasource_uids_in(value: Any) -> list[str]:
    """Every datasource UID a dashboard JSON refers to (variables and built-ins excluded)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "datasource":
                uid = item.get("uid") if isinstance(item, dict) else item
                if isinstance(uid, str) and uid and "$" not in uid and uid not in BUILTIN_DATASOURCES:
                    found.append(uid)
            else:
                found.extend(datasource_uids_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(datasource_uids_in(item))
    return found


def render(project: Project, env: Environment) -> dict[str, str]:
    """All artifacts as {relative path: text}. Raises DefinitionError on bad definitions."""
    files: dict[str, str] = {}
    sources: dict[str, str] = {}

    # Datasources
    _check_unique([(ds.uid, ds.location) for ds in project.datasources], "datasource uid")
    _check_unique([(ds.name, ds.location) for ds in project.datasources], "datasource name")
    ds_uids = {ds.uid for ds in project.datasources}
    for ds in project.datasources:
        for ref in ds.references:
            if ref not in ds_uids:
                raise DefinitionError(
                    f"datasource {ds.uid!r} refers to unknown datasource {ref!r}", ds.location
                )
        sources[f"datasource:{ds.uid}"] = str(ds.location)
    entries = [to_provisioning(ds.render(env)) for ds in sorted(project.datasources, key=lambda d: d.uid)]
    files[layout.DATASOURCES] = dump_yaml({"apiVersion": 1, "datasources": entries})

    # Folders and dashboards
    _check_unique([(b.uid, b.location) for b in project.dashboards], "dashboard uid")
    folders: dict[str, Folder] = {}
    for board in project.dashboards:
        for folder in board.folder.lineage():
            known = folders.get(folder.uid)
            if known is not None and known != folder:
                raise DefinitionError(
                    f"folder uid {folder.uid!r} is defined twice with different titles or parents",
                    folder.location,
                )
            folders[folder.uid] = folder
    ordered = sorted(folders.values(), key=lambda f: (len(f.lineage()), f.uid))
    for folder in ordered:
        sources[f"folder:{folder.uid}"] = str(folder.location)
    files[layout.FOLDERS] = dump_yaml({"folders": [f.to_dict() for f in ordered]})
    for board in sorted(project.dashboards, key=lambda b: b.uid):
        data = board.to_json()
        panel_sources = board.source_map()
        for uid in datasource_uids_in(data):
            if uid not in ds_uids:
                raise DefinitionError(
                    f"dashboard {board.uid!r} refers to unknown datasource {uid!r}", board.location
                )
        sources[f"dashboard:{board.uid}"] = str(board.location)
        for key, loc in panel_sources.items():
            sources[f"dashboard:{board.uid}/{key}"] = str(loc)
        files[layout.dashboard_path(board.folder.uid, board.uid)] = dumps_json(data)

    # Rules
    # Unique across both rulers too: a namespace name then names one file, one source-map entry, one finding.
    _check_unique([(ns.name, ns.location) for ns in project.rule_namespaces], "rule namespace")
    for ns in project.rule_namespaces:
        if not NAMESPACE_PATTERN.match(ns.name):
            raise DefinitionError(
                f"rule namespace {ns.name!r} must match {NAMESPACE_PATTERN.pattern}", ns.location
            )
        files[layout.rules_path(ns.name, ns.ruler)] = ns.to_yaml(env)
        sources.update({key: str(loc) for key, loc in ns.source_map().items()})

    # Alertmanager
    am = project.alertmanager
    if am is not None:
        files[layout.ALERTMANAGER] = dump_yaml(am.to_api_body())
        sources["alertmanager"] = str(am.location)
        if hasattr(am, "source_map"):
            sources.update({f"alertmanager/{k}": str(v) for k, v in am.source_map().items()})
        if hasattr(am, "helm_fallback_values"):
            files[layout.ALERTMANAGER_FALLBACK] = dump_yaml(am.helm_fallback_values())

    files[layout.SOURCEMAP] = dumps_json(dict(sorted(sources.items())))
    files[layout.BUILD_INFO] = dumps_json({"env": env.name, "generator": "lgtm-dash"})
    return files


def write_atomically(files: dict[str, str], out_dir: Path) -> None:
    """Write into a sibling temporary directory, then swap each top-level entry in.

    Entries of out/ that the build does not produce (e.g. out/k8s from `configmaps`) are left alone.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        out_dir.mkdir(exist_ok=True)
        for entry in layout.BUILD_OUTPUTS:
            new, current = staging / entry, out_dir / entry
            if current.is_dir():
                old = staging / f".old-{entry}"
                current.rename(old)
            elif current.exists():
                current.unlink()
            if new.exists():
                new.rename(current)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def render_project(project_root: Path, env_name: str | None) -> dict[str, str]:
    env = resolve_environment(project_root, env_name, environ={})  # artifacts never depend on secrets
    return render(load_project(project_root), env)


def build(project_root: Path, env_name: str | None, out_dir: Path) -> dict[str, str]:
    files = render_project(project_root, env_name)
    write_atomically(files, out_dir)
    return files


def stale_files(files: dict[str, str], out_dir: Path) -> list[str]:
    """Paths under out/ that differ from a fresh build (changed, missing or left over)."""
    on_disk = {
        p.relative_to(out_dir).as_posix()
        for entry in layout.BUILD_OUTPUTS
        for p in ([out_dir / entry] if (out_dir / entry).is_file() else (out_dir / entry).rglob("*"))
        if p.is_file()
    }
    stale = [rel for rel in on_disk - files.keys()]
    for rel, text in files.items():
        path = out_dir / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(rel)
    return sorted(stale)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=None, help="environment from environments.yaml (default: dev)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: <project>/out)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if out/ differs from a fresh build (stale)",
    )


def run(args: argparse.Namespace) -> int:
    out_dir = args.out or args.project / "out"
    if args.check:
        stale = stale_files(render_project(args.project, args.env), out_dir)
        if stale:
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            console.print(
                f"out/ is stale against the Python definitions ({shown}): run `make build` and commit out/"
            )
            return 1
        console.print(f"{out_dir} is up to date")
        return 0
    files = build(args.project, args.env, out_dir)
    counts = layout.summarize(files)
    console.print(f"built {counts} into {out_dir}")
    return 0
