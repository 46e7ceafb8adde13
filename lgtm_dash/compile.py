"""`lgtm-dash build`: definitions -> out/ (deterministic; `render` makes the files, `write_atomically` swaps them in).

Layout of out/ (the contract every later stage reads, see artifacts.py):
  .lgtm-dash                                    marker: this directory is lgtm-dash's output (lgtm_dash.outdir)
  build.json                                    which environment the artifacts are for; written last
  sourcemap.json                                object key -> Python file:line that defined it
  grafana/datasources.yaml                      provisioning file (apiVersion: 1), secrets as ${VAR}
  grafana/datasources-external.yaml             datasources referred to but managed elsewhere (uid, name, type)
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
from pathlib import Path
from typing import Any

import orjson

from . import artifacts as layout
from .environments import Environment, resolve_environment
from .errors import DefinitionError
from .load import Project, load_project
from .model.folder import Folder
from .model.uid import check_uid
from .outdir import checked_output_dir, write_entries
from .secrets import to_provisioning
from .source import SourceLocation, display_path
from .ui import console
from .yamlio import dump_yaml

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
    managed = sorted((ds for ds in project.datasources if not ds.external), key=lambda d: d.uid)
    entries = [to_provisioning(ds.render(env)) for ds in managed]
    files[layout.DATASOURCES] = dump_yaml({"apiVersion": 1, "datasources": entries})
    external = sorted((ds for ds in project.datasources if ds.external), key=lambda d: d.uid)
    if external:
        known = [{"uid": ds.uid, "name": ds.name, "type": ds.type} for ds in external]
        files[layout.EXTERNAL_DATASOURCES] = dump_yaml({"datasources": known})

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
        check_uid(
            board.uid, f"dashboard {board.title!r}", board.location
        )  # it may have changed since Board()
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
        layout.check_namespace(ns.name, ns.location)
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


def write_atomically(files: dict[str, str], out_dir: Path, *, project_root: Path | None = None) -> None:
    """Swap rendered artifacts into `out_dir`, refusing a directory that is not ours (see lgtm_dash.outdir).

    Entries of out/ that the build does not produce (e.g. out/k8s from `configmaps`) are left alone.
    """
    target = checked_output_dir(
        out_dir,
        command=layout.BUILD_COMMAND,
        project_root=project_root,
        legacy_owned=layout.built_before_markers(out_dir),
    )
    write_entries(
        files, target, command=layout.BUILD_COMMAND, entries=layout.BUILD_OUTPUTS, commit=layout.BUILD_INFO
    )


def render_project(project_root: Path, env_name: str | None) -> dict[str, str]:
    env = resolve_environment(project_root, env_name, environ={})  # artifacts never depend on secrets
    return render(load_project(project_root), env)


def build(project_root: Path, env_name: str | None, out_dir: Path) -> dict[str, str]:
    files = render_project(project_root, env_name)
    write_atomically(files, out_dir, project_root=project_root)
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


def check_out(project: Path, env_name: str | None, out_dir: Path) -> int:
    """`build --check`: 0 when out_dir is what a fresh build writes, 1 (saying why and what to run) if not."""
    env_name = env_name or layout.COMMITTED_ENV
    committed = out_dir.resolve() == (project / "out").resolve()
    shown = display_path(out_dir) + "/"
    built_for = layout.built_env(out_dir)
    if built_for is not None and built_for != env_name:
        if committed and env_name == layout.COMMITTED_ENV:
            hint = f"the committed out/ is {env_name}'s: rebuild it with `make build`"
        elif committed:
            hint = (
                f"{env_name} builds into build/{env_name}: "
                f"`lgtm-dash build --check --env {env_name} --out build/{env_name}`"
            )
        else:
            hint = (
                f"check it with `--env {built_for}`, "
                f"or rebuild it with `lgtm-dash build --env {env_name} --out {shown}`"
            )
        console.print(
            f"{shown} was built for environment {built_for!r}, not {env_name!r}: {hint}", markup=False
        )
        return 1
    stale = stale_files(render_project(project, env_name), out_dir)
    if stale:
        listed = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        if committed and env_name == layout.COMMITTED_ENV:
            hint = "run `make build` and commit out/"
        else:
            hint = f"run `lgtm-dash build --env {env_name} --out {shown}`"
        console.print(f"{shown} is stale against the Python definitions ({listed}): {hint}", markup=False)
        return 1
    console.print(f"{shown} is up to date", markup=False)
    return 0


def run(args: argparse.Namespace) -> int:
    out_dir = args.out or args.project / "out"
    if args.check:
        return check_out(args.project, args.env, out_dir)
    files = build(args.project, args.env, out_dir)
    counts = layout.summarize(files)
    console.print(f"built {counts} into {out_dir}")
    return 0
