"""Dashboard checks: UIDs, panel ids, the grid, datasources, targets, units, titles, variables, links."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ...model.uid import UID_MAX_LENGTH, UID_PATTERN
from ..context import BUILTIN_DATASOURCES, LintContext, datasource_variable_name
from ..findings import Finding, Severity
from ..inputs import DashboardDoc, PanelDoc
from ..interpolate import variable_references
from ..registry import Check, register
from ..units import is_valid_unit

GRID_COLUMNS = 24
# Panels that show no query results.
NO_DATA_PANELS = frozenset(
    {"row", "text", "news", "dashlist", "alertlist", "annolist", "welcome", "gettingstarted"}
)
UNIT_PANELS = frozenset({"timeseries", "graph", "stat", "singlestat", "gauge", "bargauge"})
QUERY_FIELDS = ("expr", "rawSql", "query")
# Variables Grafana (or a legacy datasource) provides without a templating entry.
LEGACY_BUILTINS = frozenset({"interval", "timeFilter", "timeFilterSeconds"})
DASHBOARD_LINK = re.compile(r"/d/([A-Za-z0-9_-]+)")


def panel_label(dash: DashboardDoc, panel: PanelDoc) -> str:
    return f"{dash.label}, panel {panel.title or f'id {panel.id}'!r}"


@register
class DashboardUid(Check):
    id = "dashboard/uid"
    severity = Severity.ERROR
    summary = "every dashboard has a valid (≤40 characters of [A-Za-z0-9_-]) and unique uid"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if not dash.uid:
            yield self.report(ctx, f"dashboard {dash.title!r} has no uid", dashboard=dash, file=dash.file)
        elif len(dash.uid) > UID_MAX_LENGTH or not UID_PATTERN.match(dash.uid):
            yield self.report(
                ctx,
                f"{dash.label}: uid must be at most {UID_MAX_LENGTH} characters of [A-Za-z0-9_-]",
                dashboard=dash,
            )

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: dict[str, DashboardDoc] = {}
        for dash in ctx.input.dashboards:
            if dash.uid and dash.uid in seen:
                yield self.report(
                    ctx, f"{dash.label}: uid already used by {seen[dash.uid].file}", dashboard=dash
                )
            elif dash.uid:
                seen[dash.uid] = dash


@register
class PanelIds(Check):
    id = "dashboard/panel-id"
    severity = Severity.ERROR
    summary = "panel ids are unique within a dashboard"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        counts = Counter(p.id for p in dash.panels if p.id is not None)
        for panel in dash.panels:
            if panel.id is not None and counts[panel.id] > 1:
                counts[panel.id] = 0  # report each duplicate id once
                yield self.report(
                    ctx, f"{panel_label(dash, panel)}: panel id {panel.id} is used more than once",
                    dashboard=dash, panel=panel,
                )  # fmt: skip


@register
class Grid(Check):
    id = "dashboard/grid"
    severity = Severity.ERROR
    summary = "panels lie inside the 24-column grid and do not overlap"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        # Panels inside a collapsed row are laid out on their own, as if the row were expanded.
        layers: dict[int, list[tuple[PanelDoc, tuple[int, int, int, int]]]] = {}
        row_key = 0
        for panel in dash.panels:
            if not panel.nested:
                row_key = id(panel) if panel.data.get("type") == "row" else 0
            box = _box(panel)
            if box is None:
                continue
            x, y, w, h = box
            if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > GRID_COLUMNS:
                yield self.report(
                    ctx, f"{panel_label(dash, panel)}: gridPos x={x} y={y} w={w} h={h} is outside the "
                    f"{GRID_COLUMNS}-column grid", dashboard=dash, panel=panel,
                )  # fmt: skip
                continue
            layer = layers.setdefault(row_key if panel.nested else 0, [])
            for other, (ox, oy, ow, oh) in layer:
                if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                    yield self.report(
                        ctx, f"{panel_label(dash, panel)}: overlaps panel {other.title or other.id!r}",
                        dashboard=dash, panel=panel,
                    )  # fmt: skip
                    break
            layer.append((panel, box))


def _box(panel: PanelDoc) -> tuple[int, int, int, int] | None:
    grid = panel.data.get("gridPos")
    if not isinstance(grid, Mapping) or not grid:  # legacy `rows` panels: Grafana lays them out from `span`
        return None
    try:
        x, y, w, h = (int(grid.get(k, 0) or 0) for k in ("x", "y", "w", "h"))
    except (TypeError, ValueError):
        return (-1, -1, 0, 0)
    if panel.data.get("type") == "row":
        # Grafana draws a row header full width and one unit high whatever its gridPos says (dashboards
        # migrated from legacy rows keep the old row height there): DashboardGrid.tsx `buildLayout`.
        return (0, y, GRID_COLUMNS, 1)
    return (x, y, w, h)


def datasource_refs(dash: DashboardDoc) -> Iterator[tuple[Any, PanelDoc | None, str]]:
    """(reference, panel or None, what) for every datasource reference of a dashboard."""
    for panel in dash.panels:
        if "datasource" in panel.data:
            yield panel.data["datasource"], panel, "panel datasource"
        for target in panel.data.get("targets") or []:
            if isinstance(target, Mapping) and "datasource" in target:
                yield (
                    target["datasource"],
                    panel,
                    f"query {target.get('refId') or ''} datasource".replace("  ", " "),
                )
    for variable in dash.templating:
        if "datasource" in variable:
            yield variable["datasource"], None, f"variable {variable.get('name')!r} datasource"
    annotations = (
        (dash.data.get("annotations") or {}).get("list")
        if isinstance(dash.data.get("annotations"), Mapping)
        else []
    )
    for annotation in annotations or []:
        if isinstance(annotation, Mapping) and "datasource" in annotation:
            yield annotation["datasource"], None, f"annotation {annotation.get('name')!r} datasource"


def ref_uid(ref: Any) -> str | None:
    uid = ref.get("uid") if isinstance(ref, Mapping) else ref
    return uid if isinstance(uid, str) and uid else None


@register
class DatasourceVariableExists(Check):
    id = "dashboard/datasource-exists"
    severity = Severity.ERROR
    summary = "a datasource given as a variable ($ds, ${DS_X}) is a datasource variable or an __inputs entry"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        variables = {
            v.get("name") for v in dash.templating if v.get("type") in ("datasource", "adhoc", "constant")
        }
        inputs = {i.get("name") for i in dash.data.get("__inputs") or [] if isinstance(i, Mapping)}
        for ref, panel, what in datasource_refs(dash):
            uid = ref_uid(ref)
            name = datasource_variable_name(uid) if uid else None
            if name is None or name in variables or name in inputs or name.startswith("__"):
                continue
            where = panel_label(dash, panel) if panel else dash.label
            yield self.report(
                ctx, f"{where}: {what} ${{{name}}} is not a datasource variable of the dashboard",
                dashboard=dash, panel=panel,
            )  # fmt: skip


@register
class PanelTargets(Check):
    id = "dashboard/panel-targets"
    severity = Severity.ERROR
    summary = "panels that show data have queries; a query reusing another panel names an existing panel"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        ids = {p.id for p in dash.panels}
        for panel in dash.panels:
            kind = panel.data.get("type")
            if (
                kind in NO_DATA_PANELS
                or "libraryPanel" in panel.data
                or (panel.data.get("panels") and kind != "row")
            ):
                continue
            targets = [t for t in panel.data.get("targets") or [] if isinstance(t, Mapping)]
            if not targets:
                yield self.report(
                    ctx, f"{panel_label(dash, panel)}: panel has no queries", dashboard=dash, panel=panel
                )
            for target in targets:
                if "panelId" in target and target["panelId"] not in ids:
                    yield self.report(
                        ctx, f"{panel_label(dash, panel)}: query reuses the results of panel id "
                        f"{target['panelId']}, which does not exist", dashboard=dash, panel=panel,
                    )  # fmt: skip


@register
class PanelUnit(Check):
    id = "dashboard/panel-unit"
    severity = Severity.WARNING
    summary = "graph, stat and gauge panels set a valid unit (or value mappings)"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        for panel in dash.panels:
            data = panel.data
            if data.get("type") not in UNIT_PANELS and data.get("type") is not None:
                continue
            if "targets" not in data and data.get("type") is None:
                continue  # untyped and without queries: nothing to tell
            defaults = (data.get("fieldConfig") or {}).get("defaults") or {}
            if defaults.get("mappings"):
                continue  # values are shown as text
            fields = ((data.get("options") or {}).get("reduceOptions") or {}).get("fields")
            if isinstance(fields, str) and fields:
                continue  # shows a chosen (often non-numeric) field
            units = [defaults.get("unit"), data.get("format")]
            units += [
                (axis or {}).get("format")
                for axis in (data.get("yaxes") or [])[:1]
                if isinstance(axis, Mapping)
            ]
            for override in (data.get("fieldConfig") or {}).get("overrides") or []:
                for prop in (override or {}).get("properties") or []:
                    if isinstance(prop, Mapping) and prop.get("id") == "unit":
                        units.append(prop.get("value"))
            given = [u for u in units if isinstance(u, str) and u]
            if any(is_valid_unit(u) for u in given):
                continue
            shown = f"invalid unit {given[0]!r}" if given else "no unit"
            yield self.report(ctx, f"{panel_label(dash, panel)}: {shown}", dashboard=dash, panel=panel)


@register
class PanelTitle(Check):
    id = "dashboard/panel-title"
    severity = Severity.WARNING
    summary = "every panel (rows and text panels excepted) has a title"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        for panel in dash.panels:
            if panel.data.get("type") in ("row", "text") or panel.title.strip():
                continue
            yield self.report(
                ctx, f"{panel_label(dash, panel)}: panel has no title", dashboard=dash, panel=panel
            )


@register
class VariableExists(Check):
    id = "dashboard/variable-exists"
    severity = Severity.ERROR
    summary = "every $variable a query, title or variable uses is defined in the dashboard's templating"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        defined = {str(v.get("name")) for v in dash.templating}
        for panel in dash.panels:
            texts = [panel.title, str(ref_uid(panel.data.get("datasource")) or "")]
            for target in panel.data.get("targets") or []:
                if isinstance(target, Mapping):
                    texts += [target[f] for f in QUERY_FIELDS if isinstance(target.get(f), str)]
            yield from self._undefined(ctx, dash, panel, texts, defined)
        for variable in dash.templating:
            query = variable.get("query")
            texts = [query if isinstance(query, str) else "", str(variable.get("regex") or "")]
            yield from self._undefined(ctx, dash, None, texts, defined, f"variable {variable.get('name')!r}")

    def _undefined(
        self, ctx: LintContext, dash: DashboardDoc, panel: PanelDoc | None, texts: list[str],
        defined: set[str], what: str = "",
    ) -> Iterator[Finding]:  # fmt: skip
        missing: list[str] = []
        for text in texts:
            for name in variable_references(text):
                if name in defined or name in missing or name.startswith("__") or name.isdigit():
                    continue
                if name in LEGACY_BUILTINS:
                    continue
                missing.append(name)
        if missing:
            where = panel_label(dash, panel) if panel else f"{dash.label}, {what}"
            names = ", ".join(f"${n}" for n in missing)
            yield self.report(ctx, f"{where}: undefined variable {names}", dashboard=dash, panel=panel)


def link_urls(dash: DashboardDoc) -> Iterator[tuple[str, PanelDoc | None]]:
    for link in dash.data.get("links") or []:
        if isinstance(link, Mapping) and isinstance(link.get("url"), str):
            yield link["url"], None
    for panel in dash.panels:
        links = list(panel.data.get("links") or [])
        config = panel.data.get("fieldConfig") or {}
        links += list((config.get("defaults") or {}).get("links") or [])
        for override in config.get("overrides") or []:
            for prop in (override or {}).get("properties") or []:
                if (
                    isinstance(prop, Mapping)
                    and prop.get("id") == "links"
                    and isinstance(prop.get("value"), list)
                ):
                    links += prop["value"]
        for link in links:
            if isinstance(link, Mapping) and isinstance(link.get("url"), str):
                yield link["url"], panel


@register
class LinkTarget(Check):
    id = "dashboard/link-target"
    severity = Severity.ERROR
    summary = "dashboard and panel links to /d/<uid> point at a dashboard of the same build"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if not ctx.input.complete:
            return  # loose files: the other dashboards are not known
        for url, panel in link_urls(dash):
            for uid in DASHBOARD_LINK.findall(url):
                if uid not in ctx.dashboard_uids and "$" not in uid:
                    where = panel_label(dash, panel) if panel else dash.label
                    yield self.report(
                        ctx, f"{where}: link to unknown dashboard uid {uid!r}", dashboard=dash, panel=panel
                    )


@register
class DatasourceKnown(Check):
    id = "xref/datasource"
    severity = Severity.ERROR
    summary = "every datasource uid a dashboard uses is provisioned (checked when the datasources are known)"

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if ctx.datasources is None:
            return
        for ref, panel, what in datasource_refs(dash):
            uid = ref_uid(ref)
            if not uid or "$" in uid or uid.lower() in BUILTIN_DATASOURCES or uid in ctx.datasources:
                continue
            where = panel_label(dash, panel) if panel else dash.label
            yield self.report(
                ctx, f"{where}: {what} {uid!r} is not a provisioned datasource", dashboard=dash, panel=panel
            )
