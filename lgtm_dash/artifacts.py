"""The out/ contract: paths, and reading the compiled artifacts back.

Everything after `build` (lint, diff, publish, configmaps) reads out/ through this module, never the
Python definitions, so it works on a committed out/ and on dashboards nobody wrote here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import DefinitionError
from .source import SourceLocation
from .yamlio import load_yaml_file

BUILD_INFO = "build.json"
SOURCEMAP = "sourcemap.json"
DATASOURCES = "grafana/datasources.yaml"
FOLDERS = "grafana/folders.yaml"
DASHBOARDS_DIR = "grafana/dashboards"
RULES_DIR = "mimir/rules"
LOKI_RULES_DIR = "loki/rules"
ALERTMANAGER = "mimir/alertmanager.yaml"
ALERTMANAGER_FALLBACK = "mimir/alertmanager-fallback-values.yaml"
# Top-level entries of out/ that `build` owns and replaces as a whole.
BUILD_OUTPUTS = (BUILD_INFO, SOURCEMAP, "grafana", "mimir", "loki")

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


def dashboard_path(folder_uid: str, uid: str) -> str:
    return f"{DASHBOARDS_DIR}/{folder_uid}/{uid}.json"


def rules_path(namespace: str, ruler: str = "mimir") -> str:
    return f"{LOKI_RULES_DIR if ruler == 'loki' else RULES_DIR}/{namespace}.yaml"


def summarize(files: dict[str, str]) -> str:
    kinds: Counter[str] = Counter()
    for rel in files:
        if rel.startswith(DASHBOARDS_DIR):
            kinds["dashboards"] += 1
        elif rel.startswith(RULES_DIR):
            kinds["rule namespaces"] += 1
        elif rel.startswith(LOKI_RULES_DIR):
            kinds["Loki rule namespaces"] += 1
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no dashboards or rules"


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
    folders: list[dict[str, Any]] = field(default_factory=list)
    dashboards: list[DashboardArtifact] = field(default_factory=list)
    rule_namespaces: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rule_files: dict[str, Path] = field(default_factory=dict)
    # The Loki ruler's namespaces (LogQL rules), in the same shape as the Mimir ones above.
    loki_rule_namespaces: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    loki_rule_files: dict[str, Path] = field(default_factory=dict)
    alertmanager: dict[str, Any] | None = None
    sourcemap: dict[str, str] = field(default_factory=dict)

    def source_of(self, key: str) -> SourceLocation | None:
        text = self.sourcemap.get(key)
        return SourceLocation.parse(text) if text else None

    def dashboard(self, uid: str) -> DashboardArtifact | None:
        return next((d for d in self.dashboards if d.uid == uid), None)


def read_json_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return json.loads(text)  # the standard library's error names the line
    except json.JSONDecodeError as err:
        raise DefinitionError(f"invalid JSON: {err.msg}", f"{path}:{err.lineno}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read: {err}", path) from None


def read_artifacts(out_dir: Path) -> Artifacts:
    """Read a built out/ directory. Missing parts are simply empty; malformed files are errors."""
    if not out_dir.is_dir():
        raise DefinitionError(f"{out_dir} does not exist: run `lgtm-dash build` first")
    arts = Artifacts(root=out_dir)
    if (out_dir / BUILD_INFO).is_file():
        arts.env = read_json_file(out_dir / BUILD_INFO).get("env")
    if (out_dir / SOURCEMAP).is_file():
        arts.sourcemap = read_json_file(out_dir / SOURCEMAP)
    if (out_dir / DATASOURCES).is_file():
        data = load_yaml_file(out_dir / DATASOURCES) or {}
        arts.datasources = list(data.get("datasources") or [])
    if (out_dir / FOLDERS).is_file():
        arts.folders = list((load_yaml_file(out_dir / FOLDERS) or {}).get("folders") or [])
    for path in sorted((out_dir / DASHBOARDS_DIR).glob("*/*.json")):
        data = read_json_file(path)
        if not isinstance(data, dict):
            raise DefinitionError("a dashboard file must hold a JSON object", path)
        arts.dashboards.append(
            DashboardArtifact(
                uid=data.get("uid") or path.stem, folder_uid=path.parent.name, path=path, data=data
            )
        )
    for directory, namespaces, files in (
        (RULES_DIR, arts.rule_namespaces, arts.rule_files),
        (LOKI_RULES_DIR, arts.loki_rule_namespaces, arts.loki_rule_files),
    ):
        for path in sorted((out_dir / directory).glob("*.yaml")):
            data = load_yaml_file(path) or {}
            namespace = data.get("namespace") or path.stem
            namespaces[namespace] = list(data.get("groups") or [])
            files[namespace] = path
    if (out_dir / ALERTMANAGER).is_file():
        arts.alertmanager = load_yaml_file(out_dir / ALERTMANAGER)
    return arts
