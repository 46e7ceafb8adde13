"""Grafana's dashboard grid: where each panel of a dashboard JSON is drawn, as Grafana lays it out.

Read by `preview` (HTML pages) and by the diff's layout sketch. Every rule below is Grafana's own, read in its
source (see docs/grafana-layout.md for the citations in one place):

- The grid: 24 columns, rows of GRID_CELL_HEIGHT = 30 px with GRID_CELL_VMARGIN = 8 px between cells, in both
  directions (grafana/grafana public/app/core/constants.ts; DashboardGrid.tsx and, in scenes-based Grafana,
  grafana/scenes SceneGridLayoutRenderer.tsx pass them to react-grid-layout as `cols`, `rowHeight`, `margin`,
  with `containerPadding={[0, 0]}`).
- Pixels: react-grid-layout lib/calculateUtils.js calcGridItemPosition / calcGridItemWHPx.
- A row header is forced to w=24, h=1 (DashboardGrid.tsx buildLayout). The panels of a collapsed row live in
  the row's `panels` and are not on the grid; expanding the row (DashboardModel.ts toggleRow) puts them under
  the header, shifted by the same amount so the first one starts right below it.
- A panel without gridPos gets PanelModel's default {x: 0, y: 0, w: 6, h: 3} (PanelModel.ts `defaults`,
  applied with lodash defaultsDeep, so a missing field takes the default too).
- On mount react-grid-layout corrects the bounds (lib/utils.js correctBounds: a panel overflowing the right
  edge moves left, one overflowing the left edge gets x=0 and the full width) and compacts the layout
  vertically (lib/utils.js compact/compactItem; `compactType: "vertical"` is react-grid-layout's default and
  Grafana does not change it): in row/column order, each panel moves up as far as it can without colliding with
  those already placed, then down below anything it still collides with. So a gap in the JSON closes, and of
  two overlapping panels the later one is pushed below the other.
- Legacy dashboards (schemaVersion < 16, `rows` with `span` and pixel `height`) are converted the way
  DashboardMigrator.ts upgradeToGridLayout does it (span × 2 columns, height / 38 px rounded up, at least
  90 px; a RowArea fills each row left to right; row headers only when a row is collapsed, repeated or shows
  its title).
- Repeats (DashboardModel.ts repeatPanel) depend on the variable's values at view time: they are not expanded
  here, only described (direction, max per row).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

GRID_COLUMN_COUNT = 24
GRID_CELL_HEIGHT = 30
GRID_CELL_VMARGIN = 8
ROW_HEIGHT = 1
DEFAULT_GRID_POS = {"x": 0, "y": 0, "w": 6, "h": 3}
# Legacy `rows` layout (DashboardMigrator.ts, constants.ts).
DEFAULT_ROW_HEIGHT_PX = 250
DEFAULT_PANEL_SPAN = 4
MIN_PANEL_HEIGHT_PX = GRID_CELL_HEIGHT * 3
REPEAT_DIR_VERTICAL = "v"
DEFAULT_MAX_PER_ROW = 4  # DashboardModel.ts repeatPanel: `panel.maxPerRow || 4`

ERROR = "error"
INFO = "info"


@dataclass(frozen=True)
class Pos:
    """A position on the grid, in grid units (react-grid-layout allows fractions: repeats make them)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def collides(self, other: Pos) -> bool:
        """react-grid-layout lib/utils.js collides(): touching edges do not collide."""
        return not (
            self.right <= other.x or self.x >= other.right or self.bottom <= other.y or self.y >= other.bottom
        )

    def text(self) -> str:
        return f"x={fmt(self.x)} y={fmt(self.y)} w={fmt(self.w)} h={fmt(self.h)}"


@dataclass(frozen=True)
class Problem:
    severity: str  # ERROR: the JSON is wrong (invalid or overlapping); INFO: Grafana draws it elsewhere
    message: str


@dataclass(frozen=True)
class Repeat:
    variable: str
    direction: str  # "h" or "v"
    max_per_row: int | None

    def text(self, row: bool = False) -> str:
        if row:  # DashboardModel.ts repeatRow: one copy of the row and its panels per value, stacked
            return f"repeated for each value of ${self.variable}, one row each"
        if self.direction == REPEAT_DIR_VERTICAL:
            return f"repeated for each value of ${self.variable}, stacked vertically"
        per_row = self.max_per_row or DEFAULT_MAX_PER_ROW
        return f"repeated for each value of ${self.variable}, side by side (at most {per_row} per row)"


@dataclass
class Item:
    """A panel or row header on the grid."""

    panel: Mapping[str, Any]  # the panel's JSON (for legacy rows, the original panel object)
    index: int  # reading order among the items of its grid
    declared: Pos  # gridPos as written (defaults filled in; legacy layouts converted)
    shown: Pos  # where Grafana draws it: bounds corrected, compacted
    is_row: bool = False
    collapsed: bool = False
    row_title: str | None = None  # the expanded row it sits under
    repeat: Repeat | None = None
    problems: list[Problem] = field(default_factory=list)
    overlaps: list[Item] = field(default_factory=list)  # items whose declared positions it overlaps
    children: list[Item] = field(default_factory=list)  # a collapsed row's panels, laid out as expanded

    @property
    def title(self) -> str:
        title = self.panel.get("title")
        return title if isinstance(title, str) else ""

    @property
    def id(self) -> Any:
        return self.panel.get("id")

    @property
    def label(self) -> str:
        name = f"“{self.title}”" if self.title else "(untitled)"
        return f"{name} (#{self.id})" if self.id is not None else name

    @property
    def visible(self) -> bool:
        """Grafana draws nothing for a panel without width or height."""
        return self.shown.w > 0 and self.shown.h > 0


@dataclass
class Layout:
    items: list[Item]  # the main grid, in reading order (row headers included)
    legacy: bool = False  # converted from schemaVersion < 16 `rows`

    @property
    def height(self) -> float:
        """Grid units down to the bottom of the lowest item."""
        return max((i.shown.bottom for i in self.items if i.visible), default=0)

    def all_items(self) -> Iterable[Item]:
        for item in self.items:
            yield item
            yield from item.children

    @property
    def problems(self) -> list[tuple[Item, Problem]]:
        return [(item, p) for item in self.all_items() for p in item.problems]


def fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ------------------------------------------------------------------------------------------- pixels


def column_width(container_width: float) -> float:
    """react-grid-layout calcGridColWidth with margin GRID_CELL_VMARGIN and no container padding."""
    return (container_width - GRID_CELL_VMARGIN * (GRID_COLUMN_COUNT - 1)) / GRID_COLUMN_COUNT


def pixel_box(pos: Pos, container_width: float) -> tuple[float, float, float, float]:
    """(left, top, width, height) in px, as react-grid-layout calcGridItemPosition computes them."""
    col = column_width(container_width)
    left = round((col + GRID_CELL_VMARGIN) * pos.x)
    top = round((GRID_CELL_HEIGHT + GRID_CELL_VMARGIN) * pos.y)
    width = round(col * pos.w + max(0.0, pos.w - 1) * GRID_CELL_VMARGIN)
    height = round(GRID_CELL_HEIGHT * pos.h + max(0.0, pos.h - 1) * GRID_CELL_VMARGIN)
    return left, top, width, height


def grid_height_px(units: float) -> float:
    """Height of `units` grid rows (DashboardGrid.tsx translateGridHeightToScreenHeight)."""
    return max(0.0, units * (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN) - GRID_CELL_VMARGIN)


# ------------------------------------------------------------------------------------------- layout


Entry = tuple[Mapping[str, Any], Pos, list[Problem]]


def lay_out(dashboard: Mapping[str, Any]) -> Layout:
    """Where Grafana draws each panel of a dashboard's classic JSON model."""
    panels = [p for p in dashboard.get("panels") or [] if isinstance(p, Mapping)]
    legacy = not panels and bool(dashboard.get("rows"))
    nested: dict[int, list[Entry]] = {}
    if legacy:
        entries, nested = upgrade_rows([r for r in dashboard.get("rows") or [] if isinstance(r, Mapping)])
    else:
        entries = [declared_pos(p) for p in panels]
        for panel in panels:
            if panel.get("type") == "row" and panel.get("collapsed"):
                children = [c for c in panel.get("panels") or [] if isinstance(c, Mapping)]
                nested[id(panel)] = [declared_pos(c) for c in children]
    items = [make_item(entry, n, nested.get(id(entry[0]))) for n, entry in enumerate(entries)]
    place(items)
    return Layout(items=reading_order(items), legacy=legacy)


def reading_order(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.shown.y, i.shown.x, i.index))


def make_item(entry: Entry, index: int, children: list[Entry] | None = None) -> Item:
    panel, pos, problems = entry
    item = Item(panel=panel, index=index, declared=pos, shown=pos, problems=problems)
    item.is_row = panel.get("type") == "row"
    repeat = panel.get("repeat")
    if isinstance(repeat, str) and repeat:
        per_row = panel.get("maxPerRow")
        item.repeat = Repeat(
            variable=repeat,
            direction=REPEAT_DIR_VERTICAL if panel.get("repeatDirection") == REPEAT_DIR_VERTICAL else "h",
            max_per_row=per_row if isinstance(per_row, int) and per_row > 0 else None,
        )
    if not item.is_row:
        return item
    # DashboardGrid.tsx buildLayout: a row header is always full width and one unit high.
    item.declared = item.shown = replace(pos, w=GRID_COLUMN_COUNT, h=ROW_HEIGHT)
    item.collapsed = bool(panel.get("collapsed"))
    if item.collapsed and children:
        item.children = [make_item(child, n) for n, child in enumerate(children)]
        # toggleRow: every panel shifts by the first one's distance from the row's bottom; drawn here in
        # a grid of their own that starts right under the row.
        shift = item.children[0].declared.y
        for child in item.children:
            child.shown = replace(child.declared, y=child.declared.y - shift)
        place(item.children)
        item.children = reading_order(item.children)
    return item


def declared_pos(panel: Mapping[str, Any]) -> Entry:
    """The panel's gridPos with PanelModel's defaults for what is missing, and what is wrong with it."""
    grid = panel.get("gridPos")
    problems: list[Problem] = []
    if not isinstance(grid, Mapping):
        problems.append(
            Problem(INFO, "no gridPos: Grafana gives it the default 6×3 at the top left, then packs it")
        )
        grid = {}
    values: dict[str, float] = {}
    for key, default in DEFAULT_GRID_POS.items():
        value = grid.get(key)
        if value is None:
            if grid:
                problems.append(Problem(INFO, f"gridPos has no {key}: Grafana uses {default}"))
            value = default
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(
                Problem(ERROR, f"gridPos.{key} is not a number ({value!r}): Grafana uses {default}")
            )
            value = default
        values[key] = value
    pos = Pos(values["x"], values["y"], values["w"], values["h"])
    if pos.w <= 0 or pos.h <= 0:
        problems.append(Problem(ERROR, f"{pos.text()}: no width or height, Grafana draws nothing"))
    return panel, pos, problems


def place(items: list[Item]) -> None:
    """Overlaps in the JSON, then react-grid-layout's correctBounds and vertical compaction."""
    for n, item in enumerate(items):
        if item.shown.w <= 0 or item.shown.h <= 0:
            continue
        for earlier in items[:n]:
            if earlier.shown.w > 0 and earlier.shown.h > 0 and item.shown.collides(earlier.shown):
                item.overlaps.append(earlier)
                earlier.overlaps.append(item)
    for item in items:
        for other in item.overlaps:
            item.problems.append(Problem(ERROR, f"overlaps {other.label} in the JSON"))
    wanted = {id(item): item.shown for item in items}
    for item in items:
        corrected = correct_bounds(item.shown)
        if corrected != item.shown:
            item.problems.append(
                Problem(
                    ERROR,
                    f"{item.declared.text()} leaves the {GRID_COLUMN_COUNT}-column grid: "
                    f"Grafana draws it at x={fmt(corrected.x)} w={fmt(corrected.w)}",
                )
            )
            item.shown = corrected
    compact(items)
    for item in items:
        before = wanted[id(item)]
        if item.visible and (item.shown.x, item.shown.y) != (correct_bounds(before).x, before.y):
            reason = "to clear an overlap" if item.overlaps else "into the free space above it"
            item.problems.append(
                Problem(
                    ERROR if item.overlaps or before.y < 0 else INFO,
                    f"Grafana draws it at y={fmt(item.shown.y)}, not y={fmt(before.y)}: it moves panels {reason}",
                )
            )


def correct_bounds(pos: Pos) -> Pos:
    """react-grid-layout lib/utils.js correctBounds for one item."""
    x, w = pos.x, pos.w
    if x + w > GRID_COLUMN_COUNT:  # overflows right
        x = GRID_COLUMN_COUNT - w
    if x < 0:  # overflows left
        x, w = 0, GRID_COLUMN_COUNT
    return Pos(x, pos.y, w, pos.h)


def compact(items: list[Item]) -> None:
    """react-grid-layout lib/utils.js compact(layout, verticalCompact=true), on `shown`."""
    placed: list[Pos] = []
    for item in sorted(items, key=lambda i: (i.shown.y, i.shown.x)):  # sortLayoutItemsByRowCol (stable)
        if not item.visible:
            continue
        pos = item.shown
        # compactItem: not below the bottom of what is placed, up while free, then down past collisions.
        y = min(max((p.bottom for p in placed), default=0), pos.y)
        while y > 0 and not _first_collision(placed, replace(pos, y=y)):
            y -= 1
        while (hit := _first_collision(placed, replace(pos, y=y))) is not None:
            y = hit.bottom
        item.shown = replace(pos, y=max(y, 0))
        placed.append(item.shown)
    current_row: str | None = None
    for item in sorted(items, key=lambda i: (i.shown.y, i.shown.x)):
        if item.is_row:
            current_row = None if item.collapsed else item.title
        else:
            item.row_title = current_row


def _first_collision(placed: list[Pos], pos: Pos) -> Pos | None:
    return next((p for p in placed if p.collides(pos)), None)


# ------------------------------------------------------------------------------- legacy rows


def upgrade_rows(rows: list[Mapping[str, Any]]) -> tuple[list[Entry], dict[int, list[Entry]]]:
    """DashboardMigrator.ts upgradeToGridLayout: legacy rows → grid entries, and the entries of the panels
    each collapsed row header holds (by the header's id()). Panels keep their own JSON objects."""
    show_rows = any(r.get("collapse") or r.get("showTitle") or r.get("repeat") for r in rows)
    entries: list[Entry] = []
    nested: dict[int, list[Entry]] = {}
    y = 0
    for row in rows:
        if row.get("repeatIteration"):
            continue
        row_height = grid_height(row.get("height") or DEFAULT_ROW_HEIGHT_PX)
        collapsed = bool(show_rows and row.get("collapse"))
        if show_rows:
            header = {
                "type": "row",
                "title": row.get("title"),
                "collapsed": collapsed,
                "repeat": row.get("repeat"),
            }
            entries.append((header, Pos(0, y, GRID_COLUMN_COUNT, ROW_HEIGHT), []))
            nested[id(header)] = []
            y += 1
        area = RowArea(row_height, y)
        for panel in row.get("panels") or []:
            if not isinstance(panel, Mapping):
                continue
            span = panel.get("span") or DEFAULT_PANEL_SPAN
            span = (
                span if isinstance(span, int | float) and not isinstance(span, bool) else DEFAULT_PANEL_SPAN
            )
            width = math.floor(span) * (GRID_COLUMN_COUNT // 12)
            height = grid_height(panel["height"]) if panel.get("height") else row_height
            spot = area.position(width)
            y = area.y
            pos = Pos(spot[0], y + spot[1], width, height) if spot else Pos(0, y, width, height)
            area.add(pos)
            (nested[id(header)] if collapsed else entries).append((panel, pos, []))
        if not collapsed:
            y += row_height
    return entries, nested


def grid_height(height: Any) -> int:
    """DashboardMigrator.ts getGridHeight: pixels (or "250px") → grid units, at least MIN_PANEL_HEIGHT."""
    if isinstance(height, str):
        digits = height.strip().removesuffix("px").strip()
        height = int(digits) if digits.lstrip("-").isdigit() else DEFAULT_ROW_HEIGHT_PX
    if not isinstance(height, int | float) or isinstance(height, bool):
        height = DEFAULT_ROW_HEIGHT_PX
    return math.ceil(max(height, MIN_PANEL_HEIGHT_PX) / (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN))


class RowArea:
    """DashboardMigrator.ts RowArea: per column, how far down a legacy row is filled."""

    def __init__(self, height: int, y: int):
        self.area: list[float] = [0] * GRID_COLUMN_COUNT
        self.y = y
        self.height = height

    def add(self, pos: Pos) -> None:
        for column in range(int(pos.x), min(int(pos.x + pos.w), GRID_COLUMN_COUNT)):
            filled = pos.y + pos.h - self.y
            if not self.area[column] or filled > self.area[column]:
                self.area[column] = filled

    def position(self, width: float, once: bool = False) -> tuple[float, float] | None:
        start = end = None
        for column in range(len(self.area) - 1, -1, -1):
            if self.height - self.area[column] <= 0:
                break
            if end is None:
                end = column
            elif column < len(self.area) - 1 and self.area[column] <= self.area[column + 1]:
                start = column
            else:
                break
        if start is not None and end is not None and end - start >= width - 1:
            return start, max(self.area[start:])
        if once:
            return None
        self.y += self.height  # wrap to the next line of the row
        self.area = [0] * GRID_COLUMN_COUNT
        return self.position(width, once=True)
