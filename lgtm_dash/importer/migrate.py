"""A dashboard as Grafana loads it: its schema migrations up to schemaVersion 41, then the Angular panels.

An imported dashboard of an older schema (kube-prometheus ships schemaVersion 14 with legacy `rows`) is
first brought to what a current Grafana shows, so the generated Python builds a dashboard Grafana would
save the same way. Each step is a port of Grafana's own migration for that version: the frontend's
public/app/features/dashboard/state/DashboardMigrator.ts, whose backend twin (kept equal to it by
Grafana's tests) is apps/dashboard/pkg/migration/schemaversion/v<N>.go in grafana/grafana; the function
names below carry the version. Then the load and save around it: panel type auto-migration
(`panel_migrations`), `DashboardModel.ensurePanelsHaveUniqueIds` and `sortPanelsByGridPos`, and
`PanelModel.getSaveModel` (properties equal to a panel's defaults are not saved).

Not ported: migrations before schemaVersion 14 (Grafana 4), v34 (CloudWatch queries, absent from this
stack), and the defaults Grafana's UI fills in when a user saves (built-in annotation, plugin options).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import jsvalues as js
from .datasources import MIXED, DatasourceIndex, name_to_ref, ref_of
from .panel_migrations import NOT_PORTED, migrate_panel_type, upgrade_value_mappings

TARGET_VERSION = 41
OLDEST_PORTED = 14
# v16: the legacy row layout's geometry (DashboardMigrator.ts constants).
GRID_COLUMNS = 24
DEFAULT_SPAN = 4
DEFAULT_ROW_HEIGHT = 250
CELL_HEIGHT = 30
CELL_MARGIN = 8
MIN_PANEL_HEIGHT = CELL_HEIGHT * 3
# PanelModel.ts `defaults`: a saved panel leaves out what equals them.
PANEL_DEFAULTS: dict[str, Any] = {
    "gridPos": {"x": 0, "y": 0, "h": 3, "w": 6},
    "targets": [{"refId": "A"}],
    "cachedPluginOptions": {},
    "transparent": False,
    "options": {},
    "links": [],
    "transformations": [],
    "fieldConfig": {"defaults": {}, "overrides": []},
    "title": "",
}


@dataclass
class Migrated:
    dashboard: dict[str, Any]
    # What changed, for the import's report: "schemaVersion 14 → 41", "panel “CPU” (#3): graph → timeseries".
    notes: list[str] = field(default_factory=list)


def schema_version(dashboard: dict[str, Any]) -> int:
    value = dashboard.get("schemaVersion")
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


def migrate(dashboard: dict[str, Any], datasources: DatasourceIndex) -> Migrated:
    """`dashboard` (not modified) as Grafana ≥ 11 loads it; unchanged when it is current already."""
    data = copy.deepcopy(dashboard)
    version = schema_version(data)
    result = Migrated(data)
    if version < TARGET_VERSION:
        if version < OLDEST_PORTED:
            result.notes.append(
                f"schemaVersion {version} is older than Grafana 5: migrations before {OLDEST_PORTED} are not ported"
            )
        for target, step in _STEPS:
            if version < target:
                step(data, datasources)
        result.notes.append(f"schemaVersion {version} → {TARGET_VERSION} (Grafana's load-time migrations)")
    changed_types = _auto_migrate_panels(data, result.notes)
    if version < TARGET_VERSION or changed_types:
        _ensure_query_ids(data)
        _ensure_unique_ids(data)
        _sort_by_grid(data)
        _save_model(data)
    data["schemaVersion"] = TARGET_VERSION
    return result


# --- walking panels --------------------------------------------------------------------------------------


def _panel_list(dashboard: dict[str, Any]) -> list[Any]:
    panels = dashboard.get("panels")
    return panels if isinstance(panels, list) else []


def all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Top-level panels and those inside collapsed rows (DashboardMigrator applies panel upgrades to both)."""
    for panel in _panel_list(dashboard):
        if not isinstance(panel, dict):
            continue
        yield panel
        for nested in panel.get("panels") or [] if isinstance(panel.get("panels"), list) else []:
            if isinstance(nested, dict):
                yield nested


def _variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    templating = dashboard.get("templating")
    entries = templating.get("list") if isinstance(templating, dict) else None
    return [v for v in entries or [] if isinstance(v, dict)]


def _label(panel: dict[str, Any]) -> str:
    title = panel.get("title")
    return f"panel “{title}” (#{panel.get('id')})" if title else f"panel #{panel.get('id')}"


# --- schema steps ----------------------------------------------------------------------------------------


def v14_shared_crosshair(dash: dict[str, Any], _: DatasourceIndex) -> None:
    dash["graphTooltip"] = 1 if js.truthy(dash.get("sharedCrosshair")) else 0
    dash.pop("sharedCrosshair", None)


def _grid_height(height: Any) -> int:
    """`getGridHeight`: a legacy height in pixels ("250px" or 250) in grid rows."""
    if isinstance(height, str):
        parsed = js.parse_int(height.replace("px", ""))
        pixels: float = float(parsed) if parsed is not None else math.nan
    elif js.is_number(height):
        pixels = float(height)
    else:
        pixels = DEFAULT_ROW_HEIGHT
    if not math.isnan(pixels) and pixels < MIN_PANEL_HEIGHT:
        pixels = MIN_PANEL_HEIGHT
    if math.isnan(pixels):
        pixels = MIN_PANEL_HEIGHT
    return math.ceil(pixels / (CELL_HEIGHT + CELL_MARGIN))


class _RowArea:
    """`RowArea` of DashboardMigrator.ts: where the next panel of a legacy row fits."""

    def __init__(self, height: int, y: int):
        self.area = [0] * GRID_COLUMNS
        self.y = y
        self.height = height

    def add(self, grid: dict[str, int]) -> None:
        for i in range(grid["x"], min(grid["x"] + grid["w"], GRID_COLUMNS)):
            if not self.area[i] or grid["y"] + grid["h"] - self.y > self.area[i]:
                self.area[i] = grid["y"] + grid["h"] - self.y

    def position(self, width: int, retried: bool = False) -> tuple[int, int]:
        """`getPanelPosition`: the free run of columns ending at the right edge, else the next line."""
        start: int | None = None
        end: int | None = None
        for i in range(GRID_COLUMNS - 1, -1, -1):
            if self.height - self.area[i] <= 0:
                break
            if end is None:
                end = i
            elif i < GRID_COLUMNS - 1 and self.area[i] <= self.area[i + 1]:
                start = i
            else:
                break
        if start is not None and end is not None and end - start >= width - 1:
            return start, max(self.area[start:])
        if retried:  # wider than the grid: Grafana fails here; place it at the line's start
            return 0, 0
        self.y += self.height
        self.area = [0] * GRID_COLUMNS
        return self.position(width, retried=True)


def v16_grid_layout(dash: dict[str, Any], _: DatasourceIndex) -> None:
    """`upgradeToGridLayout`: legacy `rows` of spans become panels on the 24-column grid."""
    rows = dash.get("rows")
    if not isinstance(rows, list):
        return
    dash.pop("rows")
    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return
    y = 0
    max_id = max(
        (
            p["id"]
            for r in rows
            for p in r.get("panels") or []
            if isinstance(p, dict) and js.is_number(p.get("id"))
        ),
        default=0,
    )
    next_id = max_id + 1
    panels = _panel_list(dash)
    show_rows = any(
        js.truthy(r.get("collapse")) or js.truthy(r.get("showTitle")) or js.truthy(r.get("repeat"))
        for r in rows
    )
    for row in rows:
        if row.get("repeatIteration"):
            continue
        row_height = _grid_height(row.get("height") if js.truthy(row.get("height")) else DEFAULT_ROW_HEIGHT)
        collapsed = js.truthy(row.get("collapse"))
        header: dict[str, Any] | None = None
        if show_rows:
            header = {"id": next_id, "type": "row"}
            for key, target in (("title", "title"), ("collapse", "collapsed"), ("repeat", "repeat")):
                if key in row:
                    header[target] = row[key]
            header["panels"] = []
            header["gridPos"] = {"x": 0, "y": y, "w": GRID_COLUMNS, "h": row_height}
            next_id += 1
            y += 1
        area = _RowArea(row_height, y)
        for panel in row.get("panels") or []:
            if not isinstance(panel, dict):
                continue
            span = panel.get("span") if js.truthy(panel.get("span")) else DEFAULT_SPAN
            if js.truthy(panel.get("minSpan")):
                min_span = js.number(panel["minSpan"])
                if min_span is not None:
                    panel["minSpan"] = js.saved(min(GRID_COLUMNS, GRID_COLUMNS / 12 * min_span))
            span_number = js.number(span)
            width = math.floor(span_number if span_number is not None else DEFAULT_SPAN) * GRID_COLUMNS // 12
            height = _grid_height(panel["height"]) if js.truthy(panel.get("height")) else row_height
            x, offset = area.position(width)
            y = area.y
            panel["gridPos"] = {"x": x, "y": y + offset, "w": width, "h": height}
            area.add(panel["gridPos"])
            panel.pop("span", None)
            if header is not None and collapsed:
                header["panels"].append(panel)
            else:
                panels.append(panel)
        if header is not None:
            panels.append(header)
        if header is None or not collapsed:
            y += row_height
    dash["panels"] = panels


def v17_min_span(dash: dict[str, Any], _: DatasourceIndex) -> None:
    factors = [1, 2, 3, 4, 6, 8, 12, 24]
    for panel in all_panels(dash):
        if "minSpan" not in panel:
            continue
        min_span = js.number(panel.pop("minSpan"))
        if min_span is None or min_span <= 0:
            continue
        most = GRID_COLUMNS / min_span
        bigger = next((i for i, f in enumerate(factors) if f > most), None)
        panel["maxPerRow"] = factors[-1] if bigger is None else factors[bigger - 1] if bigger > 0 else 1


def v18_gauge_options(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        legacy = panel.get("options-gauge")
        if not isinstance(legacy, dict):
            continue
        value_keys = ("unit", "stat", "decimals", "prefix", "suffix")
        options: dict[str, Any] = {"valueOptions": {k: legacy[k] for k in value_keys if k in legacy}}
        if isinstance(legacy.get("thresholds"), list) and legacy["thresholds"]:
            options["thresholds"] = list(reversed(legacy["thresholds"]))
        for key, value in legacy.items():
            if key not in (*value_keys, "thresholds", "options"):
                options[key] = value
        panel["options"] = options
        del panel["options-gauge"]


def _slug_for_url(name: str) -> str:
    return re.sub(r" +", "-", re.sub(r"[^a-z0-9_ ]+", "", name.lower()))


def v19_panel_links(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        links = panel.get("links")
        if not isinstance(links, list) or not links:
            continue
        upgraded = []
        for link in links:
            if not isinstance(link, dict):
                continue
            if js.truthy(link.get("url")):
                url = str(link["url"])
            elif js.truthy(link.get("dashboard")):
                url = "dashboard/db/" + _slug_for_url(str(link["dashboard"]))
            elif js.truthy(link.get("dashUri")):
                url = "dashboard/" + str(link["dashUri"])
            else:
                url = "/"
            params = []
            if js.truthy(link.get("keepTime")):
                params.append("$__url_time_range")
            if js.truthy(link.get("includeVars")):
                params.append("$__all_variables")
            if js.truthy(link.get("params")):
                params.append(str(link["params"]))
            if params:
                url += "?" + "&".join(params)
            new_link: dict[str, Any] = {
                "url": url,
                "title": link.get("title") if isinstance(link.get("title"), str) else "",
            }
            if js.truthy(link.get("targetBlank")):
                new_link["targetBlank"] = True
            upgraded.append(new_link)
        panel["links"] = upgraded


_LEGACY_LINK_VARIABLES = re.compile(
    r"(__series_name)|(\$__series_name)|(__value_time)|(__field_name)|(\$__field_name)"
)
_LINK_VARIABLE_NAMES = {
    "__series_name": "__series.name",
    "$__series_name": "${__series.name}",
    "__value_time": "__value.time",
    "__field_name": "__field.name",
    "$__field_name": "${__field.name}",
}


def _update_links(options: dict[str, Any], rewrite: Callable[[str], str], titles: bool) -> None:
    for link in options.get("dataLinks") or [] if isinstance(options.get("dataLinks"), list) else []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            link["url"] = rewrite(link["url"])
    field_options = options.get("fieldOptions")
    defaults = field_options.get("defaults") if isinstance(field_options, dict) else None
    if not isinstance(defaults, dict):
        return
    if titles and isinstance(defaults.get("title"), str):
        defaults["title"] = rewrite(defaults["title"])
    for link in defaults.get("links") or [] if isinstance(defaults.get("links"), list) else []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            link["url"] = rewrite(link["url"])


def v20_data_link_variables(dash: dict[str, Any], _: DatasourceIndex) -> None:
    def rewrite(text: str) -> str:
        return _LEGACY_LINK_VARIABLES.sub(lambda m: _LINK_VARIABLE_NAMES[m.group(0)], text)

    for panel in all_panels(dash):
        if isinstance(panel.get("options"), dict):
            _update_links(panel["options"], rewrite, titles=True)


def v21_field_labels(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        if isinstance(panel.get("options"), dict):
            _update_links(
                panel["options"], lambda t: t.replace("__series.labels", "__field.labels"), titles=False
            )


def v22_table_align(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        if panel.get("type") == "table" and isinstance(panel.get("styles"), list):
            for style in panel["styles"]:
                if isinstance(style, dict):
                    style["align"] = "auto"


def v23_multi_current(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for variable in _variables(dash):
        current = variable.get("current")
        if "multi" not in variable or not isinstance(current, dict) or not current:
            continue
        if not isinstance(variable["multi"], bool):
            continue
        if variable["multi"]:
            if "value" in current and not isinstance(current["value"], list):
                current["value"] = [current["value"]]
                if "text" in current and not isinstance(current["text"], list):
                    current["text"] = [current["text"]]
        else:
            for key in ("value", "text"):
                if isinstance(current.get(key), list):
                    current[key] = current[key][0] if current[key] else ""


def v24_angular_table(dash: dict[str, Any], _: DatasourceIndex) -> None:
    """An Angular table (with `styles`) becomes `table-old`, which the panel migration turns into `table`."""
    for panel in all_panels(dash):
        if (
            panel.get("type") == "table"
            and panel.get("styles") is not None
            and panel.get("table") != "table2"
        ):
            panel["type"] = "table-old"


def v26_text2(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        if panel.get("type") == "text2":
            panel["type"] = "text"
            if isinstance(panel.get("options"), dict):
                panel["options"].pop("angular", None)


def v27_repeats_and_constants(dash: dict[str, Any], _: DatasourceIndex) -> None:
    kept = []
    for panel in _panel_list(dash):
        if isinstance(panel, dict) and ("repeatPanelId" in panel or "repeatByRow" in panel):
            continue
        if isinstance(panel, dict) and panel.get("type") == "row" and isinstance(panel.get("panels"), list):
            panel["panels"] = [
                p for p in panel["panels"] if not (isinstance(p, dict) and "repeatPanelId" in p)
            ]
        kept.append(panel)
    if "panels" in dash:
        dash["panels"] = kept
    for variable in _variables(dash):
        if variable.get("type") != "constant":
            continue
        query = variable["query"] if isinstance(variable.get("query"), str) else ""
        variable["query"] = query
        current = {"selected": True, "text": query, "value": query}
        variable["current"] = current
        variable["options"] = [dict(current)]
        if variable.get("hide") in (0, 1):
            variable["type"] = "textbox"


def v28_variable_tags(dash: dict[str, Any], _: DatasourceIndex) -> None:
    """Singlestat panels are migrated by the panel migration (PanelModel changes their type first)."""
    for variable in _variables(dash):
        for key in ("tags", "tagsQuery", "tagValuesQuery", "useTags"):
            variable.pop(key, None)


def v29_query_refresh(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for variable in _variables(dash):
        if variable.get("type") != "query":
            continue
        if variable.get("refresh") not in (1, 2):
            variable["refresh"] = 1
        if isinstance(variable.get("options"), list) and variable["options"]:
            variable["options"] = []


def v30_value_mappings(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        config = panel.get("fieldConfig")
        if isinstance(config, dict):
            defaults = config.get("defaults")
            if (
                isinstance(defaults, dict)
                and isinstance(defaults.get("mappings"), list)
                and defaults["mappings"]
            ):
                thresholds = (
                    defaults.get("thresholds") if isinstance(defaults.get("thresholds"), dict) else None
                )
                defaults["mappings"] = upgrade_value_mappings(defaults["mappings"], thresholds)
            for rule in config.get("overrides") or [] if isinstance(config.get("overrides"), list) else []:
                for prop in rule.get("properties") or [] if isinstance(rule, dict) else []:
                    if (
                        isinstance(prop, dict)
                        and prop.get("id") == "mappings"
                        and isinstance(prop.get("value"), list)
                    ):
                        prop["value"] = upgrade_value_mappings(prop["value"], None) if prop["value"] else []
        options = panel.get("options")
        renamed = panel.get("type") in ("timeseries", "xychart", "xychart2")
        if renamed and isinstance(options, dict) and "tooltipOptions" in options:
            options["tooltip"] = options.pop("tooltipOptions")


def v31_labels_to_fields(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        steps = panel.get("transformations")
        if panel.get("type") == "row" or not isinstance(steps, list):
            continue
        if not any(isinstance(t, dict) and t.get("id") == "labelsToFields" for t in steps):
            continue
        merged: list[Any] = []
        for step in steps:
            merged.append(step)
            if isinstance(step, dict) and step.get("id") == "labelsToFields":
                merged.append({"id": "merge", "options": {}})
        panel["transformations"] = merged


def v33_datasource_refs(dash: dict[str, Any], datasources: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        panel["datasource"] = name_to_ref(panel.get("datasource"), datasources, default_as_null=True)
        for target in panel.get("targets") or [] if isinstance(panel.get("targets"), list) else []:
            if isinstance(target, dict) and "datasource" in target:
                ref = name_to_ref(target["datasource"], datasources, default_as_null=True)
                if ref is not None:
                    target["datasource"] = ref


def v35_time_axis(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        config = panel.get("fieldConfig")
        if panel.get("type") != "timeseries" or not isinstance(config, dict):
            continue
        defaults = config.get("defaults")
        defaults = defaults if isinstance(defaults, dict) else {}
        custom = defaults.get("custom")
        custom = custom if isinstance(custom, dict) else {}
        if custom.get("axisPlacement") == "hidden":
            overrides = config.get("overrides")
            overrides = overrides if isinstance(overrides, list) else []
            config["overrides"] = [
                *overrides,
                {
                    "matcher": {"id": "byType", "options": "time"},
                    "properties": [{"id": "custom.axisPlacement", "value": "auto"}],
                },
            ]


def v36_default_datasources(dash: dict[str, Any], datasources: DatasourceIndex) -> None:
    annotations = dash.get("annotations")
    for query in annotations.get("list") or [] if isinstance(annotations, dict) else []:
        if isinstance(query, dict):
            query["datasource"] = name_to_ref(query.get("datasource"), datasources, default_as_null=False)
    for variable in _variables(dash):
        if variable.get("type") == "query" and "datasource" in variable and variable["datasource"] is None:
            variable["datasource"] = ref_of(datasources.default)
    for panel in _panel_list(dash):
        if isinstance(panel, dict):
            _v36_panel(panel, datasources, nested=False)
            for child in panel.get("panels") or [] if isinstance(panel.get("panels"), list) else []:
                if isinstance(child, dict):
                    _v36_panel(child, datasources, nested=True)


def _v36_panel(panel: dict[str, Any], datasources: DatasourceIndex, *, nested: bool) -> None:
    targets = panel.get("targets") if isinstance(panel.get("targets"), list) else []
    if not targets:
        if nested:
            return
        targets = [{"refId": "A"}]
        panel["targets"] = targets
    was_default = False
    if panel.get("datasource") is None:
        panel["datasource"] = ref_of(datasources.default)
        was_default = True
    elif not (isinstance(panel["datasource"], dict) and not panel["datasource"]):
        panel["datasource"] = name_to_ref(panel["datasource"], datasources, default_as_null=False)
    for target in targets:
        if not isinstance(target, dict):
            continue
        current = target.get("datasource")
        if current is None or (isinstance(current, dict) and current.get("uid") is None):
            panel_ref = panel.get("datasource")
            if isinstance(panel_ref, dict):
                if panel_ref.get("uid") != MIXED:
                    target["datasource"] = dict(panel_ref)
                else:
                    target["datasource"] = name_to_ref(current, datasources, default_as_null=False)
        else:
            target["datasource"] = name_to_ref(current, datasources, default_as_null=False)
        if was_default and isinstance(target.get("datasource"), dict):
            uid = target["datasource"].get("uid")
            if uid and uid != "__expr__":
                panel["datasource"] = target["datasource"]


def v37_legend(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        options = panel.get("options")
        if not isinstance(options, dict) or options.get("legend") is None:
            continue
        legend = options["legend"]
        if isinstance(legend, bool):
            options["legend"] = {"displayMode": "list", "showLegend": legend}
        elif isinstance(legend, dict):
            if legend.get("displayMode") == "hidden" or legend.get("showLegend") is False:
                legend["displayMode"] = "list"
                legend["showLegend"] = False
            else:
                legend["showLegend"] = True


def _cell_options(mode: str) -> dict[str, Any]:
    if mode in ("basic", "gradient-gauge", "lcd-gauge"):
        return {
            "type": "gauge",
            "mode": {"gradient-gauge": "gradient", "lcd-gauge": "lcd"}.get(mode, "basic"),
        }
    if mode in ("color-background", "color-background-solid"):
        return {"type": "color-background", "mode": "gradient" if mode == "color-background" else "basic"}
    return {"type": mode}


def v38_table_cell_options(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        config = panel.get("fieldConfig")
        if panel.get("type") != "table" or not isinstance(config, dict):
            continue
        defaults = config.get("defaults")
        custom = defaults.get("custom") if isinstance(defaults, dict) else None
        if not isinstance(custom, dict):
            continue
        if "displayMode" in custom:
            mode = custom.pop("displayMode")
            if isinstance(mode, str):
                custom["cellOptions"] = _cell_options(mode)
        for rule in config.get("overrides") or [] if isinstance(config.get("overrides"), list) else []:
            for prop in rule.get("properties") or [] if isinstance(rule, dict) else []:
                if isinstance(prop, dict) and prop.get("id") == "custom.displayMode":
                    prop["id"] = "custom.cellOptions"
                    if isinstance(prop.get("value"), str):
                        prop["value"] = _cell_options(prop["value"])


def v39_time_series_table(dash: dict[str, Any], _: DatasourceIndex) -> None:
    for panel in all_panels(dash):
        for step in (
            panel.get("transformations") or [] if isinstance(panel.get("transformations"), list) else []
        ):
            if not isinstance(step, dict) or step.get("id") != "timeSeriesTable":
                continue
            options = step.get("options")
            stats = options.get("refIdToStat") if isinstance(options, dict) else None
            if isinstance(stats, dict):
                step["options"] = {ref: {"stat": stat} for ref, stat in stats.items()}


def v40_refresh(dash: dict[str, Any], _: DatasourceIndex) -> None:
    if not isinstance(dash.get("refresh"), str):
        dash["refresh"] = ""


def v41_time_options(dash: dict[str, Any], _: DatasourceIndex) -> None:
    if isinstance(dash.get("timepicker"), dict):
        dash["timepicker"].pop("time_options", None)


_STEPS: tuple[tuple[int, Callable[[dict[str, Any], DatasourceIndex], None]], ...] = (
    (14, v14_shared_crosshair),
    (16, v16_grid_layout),
    (17, v17_min_span),
    (18, v18_gauge_options),
    (19, v19_panel_links),
    (20, v20_data_link_variables),
    (21, v21_field_labels),
    (22, v22_table_align),
    (23, v23_multi_current),
    (24, v24_angular_table),
    (26, v26_text2),
    (27, v27_repeats_and_constants),
    (28, v28_variable_tags),
    (29, v29_query_refresh),
    (30, v30_value_mappings),
    (31, v31_labels_to_fields),
    (33, v33_datasource_refs),
    (35, v35_time_axis),
    (36, v36_default_datasources),
    (37, v37_legend),
    (38, v38_table_cell_options),
    (39, v39_time_series_table),
    (40, v40_refresh),
    (41, v41_time_options),
)


# --- load and save around the schema steps ---------------------------------------------------------------


def _auto_migrate_panels(dash: dict[str, Any], notes: list[str]) -> bool:
    """Angular panels into their successors (PanelModel auto-migration); True when any changed type."""
    changed = False

    def convert(panels: list[Any]) -> list[Any]:
        nonlocal changed
        converted = []
        for panel in panels:
            if not isinstance(panel, dict):
                converted.append(panel)
                continue
            if panel.get("type") == "heatmap-new":  # autoMigrateRemovedPanelPlugins: a rename
                panel = {**panel, "type": "heatmap"}
            migrated, note = migrate_panel_type(panel)
            if note:
                changed = True
                notes.append(f"{_label(panel)}: {note} (as Grafana migrates it on load)")
            elif panel.get("type") in NOT_PORTED:
                notes.append(
                    f"{_label(panel)}: Grafana would turn {panel['type']} into {NOT_PORTED[panel['type']]} on load; "
                    "that migration is not ported, the panel is kept as it is"
                )
            if isinstance(migrated.get("panels"), list):
                migrated["panels"] = convert(migrated["panels"])
            converted.append(migrated)
        return converted

    if isinstance(dash.get("panels"), list):
        dash["panels"] = convert(dash["panels"])
    return changed


def _ref_id(number: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (
        letters[number]
        if number < len(letters)
        else _ref_id(number // len(letters) - 1) + letters[number % 26]
    )


def _ensure_query_ids(dash: dict[str, Any]) -> None:
    """`PanelModel.ensureQueryIds`: every query of a (top-level) panel gets a refId."""
    for panel in _panel_list(dash):
        targets = panel.get("targets") if isinstance(panel, dict) else None
        if not isinstance(targets, list):
            continue
        for target in targets:
            if isinstance(target, dict) and not target.get("refId"):
                used = {t.get("refId") for t in targets if isinstance(t, dict)}
                target["refId"] = next(_ref_id(n) for n in range(len(used) + 1) if _ref_id(n) not in used)


def _ensure_unique_ids(dash: dict[str, Any]) -> None:
    panels = list(all_panels(dash))
    highest = max((p["id"] for p in panels if js.is_number(p.get("id"))), default=0)
    seen: set[Any] = set()
    for panel in panels:
        if not js.truthy(panel.get("id")) or panel["id"] in seen:
            highest += 1
            panel["id"] = highest
        seen.add(panel["id"])


def _sort_by_grid(dash: dict[str, Any]) -> None:
    def position(panel: Any) -> tuple[float, float]:
        grid = panel.get("gridPos") if isinstance(panel, dict) else None
        grid = grid if isinstance(grid, dict) else {}
        return (js.number(grid.get("y")) or 0, js.number(grid.get("x")) or 0)

    if isinstance(dash.get("panels"), list):
        dash["panels"] = sorted(dash["panels"], key=position)


def _save_model(dash: dict[str, Any]) -> None:
    """`PanelModel.getSaveModel`: a top-level panel's properties equal to the defaults are not saved."""
    for panel in _panel_list(dash):
        if not isinstance(panel, dict):
            continue
        for key, default in PANEL_DEFAULTS.items():
            if key in panel and panel[key] == default:
                del panel[key]
        panel.pop("scopedVars", None)
        for child in panel.get("panels") or [] if isinstance(panel.get("panels"), list) else []:
            if isinstance(child, dict):
                child.pop("scopedVars", None)
