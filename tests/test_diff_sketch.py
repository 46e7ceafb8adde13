"""The layout sketch in the Markdown diff (lgtm_dash/diff/sketch.py): before/after grids, marks and legend."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from lgtm_dash.diff.sketch import MAX_LEGEND, MAX_LINES, WIDTH, sketch
from tests.helpers import REPO, run_cli
from tests.test_diff import git_project

DASHBOARDS = sorted((REPO / "out/grafana/dashboards").glob("*/*.json"))


def first_dashboard_with_panels(count: int) -> dict:
    """A dashboard of this repository with at least `count` panels that are not rows."""
    for path in DASHBOARDS:
        data = json.loads(path.read_text())
        if len([p for p in data["panels"] if p["type"] != "row"]) >= count:
            return data
    raise AssertionError(f"no dashboard with {count} panels")


def panels(data: dict) -> list[dict]:
    return [p for p in data["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_an_unchanged_layout_draws_no_sketch(path: Path) -> None:
    data = json.loads(path.read_text())
    changed = copy.deepcopy(data)
    for panel in panels(changed):
        panel["title"] += " (renamed)"
        panel.setdefault("fieldConfig", {}).setdefault("defaults", {})["unit"] = "bytes"
    assert sketch(data, changed) == []


def test_moved_resized_added_and_removed_panels_are_marked_and_explained() -> None:
    old = first_dashboard_with_panels(4)
    new = copy.deepcopy(old)
    a, b, c, d = panels(new)[:4]
    a["gridPos"]["x"], b["gridPos"]["x"] = b["gridPos"]["x"], a["gridPos"]["x"]  # swap two neighbours
    c["gridPos"]["h"] += 2
    new["panels"].remove(d)
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in new["panels"])
    new["panels"].append(
        {"id": 999, "type": "text", "title": "Brand new", "gridPos": {"x": 0, "y": bottom, "w": 12, "h": 4}}
    )
    lines = sketch(old, new)
    assert lines[0].split() == ["before", "after"]
    grid = [line for line in lines[1:] if line.startswith(("+", "|", "=", " "))]
    assert all(len(line) <= 2 * WIDTH + 3 for line in grid)
    legend = "\n".join(lines)
    ga, gb = a["gridPos"], b["gridPos"]
    assert f"{a['title']}: moved x={gb['x']} y={gb['y']} -> x={ga['x']} y={ga['y']}" in legend
    assert f"{b['title']}: moved x={ga['x']} y={ga['y']} -> x={gb['x']} y={gb['y']}" in legend
    assert re.search(
        rf"\* +\d+ +{re.escape(c['title'])}: resized \d+x{c['gridPos']['h'] - 2} -> \d+x{c['gridPos']['h']}",
        legend,
    )
    assert re.search(r"\+ +\d+ +Brand new: added at x=0 y=\d+ 12x4", legend)
    assert re.search(rf"- +\d+ +{re.escape(d['title'])}: removed from", legend)
    # In the boxes: the left grid shows the removed one, the right one the added one.
    left = "\n".join(line[:WIDTH] for line in lines[1:])
    right = "\n".join(line[WIDTH + 3 :] for line in lines[1:])
    assert re.search(r"\|-\d+ ", left) and not re.search(r"\|-\d+ ", right)
    assert re.search(r"\|\+\d+ Brand", right) and re.search(r"\|>\d+ ", left) and re.search(r"\|>\d+ ", right)


def test_a_panel_moved_inside_a_collapsed_row_is_listed() -> None:
    inner = {"id": 5, "type": "stat", "title": "Inner", "gridPos": {"x": 0, "y": 2, "w": 6, "h": 4}}
    row = {
        "id": 4,
        "type": "row",
        "title": "Hidden",
        "collapsed": True,
        "gridPos": {"x": 0, "y": 1, "w": 24, "h": 1},
    }
    old = {
        "panels": [
            {"id": 1, "type": "stat", "title": "Top", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
            {**row, "panels": [inner]},
        ]
    }
    new = copy.deepcopy(old)
    new["panels"][1]["panels"][0]["gridPos"]["x"] = 12
    lines = sketch(old, new)
    assert any("> Hidden (1 panels, collapsed)" in line for line in lines)
    assert any("Inner: moved x=0 y=2 -> x=12 y=2 (in collapsed row Hidden)" in line for line in lines)


def test_a_huge_dashboard_gives_a_bounded_sketch() -> None:
    old = {
        "panels": [
            {
                "id": n,
                "type": "stat",
                "title": f"p{n}",
                "gridPos": {"x": (n % 12) * 2, "y": (n // 12) * 4, "w": 2, "h": 4},
            }
            for n in range(600)
        ]
    }
    new = copy.deepcopy(old)
    for panel in new["panels"]:
        panel["gridPos"]["h"] = 5
    lines = sketch(old, new)
    assert len(lines) <= 1 + MAX_LINES + 1 + 1 + MAX_LEGEND + 1
    assert any(line.startswith("... ") and "more lines not drawn" in line for line in lines)
    assert lines[-1].strip() == f"... and {600 - MAX_LEGEND} more changed panels"


def test_a_new_dashboard_is_drawn_alone() -> None:
    data = json.loads(DASHBOARDS[0].read_text())
    lines = sketch(None, data)
    assert lines[0] == "new dashboard" and len(lines) > 3
    assert all(len(line) <= WIDTH for line in lines)


def move_first_panel(out: Path) -> tuple[str, dict]:
    path = next(
        p
        for p in sorted((out / "grafana/dashboards").glob("*/*.json"))
        if len(panels(json.loads(p.read_text()))) >= 2
    )
    data = json.loads(path.read_text())
    a, b = panels(data)[:2]
    a["gridPos"], b["gridPos"] = dict(b["gridPos"]), dict(a["gridPos"])
    path.write_text(json.dumps(data))
    return a["title"], b["gridPos"]


def test_markdown_diff_shows_a_moved_panel_in_the_sketch(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(REPO / "out", old)
    shutil.copytree(REPO / "out", new)
    title, was = move_first_panel(new)
    result = run_cli("diff", str(old), str(new), "--format", "markdown")
    assert result.returncode == 1, result.stderr
    block = re.search(r"Layout:\n\n```text\n(.*?)\n```", result.stdout, re.DOTALL)
    assert block, result.stdout
    assert block.group(1).startswith("before") and re.search(r"\|>\d+ ", block.group(1))
    assert f"{title}: moved x={was['x']} y={was['y']} -> " in block.group(1)
    as_json = json.loads(run_cli("diff", str(old), str(new), "--format", "json").stdout)
    assert all("sketch" not in change for change in as_json["changes"])  # JSON keeps to the details


def test_diff_base_shows_a_panel_moved_in_the_python(tmp_path: Path) -> None:
    project = git_project(tmp_path)
    module = next(p for p in sorted((project / "dashboards").glob("*.py")) if not p.name.startswith("_"))
    # Swap the places of the dashboard's first two panels (grafanalib objects are mutable), uncommitted.
    module.write_text(
        module.read_text()
        + "\n_placed = [p for p in dashboard.dashboard.panels if type(p).__name__ != 'RowPanel']\n"
        "_placed[0].gridPos, _placed[1].gridPos = _placed[1].gridPos, _placed[0].gridPos\n"
    )
    result = run_cli("--project", str(project), "diff", "--base", "HEAD", "--format", "markdown")
    assert result.returncode == 1, result.stderr
    block = re.search(r"```text\n(.*?)\n```", result.stdout, re.DOTALL)
    assert block and re.search(r"\|>\d+ ", block.group(1)), result.stdout
    assert len(re.findall(r"^ ?[>*]{1,2} +\d+ +.+: moved x=", block.group(1), re.MULTILINE)) == 2
