"""Dashboards: a grafanalib `Dashboard` placed in a folder, rendered to modern, null-free Grafana JSON.

grafanalib (0.7) still writes fields of Grafana 4-7 (schemaVersion 12, `rows`, `style`, `hideControls`,
`sharedCrosshair`, the old bar-gauge `fieldOptions`, variable tags...) and `null` for every unset option.
`dashboard_json()` is the one place that turns its output into what a current Grafana saves; the panel and
variable helpers live in `panels.py` and `variables.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard

from ..artifacts import LINT_IGNORE_KEY
from ..errors import DefinitionError
from ..source import SourceLocation, caller_location, location_of
from .folder import Folder
from .panels import RawPanel
from .uid import check_uid
from .variables import RawVariable

# Objects written exactly as given (imported dashboards): never modernised.
VERBATIM_TYPES = (RawPanel, RawVariable)

SCHEMA_VERSION = 41
# Every dashboard built here carries this tag: `publish --prune` only ever deletes dashboards that have it.
MANAGED_TAG = "lgtm-dash"


def strip_nulls(value: Any, *, in_steps: bool = False) -> Any:
    """Drop `null`s grafanalib emits for every unset option, so diffs stay small.

    The one `null` Grafana itself saves is kept: a threshold step's value (the base step has no lower bound).
    """
    if isinstance(value, dict):
        return {
            k: strip_nulls(v, in_steps=k == "steps")
            for k, v in value.items()
            if v is not None or (in_steps and k == "value")
        }
    if isinstance(value, list):
        return [strip_nulls(v, in_steps=in_steps) for v in value]
    return value


# Values JSON writes and reads back as they are (exactly these types: not their subclasses).
_ATOMS = frozenset({str, int, float, bool})
_JSON_TYPES = (str, int, float, dict, list, tuple)


def plain_json(value: Any, *, in_steps: bool = False) -> Any:
    """What `strip_nulls(json.loads(json.dumps(value, cls=DashboardEncoder)))` returns, in one walk.

    New containers throughout (the later modernising edits never reach grafanalib's objects); objects become
    what their `to_json_data()` returns, as grafanalib's encoder writes them; what JSON would turn into
    something else (a non-string key, a subclass of str, int or dict) takes that round trip itself.
    """
    kind = type(value)
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                return _round_trip(value, in_steps)
            if item is None:
                if in_steps and key == "value":
                    out[key] = None
                continue
            if type(item) not in _ATOMS:
                item = plain_json(item, in_steps=key == "steps")
                if item is None and not (in_steps and key == "value"):
                    continue
            out[key] = item
        return out
    if kind is list or kind is tuple:
        return [item if type(item) in _ATOMS else plain_json(item, in_steps=in_steps) for item in value]
    if kind in _ATOMS or value is None:
        return value
    to_json_data = getattr(value, "to_json_data", None)
    if to_json_data is not None and not isinstance(value, _JSON_TYPES):
        return plain_json(to_json_data(), in_steps=in_steps)
    return _round_trip(value, in_steps)


def _round_trip(value: Any, in_steps: bool) -> Any:
    return strip_nulls(json.loads(json.dumps(value, cls=DashboardEncoder)), in_steps=in_steps)


# Dashboard keys of Grafana < 5 (rows, style...) or instance state that only makes diffs noisy (id, version).
LEGACY_DASHBOARD_KEYS = (
    "__inputs",
    "__requires",
    "rows",
    "style",
    "hideControls",
    "sharedCrosshair",
    "id",
    "version",
    "gnetId",
)
# Panel keys Grafana dropped long ago; grafanalib's fixed maxDataPoints=100 would also cap every graph's resolution.
_LEGACY_PANEL_KEYS = ("editable", "error", "height", "span", "minSpan", "maxDataPoints", "cacheTimeout")
# The Grafana 7 table's options, superseded by fieldConfig.
_LEGACY_TABLE_KEYS = ("columns", "fontSize", "mappings", "color")
# Keys that only mean something at their default are dropped when they hold it.
_PANEL_DEFAULTS = {
    "hideTimeOverride": False,
    "transparent": False,
    "links": [],
    "transformations": [],
    "description": "",
}
_ROW_KEYS = ("type", "title", "id", "gridPos", "collapsed", "panels", "repeat")
# What `Board.extra` may not override: the dashboard's identity and what the build decides.
_FIXED_KEYS = {"uid", "title", "schemaVersion", "tags"}
_VARIABLE_TAG_KEYS = ("useTags", "tagsQuery", "tagValuesQuery")
_INTERVAL_KEYS = ("auto", "auto_min", "auto_count")


def dashboard_json(
    dashboard: Dashboard, extra: Mapping[str, Any] | None = None, unset: Iterable[str] = ()
) -> dict[str, Any]:
    """Modern JSON of `dashboard`; `extra` keys are written as given, `unset` keys left out (see `Board`)."""
    data = plain_json(dashboard.to_json_data())
    for key in LEGACY_DASHBOARD_KEYS:
        data.pop(key, None)
    for key in ("description", "links"):
        if not data.get(key):
            data.pop(key, None)
    data.get("timepicker", {}).pop("time_options", None)  # Grafana 7's quick ranges, not read any more
    data["panels"] = [
        _modern_panel(panel, source)
        for panel, source in zip(data.get("panels", []), _objects(dashboard.panels, data.get("panels")))
    ]
    variables = data.get("templating", {}).get("list", [])
    for variable, source in zip(variables, _objects(dashboard.templating.list, variables)):
        if not isinstance(source, VERBATIM_TYPES):
            _modern_variable(variable)
    for key in unset:
        data.pop(key, None)
    data.update(strip_nulls(dict(extra or {})))
    data["schemaVersion"] = SCHEMA_VERSION
    data["tags"] = sorted(set(data.get("tags") or []) | {MANAGED_TAG})
    return data


def _objects(objects: Any, rendered: Any) -> list[Any]:
    """The Python objects behind rendered JSON items (same order), or Nones when they do not line up."""
    objects = list(objects or [])
    return objects if len(objects) == len(rendered or []) else [None] * len(rendered or [])


def _modern_panel(panel: dict[str, Any], source: Any = None) -> dict[str, Any]:
    if isinstance(source, VERBATIM_TYPES):
        return panel  # written by `panel()`: exactly as given
    if panel.get("type") == "row":
        row = {key: panel[key] for key in _ROW_KEYS if key in panel}
        nested = _objects(getattr(source, "panels", None), row.get("panels"))
        row["panels"] = [_modern_panel(p, s) for p, s in zip(row.get("panels", []), nested)]
        return row
    for key in _LEGACY_PANEL_KEYS:
        panel.pop(key, None)
    for key, default in _PANEL_DEFAULTS.items():
        if panel.get(key) == default:
            panel.pop(key)
    if "repeat" not in panel:
        panel.pop("repeatDirection", None)
        panel.pop("maxPerRow", None)
    if panel.get("type") == "table":
        for key in _LEGACY_TABLE_KEYS:
            panel.pop(key, None)
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
        if "displayMode" in custom:  # Grafana 10 replaced the cell display mode with cellOptions
            custom["cellOptions"] = {"type": custom.pop("displayMode")}
    if panel.get("type") == "bargauge":
        _modern_bar_gauge(panel)
    config = panel.setdefault("fieldConfig", {})
    defaults = config.setdefault("defaults", {})
    config.setdefault("overrides", [])
    _modern_thresholds(defaults)
    for key in ("mappings", "links", "custom"):
        if defaults.get(key) in ([], {}):
            defaults.pop(key)
    return panel


def _modern_thresholds(defaults: dict[str, Any]) -> None:
    steps = defaults.get("thresholds", {}).get("steps")
    if not isinstance(steps, list) or not steps:
        defaults.pop("thresholds", None)  # Grafana fills in its default scale
        return
    steps = [{"color": step["color"], "value": step.get("value")} for step in steps]
    # The first step is Grafana's base step: it has no lower bound, which Grafana itself saves as null.
    steps[0]["value"] = None
    defaults["thresholds"]["steps"] = steps


def _modern_bar_gauge(panel: dict[str, Any]) -> None:
    """grafanalib writes Grafana 6's `options.fieldOptions`; move it to reduceOptions and fieldConfig."""
    options = panel.setdefault("options", {})
    legacy = options.pop("fieldOptions", {})
    options.pop("showThresholdLabels", None)  # gauge options, not bar gauge ones
    options.pop("showThresholdMarkers", None)
    reduce = {
        "calcs": legacy.get("calcs", ["lastNotNull"]),
        "values": legacy.get("values", False),
        "fields": "",
    }
    if "limit" in legacy:
        reduce["limit"] = legacy["limit"]
    options["reduceOptions"] = reduce
    options.setdefault("showUnfilled", True)
    defaults = panel.setdefault("fieldConfig", {}).setdefault("defaults", {})
    for key, value in legacy.get("defaults", {}).items():
        if key in ("unit", "decimals", "min", "max", "links"):
            defaults.setdefault(key, value)


def _modern_variable(variable: dict[str, Any]) -> None:
    for key in _VARIABLE_TAG_KEYS:
        variable.pop(key, None)
    kind = variable.get("type")
    if kind != "interval":
        for key in _INTERVAL_KEYS:
            variable.pop(key, None)
    if kind not in ("query", "datasource"):
        variable.pop("refresh", None)
        variable.pop("sort", None)
    current = variable.get("current")
    if isinstance(current, dict):
        current.pop("tags", None)
        if "text" not in current or "value" not in current:
            variable.pop("current")  # no default: Grafana selects the first value


@dataclass(frozen=True)
class Board:
    """What a dashboards/ module exposes as `dashboard`."""

    dashboard: Dashboard
    folder: Folder
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    # Rule ids or prefixes lint skips for the whole dashboard: its top-level `lintIgnore` (see README, Lint).
    lint_ignore: tuple[str, ...] = ()
    # Dashboard keys grafanalib has no attribute for, written as given (`{"fiscalYearStartMonth": 1}`)...
    extra: Mapping[str, Any] = field(default_factory=dict)
    # ...and keys grafanalib always writes that this dashboard leaves out (`("annotations", "editable")`).
    unset: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_uid(self.dashboard.uid, f"dashboard {self.dashboard.title!r}", self.location)
        check_lint_ignore(self.lint_ignore, self.location)
        fixed = sorted(set(self.extra) & _FIXED_KEYS)
        if fixed:
            raise DefinitionError(
                f"dashboard {self.dashboard.uid!r}: extra may not set {', '.join(fixed)} (use Dashboard(...))",
                self.location,
            )

    @property
    def uid(self) -> str:
        return self.dashboard.uid

    @property
    def title(self) -> str:
        return self.dashboard.title

    def to_json(self) -> dict[str, Any]:
        data = dashboard_json(self.dashboard, self.extra, self.unset)
        if self.lint_ignore:
            data[LINT_IGNORE_KEY] = list(self.lint_ignore)
        return data

    def source_map(self) -> dict[str, SourceLocation]:
        """`panel:<id>` for every panel whose constructor recorded its definition line."""
        entries: dict[str, SourceLocation] = {}
        panels = list(self.dashboard.panels or [])
        for row in [*(self.dashboard.rows or []), *panels]:
            panels.extend(getattr(row, "panels", []) or [])  # legacy rows and collapsed row panels
        for panel in panels:
            loc = location_of(panel)
            if loc is not None and getattr(panel, "id", None) is not None:
                entries[f"panel:{panel.id}"] = loc
        return entries


def check_lint_ignore(ids: object, location: SourceLocation) -> None:
    """`lint_ignore=` is a tuple of rule ids or prefixes (a lone string would be split into characters)."""
    if isinstance(ids, str) or not isinstance(ids, tuple | list) or not all(isinstance(i, str) for i in ids):
        raise DefinitionError(f"lint_ignore must be a tuple of rule ids, not {ids!r}", location)
