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
import dataclasses
import json
import multiprocessing
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import orjson

from . import artifacts as layout
from .buildcache import (
    CACHE_DIR,
    OutIndex,
    ProjectSources,
    combine,
    digest,
    read_state,
    state_path,
    toolkit_fingerprint,
    write_state,
)
from .environments import ENVIRONMENTS_FILE, Environment, resolve_environment
from .errors import DefinitionError, LgtmError, UsageError
from .load import Definitions, Project, definition_paths, importable, load_module, load_project
from .model.datasource import Datasource
from .model.uid import check_uid
from .outdir import checked_output_dir, update_entries
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


def _check_unique(items: Iterable[tuple[str, SourceLocation | str]], what: str) -> None:
    seen: dict[str, SourceLocation | str] = {}
    for key, loc in items:
        if key in seen:
            raise DefinitionError(f"duplicate {what} {key!r} (first defined at {seen[key]})", loc)
        seen[key] = loc


def datasource_uids_in(value: Any) -> list[str]:
    """Every datasource UID a dashboard JSON refers to (variables and built-ins excluded), in document order."""
    found: list[str] = []
    stack: list[Any] = [value]  # containers to walk, and the UIDs met (as 1-tuples) in the order they come
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            pending: list[Any] = []
            for key, child in item.items():
                if key == "datasource":
                    uid = child.get("uid") if isinstance(child, dict) else child
                    if isinstance(uid, str) and uid and "$" not in uid and uid not in BUILTIN_DATASOURCES:
                        pending.append((uid,))
                elif isinstance(child, dict | list):
                    pending.append(child)
            stack.extend(reversed(pending))
        elif isinstance(item, list):
            stack.extend(child for child in reversed(item) if isinstance(child, dict | list))
        else:
            found.append(item[0])
    return found


# ------------------------------------------------------------------------------------- compiled units
# What each definition module compiles to, kept apart so that an incremental build can reuse a module's units
# (their texts then stand only as digests of files already in out/) and a parallel build can make them in
# worker processes. `assemble` checks them together in the order a full build always has (so the first error
# reported is the same either way) and lays out the files.


@dataclass
class Output:
    """One file of out/: its content digest, and its text unless it is known to be in place already."""

    digest: str
    text: str | None = None

    @classmethod
    def of(cls, text: str) -> Output:
        return cls(digest(text), text)


@dataclass
class Failure:
    """A definition error, raised when the assembly reaches the object (as a full build would)."""

    message: str
    location: str | None = None

    @classmethod
    def of(cls, err: LgtmError) -> Failure:
        return cls(err.message, None if err.location is None else str(err.location))

    def raise_(self) -> NoReturn:
        raise DefinitionError(self.message, self.location)


@dataclass
class FolderUnit:
    uid: str
    title: str
    location: str
    parent: str | None
    depth: int


@dataclass
class DashboardUnit:
    uid: str
    title: str
    location: str
    folders: list[FolderUnit]  # its folder's lineage, root first
    datasource_uids: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    output: Output | None = None
    failure: Failure | None = None  # rendering it failed
    path_failure: Failure | None = None  # its folder or uid cannot be a file name


@dataclass
class NamespaceUnit:
    name: str
    location: str
    path: str | None = None
    output: Output | None = None
    sources: dict[str, str] = field(default_factory=dict)
    failure: Failure | None = None


@dataclass
class AlertmanagerUnit:
    location: str
    outputs: dict[str, Output] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    failure: Failure | None = None


@dataclass
class ModuleUnits:
    """Everything one definition module (or a whole loaded project) compiles to."""

    dashboards: list[DashboardUnit] = field(default_factory=list)
    namespaces: list[NamespaceUnit] = field(default_factory=list)
    alertmanager: AlertmanagerUnit | None = None

    def outputs(self) -> list[tuple[str, Output]]:
        found = [(d.path, d.output) for d in self.dashboards if d.path and d.output]
        found += [(n.path, n.output) for n in self.namespaces if n.path and n.output]
        if self.alertmanager is not None:
            found += list(self.alertmanager.outputs.items())
        return found

    def failed(self) -> bool:
        units: list[Any] = [*self.dashboards, *self.namespaces, self.alertmanager]
        return any(u is not None and (u.failure or getattr(u, "path_failure", None)) for u in units)

    def to_state(self) -> dict[str, Any]:
        """As kept in the cache: the texts are in out/, only their digests are kept."""
        state = dataclasses.asdict(self)
        for item in [*state["dashboards"], *state["namespaces"]]:
            if item["output"]:
                item["output"]["text"] = None
        if state["alertmanager"]:
            for output in state["alertmanager"]["outputs"].values():
                output["text"] = None
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ModuleUnits:
        def output(data: dict[str, Any] | None) -> Output | None:
            return Output(**data) if data else None

        dashboards = [
            DashboardUnit(
                **{**d, "folders": [FolderUnit(**f) for f in d["folders"]], "output": output(d["output"])}
            )
            for d in state["dashboards"]
        ]
        namespaces = [NamespaceUnit(**{**n, "output": output(n["output"])}) for n in state["namespaces"]]
        am = state["alertmanager"]
        alertmanager = (
            AlertmanagerUnit(**{**am, "outputs": {k: Output(**v) for k, v in am["outputs"].items()}})
            if am
            else None
        )
        return cls(dashboards, namespaces, alertmanager)


def compile_module(found: Definitions, env: Environment) -> ModuleUnits:
    """The units of what a module (or a loaded project) defines; definition errors are kept in the units."""
    units = ModuleUnits()
    for board in found.dashboards:
        lineage = board.folder.lineage()
        unit = DashboardUnit(
            uid=board.uid,
            title=board.title,
            location=str(board.location),
            folders=[
                FolderUnit(f.uid, f.title, str(f.location), f.parent.uid if f.parent else None, depth)
                for depth, f in enumerate(lineage)
            ],
        )
        try:
            check_uid(
                board.uid, f"dashboard {board.title!r}", board.location
            )  # it may have changed since Board()
            data = board.to_json()
            unit.sources = {key: str(loc) for key, loc in board.source_map().items()}
            unit.datasource_uids = datasource_uids_in(data)
            unit.output = Output.of(dumps_json(data))
        except LgtmError as err:
            unit.failure = Failure.of(err)
        try:
            unit.path = layout.dashboard_path(board.folder.uid, board.uid)
        except LgtmError as err:
            unit.path_failure = Failure.of(err)
        units.dashboards.append(unit)
    for ns in found.rule_namespaces:
        space = NamespaceUnit(name=ns.name, location=str(ns.location))
        try:
            layout.check_namespace(ns.name, ns.location)
            space.path = layout.rules_path(ns.name, ns.ruler)
            space.output = Output.of(ns.to_yaml(env))
            space.sources = {key: str(loc) for key, loc in ns.source_map().items()}
        except LgtmError as err:
            space.failure = Failure.of(err)
        units.namespaces.append(space)
    am = found.alertmanager
    if am is not None:
        units.alertmanager = AlertmanagerUnit(location=str(am.location))
        try:
            units.alertmanager.outputs[layout.ALERTMANAGER] = Output.of(dump_yaml(am.to_api_body()))
            if hasattr(am, "source_map"):
                units.alertmanager.sources = {k: str(v) for k, v in am.source_map().items()}
            if hasattr(am, "helm_fallback_values"):
                fallback = dump_yaml(am.helm_fallback_values())
                units.alertmanager.outputs[layout.ALERTMANAGER_FALLBACK] = Output.of(fallback)
        except LgtmError as err:
            units.alertmanager.failure = Failure.of(err)
    return units


def assemble(
    datasources: list[Datasource], modules: list[ModuleUnits], env: Environment
) -> dict[str, Output]:
    """All artifacts of out/ from the datasources and the modules' units (in load order).

    Raises DefinitionError on bad definitions: cross-checks (unique uids, known datasources, consistent
    folders) and the errors the units kept, in the order of a full build.
    """
    files: dict[str, Output] = {}
    sources: dict[str, str] = {}

    # Datasources
    _check_unique([(ds.uid, ds.location) for ds in datasources], "datasource uid")
    _check_unique([(ds.name, ds.location) for ds in datasources], "datasource name")
    ds_uids = {ds.uid for ds in datasources}
    for ds in datasources:
        for ref in ds.references:
            if ref not in ds_uids:
                raise DefinitionError(
                    f"datasource {ds.uid!r} refers to unknown datasource {ref!r}", ds.location
                )
        sources[f"datasource:{ds.uid}"] = str(ds.location)
    managed = sorted((ds for ds in datasources if not ds.external), key=lambda d: d.uid)
    entries = [to_provisioning(ds.render(env)) for ds in managed]
    files[layout.DATASOURCES] = Output.of(dump_yaml({"apiVersion": 1, "datasources": entries}))
    external = sorted((ds for ds in datasources if ds.external), key=lambda d: d.uid)
    if external:
        known = [{"uid": ds.uid, "name": ds.name, "type": ds.type} for ds in external]
        files[layout.EXTERNAL_DATASOURCES] = Output.of(dump_yaml({"datasources": known}))

    # Folders and dashboards
    boards = [board for module in modules for board in module.dashboards]
    _check_unique([(b.uid, b.location) for b in boards], "dashboard uid")
    folders: dict[str, FolderUnit] = {}
    lineages: dict[str, list[tuple[str, str]]] = {}
    for board in boards:
        for folder in board.folders:
            lineage = [(f.uid, f.title) for f in board.folders[: folder.depth + 1]]
            if folder.uid in lineages and lineages[folder.uid] != lineage:
                raise DefinitionError(
                    f"folder uid {folder.uid!r} is defined twice with different titles or parents",
                    folder.location,
                )
            lineages[folder.uid] = lineage
            folders[folder.uid] = folder
    ordered = sorted(folders.values(), key=lambda f: (f.depth, f.uid))
    for folder in ordered:
        sources[f"folder:{folder.uid}"] = folder.location
    folder_entries = [
        {"uid": f.uid, "title": f.title, **({"parentUid": f.parent} if f.parent else {})} for f in ordered
    ]
    files[layout.FOLDERS] = Output.of(dump_yaml({"folders": folder_entries}))
    for board in sorted(boards, key=lambda b: b.uid):
        if board.failure:
            board.failure.raise_()
        for uid in board.datasource_uids:
            if uid not in ds_uids:
                raise DefinitionError(
                    f"dashboard {board.uid!r} refers to unknown datasource {uid!r}", board.location
                )
        sources[f"dashboard:{board.uid}"] = board.location
        for key, loc in board.sources.items():
            sources[f"dashboard:{board.uid}/{key}"] = loc
        if board.path_failure:
            board.path_failure.raise_()
        assert board.path is not None and board.output is not None
        files[board.path] = board.output

    # Rules
    # Unique across both rulers too: a namespace name then names one file, one source-map entry, one finding.
    namespaces = [ns for module in modules for ns in module.namespaces]
    _check_unique([(ns.name, ns.location) for ns in namespaces], "rule namespace")
    for ns in namespaces:
        if ns.failure:
            ns.failure.raise_()
        assert ns.path is not None and ns.output is not None
        files[ns.path] = ns.output
        sources.update(ns.sources)

    # Alertmanager (the last module defining one, as the loader keeps)
    am = next((m.alertmanager for m in reversed(modules) if m.alertmanager is not None), None)
    if am is not None:
        if am.failure:
            am.failure.raise_()
        files[layout.ALERTMANAGER] = am.outputs[layout.ALERTMANAGER]
        sources["alertmanager"] = am.location
        sources.update({f"alertmanager/{k}": v for k, v in am.sources.items()})
        if layout.ALERTMANAGER_FALLBACK in am.outputs:
            files[layout.ALERTMANAGER_FALLBACK] = am.outputs[layout.ALERTMANAGER_FALLBACK]

    files[layout.SOURCEMAP] = Output.of(dumps_json(dict(sorted(sources.items()))))
    files[layout.BUILD_INFO] = Output.of(dumps_json({"env": env.name, "generator": "lgtm-dash"}))
    return files


def render(project: Project, env: Environment) -> dict[str, str]:
    """All artifacts as {relative path: text}. Raises DefinitionError on bad definitions."""
    outputs = assemble(project.datasources, [compile_module(project, env)], env)
    return {rel: output.text for rel, output in outputs.items() if output.text is not None}


def write_atomically(files: dict[str, str], out_dir: Path, *, project_root: Path | None = None) -> None:
    """Swap rendered artifacts into `out_dir`, refusing a directory that is not ours (see lgtm_dash.outdir).

    Files whose content is already there are left as they are; entries of out/ that the build does not
    produce (e.g. out/k8s from `configmaps`) are left alone.
    """
    _write(out_dir, {rel: Output.of(text) for rel, text in files.items()}, project_root, OutIndex(out_dir))


def _write(out_dir: Path, outputs: dict[str, Output], project_root: Path | None, index: OutIndex) -> None:
    target = checked_output_dir(
        out_dir,
        command=layout.BUILD_COMMAND,
        project_root=project_root,
        legacy_owned=layout.built_before_markers(out_dir),
    )
    index.root = target
    changed = {rel: out for rel, out in outputs.items() if index.digest_of(rel) != out.digest}
    missing = [rel for rel, out in changed.items() if out.text is None]
    if missing:  # a unit was reused because its file was in place: it must still be
        raise UsageError(f"{out_dir} changed during the build ({', '.join(missing[:3])}): build again")
    update_entries(
        {rel: out.text for rel, out in changed.items() if out.text is not None},
        outputs.keys(),
        target,
        command=layout.BUILD_COMMAND,
        entries=layout.BUILD_OUTPUTS,
        commit=layout.BUILD_INFO,
    )
    for rel in changed:
        index.written(rel, outputs[rel].digest)
    index.keep_only(outputs)


def render_project(project_root: Path, env_name: str | None) -> dict[str, str]:
    env = resolve_environment(project_root, env_name, environ={})  # artifacts never depend on secrets
    return render(load_project(project_root), env)


def build(
    project_root: Path, env_name: str | None, out_dir: Path, *, cache: bool = False, jobs: int | None = None
) -> dict[str, str]:
    """Compile the definitions into `out_dir`; {path: content digest} of what it holds afterwards.

    `cache`: reuse what an earlier build compiled from the same inputs (`lgtm_dash.buildcache`); out/ is the
    same either way. `jobs`: worker processes for the modules to compile (default: one per CPU when there
    are many).
    """
    run = IncrementalBuild(project_root, env_name, out_dir, cache=cache)
    outputs = run.outputs(jobs)
    run.write(outputs)
    run.save(outputs)
    return {rel: output.digest for rel, output in outputs.items()}


# Below this many modules to compile, a worker process costs more than it saves.
PARALLEL_MIN_MODULES = 64


class IncrementalBuild:
    """One build: which modules' units can be reused, compiling the others (in parallel when many), the files."""

    def __init__(self, project_root: Path, env_name: str | None, out_dir: Path, *, cache: bool):
        self.root = project_root.resolve()
        self.env = resolve_environment(self.root, env_name, environ={})  # artifacts never depend on secrets
        self.out_dir = Path(os.path.abspath(out_dir))
        self.state_file = state_path(self.root, "build", str(self.out_dir), self.env.name) if cache else None
        state = read_state(self.state_file) if self.state_file else {}
        self.cached_modules: dict[str, Any] = state.get("modules") or {}
        self.index = OutIndex(self.out_dir, state.get("out"))
        self.sources = ProjectSources(self.root, state.get("imports"))
        self.keys: dict[str, str] = {}
        self.compiled: dict[str, ModuleUnits] = {}
        self.reused = 0

    def outputs(self, jobs: int | None = None) -> dict[str, Output]:
        with importable(self.root) as root:
            paths = definition_paths(root)
            datasources: list[Datasource] = []
            for package, path in paths:
                if package == "datasources":  # few and cheap: always loaded (every dashboard needs them)
                    datasources.extend(load_module(root, package, path).datasources)
            modules = [(package, path) for package, path in paths if package != "datasources"]
            rels = [path.relative_to(root).as_posix() for _, path in modules]
            units: dict[str, ModuleUnits] = {}
            if self.state_file is not None:
                salt = combine(
                    [toolkit_fingerprint(), self.env.name, digest(_read_bytes(root / ENVIRONMENTS_FILE)),
                     self.sources.data_fingerprint()]
                )  # fmt: skip
                for rel in rels:
                    self.keys[rel] = self.sources.key(salt, rel)
                    reused = self._reusable(rel)
                    if reused is not None:
                        units[rel] = reused
            self.reused = len(units)
            pending = [
                (i, package, path)
                for i, ((package, path), rel) in enumerate(zip(modules, rels))
                if rel not in units
            ]
            for index, result in sorted(self._compile(root, pending, jobs).items()):
                if isinstance(result, Failure):
                    result.raise_()
                units[rels[index]] = self.compiled[rels[index]] = result
            return assemble(datasources, [units[rel] for rel in rels], self.env)

    def _reusable(self, rel: str) -> ModuleUnits | None:
        entry = self.cached_modules.get(rel)
        if not entry or entry.get("key") != self.keys[rel]:
            return None
        try:
            units = ModuleUnits.from_state(entry["units"])
        except (KeyError, TypeError):
            return None
        # Reused only while every file it compiled to is still in out/ as it was written.
        if all(self.index.digest_of(path) == output.digest for path, output in units.outputs()):
            return units
        return None

    def _compile(
        self, root: Path, pending: list[tuple[int, str, Path]], jobs: int | None
    ) -> dict[int, ModuleUnits | Failure]:
        jobs = _jobs(jobs, len(pending))
        if jobs <= 1:
            return _compile_modules(root, pending, self.env)
        groups = _groups(pending, self.sources, root, jobs)
        global _FORKED
        _FORKED = (root, self.env, groups)
        try:
            with multiprocessing.get_context("fork").Pool(len(groups)) as pool:
                results = pool.map(_compile_group, range(len(groups)))
        finally:
            _FORKED = None
        return {index: result for part in results for index, result in part.items()}

    def write(self, outputs: dict[str, Output]) -> None:
        """Bring out/ to `outputs` (files already in place are left alone)."""
        _write(self.out_dir, outputs, self.root, self.index)

    def save(self, outputs: dict[str, Output]) -> None:
        if self.state_file is None:
            return
        modules = {
            rel: entry
            for rel, entry in self.cached_modules.items()
            if rel in self.keys and rel not in self.compiled
        }
        for rel, units in self.compiled.items():
            if rel in self.keys and not units.failed():
                modules[rel] = {"key": self.keys[rel], "units": units.to_state()}
        self.index.keep_only(outputs)
        write_state(
            self.state_file,
            {"modules": modules, "out": self.index.entries, "imports": self.sources.current_imports()},
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _jobs(requested: int | None, pending: int) -> int:
    if requested is not None:
        return max(1, requested)
    if (
        pending < PARALLEL_MIN_MODULES
        or "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1  # forking beside other threads is not safe
    ):
        return 1
    return min(os.cpu_count() or 1, 8)


def _compile_modules(
    root: Path, pending: list[tuple[int, str, Path]], env: Environment
) -> dict[int, ModuleUnits | Failure]:
    """Load and compile modules in order; the first that fails ends the list (later ones are not needed)."""
    results: dict[int, ModuleUnits | Failure] = {}
    for index, package, path in pending:
        try:
            results[index] = compile_module(load_module(root, package, path), env)
        except LgtmError as err:
            results[index] = Failure.of(err)
            break
    return results


def _groups(
    pending: list[tuple[int, str, Path]], sources: ProjectSources, root: Path, jobs: int
) -> list[list[tuple[int, str, Path]]]:
    """Split the modules to compile between `jobs` workers, keeping a module with the definition modules it
    imports (an alert module and the dashboards it links to), so that none is loaded twice."""
    rel_of = {index: path.relative_to(root).as_posix() for index, _, path in pending}
    owner = {rel: index for index, rel in rel_of.items()}
    parent = {index: index for index in rel_of}

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for index, rel in rel_of.items():
        for dep in sources.closure(rel):
            other = owner.get(dep)
            if other is not None:
                parent[find(other)] = find(index)
    components: dict[int, list[tuple[int, str, Path]]] = {}
    for item in pending:
        components.setdefault(find(item[0]), []).append(item)
    groups: list[list[tuple[int, str, Path]]] = [[] for _ in range(jobs)]
    for component in sorted(components.values(), key=len, reverse=True):
        min(groups, key=len).extend(component)
    return [sorted(group) for group in groups if group]


# The build a forked worker inherits (set just before the fork; workers never pickle their input).
_FORKED: tuple[Path, Environment, list[list[tuple[int, str, Path]]]] | None = None


def _compile_group(number: int) -> dict[int, ModuleUnits | Failure]:
    assert _FORKED is not None
    root, env, groups = _FORKED
    return _compile_modules(root, groups[number], env)


def stale_files(files: dict[str, str], out_dir: Path) -> list[str]:
    """Paths under out/ that differ from a fresh build (changed, missing or left over)."""
    return stale_outputs({rel: Output.of(text) for rel, text in files.items()}, out_dir, OutIndex(out_dir))


def stale_outputs(outputs: dict[str, Output], out_dir: Path, index: OutIndex) -> list[str]:
    on_disk = {
        p.relative_to(out_dir).as_posix()
        for entry in layout.BUILD_OUTPUTS
        for p in ([out_dir / entry] if (out_dir / entry).is_file() else (out_dir / entry).rglob("*"))
        if p.is_file()
    }
    stale = [rel for rel in on_disk - outputs.keys()]
    stale += [rel for rel, output in outputs.items() if index.digest_of(rel) != output.digest]
    return sorted(stale)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=None, help="environment from environments.yaml (default: dev)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: <project>/out)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if out/ differs from a fresh build (stale)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help=f"compile every module, reusing nothing from earlier builds (the cache is <project>/{CACHE_DIR}/)",
    )


def check_out(project: Path, env_name: str | None, out_dir: Path, *, cache: bool = False) -> int:
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
    run = IncrementalBuild(project, env_name, out_dir, cache=cache)
    outputs = run.outputs()
    stale = stale_outputs(outputs, out_dir, run.index)
    run.save(outputs)
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
        return check_out(args.project, args.env, out_dir, cache=not args.no_cache)
    files = build(args.project, args.env, out_dir, cache=not args.no_cache)
    counts = layout.summarize(files)
    console.print(f"built {counts} into {out_dir}")
    return 0
