"""What real-world dashboards and rule files do on purpose is not reported (the false-positive classes of issue
14), what they get wrong is (the recall rules), each on a minimal input; and PromQL of Prometheus 3.x: stable
syntax parses, experimental syntax is a warning, never a syntax error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lgtm_dash.lint.config import LintConfig
from lgtm_dash.lint.context import Catalog
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.findings import Finding, Severity
from lgtm_dash.lint.inputs import LintInput, read_text
from tests.helpers import corpus

PROM = {"type": "prometheus", "uid": "prom"}
LOKI = {"type": "loki", "uid": "loki"}
EVERYTHING = LintConfig(select=("ALL",))


def panel(expr: str = "sum(rate(x_total[$__rate_interval]))", **fields: Any) -> dict:
    data = {
        "id": 1, "type": "timeseries", "title": "Panel", "datasource": PROM,
        "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8}, "fieldConfig": {"defaults": {"unit": "short"}},
        "targets": [{"refId": "A", "expr": expr}],
    }  # fmt: skip
    data.update(fields)
    return data


def dashboard(*panels: dict, **fields: Any) -> dict:
    return {"uid": "d", "title": "D", "panels": list(panels), **fields}


def findings(
    *docs: dict | str, config: LintConfig | None = None, catalog: Catalog | None = None
) -> list[Finding]:
    lint_input = LintInput()
    for index, doc in enumerate(docs):
        if isinstance(doc, str):
            lint_input.extend(read_text(doc, f"rules{index}.yaml"))
        else:
            lint_input.extend(read_text(json.dumps(doc), f"dash{index}.json"))
    return lint(lint_input, config=config, catalog=catalog)


def rules_of(found: list[Finding], *severities: Severity) -> set[str]:
    return {f.rule for f in found if not severities or f.severity in severities}


# ------------------------------------------------------------------ dashboards: deliberate, not reported


def test_rows_stored_as_zero_by_zero_and_panels_stacked_on_purpose_are_fine() -> None:
    board = dashboard(
        {"id": 1, "type": "row", "title": "Row", "gridPos": {"x": 0, "y": 0, "w": 0, "h": 0}},
        panel(id=2, gridPos={"x": 0, "y": 1, "w": 24, "h": 7}),
        panel(id=3, gridPos={"x": 0, "y": 2, "w": 24, "h": 7}),  # grafonnet stacks; Grafana pushes it down
    )
    assert "dashboard/grid" not in rules_of(findings(board, config=EVERYTHING))
    side_by_side = dashboard(panel(id=1, gridPos={"x": 0, "y": 0, "w": 12, "h": 8}),
                             panel(id=2, gridPos={"x": 8, "y": 0, "w": 12, "h": 8}))  # fmt: skip
    grid = [f for f in findings(side_by_side) if f.rule == "dashboard/grid"]
    assert [f.severity for f in grid] == [Severity.WARNING]


def test_leftover_empty_targets_of_panels_that_never_query_are_not_syntax_errors() -> None:
    board = dashboard(
        {"id": 1, "type": "text", "title": "About", "targets": [{"refId": "A", "expr": ""}]},
        {"id": 2, "type": "alertlist", "title": "Alerts", "targets": [{"refId": "A", "expr": "sum("}]},
        panel(id=3, targets=[{"refId": "A", "expr": "up"}, {"refId": "B", "expr": ""}]),
    )
    assert rules_of(findings(board), Severity.ERROR) == set()


def test_a_variable_inside_a_metric_name_keeps_the_name_valid() -> None:
    variables = {"list": [{"name": "mountpoint", "type": "query", "current": {"value": ["secret/", "kv/"]}}]}
    board = dashboard(
        panel("sum(rate(vault_route_${mountpoint}_sum[$__rate_interval]))"), templating=variables
    )
    assert "promql/syntax" not in rules_of(findings(board))


def test_datasource_inputs_of_exported_dashboards_are_defined() -> None:
    ds = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    board = dashboard(panel(datasource=ds), __inputs=[{"name": "DS_PROMETHEUS", "type": "datasource",
                                                        "pluginId": "prometheus"}])  # fmt: skip
    assert rules_of(findings(board)) & {"dashboard/variable-exists", "dashboard/datasource-exists"} == set()


def test_unknown_unit_ids_are_custom_suffixes_and_override_mappings_are_units() -> None:
    suffix = panel(fieldConfig={"defaults": {"unit": "connections"}})
    mapped = panel(id=2, fieldConfig={"defaults": {}, "overrides": [
        {"matcher": {"id": "byName", "options": "up"}, "properties": [{"id": "mappings", "value": [{"type": "value"}]}]}
    ]})  # fmt: skip
    assert "dashboard/panel-unit" not in rules_of(findings(dashboard(suffix, mapped), config=EVERYTHING))
    assert "dashboard/panel-unit" not in rules_of(findings(dashboard(panel(fieldConfig={}))))  # opt-in


@pytest.mark.parametrize(
    ("expr", "fields"),
    [
        ("sum(increase(x_total[1w]))", {"type": "stat", "targets": [{"refId": "A", "expr": "sum(increase(x_total[1w]))",
                                                                     "instant": True}]}),
        ("sum(increase(x_total[1d]))", {"title": "Requests per day"}),
        ("sum(increase(x_total[$__interval]))", {}),
        ("sum(rate(x_total[5m]))", {"title": "Rate[5m]"}),
        ("sum(rate(x_total[5m]))", {"type": "table", "targets": [{"refId": "A", "expr": "sum(rate(x_total[5m]))",
                                                                 "instant": True, "format": "table"}]}),
    ],
)  # fmt: skip
def test_deliberate_fixed_windows_are_not_rate_interval_findings(expr: str, fields: dict) -> None:
    assert "promql/rate-interval" not in rules_of(findings(dashboard(panel(expr, **fields))))


def test_short_fixed_windows_in_graphs_are() -> None:
    assert "promql/rate-interval" in rules_of(findings(dashboard(panel("sum(rate(x_total[5m]))"))))
    assert "promql/rate-interval" in rules_of(findings(dashboard(panel("sum(rate(x_total[$__interval]))"))))


# ------------------------------------------------------------------ counters


@pytest.mark.parametrize(
    "expr",
    [
        "cortex_ruler_managers_total",  # a gauge named *_total, nothing says otherwise
        "created_total - removed_total",  # a difference of two counters
        "(received_total or on() vector(0)) - on() (processed_total or on() vector(0))",
        "max_over_time(x_total[1h]) - min_over_time(x_total[1h])",
        "sum(errors_total) / sum(requests_total)",  # a lifetime ratio
        "process_uptime_seconds_total",  # an uptime counter
        "count(x_total)",
    ],
)
def test_raw_counters_used_on_purpose_are_not_errors(expr: str) -> None:
    board = dashboard(panel(expr), panel("sum(rate(x_total[$__rate_interval]))", id=2))
    assert not [f for f in findings(board) if f.rule == "promql/counter-without-rate"]


def test_a_raw_counter_is_an_error_when_its_type_is_known_and_a_warning_when_guessed() -> None:
    catalog = Catalog({"http_requests_total": {"type": "counter"}}, frozenset(), {}, {})
    known = [f for f in findings(dashboard(panel("sum(http_requests_total)")), catalog=catalog)
             if f.rule == "promql/counter-without-rate"]  # fmt: skip
    assert [f.severity for f in known] == [Severity.ERROR]
    guessed = findings(dashboard(panel("sum(cpu_seconds_total)")))  # a base unit before _total: a counter
    assert [f.severity for f in guessed if f.rule == "promql/counter-without-rate"] == [Severity.WARNING]


# ------------------------------------------------------------------ rule files


@pytest.mark.parametrize("text", ["", "null\n", "{}\n", "groups:\n", "groups: []\n",
                                  "groups:\n  - name: empty\n    rules: []\n"])  # fmt: skip
def test_empty_rule_files_and_groups_are_valid(text: str) -> None:
    assert findings(text, config=EVERYTHING) == []


def test_duplicates_are_only_duplicates_within_one_file_or_namespace() -> None:
    rule = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n"
    assert "rule/duplicate" not in rules_of(findings(rule, rule))  # two unrelated files (both "alerts.yaml")
    twice = rule + "  - name: h\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n"
    assert "rule/duplicate" in rules_of(findings(twice))


def test_explicit_for_zero_nested_comparisons_and_runbooks() -> None:
    text = """\
groups:
  - name: g
    rules:
      - alert: Explicit
        expr: up == 0
        for: 0m
      - alert: Nested
        expr: count by (job) (up == 0) / count by (job) (up)
        for: 5m
"""
    everything = rules_of(findings(text, config=EVERYTHING))
    assert "rule/for" not in everything and "alert/comparison" not in everything
    assert "rule/runbook-url" in everything  # opt-in: reported when selected...
    assert not any(f.severity is Severity.ERROR for f in findings(text))  # ...never without configuration


# ------------------------------------------------------------------ recall


def test_templates_using_labels_the_expression_aggregates_away() -> None:
    text = """\
groups:
  - name: g
    rules:
      - alert: Aggregated
        expr: sum by (job) (rate(errors_total[5m])) > 1
        labels: {team: api}
        annotations:
          summary: "{{ $labels.job }} on {{ $labels.instance }} for {{ $labels.team }}"
      - alert: Kept
        expr: sum by (job, instance) (rate(errors_total[5m])) > 1 or rate(errors_total[5m]) > 1
        annotations:
          summary: "{{ $labels.job }} on {{ $labels.instance }}"
      - alert: Joined
        expr: sum by (job) (rate(errors_total[5m])) * on (job) group_left (owner) team_info > 1
        annotations:
          summary: "{{ $labels.owner }} owns {{ $labels.job }}"
"""
    found = [f for f in findings(text) if f.rule == "alert/template-label"]
    assert sorted(f.message.split("uses ")[1].split(",")[0] for f in found) == [
        "$labels.instance",
        "$labels.team",
    ]
    assert all("'Aggregated'" in f.message for f in found)


def test_multi_value_variables_with_equality_except_in_repeated_panels() -> None:
    variables = {"list": [{"name": "pod", "type": "query", "multi": True, "query": "label_values(up, pod)"}]}
    bad = dashboard(panel('up{pod="$pod"}'), panel('up{pod!="$pod"}', id=2), panel('up{pod=~"$pod"}', id=3),
                    templating=variables)  # fmt: skip
    assert len([f for f in findings(bad) if f.rule == "dashboard/multi-value-matcher"]) == 2
    repeated = dashboard(panel('up{pod="$pod"}', repeat="pod"), templating=variables)
    assert "dashboard/multi-value-matcher" not in rules_of(findings(repeated))
    logs = dashboard(panel('{app="api"} | json | pod="$pod"', datasource=LOKI), templating=variables)
    assert "dashboard/multi-value-matcher" in rules_of(findings(logs))


def test_rate_of_an_aggregation_or_of_a_recording_rule_that_aggregates() -> None:
    assert "promql/aggregate-before-rate" in rules_of(findings(dashboard(panel("rate(sum(x_total)[5m:1m])"))))
    assert "promql/aggregate-before-rate" not in rules_of(
        findings(dashboard(panel("max_over_time(sum(rate(x_total[1m]))[1h:])")))
    )
    recorded = (
        "groups:\n  - name: g\n    rules:\n      - record: job:x:sum\n        expr: sum by (job) (x_total)\n"
    )
    found = findings(recorded, dashboard(panel("rate(job:x:sum[$__rate_interval])")))
    assert "promql/aggregate-before-rate" in rules_of(found)
    rated = "groups:\n  - name: g\n    rules:\n      - record: job:x:rate5m\n        expr: sum by (job) (rate(x_total[5m]))\n"
    found = findings(rated, dashboard(panel("rate(job:x:rate5m[$__rate_interval])")))
    assert "promql/rate-counter" in rules_of(found) and "promql/aggregate-before-rate" not in rules_of(found)


@pytest.mark.parametrize(
    ("query", "valid"),
    [
        ('label_values({app="api", env="$env"}, pod)', True),
        ("label_values(pod)", True),
        ("label_names()", True),
        ('label_values({app="api"[5m]}, pod)', False),
        ({"type": "labelValues", "label": "pod", "stream": '{app="api"}'}, True),
        ({"type": "labelValues", "label": "pod", "stream": '{app="api"'}, False),
    ],
)
def test_loki_variable_queries_are_parsed_with_the_logql_grammar(query: Any, valid: bool) -> None:
    variables = {"list": [
        {"name": "env", "type": "custom", "query": "prod"},
        {"name": "pod", "type": "query", "datasource": LOKI, "query": query},
    ]}  # fmt: skip
    found = [f for f in findings(dashboard(templating=variables)) if f.rule == "logql/syntax"]
    assert (found == []) is valid, found


def test_prometheus_3_stable_syntax_parses_and_experimental_syntax_is_a_warning() -> None:
    stable = ['{"my.metric", env="prod"}', 'sum by ("k8s.pod") (rate({"http.requests"}[5m]))', "up @ start()",
              "histogram_avg(rate(latency[5m]))", "rate(x_total[5m] offset 1m)"]  # fmt: skip
    experimental = ["rate(x_total[5m] anchored)", "rate(x_total[1m * 5])", "x_total offset (1h + 5m)",
                    "info(up)", "limitk(2, up)", "sort_by_label(up, \"job\")", "a + fill(0) b"]  # fmt: skip
    for expr in stable:
        assert (
            rules_of(findings(dashboard(panel(expr)))) & {"promql/syntax", "promql/experimental"} == set()
        ), expr
    for expr in experimental:
        found = findings(dashboard(panel(expr)))
        assert "promql/syntax" not in rules_of(found), expr
        assert [f.severity for f in found if f.rule == "promql/experimental"] == [Severity.WARNING], expr


def test_promql_corpus_valid_queries_are_never_syntax_errors() -> None:
    """Prometheus' own parser tests: valid stable queries parse, valid experimental ones are warnings only."""
    known_gaps = {  # promql-parser rejects these valid queries (a metric or label named like a 3.x keyword)
        'anchored{job="test"}', "sum by (smoothed)(some_metric)", "{'foo\\'bar', `a\\dos\\path`=\"boo\"}",
    }  # fmt: skip
    records = [json.loads(x) for x in corpus("promql/queries.jsonl").read_text().splitlines() if x.strip()]
    valid = [r for r in records if r.get("origin") == "test_input" and r["valid"] and "query_hex" not in r]
    assert len(valid) > 200
    errors = []
    for record in valid:
        found = findings(dashboard(panel(record["query"])))
        if "promql/syntax" in rules_of(found) and record["query"] not in known_gaps:
            errors.append(record["query"])
        if record.get("features_heuristic") and "promql/syntax" in rules_of(found):
            errors.append(record["query"])
    assert errors == []
