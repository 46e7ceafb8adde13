"""What the importer needs to know of the project it writes into: datasources, folders, modules, names.

The project is loaded the way `build` loads it, so a generated module can import the very objects the
project defines (`from datasources.loki import datasource as loki`) and the import can refuse to clash with
a module, a dashboard uid or a rule namespace that already exists.
"""

from __future__ import annotations

import importlib
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..environments import load_environments
from ..errors import LgtmError
from ..load import load_project
from ..model.datasource import Datasource
from ..model.folder import Folder
from .datasources import KnownDatasource

# Module names the loader treats specially or that would shadow the packages themselves.
RESERVED_MODULES = {"alertmanager", "__init__", "datasources", "dashboards", "alerts"}
_HEX_RUN = re.compile(r"[0-9a-f]{8,}")


@dataclass(frozen=True)
class Defined:
    """An object a project module defines: how a generated module imports it."""

    package: str  # "datasources"
    module: str  # "loki"
    attr: str  # "datasource"
    obj: Any

    def import_line(self, alias: str) -> str:
        name = self.attr if self.attr == alias else f"{self.attr} as {alias}"
        return f"from {self.package}.{self.module} import {name}"


@dataclass
class ProjectInfo:
    root: Path
    datasources: list[Defined] = field(default_factory=list)
    folders: list[Defined] = field(default_factory=list)
    dashboard_uids: dict[str, str] = field(default_factory=dict)  # uid -> module file
    namespaces: dict[str, str] = field(default_factory=dict)  # rule namespace -> module file
    default_folder_uid: str = ""

    def known_datasources(self) -> list[KnownDatasource]:
        return [
            KnownDatasource(uid=d.obj.uid, name=d.obj.name, type=d.obj.type, default=d.obj.is_default)
            for d in self.datasources
        ]

    def datasource(self, uid: str) -> Defined | None:
        return next((d for d in self.datasources if d.obj.uid == uid), None)

    def folder(self, uid: str) -> Defined | None:
        return next((d for d in self.folders if d.obj.uid == uid), None)

    def default_folder(self) -> Defined | None:
        if self.default_folder_uid and self.folder(self.default_folder_uid):
            return self.folder(self.default_folder_uid)
        return self.folders[0] if len(self.folders) == 1 else None

    def module_exists(self, package: str, name: str) -> bool:
        return (self.root / package / f"{name}.py").exists()


def scan(root: Path) -> ProjectInfo:
    """Load the project (a bad definition is the usual one-line error) and index what it defines."""
    root = root.resolve()
    for package in ("datasources", "dashboards", "alerts"):
        if not (root / package).is_dir():
            raise LgtmError(
                f"{root} is not an lgtm-dash project (no {package}/): create one with `lgtm-dash init {root}`"
            )
    project = load_project(root)
    info = ProjectInfo(root=root)
    for board in project.dashboards:
        info.dashboard_uids[board.uid] = str(board.location.file)
    for namespace in project.rule_namespaces:
        info.namespaces[namespace.name] = str(namespace.location.file)
    sys.path.insert(0, str(root))
    try:
        seen: set[int] = set()
        for package, kind, target in (
            ("datasources", Datasource, info.datasources),
            ("dashboards", Folder, info.folders),
        ):
            for path in sorted((root / package).glob("*.py")):
                if path.name == "__init__.py" or (package == "dashboards" and not path.name.startswith("_")):
                    continue
                module = importlib.import_module(f"{package}.{path.stem}")
                for attr, value in sorted(
                    vars(module).items(), key=lambda kv: (kv[0] != "datasource", kv[0])
                ):
                    if isinstance(value, kind) and id(value) not in seen and not attr.startswith("_"):
                        seen.add(id(value))
                        target.append(Defined(package, path.stem, attr, value))
    finally:
        sys.path.remove(str(root))
    try:
        envs = load_environments(root)
        first = envs.get("dev") or next(iter(envs.values()))
        info.default_folder_uid = first.grafana.folder
    except LgtmError:
        pass
    return info


def python_name(text: str) -> str:
    """A lower_snake_case identifier from any text ("Kubernetes / API server" -> kubernetes_api_server)."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    name = re.sub(r"_+", "_", name)
    if not name:
        name = "imported"
    if name[0].isdigit():
        name = f"d_{name}"
    if keyword.iskeyword(name) or name in RESERVED_MODULES:
        name = f"{name}_"
    return name


def constant_name(text: str) -> str:
    return python_name(text).upper().strip("_") or "VALUE"


def looks_generated(uid: str) -> bool:
    """A uid nobody chose (a hash, a UUID, Grafana's random ids): the title names the module better."""
    if _HEX_RUN.search(uid.lower()):
        return True
    return not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", uid)


def unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name
