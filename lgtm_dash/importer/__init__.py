"""`lgtm-dash import`: existing dashboards and rule files as Python modules of a project, exactly.

Dashboards (plain JSON, API exports, grafana.com exports with `__inputs`, legacy `rows` dashboards, or a live
Grafana) become one module each under dashboards/; rule files (plain, mimirtool, PrometheusRule, or a live
Mimir) one module per ruler namespace under alerts/. Datasources the dashboards use but the project does
not define are declared as `external(...)` datasources under datasources/. Every module is checked, before
anything is written, to build exactly what was imported (see README, "Importing").
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LgtmError
from ..model.datasource import Datasource, external
from ..model.folder import Folder
from .dashboards import DashboardSource, ImportFailure, Prepared, generate, guess_type, prepare
from .datasources import DatasourceIndex, KnownDatasource
from .project import Defined, ProjectInfo, looks_generated, python_name, scan, unique_name
from .pysource import format_sources
from .rules import NamespaceSource, module_base
from .rules import generate as generate_rules

DEFAULT_FOLDER = Folder(uid="imported", title="Imported")


@dataclass
class Written:
    path: str  # relative to the project
    what: str
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    written: list[Written] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line each, `file[:line]: message`
    unresolved: dict[str, str] = field(default_factory=dict)  # datasource uid -> the module declaring it

    @property
    def ok(self) -> bool:
        return not self.failures


def import_into(
    root: Path,
    dashboards: Iterable[DashboardSource],
    namespaces: Iterable[NamespaceSource],
    *,
    force: bool = False,
    instance_datasources: Iterable[KnownDatasource] = (),
    failures: Iterable[str] = (),
) -> ImportReport:
    """Generate, check and write the modules; a source that cannot be imported is a failure, not the end."""
    root = root.resolve()
    project = scan(root)
    report = ImportReport(failures=list(failures))
    live = list(instance_datasources)
    index = DatasourceIndex.of([*project.known_datasources(), *live])
    files: dict[Path, str] = {}
    taken = {
        "dashboards": _existing(root, "dashboards"),
        "alerts": _existing(root, "alerts"),
        "datasources": _existing(root, "datasources"),
    }
    chosen: dict[str, set[str]] = {"dashboards": set(), "alerts": set(), "datasources": set()}

    prepared: list[Prepared] = []
    for source in dashboards:
        try:
            prepared.append(prepare(source, project, index))
        except LgtmError as err:
            report.failures.append(_located(source.origin, err))
    clashes = _name_clashes(prepared, live, project)
    for item in prepared:
        clash = next((clashes[uid] for uid in item.unresolved if uid in clashes), None)
        if clash:
            report.failures.append(f"{item.source.origin}: {clash}")
    prepared = [item for item in prepared if not set(item.unresolved) & clashes.keys()]
    external = _externals(root, prepared, live, index, taken, chosen, files, report)

    uids: dict[str, str] = {}
    for item in prepared:
        try:
            module = _module_name(
                project,
                "dashboards",
                item.uid if not looks_generated(item.uid) else item.title,
                chosen,
                force,
            )
            owner = project.dashboard_uids.get(item.uid)
            target = f"dashboards/{module}.py"
            if owner and not (force and owner == target):
                raise ImportFailure(f"dashboard uid {item.uid!r} is already defined in {owner}")
            if item.uid in uids:
                raise ImportFailure(
                    f"dashboard uid {item.uid!r} is imported twice (also from {uids[item.uid]})"
                )
            uids[item.uid] = item.source.origin
            generated = generate(item, module, project, external, _folder_for(item.source, project))
            path = root / target
            files[path] = generated.source
            notes = list(generated.notes)
            if generated.unresolved:
                notes.append(
                    "datasources not in the project (declared as external): "
                    + ", ".join(generated.unresolved)
                )
            report.written.append(
                Written(target, f"dashboard {generated.title!r} (uid {generated.uid})", notes)
            )
        except LgtmError as err:
            report.failures.append(_located(item.source.origin, err))

    imported: dict[str, str] = {}
    for namespace in namespaces:
        try:
            if namespace.name in imported:
                raise ImportFailure(
                    f"rule namespace {namespace.name!r} is imported twice (also from {imported[namespace.name]})"
                )
            imported[namespace.name] = namespace.origin
            module = _module_name(project, "alerts", module_base(namespace.name), chosen, force)
            owner = project.namespaces.get(namespace.name)
            target = f"alerts/{module}.py"
            if owner and not (force and owner == target):
                raise ImportFailure(f"rule namespace {namespace.name!r} is already defined in {owner}")
            generated_ns = generate_rules(namespace, module)
            path = root / target
            files[path] = generated_ns.source
            rules = sum(len(g["rules"]) for g in generated_ns.expected)
            what = f"rule namespace {namespace.name!r} ({len(generated_ns.expected)} groups, {rules} rules)"
            report.written.append(Written(target, what, generated_ns.notes))
        except LgtmError as err:
            report.failures.append(_located(namespace.origin, err))

    for path, text in format_sources(files, root).items():
        _write(path, text)
    return report


def _existing(root: Path, package: str) -> set[str]:
    return {p.stem for p in (root / package).glob("*.py")}


def _module_name(
    project: ProjectInfo, package: str, text: str, chosen: dict[str, set[str]], force: bool
) -> str:
    """A new module's name; an existing module of that name is an error unless `force` (then replaced)."""
    name = unique_name(python_name(text), chosen[package])
    if project.module_exists(package, name) and not force:
        raise ImportFailure(f"{package}/{name}.py exists: not overwritten (use --force to replace it)")
    return name


def _instance_datasource(live: list[KnownDatasource], uid: str) -> KnownDatasource | None:
    """The instance's datasource a reference names, by uid or (a legacy reference) by name."""
    return next((d for d in live if d.uid == uid or d.name == uid), None)


def _name_clashes(
    prepared: list[Prepared], live: list[KnownDatasource], project: ProjectInfo
) -> dict[str, str]:
    """Datasources the dashboards use whose Grafana name a project datasource of another uid already has.

    Grafana's datasource names are unique: declaring both would never build (nor publish). Typically the
    project still holds the placeholders `lgtm-dash init` wrote.
    """
    named = {d.obj.name: d for d in project.datasources}
    clashes: dict[str, str] = {}
    for item in prepared:
        for uid in item.unresolved:
            known = _instance_datasource(live, uid)
            mine = named.get(known.name) if known else None
            if known and mine and uid not in clashes:
                clashes[uid] = (
                    f"datasource {uid!r} is named {known.name!r} in Grafana, like {mine.package}/"
                    f"{mine.module}.py (uid {mine.obj.uid!r}); names are unique in Grafana: delete or rename "
                    "that module (lgtm-dash init writes placeholders), then import again"
                )
    return clashes


def _externals(
    root: Path,
    prepared: list[Prepared],
    live: list[KnownDatasource],
    index: DatasourceIndex,
    taken: dict[str, set[str]],
    chosen: dict[str, set[str]],
    files: dict[Path, str],
    report: ImportReport,
) -> dict[str, Defined]:
    """One `external(...)` module per datasource the dashboards use and the project lacks."""
    declared: dict[str, Defined] = {}
    for item in prepared:
        for uid in item.unresolved:
            if uid in declared:
                continue
            known = _instance_datasource(live, uid)
            kind = known.type if known else guess_type(uid, item.migrated)
            name = known.name if known else uid
            module = unique_name(python_name(uid), chosen["datasources"] | taken["datasources"])
            chosen["datasources"].add(module)
            datasource = external(uid, kind, name)
            declared[uid] = Defined("datasources", module, "datasource", datasource)
            path = root / "datasources" / f"{module}.py"
            files[path] = _external_source(datasource, item.source.origin, known is None)
            report.unresolved[uid] = f"datasources/{module}.py"
            report.written.append(
                Written(f"datasources/{module}.py", f"external datasource {uid!r} ({kind})")
            )
    return declared


def _external_source(ds: Datasource, origin: str, guessed: bool) -> str:
    how = "its type guessed from the queries that use it" if guessed else "as Grafana lists it"
    return (
        f'"""Datasource {ds.uid}: used by imported dashboards ({origin}), managed outside this project\n'
        f"({how}).\n\n"
        "The build checks references against it but never provisions it. Replace `external(...)` with a full\n"
        'definition (prometheus(...), loki(...)...) to manage it here.\n"""\n\n'
        "from lgtm_dash.model.datasource import external\n\n"
        f"datasource = external(uid={json.dumps(ds.uid)}, type={json.dumps(ds.type)}, name={json.dumps(ds.name)})\n"
    )


def _folder_for(source: DashboardSource, project: ProjectInfo) -> Defined | Folder:
    if source.folder is not None:
        return project.folder(source.folder.uid) or source.folder
    return project.default_folder() or DEFAULT_FOLDER


def _located(origin: str, err: LgtmError) -> str:
    text = str(err)
    return text if err.location else f"{origin}: {text}"


def _write(path: Path, text: str) -> None:
    """Replace `path` atomically: a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["DashboardSource", "ImportReport", "NamespaceSource", "Written", "import_into"]
