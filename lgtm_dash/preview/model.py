"""What a preview page shows, read from a dashboard's JSON: the view the templates render.

Nothing here is HTML: values stay plain text and the templates escape them. Colours and link targets, the two
values that reach attributes, are made safe here (colors.css_color, `href` only for preview pages and
http(s) URLs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..grid import ERROR, INFO, Item, Layout, Pos, fmt, grid_height_px, lay_out
from .colors import css_color

QUERY_FIELDS = ("expr", "rawSql", "query", "rawQuery", "queryText", "target")
LANGUAGE_BY_TYPE = {
    "prometheus": "PromQL",
    "loki": "LogQL",
    "mysql": "SQL",
    "postgres": "SQL",
    "tempo": "TraceQL",
}
_VARIABLE_REF = re.compile(r"^\$\{?(\w+)(?::\w+)?\}?$|^\[\[(\w+)\]\]$")
_DASHBOARD_URL = re.compile(r"(?:^|/)d/([A-Za-z0-9_.-]+)")
_EXTERNAL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


@dataclass(frozen=True)
class Dashboard:
    """One dashboard to draw, wherever it came from (out/ or a loose JSON file)."""

    uid: str
    folder_uid: str
    folder_title: str
    data: Mapping[str, Any]
    file: str  # the JSON it was read from, as shown to the user
    source: str | None = None  # file:line of the Python that defines it

    @property
    def title(self) -> str:
        title = self.data.get("title")
        return title if isinstance(title, str) and title else self.uid

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.data.get("tags") or [] if isinstance(t, str | int)]


@dataclass(frozen=True)
class Step:
    color: str  # a safe CSS colour
    name: str  # as written in the JSON
    value: str  # "" for the base step


@dataclass(frozen=True)
class Query:
    ref: str
    datasource: str
    language: str
    text: str
    legend: str
    hidden: bool


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    href: str | None  # only preview pages and http(s) URLs are clickable


@dataclass
class PanelView:
    dom_id: str
    item: Item
    type: str
    description: str
    unit: str
    datasource: str
    thresholds: list[Step]
    threshold_mode: str
    queries: list[Query]
    links: list[Link]
    children: list[PanelView] = field(default_factory=list)
    anchor: str = ""  # the section where a collapsed row's panels are drawn

    @property
    def title(self) -> str:
        return self.item.title

    @property
    def style(self) -> str:
        return grid_style(self.item.shown)

    @property
    def errors(self) -> list[str]:
        return [p.message for p in self.item.problems if p.severity == ERROR]

    @property
    def notes(self) -> list[str]:
        return [p.message for p in self.item.problems if p.severity == INFO]

    @property
    def children_height_px(self) -> float:
        """Height of the grid a collapsed row's panels are drawn in."""
        return grid_height_px(max((bottom(c) for c in self.children), default=0))

    @property
    def ghost(self) -> str | None:
        """The declared position, drawn as an outline where Grafana draws the panel elsewhere because of an
        error (overlap, outside the grid, no size)."""
        if not self.errors or (self.item.shown == self.item.declared and self.item.visible):
            return None
        declared = self.item.declared
        return grid_style(Pos(declared.x, max(declared.y, 0), max(declared.w, 1), max(declared.h, 1)))


@dataclass
class Variable:
    name: str
    label: str
    type: str
    current: str
    hidden: bool
    query: str
    datasource: str
    flags: list[str]


@dataclass
class DashboardLinkView:
    title: str
    type: str
    link: Link | None
    dashboards: list[Link]  # type "dashboards": those of this site with the link's tags
    tags: list[str]
    as_dropdown: bool


@dataclass
class Page:
    dashboard: Dashboard
    layout: Layout
    panels: list[PanelView]
    collapsed_rows: list[PanelView]
    variables: list[Variable]
    links: list[DashboardLinkView]
    height_px: float

    @property
    def problems(self) -> list[tuple[PanelView, str, str]]:
        """(panel, severity, message) for every panel, collapsed rows' panels included."""
        views = [*self.panels, *(c for row in self.collapsed_rows for c in row.children)]
        return [(v, p.severity, p.message) for v in views for p in v.item.problems]

    @property
    def error_count(self) -> int:
        return sum(1 for _, severity, _ in self.problems if severity == ERROR)


def bottom(view: PanelView) -> float:
    """The lowest grid unit a view occupies on the page: its box, or its ghost."""
    lowest = view.item.shown.bottom if view.item.visible else 0
    return max(lowest, max(view.item.declared.bottom, 1) if view.ghost else 0)


def grid_style(pos: Pos) -> str:
    """CSS custom properties the stylesheet turns into react-grid-layout's pixel positions."""
    return f"--x:{fmt(pos.x)};--y:{fmt(pos.y)};--w:{fmt(pos.w)};--h:{fmt(pos.h)}"


# -------------------------------------------------------------------------------------------- reading


class Site:
    """What pages need to know about the other dashboards: their page paths (links) and tags."""

    def __init__(self, dashboards: Sequence[Dashboard], datasources: Sequence[Mapping[str, Any]]):
        self.dashboards = list(dashboards)
        self._pages: dict[int, str] = {}  # id(dashboard) -> page path
        self.paths: dict[str, str] = {}  # uid -> page path (the first dashboard with that uid)
        for dash in self.dashboards:
            stem = f"{safe_name(dash.folder_uid or 'general')}/{safe_name(dash.uid)}"
            path, n = f"{stem}.html", 2
            while path in self._pages.values():
                path, n = f"{stem}-{n}.html", n + 1
            self._pages[id(dash)] = path
            self.paths.setdefault(dash.uid, path)
        self.datasources = {
            str(ds.get("uid")): ds for ds in datasources if isinstance(ds, Mapping) and ds.get("uid")
        }
        self.datasource_names = {
            str(ds.get("name")): ds for ds in datasources if isinstance(ds, Mapping) and ds.get("name")
        }

    def page_path(self, dash: Dashboard) -> str:
        return self._pages[id(dash)]

    def link(self, title: str, url: Any, from_page: str) -> Link:
        url = url if isinstance(url, str) else ""
        match = _DASHBOARD_URL.search(url.split("?")[0])
        if match and match.group(1) in self.paths:
            depth = from_page.count("/")
            return Link(title, url, "../" * depth + self.paths[match.group(1)])
        return Link(title, url, url if _EXTERNAL.match(url) else None)

    def datasource_label(self, ref: Any) -> str:
        if ref is None:
            return "default datasource"
        uid = ref.get("uid") if isinstance(ref, Mapping) else ref
        kind = ref.get("type") if isinstance(ref, Mapping) else None
        if not isinstance(uid, str) or not uid:
            return f"default {kind} datasource" if kind else "default datasource"
        variable = _VARIABLE_REF.match(uid.strip())
        if variable:
            return f"${variable.group(1) or variable.group(2)} (variable)"
        known = self.datasources.get(uid) or self.datasource_names.get(uid)
        if known:
            return f"{known.get('name') or uid} ({known.get('type') or kind or '?'})"
        if uid in ("-- Mixed --", "-- Dashboard --", "-- Grafana --", "grafana"):
            return uid.strip("- ") or uid
        return f"{uid} ({kind})" if kind else uid


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).strip(".") or "_"


def build_page(dash: Dashboard, site: Site) -> Page:
    layout = lay_out(dash.data)
    path = site.page_path(dash)
    views: list[PanelView] = []
    collapsed: list[PanelView] = []
    for n, item in enumerate(layout.items):
        view = panel_view(item, f"panel-{n}", site, path)
        if item.collapsed:
            view.anchor = f"row-{n}"
            view.children = [
                panel_view(child, f"row-{n}-panel-{m}", site, path) for m, child in enumerate(item.children)
            ]
            if view.children:
                collapsed.append(view)
        views.append(view)
    return Page(
        dashboard=dash,
        layout=layout,
        panels=views,
        collapsed_rows=collapsed,
        variables=variables(dash.data, site),
        links=dashboard_links(dash, site, path),
        height_px=grid_height_px(max((bottom(v) for v in views), default=0)),
    )


def panel_view(item: Item, dom_id: str, site: Site, path: str) -> PanelView:
    panel = item.panel
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    defaults = defaults if isinstance(defaults, Mapping) else {}
    thresholds = defaults.get("thresholds")
    thresholds = thresholds if isinstance(thresholds, Mapping) else {}
    steps = [
        Step(
            css_color(step.get("color")),
            str(step.get("color") or ""),
            "" if step.get("value") is None else str(step.get("value")),
        )
        for step in thresholds.get("steps") or []
        if isinstance(step, Mapping)
    ]
    unit = defaults.get("unit") or panel.get("format") or ""
    links = [
        site.link(str(link.get("title") or link.get("url") or ""), link.get("url"), path)
        for source in (panel.get("links"), defaults.get("links"))
        for link in source or []
        if isinstance(link, Mapping)
    ]
    description = panel.get("description")
    return PanelView(
        dom_id=dom_id,
        item=item,
        type=str(panel.get("type") or "?"),
        description=description if isinstance(description, str) else "",
        unit=str(unit),
        datasource="" if item.is_row else site.datasource_label(panel.get("datasource")),
        thresholds=steps,
        threshold_mode=str(thresholds.get("mode") or "absolute"),
        queries=queries(panel, site),
        links=links,
    )


def queries(panel: Mapping[str, Any], site: Site) -> list[Query]:
    found = []
    for target in panel.get("targets") or []:
        if not isinstance(target, Mapping):
            continue
        ref = target.get("datasource", panel.get("datasource"))
        kind = ref.get("type") if isinstance(ref, Mapping) else None
        field_name, text = next(
            ((name, target[name]) for name in QUERY_FIELDS if isinstance(target.get(name), str)), ("", "")
        )
        language = "SQL" if field_name == "rawSql" else LANGUAGE_BY_TYPE.get(str(kind), field_name or "query")
        found.append(
            Query(
                ref=str(target.get("refId") or "?"),
                datasource=site.datasource_label(ref),
                language=language,
                text=text,
                legend=str(target.get("legendFormat") or ""),
                hidden=bool(target.get("hide")),
            )
        )
    return found


def variables(data: Mapping[str, Any], site: Site) -> list[Variable]:
    found = []
    for var in (data.get("templating") or {}).get("list") or []:
        if not isinstance(var, Mapping) or not var.get("name"):
            continue
        current = var.get("current")
        current = current if isinstance(current, Mapping) else {}
        text = current.get("text", current.get("value", ""))
        if isinstance(text, list):
            text = " + ".join(str(t) for t in text)
        query = var.get("query")
        if isinstance(query, Mapping):
            query = query.get("query") or query.get("expr") or ""
        flags = [
            name for key, name in (("multi", "multi-value"), ("includeAll", "include All")) if var.get(key)
        ]
        found.append(
            Variable(
                name=str(var["name"]),
                label=str(var.get("label") or var["name"]),
                type=str(var.get("type") or "?"),
                current=str(text) if text not in (None, "") else "",
                hidden=var.get("hide") == 2,
                query="" if query is None else str(query),
                datasource=site.datasource_label(var["datasource"]) if var.get("datasource") else "",
                flags=flags,
            )
        )
    return found


def dashboard_links(dash: Dashboard, site: Site, path: str) -> list[DashboardLinkView]:
    found = []
    for link in dash.data.get("links") or []:
        if not isinstance(link, Mapping):
            continue
        kind = str(link.get("type") or "link")
        tags = [str(t) for t in link.get("tags") or []]
        tagged = (
            [
                site.link(other.title, f"/d/{other.uid}", path)
                for other in site.dashboards
                if other.uid != dash.uid and set(tags) <= set(other.tags)
            ]
            if kind == "dashboards"
            else []
        )
        found.append(
            DashboardLinkView(
                title=str(
                    link.get("title") or ("Dashboards" if kind == "dashboards" else link.get("url") or "")
                ),
                type=kind,
                link=site.link(str(link.get("title") or ""), link.get("url"), path)
                if kind == "link"
                else None,
                dashboards=tagged,
                tags=tags,
                as_dropdown=bool(link.get("asDropdown")),
            )
        )
    return found
