"""What the linter reads: dashboards and rule groups, from a built out/ tree or from any files given.

An out/ tree is read through `lgtm_dash.artifacts` (so the source map points findings at the Python line and
the datasource set is known); loose dashboard JSON files (modern, legacy `rows`, API exports wrapped in
`{"dashboard": ...}`, Kubernetes-style v2) and rule files (mimirtool `namespace:` files, plain Prometheus
`groups:` files, multi-document YAML) are read as they are. Unusable input raises `DefinitionError` (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import artifacts as layout
from ..artifacts import read_artifacts, read_json_file
from ..errors import DefinitionError
from ..source import SourceLocation, display_path

RULE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PanelDoc:
    data: Mapping[str, Any]
    title: str
    id: Any
    nested: bool  # inside a collapsed row or a legacy row: its gridPos is not on the main grid


@dataclass(frozen=True)
class DashboardDoc:
    uid: str | None
    title: str
    data: Mapping[str, Any]  # Grafana's classic JSON model (v2 dashboards are converted to it)
    file: str  # where the JSON came from, as shown to the user
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    panels: tuple[PanelDoc, ...] = ()

    @property
    def templating(self) -> list[Mapping[str, Any]]:
        entries = (self.data.get("templating") or {}).get("list") if isinstance(self.data, Mapping) else None
        return [e for e in entries or [] if isinstance(e, Mapping)]

    @property
    def label(self) -> str:
        return f"dashboard {self.uid or self.title!r}"

    def location(self, panel: PanelDoc | None = None) -> SourceLocation:
        if self.uid:
            for key in ((f"dashboard:{self.uid}/panel:{panel.id}",) if panel else ()) + (
                f"dashboard:{self.uid}",
            ):
                if key in self.sources:
                    return SourceLocation.parse(self.sources[key])
        return SourceLocation(self.file, 0)


@dataclass(frozen=True)
class RuleDoc:
    data: Mapping[str, Any]
    namespace: str
    group: str
    file: str
    line: int
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    ruler: str = "mimir"  # "loki": the expression is LogQL

    @property
    def language(self) -> str:
        return "logql" if self.ruler == "loki" else "promql"

    @property
    def name(self) -> str:
        return str(self.data.get("alert") or self.data.get("record") or "")

    @property
    def is_alert(self) -> bool:
        return "alert" in self.data

    @property
    def label(self) -> str:
        kind = "alert" if self.is_alert else "recording rule"
        return f"{kind} {self.name!r} (group {self.group!r})"

    def location(self) -> SourceLocation:
        for key in (
            f"rule:{self.namespace}/{self.group}/{self.name}",
            f"group:{self.namespace}/{self.group}",
        ):
            if key in self.sources:
                return SourceLocation.parse(self.sources[key])
        return SourceLocation(self.file, self.line)


@dataclass(frozen=True)
class RuleGroupDoc:
    data: Mapping[str, Any]
    namespace: str
    name: str
    file: str
    line: int
    rules: tuple[RuleDoc, ...]
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    ruler: str = "mimir"

    def location(self) -> SourceLocation:
        key = f"group:{self.namespace}/{self.name}"
        return (
            SourceLocation.parse(self.sources[key])
            if key in self.sources
            else SourceLocation(self.file, self.line)
        )


@dataclass
class LintInput:
    dashboards: list[DashboardDoc] = field(default_factory=list)
    rule_groups: list[RuleGroupDoc] = field(default_factory=list)
    # Provisioned datasources, or None when unknown (loose files): then datasource UIDs are not checked.
    datasources: list[Mapping[str, Any]] | None = None
    # True when an out/ tree was read: dashboards and rules are the complete set, so links can be checked.
    complete: bool = False

    def extend(self, other: LintInput) -> None:
        self.dashboards.extend(other.dashboards)
        self.rule_groups.extend(other.rule_groups)
        if other.datasources is not None:
            self.datasources = [*(self.datasources or []), *other.datasources]
        self.complete = self.complete or other.complete


# ------------------------------------------------------------------ dashboards


def dashboard_doc(
    data: Mapping[str, Any], file: str, sources: Mapping[str, str] | None = None
) -> DashboardDoc:
    """A dashboard JSON document (any supported shape) as the linter sees it."""
    if isinstance(data.get("dashboard"), Mapping) and "panels" not in data:
        data = data["dashboard"]  # an API export: {"dashboard": ..., "meta": ...}
    if str(data.get("apiVersion", "")).startswith("dashboard.grafana.app/") or (
        isinstance(data.get("spec"), Mapping) and "elements" in data["spec"]
    ):
        data = _from_v2(data)
    uid = data.get("uid") if isinstance(data.get("uid"), str) else None
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    return DashboardDoc(
        uid=uid or None,
        title=title,
        data=data,
        file=file,
        sources=sources or {},
        panels=tuple(_flatten_panels(data)),
    )


def _flatten_panels(data: Mapping[str, Any]) -> Iterator[PanelDoc]:
    def panel(item: Mapping[str, Any], nested: bool) -> PanelDoc:
        title = item.get("title")
        return PanelDoc(
            data=item, title=title if isinstance(title, str) else "", id=item.get("id"), nested=nested
        )

    for item in data.get("panels") or []:
        if not isinstance(item, Mapping):
            continue
        yield panel(item, nested=False)
        for child in item.get("panels") or []:  # a collapsed row keeps its panels inside
            if isinstance(child, Mapping):
                yield panel(child, nested=True)
    for row in data.get("rows") or []:  # legacy (schemaVersion < 16) layout
        if isinstance(row, Mapping):
            for child in row.get("panels") or []:
                if isinstance(child, Mapping):
                    yield panel(child, nested=True)


def _from_v2(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Kubernetes-style v2 dashboards: map what the checks read onto the classic model."""
    spec = resource.get("spec") if isinstance(resource.get("spec"), Mapping) else {}
    metadata = resource.get("metadata") if isinstance(resource.get("metadata"), Mapping) else {}
    panels = []
    for key, element in (spec.get("elements") or {}).items():
        element_spec = element.get("spec") if isinstance(element, Mapping) else None
        if not isinstance(element_spec, Mapping):
            continue
        viz = (
            (element_spec.get("vizConfig") or {})
            if isinstance(element_spec.get("vizConfig"), Mapping)
            else {}
        )
        viz_spec = viz.get("spec") if isinstance(viz.get("spec"), Mapping) else {}
        targets = []
        queries = ((element_spec.get("data") or {}).get("spec") or {}).get("queries") or []
        for query in queries:
            query_spec = query.get("spec") if isinstance(query, Mapping) else None
            if not isinstance(query_spec, Mapping):
                continue
            inner = query_spec.get("query") if isinstance(query_spec.get("query"), Mapping) else {}
            ds = inner.get("datasource") if isinstance(inner.get("datasource"), Mapping) else {}
            target = dict(inner.get("spec") or {})
            target["refId"] = query_spec.get("refId")
            target["datasource"] = {"type": inner.get("group"), "uid": ds.get("name") or ds.get("uid")}
            targets.append(target)
        panels.append(
            {
                "id": element_spec.get("id"),
                "title": element_spec.get("title"),
                "description": element_spec.get("description"),
                "type": viz.get("group") or element.get("kind"),
                "fieldConfig": viz_spec.get("fieldConfig") or {},
                "options": viz_spec.get("options") or {},
                "targets": targets,
                "v2_element": key,
            }
        )
    variables = []
    for variable in spec.get("variables") or []:
        var_spec = variable.get("spec") if isinstance(variable, Mapping) else None
        if not isinstance(var_spec, Mapping):
            continue
        kind = str(variable.get("kind", "")).removesuffix("Variable").lower()
        entry = dict(var_spec)
        entry["type"] = kind
        query = var_spec.get("query")
        if kind == "datasource":
            entry["query"] = var_spec.get("pluginId")
        elif isinstance(query, Mapping):
            inner = query.get("spec") if isinstance(query.get("spec"), Mapping) else {}
            entry["query"] = inner.get("query") or inner.get("expr") or ""
            entry["datasource"] = {
                "type": query.get("group"),
                "uid": (query.get("datasource") or {}).get("name"),
            }
        variables.append(entry)
    return {
        "uid": metadata.get("name"),
        "title": spec.get("title"),
        "panels": panels,
        "templating": {"list": variables},
        "links": spec.get("links") or [],
        "v2": True,
    }


def _looks_like_dashboard(data: object) -> bool:
    return isinstance(data, Mapping) and any(
        k in data for k in ("panels", "rows", "dashboard", "spec", "templating")
    )


# ---------------------------------------------------------------------- rules


def _mapping_child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if key_node.value == key:
                return value
    return None


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def ruler_of(path: Path) -> str:
    """ "loki" for a rule file in a `loki` directory (out/loki/rules/, or a Loki rules folder), else "mimir"."""
    return "loki" if "loki" in (part.lower() for part in path.resolve().parent.parts) else "mimir"


def read_rule_file(path: Path, *, strict: bool = True) -> list[RuleGroupDoc]:
    """Rule groups of a mimirtool, lokitool or Prometheus rule file (every YAML document).

    With `strict`, a file holding no rule groups is bad input; otherwise (walking a directory) it is skipped.
    A file inside a `loki` directory holds Loki ruler rules (LogQL).
    """
    shown = display_path(path)
    ruler = ruler_of(path)
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        documents: list[tuple[yaml.Node, Any]] = []
        try:
            while loader.check_node():
                node = loader.get_node()
                documents.append((node, loader.construct_document(node)))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise DefinitionError(
            f"invalid YAML: {err.problem or err}", f"{shown}:{mark.line + 1 if mark else 0}"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise DefinitionError(f"cannot read: {' '.join(str(err).split())}", shown) from None

    groups: list[RuleGroupDoc] = []
    found_groups_key = False
    for node, data in documents:
        if data is None:
            continue
        if (
            isinstance(data, Mapping)
            and data.get("kind") == "PrometheusRule"
            and isinstance(data.get("spec"), Mapping)
        ):
            # A prometheus-operator PrometheusRule resource: the rule file is its spec.
            name = (
                (data.get("metadata") or {}).get("name")
                if isinstance(data.get("metadata"), Mapping)
                else None
            )
            node = _mapping_child(node, "spec") or node
            data = {"namespace": name or path.stem, **data["spec"]}
        if not isinstance(data, Mapping) or "groups" not in data:
            if strict:
                raise DefinitionError(
                    "not a rule file: expected a `groups:` list", f"{shown}:{node.start_mark.line + 1}"
                )
            continue
        found_groups_key = True
        namespace = str(data.get("namespace") or path.stem)
        group_nodes = _items(_mapping_child(node, "groups"))
        if not isinstance(data["groups"], list):
            raise DefinitionError("`groups` must be a list", f"{shown}:{node.start_mark.line + 1}")
        for index, group in enumerate(data["groups"]):
            group_node = group_nodes[index] if index < len(group_nodes) else node
            groups.append(_group_doc(group, group_node, namespace, shown, {}, ruler))
    if strict and not found_groups_key:
        raise DefinitionError("not a rule file: expected a `groups:` list", f"{shown}:1")
    return groups


def _group_doc(
    group: Any,
    node: yaml.Node | None,
    namespace: str,
    file: str,
    sources: Mapping[str, str],
    ruler: str = "mimir",
) -> RuleGroupDoc:
    group = group if isinstance(group, Mapping) else {"name": None, "rules": [], "invalid": group}
    name = str(group.get("name") or "")
    rule_nodes = _items(_mapping_child(node, "rules")) if node is not None else []
    line = node.start_mark.line + 1 if node is not None else 0
    rules = []
    for index, rule in enumerate(group.get("rules") or [] if isinstance(group.get("rules"), list) else []):
        rule_line = rule_nodes[index].start_mark.line + 1 if index < len(rule_nodes) else line
        rules.append(
            RuleDoc(
                data=rule if isinstance(rule, Mapping) else {"invalid": rule},
                namespace=namespace,
                group=name,
                file=file,
                line=rule_line,
                sources=sources,
                ruler=ruler,
            )
        )
    return RuleGroupDoc(
        data=group,
        namespace=namespace,
        name=name,
        file=file,
        line=line,
        rules=tuple(rules),
        sources=sources,
        ruler=ruler,
    )


# ---------------------------------------------------------------------- entry


def is_out_tree(path: Path) -> bool:
    return (path / layout.BUILD_INFO).is_file() or (path / layout.SOURCEMAP).is_file()


def read_out_tree(out_dir: Path) -> LintInput:
    arts = read_artifacts(out_dir)
    result = LintInput(datasources=list(arts.datasources), complete=True)
    for dash in arts.dashboards:
        result.dashboards.append(dashboard_doc(dash.data, display_path(dash.path), arts.sourcemap))
    for ruler, namespaces, files in (
        ("mimir", arts.rule_namespaces, arts.rule_files),
        ("loki", arts.loki_rule_namespaces, arts.loki_rule_files),
    ):
        for namespace, groups in namespaces.items():
            file = display_path(files[namespace])
            for group in groups:
                result.rule_groups.append(_group_doc(group, None, namespace, file, arts.sourcemap, ruler))
    return result


def read_dashboard_file(path: Path, *, strict: bool = True) -> DashboardDoc | None:
    data = read_json_file(path)
    if not _looks_like_dashboard(data):
        if strict:
            raise DefinitionError(
                "not a Grafana dashboard (no panels, rows or spec)", f"{display_path(path)}:1"
            )
        return None
    return dashboard_doc(data, display_path(path))


def read_paths(paths: list[Path]) -> LintInput:
    """Everything named on the command line: out/ trees, dashboard JSON, rule files, directories of them."""
    result = LintInput()
    for path in paths:
        if not path.exists():
            raise DefinitionError(f"{path} does not exist")
        if path.is_dir():
            if is_out_tree(path):
                result.extend(read_out_tree(path))
                continue
            for child in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in child.relative_to(path).parts) or not child.is_file():
                    continue
                if child.suffix == ".json":
                    doc = read_dashboard_file(child, strict=False)
                    if doc is not None:
                        result.dashboards.append(doc)
                elif child.suffix in RULE_SUFFIXES:
                    result.rule_groups.extend(read_rule_file(child, strict=False))
        elif path.suffix == ".json":
            doc = read_dashboard_file(path)
            if doc is not None:
                result.dashboards.append(doc)
        elif path.suffix in RULE_SUFFIXES:
            result.rule_groups.extend(read_rule_file(path))
        else:
            raise DefinitionError(
                f"{path}: expected a dashboard .json, a rule .yaml/.yml file or a directory"
            )
    return result
