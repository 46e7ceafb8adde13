"""Each lint rule: one input it must flag and one it must accept; every rule id is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.lint.context import Catalog
from lgtm_dash.lint.engine import INTERNAL_ERROR, lint
from lgtm_dash.lint.inputs import LintInput, dashboard_doc, read_rule_file
from lgtm_dash.lint.registry import all_checks
from tests.helpers import REPO

PROM = {"type": "prometheus", "uid": "prom"}
LOKI = {"type": "loki", "uid": "loki"}
DATASOURCES = [
    {"uid": "prom", "name": "Prom", "type": "prometheus"},
    {"uid": "loki", "name": "Loki", "type": "loki"},
]
CATALOG = {
    "metrics": {
        "http_requests_total": {"type": "counter", "labels": ["method"]},
        "queue_depth": {"type": "gauge", "labels": ["queue"]},
        "latency_ms": {"type": "histogram", "labels": ["route"]},
    },
    "common_labels": ["job", "instance"],
    "loki": {"labels": ["app", "namespace", "service"]},
}


def panel(
    expr: str = "sum(rate(http_requests_total[$__rate_interval]))", ds: Any = PROM, **fields: Any
) -> dict:
    data = {
        "id": 1,
        "title": "Requests",
        "type": "timeseries",
        "datasource": ds,
        "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
        "fieldConfig": {"defaults": {"unit": "reqps"}},
        "targets": [{"refId": "A", "expr": expr, "datasource": ds}],
    }
    data.update(fields)
    return data


def board(*panels: dict, uid: str = "board", variables: tuple[dict, ...] = (), **fields: Any) -> dict:
    return {
        "uid": uid,
        "title": "Board",
        "panels": list(panels),
        "templating": {"list": list(variables)},
        **fields,
    }


def dashboards(*boards: dict, complete: bool = True) -> LintInput:
    docs = [dashboard_doc(b, f"{b['uid']}.json") for b in boards]
    return LintInput(dashboards=docs, datasources=DATASOURCES, complete=complete)


def rule(**fields: Any) -> dict:
    base = {
        "alert": "HighErrors",
        "expr": "sum(rate(http_requests_total[5m])) > 1",
        "for": "5m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "s", "description": "d", "runbook_url": "https://runbooks/x"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def record(
    name: str = "job:http_requests:rate5m", expr: str = "sum by (job) (rate(http_requests_total[5m]))"
):
    return {"record": name, "expr": expr}


def rules(*items: dict, extra_boards: tuple[dict, ...] = ()) -> Any:
    """A factory: writes a rule file under tmp_path and returns the LintInput (with optional dashboards)."""

    def make(tmp_path: Path) -> LintInput:
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "rules.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": list(items)}]}))
        result = (
            dashboards(*extra_boards) if extra_boards else LintInput(datasources=DATASOURCES, complete=True)
        )
        result.rule_groups.extend(read_rule_file(path))
        return result

    return make


def loki_rules(*items: dict) -> Any:
    """A factory like `rules`, for a Loki rule file (a file under `loki/` holds LogQL rules)."""

    def make(tmp_path: Path) -> LintInput:
        path = tmp_path / "loki" / "rules.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": list(items)}]}))
        result = LintInput(datasources=DATASOURCES, complete=True)
        result.rule_groups.extend(read_rule_file(path))
        return result

    return make


LOKI_ALERT = 'sum by (service) (count_over_time({service="api"} |= "panic" [5m])) > 0'

VAR_JOB = {"name": "job", "type": "query", "current": {"value": "api"}, "query": "label_values(up, job)"}

# rule id -> (flagged input, accepted input)
CASES: dict[str, tuple[Any, Any]] = {
    "promql/syntax": (dashboards(board(panel("sum(rate(x[5m])"))), dashboards(board(panel()))),
    "promql/rate-counter": (
        dashboards(board(panel("rate(queue_depth[$__rate_interval])"))),
        dashboards(board(panel("rate(http_requests_total[$__rate_interval])"))),
    ),
    "promql/counter-without-rate": (
        dashboards(board(panel("sum(http_requests_total)"))),
        dashboards(board(panel("sum(increase(http_requests_total[$__range]))"))),
    ),
    "promql/rate-interval": (
        dashboards(board(panel("sum(rate(http_requests_total[5m]))"))),
        dashboards(board(panel("sum(rate(http_requests_total[$__rate_interval]))"))),
    ),
    "promql/histogram-le": (
        dashboards(
            board(
                panel("histogram_quantile(0.9, sum by (route) (rate(latency_ms_bucket[$__rate_interval])))")
            )
        ),
        dashboards(
            board(panel("histogram_quantile(0.9, sum by (le) (rate(latency_ms_bucket[$__rate_interval])))"))
        ),
    ),
    "promql/unknown-metric": (
        dashboards(board(panel("sum(rate(http_requets_total[$__rate_interval]))"))),
        dashboards(board(panel('sum(rate(http_requests_total{method="GET", job="api"}[$__rate_interval]))'))),
    ),
    "logql/syntax": (
        dashboards(board(panel('sum(count_over_time({app="api"} [$__auto])', LOKI))),
        dashboards(board(panel('sum(count_over_time({app="api"} |= "error" [$__auto]))', LOKI))),
    ),
    "logql/range-auto": (
        dashboards(board(panel('sum(count_over_time({app="api"} [5m]))', LOKI))),
        dashboards(board(panel('sum(count_over_time({app="api"} [$__auto]))', LOKI))),
    ),
    "dashboard/uid": (dashboards(board(panel(), uid="bad uid!")), dashboards(board(panel(), uid="good-uid"))),
    "dashboard/panel-id": (
        dashboards(board(panel(), panel(gridPos={"x": 12, "y": 0, "w": 12, "h": 8}))),
        dashboards(board(panel(), panel(id=2, gridPos={"x": 12, "y": 0, "w": 12, "h": 8}))),
    ),
    "dashboard/grid": (
        dashboards(board(panel(), panel(id=2, gridPos={"x": 6, "y": 4, "w": 12, "h": 8}))),
        dashboards(board(panel(), panel(id=2, gridPos={"x": 0, "y": 8, "w": 24, "h": 8}))),
    ),
    "dashboard/datasource-exists": (
        dashboards(board(panel(ds={"type": "prometheus", "uid": "${ds}"}))),
        dashboards(
            board(
                panel(ds={"type": "prometheus", "uid": "${ds}"}),
                variables=({"name": "ds", "type": "datasource", "query": "prometheus"},),
            )
        ),
    ),
    "dashboard/panel-targets": (dashboards(board(panel(targets=[]))), dashboards(board(panel()))),
    "dashboard/panel-unit": (
        dashboards(board(panel(fieldConfig={"defaults": {"unit": "MyInvalidUnit"}}))),
        dashboards(board(panel(fieldConfig={"defaults": {"unit": "percentunit"}}))),
    ),
    "dashboard/panel-title": (dashboards(board(panel(title=""))), dashboards(board(panel()))),
    "dashboard/variable-exists": (
        dashboards(board(panel('sum(rate(http_requests_total{job="$job"}[$__rate_interval]))'))),
        dashboards(
            board(panel('sum(rate(http_requests_total{job="$job"}[$__rate_interval]))'), variables=(VAR_JOB,))
        ),
    ),
    "dashboard/link-target": (
        dashboards(board(panel(links=[{"title": "details", "url": "/d/missing/details"}]))),
        dashboards(board(panel(links=[{"title": "self", "url": "/d/board/board?var-job=api"}]))),
    ),
    "xref/datasource": (
        dashboards(board(panel(ds={"type": "prometheus", "uid": "gone"}))),
        dashboards(board(panel(ds={"type": "prometheus", "uid": "prom"}))),
    ),
    "xref/recording-rule": (
        dashboards(board(panel("sum(job:http_requests:rate5m)"))),
        rules(record(), extra_boards=(board(panel("sum(job:http_requests:rate5m)")),)),
    ),
    "xref/dashboard-link": (
        rules(
            rule(
                annotations={
                    "summary": "s",
                    "description": "d",
                    "runbook_url": "r",
                    "dashboard_url": "https://grafana/d/nope/x",
                }
            ),
            extra_boards=(board(panel()),),
        ),
        rules(
            rule(
                annotations={
                    "summary": "s",
                    "description": "d",
                    "runbook_url": "r",
                    "dashboard_url": "https://grafana/d/board/x",
                }
            ),
            extra_boards=(board(panel()),),
        ),
    ),
    "rule/syntax": (rules(rule(record="x:y:z")), rules(rule())),
    "rule/for": (rules(rule(**{"for": None})), rules(rule())),
    "rule/severity-label": (
        rules(rule(labels={"severity": "page"})),
        rules(rule(labels={"severity": "critical"})),
    ),
    "rule/annotations": (rules(rule(annotations={"summary": "s"})), rules(rule())),
    "rule/template": (
        rules(
            rule(
                annotations={"summary": "{{ $label.instance }} down", "description": "d", "runbook_url": "r"}
            )
        ),
        rules(
            rule(
                annotations={"summary": "{{ $labels.instance }} down", "description": "d", "runbook_url": "r"}
            )
        ),
    ),
    "rule/record-name": (rules(record("http_requests_rate")), rules(record())),
    "rule/duplicate": (rules(rule(), rule()), rules(rule(), rule(alert="Other"))),
    "alert/comparison": (
        rules(rule(expr="sum(rate(http_requests_total[5m]))")),
        rules(rule(expr="sum(rate(http_requests_total[5m])) > 10")),
    ),
    "logql/rule-metric-query": (
        loki_rules(rule(expr='{service="api"} |= "panic"')),
        loki_rules(rule(expr=LOKI_ALERT)),
    ),
    "logql/stream-label": (
        loki_rules(rule(expr='sum by (service) (count_over_time({level="ERROR"} [5m])) > 0')),
        loki_rules(rule(expr=LOKI_ALERT)),
    ),
    "logql/template-label": (
        loki_rules(
            rule(
                expr=LOKI_ALERT,
                annotations={"summary": "{{ $labels.pod }} panics", "description": "d", "runbook_url": "r"},
            )
        ),
        loki_rules(
            rule(
                expr=LOKI_ALERT,
                annotations={
                    "summary": "{{ $labels.service }} panics",
                    "description": "d",
                    "runbook_url": "r",
                },
            )
        ),
    ),
}


def _run(case: Any, tmp_path: Path) -> list:
    lint_input = case(tmp_path) if callable(case) else case
    findings = lint(
        lint_input,
        catalog=Catalog(CATALOG["metrics"], frozenset(CATALOG["common_labels"]), CATALOG["loki"], {}),
    )
    assert not [f for f in findings if f.rule == INTERNAL_ERROR], findings
    return findings


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_flags_the_bad_case_and_accepts_the_good_one(rule_id: str, tmp_path: Path) -> None:
    bad, good = CASES[rule_id]
    flagged = [f for f in _run(bad, tmp_path) if f.rule == rule_id]
    assert flagged, f"{rule_id} did not flag its bad case"
    assert all("\n" not in f.message and f.file for f in flagged)
    accepted = [f for f in _run(good, tmp_path / "good") if f.rule == rule_id]
    assert not accepted, f"{rule_id} flagged its good case: {accepted}"


def test_every_check_has_a_case_and_a_documented_id() -> None:
    ids = {check.id for check in all_checks()}
    docs = (REPO / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## `([a-z]+/[a-z-]+)`", docs, flags=re.MULTILINE))
    assert ids - documented == set(), f"rule ids missing from docs/lint-rules.md: {sorted(ids - documented)}"
    ours = {i for i in ids if not i.startswith("sql/")}  # the SQL checks are tested in tests/test_sql.py
    assert ours - CASES.keys() == set(), f"rules without a bad/good case: {sorted(ours - CASES.keys())}"
