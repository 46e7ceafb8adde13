"""Lint of Loki ruler rules (issue 18): LogQL grammar on every expression, a log query where a metric is needed,
stream labels against the catalog, templates against the labels the LogQL result keeps, and the Mimir rule checks
that apply; each with a failing and a passing case, and a planted log query found at its Python `file:line`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lgtm_dash.lint.context import Catalog
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.inputs import LintInput, read_rule_file
from lgtm_dash.lint.registry import all_checks
from tests.helpers import REPO, run_cli

CATALOG = {"metrics": {}, "loki": {"labels": ["app", "namespace", "service"]}}
GOOD = {
    "alert": "Errors",
    "expr": 'sum by (namespace, service) (rate({service=~".+"} |= "ERROR" [5m])) > 1',
    "for": "5m",
    "labels": {"severity": "warning"},
    "annotations": {
        "summary": "{{ $labels.service }} in {{ $labels.namespace }} logs errors",
        "description": "{{ $value | humanize }} errors/s",
        "runbook_url": "https://runbooks.example.com/Errors",
        "dashboard_url": "https://grafana.example.com/d/logs/logs?var-service={{$labels.service}}",
    },
}


def loki_file(tmp_path: Path, *rules: dict) -> Path:
    path = tmp_path / "loki" / "rules" / "logs.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"namespace": "logs", "groups": [{"name": "g", "rules": list(rules)}]}))
    return path


def findings(tmp_path: Path, *rules: dict, catalog: dict | None = CATALOG) -> list[tuple[str, int, str]]:
    lint_input = LintInput()
    lint_input.rule_groups.extend(read_rule_file(loki_file(tmp_path, *rules)))
    catalog_path = tmp_path / "catalog.yaml"
    catalog_path.write_text(json.dumps(catalog or {"metrics": {}}))
    # Every rule, house rules included: the Mimir rule checks apply to Loki rules as they are selected.
    found = lint(lint_input, catalog=Catalog.load(catalog_path) if catalog else None, checks=all_checks())
    return [(f.rule, f.line, f.message) for f in found]


def rules_of(found: list[tuple[str, int, str]]) -> set[str]:
    return {rule for rule, _, _ in found}


def test_a_rule_file_in_a_loki_directory_is_logql(tmp_path: Path) -> None:
    (group,) = read_rule_file(loki_file(tmp_path, GOOD))
    assert group.ruler == "loki" and group.rules[0].language == "logql"
    other = tmp_path / "rules.yaml"
    other.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [GOOD]}]}))
    assert read_rule_file(other)[0].ruler == "mimir"


def test_a_good_loki_rule_has_no_finding(tmp_path: Path) -> None:
    assert findings(tmp_path, GOOD) == []


def test_logql_syntax_on_every_expression(tmp_path: Path) -> None:
    broken = {**GOOD, "expr": 'sum by (service) (rate({service=~".+"} [5m])'}
    found = findings(tmp_path, broken)
    assert rules_of(found) == {"logql/syntax"}
    assert "invalid LogQL" in found[0][2]
    assert "promql/syntax" not in rules_of(found)  # a LogQL rule is never parsed as PromQL


def test_a_log_query_as_alert_or_record_is_an_error(tmp_path: Path) -> None:
    alert = {**GOOD, "expr": '{service="api"} |= "panic"'}
    record = {"record": "service:log_lines:rate5m", "expr": '{service="api"} | json'}
    found = findings(tmp_path, alert, record)
    hits = [f for f in found if f[0] == "logql/rule-metric-query"]
    assert len(hits) == 2
    assert all("a log query cannot be a rule expression" in message for _, _, message in hits)
    node = yaml.compose(loki_file(tmp_path, alert, record).read_text())
    groups = next(v for k, v in node.value if k.value == "groups")
    rules = next(v for k, v in groups.value[0].value if k.value == "rules")
    # A loose file has no source map: the findings point at each rule's own line in it.
    assert sorted(line for _, line, _ in hits) == [r.start_mark.line + 1 for r in rules.value]


def test_stream_labels_against_the_catalog(tmp_path: Path) -> None:
    bad = {**GOOD, "expr": 'sum by (namespace, service) (rate({level="ERROR"} [5m])) > 1'}
    found = [f for f in findings(tmp_path, bad) if f[0] == "logql/stream-label"]
    assert len(found) == 1 and "'level' is not among the catalog's Loki labels" in found[0][2]
    assert not [f for f in findings(tmp_path, bad, catalog=None) if f[0] == "logql/stream-label"]


def test_templates_use_only_labels_the_logql_keeps(tmp_path: Path) -> None:
    narrow = {**GOOD, "expr": 'sum by (service) (rate({service=~".+"} |= "ERROR" [5m])) > 1'}
    found = [f for f in findings(tmp_path, narrow) if f[0] == "alert/template-label"]
    assert len(found) == 1
    assert "uses $labels.namespace, but the expression's result has only the labels (service)" in found[0][2]
    absent = {
        **GOOD,
        "expr": 'absent_over_time({namespace="shop", service="api"} [10m]) == 1',
        "annotations": {**GOOD["annotations"], "description": "{{ $labels.cluster }} is silent"},
    }
    found = [f for f in findings(tmp_path, absent) if f[0] == "alert/template-label"]
    assert len(found) == 1 and "$labels.cluster" in found[0][2]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"labels": {}}, "rule/severity-label"),
        ({"annotations": {"summary": "x"}}, "rule/annotations"),
        ({"for": None}, "rule/for"),
        ({"annotations": {**GOOD["annotations"], "summary": "{{ $labels.service "}}, "rule/template"),
        ({"keep_firing_for": "5m", "bogus": 1}, "rule/syntax"),
    ],
)
def test_the_mimir_rule_checks_apply(tmp_path: Path, change: dict, rule: str) -> None:
    data = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert rule in rules_of(findings(tmp_path, data))


def test_a_planted_log_query_is_an_error_at_its_python_line(project_copy: Path) -> None:
    """Done when of issue 18: the finding names the alerts/ module and the line of the planted alert."""
    path = project_copy / "alerts/logs.py"
    text = path.read_text()
    marker = 'name="QgxLogFatal",\n'
    assert marker in text
    start = text.index(marker)
    expr_start = text.index("expr=", start)
    expr_end = text.index("\n", expr_start)
    path.write_text(text[:expr_start] + 'expr=\'{service=~".+"} |= "panic"\',' + text[expr_end:])
    line = text[: text.rindex("Alert(", 0, start)].count("\n") + 1  # Alert( records the line it starts on
    out = project_copy / "out"
    built = run_cli("--project", str(project_copy), "build", "--out", str(out))
    assert built.returncode == 0, built.stderr
    result = run_cli("--project", str(project_copy), "lint", str(out), "--format", "json", "--no-catalog")
    assert result.returncode == 1, result.stdout + result.stderr
    found = [f for f in json.loads(result.stdout) if f["rule"] == "logql/rule-metric-query"]
    assert len(found) == 1, result.stdout
    assert found[0]["severity"] == "error"
    assert (found[0]["file"], found[0]["line"]) == ("alerts/logs.py", line)
    assert "QgxLogFatal" in found[0]["message"]


def test_this_repository_s_loki_rules_lint_clean() -> None:
    result = run_cli("lint", str(REPO / "out"), "--format", "json", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (REPO / "out/loki/rules").is_dir()
