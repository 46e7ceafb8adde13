"""The typed helpers, where they give back exactly the panel, query or variable being imported.

Each function reads the helper's arguments off the JSON, evaluates that call, and keeps it only when what
the build writes for it equals the JSON (otherwise the importer writes the lossless `panel()`/`target()`/
`variable()` form). Dashboards lgtm-dash built come back as the helper calls that made them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grafanalib.core import Dashboard, Templating

from ..model.dashboard import dashboard_json
from ..model.panels import (
    LokiQuery,
    PromQuery,
    SqlQuery,
    bar_gauge,
    logs,
    loki_target,
    pie_chart,
    prom_target,
    sql_target,
    stat,
    table,
    thresholds,
    timeseries,
)
from ..model.variables import ALL, custom_variable, datasource_variable, query_variable, textbox
from .pysource import Call, evaluate

if TYPE_CHECKING:
    from .dashboards import PanelWriter, References

TYPED_QUERIES = (PromQuery, LokiQuery, SqlQuery)


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    """The call without the keyword arguments that equal the helper's defaults (they add nothing to read)."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    kept = {k: v for k, v in kwargs.items() if k not in defaults or _plain(v) != _plain(defaults[k])}
    return Call(fn, args, kept)


def _plain(value: Any) -> Any:
    value = evaluate(value)
    return [_plain(v) for v in value] if isinstance(value, tuple | list) else value


def typed_target(data: dict[str, Any], position: int) -> Call | None:
    """`prom_target(...)`, `loki_target(...)` or `sql_target(...)` when one writes exactly `data`."""
    if data.get("refId") != chr(ord("A") + position) or position >= 26:
        return None
    legend = data.get("legendFormat", "")
    if isinstance(data.get("expr"), str) and "queryType" in data:
        args = (data["expr"], legend) if legend else (data["expr"],)
        call = _call(loki_target, args, {"instant": data.get("queryType") == "instant"})
    elif isinstance(data.get("expr"), str):
        args = (data["expr"], legend) if legend else (data["expr"],)
        if data.get("format") == "table":
            call = _call(prom_target, args, {"table": True})
        else:
            call = _call(prom_target, args, {"instant": data.get("instant") is True})
    elif isinstance(data.get("rawSql"), str):
        call = _call(sql_target, (data["rawSql"],), {"format": data.get("format", "time_series")})
    else:
        return None
    text = call.args[0]
    if text != text.strip() or "\n" in text:  # the helpers dedent and strip what they are given
        return None
    built = evaluate(call).to_json_data()
    built["refId"] = built["refId"] or chr(ord("A") + position)
    return call if built == data else None


# --- panels --------------------------------------------------------------------------------------------


def _defaults(data: dict[str, Any]) -> dict[str, Any]:
    config = data.get("fieldConfig")
    config = config if isinstance(config, dict) else {}
    value = config.get("defaults")
    return value if isinstance(value, dict) else {}


def _overrides(data: dict[str, Any]) -> list[Any]:
    config = data.get("fieldConfig")
    config = config if isinstance(config, dict) else {}
    value = config.get("overrides")
    return value if isinstance(value, list) else []


def _options(data: dict[str, Any]) -> dict[str, Any]:
    value = data.get("options")
    return value if isinstance(value, dict) else {}


def _colors(defaults: dict[str, Any]) -> Call | None:
    steps = (defaults.get("thresholds") or {}).get("steps")
    if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
        return None
    return Call(thresholds, tuple((s.get("color"), s.get("value")) for s in steps))


def _timeseries(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    defaults, options = _defaults(data), _options(data)
    custom = defaults.get("custom")
    custom = custom if isinstance(custom, dict) else {}
    legend = options.get("legend")
    legend = legend if isinstance(legend, dict) else {}
    bars = custom.get("drawStyle") == "bars"
    kwargs = {
        **common,
        "stack": (custom.get("stacking") or {}).get("mode") == "normal",
        "bars": bars,
        "fill": 10 if bars else custom.get("fillOpacity", 10),
        "legend_calcs": tuple(legend.get("calcs") or ()),
        "legend_table": legend.get("displayMode") == "table",
        "overrides": _overrides(data),
        "links": data.get("links") or (),
        "min_value": defaults.get("min"),
        "max_value": defaults.get("max"),
    }
    return _call(timeseries, args, kwargs)


def _stat(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    defaults, options = _defaults(data), _options(data)
    calcs = (options.get("reduceOptions") or {}).get("calcs") or ["lastNotNull"]
    kwargs = {
        **common,
        "colors": _colors(defaults),
        "reduce": calcs[0],
        "sparkline": options.get("graphMode") != "none",
        "decimals": defaults.get("decimals"),
        "overrides": _overrides(data),
        "links": data.get("links") or (),
    }
    return _call(stat, args, kwargs)


def _bar_gauge(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    defaults, options = _defaults(data), _options(data)
    reduce = options.get("reduceOptions") or {}
    kwargs = {
        **common,
        "colors": _colors(defaults),
        "reduce": (reduce.get("calcs") or ["lastNotNull"])[0],
        "all_values": bool(reduce.get("values")),
        "links": defaults.get("links") or (),
    }
    return _call(bar_gauge, args, kwargs)


def _table(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    sort = (_options(data).get("sortBy") or [{}])[0]
    kwargs = {
        **common,
        "overrides": _overrides(data),
        "transformations": data.get("transformations") or (),
        "sort_by": sort.get("displayName"),
        "descending": sort.get("desc", True),
    }
    return _call(table, args, kwargs)


def _pie_chart(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    return _call(pie_chart, args, {**common, "overrides": _overrides(data)})


def _logs(data: dict[str, Any], args: tuple[Any, ...], common: dict[str, Any]) -> Call:
    return _call(logs, args, {k: v for k, v in common.items() if k != "unit"})


PANEL_HELPERS: dict[str, Callable[[dict[str, Any], tuple[Any, ...], dict[str, Any]], Call]] = {
    "timeseries": _timeseries,
    "stat": _stat,
    "bargauge": _bar_gauge,
    "table": _table,
    "piechart": _pie_chart,
    "logs": _logs,
}


def typed_panel(data: dict[str, Any], writer: PanelWriter) -> Call | None:
    """A typed panel helper (`timeseries`, `stat`...) that writes `data` (its id and position aside)."""
    from .dashboards import built_panels, canonical

    helper = PANEL_HELPERS.get(str(data.get("type")))
    targets = data.get("targets")
    datasource = data.get("datasource")
    if helper is None or not isinstance(targets, list) or not targets or not isinstance(datasource, dict):
        return None
    queries = [typed_target(t, i) if isinstance(t, dict) else None for i, t in enumerate(targets)]
    if any(q is None for q in queries):
        return None
    unit = _defaults(data).get("unit")
    args = (data.get("title", ""), *queries)
    common: dict[str, Any] = {
        "datasource": writer.refs.name(datasource),
        "unit": unit,
        "description": data.get("description", ""),
    }
    try:
        call = helper(data, args, common)
        built = built_panels([evaluate(call)])[0]
    except Exception:  # arguments the helper refuses: not this helper's panel
        return None
    wanted = {k: v for k, v in data.items() if k not in ("id", "gridPos")}
    built = {k: v for k, v in built.items() if k not in ("id", "gridPos")}
    return call if canonical(built) == canonical(wanted) else None


# --- variables ------------------------------------------------------------------------------------------


def typed_variable(data: dict[str, Any], refs: References) -> Call | None:
    """`query_variable`, `custom_variable`, `textbox` or `datasource_variable` when one writes `data`."""
    from .dashboards import canonical

    kind = data.get("type")
    name = data.get("name")
    if not isinstance(name, str):
        return None
    current = data.get("current")
    current = current if isinstance(current, dict) else {}
    label = data.get("label")
    call: Call | None = None
    if kind == "query" and isinstance(data.get("query"), str) and isinstance(data.get("datasource"), dict):
        default = current.get("value") if current else None
        call = _call(
            query_variable,
            (name, data["query"]),
            {
                "datasource": refs.name(data["datasource"]),
                "label": label,
                "multi": bool(data.get("multi")),
                "include_all": bool(data.get("includeAll")),
                "all_value": data.get("allValue"),
                "default": default if isinstance(default, str) else None,
                "regex": data.get("regex"),
            },
        )
    elif kind == "custom" and isinstance(data.get("query"), str):
        values = [v for v in data["query"].split(",")]
        call = _call(
            custom_variable,
            (name, values),
            {
                "label": label,
                "multi": bool(data.get("multi")),
                "include_all": bool(data.get("includeAll")),
                "all_value": data.get("allValue"),
                "default": current.get("value") if current.get("value") not in (None, ALL) else None,
            },
        )
    elif kind == "textbox":
        call = _call(textbox, (name,), {"label": label, "default": data.get("query", "")})
    elif kind == "datasource" and isinstance(data.get("query"), str):
        chosen = refs.project.datasource(str(current.get("value"))) if current else None
        if chosen is None:
            return None
        alias = refs.alias_of(chosen)
        call = _call(
            datasource_variable,
            (name, data["query"]),
            {"default": alias, "label": label, "regex": data.get("regex")},
        )
    if call is None:
        return None
    try:
        board = Dashboard(title="x", uid="x", templating=Templating([evaluate(call)]))
        built = dashboard_json(board)["templating"]["list"][0]
    except Exception:
        return None
    return call if canonical(built) == canonical(data) else None
