"""Grafana's grid (lgtm_dash/grid.py): where each panel is drawn, on fixtures and on this repository's content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgtm_dash.grid import ERROR, INFO, Pos, grid_height, lay_out, pixel_box
from tests.helpers import REPO


def panel(pid: int, x: float, y: float, w: float, h: float, **extra: object) -> dict:
    return {
        "id": pid,
        "title": f"p{pid}",
        "type": "timeseries",
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        **extra,
    }


def shown(dashboard: dict) -> dict[str, tuple[float, float, float, float]]:
    layout = lay_out(dashboard)
    return {i.title: (i.shown.x, i.shown.y, i.shown.w, i.shown.h) for i in layout.all_items()}


def severities(dashboard: dict, title: str) -> list[str]:
    return [p.severity for i, p in lay_out(dashboard).problems if i.title == title]


def repository_dashboards() -> list[Path]:
    return sorted((REPO / "out/grafana/dashboards").glob("*/*.json"))


@pytest.mark.parametrize("path", repository_dashboards(), ids=lambda p: p.stem)
def test_this_repositorys_dashboards_are_drawn_where_their_json_puts_them(path: Path) -> None:
    """Our dashboards are packed and overlap-free: Grafana draws every panel at its gridPos."""
    layout = lay_out(json.loads(path.read_text()))
    assert layout.items and not layout.legacy
    for item in layout.all_items():
        assert item.shown == item.declared, item.label
        assert item.problems == [], item.label


def test_a_compact_layout_stays_put() -> None:
    dash = {"panels": [panel(1, 0, 0, 12, 8), panel(2, 12, 0, 12, 8), panel(3, 0, 8, 24, 4)]}
    assert shown(dash) == {"p1": (0, 0, 12, 8), "p2": (12, 0, 12, 8), "p3": (0, 8, 24, 4)}
    assert lay_out(dash).problems == []


def test_a_gap_closes_like_react_grid_layouts_vertical_compaction() -> None:
    dash = {"panels": [panel(1, 0, 0, 12, 4), panel(2, 12, 10, 12, 4), panel(3, 0, 20, 6, 2)]}
    assert shown(dash) == {"p1": (0, 0, 12, 4), "p2": (12, 0, 12, 4), "p3": (0, 4, 6, 2)}
    assert severities(dash, "p2") == [INFO] and severities(dash, "p1") == []


def test_overlapping_panels_are_errors_and_the_later_one_is_pushed_below() -> None:
    dash = {"panels": [panel(1, 0, 0, 12, 8), panel(2, 6, 4, 12, 8), panel(3, 18, 0, 6, 4)]}
    layout = lay_out(dash)
    assert shown(dash)["p2"] == (6, 8, 12, 8) and shown(dash)["p1"] == (0, 0, 12, 8)
    assert severities(dash, "p1") == [ERROR] and ERROR in severities(dash, "p2")
    boxes = [i.shown for i in layout.items]
    assert not any(a.collides(b) for n, a in enumerate(boxes) for b in boxes[n + 1 :])


def test_positions_outside_the_grid_are_corrected_like_correct_bounds() -> None:
    dash = {"panels": [panel(1, 20, 0, 8, 4), panel(2, 0, 4, 30, 4), panel(3, -2, 8, 6, 4)]}
    assert shown(dash) == {"p1": (16, 0, 8, 4), "p2": (0, 4, 24, 4), "p3": (0, 8, 24, 4)}
    assert all(ERROR in severities(dash, t) for t in ("p1", "p2", "p3"))


def test_missing_or_broken_grid_positions_take_panelmodels_defaults() -> None:
    dash = {
        "panels": [
            {"id": 1, "title": "none", "type": "text"},
            {"id": 2, "title": "partial", "type": "text", "gridPos": {"x": 12, "y": 0}},
            {"id": 3, "title": "text", "type": "text", "gridPos": {"x": "a", "y": 0, "w": 6, "h": 3}},
            {"id": 4, "title": "zero", "type": "text", "gridPos": {"x": 0, "y": 9, "w": 0, "h": 3}},
        ]
    }
    positions = shown(dash)
    assert positions["none"] == (0, 0, 6, 3) and positions["partial"] == (12, 0, 6, 3)
    assert positions["text"] == (0, 3, 6, 3)  # x defaults to 0; it collides with "none" and drops below
    assert INFO in severities(dash, "none") and ERROR in severities(dash, "text")  # and they overlap
    zero = next(i for i in lay_out(dash).items if i.title == "zero")
    assert not zero.visible and ERROR in severities(dash, "zero")


def test_rows_are_full_width_and_a_collapsed_rows_panels_are_laid_out_under_it() -> None:
    dash = {
        "panels": [
            panel(1, 0, 0, 24, 4),
            {
                "id": 2,
                "type": "row",
                "title": "open",
                "gridPos": {"x": 3, "y": 4, "w": 5, "h": 3},
                "panels": [],
            },
            panel(3, 0, 5, 24, 4),
            {
                "id": 4,
                "type": "row",
                "title": "closed",
                "collapsed": True,
                "gridPos": {"x": 0, "y": 9, "w": 24, "h": 1},
                "panels": [panel(5, 0, 30, 12, 8), panel(6, 12, 30, 12, 8), panel(7, 0, 40, 8, 4)],
            },
        ]
    }
    layout = lay_out(dash)
    assert [(i.title, i.is_row) for i in layout.items] == [
        ("p1", False),
        ("open", True),
        ("p3", False),
        ("closed", True),
    ]
    opened, closed = layout.items[1], layout.items[3]
    assert opened.shown == Pos(0, 4, 24, 1) and layout.items[2].row_title == "open"
    assert closed.collapsed and closed.shown == Pos(0, 9, 24, 1)
    # toggleRow keeps the children's relative positions: the first one right under the row, the gap closed.
    assert [(c.title, c.shown.y) for c in closed.children] == [("p5", 0), ("p6", 0), ("p7", 8)]
    assert layout.height == 10


def test_repeats_are_described_not_expanded() -> None:
    dash = {
        "panels": [
            panel(1, 0, 0, 8, 4, repeat="pod", maxPerRow=3),
            panel(2, 8, 0, 8, 4, repeat="node", repeatDirection="v"),
        ]
    }
    first, second = lay_out(dash).items
    assert first.repeat is not None and "at most 3 per row" in first.repeat.text()
    assert second.repeat is not None and "stacked vertically" in second.repeat.text()


def test_legacy_rows_are_converted_like_grafanas_migrator() -> None:
    """DashboardMigrator.upgradeToGridLayout: span × 2 columns, height / 38 px rounded up, RowArea filling."""
    dash = {
        "schemaVersion": 14,
        "rows": [
            {
                "height": 250,
                "panels": [{"id": 1, "title": "a", "span": 6}, {"id": 2, "title": "b", "span": 6}],
            },
            {"height": "300px", "panels": [{"id": 3, "title": "c", "span": 12, "height": 100}]},
            {"panels": [{"id": 4, "title": "d", "span": 8}, {"id": 5, "title": "e", "span": 8}]},
        ],
    }
    layout = lay_out(dash)
    assert layout.legacy
    declared = {i.title: (i.declared.x, i.declared.y, i.declared.w, i.declared.h) for i in layout.items}
    assert declared == {
        "a": (0, 0, 12, 7),
        "b": (12, 0, 12, 7),
        "c": (0, 7, 24, 3),  # 100 px → 3 units; the row is 300 px = 8 units high
        "d": (0, 15, 16, 7),
        "e": (0, 22, 16, 7),  # no room beside d: wraps to the next line of the row
    }
    # Then react-grid-layout packs them: the row's unused 5 units under c close.
    assert shown(dash)["d"] == (0, 10, 16, 7) and shown(dash)["e"] == (0, 17, 16, 7)
    assert grid_height(40) == 3 and grid_height("250px") == 7


def test_legacy_rows_with_titles_get_row_headers_and_collapsed_ones_keep_their_panels() -> None:
    dash = {
        "rows": [
            {
                "title": "First",
                "showTitle": True,
                "height": 250,
                "panels": [{"id": 1, "title": "a", "span": 12}],
            },
            {
                "title": "Folded",
                "collapse": True,
                "height": 250,
                "panels": [{"id": 2, "title": "b", "span": 4}],
            },
            {"title": "Last", "height": 250, "panels": [{"id": 3, "title": "c", "span": 3}]},
        ]
    }
    layout = lay_out(dash)
    assert [(i.title, i.is_row, i.shown.y) for i in layout.items] == [
        ("First", True, 0),
        ("a", False, 1),
        ("Folded", True, 8),
        ("Last", True, 9),
        ("c", False, 10),
    ]
    folded = layout.items[2]
    assert folded.collapsed and [(c.title, c.shown.w) for c in folded.children] == [("b", 8)]
    assert folded.children[0].panel is dash["rows"][1]["panels"][0]  # the panel's own JSON, not a copy


def test_pixel_positions_follow_react_grid_layout() -> None:
    # calcGridItemPosition with cols=24, rowHeight=30, margin=[8, 8], containerPadding=[0, 0]
    assert pixel_box(Pos(0, 0, 24, 1), 1200) == (0, 0, 1200, 30)
    assert pixel_box(Pos(8, 5, 8, 8), 1200) == (403, 190, 395, 296)
    assert pixel_box(Pos(23, 0, 1, 2), 1200) == (1158, 0, 42, 68)
