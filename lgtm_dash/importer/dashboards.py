"""A dashboard's JSON → a dashboards/ module whose build is that dashboard, exactly.

The JSON is first loaded the way Grafana loads it (`migrate`), then written as Python: `layout(row(...))`
when the panels sit in rows of bands the way `layout()` places them, the typed helpers (`timeseries(...)`,
`prom_target(...)`...) where they give back the very same panel, and the lossless `panel(...)`,
`target(...)`, `variable(...)` everywhere else. Every module is evaluated before it is written: its build
must equal `as_built(migrated)` (the dashboard with only the changes any build makes, see README).
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grafanalib.core import Annotations, Dashboard, Templating, Time

from ..compile import datasource_uids_in
from ..errors import LgtmError
from ..model.dashboard import (
    LEGACY_DASHBOARD_KEYS,
    MANAGED_TAG,
    SCHEMA_VERSION,
    Board,
    dashboard_json,
    strip_nulls,
)
from ..model.folder import Folder
from ..model.panels import GRID_WIDTH, ROW_HEADER_HEIGHT, layout, panel, row, target, thresholds
from ..model.uid import UID_MAX_LENGTH, UID_PATTERN
from ..model.variables import variable
from . import helpers
from .datasources import DatasourceIndex, KnownDatasource
from .migrate import migrate
from .project import Defined, ProjectInfo, constant_name, python_name
from .pysource import Attr, Call, Name, evaluate, render

# Keys the build drops or decides for every dashboard (README "What a round trip changes").
DROPPED_KEYS = (*LEGACY_DASHBOARD_KEYS, "iteration")


class ImportFailure(LgtmError):
    """This dashboard or rule file cannot be imported (the others still are). Exit 2."""


@dataclass
class DashboardSource:
    """One dashboard to import and where it came from."""

    data: dict[str, Any]
    origin: str  # file name, or "grafana:<uid>"
    folder: Folder | None = None  # the folder an API export or a live Grafana put it in


@dataclass
class GeneratedDashboard:
    uid: str
    title: str
    module: str
    source: str  # Python, before ruff format
    expected: dict[str, Any]  # what its build must give
    notes: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # datasource uids the project does not define


def as_built(dashboard: dict[str, Any]) -> dict[str, Any]:
    """`dashboard` with exactly the changes every build makes: no nulls (but a threshold's base step), no
    id/version/legacy keys, no empty description or links, schemaVersion 41, tags sorted with the managed tag."""
    data = strip_nulls(copy.deepcopy(dashboard))
    for key in DROPPED_KEYS:
        data.pop(key, None)
    for key in ("description", "links"):
        if key in data and not data[key]:
            data.pop(key)
    if isinstance(data.get("timepicker"), dict):
        data["timepicker"].pop("time_options", None)
    data["schemaVersion"] = SCHEMA_VERSION
    data["tags"] = sorted({*_tags(data), MANAGED_TAG})
    return data


def _tags(data: dict[str, Any]) -> list[str]:
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ImportFailure("`tags` must be a list of strings")
    return tags


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- inputs and datasources --------------------------------------------------------------------------------


def resolve_inputs(data: dict[str, Any], known: list[KnownDatasource], notes: list[str]) -> dict[str, Any]:
    """A grafana.com export's `__inputs`: each `${DS_X}` becomes the project's datasource of that type (as
    Grafana's import form does), or, without exactly one such datasource, a datasource variable `DS_X`."""
    inputs = [i for i in data.get("__inputs") or [] if isinstance(i, dict) and isinstance(i.get("name"), str)]
    if not inputs:
        return data
    text = json.dumps(data)
    variables = []
    for item in inputs:
        placeholder = "${" + item["name"] + "}"
        if item.get("type") == "datasource":
            plugin = item.get("pluginId")
            matches = [d for d in known if d.type == plugin]
            chosen = matches[0] if len(matches) == 1 else next((d for d in matches if d.default), None)
            if chosen is not None:
                text = text.replace(json.dumps(placeholder)[1:-1], json.dumps(chosen.uid)[1:-1])
                notes.append(f"input {item['name']} ({plugin}): the project's datasource {chosen.uid!r}")
            else:
                variables.append(
                    {
                        "name": item["name"],
                        "type": "datasource",
                        "query": plugin,
                        **({"label": item["label"]} if isinstance(item.get("label"), str) else {}),
                    }
                )
                notes.append(
                    f"input {item['name']} ({plugin}): no single {plugin} datasource in the project, "
                    f"kept as a datasource variable ${{{item['name']}}}"
                )
        elif item.get("type") == "constant" and isinstance(item.get("value"), str):
            text = text.replace(json.dumps(placeholder)[1:-1], json.dumps(item["value"])[1:-1])
    resolved = json.loads(text)
    if variables:
        templating = resolved.setdefault("templating", {})
        if isinstance(templating, dict):
            templating["list"] = [*variables, *(templating.get("list") or [])]
    return resolved


def guess_type(uid: str, dashboard: dict[str, Any]) -> str:
    """The plugin of a datasource known only by name or uid: its references' type, else its queries' shape."""
    typed: Counter[str] = Counter()
    shapes: Counter[str] = Counter()

    def visit(node: Any, inherited: Any) -> None:
        if isinstance(node, dict):
            here = node.get("datasource", inherited)
            here_uid = here.get("uid") if isinstance(here, dict) else here
            if here_uid == uid:
                if isinstance(here, dict) and isinstance(here.get("type"), str) and here["type"]:
                    typed[here["type"]] += 1
                if "rawSql" in node or "rawQuery" in node:
                    shapes["mysql" if _plugin_required(dashboard, "mysql") else "postgres"] += 1
                elif "expr" in node:
                    shapes[
                        "loki" if "|" in str(node["expr"]) and "{" in str(node["expr"]) else "prometheus"
                    ] += 1
            for item in node.values():
                visit(item, here)
        elif isinstance(node, list):
            for item in node:
                visit(item, inherited)

    visit(dashboard, None)
    for found in (typed, shapes):
        if found:
            return found.most_common(1)[0][0]
    return "unknown"


def _plugin_required(dashboard: dict[str, Any], plugin: str) -> bool:
    required = dashboard.get("__requires") or []
    return not required or any(isinstance(r, dict) and r.get("id") == plugin for r in required)


class References:
    """Datasource references as names: the project's datasource objects, or one constant per distinct ref."""

    def __init__(self, project: ProjectInfo, external: dict[str, Defined]):
        self.project = project
        self.external = external
        self.constants: dict[str, Any] = {}  # name -> value (dict literal or Attr)
        self.imports: set[str] = set()
        self._by_ref: dict[str, Name] = {}

    def name(self, ref: dict[str, Any]) -> Name:
        key = canonical(ref)
        if key in self._by_ref:
            return self._by_ref[key]
        uid = ref.get("uid")
        defined = self.project.datasource(uid) if isinstance(uid, str) else None
        defined = defined or (self.external.get(uid) if isinstance(uid, str) else None)
        if defined is not None and ref == {"type": defined.obj.type, "uid": defined.obj.uid}:
            alias = python_name(defined.module)
            self.imports.add(defined.import_line(alias))
            name = self._free(constant_name(defined.module))
            self.constants[name] = Attr(Name(alias, defined.obj), "ref", ref)
        else:
            base = str(uid or ref.get("type") or "datasource").strip("$").strip("{}").strip("- ")
            name = constant_name(base)
            if isinstance(ref.get("type"), str) and name in self.constants:
                name = constant_name(f"{base}_{ref['type']}")
            name = self._free(name)
            self.constants[name] = dict(ref)
        result = Name(name, ref)
        self._by_ref[key] = result
        return result

    def alias_of(self, defined: Defined) -> Name:
        """A project object (a datasource a variable defaults to) by its imported name."""
        alias = python_name(defined.module)
        self.imports.add(defined.import_line(alias))
        return Name(alias, defined.obj)

    def _free(self, name: str) -> str:
        base, n = name, 1
        while name in self.constants or name in ("FOLDER", "dashboard"):
            n += 1
            name = f"{base}_{n}"
        return name

    def substitute(self, value: Any) -> Any:
        """`value` with every dict under a `datasource` key replaced by its name."""
        if isinstance(value, dict):
            return {
                k: self.name(v) if k == "datasource" and isinstance(v, dict) and v else self.substitute(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value


# --- panels ------------------------------------------------------------------------------------------------


def built_panels(panels: list[Any]) -> list[dict[str, Any]]:
    """What the build writes for these panel objects (as one dashboard's `panels`)."""
    return dashboard_json(Dashboard(title="x", uid="x", panels=list(panels)))["panels"]


def _grid(value: Any) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of a gridPos `panel()` can say with x/y/width/height."""
    if not isinstance(value, dict) or set(value) != {"x", "y", "w", "h"}:
        return None
    x, y, w, h = (value[k] for k in ("x", "y", "w", "h"))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, w, h)):
        return None
    if not 1 <= w <= GRID_WIDTH or h < 1 or x < 0 or y < 0:
        return None
    return x, y, w, h


def _colors(value: Any) -> Call | None:
    """`thresholds((color, None), (color, value)...)` when a threshold config is exactly that."""
    if not isinstance(value, dict) or set(value) != {"mode", "steps"} or value["mode"] != "absolute":
        return None
    steps = value["steps"]
    if not isinstance(steps, list) or not steps:
        return None
    pairs = []
    for index, step in enumerate(steps):
        if (
            not isinstance(step, dict)
            or set(step) != {"color", "value"}
            or not isinstance(step["color"], str)
        ):
            return None
        bound = step["value"]
        if (index == 0) != (bound is None) or (
            index and (isinstance(bound, bool) or not isinstance(bound, int | float))
        ):
            return None
        pairs.append((step["color"], bound))
    return Call(thresholds, tuple(pairs))


# Keyword arguments in reading order: what the panel shows, its other settings, then where it sits.
PANEL_FIRST = ("datasource", "unit", "colors", "field_config", "overrides", "options")
PANEL_LAST = ("fields", "id", "x", "y", "width", "height", "panels")


def _ordered(mapping: dict[str, Any], *, first: tuple[str, ...], last: tuple[str, ...]) -> dict[str, Any]:
    middle = [k for k in mapping if k not in first and k not in last]
    return {k: mapping[k] for k in (*first, *middle, *last) if k in mapping}


# `panel()`'s own arguments: a panel key of that name goes in `fields=` (a legacy "height": "250px").
PANEL_PARAMETERS = frozenset(inspect.signature(panel).parameters) - {"targets", "settings"}


class PanelWriter:
    """Panels as calls: a typed helper when it gives back the same panel, else `panel(...)`."""

    def __init__(self, refs: References):
        self.refs = refs

    def target_call(self, data: Any, position: int) -> Any:
        if not isinstance(data, dict):
            return data
        typed = helpers.typed_target(data, position)
        if typed is not None:
            return typed
        fields = _ordered(
            dict(data), first=("expr", "rawSql", "query", "legendFormat"), last=("datasource", "refId")
        )
        return Call(target, (), self.refs.substitute(fields))

    def generic(self, data: dict[str, Any], placed: bool) -> Call:
        """`panel(...)` for `data`. `placed`: id and gridPos become id=/x=/y=/width=/height=; otherwise they
        are left to `layout()` (the call says neither)."""
        work = data if placed else {k: v for k, v in data.items() if k not in ("id", "gridPos")}
        call = self._split(work, placed)
        if canonical(built_panels([evaluate(call)])[0]) == canonical(strip_nulls(work)):
            return call
        return self._raw(work)  # a shape the keyword arguments cannot say: every key as it is

    def _raw(self, data: dict[str, Any]) -> Call:
        rest = {k: v for k, v in data.items() if k not in ("type", "title")}
        kwargs = self.refs.substitute({k: v for k, v in rest.items() if k not in PANEL_PARAMETERS})
        clashing = {k: v for k, v in rest.items() if k in PANEL_PARAMETERS}
        if clashing:
            kwargs["fields"] = self.refs.substitute(clashing)
        return Call(panel, (data.get("type"), data.get("title")), kwargs)

    def _split(self, data: dict[str, Any], placed: bool) -> Call:
        rest = dict(data)
        kwargs: dict[str, Any] = {}
        args: list[Any] = [rest.pop("type", None)]
        title = rest.pop("title", None)
        targets = rest.get("targets")
        if isinstance(targets, list) and targets and all(isinstance(t, dict) for t in targets):
            del rest["targets"]
            args.append(title)
            args.extend(self.target_call(t, i) for i, t in enumerate(targets))
        elif title is not None:
            args.append(title)
        while args and args[-1] is None and len(args) > 1:
            args.pop()
        if isinstance(rest.get("datasource"), dict) and rest["datasource"]:
            kwargs["datasource"] = self.refs.name(rest.pop("datasource"))
        config = rest.get("fieldConfig")
        if isinstance(config, dict) and config and set(config) <= {"defaults", "overrides"}:
            defaults = config.get("defaults")
            overrides = config.get("overrides")
            if (defaults is None or isinstance(defaults, dict)) and (
                overrides is None or isinstance(overrides, list)
            ):
                del rest["fieldConfig"]
                if "defaults" in config:
                    remaining = dict(defaults or {})
                    if isinstance(remaining.get("unit"), str):
                        kwargs["unit"] = remaining.pop("unit")
                    colors = _colors(remaining.get("thresholds"))
                    if colors is not None:
                        kwargs["colors"] = colors
                        del remaining["thresholds"]
                    if remaining or ("unit" not in kwargs and "colors" not in kwargs):
                        kwargs["field_config"] = self.refs.substitute(remaining)
                if "overrides" in config:
                    kwargs["overrides"] = self.refs.substitute(overrides)
        if isinstance(rest.get("options"), dict):
            kwargs["options"] = self.refs.substitute(rest.pop("options"))
        if placed:
            grid = _grid(rest.get("gridPos"))
            if grid is not None:
                del rest["gridPos"]
                kwargs.update(x=grid[0], y=grid[1], width=grid[2], height=grid[3])
            if isinstance(rest.get("id"), int) and not isinstance(rest["id"], bool):
                kwargs["id"] = rest.pop("id")
        children = rest.get("panels")
        if isinstance(children, list) and all(isinstance(c, dict) for c in children):
            del rest["panels"]
            kwargs["panels"] = [self.generic(c, placed=True) for c in children]
        clashing = {}
        for key, value in rest.items():
            if not isinstance(key, str):
                return self._raw(data)
            if key in PANEL_PARAMETERS:
                clashing[key] = self.refs.substitute(value)
            else:
                kwargs[key] = self.refs.substitute(value)
        if clashing:
            kwargs["fields"] = clashing
        return Call(panel, tuple(args), _ordered(kwargs, first=PANEL_FIRST, last=PANEL_LAST))


@dataclass
class Section:
    header: dict[str, Any] | None
    panels: list[dict[str, Any]]


def _sections(panels: list[dict[str, Any]]) -> list[Section] | None:
    """Row headers and the panels under each, when every header is a plain one `row()` writes."""
    sections = [Section(None, [])]
    for item in panels:
        if item.get("type") == "row":
            grid = item.get("gridPos")
            plain = (
                set(item) == {"type", "title", "id", "gridPos", "collapsed", "panels"}
                and isinstance(item["title"], str)
                and isinstance(item["id"], int)
                and item["collapsed"] is False
                and item["panels"] == []
                and isinstance(grid, dict)
                and grid.get("h") == ROW_HEADER_HEIGHT
                and grid.get("w") == GRID_WIDTH
                and grid.get("x") == 0
            )
            if not plain:
                return None
            sections.append(Section(item, []))
        else:
            if _grid(item.get("gridPos")) is None:
                return None
            sections[-1].panels.append(item)
    if not sections[0].panels:
        sections.pop(0)
    return sections


def band_layout(panels: list[dict[str, Any]], writer: PanelWriter) -> Call | None:
    """`layout(row(...), ...)` that places and numbers the panels exactly as they are, or None."""
    sections = _sections(panels)
    if not sections or not panels:
        return None
    expected = canonical(panels)
    calls: dict[int, Call] = {}
    for section in sections:
        for item in section.panels:
            calls[id(item)] = helpers.typed_panel(item, writer) or writer.generic(item, placed=False)
    for explicit_ids in (False, True):
        for explicit_widths in (False, True):
            rows = []
            for section in sections:
                heights = Counter(item["gridPos"]["h"] for item in section.panels)
                height = heights.most_common(1)[0][0] if heights else 8
                members = []
                for item in section.panels:
                    call = calls[id(item)]
                    extra: dict[str, Any] = {}
                    if explicit_widths:
                        extra["width"] = item["gridPos"]["w"]
                    if item["gridPos"]["h"] != height:
                        extra["height"] = item["gridPos"]["h"]
                    if explicit_ids:
                        if call.fn is not panel:
                            break  # typed helpers take no id
                        extra["id"] = item["id"]
                    members.append(Call(call.fn, call.args, {**call.kwargs, **extra}, call.name))
                else:
                    title = section.header["title"] if section.header else None
                    row_kwargs: dict[str, Any] = {"height": height} if height != 8 else {}
                    if explicit_ids and section.header:
                        row_kwargs["id"] = section.header["id"]
                    rows.append(Call(row, (title, *members), row_kwargs))
                    continue
                break
            else:
                candidate = Call(layout, tuple(rows))
                try:
                    if canonical(built_panels(evaluate(candidate))) == expected:
                        return candidate
                except LgtmError:
                    continue
    return None


def explicit_panels(panels: list[Any], writer: PanelWriter) -> list[Any]:
    return [writer.generic(item, placed=True) if isinstance(item, dict) else item for item in panels]


# --- variables and the dashboard ----------------------------------------------------------------------------


def variable_call(data: Any, refs: References) -> Any:
    if not isinstance(data, dict):
        return data
    typed = helpers.typed_variable(data, refs)
    if typed is not None:
        return typed
    fields = _ordered(dict(data), first=("name", "type", "label", "query", "datasource"), last=())
    return Call(variable, (), refs.substitute(fields))


def dashboard_call(expected: dict[str, Any], folder: Any, refs: References, writer: PanelWriter) -> Call:
    """`Board(Dashboard(...), folder=..., extra=..., unset=...)` for `expected` (not yet checked)."""
    rest = dict(expected)
    kwargs: dict[str, Any] = {"title": rest.pop("title"), "uid": rest.pop("uid")}
    rest.pop("schemaVersion", None)
    tags = [t for t in dict.fromkeys(rest.pop("tags", [])) if t != MANAGED_TAG]
    if isinstance(rest.get("description"), str):
        kwargs["description"] = rest.pop("description")
    if tags:
        kwargs["tags"] = tags
    unset: list[str] = []
    extra: dict[str, Any] = {}

    def take(
        key: str,
        ok: Callable[[Any], bool],
        convert: Callable[[Any], Any] = lambda v: v,
        kw: str | None = None,
    ) -> None:
        if key not in rest:
            unset.append(key)
        elif ok(rest[key]):
            kwargs[kw or key] = convert(rest.pop(key))

    take("editable", lambda v: isinstance(v, bool))
    take("graphTooltip", lambda v: isinstance(v, int) and not isinstance(v, bool))
    take("timezone", lambda v: True)
    take("refresh", lambda v: True)
    take(
        "time",
        lambda v: (
            isinstance(v, dict) and set(v) == {"from", "to"} and all(isinstance(x, str) for x in v.values())
        ),
        lambda v: Call(Time, (v["from"], v["to"])),
    )
    take(
        "annotations",
        lambda v: isinstance(v, dict) and set(v) == {"list"} and isinstance(v["list"], list),
        lambda v: Call(Annotations, (refs.substitute(v["list"]),)),
    )
    take(
        "templating",
        lambda v: isinstance(v, dict) and set(v) == {"list"} and isinstance(v["list"], list),
        lambda v: Call(Templating, ([variable_call(item, refs) for item in v["list"]],)),
    )
    if "timepicker" not in rest:
        unset.append("timepicker")
    if isinstance(rest.get("links"), list):
        kwargs["links"] = refs.substitute(rest.pop("links"))
    panels = rest.pop("panels", None)
    if panels is None:
        unset.append("panels")
    elif isinstance(panels, list) and all(isinstance(p, dict) for p in panels):
        kwargs["panels"] = band_layout(panels, writer) or explicit_panels(panels, writer)
    else:
        extra["panels"] = panels
    for key in sorted(rest):
        extra[key] = refs.substitute(rest[key])
    board_kwargs: dict[str, Any] = {"folder": folder}
    if extra:
        board_kwargs["extra"] = extra
    if unset:
        board_kwargs["unset"] = tuple(unset)
    return Call(Board, (Call(Dashboard, (), kwargs),), board_kwargs)


def check_uid(data: dict[str, Any], notes: list[str]) -> str:
    uid = data.get("uid")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ImportFailure("the dashboard has no title")
    if uid in (None, ""):
        uid = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:UID_MAX_LENGTH] or "dashboard"
        notes.append(f"no uid: given {uid!r} (from its title)")
        data["uid"] = uid
    if not isinstance(uid, str) or not UID_PATTERN.match(uid) or len(uid) > UID_MAX_LENGTH:
        raise ImportFailure(f"uid {uid!r} is not a Grafana uid (at most 40 of A-Z a-z 0-9 _ -)")
    return uid


def unwrap(data: Any) -> tuple[dict[str, Any], Folder | None]:
    """A plain dashboard, or the `dashboard` of an API export `{dashboard, meta}` with its folder."""
    if not isinstance(data, dict):
        raise ImportFailure("not a Grafana dashboard (expected a JSON object)")
    folder = None
    if isinstance(data.get("dashboard"), dict) and "panels" not in data and "rows" not in data:
        meta = data.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        uid, title = meta.get("folderUid"), meta.get("folderTitle")
        if isinstance(uid, str) and uid and isinstance(title, str) and title and uid != "general":
            folder = Folder(uid=uid, title=title)
        data = data["dashboard"]
    if str(data.get("apiVersion", "")).startswith("dashboard.grafana.app/") or "elements" in (
        data.get("spec") or {}
    ):
        raise ImportFailure(
            "Kubernetes-style (v2) dashboards cannot be imported yet: export the classic JSON model"
        )
    if not any(k in data for k in ("panels", "rows", "title")):
        raise ImportFailure("not a Grafana dashboard (no title, panels or rows)")
    return data, folder


@dataclass
class Prepared:
    """A dashboard loaded as Grafana loads it, and what its build must give."""

    source: DashboardSource
    uid: str
    title: str
    migrated: dict[str, Any]
    expected: dict[str, Any]
    notes: list[str]
    unresolved: list[str]  # uids of datasources neither the project nor Grafana's built-ins define


def prepare(source: DashboardSource, project: ProjectInfo, index: DatasourceIndex) -> Prepared:
    notes: list[str] = []
    data = resolve_inputs(dict(source.data), project.known_datasources(), notes)
    uid = check_uid(data, notes)
    migrated = migrate(data, index)
    notes.extend(migrated.notes)
    expected = as_built(migrated.dashboard)
    # Exactly what the build refuses as an unknown datasource: these are declared as external.
    unresolved = sorted({uid for uid in datasource_uids_in(expected) if not project.datasource(uid)})
    return Prepared(source, uid, expected["title"], migrated.dashboard, expected, notes, unresolved)


def generate(
    prepared: Prepared,
    module: str,
    project: ProjectInfo,
    external: dict[str, Defined],
    folder: Defined | Folder,
) -> GeneratedDashboard:
    """The module for one dashboard; raises ImportFailure when it cannot be imported exactly."""
    expected = prepared.expected
    refs = References(project, external)
    writer = PanelWriter(refs)
    call = dashboard_call(expected, _folder_value(folder, refs), refs, writer)
    built = evaluate(call).to_json()
    if canonical(built) != canonical(expected):
        raise ImportFailure(
            f"dashboard {prepared.uid!r}: the generated code does not build the same dashboard "
            f"({_first_difference(expected, built)})"
        )
    return GeneratedDashboard(
        uid=prepared.uid,
        title=prepared.title,
        module=module,
        source=module_source(prepared.title, prepared.source.origin, prepared.notes, refs, call),
        expected=expected,
        notes=prepared.notes,
        unresolved=prepared.unresolved,
    )


def _folder_value(folder: Defined | Folder, refs: References) -> Any:
    """A project folder by name (imported), or an inline `Folder(...)` (assigned to FOLDER)."""
    if isinstance(folder, Defined):
        refs.imports.add(folder.import_line(folder.attr))
        return Name(folder.attr, folder.obj)
    return _folder_call(folder)


def _folder_call(folder: Folder) -> Call:
    kwargs: dict[str, Any] = {"uid": folder.uid, "title": folder.title}
    if folder.parent is not None:
        kwargs["parent"] = _folder_call(folder.parent)
    return Call(Folder, (), kwargs)


def _first_difference(expected: Any, built: Any, path: str = "") -> str:
    if isinstance(expected, dict) and isinstance(built, dict):
        for key in sorted(set(expected) | set(built), key=str):
            if canonical(expected.get(key)) != canonical(built.get(key)):
                return _first_difference(
                    expected.get(key), built.get(key), f"{path}.{key}" if path else str(key)
                )
    if isinstance(expected, list) and isinstance(built, list) and len(expected) == len(built):
        for i, (a, b) in enumerate(zip(expected, built)):
            if canonical(a) != canonical(b):
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path or 'dashboard'}: {canonical(expected)[:80]} ≠ {canonical(built)[:80]}"


def module_source(title: str, origin: str, notes: list[str], refs: References, call: Call) -> str:
    from .pysource import imports_of

    needed = imports_of(call)
    for value in refs.constants.values():
        imports_of(value, needed)
    folder = call.kwargs["folder"]
    folder_constant = ""
    if isinstance(folder, Call):
        imports_of(folder, needed)
        folder_constant = f"FOLDER = {render(folder)}\n"
        call = Call(call.fn, call.args, {**call.kwargs, "folder": Name("FOLDER", None)}, call.name)
    lines = [f'"""{_docstring(title, origin, notes)}"""', ""]
    lines += [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(needed.items())]
    lines += sorted(refs.imports)
    lines.append("")
    for name, value in refs.constants.items():
        lines.append(f"{name} = {render(value)}")
    if folder_constant:
        lines.append(folder_constant)
    lines += ["", f"dashboard = {render(call)}", ""]
    return "\n".join(lines)


def _docstring(title: str, origin: str, notes: list[str]) -> str:
    text = f"{title}: imported from {origin} by `lgtm-dash import`."
    if notes:
        text += "\n\nOn import:\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
