"""The preview in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`) opens every page
of this repository's preview and of the fixtures, takes a screenshot, and checks from the DOM that each panel
box is where react-grid-layout would put it, that nothing overlaps that does not overlap in the JSON, and that
a page logs no console error and makes no network request. One browser serves every page."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lgtm_dash.grid import Pos, pixel_box
from tests.helpers import REPO, missing, run_cli
from tests.preview_fixtures import TRICKY
from tests.test_preview import corpus_site, fixture_out, start_watch, stop, wait_for

pytestmark = pytest.mark.tools

# Every drawn box and ghost on the page, in px relative to its grid, with the grid's width.
BOXES_JS = """
return Array.from(document.querySelectorAll('.grid')).map(grid => {
  const g = grid.getBoundingClientRect();
  return {
    name: grid.dataset.grid,
    width: grid.clientWidth,
    cells: Array.from(grid.querySelectorAll(':scope > [data-kind]')).map(el => {
      const r = el.getBoundingClientRect();
      return {id: el.id, title: el.dataset.title, kind: el.dataset.kind, data: Object.assign({}, el.dataset),
              left: r.left - g.left, top: r.top - g.top, width: r.width, height: r.height};
    }),
  };
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from lgtm_dash.testing.browser import Browser

    try:
        instance = Browser()
    except ImportError as err:
        missing(f"selenium is not installed ({err}): pip install -e '.[test]'")
    except FileNotFoundError as err:
        missing(f"{err}: run `make tools` (as root on Debian)")
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("browser")
    repo, fixtures = root / "repo", root / "fixtures"
    assert run_cli("preview", "--out", str(repo)).returncode == 0
    assert run_cli("preview", str(fixture_out(root)), "--out", str(fixtures)).returncode == 0
    return {"repo": repo, "fixtures": fixtures}


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def open_page(browser: Any, page: Path, shots: Path) -> list[dict[str, Any]]:
    """Open a page, screenshot it, check it loaded nothing and logged no error; return its boxes."""
    url = page.resolve().as_uri()
    browser.open(url)
    shot = shots / f"{page.parent.name}-{page.stem}.png"
    browser.screenshot(shot)
    width, height = png_size(shot)
    assert width == browser.width and height >= 200
    requests = browser.requests()
    assert {u for d, u in requests if d == url} == {url}, requests  # the page loads itself, nothing else
    assert not [u for _, u in requests if re.match(r"(https?|wss?|ftp)://", u)], requests  # nor does anything
    assert browser.run("return performance.getEntriesByType('resource').length") == 0
    errors = [m for m in browser.console_messages() if m.get("level") == "SEVERE"]
    assert errors == [], errors
    return browser.run(BOXES_JS)


def check_positions(grids: list[dict[str, Any]], page: Path) -> None:
    """Each box at calcGridItemPosition(data-g*) within 1 px (CSS calc does not round like react-grid-layout)."""
    for grid in grids:
        for cell in grid["cells"]:
            data = cell["data"]
            pos = Pos(*(float(data[k]) for k in ("gx", "gy", "gw", "gh")))
            left, top, width, height = pixel_box(pos, grid["width"])
            got = (cell["left"], cell["top"], cell["width"], cell["height"])
            assert all(abs(a - b) <= 1 for a, b in zip(got, (left, top, width, height))), (
                page.name,
                cell,
                got,
            )


def overlapping(cells: list[dict[str, Any]]) -> set[tuple[str, str]]:
    def hit(a: dict[str, Any], b: dict[str, Any]) -> bool:  # more than rounding: a real overlap
        return (
            a["left"] + a["width"] - 1 > b["left"]
            and b["left"] + b["width"] - 1 > a["left"]
            and a["top"] + a["height"] - 1 > b["top"]
            and b["top"] + b["height"] - 1 > a["top"]
        )

    return {(a["id"], b["id"]) for n, a in enumerate(cells) for b in cells[n + 1 :] if hit(a, b)}


def repository_pages(site: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (site / path.parent.name / f"{path.stem}.html", json.loads(path.read_text()))
        for path in sorted((REPO / "out/grafana/dashboards").glob("*/*.json"))
    ]


def test_every_page_of_this_repositorys_preview(browser: Any, sites: dict[str, Path], tmp_path: Path) -> None:
    site = sites["repo"]
    grids = open_page(browser, site / "index.html", tmp_path)
    assert grids == []
    links = browser.run("return Array.from(document.querySelectorAll('a[data-uid]')).map(a => a.href)")
    pages = repository_pages(site)
    assert pages and sorted(links) == sorted(p.resolve().as_uri() for p, _ in pages)
    for page, dashboard in pages:
        grids = open_page(browser, page, tmp_path)
        check_positions(grids, page)
        (main,) = [g for g in grids if g["name"] == "main"]
        by_id = {c["data"]["panelId"]: c for c in main["cells"]}
        assert len(by_id) == len(dashboard["panels"]), page.name
        for panel in dashboard["panels"]:
            cell, grid = by_id[str(panel["id"])], panel["gridPos"]
            w, h = (24, 1) if panel["type"] == "row" else (grid["w"], grid["h"])
            # Drawn at its own gridPos: Grafana moves nothing on a packed, overlap-free dashboard...
            expected = pixel_box(Pos(grid["x"], grid["y"], w, h), main["width"])
            got = (cell["left"], cell["top"], cell["width"], cell["height"])
            assert all(abs(a - b) <= 1 for a, b in zip(got, expected)), (
                page.name,
                panel["title"],
                got,
                expected,
            )
            assert cell["title"] == panel["title"]
        # ... and nothing overlaps on the page, as nothing does in the JSON.
        assert overlapping(main["cells"]) == set(), page.name


def test_fixture_pages_show_the_problems_the_json_has(
    browser: Any, sites: dict[str, Path], tmp_path: Path
) -> None:
    site = sites["fixtures"]
    for page in sorted(site.glob("*/*.html")):
        grids = open_page(browser, page, tmp_path)
        check_positions(grids, page)
        for grid in grids:  # Grafana resolves overlaps: the drawn boxes never overlap...
            assert overlapping(grid["cells"]) == set(), (page.name, grid["name"])
    grids = open_page(browser, site / "fixtures/fixture-tricky.html", tmp_path)
    (main,) = [g for g in grids if g["name"] == "main"]
    cells = {c["title"]: c for c in main["cells"]}
    # ... and the JSON's overlap is drawn: the pushed-down panel's declared outline lies over the other one.
    ghost = browser.run(
        "const g = document.querySelector('[data-ghost-of=\"' + arguments[0] + '\"]').getBoundingClientRect();"
        "const grid = document.querySelector('[data-grid=main]').getBoundingClientRect();"
        "return {left: g.left - grid.left, top: g.top - grid.top, width: g.width, height: g.height,"
        " color: getComputedStyle(document.querySelector('[data-ghost-of=\"' + arguments[0] + '\"]')).borderTopStyle};",
        cells["Overlapping"]["id"],
    )
    declared = next(p for p in TRICKY["panels"] if p["title"] == "Overlapping")["gridPos"]
    expected = pixel_box(Pos(declared["x"], declared["y"], declared["w"], declared["h"]), main["width"])
    got = (ghost["left"], ghost["top"], ghost["width"], ghost["height"])
    assert all(abs(a - b) <= 1 for a, b in zip(got, expected)) and ghost["color"] == "dashed"
    assert overlapping([{**ghost, "id": "ghost"}, cells["Overlapped"]]) == {
        ("ghost", cells["Overlapped"]["id"])
    }
    border = browser.run(
        "return getComputedStyle(document.getElementById(arguments[0])).borderTopColor",
        cells["Overlapped"]["id"],
    )
    assert border == "rgb(242, 73, 92)"  # drawn in the error colour


def test_public_dashboards_with_layout_problems_legacy_rows_or_collapsed_rows(
    browser: Any, tmp_path: Path
) -> None:
    """A sample of the corpus (every page would take minutes): what this repository's dashboards do not have."""
    site, _ = corpus_site(tmp_path)
    pages = sorted(site.glob("*/*.html"))
    sample = {
        "error": [p for p in pages if 'class="problems"' in p.read_text()][:4],
        "legacy": [p for p in pages if "legacy <code>rows</code>" in p.read_text()][:3],
        "collapsed": [p for p in pages if "collapsed-row" in p.read_text()][:3],
    }
    assert all(sample.values()), {k: len(v) for k, v in sample.items()}
    for page in {p for group in sample.values() for p in group}:
        grids = open_page(browser, page, tmp_path)
        check_positions(grids, page)
        for grid in grids:
            assert overlapping(grid["cells"]) == set(), (page.name, grid["name"])


def test_queries_and_links_open_on_demand_above_the_other_panels(
    browser: Any, sites: dict[str, Path], tmp_path: Path
) -> None:
    page = next(p for p, d in repository_pages(sites["repo"]) if any(x.get("targets") for x in d["panels"]))
    open_page(browser, page, tmp_path)
    summary = browser.driver.find_element("css selector", "[data-queries] > summary")
    popover = browser.driver.find_element("css selector", "[data-queries] .popover")
    assert not popover.is_displayed()
    summary.click()
    assert popover.is_displayed() and popover.text.strip()
    topmost = browser.run(
        "const r = arguments[0].getBoundingClientRect();"
        "const el = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 40));"
        "return arguments[0].contains(el);",
        popover,
    )
    assert topmost, "the open query list is hidden under another panel"


def test_watch_reloads_the_open_page_when_a_definition_is_saved(browser: Any, project_copy: Path) -> None:
    proc, url = start_watch(project_copy)
    try:
        browser.open(url)
        first = browser.run("return document.querySelector('a[data-uid]').getAttribute('href')")
        browser.open(url + first)
        title = browser.run("return document.querySelector('h1').textContent")
        uid = re.search(r"([^/]+)\.html$", first)
        assert uid
        # The module that defines the open dashboard.
        (module,) = [
            p for p in (project_copy / "dashboards").glob("*.py") if f'"{uid.group(1)}"' in p.read_text()
        ]
        text = module.read_text()
        module.write_text(text + '\ndashboard.dashboard.title = "Reloaded by itself"\n')
        wait_for(
            lambda: browser.run("return document.querySelector('h1').textContent") == "Reloaded by itself",
            "reload",
        )
        assert title != "Reloaded by itself"
        module.write_text(text + "\nraise ValueError('broken on purpose')\n")
        shown = wait_for(
            lambda: browser.run(
                "const e = document.querySelector('[data-error]'); return e && e.textContent"
            ),
            "the error on the page",
        )
        assert f"dashboards/{module.name}:" in shown and "broken on purpose" in shown
        errors = [m for m in browser.console_messages() if m.get("level") == "SEVERE"]
        assert errors == [], errors
    finally:
        stop(proc)
