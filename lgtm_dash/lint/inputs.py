"""What the linter reads: dashboards and rule groups, from a built out/ tree or from any files given.

An out/ tree is read through `lgtm_dash.artifacts` (so the source map points findings at the Python line and
the datasource set is known); loose dashboard JSON files (modern, legacy `rows`, API exports wrapped in
`{"dashboard": ...}`, Kubernetes-style v2) and rule files (mimirtool `namespace:` files, plain Prometheus
`groups:` files, multi-document YAML) are read as they are. A file that cannot be used (not JSON or YAML, not a
dashboard or rule file) becomes one `input/...` finding for that file and the others are still read; an empty rule
file (`null`, `{}`, `groups: []`) is valid and holds no groups.

Suppressions are read here too (the syntax is part of the out/ contract, `lgtm_dash.artifacts`): a dashboard's
top-level `lintIgnore`, a panel's `options.lintIgnore`, and `# lgtm-dash: ignore=...` comments in rule YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import yaml

from .. import artifacts as layout
from ..artifacts import (
    LINT_IGNORE_DIRECTIVE,
    LINT_IGNORE_KEY,
    check_shape,
    parse_json,
    read_artifacts,
    read_json_file,
)
from ..errors import DefinitionError
from ..source import SourceLocation, display_path
from ..yamlio import parse_documents
from .findings import Finding, Severity

RULE_SUFFIXES = (".yaml", ".yml")
INPUT_SYNTAX = "input/syntax"  # not JSON or YAML, or unreadable
INPUT_FORMAT = "input/format"  # valid JSON or YAML, but neither a dashboard nor a rule file


class UnusableFile(DefinitionError):
    """A file that is neither a dashboard nor a rule file (as opposed to one that does not parse)."""


def ignore_list(value: Any) -> tuple[str, ...]:
    """A suppression list as written: a list of rule ids/prefixes, or one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(item.strip() for item in items if isinstance(item, str) and item.strip())


@dataclass(frozen=True)
class PanelDoc:
    data: Mapping[str, Any]
    title: str
    id: Any
    nested: bool  # inside a collapsed row or a legacy row: its gridPos is not on the main grid
    ignores: tuple[str, ...] = ()  # options.lintIgnore
    repeats: tuple[str, ...] = ()  # variables the panel (or its row) is repeated over: one value per copy


class _DashboardView:
    """What a dashboard document and a known one (`KnownDashboard`) share."""

    uid: str | None
    title: str
    data: Mapping[str, Any]
    file: str
    sources: Mapping[str, str]

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
class DashboardDoc(_DashboardView):
    uid: str | None
    title: str
    data: Mapping[str, Any]  # Grafana's classic JSON model (v2 dashboards are converted to it)
    file: str  # where the JSON came from, as shown to the user
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    panels: tuple[PanelDoc, ...] = ()
    ignores: tuple[str, ...] = ()  # top-level lintIgnore
    # The file and its content digest when it came from an out/ tree read with lint's cache, else None and "".
    path: Path | None = field(default=None, compare=False, repr=False)
    digest: str = field(default="", compare=False, repr=False)


class KnownDashboard(_DashboardView):
    """A dashboard of out/ whose file lint's cache has seen as it is now (same content digest): what the
    whole-run checks read of it (uid, title, file, suppressions) comes from the cache; its JSON is read only if
    something asks for it (`data`, `panels`, or `load()` when its findings must be worked out again)."""

    def __init__(
        self, path: Path, file: str, sources: Mapping[str, str], digest: str, facts: Mapping[str, Any]
    ):
        self.path, self.file, self.sources, self.digest = path, file, sources, digest
        self.facts = facts
        self.uid = facts.get("uid")
        self.title = str(facts.get("title") or "")
        self.ignores = tuple(facts.get("ignores") or ())

    @cached_property
    def _doc(self) -> DashboardDoc:
        data = read_json_file(self.path)
        if not isinstance(data, dict):
            raise DefinitionError("a dashboard file must hold a JSON object", self.path)
        return replace(dashboard_doc(data, self.file, self.sources), path=self.path, digest=self.digest)

    def load(self) -> DashboardDoc:
        return self._doc

    @property
    def data(self) -> Mapping[str, Any]:  # type: ignore[override]  # (read-only here, a field in DashboardDoc)
        return self._doc.data

    @property
    def panels(self) -> tuple[PanelDoc, ...]:
        return self._doc.panels


@dataclass(frozen=True)
class RuleDoc:
    data: Mapping[str, Any]
    namespace: str
    group: str
    file: str
    line: int
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    ignores: tuple[str, ...] = ()  # `# lgtm-dash: ignore=` of the rule, its group and its file
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
    ignores: tuple[str, ...] = ()  # `# lgtm-dash: ignore=` of the group and its file
    document: int = 0  # which YAML document of the file holds the group (Prometheus reads only the first)
    resource: bool = False  # from a PrometheusRule resource (Kubernetes manifests hold one per document)
    ruler: str = "mimir"  # "loki": a Loki ruler group (LogQL rules)

    def location(self) -> SourceLocation:
        key = f"group:{self.namespace}/{self.name}"
        return (
            SourceLocation.parse(self.sources[key])
            if key in self.sources
            else SourceLocation(self.file, self.line)
        )


@dataclass
class LintInput:
    # DashboardDoc, or KnownDashboard (read from lint's cache) where a whole-run check may meet one.
    dashboards: list[DashboardDoc | KnownDashboard] = field(default_factory=list)
    rule_groups: list[RuleGroupDoc] = field(default_factory=list)
    # Provisioned datasources, or None when unknown (loose files): then datasource UIDs are not checked.
    datasources: list[Mapping[str, Any]] | None = None
    # True when an out/ tree was read: dashboards and rules are the complete set, so links can be checked.
    complete: bool = False
    # Files that could not be used (`input/...` findings, reported by the input checks).
    problems: list[Finding] = field(default_factory=list)

    def extend(self, other: LintInput) -> None:
        self.dashboards.extend(other.dashboards)
        self.rule_groups.extend(other.rule_groups)
        self.problems.extend(other.problems)
        if other.datasources is not None:
            self.datasources = [*(self.datasources or []), *other.datasources]
        self.complete = self.complete or other.complete


# ------------------------------------------------------------------ dashboards


class KnownFiles(Protocol):
    """What lint's cache tells `read_out_tree` (see `lgtm_dash.lint.cache`)."""

    def known(self, path: Path) -> bool: ...

    def digest(self, path: Path) -> str | None: ...

    def dashboard(self, path: Path, file: str, sources: Mapping[str, str]) -> KnownDashboard: ...


def dashboard_doc(
    data: Mapping[str, Any],
    file: str,
    sources: Mapping[str, str] | None = None,
    *,
    shape_checked: bool = False,
) -> DashboardDoc:
    """A dashboard JSON document (any supported shape) as the linter sees it."""
    if isinstance(data.get("dashboard"), Mapping) and "panels" not in data:
        data = data["dashboard"]  # an API export: {"dashboard": ..., "meta": ...}
    if str(data.get("apiVersion", "")).startswith("dashboard.grafana.app/") or (
        isinstance(data.get("spec"), Mapping) and "elements" in data["spec"]
    ):
        data = _from_v2(data)
    if not shape_checked:
        check_shape(data, layout.DASHBOARD_SHAPE, file)  # a part of the wrong type is bad input, not a crash
    uid = data.get("uid") if isinstance(data.get("uid"), str) else None
    title = data.get("title")
    title = title if isinstance(title, str) else ""
    return DashboardDoc(
        uid=uid or None,
        title=title,
        data=data,
        file=file,
        sources=sources or {},
        panels=tuple(_flatten_panels(data)),
        ignores=ignore_list(data.get(LINT_IGNORE_KEY)),
    )


def _flatten_panels(data: Mapping[str, Any]) -> Iterator[PanelDoc]:
    def panel(item: Mapping[str, Any], nested: bool, row: Mapping[str, Any] | None) -> PanelDoc:
        title = item.get("title")
        options = item.get("options")
        repeats = tuple(str(r.get("repeat")) for r in (item, row) if r is not None and r.get("repeat"))
        return PanelDoc(
            data=item, title=title if isinstance(title, str) else "", id=item.get("id"), nested=nested,
            ignores=ignore_list(options.get(LINT_IGNORE_KEY)) if isinstance(options, Mapping) else (),
            repeats=repeats,
        )  # fmt: skip

    row: Mapping[str, Any] | None = None  # the row a top-level panel sits under
    for item in data.get("panels") or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "row":
            row = item
            yield panel(item, nested=False, row=None)
        else:
            yield panel(item, nested=False, row=row)
        for child in item.get("panels") or []:  # a collapsed row keeps its panels inside
            if isinstance(child, Mapping):
                yield panel(child, nested=True, row=item)
    for legacy_row in data.get("rows") or []:  # legacy (schemaVersion < 16) layout
        if isinstance(legacy_row, Mapping):
            for child in legacy_row.get("panels") or []:
                if isinstance(child, Mapping):
                    yield panel(child, nested=True, row=legacy_row)


def _from_v2(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Kubernetes-style v2 dashboards: map what the checks read onto the classic model."""
    spec = resource.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    metadata = resource.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
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
        viz_spec = viz.get("spec")
        viz_spec = viz_spec if isinstance(viz_spec, Mapping) else {}
        targets = []
        queries = ((element_spec.get("data") or {}).get("spec") or {}).get("queries") or []
        for query in queries:
            query_spec = query.get("spec") if isinstance(query, Mapping) else None
            if not isinstance(query_spec, Mapping):
                continue
            inner = query_spec.get("query")
            inner = inner if isinstance(inner, Mapping) else {}
            ds = inner.get("datasource")
            ds = ds if isinstance(ds, Mapping) else {}
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
            inner = query.get("spec")
            inner = inner if isinstance(inner, Mapping) else {}
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


def read_rule_file(path: Path, *, strict: bool = True) -> list[RuleGroupDoc]:
    """Rule groups of a mimirtool, lokitool or Prometheus rule file (every YAML document).

    An empty file, `null`, `{}` or `groups: []` is a valid file without groups. With `strict`, a document that
    is not a rule file raises `UnusableFile`; otherwise (walking a directory) it is skipped. A file in a `loki/`
    or `loki/rules/` directory (as in out/) holds Loki ruler rules: LogQL.
    """
    shown = display_path(path)
    return for_ruler(rule_groups_of(_read_text(path, shown), shown, path.stem, strict=strict), ruler_of(path))


def ruler_of(path: Path) -> str:
    """`loki` for a rule file in `loki/` or `loki/rules/`, else `mimir`."""
    parents = [part.lower() for part in path.resolve().parent.parts[-2:]]
    return "loki" if parents[-1:] == ["loki"] or parents == ["loki", "rules"] else "mimir"


def for_ruler(groups: list[RuleGroupDoc], ruler: str) -> list[RuleGroupDoc]:
    """`groups` (read as Mimir's) marked as the given ruler's, rules included."""
    if ruler == "mimir":
        return groups
    return [
        replace(group, ruler=ruler, rules=tuple(replace(rule, ruler=ruler) for rule in group.rules))
        for group in groups
    ]


def rule_groups_of(text: str, shown: str, stem: str, *, strict: bool = True) -> list[RuleGroupDoc]:
    """Rule groups of a rule file's text; `shown` is how the file is named in findings."""
    return _rule_groups(parse_documents(text, shown), text, stem, shown, strict=strict)


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read: {' '.join(str(err).split())}", shown) from None


def _rule_groups(
    documents: list[tuple[yaml.Node, Any]], text: str, stem: str, shown: str, *, strict: bool,
    sources: Mapping[str, str] | None = None,
) -> list[RuleGroupDoc]:  # fmt: skip
    groups: list[RuleGroupDoc] = []
    for document, (node, data) in enumerate(documents):
        if data is None or (isinstance(data, Mapping) and not data):
            continue  # an empty document: a valid file without rules
        resource = False
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
            data = {"namespace": name or stem, **data["spec"]}
            resource = True
        if not isinstance(data, Mapping) or "groups" not in data:
            if strict:
                raise UnusableFile(
                    "not a rule file: expected a `groups:` list", f"{shown}:{node.start_mark.line + 1}"
                )
            continue
        if data["groups"] is None:
            continue  # `groups:` with nothing under it
        if not isinstance(data["groups"], list):
            raise UnusableFile("`groups` must be a list", f"{shown}:{node.start_mark.line + 1}")
        namespace = str(data.get("namespace") or stem)
        group_nodes = _items(_mapping_child(node, "groups"))
        file_ignores, node_ignores = _directives(text, group_nodes)
        for index, group in enumerate(data["groups"]):
            group_node = group_nodes[index] if index < len(group_nodes) else None
            doc = _group_doc(group, group_node, namespace, shown, sources or {}, file_ignores, node_ignores)
            groups.append(replace(doc, document=document, resource=resource) if document or resource else doc)
    return groups


def _directives(
    text: str, group_nodes: list[yaml.Node]
) -> tuple[tuple[str, ...], dict[int, tuple[str, ...]]]:
    """`# lgtm-dash: ignore=` comments: (file-wide ids, {start line of a group or rule node: ids}).

    A comment belongs to the rule or group that starts right below it (only comments and blank lines between),
    else to the rule or group whose lines hold it; `ignore-file=` (or a comment before any group) to the file.
    """
    if "lgtm-dash:" not in text:
        return (), {}
    lines = text.splitlines()
    anchors = sorted(
        {n.start_mark.line for n in group_nodes}
        | {r.start_mark.line for g in group_nodes for r in _items(_mapping_child(g, "rules"))}
    )
    file_ids: list[str] = []
    by_node: dict[int, list[str]] = {}
    for number, line in enumerate(lines):
        match = LINT_IGNORE_DIRECTIVE.search(line)
        if match is None:
            continue
        ids = ignore_list(match.group(2))
        if match.group(1) == "ignore-file":
            file_ids.extend(ids)
            continue
        target = None
        following = next((a for a in anchors if a > number), None)
        if following is not None and line.lstrip().startswith("#"):
            between = lines[number + 1 : following]
            if all(not b.strip() or b.lstrip().startswith("#") for b in between):
                target = following
        if target is None:
            target = max((a for a in anchors if a <= number), default=None)
        if target is None:
            file_ids.extend(ids)
        else:
            by_node.setdefault(target, []).extend(ids)
    return tuple(file_ids), {line: tuple(ids) for line, ids in by_node.items()}


def _group_doc(
    group: Any, node: yaml.Node | None, namespace: str, file: str, sources: Mapping[str, str],
    file_ignores: tuple[str, ...] = (), node_ignores: Mapping[int, tuple[str, ...]] | None = None,
) -> RuleGroupDoc:  # fmt: skip
    node_ignores = node_ignores or {}
    group = group if isinstance(group, Mapping) else {"name": None, "rules": [], "invalid": group}
    name = str(group.get("name") or "")
    rule_nodes = _items(_mapping_child(node, "rules")) if node is not None else []
    line = node.start_mark.line + 1 if node is not None else 0
    group_ignores = file_ignores + (node_ignores.get(node.start_mark.line, ()) if node is not None else ())
    rules = []
    for index, rule in enumerate(group.get("rules") or [] if isinstance(group.get("rules"), list) else []):
        rule_node = rule_nodes[index] if index < len(rule_nodes) else None
        rules.append(
            RuleDoc(
                data=rule if isinstance(rule, Mapping) else {"invalid": rule},
                namespace=namespace,
                group=name,
                file=file,
                line=rule_node.start_mark.line + 1 if rule_node is not None else line,
                sources=sources,
                ignores=group_ignores
                + (node_ignores.get(rule_node.start_mark.line, ()) if rule_node is not None else ()),
            )
        )
    return RuleGroupDoc(
        data=group, namespace=namespace, name=name, file=file, line=line, rules=tuple(rules), sources=sources,
        ignores=group_ignores,
    )  # fmt: skip


# ---------------------------------------------------------------------- entry


def is_out_tree(path: Path) -> bool:
    return layout.is_artifacts_dir(path)


def read_out_tree(out_dir: Path, known: KnownFiles | None = None) -> LintInput:
    """An out/ tree; with `known` (lint's cache), the dashboards it has seen as they are now stay unread
    (`KnownDashboard`) and the others carry their digest."""
    arts = read_artifacts(out_dir, known_dashboard=known.known if known is not None else None)
    # Datasources managed elsewhere exist too: references to them are not errors.
    result = LintInput(datasources=[*arts.datasources, *arts.external_datasources], complete=True)
    for dash in arts.dashboards:
        # read_artifacts checked the dashboard's shape already
        doc = dashboard_doc(dash.data, display_path(dash.path), arts.sourcemap, shape_checked=True)
        if known is not None:
            doc = replace(doc, path=dash.path, digest=known.digest(dash.path) or "")
        result.dashboards.append(doc)
    for path in arts.known_dashboards:
        assert known is not None
        result.dashboards.append(known.dashboard(path, display_path(path), arts.sourcemap))
    result.dashboards.sort(key=lambda d: Path(d.file).parts)  # as read_artifacts orders them
    for ruler, namespaces, files in (
        ("mimir", arts.rule_namespaces, arts.rule_files),
        ("loki", arts.loki_rule_namespaces, arts.loki_rule_files),
    ):
        for namespace, groups in namespaces.items():
            path = files[namespace]
            file = display_path(path)
            text = path.read_text(encoding="utf-8")
            if "lgtm-dash:" in text:  # suppression comments: read again with the YAML nodes, to place them
                docs = _rule_groups(parse_documents(text, file), text, path.stem, file, strict=False,
                                    sources=arts.sourcemap)  # fmt: skip
            else:
                docs = [_group_doc(group, None, namespace, file, arts.sourcemap) for group in groups]
            result.rule_groups.extend(for_ruler(docs, ruler))
    return result


def read_dashboard_file(path: Path, *, strict: bool = True) -> DashboardDoc | None:
    shown = display_path(path)
    return dashboard_of(_read_text(path, shown), shown, strict=strict)


def dashboard_of(text: str, shown: str, *, strict: bool = True) -> DashboardDoc | None:
    """The dashboard in a JSON text; `shown` is how the file is named in findings."""
    data = parse_json(text, shown)
    if not _looks_like_dashboard(data):
        if strict:
            raise UnusableFile("not a Grafana dashboard (no panels, rows or spec)", f"{shown}:1")
        return None
    return dashboard_doc(data, shown)


def read_text(text: str, name: str) -> LintInput:
    """A dashboard (`name` ending in .json) or a rule file (.yaml, .yml) given as text, as `read_paths` reads
    a file named on the command line: what cannot be used becomes an `input/...` finding."""
    result = LintInput()
    if name.endswith(".json"):
        _read_one(result, name, lambda: _add_dashboard(result, dashboard_of(text, name)))
    else:
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        _read_one(result, name, lambda: result.rule_groups.extend(rule_groups_of(text, name, stem)))
    return result


def read_paths(paths: list[Path], known: KnownFiles | None = None) -> LintInput:
    """Everything named on the command line: out/ trees, dashboard JSON, rule files, directories of them.

    A path that does not exist stops the run (exit 2); a file that cannot be used is an `input/...` finding and
    the others are read. Walking a directory, JSON and YAML files that are neither dashboards nor rule files
    (package.json, promtool test files...) are skipped. `known`: lint's cache, for the out/ trees.
    """
    result = LintInput()

    def read(path: Path, strict: bool) -> None:
        if path.suffix == ".json":
            _read_one(result, path, lambda: _add_dashboard(result, read_dashboard_file(path, strict=strict)))
        else:
            _read_one(result, path, lambda: result.rule_groups.extend(read_rule_file(path, strict=strict)))

    def read_tree(path: Path) -> None:
        _read_one(result, path, lambda: result.extend(read_out_tree(path, known)))

    for path in paths:
        if not path.exists():
            raise DefinitionError(f"{path} does not exist")
        if path.is_dir() and is_out_tree(path):
            read_tree(path)
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in child.relative_to(path).parts) or not child.is_file():
                    continue
                if child.suffix == ".json" or child.suffix in RULE_SUFFIXES:
                    read(child, strict=False)
        elif path.suffix == ".json" or path.suffix in RULE_SUFFIXES:
            read(path, strict=True)
        else:
            message = "expected a dashboard .json, a rule .yaml/.yml file or a directory"
            result.problems.append(_problem(INPUT_FORMAT, display_path(path), 0, message))
    return result


def _add_dashboard(result: LintInput, doc: DashboardDoc | None) -> None:
    if doc is not None:
        result.dashboards.append(doc)


def _read_one(result: LintInput, source: Path | str, read: Callable[[], None]) -> None:
    """Read one file (or out/ tree); if it cannot be used, record one `input/...` finding for it instead."""
    try:
        read()
    except DefinitionError as err:
        where = SourceLocation.parse(str(err.location)) if err.location else SourceLocation(str(source), 0)
        rule = INPUT_FORMAT if isinstance(err, UnusableFile) else INPUT_SYNTAX
        result.problems.append(_problem(rule, display_path(where.file), where.line, err.message))


def _problem(rule: str, file: str, line: int, message: str) -> Finding:
    return Finding(file=file, line=line, rule=rule, severity=Severity.ERROR, message=message, input=file)
