"""Loki rules as code (issue 18): the model, what can be unit-tested of LogQL rules without Loki (templates,
labels, `for`, by promtool on stand-in series), and the labels a LogQL result keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lgtm_dash import promtool
from lgtm_dash.environments import Environment, resolve_environment
from lgtm_dash.errors import DefinitionError
from lgtm_dash.lint.logql_labels import Labels, result_labels
from lgtm_dash.load import load_project
from lgtm_dash.model.rules import (
    Alert,
    AlertCheck,
    ExpectedAlert,
    Record,
    RuleGroup,
    RuleNamespace,
    RuleTest,
    TemplateTest,
)
from tests.helpers import REPO, require_binary, run_cli

ERRORS = 'sum by (app) (rate({app=~".+"} |= "error" [5m])) > 1'


@pytest.fixture(scope="module")
def dev() -> Environment:
    return resolve_environment(REPO, "dev", environ={})


@pytest.fixture(scope="module")
def loki_namespaces() -> list[RuleNamespace]:
    return [ns for ns in load_project(REPO).rule_namespaces if ns.ruler == "loki"]


def errors_alert(**kwargs) -> Alert:
    return Alert(
        "AppErrors",
        ERRORS,
        for_="5m",
        labels={"severity": "warning"},
        annotations={"summary": "{{ $labels.app }} logs {{ $value | humanize }} errors/s"},
        **kwargs,
    )


def loki_namespace(*rules, tests=()) -> RuleNamespace:
    return RuleNamespace("logs", (RuleGroup("g", tuple(rules)),), tests=tests, ruler="loki")


# --- the model ----------------------------------------------------------------------------------------------


def test_a_namespace_names_its_ruler() -> None:
    assert RuleNamespace("n", (RuleGroup("g", (Record("a:b:c", "sum(up)"),)),)).ruler == "mimir"
    with pytest.raises(DefinitionError, match="unknown ruler 'tempo'"):
        RuleNamespace("n", (RuleGroup("g", (Record("a:b:c", "sum(up)"),)),), ruler="tempo")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: loki_namespace(errors_alert(keep_firing_for="5m")), "does not store `keep_firing_for`"),
        (
            lambda: RuleNamespace("l", (RuleGroup("g", (errors_alert(),), query_offset="1m"),), ruler="loki"),
            "does not store `query_offset`",
        ),
        (
            lambda: RuleNamespace(
                "l", (RuleGroup("g", (errors_alert(),), source_tenants=("a",)),), ruler="loki"
            ),
            "does not store `source_tenants`",
        ),
        (
            lambda: loki_namespace(
                errors_alert(), tests=(RuleTest("t", {"up": "1x5"}, (AlertCheck("AppErrors", at="1m"),)),)
            ),
            "promtool cannot evaluate LogQL",
        ),
        (
            lambda: RuleNamespace(
                "m",
                (RuleGroup("g", (Alert("Up", "up == 0"),)),),
                tests=(TemplateTest("Up", {"job": "x"}, 1, (ExpectedAlert({"job": "x"}),)),),
            ),
            "TemplateTest is for Loki rules",
        ),
        (
            lambda: loki_namespace(
                errors_alert(), tests=(TemplateTest("Nope", {"app": "x"}, 1, (ExpectedAlert({}),)),)
            ),
            "template test checks alert 'Nope'",
        ),
        (lambda: TemplateTest("AppErrors", {"app": "x"}, 1, ()), "expects no alert"),
    ],
)
def test_what_loki_would_drop_or_cannot_run_is_a_definition_error(build, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        build()


def test_every_loki_alert_needs_a_template_test() -> None:
    bare = loki_namespace(errors_alert())
    assert bare.untested_alerts() == ["logs: alert AppErrors has no template test"]
    tested = loki_namespace(
        errors_alert(),
        tests=(TemplateTest("AppErrors", {"app": "web"}, 3, (ExpectedAlert({"app": "web"}),)),),
    )
    assert tested.untested_alerts() == []


def test_a_broken_loki_definition_is_a_one_line_error(project_copy: Path) -> None:
    path = project_copy / "alerts/logs.py"
    text = path.read_text()
    path.write_text(
        text.replace(
            'for_="1m",\n            labels=CRITICAL,',
            'for_="1m",\n            keep_firing_for="5m",\n            labels=CRITICAL,',
        )
    )
    result = run_cli("--project", str(project_copy), "build", "--out", str(project_copy / "out"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "alerts/logs.py:" in result.stderr and "keep_firing_for" in result.stderr
    assert not (project_copy / "out").exists()


# --- template tests on the real promtool --------------------------------------------------------------------


def test_the_stand_in_keeps_everything_but_the_expression(loki_namespaces: list[RuleNamespace], dev) -> None:
    for ns in loki_namespaces:
        compiled = [r for g in ns.to_file(dev)["groups"] for r in g["rules"] if "alert" in r]
        standin = [r for g in promtool.standin_groups(ns, dev)["groups"] for r in g["rules"]]
        assert len(standin) == len(compiled)
        for rule, original in zip(standin, compiled, strict=True):
            assert rule["expr"] == f'logql_result{{alertname="{original["alert"]}"}}'
            assert {**rule, "expr": original["expr"]} == original


@pytest.mark.tools
def test_template_tests_pass_and_a_wrong_rendering_fails(dev: Environment, tmp_path: Path) -> None:
    tool = require_binary("promtool")
    good = ExpectedAlert({"app": "web", "severity": "warning"}, {"summary": "web logs 2.5 errors/s"})
    ns = loki_namespace(errors_alert(), tests=(TemplateTest("AppErrors", {"app": "web"}, 2.5, (good,)),))
    _, tests = promtool.write_namespace_files(ns, dev, tmp_path / "good")
    result = promtool.run_rule_tests(tool, tests)
    assert result.ok, result.output
    wrong = ExpectedAlert({"app": "web", "severity": "warning"}, {"summary": "web logs 3 errors/s"})
    ns = loki_namespace(errors_alert(), tests=(TemplateTest("AppErrors", {"app": "web"}, 2.5, (wrong,)),))
    _, tests = promtool.write_namespace_files(ns, dev, tmp_path / "wrong")
    result = promtool.run_rule_tests(tool, tests)
    assert not result.ok
    assert (
        'summary="web logs 2.5 errors/s"' in result.output
        and 'summary="web logs 3 errors/s"' in result.output
    )


@pytest.mark.tools
def test_a_template_test_waits_for_the_longest_for(dev: Environment, tmp_path: Path) -> None:
    """Both tiers fire by the evaluation time; a tier left out of `firing` fails the test."""
    tool = require_binary("promtool")
    critical = Alert("AppErrors", ERRORS, for_="15m", labels={"severity": "critical"})
    warning = Alert("AppErrors", ERRORS, for_="2m", labels={"severity": "warning"})
    both = (
        ExpectedAlert({"app": "a", "severity": "critical"}),
        ExpectedAlert({"app": "a", "severity": "warning"}),
    )
    ns = loki_namespace(critical, warning, tests=(TemplateTest("AppErrors", {"app": "a"}, 5, both),))
    _, tests = promtool.write_namespace_files(ns, dev, tmp_path / "both")
    assert yaml.safe_load(tests.read_text())["tests"][0]["alert_rule_test"][0]["eval_time"] == "16m"
    assert promtool.run_rule_tests(tool, tests).ok
    ns = loki_namespace(critical, warning, tests=(TemplateTest("AppErrors", {"app": "a"}, 5, both[1:]),))
    _, tests = promtool.write_namespace_files(ns, dev, tmp_path / "one")
    assert not promtool.run_rule_tests(tool, tests).ok


# --- the labels a LogQL result keeps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        ('sum by (a, b) (rate({x="y"}[5m]))', Labels(frozenset({"a", "b"}), True)),
        ('sum(rate({x="y"}[5m])) > 1', Labels(frozenset(), True)),
        ('sum without (a) (rate({x="y"}[5m]))', Labels(frozenset({"a"}))),
        ('topk(3, sum by (a) (rate({x="y"}[5m])))', Labels(frozenset({"a"}), True)),
        ('rate({x="y"} | json level, uri [5m])', Labels()),
        (
            'sum by (a) (rate({x="y"}[5m])) > on (a) group_left (z) sum by (a, z) (rate({x="y"}[5m]))',
            Labels(frozenset({"a", "z"}), True),
        ),
        (
            'sum by (a, b) (rate({x="y"}[5m])) / on (a) sum by (a) (rate({x="y"}[5m]))',
            Labels(frozenset({"a"}), True),
        ),
        (
            'sum by (a, b) (rate({x="y"}[5m])) and sum by (a) (rate({x="y"}[5m]))',
            Labels(frozenset({"a", "b"}), True),
        ),
        ('absent_over_time({a="b", c=~"d.*", e="f"} [10m])', Labels(frozenset({"a", "e"}), True)),
        ('absent_over_time({a="b", a!="c"} [10m])', Labels(frozenset(), True)),
        (
            'label_replace(sum(rate({x="y"}[5m])), "dst", "$1", "src", "(.*)")',
            Labels(frozenset({"dst"}), True),
        ),
        (
            'count_over_time({x="y"} | logfmt u | label_format v=u | drop w | keep u, v, w, z [5m])',
            Labels(frozenset({"v", "z"}), True),  # u renamed away, w dropped, z may be a stream label
        ),
        ('count_over_time({x="y"} | keep a | json [5m])', Labels()),
        ('avg_over_time({x="y"} | unwrap latency [5m]) by (a)', Labels(frozenset({"a"}), True)),
        ('sum(rate({x="y"}[5m]', None),
    ],
)
def test_result_labels(query: str, labels: Labels | None) -> None:
    assert result_labels(query) == labels


def test_template_test_samples_carry_exactly_the_labels_the_logql_keeps(
    loki_namespaces: list[RuleNamespace],
) -> None:
    """A template test is only as good as its sample: its labels must be those of the expression's result."""
    assert loki_namespaces
    for ns in loki_namespaces:
        for test in ns.tests:
            assert isinstance(test, TemplateTest)
            for alert in (a for a in ns.alerts() if a.name == test.alertname):
                labels = result_labels(alert.expr)
                assert labels is not None and labels.closed, (alert.name, alert.expr)
                assert set(test.result) == labels.names, alert.name
