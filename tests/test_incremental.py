"""Incremental build and lint (issue 19): `make build` reusing the cache of earlier runs writes exactly the out/
a clean build writes and reports exactly the findings a clean lint reports, after edits to one dashboard, to a
shared `_common.py`, to the catalog and to the lint configuration; files whose content did not change are not
rewritten. Run on the benchmark's generated project (bench/workload.py); `LGTM_DASH_IDENTITY_SIZE=1000` runs
it at the benchmark's size."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from bench import workload
from lgtm_dash.buildcache import CACHE_DIR
from lgtm_dash.cli import main
from lgtm_dash.compile import IncrementalBuild
from lgtm_dash.lint.cache import LintCache
from lgtm_dash.lint.config import LintConfig
from lgtm_dash.lint.context import Catalog
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.inputs import read_paths
from tests.test_safety import tree

# Above the thresholds of parallel compilation (64 modules) and parallel lint (64 dashboards).
SIZE = int(os.environ.get("LGTM_DASH_IDENTITY_SIZE", "70"))


def make_build(project: Path, out: Path, *, cache: bool) -> tuple[dict[str, bytes], list[dict[str, object]]]:
    """`lgtm-dash build` then `lgtm-dash lint --format json`, as `make build` runs them: (out/, findings)."""
    no_cache = [] if cache else ["--no-cache"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--project", str(project), "build", "--out", str(out), *no_cache]) == 0
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--project", str(project), "lint", "--format", "json", str(out), *no_cache]) in (0, 1)
    return tree(out), json.loads(printed.getvalue())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workload.write_project(tmp_path_factory.mktemp("incremental") / "project", SIZE).root


def test_a_cached_build_and_lint_equal_clean_ones_after_every_kind_of_edit(
    project: Path, tmp_path: Path
) -> None:
    cached = tmp_path / "out"
    steps = 0

    def same_as_clean(what: str) -> tuple[dict[str, bytes], list[dict[str, object]]]:
        nonlocal steps
        steps += 1
        clean = make_build(project, tmp_path / f"clean-{steps}", cache=False)
        again = make_build(project, cached, cache=True)
        assert again[0] == clean[0], f"after {what}: out/ differs from a clean build"
        assert again[1] == clean[1], f"after {what}: lint findings differ from a clean lint"
        return again

    built, findings = same_as_clean("a first build")
    assert findings == [] and (project / CACHE_DIR).is_dir()
    stamps = {p: p.stat().st_mtime_ns for p in cached.rglob("*") if p.is_file()}

    # One dashboard: a panel title, and a query on a metric the catalog does not know (a lint finding).
    edit(project / "dashboards" / "gen_0001.py", "'Request rate'", "'Requests per second'")
    edit(
        project / "dashboards" / "gen_0001.py",
        "kube_pod_container_status_restarts_total",
        "kube_pod_restarts",
    )
    built, findings = same_as_clean("a dashboard edit")
    assert {f["rule"] for f in findings} == {"promql/unknown-metric"}
    changed = {
        p.relative_to(cached).as_posix() for p, mtime in stamps.items() if p.stat().st_mtime_ns != mtime
    }
    dashboard = "grafana/dashboards/bench-team-01/bench-svc-0001.json"
    assert {dashboard, "build.json"} <= changed <= {dashboard, "build.json", "sourcemap.json"}

    # A shared helper every dashboard imports.
    edit(project / "dashboards" / "_common.py", '"ERROR", "WARN", "INFO", "DEBUG"', '"ERROR", "WARN", "INFO"')
    same_as_clean("an edit of dashboards/_common.py")

    # The catalog: a metric every dashboard uses is no longer known.
    edit(
        project / "catalog.yaml",
        "  kube_deployment_status_replicas_available:",
        "  kube_deployment_replicas:",
    )
    built, findings = same_as_clean("a catalog edit")
    assert sum(1 for f in findings if "kube_deployment_status_replicas_available" in f["message"]) == SIZE

    # The lint configuration: house rules on, one correctness rule off.
    (project / "pyproject.toml").write_text(
        '[tool.lgtm-dash.lint]\nextend-select = ["dashboard/panel-title", "rule/runbook-url"]\n'
        'ignore = ["promql/unknown-metric"]\n'
    )
    built, findings = same_as_clean("a lint configuration edit")
    assert not any(f["rule"] == "promql/unknown-metric" for f in findings)

    # A rule module (it imports dashboards), and a dashboard taken away: its file leaves out/.
    edit(project / "alerts" / "gen_01.py", 'for_="10m"', 'for_="15m"')
    (project / "dashboards" / f"{workload.dashboard_spec(SIZE).module}.py").unlink()
    built, _ = same_as_clean("a rule edit and a removed dashboard")
    assert not any(rel.endswith(f"bench-svc-{SIZE:04d}.json") for rel in built)


def test_after_one_change_only_that_module_is_compiled_and_only_that_dashboard_linted(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    make_build(project, out, cache=True)
    edit(project / "dashboards" / "gen_0002.py", "'Error ratio'", "'Errors'")

    run = IncrementalBuild(project, None, out, cache=True)
    outputs = run.outputs()
    run.write(outputs)
    run.save(outputs)
    assert list(run.compiled) == ["dashboards/gen_0002.py"]  # no alert module links to it

    cache = LintCache(project, out)  # as `lgtm-dash lint` runs it
    lint_input = read_paths([out], known=cache)
    config = LintConfig.load(project / "pyproject.toml")
    lint(lint_input, Catalog.load(project / "catalog.yaml"), project=project, config=config, cache=cache)
    assert cache.reused == len(lint_input.dashboards) - 1
