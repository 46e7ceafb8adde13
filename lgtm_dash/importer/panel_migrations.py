"""Deprecated (Angular) panels turned into their React successors, the way Grafana does when it loads them.

Grafana ≥ 11 loads a `graph`, `singlestat` or old `table` panel as `timeseries`, `stat` or `table`: the
dashboard model keeps only the panel's common properties (`mustKeepProps`), clears its options and custom
field config, then hands the old properties to the new plugin's "panel type changed" handler. This module
ports those handlers. Sources (grafana/grafana):

- public/app/features/dashboard/state/PanelModel.ts: `autoMigrateAngular`, `mustKeepProps`, `pluginLoaded`
  (auto-migration), `clearPropertiesBeforePluginChange`, `callPanelTypeChangeHandler`;
- public/app/plugins/panel/timeseries/migrations.ts: `graphPanelChangedHandler`, `flotToGraphOptions`;
- public/app/plugins/panel/table/migrations.ts: `tablePanelChangedHandler`, `migrateDefaults`,
  `migrateTableStyleToOverride`, `generateThresholds`;
- public/app/plugins/panel/stat/StatMigrations.ts `statPanelChangedHandler` and
  packages/grafana-ui SingleStatBaseOptions.ts `sharedSingleStatPanelChangedHandler` (as described in
  apps/dashboard/pkg/migration docs and ported in schemaversion/v28.go);
- value mappings: schemaversion/v30.go (`upgradeValueMappings`, the port of the frontend's).

What is not ported: the plugins' option defaults Grafana fills in afterwards (`applyPluginOptionDefaults`)
and `pluginVersion`, which depend on the Grafana version that renders the panel.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from . import jsvalues as js

# PanelModel.ts `autoMigrateAngular`: what Grafana turns each Angular panel into.
AUTO_MIGRATE = {
    "graph": "timeseries",
    "table-old": "table",
    "singlestat": "stat",
    "grafana-singlestat-panel": "stat",
    "grafana-piechart-panel": "piechart",
    "grafana-worldmap-panel": "geomap",
    "natel-discrete-panel": "state-timeline",
}
# PanelModel.ts `mustKeepProps` (the persisted ones): kept when a panel changes type.
MUST_KEEP = frozenset(
    {
        "id",
        "gridPos",
        "type",
        "title",
        "scopedVars",
        "repeat",
        "repeatPanelId",
        "repeatDirection",
        "repeatedByRow",
        "minSpan",
        "collapsed",
        "panels",
        "targets",
        "datasource",
        "timeFrom",
        "timeShift",
        "hideTimeOverride",
        "description",
        "links",
        "fullscreen",
        "cacheTimeout",
        "queryCachingTTL",
        "transparent",
        "pluginVersion",
        "transformations",
        "fieldConfig",
        "maxDataPoints",
        "interval",
        "libraryPanel",
    }
)
# fieldReducers ids and aliases (packages/grafana-data fieldReducer.ts) an old legend or value name may use.
REDUCER_ALIASES = {"avg": "mean", "current": "lastNotNull", "total": "sum"}
REDUCER_IDS = frozenset(
    {
        "sum", "max", "min", "logmin", "mean", "variance", "stdDev", "last", "first", "count", "range", "diff",
        "diffperc", "delta", "step", "firstNotNull", "lastNotNull", "changeCount", "distinctCount",
        "allIsZero", "allIsNull", "allValues", "uniqueValues", "median",
    }
)  # fmt: skip
_REGEX_ALIAS = re.compile(r"^([/~@;%#'])(.*?)\1([gimsuy]*)$")


def reducer_id(name: Any) -> str | None:
    """`fieldReducers.getIfExists(name)?.id`."""
    if not isinstance(name, str):
        return None
    if name in REDUCER_IDS:
        return name
    return REDUCER_ALIASES.get(name)


def migrate_panel_type(panel: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The panel as Grafana loads it, and a note when it changed type (None: left as it was)."""
    old_type = panel.get("type")
    if old_type == "graph":
        new_type = _graph_target(panel)
    else:
        new_type = AUTO_MIGRATE.get(str(old_type))
    handler = _HANDLERS.get((str(old_type), str(new_type)))
    if new_type is None or handler is None:
        return panel, None
    old = {k: v for k, v in panel.items() if k not in MUST_KEEP}
    migrated = {k: copy.deepcopy(v) for k, v in panel.items() if k in MUST_KEEP}
    migrated["type"] = new_type
    migrated["options"] = {}
    config = migrated.get("fieldConfig")
    config = config if isinstance(config, dict) else {}
    defaults = config.get("defaults")
    defaults = defaults if isinstance(defaults, dict) else {}
    overrides = config.get("overrides")
    overrides = overrides if isinstance(overrides, list) else []
    migrated["fieldConfig"] = {"defaults": {**defaults, "custom": {}}, "overrides": _standard_only(overrides)}
    options = handler(migrated, old)
    migrated["options"].update(options)
    return migrated, f"{old_type} → {new_type}"


def _graph_target(panel: dict[str, Any]) -> str | None:
    """Graph panels in series or histogram mode become bar charts or histograms: not ported (None)."""
    xaxis = panel.get("xaxis")
    xaxis = xaxis if isinstance(xaxis, dict) else {}
    if xaxis.get("mode") in ("series", "histogram"):
        return None
    return "timeseries"


def _standard_only(overrides: list[Any]) -> list[Any]:
    """`filterFieldConfigOverrides(overrides, isStandardFieldProp)`: custom.* properties are the old plugin's."""
    kept = []
    for rule in overrides:
        if not isinstance(rule, dict):
            continue
        properties = [
            p
            for p in rule.get("properties") or []
            if not (isinstance(p, dict) and str(p.get("id", "")).startswith("custom."))
        ]
        if properties:
            kept.append({**rule, "properties": properties})
    return kept


# --- graph -> timeseries (timeseries/migrations.ts) -----------------------------------------------------


def _graph_to_timeseries(panel: dict[str, Any], angular: dict[str, Any]) -> dict[str, Any]:
    field_config, options = _flot_to_graph({**angular, "fieldConfig": panel["fieldConfig"]})
    panel["fieldConfig"] = field_config
    if "alert" in angular and angular["alert"] is not None:
        panel["alert"] = angular["alert"]
    return options


def _omit_nil(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def _valid_number(value: Any) -> int | float | None:
    if js.is_number(value):
        return value
    if isinstance(value, str):
        parsed = js.number(value)
        return js.saved(parsed) if parsed is not None and not math.isnan(parsed) else None
    return None


def _axis_config(axis: Any) -> dict[str, Any]:
    """`getFieldConfigFromOldAxis`."""
    if not js.truthy(axis) or not isinstance(axis, dict):
        return {}
    graph: dict[str, Any] = {"axisPlacement": "auto" if js.truthy(axis.get("show")) else "hidden"}
    if js.truthy(axis.get("label")):
        graph["axisLabel"] = axis["label"]
    if js.truthy(axis.get("logBase")) and axis.get("logBase") in (2, 10):
        graph["scaleDistribution"] = {"type": "log", "log": axis["logBase"]}
    return _omit_nil(
        {
            "unit": axis.get("format"),
            "decimals": _valid_number(axis.get("decimals")),
            "min": _valid_number(axis.get("min")),
            "max": _valid_number(axis.get("max")),
            "custom": graph,
        }
    )


def _times(value: Any, factor: float) -> int | float | None:
    parsed = js.number(value)
    return js.saved(parsed * factor) if parsed is not None else None


def _flot_to_graph(angular: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    field_config = angular.get("fieldConfig") or {}
    overrides: list[Any] = list(field_config.get("overrides") or [])
    yaxes = angular.get("yaxes")
    yaxes = yaxes if isinstance(yaxes, list) else []
    y1 = _axis_config(yaxes[0] if yaxes else None)
    if isinstance(field_config.get("defaults"), dict):
        y1 = {**field_config["defaults"], **y1}
    dash = {
        "fill": "dash" if js.truthy(angular.get("dashes")) else "solid",
        "dash": [
            angular["dashLength"] if angular.get("dashLength") is not None else 10,
            angular["spaceLength"] if angular.get("spaceLength") is not None else 10,
        ],
    }
    alias_colors = angular.get("aliasColors")
    if js.truthy(alias_colors) and isinstance(alias_colors, dict):
        for alias, color in alias_colors.items():
            if js.truthy(color):
                overrides.append(
                    {
                        "matcher": {"id": "byName", "options": alias},
                        "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}],
                    }
                )
    has_fill_below_to = False
    for series in angular.get("seriesOverrides") or []:
        if not isinstance(series, dict) or not js.truthy(series.get("alias")):
            continue
        alias = str(series["alias"])
        rule: dict[str, Any] = {
            "matcher": {"id": "byRegexp" if _REGEX_ALIAS.match(alias) else "byName", "options": alias},
            "properties": [],
        }
        props: list[dict[str, Any]] = rule["properties"]
        dash_override: dict[str, Any] | None = None
        for key, value in series.items():
            if key in ("alias", "$$hashKey"):
                continue
            if key == "yaxis":
                if value == 2:
                    _y2_properties(y1, _axis_config(yaxes[1] if len(yaxes) > 1 else None), props)
            elif key == "fill":
                props.append({"id": "custom.fillOpacity", "value": _times(value, 10)})
            elif key == "fillBelowTo":
                has_fill_below_to = True
                props.append({"id": "custom.fillBelowTo", "value": value})
            elif key == "fillGradient":
                if js.truthy(value):
                    props.append({"id": "custom.fillGradient", "value": "opacity"})
                    props.append({"id": "custom.fillOpacity", "value": _times(value, 10)})
            elif key == "points":
                props.append({"id": "custom.showPoints", "value": "always" if js.truthy(value) else "never"})
            elif key == "bars":
                if js.truthy(value):
                    props.append({"id": "custom.drawStyle", "value": "bars"})
                    props.append({"id": "custom.fillOpacity", "value": 100})
                else:
                    props.append({"id": "custom.drawStyle", "value": "line"})
            elif key == "lines":
                props.append({"id": "custom.lineWidth", "value": 0})
            elif key == "linewidth":
                props.append({"id": "custom.lineWidth", "value": value})
            elif key == "pointradius":
                radius = js.number(value)
                props.append(
                    {
                        "id": "custom.pointSize",
                        "value": js.saved(2 + radius * 2) if radius is not None else None,
                    }
                )
            elif key in ("dashLength", "spaceLength", "dashes"):
                if dash_override is None:
                    dash_override = {"fill": dash["fill"], "dash": list(dash["dash"])}
                if key == "dashLength":
                    dash_override["dash"][0] = value
                elif key == "spaceLength":
                    dash_override["dash"][1] = value
                else:
                    dash_override["fill"] = "dash" if js.truthy(value) else "solid"
            elif key == "stack":
                props.append({"id": "custom.stacking", "value": {"mode": "normal", "group": value}})
            elif key == "color":
                props.append({"id": "color", "value": {"fixedColor": value, "mode": "fixed"}})
            elif key == "transform":
                props.append(
                    {"id": "custom.transform", "value": "negative-Y" if value == "negative-Y" else "constant"}
                )
        if dash_override is not None:
            props.append({"id": "custom.lineStyle", "value": dash_override})
        if props:
            overrides.append(rule)

    graph: dict[str, Any] = dict(y1.get("custom") or {})
    if js.truthy(angular.get("bars")):
        graph["drawStyle"] = "bars"
    else:
        graph["drawStyle"] = "line" if js.truthy(angular.get("lines")) else "points"
    if js.truthy(angular.get("points")):
        graph["showPoints"] = "always"
        if js.is_number(angular.get("pointradius")):
            graph["pointSize"] = js.saved(2 + angular["pointradius"] * 2)
    elif graph["drawStyle"] != "points":
        graph["showPoints"] = "never"
    graph["lineWidth"] = angular.get("linewidth")
    if dash["fill"] != "solid":
        graph["lineStyle"] = dash
    if has_fill_below_to:
        graph["fillOpacity"] = 35  # bands are hardcoded in flot
    elif js.is_number(angular.get("fill")):
        graph["fillOpacity"] = js.saved(angular["fill"] * 10)
    if js.is_number(angular.get("fillGradient")) and angular["fillGradient"] > 0:
        graph["gradientMode"] = "opacity"
        graph["fillOpacity"] = js.saved(angular["fillGradient"] * 10)
    graph["spanNulls"] = angular.get("nullPointMode") == "connected"
    if js.truthy(angular.get("steppedLine")):
        graph["lineInterpolation"] = "stepAfter"
    if graph["drawStyle"] == "bars":
        graph["fillOpacity"] = 100
    if js.truthy(angular.get("stack")):
        graph["stacking"] = {"mode": "normal", "group": "A"}
    y1["custom"] = _omit_nil(graph)
    y1["nullValueMode"] = angular.get("nullPointMode")

    legend: dict[str, Any] = {"displayMode": "list", "showLegend": True, "placement": "bottom", "calcs": []}
    tooltip: dict[str, Any] = {"mode": "single", "sort": "none"}
    old_legend = angular.get("legend")
    if js.truthy(old_legend) and isinstance(old_legend, dict):
        if js.truthy(old_legend.get("show")):
            legend["displayMode"] = "table" if js.truthy(old_legend.get("alignAsTable")) else "list"
        else:
            legend["showLegend"] = False
        if js.truthy(old_legend.get("rightSide")):
            legend["placement"] = "right"
        if js.truthy(old_legend.get("values")):
            enabled = [k for k, v in old_legend.items() if js.truthy(v)]
            legend["calcs"] = [r for r in (reducer_id(k) for k in enabled) if r]
        if js.truthy(old_legend.get("sideWidth")):
            legend["width"] = old_legend["sideWidth"]
    old_tooltip = angular.get("tooltip")
    if js.truthy(old_tooltip) and isinstance(old_tooltip, dict):
        if "shared" in old_tooltip:
            tooltip["mode"] = "multi" if js.truthy(old_tooltip["shared"]) else "single"
        if "sort" in old_tooltip and js.truthy(old_tooltip.get("shared")):
            tooltip["sort"] = {1: "asc", 2: "desc"}.get(old_tooltip["sort"], "none")

    old_thresholds = angular.get("thresholds")
    if isinstance(old_thresholds, list) and old_thresholds:
        steps, area, line = _graph_thresholds(old_thresholds)
        mode = "area" if area else "line"
        if line and area:
            mode = "line+area"
        y1["custom"]["thresholdsStyle"] = {"mode": mode}
        y1["thresholds"] = {"mode": "absolute", "steps": steps}

    xaxis = angular.get("xaxis")
    xaxis = xaxis if isinstance(xaxis, dict) else {}
    if xaxis.get("show") is False and xaxis.get("mode") == "time":
        overrides.append(
            {
                "matcher": {"id": "byType", "options": "time"},
                "properties": [{"id": "custom.axisPlacement", "value": "hidden"}],
            }
        )
    return {"defaults": _omit_nil(y1), "overrides": overrides}, {"legend": legend, "tooltip": tooltip}


def _y2_properties(y1: dict[str, Any], y2: dict[str, Any], props: list[dict[str, Any]]) -> None:
    """`fillY2DynamicValues`: what the right axis sets differently from the left one (`!==`: objects always)."""
    for key, value in y2.items():
        if key != "custom" and not _same(value, y1.get(key)):
            props.append({"id": key, "value": value})
    y1_custom, y2_custom = y1.get("custom") or {}, y2.get("custom") or {}
    for key, value in y2_custom.items():
        if not _same(value, y1_custom.get(key)):
            props.append({"id": f"custom.{key}", "value": value})


def _same(a: Any, b: Any) -> bool:
    """JavaScript `===`: objects are never equal to a fresh copy."""
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return type(a) is type(b) and a == b


def _graph_thresholds(thresholds: list[Any]) -> tuple[list[dict[str, Any]], bool, bool]:
    def color(t: dict[str, Any]) -> Any:
        mode = t.get("colorMode")
        if mode == "critical":
            return "red"
        if mode == "warning":
            return "orange"
        if mode == "custom":
            return t.get("fillColor") or t.get("lineColor")
        return "red"

    items = sorted(
        (t for t in thresholds if isinstance(t, dict)), key=lambda t: js.number(t.get("value")) or 0
    )
    steps: list[dict[str, Any]] = []
    area = line = False
    for index, threshold in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        area = area or js.truthy(threshold.get("fill"))
        line = line or js.truthy(threshold.get("line"))
        if threshold.get("op") == "gt":
            steps.append({"value": threshold.get("value"), "color": color(threshold)})
        if threshold.get("op") == "lt":
            if not steps:
                steps.append({"value": None, "color": color(threshold)})  # -Infinity
            if (
                following
                and following.get("op") == "gt"
                and (js.number(following.get("value")) or 0) > (js.number(threshold.get("value")) or 0)
            ):
                steps.append({"value": threshold.get("value"), "color": "transparent"})
            elif following and following.get("op") == "lt":
                steps.append({"value": threshold.get("value"), "color": color(following)})
            else:
                steps.append({"value": threshold.get("value"), "color": "transparent"})
    if steps and steps[0]["value"] is not None:
        steps.insert(0, {"color": "transparent", "value": None})
    return steps, area, line


# --- table-old -> table (table/migrations.ts) -----------------------------------------------------------

_TRANSFORMS = {
    "timeseries_to_rows": "seriesToRows",
    "timeseries_to_columns": "seriesToColumns",
    "timeseries_aggregations": "reduce",
    "table": "merge",
}
_COLUMNS: dict[Any, str] = {
    "avg": "mean",
    "min": "min",
    "max": "max",
    "total": "sum",
    "current": "lastNotNull",
    "count": "count",
}
_COLOR_MODES = {"cell": "color-background", "row": "color-background", "value": "color-text"}


def _table_thresholds(thresholds: list[Any], colors: Any) -> list[dict[str, Any]]:
    colors = colors if isinstance(colors, list) else []
    steps = []
    for index, threshold in enumerate([None, *thresholds]):
        step: dict[str, Any] = {}
        if index < len(colors) and colors[index] is not None:
            step["color"] = colors[index]
        if index == 0:
            step["value"] = None  # -Infinity
        else:
            step["value"] = threshold if js.is_number(threshold) else js.parse_int(threshold)
        steps.append(step)
    return steps


def _table_style_override(style: dict[str, Any]) -> dict[str, Any]:
    pattern = style.get("pattern")
    regex = isinstance(pattern, str) and re.fullmatch(r"/.*/", pattern, re.DOTALL) is not None
    props: list[dict[str, Any]] = []
    if js.truthy(style.get("alias")):
        props.append({"id": "displayName", "value": style["alias"]})
    if js.truthy(style.get("unit")):
        props.append({"id": "unit", "value": style["unit"]})
    if js.truthy(style.get("decimals")):
        props.append({"id": "decimals", "value": style["decimals"]})
    if style.get("type") == "date":
        props.append({"id": "unit", "value": f"time: {_js_text(style.get('dateFormat'))}"})
    if style.get("type") == "hidden":
        props.append({"id": "custom.hidden", "value": True})
    if js.truthy(style.get("link")):
        link = {
            "title": style["linkTooltip"] if style.get("linkTooltip") is not None else "",
            "url": style["linkUrl"] if style.get("linkUrl") is not None else "",
            "targetBlank": style["linkTargetBlank"] if style.get("linkTargetBlank") is not None else False,
        }
        props.append({"id": "links", "value": [link]})
    if js.truthy(style.get("colorMode")):
        props.append(
            {"id": "custom.cellOptions", "value": _omit_nil({"type": _COLOR_MODES.get(style["colorMode"])})}
        )
    if js.truthy(style.get("align")):
        props.append({"id": "custom.align", "value": None if style["align"] == "auto" else style["align"]})
    if isinstance(style.get("thresholds"), list) and style["thresholds"]:
        steps = _table_thresholds(style["thresholds"], style.get("colors"))
        props.append({"id": "thresholds", "value": {"mode": "absolute", "steps": steps}})
    return {"matcher": {"id": "byRegexp" if regex else "byName", "options": pattern}, "properties": props}


def _js_text(value: Any) -> str:
    return "undefined" if value is None else str(value)


def _table_defaults(style: dict[str, Any] | None) -> dict[str, Any]:
    if style is None:
        return {"custom": {}}
    defaults = _omit_nil(
        {
            "unit": style.get("unit"),
            "decimals": style.get("decimals"),
            "displayName": style.get("alias"),
            "custom": {"align": None if style.get("align") == "auto" else style.get("align")},
        }
    )
    if isinstance(style.get("thresholds"), list) and style["thresholds"]:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": _table_thresholds(style["thresholds"], style.get("colors")),
        }
    if js.truthy(style.get("colorMode")):
        defaults["custom"]["cellOptions"] = _omit_nil({"type": _COLOR_MODES.get(style["colorMode"])})
    return defaults


def _table_old_to_table(panel: dict[str, Any], angular: dict[str, Any]) -> dict[str, Any]:
    transformations = list(panel.get("transformations") or [])
    transform = angular.get("transform")
    if transform in _TRANSFORMS:
        options: dict[str, Any] = {"reducers": []}
        if transform == "timeseries_aggregations":
            options["includeTimeField"] = False
            options["reducers"] = [
                _COLUMNS.get(c.get("value")) if isinstance(c, dict) else None
                for c in angular.get("columns") or []
            ]
        transformations.append({"id": _TRANSFORMS[transform], "options": options})
    styles = [s for s in angular.get("styles") or [] if isinstance(s, dict)]
    default_style = next((s for s in styles if s.get("pattern") == "/.*/"), None)
    panel["transformations"] = transformations
    panel["fieldConfig"] = {
        "defaults": _table_defaults(default_style),
        "overrides": [_table_style_override(s) for s in styles if s.get("pattern") != "/.*/"],
    }
    return {}


# --- singlestat -> stat (stat/StatMigrations.ts, SingleStatBaseOptions.ts) ------------------------------


def upgrade_value_mappings(old: list[Any], thresholds: dict[str, Any] | None) -> list[Any]:
    """Legacy value mappings (`type` 1 value→text, 2 range→text) in today's form, value maps merged first."""
    value_map: dict[str, Any] = {"type": "value", "options": {}}
    mappings: list[Any] = []
    has_values = False
    for mapping in old:
        if not isinstance(mapping, dict):
            continue
        if isinstance(mapping.get("type"), str) and mapping["type"]:
            if mapping["type"] == "value" and isinstance(mapping.get("options"), dict):
                value_map["options"].update(mapping["options"])
                has_values = True
            elif mapping["type"] != "value":
                mappings.append(mapping)
            continue
        color = None
        numeric = js.parse_float(mapping.get("text")) if mapping.get("text") is not None else None
        if thresholds and numeric is not None:
            color = _active_threshold_color(numeric, thresholds.get("steps") or [])
        result = _omit_nil({"text": mapping.get("text"), "color": color})
        kind = js.parse_int(mapping.get("type")) if mapping.get("type") is not None else None
        if kind == 1:
            value = mapping.get("value")
            if value is None:
                continue
            if value == "null":
                mappings.append({"type": "special", "options": {"match": "null", "result": result}})
            else:
                value_map["options"][_js_string(value)] = result
                has_values = True
        elif kind == 2:
            low, high = js.number(mapping.get("from")), js.number(mapping.get("to"))
            mappings.append(
                {
                    "type": "range",
                    "options": _omit_nil({"from": js.saved(low), "to": js.saved(high), "result": result}),
                }
            )
    return [value_map, *mappings] if has_values else mappings


def _js_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _active_threshold_color(value: float, steps: list[Any]) -> Any:
    """`getActiveThreshold(value, steps).color` (the base step's value is -Infinity)."""
    steps = [s for s in steps if isinstance(s, dict)]
    if not steps:
        return "#808080"
    active = steps[0]
    for step in steps:
        bound = step.get("value")
        low = -math.inf if bound is None else js.number(bound)
        if low is not None and value >= low:
            active = step
        else:
            break
    return active.get("color")


def _singlestat_to_stat(panel: dict[str, Any], angular: dict[str, Any]) -> dict[str, Any]:
    reducer = reducer_id(angular.get("valueName"))
    options: dict[str, Any] = {"reduceOptions": {"calcs": [reducer or "mean"]}, "orientation": "horizontal"}
    defaults: dict[str, Any] = {}
    if js.truthy(angular.get("format")):
        defaults["unit"] = angular["format"]
    if js.truthy(angular.get("tableColumn")):
        options["reduceOptions"]["fields"] = f"/^{angular['tableColumn']}$/"
    if js.truthy(angular.get("nullPointMode")):
        defaults["nullValueMode"] = angular["nullPointMode"]
    if js.truthy(angular.get("nullText")):
        defaults["noValue"] = angular["nullText"]
    if js.truthy(angular.get("decimals")) or angular.get("decimals") == 0:
        defaults["decimals"] = angular["decimals"]
    if js.truthy(angular.get("thresholds")) and js.truthy(angular.get("colors")):
        levels = [js.number(s.strip()) for s in str(angular["thresholds"]).split(",")]
        steps: list[dict[str, Any]] = []
        for color in angular["colors"] if isinstance(angular["colors"], list) else []:
            index = len(steps) - 1
            if index >= 0:
                step: dict[str, Any] = {"color": color}
                if index < len(levels):
                    step["value"] = js.saved(levels[index])
                steps.append(step)
            else:
                steps.append({"value": None, "color": color})  # -Infinity
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    mappings = _singlestat_mappings(angular, defaults.get("thresholds"))
    if mappings:
        defaults["mappings"] = mappings
    gauge = angular.get("gauge")
    if isinstance(gauge, dict) and js.truthy(gauge.get("show")):
        defaults["min"] = gauge.get("minValue")
        defaults["max"] = gauge.get("maxValue")
    panel["fieldConfig"]["defaults"] = defaults
    sparkline = angular.get("sparkline")
    options["graphMode"] = (
        "area" if isinstance(sparkline, dict) and js.truthy(sparkline.get("show")) else "none"
    )
    if js.truthy(angular.get("colorBackground")):
        options["colorMode"] = "background"
    elif js.truthy(angular.get("colorValue")):
        options["colorMode"] = "value"
    else:
        options["colorMode"] = "none"
    if angular.get("valueName") == "name":
        options["textMode"] = "name"
    return options


def _singlestat_mappings(angular: dict[str, Any], thresholds: dict[str, Any] | None) -> list[Any]:
    """`convertOldAngularValueMappings`: valueMaps or rangeMaps, as the panel's mappingType chose."""
    kind = angular.get("mappingType")
    value_maps = angular.get("valueMaps")
    value_maps = value_maps if isinstance(value_maps, list) else []
    range_maps = angular.get("rangeMaps")
    range_maps = range_maps if isinstance(range_maps, list) else []
    if not js.truthy(kind):
        kind = 1 if value_maps else 2 if range_maps else None
    if kind == 1:
        legacy = [{**m, "id": i, "type": 1} for i, m in enumerate(value_maps) if isinstance(m, dict)]
    elif kind == 2:
        legacy = [{**m, "id": i, "type": 2} for i, m in enumerate(range_maps) if isinstance(m, dict)]
    else:
        return []
    return upgrade_value_mappings(legacy, thresholds)


_HANDLERS = {
    ("graph", "timeseries"): _graph_to_timeseries,
    ("table-old", "table"): _table_old_to_table,
    ("singlestat", "stat"): _singlestat_to_stat,
    ("grafana-singlestat-panel", "stat"): _singlestat_to_stat,
}
# Angular panels Grafana migrates on load with handlers this port does not have: kept as they are.
NOT_PORTED = {k: v for k, v in AUTO_MIGRATE.items() if (k, v) not in _HANDLERS}
