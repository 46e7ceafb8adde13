"""The linter end to end: Grafana interpolation, agreement with grafana/dashboard-linter, the real-world corpora
(never an internal error), planted bad queries located at their Python line, output formats and exit codes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from lgtm_dash.lint.config import LintConfig
from lgtm_dash.lint.engine import INTERNAL_ERROR, lint
from lgtm_dash.lint.inputs import LintInput, dashboard_doc, read_paths
from lgtm_dash.lint.interpolate import DURATION_PLACEHOLDER, InterpolationError, Interpolator
from tests.helpers import REPO, corpus, run_cli

# ------------------------------------------------------------------ interpolation


def _expansion_cases() -> list[dict]:
    path = corpus("dashboard-linter/variable_expansion.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_interpolation_agrees_with_dashboard_linter_variable_expansion() -> None:
    cases = _expansion_cases()
    disagreements = []
    for case in cases:
        interpolator = Interpolator.for_templating(case["variables"])
        # dashboard-linter writes its placeholder as 8869990787ms; promql-parser wraps millisecond counts of
        # 2^32 and more, so ours spells the same duration in units.
        expected = (case["expected_result"] or "").replace("8869990787ms", DURATION_PLACEHOLDER)
        try:
            got, error = interpolator(case["expr"]), None
        except InterpolationError as err:
            got, error = "", str(err)
        if case["expected_error"]:
            if error != case["expected_error"]:
                disagreements.append((case["desc"], case["expected_error"], error))
        elif error or got != expected:
            disagreements.append((case["desc"], expected, error or got))
    assert len(cases) == 29
    assert not disagreements, f"{len(cases) - len(disagreements)}/{len(cases)} agree; differ: {disagreements}"


def test_interpolation_uses_current_values_and_keeps_what_other_parsers_need() -> None:
    variables = [
        {"name": "ns", "type": "query", "current": {"value": ["a", "b"]}},
        {"name": "window", "type": "interval", "current": {"value": "10m"}},
        {"name": "undecided", "type": "interval"},
    ]
    interpolate = Interpolator.for_templating(variables)
    assert interpolate('rate(x{ns=~"$ns"}[$window])') == 'rate(x{ns=~"a|b"}[10m])'
    assert interpolate("rate(x[$undecided])") == "rate(x[5m])"  # a duration where one is expected
    logql = interpolate.with_options(keep_range_macros=True)
    assert logql('count_over_time({ns="$ns"}[$__auto])') == 'count_over_time({ns="a|b"}[$__auto])'
    sql = interpolate.with_options(keep_macros=True)
    assert sql("SELECT 1 FROM t WHERE $__timeFilter(ts) AND ns IN (${ns:sqlstring})") == (
        "SELECT 1 FROM t WHERE $__timeFilter(ts) AND ns IN ('a','b')"
    )


# ------------------------------------------------------------------ dashboard-linter agreement

ALL_RULES = LintConfig(select=("ALL",))
# Their rule -> our rule ids whose verdict (finding or not) must match the case's expected severity.
SHARED_RULES = {
    "panel-units-rule": {"dashboard/panel-unit"},
    "panel-no-targets-rule": {"dashboard/panel-targets"},
    "panel-title-description-rule": {"dashboard/panel-title"},
    "panel-datasource-rule": {"dashboard/datasource-exists", "xref/datasource"},
    "target-promql-rule": {"promql/syntax", "dashboard/panel-targets"},
    "target-logql-rule": {"logql/syntax"},
    "target-logql-auto-rule": {"logql/range-auto"},
    "target-rate-interval-rule": {"promql/rate-interval"},
    "target-counter-agg-rule": {"promql/counter-without-rate"},
    "template-label-promql-rule": {"promql/syntax"},
}
# Cases we deliberately decide differently, by (rule, their source line), with the reason.
DELIBERATE = {
    # We check the title only: a missing description is not worth a finding on every panel.
    ("panel-title-description-rule", "lint/rule_panel_title_description_test.go:26"),
    # A bare metric name as a Prometheus variable query is valid in Grafana (it lists matching series).
    ("template-label-promql-rule", "lint/rule_template_label_promql_test.go:110"),
    # Grafana shows a unit id it does not know as a custom suffix: "MyInvalidUnit" is not invalid.
    ("panel-units-rule", "lint/rule_panel_units_test.go:39"),
    # A `_total` name alone is not proof of a counter (gauges are named so too): with nothing else in the
    # dashboard rating `something_total`, the raw use is not reported (issue 14).
    ("target-counter-agg-rule", "lint/rule_target_counter_agg_test.go:60"),
    ("target-counter-agg-rule", "lint/rule_target_counter_agg_test.go:76"),
}


def test_agreement_with_dashboard_linter_cases() -> None:
    cases = [
        json.loads(x) for x in corpus("dashboard-linter/cases.jsonl").read_text().splitlines() if x.strip()
    ]
    shared = [c for c in cases if c["rule"] in SHARED_RULES]
    agree, differ, skipped = 0, [], []
    for case in shared:
        key = (case["rule"], case["source"])
        expected = any(r["severity"] in ("Warning", "Error", "Fixed") for r in case["expected_results"])
        doc = dashboard_doc(case["dashboard"], case["dashboard_file"])
        findings = lint(LintInput(dashboards=[doc]), config=ALL_RULES)
        assert not [f for f in findings if f.rule == INTERNAL_ERROR], findings
        got = any(f.rule in SHARED_RULES[case["rule"]] for f in findings)
        if key in DELIBERATE:
            skipped.append(key)
        elif got == expected:
            agree += 1
        else:
            differ.append((*key, f"expected {'a finding' if expected else 'none'}"))
    assert len(skipped) == len(DELIBERATE), f"deliberate disagreements not found: {DELIBERATE - set(skipped)}"
    assert not differ, f"agree on {agree}/{len(shared) - len(skipped)} shared cases; differ on {differ}"


def test_v2_dashboard_lints_without_errors_from_shared_rules() -> None:
    doc = dashboard_doc(json.loads(corpus("dashboard-linter/v2_dashboard.json").read_text()), "v2.json")
    findings = lint(LintInput(dashboards=[doc]))
    shared = set().union(*SHARED_RULES.values()) - {"promql/rate-interval"}  # [5m] is a fixed window there
    assert [f for f in findings if f.rule in shared or f.rule == INTERNAL_ERROR] == []
    assert doc.panels[0].title == "CPU" and doc.templating[0]["type"] == "datasource"


# ------------------------------------------------------------------ corpora: never crash


# Corpus files that read as a dashboard or rule file, as measured (the rest are one `input/...` finding each,
# which the test allows). Floors equal the measured counts: a file that stops reading fails the test.
READABLE_CORPUS_FILES = {"dashboards": 74, "rules": 56}


@pytest.mark.parametrize("folder", ["dashboards", "rules"])
def test_linting_every_corpus_file_never_fails_internally(folder: str) -> None:
    root = corpus(folder)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
    assert files
    linted = 0
    for path in files:
        findings = lint(read_paths([path]))
        assert [f for f in findings if f.rule == INTERNAL_ERROR] == [], path
        problems = [f for f in findings if f.rule.startswith("input/")]
        assert all("\n" not in f.message and f.file for f in problems), problems
        linted += not problems
    assert linted >= READABLE_CORPUS_FILES[folder], linted


def test_parallel_lint_finds_exactly_what_one_process_finds() -> None:
    # Large inputs are linted in forked workers; the findings must not depend on that.
    lint_input = read_paths([corpus("dashboards/kube-prometheus"), corpus("dashboards/mimir-mixin")])
    assert len(lint_input.dashboards) >= 59  # as measured
    serial = lint(lint_input, jobs=1)
    parallel = lint(lint_input, jobs=2)
    assert serial and parallel == serial


def test_promtool_bad_rule_files_are_findings() -> None:
    root = corpus("rules")
    bad_template = lint(read_paths([root / "promtool-testdata/rules-bad.yml"]))
    assert any(f.rule == "rule/template" and "$label" in f.message for f in bad_template)
    for name in ("inline_template_03.bad.yaml", "inline_template_04.bad.yaml", "inline_template_05.bad.yaml"):
        assert any(f.rule == "rule/template" for f in lint(read_paths([root / "rulefmt-testdata" / name]))), (
            name
        )
    duplicates = lint(read_paths([root / "promtool-testdata/rules_duplicates.yml"]))
    assert any(f.rule == "rule/duplicate" and "job:test:count_over_time1m" in f.message for f in duplicates)
    record_and_alert = lint(read_paths([root / "rulefmt-testdata/record_and_alert.bad.yaml"]))
    assert any(f.rule == "rule/syntax" and f.line > 0 for f in record_and_alert)


# ------------------------------------------------------------------ planted bad queries, located


def _build(project: Path, out: Path) -> None:
    result = run_cli("--project", str(project), "build", "--out", str(out))
    assert result.returncode == 0, result.stderr


def _plant(path: Path, old: str, new: str) -> int:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize(
    ("module", "old", "new", "rule", "uid"),
    [
        ("http_overview.py", "prom_target(REQUEST_RATE)", 'prom_target("sum(rate(qgx_http_requests_total[5m]")',
         "promql/syntax", "qgx-http-overview"),
        ("backend_logs.py", 'f"sum(count_over_time({SELECTED} [$__range]))"',
         'f"sum(count_over_time({SELECTED} [$__range])"', "logql/syntax", "qgx-backend-logs"),
    ],
)  # fmt: skip
def test_planted_bad_query_is_reported_at_its_python_line(
    project_copy: Path, tmp_path: Path, module: str, old: str, new: str, rule: str, uid: str
) -> None:
    line = _plant(project_copy / "dashboards" / module, old, new)
    if (REPO / "catalog.yaml").is_file():
        shutil.copy(REPO / "catalog.yaml", project_copy / "catalog.yaml")
    out = tmp_path / "out"
    _build(project_copy, out)
    result = run_cli("--project", str(project_copy), "lint", str(out), "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = [f for f in json.loads(result.stdout) if f["rule"] == rule]
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding["severity"] == "error" and finding["dashboard"] == uid and finding["panel"]
    assert finding["file"] == f"dashboards/{module}"
    # the panel's constructor call spans a few lines around the planted query
    assert 0 < line - finding["line"] < 15, (finding, line)
    assert uid in finding["message"] and finding["panel"] in finding["message"]


# ------------------------------------------------------------------ CLI: formats and exit codes


def _bad_dashboard(tmp_path: Path) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({
        "uid": "bad", "title": "Bad",
        "panels": [{"id": 1, "title": "Rate", "type": "timeseries", "fieldConfig": {"defaults": {"unit": "short"}},
                    "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
                    "datasource": {"type": "prometheus", "uid": "p"},
                    "targets": [{"refId": "A", "expr": "sum(rate(x_total[$__rate_interval])"}]}],
    }))  # fmt: skip
    return path


def test_json_and_github_formats_and_exit_codes(tmp_path: Path) -> None:
    bad = _bad_dashboard(tmp_path)
    result = run_cli("lint", str(bad), "--format", "json")
    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert {"rule", "severity", "message", "file", "dashboard", "panel"} <= set(findings[0])
    assert findings[0]["rule"] == "promql/syntax" and findings[0]["dashboard"] == "bad"
    assert findings[0]["panel"] == "Rate" and findings[0]["file"].endswith("bad.json")

    github = run_cli("lint", str(bad), "--format", "github")
    assert github.returncode == 1
    assert re.match(
        r"^::error file=[^,]*bad\.json,title=promql/syntax::dashboard 'bad', panel 'Rate'", github.stdout
    )

    text = run_cli("lint", str(bad))
    assert "promql/syntax error" in text.stdout and "1 error" in text.stdout


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    path = tmp_path / "warn.json"
    path.write_text(json.dumps({"uid": "w", "title": "W", "panels": [
        {"id": 1, "title": "", "type": "text", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}},
        {"id": 2, "title": "", "type": "timeseries", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {"unit": "short"}}, "datasource": {"type": "prometheus", "uid": "p"},
         "targets": [{"refId": "A", "expr": "up"}]}]}))  # fmt: skip
    assert run_cli("lint", str(path)).returncode == 0
    strict = run_cli("lint", str(path), "--strict", "--format", "json")
    assert strict.returncode == 1
    assert [f["rule"] for f in json.loads(strict.stdout)] == ["dashboard/panel-title"]


@pytest.mark.parametrize(
    ("name", "content", "rule", "line"),
    [
        ("broken.json", '{"uid": "x",\n "panels": [}', "input/syntax", 2),
        ("broken.yaml", "groups:\n  - name: g\n    rules: [\n", "input/syntax", 4),
        ("notrules.yaml", "tests:\n  - interval: 1m\n", "input/format", 1),
        ("notes.txt", "hello", "input/format", 0),
    ],
)
def test_an_unusable_file_is_one_finding_and_the_others_are_linted(
    tmp_path: Path, name: str, content: str, rule: str, line: int
) -> None:
    bad = tmp_path / name
    bad.write_text(content)
    good = _bad_dashboard(tmp_path)  # a usable file with a finding of its own
    result = run_cli("--project", str(tmp_path), "lint", str(bad), str(good), "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)
    unusable = [f for f in findings if f["file"].endswith(name)]
    assert [(f["rule"], f["line"]) for f in unusable] == [(rule, line)], unusable
    assert "\n" not in unusable[0]["message"]
    assert any(f["rule"] == "promql/syntax" and f["file"].endswith("bad.json") for f in findings)


def test_a_run_that_cannot_start_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("--project", str(tmp_path), "lint", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1
        and "missing.json" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_repository_out_lints_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(REPO, out)
    result = run_cli("--project", str(REPO), "lint", str(out), "--format", "json")
    errors = [f for f in json.loads(result.stdout) if f["severity"] == "error"]
    assert result.returncode == 0 and errors == [], errors
