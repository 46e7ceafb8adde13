"""The out/ contract: paths, and reading the compiled artifacts back.

Everything after `build` (lint, diff, publish, configmaps) reads out/ through this module, never the
Python definitions, so it works on a committed out/ and on dashboards nobody wrote here.
"""

from __future__ import annotations

import gc
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .environments import DEFAULT_ENV
from .errors import DefinitionError
from .limits import MAX_NESTING, nesting_exceeds
from .model.uid import check_uid
from .outdir import MARKER, owner
from .source import SourceLocation
from .yamlio import load_yaml_file

BUILD_COMMAND = "build"  # the command whose marker (lgtm_dash.outdir) an out/ tree carries
BUILD_INFO = "build.json"
SOURCEMAP = "sourcemap.json"
DATASOURCES = "grafana/datasources.yaml"
# Datasources the definitions refer to but never provision (`lgtm_dash.model.datasource.external`).
EXTERNAL_DATASOURCES = "grafana/datasources-external.yaml"
FOLDERS = "grafana/folders.yaml"
DASHBOARDS_DIR = "grafana/dashboards"
RULES_DIR = "mimir/rules"
LOKI_RULES_DIR = "loki/rules"
ALERTMANAGER = "mimir/alertmanager.yaml"
ALERTMANAGER_FALLBACK = "mimir/alertmanager-fallback-values.yaml"
# Top-level entries of out/ that `build` owns and replaces as a whole; build.json is written last
# (lgtm_dash.outdir), so a tree carrying the build marker but no build.json is an interrupted build.
BUILD_OUTPUTS = (BUILD_INFO, SOURCEMAP, "grafana", "mimir", "loki")
# A namespace is a file name in out/ and a URL path segment: never "." or "..".
NAMESPACE_PATTERN = re.compile(r"^(?!\.+$)[A-Za-z0-9_.-]+$")

# Lint suppressions travel in the artifacts themselves, so hand-written files can carry them too (README, Lint):
# a dashboard's top-level `lintIgnore` list, a panel's `options.lintIgnore` list (Grafana keeps panel options as
# saved), and in rule YAML a `# lgtm-dash: ignore=rule/id,...` comment in or just above a rule or group
# (`ignore-file=` for the whole file).
LINT_IGNORE_KEY = "lintIgnore"
LINT_IGNORE_DIRECTIVE = re.compile(
    r"#\s*lgtm-dash:\s*(ignore|ignore-file)\s*=\s*([A-Za-z0-9_/,\- ]*[A-Za-z0-9_/-])"
)


def lint_ignore_comment(ids: Iterable[str], *, scope: str = "ignore") -> str:
    return f"# lgtm-dash: {scope}={','.join(ids)}"


# The environment the committed out/ is built for (the Makefile builds the others into build/<env>/).
COMMITTED_ENV = DEFAULT_ENV


def build_hint(env_name: str | None) -> str:
    """The command that builds `env_name`'s artifacts without overwriting the committed out/."""
    if env_name in (None, COMMITTED_ENV):
        return "lgtm-dash build"
    return f"lgtm-dash build --env {env_name} --out build/{env_name}"


def dashboard_path(folder_uid: str, uid: str) -> str:
    """Checked here too: a dashboard object can be changed after it was built, and an uid is a file name."""
    check_uid(folder_uid, "folder")
    check_uid(uid, "dashboard")
    return f"{DASHBOARDS_DIR}/{folder_uid}/{uid}.json"


def rules_path(namespace: str, ruler: str = "mimir") -> str:
    return f"{LOKI_RULES_DIR if ruler == 'loki' else RULES_DIR}/{check_namespace(namespace)}.yaml"


def check_namespace(namespace: object, where: object = None) -> str:
    if not isinstance(namespace, str) or not NAMESPACE_PATTERN.match(namespace):
        raise DefinitionError(f"rule namespace {namespace!r} must match {NAMESPACE_PATTERN.pattern}", where)
    return namespace


def is_artifacts_dir(path: Path) -> bool:
    """A directory `build` wrote (complete or not), or one shaped like it (build.json or sourcemap.json)."""
    return (path / BUILD_INFO).is_file() or (path / SOURCEMAP).is_file() or owner(path) == BUILD_COMMAND


def built_before_markers(out_dir: Path) -> bool:
    """An out/ that lgtm-dash wrote before output directories carried a marker: its build.json says so."""
    try:
        info = orjson.loads((out_dir / BUILD_INFO).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(info, dict) and str(info.get("generator", "")).startswith("lgtm-dash")


def summarize(files: dict[str, str]) -> str:
    kinds: Counter[str] = Counter()
    for rel in files:
        if rel.startswith(DASHBOARDS_DIR):
            kinds["dashboard"] += 1
        elif rel.startswith(RULES_DIR):
            kinds["Mimir rule namespace"] += 1
        elif rel.startswith(LOKI_RULES_DIR):
            kinds["Loki rule namespace"] += 1
    shown = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in kinds.items()]
    return ", ".join(shown) or "no dashboards or rules"


@dataclass(frozen=True)
class DashboardArtifact:
    uid: str
    folder_uid: str
    path: Path
    data: dict[str, Any]


@dataclass
class Artifacts:
    root: Path
    env: str | None = None
    datasources: list[dict[str, Any]] = field(default_factory=list)
    external_datasources: list[dict[str, Any]] = field(default_factory=list)
    folders: list[dict[str, Any]] = field(default_factory=list)
    dashboards: list[DashboardArtifact] = field(default_factory=list)
    rule_namespaces: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rule_files: dict[str, Path] = field(default_factory=dict)
    # The Loki ruler's namespaces (LogQL rules), in the same shape as the Mimir ones above.
    loki_rule_namespaces: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    loki_rule_files: dict[str, Path] = field(default_factory=dict)
    alertmanager: dict[str, Any] | None = None
    sourcemap: dict[str, str] = field(default_factory=dict)
    # Dashboard files not read because the caller knew them already (`read_artifacts(known_dashboard=)`).
    known_dashboards: list[Path] = field(default_factory=list)

    def source_of(self, key: str) -> SourceLocation | None:
        text = self.sourcemap.get(key)
        return SourceLocation.parse(text) if text else None

    def dashboard(self, uid: str) -> DashboardArtifact | None:
        return next((d for d in self.dashboards if d.uid == uid), None)


# The skeleton every reader of out/ relies on (Grafana's dashboard model, Mimir's rule groups): a part of the
# wrong type is bad input naming the file and the part, not a crash in whichever reader meets it first.
# A dict is an object whose listed keys (when present and not null) have these shapes; [shape] is a list of
# them; a type (or tuple of types) is what the value must be. Anything not listed is free-form.
_OBJECT: dict[str, Any] = {}
_PANEL: dict[str, Any] = {
    "id": (int, float, str),
    "title": str,
    "type": str,
    "targets": [_OBJECT],
    "options": _OBJECT,
    "fieldConfig": {"defaults": _OBJECT, "overrides": [_OBJECT]},
    "gridPos": _OBJECT,
}
_PANEL["panels"] = [_PANEL]  # a collapsed row keeps its panels inside
DASHBOARD_SHAPE: dict[str, Any] = {
    "title": str,
    "panels": [_PANEL],
    "rows": [{"panels": [_PANEL]}],  # the legacy (schemaVersion < 16) layout
    "templating": {"list": [_OBJECT]},
    "annotations": {"list": [_OBJECT]},
    "links": [_OBJECT],
    "tags": [str],
}
DATASOURCE_SHAPE: dict[str, Any] = {"name": str, "type": str, "jsonData": _OBJECT, "secureJsonData": _OBJECT}
FOLDER_SHAPE: dict[str, Any] = {"title": str}
# The body of Mimir's POST /api/v1/alerts: the config is YAML text.
ALERTMANAGER_SHAPE: dict[str, Any] = {"template_files": _OBJECT, "alertmanager_config": str}
_ROUTE: dict[str, Any] = {"receiver": str, "matchers": [str], "match": _OBJECT, "match_re": _OBJECT}
_ROUTE["routes"] = [_ROUTE]
# Its alertmanager_config, parsed (Alertmanager's config file).
ALERTMANAGER_CONFIG_SHAPE: dict[str, Any] = {
    "global": _OBJECT,
    "route": _ROUTE,
    "receivers": [{"name": str}],
    "inhibit_rules": [
        {
            "source_matchers": [str],
            "target_matchers": [str],
            "equal": [str],
            "source_match": _OBJECT,
            "target_match": _OBJECT,
            "source_match_re": _OBJECT,
            "target_match_re": _OBJECT,
        }
    ],
    "templates": [str],
    "time_intervals": [_OBJECT],
}
RULE_GROUP_SHAPE: dict[str, Any] = {
    "name": str,
    "rules": [{"alert": str, "record": str, "labels": _OBJECT, "annotations": _OBJECT}],
}


def check_shape(value: Any, shape: Any, path: object, where: str = "") -> None:
    """Raise DefinitionError naming `path` and the part (e.g. `panels[2].targets[0]`) of the wrong type."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise DefinitionError(f"{where or 'the top'} must be an object, not {_kind(value)}", path)
        for key, inner in shape.items():
            item = value.get(key)
            if item is None:
                continue
            # The common cases inline (every panel and target of every dashboard comes through here).
            if inner is _OBJECT:
                if not isinstance(item, dict):
                    check_shape(item, inner, path, f"{where}.{key}" if where else key)
            elif type(inner) is type or type(inner) is tuple:
                if not isinstance(item, inner) or isinstance(item, bool):
                    check_shape(item, inner, path, f"{where}.{key}" if where else key)
            else:
                check_shape(item, inner, path, f"{where}.{key}" if where else key)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise DefinitionError(f"{where} must be a list, not {_kind(value)}", path)
        inner = shape[0]
        if inner is _OBJECT:
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    check_shape(item, inner, path, f"{where}[{index}]")
        else:
            for index, item in enumerate(value):
                check_shape(item, inner, path, f"{where}[{index}]")
    elif not isinstance(value, shape) or isinstance(value, bool):
        raise DefinitionError(f"{where} has the wrong type ({_kind(value)})", path)


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def read_json_file(path: Path) -> Any:
    """Parse a JSON file; bad or too deeply nested JSON is a one-line `file:line` error (exit 2)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read: {err}", path) from None
    return parse_json(text, path)


def parse_json(text: str, shown: Path | str) -> Any:
    """JSON text named `shown` in errors; bad or too deeply nested JSON is a one-line `file:line` error."""
    try:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            if "recursion" in str(err):  # orjson stops at 1024 levels
                raise _too_deep(shown) from None
            data = json.loads(text)  # what orjson refuses (NaN, huge integers); its errors name the line
    except json.JSONDecodeError as err:
        raise DefinitionError(f"invalid JSON: {err.msg}", f"{shown}:{err.lineno}") from None
    except RecursionError:  # the standard library's parser recurses per level
        raise _too_deep(shown) from None
    if nesting_exceeds(data):
        raise _too_deep(shown)
    return data


def _too_deep(path: Path | str) -> DefinitionError:
    return DefinitionError(f"invalid JSON: nested deeper than {MAX_NESTING} levels", path)


def built_env(out_dir: Path) -> str | None:
    """The environment out_dir was built for (its build.json), or None when it holds no build."""
    path = out_dir / BUILD_INFO
    if not path.is_file():
        return None
    env = _mapping(read_json_file(path), path).get("env")
    if env is not None and not isinstance(env, str):
        raise DefinitionError("`env` must be a string", path)
    return env


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Read many dashboards without the cycle collector scanning them again and again while they pile up
    (`read_artifacts`), or the answers of a plan that reads them all back (publish).

    Parsed JSON holds no reference cycles and stays alive until the run ends: collection is paused while
    it is read, then what was read is frozen (`gc.freeze`), so later collections skip it. Frozen objects
    are still freed by reference counting. A quarter of reading 1,000 dashboards, and of a no-op
    publish's reads after it, was the collector's.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def read_artifacts(out_dir: Path, *, known_dashboard: Callable[[Path], bool] | None = None) -> Artifacts:
    """Read a built out/ directory. Missing parts are simply empty; malformed files are errors.

    Names that become paths or URLs (UIDs, namespaces) are checked here: out/ may have been edited by hand.
    `known_dashboard(path)`: True for a dashboard file the caller has read before as it is now (lint's
    cache); it is listed in `known_dashboards` instead of being read again.
    """
    if not out_dir.is_dir():
        raise DefinitionError(f"{out_dir} does not exist: run `lgtm-dash build` first")
    if owner(out_dir) == BUILD_COMMAND and not (out_dir / BUILD_INFO).is_file():
        raise DefinitionError(
            f"{out_dir} is incomplete: a build into it was interrupted (it has the {MARKER} marker but no "
            f"{BUILD_INFO}); run `lgtm-dash build` again"
        )
    arts = Artifacts(root=out_dir)
    arts.env = built_env(out_dir)
    if (out_dir / SOURCEMAP).is_file():
        sourcemap = _mapping(read_json_file(out_dir / SOURCEMAP), out_dir / SOURCEMAP)
        if not all(isinstance(v, str) for v in sourcemap.values()):
            raise DefinitionError("every entry must be a `file:line` string", out_dir / SOURCEMAP)
        arts.sourcemap = sourcemap
    if (out_dir / DATASOURCES).is_file():
        path = out_dir / DATASOURCES
        arts.datasources = _list_of_mappings(_mapping(load_yaml_file(path), path), "datasources", path)
        check_shape(arts.datasources, [DATASOURCE_SHAPE], path, "datasources")
        for entry in arts.datasources:
            if "uid" in entry:
                check_uid(entry["uid"], f"datasource {entry.get('name')!r}", path)
    if (out_dir / EXTERNAL_DATASOURCES).is_file():
        path = out_dir / EXTERNAL_DATASOURCES
        arts.external_datasources = _list_of_mappings(
            _mapping(load_yaml_file(path), path), "datasources", path
        )
    if (out_dir / FOLDERS).is_file():
        path = out_dir / FOLDERS
        arts.folders = _list_of_mappings(_mapping(load_yaml_file(path), path), "folders", path)
        check_shape(arts.folders, [FOLDER_SHAPE], path, "folders")
        for entry in arts.folders:
            check_uid(entry.get("uid"), f"folder {entry.get('title')!r}", path)
            if entry.get("parentUid") is not None:
                check_uid(entry["parentUid"], f"parent of folder {entry['uid']!r}", path)
    with cycle_collection_paused():
        for path in sorted((out_dir / DASHBOARDS_DIR).glob("*/*.json")):
            if known_dashboard is not None and known_dashboard(path):
                arts.known_dashboards.append(path)
                continue
            data = read_json_file(path)
            if not isinstance(data, dict):
                raise DefinitionError("a dashboard file must hold a JSON object", path)
            check_shape(data, DASHBOARD_SHAPE, path)
            uid = data.get("uid") or path.stem
            check_uid(uid, "dashboard", path)
            check_uid(path.parent.name, "folder (directory name)", path)
            arts.dashboards.append(
                DashboardArtifact(uid=uid, folder_uid=path.parent.name, path=path, data=data)
            )
    for directory, namespaces, files in (
        (RULES_DIR, arts.rule_namespaces, arts.rule_files),
        (LOKI_RULES_DIR, arts.loki_rule_namespaces, arts.loki_rule_files),
    ):
        for path in sorted((out_dir / directory).glob("*.yaml")):
            data = _mapping(load_yaml_file(path), path)
            namespace = check_namespace(data.get("namespace") or path.stem, path)
            namespaces[namespace] = _list_of_mappings(data, "groups", path)
            check_shape(data, {"groups": [RULE_GROUP_SHAPE]}, path)
            files[namespace] = path
    if (out_dir / ALERTMANAGER).is_file():
        arts.alertmanager = _mapping(load_yaml_file(out_dir / ALERTMANAGER), out_dir / ALERTMANAGER)
        check_shape(arts.alertmanager, ALERTMANAGER_SHAPE, out_dir / ALERTMANAGER)
    return arts


def _mapping(data: Any, path: Path) -> dict[str, Any]:
    """The top of an out/ file: a mapping (an empty file reads as an empty one)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DefinitionError(f"expected a mapping at the top, found {type(data).__name__}", path)
    return data


def _list_of_mappings(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise DefinitionError(f"`{key}` must be a list of mappings", path)
    return items
