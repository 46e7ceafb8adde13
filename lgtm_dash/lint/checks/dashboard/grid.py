from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...dashview import GRID_COLUMNS, panel_label
from ...findings import Finding, Severity
from ...inputs import DashboardDoc, PanelDoc
from ...registry import Check, register


@register
class Grid(Check):
    """Panels lie inside the 24-column grid, and panels side by side fit next to each other.

    ## What it does
    Reports a panel whose `gridPos` reaches past column 24, has a negative position or no size, and two panels
    placed at the same height (`y`) that overlap: meant side by side, they do not fit. Panels inside a collapsed
    row are laid out on their own. Row panels are exempt: Grafana always draws a row 24 × 1, whatever `w` and `h`
    say (many tools store 0 × 0). A panel overlapping one *above* it is not reported either: generators rely on
    Grafana pushing panels down in reading order, and the screen shows what they meant.

    ## Why is this bad?
    Grafana does not show such a layout as saved: it squeezes a panel that is too wide to the left and pushes
    panels that do not fit below the others, so the screen differs from the JSON and from what the author
    meant. A warning: the dashboard still works.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}},
      {"id": 2, "type": "text", "title": "Links", "gridPos": {"x": 8, "y": 0, "w": 12, "h": 8}},
      {"id": 3, "type": "text", "title": "Notes", "gridPos": {"x": 12, "y": 8, "w": 18, "h": 8}}]}
    ```
    ```text
    0: dashboard 'http', panel 'Links': overlaps panel 'About' beside it (both at y=0): they do not fit side by side
    0: dashboard 'http', panel 'Notes': gridPos x=12 y=8 w=18 h=8 is outside the 24-column grid
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}},
      {"id": 2, "type": "text", "title": "Links", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}},
      {"id": 3, "type": "text", "title": "Notes", "gridPos": {"x": 0, "y": 1, "w": 24, "h": 8}}]}
    ```
    """

    id = "dashboard/grid"
    severity = Severity.WARNING

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        # Panels inside a collapsed row are laid out on their own, as if the row were expanded.
        layers: dict[int, list[tuple[PanelDoc, tuple[int, int, int, int]]]] = {}
        row_key = 0
        for panel in dash.panels:
            is_row = panel.data.get("type") == "row"
            if not panel.nested:
                row_key = id(panel) if is_row else 0
            box = None if is_row else _box(panel)
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
            for other, (ox, oy, ow, _oh) in layer:
                if oy == y and x < ox + ow and ox < x + w:
                    yield self.report(
                        ctx, f"{panel_label(dash, panel)}: overlaps panel {other.title or other.id!r} beside it "
                        f"(both at y={y}): they do not fit side by side", dashboard=dash, panel=panel,
                    )  # fmt: skip
                    break
            layer.append((panel, box))


def _box(panel: PanelDoc) -> tuple[int, int, int, int] | None:
    grid = panel.data.get("gridPos")
    if not isinstance(grid, Mapping) or not grid:  # legacy `rows` panels: Grafana lays them out from `span`
        return None
    try:
        x, y, w, h = (int(grid.get(k, 0) or 0) for k in ("x", "y", "w", "h"))
        return x, y, w, h
    except (TypeError, ValueError):
        return (-1, -1, 0, 0)
