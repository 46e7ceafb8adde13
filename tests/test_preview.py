"""`lgtm-dash preview`: the static site (its HTML, read without a browser), --base and --watch.

What a browser makes of the pages (positions in pixels, no network, no console error) is in
test_preview_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.grid import lay_out
from tests.helpers import LGTM, REPO, corpus, run_cli
from tests.preview_fixtures import DATASOURCES, HOSTILE, LEGACY, TRICKY


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def cells(self) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if a.get("data-kind") in ("panel", "row")]


def fixture_out(root: Path) -> Path:
    """An out/ tree holding the fixture dashboards and datasources."""
    out = root / "out"
    for data in (TRICKY, LEGACY):
        path = out / "grafana/dashboards/fixtures" / f"{data['uid']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    (out / "grafana/datasources.yaml").write_text(
        yaml.safe_dump({"apiVersion": 1, "datasources": DATASOURCES})
    )
    (out / "grafana/folders.yaml").write_text(
        yaml.safe_dump({"folders": [{"uid": "fixtures", "title": "Fixtures"}]})
    )
    (out / "build.json").write_text(json.dumps({"env": "test"}))
    return out


@pytest.fixture(scope="module")
def repo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site") / "preview"
    result = run_cli("preview", "--out", str(site))
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fixture")
    site = root / "preview"
    result = run_cli("preview", str(fixture_out(root)), "--out", str(site))
    assert result.returncode == 0, result.stderr
    return site


def test_every_dashboard_in_out_gets_a_page_listed_in_the_index(repo_site: Path) -> None:
    dashboards = sorted((REPO / "out/grafana/dashboards").glob("*/*.json"))
    assert dashboards
    index = (repo_site / "index.html").read_text()
    for path in dashboards:
        data = json.loads(path.read_text())
        page = repo_site / path.parent.name / f"{path.stem}.html"
        assert page.is_file(), page
        assert f'href="{path.parent.name}/{path.stem}.html"' in index
        assert data["title"] in Elements(page.read_text()).text


def test_each_page_draws_every_panel_at_its_gridpos(repo_site: Path) -> None:
    for path in sorted((REPO / "out/grafana/dashboards").glob("*/*.json")):
        data = json.loads(path.read_text())
        cells = Elements((repo_site / path.parent.name / f"{path.stem}.html").read_text()).cells()
        expected = [p for p in data["panels"]]
        assert len(cells) == len(expected), path.name
        by_id = {c["data-panel-id"]: c for c in cells}
        for panel in expected:
            cell = by_id[str(panel["id"])]
            grid = panel["gridPos"]
            w, h = (24, 1) if panel["type"] == "row" else (grid["w"], grid["h"])
            assert [cell[f"data-{k}"] for k in "xywh"] == [str(v) for v in (grid["x"], grid["y"], w, h)]
            assert cell["style"] == f"--x:{grid['x']};--y:{grid['y']};--w:{w};--h:{h}"
            assert cell["data-title"] == panel["title"]


def test_pages_are_self_contained(repo_site: Path, fixture_site: Path) -> None:
    for page in [*repo_site.rglob("*.html"), *fixture_site.rglob("*.html")]:
        html = page.read_text()
        elements = Elements(html)
        for tag, attrs in elements.tags:
            assert tag not in ("script", "img", "iframe", "object", "embed", "video", "audio"), (page, tag)
            if tag == "link":
                assert attrs.get("href") == "data:,", page  # the favicon: nothing to fetch
            assert "url(" not in (attrs.get("style") or ""), page
        (stylesheet,) = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
        assert "url(" not in stylesheet and "@import" not in stylesheet and "@font-face" not in stylesheet


def test_panels_show_type_unit_thresholds_datasource_queries_and_links(fixture_site: Path) -> None:
    html = (fixture_site / "fixtures/fixture-tricky.html").read_text()
    elements = Elements(html)
    stat = next(a for _, a in elements.tags if a.get("data-panel-id") == "1")
    assert stat["data-type"] == "stat"
    text = " ".join(elements.text)
    assert "percentunit" in text and "Fixture Prometheus (prometheus)" in text
    colours = [a["style"] for _, a in elements.tags if a.get("style", "").startswith("background:")]
    assert colours[:2] == ["background: #73BF69", "background: #EAB839"]  # green is Grafana's green
    assert "0.5" in text and "0.9" in text
    assert 'sum(rate(requests_total{panel="1"}[5m]))' in text  # queries, on demand in <details>
    assert "Fixture Loki (loki)" in text and "LogQL" in text and "SQL" in text and "hidden" in text
    assert "fixture-mysql (mysql)" in text  # an unknown datasource uid is shown as it is
    assert "Queries (2)" in text and "Links (2)" in text
    hrefs = [a.get("href") for tag, a in elements.tags if tag == "a"]
    assert "../fixtures/fixture-legacy.html" in hrefs  # /d/<uid> links lead to the preview page
    assert "https://grafana.com/docs/" in hrefs


def test_variables_bar_and_dashboard_links(fixture_site: Path) -> None:
    elements = Elements((fixture_site / "fixtures/fixture-tricky.html").read_text())
    variables = [a["data-variable"] for _, a in elements.tags if "data-variable" in a]
    assert variables == ["pod", "hidden_one"]
    hidden = next(a for _, a in elements.tags if a.get("data-variable") == "hidden_one")
    assert "hidden" in (hidden["class"] or "")
    text = " ".join(elements.text)
    assert "a + b" in text and "multi-value" in text and "include All" in text
    assert "Same site" in text and "External" in text and "Fixtures ▾" in text
    assert "Legacy rows" in text  # the tagged-dashboards link lists the other fixture


def test_layout_problems_are_drawn_and_listed(fixture_site: Path) -> None:
    html = (fixture_site / "fixtures/fixture-tricky.html").read_text()
    elements = Elements(html)
    cells = {a["data-title"]: a for a in elements.cells()}
    for title in ("Overlapped", "Overlapping", "Too wide"):
        assert "error" in (cells[title]["class"] or "").split(), title
        assert cells[title]["data-problems"] != "0"
    assert "info" in (cells["Floating"]["class"] or "").split()
    assert (cells["Overlapping"]["data-y"], cells["Overlapping"]["data-gy"]) == ("2", "6")
    assert (cells["Too wide"]["data-x"], cells["Too wide"]["data-gx"]) == ("20", "16")
    ghosts = [a for _, a in elements.tags if "data-ghost-of" in a]
    ghost_of = {a["data-ghost-of"] for a in ghosts}
    assert cells["Overlapping"]["id"] in ghost_of and cells["Too wide"]["id"] in ghost_of
    assert "No size" not in cells  # invisible in Grafana: only its outline and the problem list show it
    text = " ".join(elements.text)
    assert "overlaps “Overlapped” (#2) in the JSON" in text and "no width or height" in text
    assert "repeat" in (cells["Repeated"]["class"] or "") and "at most 3 per row" in text


def test_collapsed_rows_draw_their_panels_in_a_section_of_their_own(fixture_site: Path) -> None:
    elements = Elements((fixture_site / "fixtures/fixture-tricky.html").read_text())
    row = next(a for a in elements.cells() if a["data-title"] == "Folded " + HOSTILE)
    assert row["data-kind"] == "row" and (row["data-gw"], row["data-gh"]) == ("24", "1")
    inside = [a for a in elements.cells() if a["data-title"] in ("Inside A", "Inside B")]
    assert [(a["data-gx"], a["data-gy"]) for a in inside] == [("0", "0"), ("12", "0")]
    assert all(a["id"].startswith("row-") for a in inside)


def test_legacy_rows_dashboard_is_drawn_converted(fixture_site: Path) -> None:
    elements = Elements((fixture_site / "fixtures/fixture-legacy.html").read_text())
    cells = {a["data-title"]: a for a in elements.cells()}
    expected = {i.title: i.shown for i in lay_out(LEGACY).all_items()}
    for title in ("Top", "Left", "Right", "Folded", "Hidden"):
        pos = expected[title]
        assert [cells[title][f"data-g{k}"] for k in "xywh"] == [str(v) for v in (pos.x, pos.y, pos.w, pos.h)]
    assert "legacy" in " ".join(elements.text) and "bytes" in " ".join(elements.text)


def test_everything_from_a_dashboard_is_escaped(fixture_site: Path) -> None:
    for page in fixture_site.rglob("*.html"):
        html = page.read_text()
        assert "<script" not in html and "<img" not in html, page
        for _, attrs in Elements(html).tags:
            assert not (attrs.get("href") or "").lower().startswith("javascript"), page
            style = attrs.get("style") or ""
            assert "url(" not in style and style.count(";") <= 3, (page, style)  # only --x;--y;--w;--h
    html = (fixture_site / "fixtures/fixture-tricky.html").read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # shown as text, not run
    assert HOSTILE in " ".join(Elements(html).text)
    assert 'style="background: #8E8E8E"' in html  # the hostile colour became the fallback grey


def test_uids_select_dashboards_and_an_unknown_uid_is_a_usage_error(tmp_path: Path) -> None:
    out = fixture_out(tmp_path)
    site = tmp_path / "one"
    result = run_cli("preview", str(out), "fixture-legacy", "--out", str(site))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in site.glob("*/*.html")] == ["fixture-legacy.html"]
    missing = run_cli("preview", str(out), "no-such-uid", "--out", str(tmp_path / "two"))
    assert missing.returncode == 2 and "no dashboard with uid 'no-such-uid'" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and not (tmp_path / "two").exists()


def test_loose_json_files_and_bad_input(tmp_path: Path) -> None:
    good = tmp_path / "legacy.json"
    good.write_text(json.dumps({"dashboard": LEGACY, "meta": {}}))  # an API export
    result = run_cli("preview", str(good), "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / tmp_path.name / "fixture-legacy.html").is_file()  # grouped by directory
    broken = tmp_path / "broken.json"
    broken.write_text('{"panels": [\n  {"id": 1,\n}')
    bad = run_cli("preview", str(broken), "--out", str(tmp_path / "site2"))
    assert bad.returncode == 2 and f"{broken}:3" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "site2").exists()
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    result = run_cli("preview", str(other), "--out", str(tmp_path / "site3"))
    assert result.returncode == 2 and "not a Grafana dashboard" in result.stderr


def test_out_never_replaces_a_directory_that_is_not_a_preview(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    result = run_cli("preview", str(fixture_out(tmp_path)), "--out", str(precious))
    assert result.returncode == 2 and "not a preview site" in result.stderr
    assert (precious / "keep.txt").read_text() == "mine"
    site = tmp_path / "site"
    for _ in range(2):  # a preview site is replaced as a whole
        assert run_cli("preview", str(fixture_out(tmp_path)), "--out", str(site)).returncode == 0
    assert sorted(p.name for p in site.iterdir()) == [".lgtm-dash-preview", "fixtures", "index.html"]


def corpus_site(root: Path) -> tuple[Path, list[Path]]:
    """The preview of every public dashboard in the corpus (classic and legacy `rows` ones)."""
    folder = corpus("dashboards")
    files = sorted(folder.rglob("*.json"))
    site = root / "corpus"
    result = run_cli("preview", str(folder), "--out", str(site))
    assert result.returncode == 0, result.stderr
    return site, files


def test_every_public_dashboard_of_the_corpus_is_drawn(tmp_path: Path) -> None:
    site, files = corpus_site(tmp_path)
    pages = sorted(site.glob("*/*.html"))
    assert len(files) > 50 and len(pages) == len(files)
    drawn = 0
    for page in pages:
        elements = Elements(page.read_text())
        source = next(t for t in elements.text if t.endswith(".json") and "corpora" in t)
        data = json.loads(
            (REPO / source).read_text() if not Path(source).is_absolute() else Path(source).read_text()
        )
        layout = lay_out(data.get("dashboard", data) if "panels" not in data and "rows" not in data else data)
        visible = [i for i in layout.all_items() if i.visible]
        assert len(elements.cells()) == len(visible), page
        drawn += len(visible)
    assert drawn > 1000


# ---------------------------------------------------------------- --base: before and after, for a PR


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


def test_base_writes_before_and_after_sites_with_an_index_of_changes(
    project_copy: Path, tmp_path: Path
) -> None:
    git(project_copy, "init", "-q")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-qm", "base")
    module = next(p for p in sorted((project_copy / "dashboards").glob("*.py")) if not p.name.startswith("_"))
    module.write_text(module.read_text() + '\ndashboard.dashboard.title = "Retitled in this PR"\n')
    site = tmp_path / "pr"
    result = run_cli("--project", str(project_copy), "preview", "--base", "HEAD", "--out", str(site))
    assert result.returncode == 0, result.stderr
    index = (site / "index.html").read_text()
    assert (site / "before/index.html").is_file() and (site / "after/index.html").is_file()
    rows = re.findall(r'<td class="status-(\w+)">', index)
    assert rows[0] == "changed" and set(rows[1:]) <= {"changed", "unchanged"}
    changed_page = re.search(r'<a href="after/([^"]+)">after</a>', index)
    assert changed_page and "Retitled in this PR" in (site / "after" / changed_page.group(1)).read_text()
    assert not (project_copy / "out").exists()


# ---------------------------------------------------------------- --watch


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def next_event(stream: Any) -> str:
    """The next server-sent event's data line (keep-alive comments and blank separators skipped)."""
    while True:
        line = stream.readline().decode()
        if not line or line.startswith("data:"):
            return line


def start_watch(project: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*LGTM, "--project", str(project), "preview", "--watch", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no URL in {line!r}: {proc.stderr.read() if proc.stderr else ''}")
    return proc, match.group(0)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_watch_rebuilds_on_save_and_shows_a_definition_error_with_its_line(project_copy: Path) -> None:
    proc, url = start_watch(project_copy)
    try:
        index = fetch(url)
        assert "EventSource" in index  # the live-reload hook, added only when served
        module = next(
            p for p in sorted((project_copy / "dashboards").glob("*.py")) if not p.name.startswith("_")
        )
        original = module.read_text()
        page = re.search(r'href="([^"]+)" data-uid', index)
        assert page
        events = urllib.request.urlopen(url + "__events", timeout=30)
        assert next_event(events).startswith("data: ")

        module.write_text(original + '\ndashboard.dashboard.title = "Saved while watching"\n')
        wait_for(lambda: "Saved while watching" in fetch(url), "the rebuilt index")
        assert next_event(events).startswith("data: ")  # the open page is told to reload

        lines = original.splitlines()
        module.write_text("\n".join([*lines, "", "this is not python ("]) + "\n")
        broken = wait_for(
            lambda: (html := fetch(url + page.group(1))) and "data-error" in html and html, "error page"
        )
        assert re.search(rf"dashboards/{module.name}:{len(lines) + 2}\b", broken), broken
        assert "Saved while watching" not in broken  # no stale picture

        module.write_text(original)
        healed = wait_for(
            lambda: (html := fetch(url + page.group(1))) and "data-error" not in html and html, "fixed"
        )
        assert "data-kind=" in healed
        with pytest.raises(urllib.error.HTTPError):
            fetch(url + "no/such/page.html")
    finally:
        stop(proc)


# ---------------------------------------------------------------- the GitHub workflow


def test_the_workflow_uploads_the_before_after_preview_and_links_it_from_the_comment() -> None:
    import shlex

    from lgtm_dash.cli import build_parser

    workflow = yaml.safe_load((REPO / ".github/workflows/ci.yaml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    names = [s.get("run", "") + s.get("uses", "") for s in steps]
    build = next(i for i, s in enumerate(names) if "lgtm-dash preview" in s)
    upload = next(i for i, s in enumerate(names) if s.startswith("actions/upload-artifact@"))
    link = next(i for i, s in enumerate(names) if "artifact-url" in str(steps[i].get("env")))
    comment = next(i for i, s in enumerate(names) if "sticky-pull-request-comment" in s)
    assert build < upload < link < comment
    argv = shlex.split(steps[build]["run"].replace('"origin/$BASE_REF"', "origin/main"))[1:]
    args = build_parser().parse_args(argv)  # fails (SystemExit) on an option preview does not have
    assert (args.command, args.base, str(args.out)) == ("preview", "origin/main", "build/preview")
    assert steps[upload]["with"]["path"] == "build/preview"
    assert steps[link]["env"]["PREVIEW_URL"] == f"${{{{ steps.{steps[upload]['id']}.outputs.artifact-url }}}}"
    assert ">> diff.md" in steps[link]["run"] and steps[comment]["with"]["path"] == "diff.md"
    assert all("pull_request" in steps[i]["if"] for i in (build, upload, link))
