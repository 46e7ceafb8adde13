"""Load the definitions (datasources/, dashboards/, alerts/) into a `Project`.

Modules are imported as the packages `datasources`, `dashboards` and `alerts` from the project root, so they
may import each other (an alert links to a dashboard object). Importing has no side effects beyond building
objects. A module that fails, or lacks the object it should expose, is a one-line `file:line` error.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from . import source
from .errors import DefinitionError, LgtmError
from .model.datasource import Datasource
from .model.folder import Folder
from .model.rules import RuleNamespace
from .source import SourceLocation, display_path

DEFINITION_PACKAGES = ("datasources", "dashboards", "alerts")
ALERTMANAGER_MODULE = "alertmanager"


class DashboardDefinition(Protocol):
    uid: str
    title: str
    folder: Folder
    location: SourceLocation

    def to_json(self) -> dict[str, Any]: ...

    def source_map(self) -> dict[str, SourceLocation]: ...


class AlertmanagerDefinition(Protocol):
    location: SourceLocation

    def to_api_body(self) -> dict[str, Any]: ...


@dataclass
class Definitions:
    """What the definitions of a project, or of one of its modules, define."""

    datasources: list[Datasource] = field(default_factory=list)
    dashboards: list[DashboardDefinition] = field(default_factory=list)
    rule_namespaces: list[RuleNamespace] = field(default_factory=list)
    alertmanager: AlertmanagerDefinition | None = None


@dataclass(kw_only=True)
class Project(Definitions):
    root: Path


def definition_modules(root: Path, package: str) -> list[Path]:
    """Every definition module of a package, sub-folders included, in a stable order.

    Files and folders whose name starts with `_` hold shared helpers (`_common.py`, `_folders.py`) and are
    not definitions; hidden folders (`.ipynb_checkpoints`) are not either. A sub-folder is only a way to organise modules: nothing in it is skipped silently, and
    one that cannot be imported (`team-a/`) is refused.
    """
    folder = root / package
    if not folder.is_dir():
        return []
    modules = []
    for path in folder.rglob("*.py"):
        parts = path.relative_to(folder).parts
        if any(part.startswith(("_", ".")) for part in parts):  # helpers, and hidden folders of editors
            continue
        for directory in parts[:-1]:
            if not directory.isidentifier():
                raise DefinitionError(
                    f"sub-folder {directory!r} of {package}/ is not a Python package name, so its modules "
                    "cannot be imported: use letters, digits and `_` (or start it with `_` for helpers)",
                    f"{display_path(path)}:1",
                )
        modules.append(path)
    return sorted(modules, key=lambda p: p.relative_to(folder).parts)


def _module_name(root: Path, path: Path) -> str:
    """`dashboards/team_a/payments.py` -> `dashboards.team_a.payments`."""
    return ".".join(path.relative_to(root).with_suffix("").parts)


def _forget_definition_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in DEFINITION_PACKAGES:
            del sys.modules[name]


def _innermost_project_frame(root: Path, tb: traceback.StackSummary) -> str | None:
    for frame in reversed(tb):
        path = Path(frame.filename).resolve()
        if root in path.parents and ".venv" not in path.parts:
            return f"{display_path(path)}:{frame.lineno}"
    return None


def _import(root: Path, path: Path) -> ModuleType:
    name = _module_name(root, path)
    try:
        return importlib.import_module(name)
    except LgtmError as err:
        if err.location is None:
            err.location = _innermost_project_frame(
                root, traceback.extract_tb(err.__traceback__)
            ) or display_path(path)
            err.args = (f"{err.location}: {err.message}",)
        raise
    except SyntaxError as err:
        where = f"{display_path(err.filename or path)}:{err.lineno or 0}"
        raise DefinitionError(f"SyntaxError: {err.msg}", where) from None
    except Exception as err:  # a bug in a definition module: point at its line, no traceback
        where = (
            _innermost_project_frame(root, traceback.extract_tb(err.__traceback__))
            or f"{display_path(path)}:1"
        )
        raise DefinitionError(f"{type(err).__name__}: {err}", where) from None


def _expect(
    module: ModuleType, path: Path, attr: str, kind: type | tuple[type, ...] | None, what: str
) -> Any:
    if not hasattr(module, attr):
        raise DefinitionError(f"module defines no `{attr}` ({what} expected)", f"{display_path(path)}:1")
    value = getattr(module, attr)
    if kind is not None and not isinstance(value, kind):
        raise DefinitionError(
            f"`{attr}` should be {what}, got {type(value).__name__}", f"{display_path(path)}:1"
        )
    return value


def definition_paths(root: Path) -> list[tuple[str, Path]]:
    """Every definition module as (package, path), in the order a build loads them: datasources, dashboards,
    then alerts (which may link to dashboards)."""
    return [(package, path) for package in DEFINITION_PACKAGES for path in definition_modules(root, package)]


@dataclass(kw_only=True)
class ModuleDefinitions(Definitions):
    """What one definition module exposes."""

    path: Path


@contextmanager
def importable(root: Path) -> Iterator[Path]:
    """Definitions of the project at `root` can be imported (as the packages datasources, dashboards, alerts)
    while this is open; modules of an earlier load are forgotten. Yields the resolved root."""
    root = root.resolve()
    source.set_project_root(root)
    source.clear()
    _forget_definition_modules()
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))


def load_module(root: Path, package: str, path: Path) -> ModuleDefinitions:
    """Import one definition module (inside `importable(root)`) and take what it defines."""
    module = _import(root, path)
    found = ModuleDefinitions(path=path)
    if package == "datasources":
        if hasattr(module, "datasources"):
            items = list(module.datasources)
        else:
            items = [_expect(module, path, "datasource", Datasource, "a Datasource")]
        for item in items:
            if not isinstance(item, Datasource):
                raise DefinitionError(
                    f"`datasources` holds a {type(item).__name__}", f"{display_path(path)}:1"
                )
        found.datasources = items
    elif package == "dashboards":
        board = _expect(module, path, "dashboard", None, "a dashboard (lgtm_dash.model.dashboard.Board)")
        if not all(hasattr(board, a) for a in ("uid", "folder", "to_json", "source_map")):
            raise DefinitionError(
                f"`dashboard` should be a Board, got {type(board).__name__}", f"{display_path(path)}:1"
            )
        found.dashboards = [board]
    elif path == root / "alerts" / f"{ALERTMANAGER_MODULE}.py":
        am = _expect(module, path, "alertmanager", None, "an Alertmanager configuration")
        if not hasattr(am, "to_api_body"):
            raise DefinitionError("`alertmanager` has no to_api_body()", f"{display_path(path)}:1")
        found.alertmanager = am
    else:
        found.rule_namespaces = [_expect(module, path, "namespace", RuleNamespace, "a RuleNamespace")]
    return found


def load_project(root: Path) -> Project:
    with importable(root) as root:
        project = Project(root=root)
        for package, path in definition_paths(root):
            found = load_module(root, package, path)
            project.datasources.extend(found.datasources)
            project.dashboards.extend(found.dashboards)
            project.rule_namespaces.extend(found.rule_namespaces)
            if found.alertmanager is not None:
                project.alertmanager = found.alertmanager
        return project
