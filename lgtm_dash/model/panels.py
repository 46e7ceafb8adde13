"""Panels as the screen reads them: thin helpers over grafanalib's modern panels, their queries, and a row layout.

A dashboard module writes `layout(row("Title", timeseries(...), stat(...)), row(...))`: panels are placed left
to right, rows top to bottom on Grafana's 24-column grid, ids are numbered in that order. Every helper records
the line that called it, so `Board.source_map()` points each panel at the exact line of the dashboard module.

Numeric panels take a mandatory `unit` (Grafana unit id: "reqps", "percentunit", "ms", "bytes", "short"...;
an unknown one is an error that suggests the likely id) and `colors=thresholds(...)`: the colour scale of a stat
or bar gauge, the cell colours of a table, the threshold lines or areas of a time series (`threshold_style`).
Every panel helper takes `lint_ignore=("rule/id", ...)` to silence lint rules for that panel.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import attr
from grafanalib.core import BarGauge, GridPos, Logs, Panel, PieChartv2, RowPanel, Stat, Table, TimeSeries

from ..artifacts import LINT_IGNORE_KEY
from ..errors import DefinitionError
from ..lint.units import is_valid_unit, suggest_unit
from ..source import SourceLocation, caller_location, location_of, record

GRID_WIDTH = 24
DEFAULT_HEIGHT = 8
ROW_HEADER_HEIGHT = 1

DatasourceRef = Mapping[str, str]
Thresholds = Sequence[tuple[str, float | None]]
# A neutral single-colour scale: panels whose colour carries no meaning.
NEUTRAL: Thresholds = (("green", None),)

# --- Queries ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromQuery:
    """A PromQL query (Mimir, Thanos, Prometheus)."""

    expr: str
    legend: str = ""
    instant: bool = False
    ref_id: str = ""
    # Table format: one row per series (labels as columns), for Table panels.
    table: bool = False

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "refId": self.ref_id,
            "expr": self.expr,
            "editorMode": "code",
            "range": not self.instant,
            "instant": self.instant,
        }
        if self.legend:
            data["legendFormat"] = self.legend
        if self.table:
            data["format"] = "table"
        return data


@dataclass(frozen=True)
class LokiQuery:
    """A LogQL query: a log query for a Logs panel, or a metric query."""

    expr: str
    legend: str = ""
    instant: bool = False
    ref_id: str = ""

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "refId": self.ref_id,
            "expr": self.expr,
            "editorMode": "code",
            "queryType": "instant" if self.instant else "range",
        }
        if self.legend:
            data["legendFormat"] = self.legend
        return data


@dataclass(frozen=True)
class SqlQuery:
    """Raw SQL for Grafana's SQL datasources (macros such as `$__timeFilter(col)` are expanded by Grafana)."""

    sql: str
    format: Literal["time_series", "table"] = "time_series"
    ref_id: str = ""

    def to_json_data(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "rawSql": self.sql,
            "format": self.format,
            "rawQuery": True,
            "editorMode": "code",
        }


Query = PromQuery | LokiQuery | SqlQuery
QUERY_TYPES = (PromQuery, LokiQuery, SqlQuery)


def prom_target(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> PromQuery:
    return record(PromQuery(_dedent(expr), legend, instant or table, table=table))


def loki_target(expr: str, legend: str = "", *, instant: bool = False) -> LokiQuery:
    return record(LokiQuery(_dedent(expr), legend, instant))


def sql_target(sql: str, *, format: Literal["time_series", "table"] = "time_series") -> SqlQuery:
    return record(SqlQuery(_dedent(sql), format))


def _dedent(text: str) -> str:
    """Queries written as indented triple-quoted strings: drop the common indentation and outer blank lines."""
    return textwrap.dedent(text).strip()


def _with_ref_ids(targets: Iterable[Query]) -> list[Query]:
    """Give the targets refIds A, B, C... in order, keeping where each was written."""
    named: list[Query] = []
    for index, target in enumerate(targets):
        if not isinstance(target, QUERY_TYPES):
            raise DefinitionError(f"not a query: {target!r}", caller_location())
        renamed = _with_ref_id(target, chr(ord("A") + index))
        record(renamed, location_of(target))
        named.append(renamed)
    return named


def _with_ref_id(query: Query, ref_id: str) -> Query:
    """`dataclasses.replace(query, ref_id=ref_id)` for the query classes above (frozen, no __post_init__),
    at a fraction of its cost: every panel of every dashboard goes through here."""
    if type(query) not in QUERY_TYPES:  # a subclass may do more in __init__
        return dataclasses.replace(query, ref_id=ref_id)
    renamed = object.__new__(type(query))
    renamed.__dict__.update(query.__dict__, ref_id=ref_id)
    return renamed


# --- Field config pieces ------------------------------------------------------------------------------------


def thresholds(*steps: tuple[str, float | None]) -> Thresholds:
    """`thresholds(("green", None), ("red", 0.05))`: the first step is Grafana's base (value null)."""
    if not steps or steps[0][1] is not None:
        raise DefinitionError("the first threshold step is the base step: (colour, None)", caller_location())
    return tuple(steps)


def _threshold_steps(steps: Thresholds | None) -> list[dict[str, Any]]:
    return [{"color": color, "value": value} for color, value in steps or ()]


# How a time series draws its `colors` thresholds (Grafana's "Show thresholds").
ThresholdStyle = Literal["off", "line", "dashed", "area", "line+area", "dashed+area"]
THRESHOLD_STYLES = ("off", "line", "dashed", "area", "line+area", "dashed+area")


def _unit(unit: str) -> str:
    """A Grafana unit id, or a one-line error at the panel's line (with the likely intended unit)."""
    if is_valid_unit(unit):
        return unit
    guess = suggest_unit(unit)
    hint = f"did you mean `{guess}`?" if guess else "see the unit picker in Grafana, or write `suffix:<text>`"
    raise DefinitionError(f"unknown unit {unit!r} ({hint})", caller_location())


def series_color(name: str, color: str) -> dict[str, Any]:
    """Override: the series (or field) called `name` always gets `color` (e.g. a log level)."""
    return field_override(name, color={"mode": "fixed", "fixedColor": color})


def field_override(name: str, **properties: Any) -> dict[str, Any]:
    """Override properties of the field called `name`: `field_override("trace_id", links=[...])`.

    Property ids with dots are written with `__`: `custom__hidden=True` sets `custom.hidden`.
    """
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key.replace("__", "."), "value": value} for key, value in properties.items()],
    }


def regex_override(pattern: str, **properties: Any) -> dict[str, Any]:
    """Override properties of every series whose name matches `pattern`."""
    return {
        "matcher": {"id": "byRegexp", "options": pattern},
        "properties": [{"id": key.replace("__", "."), "value": value} for key, value in properties.items()],
    }


def data_link(title: str, url: str, *, new_tab: bool = False) -> dict[str, Any]:
    """A data link on values (`${__value.raw}`, `${__field.labels.x}`, `${__data.fields.y}` in `url`)."""
    return {"title": title, "url": url, "targetBlank": new_tab}


# --- Panels ---------------------------------------------------------------------------------------------------


def _size(width: int | None, height: int | None) -> GridPos:
    """The requested size; `layout()` places the panel. Zero means "share the row" / "the row's height"."""
    if width is not None and not 1 <= width <= GRID_WIDTH:
        raise DefinitionError(f"panel width {width} is outside 1..{GRID_WIDTH}", caller_location())
    if height is not None and height < 1:
        raise DefinitionError(f"panel height {height} must be positive", caller_location())
    return GridPos(h=height or 0, w=width or 0, x=0, y=0)


def _panel(cls: type[Panel], title: str, targets: Sequence[Query], **kwargs: Any) -> Any:
    width, height = kwargs.pop("width", None), kwargs.pop("height", None)
    description = kwargs.pop("description", "")
    links = kwargs.pop("links", ())
    panel = cls(
        title=title,
        targets=_with_ref_ids(targets),
        gridPos=_size(width, height),
        description=description or None,
        links=list(links),
        **kwargs,
    )
    return record(panel)


def lint_ignorable(helper: Any) -> Any:
    """Let a panel helper take `lint_ignore=("promql/rate-interval", ...)`: rule ids or prefixes lint skips for
    this panel. They travel in the panel's `options.lintIgnore`, which Grafana keeps (see README, Lint)."""

    @functools.wraps(helper)
    def with_lint_ignore(*args: Any, lint_ignore: Sequence[str] = (), **kwargs: Any) -> Any:
        panel = helper(*args, **kwargs)
        if isinstance(lint_ignore, str) or not all(isinstance(i, str) for i in lint_ignore):
            raise DefinitionError(
                "lint_ignore must be a tuple of rule ids", location_of(panel) or caller_location()
            )
        if not lint_ignore:
            return panel
        extra = dict(panel.extraJson or {})
        extra["options"] = {**extra.get("options", {}), LINT_IGNORE_KEY: list(lint_ignore)}
        return record(attr.evolve(panel, extraJson=extra), location_of(panel))

    signature = inspect.signature(helper)
    ignore = inspect.Parameter(
        "lint_ignore", inspect.Parameter.KEYWORD_ONLY, default=(), annotation="Sequence[str]"
    )
    # typeshed's function type has no __signature__ (inspect.signature reads it all the same).
    with_lint_ignore.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), ignore]
    )
    return with_lint_ignore


@lint_ignorable
def timeseries(
    title: str,
    *targets: Query,
    datasource: DatasourceRef,
    unit: str,
    description: str = "",
    stack: bool = False,
    fill: int = 10,
    bars: bool = False,
    legend_calcs: Sequence[str] = (),
    legend_table: bool = False,
    overrides: Sequence[Mapping[str, Any]] = (),
    links: Sequence[Mapping[str, Any]] = (),
    min_value: int | None = None,
    max_value: int | None = None,
    colors: Thresholds | None = None,
    threshold_style: ThresholdStyle = "line",
    width: int | None = None,
    height: int | None = None,
) -> TimeSeries:
    """A time series graph (lines, or bars with `bars=True`); `stack=True` stacks the series.

    `colors=thresholds(...)` draws the thresholds as `threshold_style` (line, dashed, area, line+area...).
    """
    if threshold_style not in THRESHOLD_STYLES:
        raise DefinitionError(
            f"threshold_style {threshold_style!r} is not one of {', '.join(THRESHOLD_STYLES)}",
            caller_location(),
        )
    return _panel(
        TimeSeries,
        title,
        targets,
        dataSource=dict(datasource),
        unit=_unit(unit),
        thresholds=_threshold_steps(colors),
        thresholdsStyleMode=threshold_style if colors else "off",
        description=description,
        stacking={"mode": "normal" if stack else "none", "group": "A"},
        fillOpacity=100 if bars else fill,
        drawStyle="bars" if bars else "line",
        showPoints="never",
        lineInterpolation="smooth" if not bars else "linear",
        legendCalcs=list(legend_calcs),
        legendDisplayMode="table" if legend_table else "list",
        tooltipMode="multi",
        tooltipSort="desc",
        overrides=[dict(o) for o in overrides],
        links=links,
        valueMin=min_value,
        valueMax=max_value,
        width=width,
        height=height,
    )


@lint_ignorable
def stat(
    title: str,
    *targets: Query,
    datasource: DatasourceRef,
    unit: str,
    description: str = "",
    colors: Thresholds = NEUTRAL,
    reduce: str = "lastNotNull",
    sparkline: bool = True,
    decimals: int | None = None,
    overrides: Sequence[Mapping[str, Any]] = (),
    links: Sequence[Mapping[str, Any]] = (),
    width: int | None = None,
    height: int | None = None,
) -> Stat:
    """A big number (one per series), coloured by `colors` thresholds."""
    return _panel(
        Stat,
        title,
        targets,
        dataSource=dict(datasource),
        format=_unit(unit),
        description=description,
        thresholds=_threshold_steps(colors),
        color={"mode": "thresholds"},
        reduceCalc=reduce,
        graphMode="area" if sparkline else "none",
        decimals=decimals,
        noValue=None,
        overrides=[dict(o) for o in overrides],
        links=links,
        width=width,
        height=height,
    )


@lint_ignorable
def bar_gauge(
    title: str,
    *targets: Query,
    datasource: DatasourceRef,
    unit: str,
    description: str = "",
    colors: Thresholds = NEUTRAL,
    reduce: str = "lastNotNull",
    all_values: bool = False,
    links: Sequence[Mapping[str, Any]] = (),
    width: int | None = None,
    height: int | None = None,
) -> BarGauge:
    """Horizontal bars, one per series (or per row with `all_values=True`): rankings, top-N."""
    return _panel(
        BarGauge,
        title,
        targets,
        dataSource=dict(datasource),
        format=_unit(unit),
        description=description,
        thresholds=_threshold_steps(colors),
        calc=reduce,
        allValues=all_values,
        displayMode="gradient",
        min=None,
        max=None,
        dataLinks=list(links),
        width=width,
        height=height,
    )


@lint_ignorable
def pie_chart(
    title: str,
    *targets: Query,
    datasource: DatasourceRef,
    unit: str,
    description: str = "",
    colors: Thresholds | None = None,
    overrides: Sequence[Mapping[str, Any]] = (),
    width: int | None = None,
    height: int | None = None,
) -> PieChartv2:
    """A donut of the series' last values, with their share in the legend."""
    return _panel(
        PieChartv2,
        title,
        targets,
        dataSource=dict(datasource),
        unit=_unit(unit),
        thresholds=_threshold_steps(colors),
        description=description,
        pieType="donut",
        legendDisplayMode="table",
        legendPlacement="right",
        legendValues=["value", "percent"],
        overrides=[dict(o) for o in overrides],
        width=width,
        height=height,
    )


@lint_ignorable
def table(
    title: str,
    *targets: Query,
    datasource: DatasourceRef,
    unit: str,
    description: str = "",
    colors: Thresholds | None = None,
    overrides: Sequence[Mapping[str, Any]] = (),
    transformations: Sequence[Mapping[str, Any]] = (),
    sort_by: str | None = None,
    descending: bool = True,
    width: int | None = None,
    height: int | None = None,
) -> Table:
    """Rows of table-format queries; `overrides` style single columns (units, links, hidden helpers),
    `transformations` join and rename them (`merge`, `organize`)."""
    from grafanalib.core import TableSortByField

    return _panel(
        Table,
        title,
        targets,
        dataSource=dict(datasource),
        unit=_unit(unit),
        thresholds=_threshold_steps(colors),
        description=description,
        filterable=True,
        overrides=[dict(o) for o in overrides],
        transformations=[dict(t) for t in transformations],
        sortBy=[TableSortByField(displayName=sort_by, desc=descending)] if sort_by else [],
        width=width,
        height=height,
    )


@lint_ignorable
def logs(
    title: str,
    *targets: LokiQuery,
    datasource: DatasourceRef,
    description: str = "",
    width: int | None = None,
    height: int | None = None,
) -> Logs:
    """Log lines, newest first, with details (where derived fields such as trace links show)."""
    return _panel(
        Logs,
        title,
        targets,
        dataSource=dict(datasource),
        description=description,
        showTime=True,
        wrapLogMessages=True,
        enableLogDetails=True,
        prettifyLogMessage=False,
        width=width,
        height=height,
    )


# --- Any panel, as Grafana stores it ----------------------------------------------------------------------


@dataclass(frozen=True)
class RawTarget:
    """A query written as Grafana stores it: every key kept (an imported dashboard's targets)."""

    fields: Mapping[str, Any]

    def to_json_data(self) -> dict[str, Any]:
        return dict(self.fields)


def target(**fields: Any) -> RawTarget:
    """`target(refId="A", expr="up", legendFormat="{{job}}", interval="1m")`: every key as Grafana stores it."""
    return record(RawTarget(fields))


@attr.s
class RawPanel:
    """Any panel type with every key Grafana stores (`panel()`): the build writes it exactly as given.

    `layout()` may still set `id` and `gridPos`; `targets` and `panels` (a collapsed row's) hold objects.
    """

    json: dict[str, Any] = attr.ib(factory=dict)
    id: int | None = attr.ib(default=None)
    gridPos: GridPos | None = attr.ib(default=None)
    targets: list[Any] | None = attr.ib(default=None)
    panels: list[Any] | None = attr.ib(default=None)

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        if self.gridPos is not None:
            data["gridPos"] = self.gridPos.to_json_data()
        if self.targets is not None:
            data["targets"] = self.targets
        if self.panels is not None:
            data["panels"] = self.panels
        data.update(self.json)
        return data


def panel(
    type: str | None,
    title: str | None = None,
    *targets: Query | RawTarget,
    datasource: DatasourceRef | None = None,
    unit: str | None = None,
    colors: Thresholds | None = None,
    field_config: Mapping[str, Any] | None = None,
    overrides: Sequence[Mapping[str, Any]] | None = None,
    options: Mapping[str, Any] | None = None,
    width: int | None = None,
    height: int | None = None,
    x: int | None = None,
    y: int | None = None,
    id: int | None = None,
    panels: Sequence[RawPanel] | None = None,
    fields: Mapping[str, Any] | None = None,
    **settings: Any,
) -> RawPanel:
    """Any panel Grafana ships or a plugin adds, keeping every option: what the typed helpers cannot say.

    `field_config` is `fieldConfig.defaults` (with `unit` and `colors`, the threshold scale, beside it);
    `settings` are the panel's other keys as Grafana names them (`transformations=[...]`, `interval="1m"`,
    `pluginVersion="11.0.0"`...). `x`/`y` place the panel without `layout()`; `panels` are a collapsed row's.
    `fields` holds keys named like an argument here (a legacy `"height": "250px"`), written as given.
    A key left out (None) is absent from the JSON; nothing is filled in.
    """
    data: dict[str, Any] = {}
    if type is not None:
        data["type"] = type
    if title is not None:
        data["title"] = title
    if datasource is not None:
        data["datasource"] = dict(datasource)
    if options is not None:
        data["options"] = dict(options)
    if field_config is not None or unit is not None or colors is not None or overrides is not None:
        config: dict[str, Any] = {}
        if field_config is not None or unit is not None or colors is not None:
            defaults = dict(field_config or {})
            if unit is not None:
                defaults["unit"] = unit
            if colors is not None:
                defaults["thresholds"] = {"mode": "absolute", "steps": _threshold_steps(colors)}
            config["defaults"] = defaults
        if overrides is not None:
            config["overrides"] = [dict(o) for o in overrides]
        data["fieldConfig"] = config
    data.update(settings)
    data.update(fields or {})
    grid = None
    if (x, y, width, height) != (None, None, None, None):
        size = _size(width, height)
        grid = GridPos(h=size.h, w=size.w, x=x or 0, y=y or 0)
    built = RawPanel(
        json=data,
        id=id,
        gridPos=grid,
        targets=_panel_targets(targets) if targets else None,
        panels=list(panels) if panels is not None else None,
    )
    return record(built)


def _panel_targets(targets: Sequence[Query | RawTarget]) -> list[Query | RawTarget]:
    """Typed queries get refIds A, B, C... by position; a `target()` keeps the refId it was given."""
    placed: list[Query | RawTarget] = []
    for index, query in enumerate(targets):
        if isinstance(query, RawTarget):
            placed.append(query)
        elif isinstance(query, QUERY_TYPES):
            named = query if query.ref_id else dataclasses.replace(query, ref_id=chr(ord("A") + index))
            placed.append(record(named, location_of(query)))
        else:
            raise DefinitionError(f"not a query: {query!r}", caller_location())
    return placed


# --- Layout ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A horizontal band of panels under an optional row header."""

    title: str | None
    panels: tuple[Panel, ...]
    height: int = DEFAULT_HEIGHT
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    # The header's panel id when it must keep one (an imported dashboard); None: numbered in reading order.
    id: int | None = None


def row(title: str | None, *panels: Panel, height: int = DEFAULT_HEIGHT, id: int | None = None) -> Row:
    """Panels left to right (wrapping past 24 columns); `title=None` for a band without a header."""
    return Row(title, tuple(panels), height, caller_location(), id)


def layout(*rows: Row) -> list[Panel]:
    """Place the rows top to bottom, give every panel its gridPos and an id in reading order.

    A panel or row that already has an id (`panel(..., id=7)`, `row(..., id=3)`) keeps it; the others are
    numbered in reading order, skipping the ids taken.
    """
    taken = {band.id for band in rows if band.id is not None}
    taken |= {p.id for band in rows for p in band.panels if getattr(p, "id", None) is not None}
    numbers = (n for n in itertools.count(1) if n not in taken)
    placed: list[Panel] = []
    y = 0
    for band in rows:
        if band.title is not None:
            header = RowPanel(
                title=band.title,
                id=band.id if band.id is not None else next(numbers),
                gridPos=GridPos(h=ROW_HEADER_HEIGHT, w=GRID_WIDTH, x=0, y=y),
            )
            placed.append(record(header, band.location))
            y += ROW_HEADER_HEIGHT
        widths = _widths(band)
        x = 0
        line_height = 0
        for panel, width in zip(band.panels, widths):
            height = getattr(panel.gridPos, "h", 0) or band.height
            if x + width > GRID_WIDTH:  # wrap to the next line of the band
                y += line_height
                x, line_height = 0, 0
            number = panel.id if getattr(panel, "id", None) is not None else next(numbers)
            moved = _placed(panel, number, GridPos(h=height, w=width, x=x, y=y))
            placed.append(record(moved, location_of(panel)))
            x += width
            line_height = max(line_height, height)
        y += line_height
    return placed


def _placed(panel: Any, number: int, grid: GridPos) -> Any:
    """A copy of `panel` with its id and place: `attr.evolve`, without re-running every field's validator.

    The panel's other fields were validated when it was built; a class that derives fields after __init__
    (`__attrs_post_init__`) still goes through evolve.
    """
    if not attr.has(type(panel)) or hasattr(panel, "__attrs_post_init__") or hasattr(panel, "__slots__"):
        return attr.evolve(panel, id=number, gridPos=grid)
    moved = object.__new__(type(panel))
    moved.__dict__.update(panel.__dict__, id=number, gridPos=grid)
    return moved


def _widths(band: Row) -> list[int]:
    """Requested widths as given; the others share what is left of the first line equally."""
    requested = [getattr(p.gridPos, "w", 0) or 0 for p in band.panels]
    auto = [i for i, w in enumerate(requested) if not w]
    if not auto:
        return requested
    free = GRID_WIDTH - sum(requested)
    if free < len(auto):
        raise DefinitionError(
            f"row {band.title!r}: no room left for {len(auto)} panel(s) without a width", band.location
        )
    share, extra = divmod(free, len(auto))
    widths = list(requested)
    for n, index in enumerate(auto):
        widths[index] = share + (1 if n < extra else 0)
    return widths
