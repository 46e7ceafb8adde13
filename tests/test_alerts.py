"""Alert and recording rules: structure every alert must have, promtool accepting them, and their unit tests
run by the real `promtool test rules` (issue 5); Loki namespaces beside the Mimir ones (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lgtm_dash import alert_tests, promtool
from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.compile import build
from lgtm_dash.environments import Environment, resolve_environment
from lgtm_dash.errors import DefinitionError
from lgtm_dash.load import Project, definition_modules, load_project
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import (
    Alert,
    AlertCheck,
    ExpectedAlert,
    Record,
    RuleGroup,
    RuleNamespace,
    RuleTest,
)
from lgtm_dash.settings import tool_section
from tests.helpers import REPO, require_binary, run_cli

SEVERITIES = {"info", "warning", "critical"}
ANNOTATIONS = {"summary", "description", "runbook_url", "dashboard_url"}


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


@pytest.fixture(scope="module")
def dev() -> Environment:
    return resolve_environment(REPO, "dev", environ={})


@pytest.fixture(scope="module")
def namespaces(project: Project) -> dict[str, RuleNamespace]:
    return {ns.name: ns for ns in project.rule_namespaces}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    build(REPO, "dev", out)
    return out


def all_alerts(namespaces: dict[str, RuleNamespace]) -> list[tuple[str, Alert]]:
    return [(name, alert) for name, ns in namespaces.items() for alert in ns.alerts()]


@pytest.mark.content
def test_every_module_in_alerts_is_one_namespace(project: Project, namespaces: dict) -> None:
    modules = {
        p.relative_to(REPO).as_posix()
        for p in definition_modules(REPO, "alerts")
        if p != REPO / "alerts/alertmanager.py"
    }
    assert {ns.location.file for ns in project.rule_namespaces} == modules
    assert len(namespaces) == len(modules)  # names are unique


@pytest.mark.content
def test_the_team_s_alerts_exist(namespaces: dict) -> None:
    names = {alert.name for _, alert in all_alerts(namespaces)}
    for required in (
        "KubePodCrashLooping",
        "KubePodFrequentRestarts",
        "KubePodNotReady",
        "KubeContainerOOMKilled",
        "KubeContainerCPUThrottling",
        "KubeContainerMemoryNearLimit",
        "QgxHttpHighErrorRatio",
        "QgxHttpHighLatencyP99",
        "QgxHttpTrafficDrop",
        "QgxEventsHighFailureRatio",
        "QgxEventsProcessingStuck",
        "AlloyDown",
        "ScrapeTargetsDown",
        "AlloyRemoteWriteFailing",
        "MimirDiscardingSamples",
        "LokiDiscardingSamples",
        # Loki ruler (issue 18)
        "QgxLogErrorBurst",
        "QgxLogFatal",
        "QgxServiceStoppedLogging",
        "QgxAccessLog5xxRatio",
    ):
        assert required in names


@pytest.mark.content
def test_recording_rules_are_named_level_metric_operations(namespaces: dict) -> None:
    records = [r for ns in namespaces.values() for g in ns.groups for r in g.rules if isinstance(r, Record)]
    bad = [f"{r.location}: {r.name}" for r in records if len(r.name.split(":")) != 3]
    assert not bad, "\n".join(bad)


@pytest.mark.content
def test_every_alert_has_a_severity_the_four_annotations_and_a_comparison(namespaces: dict) -> None:
    problems = []
    for _, alert in all_alerts(namespaces):
        at = f"{alert.location}: {alert.name}"
        if alert.labels.get("severity") not in SEVERITIES:
            problems.append(
                f"{at}: severity {alert.labels.get('severity')!r} is not one of {sorted(SEVERITIES)}"
            )
        if not set(alert.annotations) >= ANNOTATIONS:
            problems.append(f"{at}: missing annotation(s) {sorted(ANNOTATIONS - set(alert.annotations))}")
        elif alert.annotations["runbook_url"] != f"https://runbooks.qgx.example.com/{alert.name}":
            problems.append(f"{at}: runbook_url {alert.annotations['runbook_url']!r}")
        if not any(op in alert.expr for op in (">", "<", "==", "!=")):
            problems.append(f"{at}: the expression compares nothing")
    assert not problems, "\n".join(problems)


@pytest.mark.content
def test_dashboard_urls_are_derived_from_the_loaded_dashboards(
    namespaces: dict, project: Project, dev: Environment
) -> None:
    boards = {board.uid: board for board in project.dashboards}
    problems = []
    for _, alert in all_alerts(namespaces):
        at = f"{alert.location}: {alert.name}"
        link = alert.annotations.get("dashboard_url")
        if not isinstance(link, DashboardURL):
            problems.append(f"{at}: dashboard_url is not a DashboardURL (typed by hand?)")
            continue
        if link.uid not in boards:
            problems.append(f"{at}: dashboard_url points at unknown dashboard {link.uid}")
        rendered = alert.to_dict(dev)["annotations"]["dashboard_url"]
        if not rendered.startswith(f"{dev.grafana.url}/d/{link.uid}/"):
            problems.append(f"{at}: dashboard_url renders as {rendered}")
        if " " in rendered:  # a space inside `{{ }}` would be percent-encoded and break the template
            problems.append(f"{at}: a space in the dashboard_url {rendered!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.content
def test_every_alert_has_the_unit_test_cases_the_project_requires(namespaces: dict) -> None:
    required = tool_section(REPO, "test", alert_tests.DEFAULTS)["alert-cases"]
    assert set(required) == {"firing", "silent"}  # this team's house rule (pyproject.toml)
    gaps = [gap for ns in namespaces.values() for gap in ns.untested_alerts(required)]
    assert gaps == []


def test_a_missing_case_is_reported() -> None:
    alert = Alert("X", "up == 0", labels={"severity": "warning"})
    ns = RuleNamespace(
        name="n",
        groups=(RuleGroup("g", (alert,)),),
        tests=(RuleTest("t", {"up": "0x5"}, (AlertCheck("X", at="5m", firing=(ExpectedAlert({}),)),)),),
    )
    assert ns.untested_alerts() == ["n: alert X has no test case where it must not fire"]
    bare = RuleNamespace(name="n", groups=(RuleGroup("g", (alert,)),))
    assert bare.untested_alerts() == [
        "n: alert X has no test case where it fires and none where it must not fire"
    ]


@pytest.mark.parametrize(
    ("annotation", "problem"),
    [
        ("{{ $value | humanise }}", "function 'humanise' not defined"),  # a typo Mimir's API refuses
        ("{{ urlQueryEscape $labels.job }}", "function 'urlQueryEscape' not defined"),  # not in Prometheus
        ("{{ $labls.job }}", "undefined variable '$labls'"),
    ],
)
def test_an_alert_template_mimir_would_refuse_fails_at_build(annotation: str, problem: str) -> None:
    with pytest.raises(DefinitionError, match=re.escape(problem)) as err:
        Alert("X", "up == 0", annotations={"summary": annotation})
    assert "alert 'X': annotation 'summary'" in str(err.value) and "tests/test_alerts.py" in str(err.value)


def test_prometheus_template_functions_and_variables_pass() -> None:
    text = (
        "{{ $value | humanizePercentage }} of {{ $labels.job | toUpper }} since "
        '{{ (query "up" | first | value) | humanizeTimestamp }} {{ $externalURL }} {{ stripPort "a:1" }}'
    )
    assert Alert("X", "up == 0", annotations={"summary": text}).to_dict()["annotations"]["summary"] == text


def test_a_check_of_an_unknown_alert_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="checks alert 'Nope'"):
        RuleNamespace(
            name="n",
            groups=(RuleGroup("g", (Alert("X", "up == 0"),)),),
            tests=(RuleTest("t", {"up": "0x5"}, (AlertCheck("Nope", at="5m"),)),),
        )
    with pytest.raises(DefinitionError, match="invalid eval time"):
        AlertCheck("X", at="five minutes")


def by_ruler(namespaces: dict[str, RuleNamespace], ruler: str) -> list[str]:
    return sorted(name for name, ns in namespaces.items() if ns.ruler == ruler)


@pytest.mark.content
def test_compiled_rules_are_in_mimirtool_and_lokitool_format(built: Path, namespaces: dict) -> None:
    arts = read_artifacts(built)
    assert sorted(arts.rule_namespaces) == by_ruler(namespaces, "mimir")
    assert sorted(arts.loki_rule_namespaces) == by_ruler(namespaces, "loki")
    for name, path in [*arts.rule_files.items(), *arts.loki_rule_files.items()]:
        data = yaml.safe_load(path.read_text())
        assert data["namespace"] == name
        assert path.name == f"{name}.yaml"
        for group in data["groups"]:
            assert group["name"] and group["rules"]
            for rule in group["rules"]:
                key = f"rule:{name}/{group['name']}/{rule.get('alert') or rule.get('record')}"
                assert arts.sourcemap[key].startswith(namespaces[name].location.file + ":"), key
    assert arts.sourcemap["rule:qgx-pods/pods.alerts/KubePodCrashLooping"].startswith("alerts/pods.py:")
    for name, path in arts.loki_rule_files.items():
        assert path == built / f"loki/rules/{name}.yaml"


@pytest.mark.content
@pytest.mark.tools
def test_promtool_check_rules_accepts_the_compiled_rules(built: Path, tmp_path: Path) -> None:
    tool = require_binary("promtool")
    paths = []
    for name, groups in read_artifacts(built).rule_namespaces.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(promtool.prometheus_groups(groups)))
        paths.append(path)
    result = promtool.check_rules(tool, paths)
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == len(paths)


@pytest.mark.tools
def test_mimir_only_keys_are_stripped_for_promtool(tmp_path: Path) -> None:
    tool = require_binary("promtool")
    group = RuleGroup("g", (Record("a:b:c", "sum(up)"),), source_tenants=("t1", "t2"), query_offset="1m")
    mimir = RuleNamespace("n", (group,)).to_file()
    raw, stripped = tmp_path / "raw.yaml", tmp_path / "stripped.yaml"
    raw.write_text(yaml.safe_dump({"groups": mimir["groups"]}))
    stripped.write_text(yaml.safe_dump(promtool.prometheus_groups(mimir["groups"])))
    assert not promtool.check_rules(tool, [raw]).ok  # promtool is strict: Mimir's keys are unknown to it
    result = promtool.check_rules(tool, [stripped])
    assert result.ok, result.output


@pytest.mark.content
@pytest.mark.tools
def test_every_namespace_s_unit_tests_pass_on_the_real_promtool(
    project: Project, dev: Environment, tmp_path: Path
) -> None:
    tool = require_binary("promtool")
    untested = [
        f"{ns.location}: {ns.name} has no unit tests" for ns in project.rule_namespaces if not ns.tests
    ]
    assert not untested, "\n".join(untested)
    results = alert_tests.run_namespaces(project.rule_namespaces, dev, tmp_path, promtool_path=tool)
    assert sum(r.cases for r in results) >= sum(
        len(t.checks) if isinstance(t, RuleTest) else 1 for ns in project.rule_namespaces for t in ns.tests
    )
    assert not any(r.failures for r in results), "\n".join(alert_tests.report_lines(results))


@pytest.mark.tools
def test_a_wrong_expectation_fails_on_promtool(dev: Environment, tmp_path: Path) -> None:
    """The harness really reports failures: an expected annotation that differs by one word fails."""
    tool = require_binary("promtool")
    alert = Alert(
        "Down",
        "up == 0",
        for_="1m",
        labels={"severity": "critical"},
        annotations={"summary": "{{ $labels.job }} down"},
    )
    fires = AlertCheck(
        "Down",
        at="5m",
        firing=(ExpectedAlert({"job": "api", "severity": "critical"}, {"summary": "web down"}),),
    )
    ns = RuleNamespace(
        "n", (RuleGroup("g", (alert,)),), tests=(RuleTest("t", {'up{job="api"}': "0x10"}, (fires,)),)
    )
    _, tests_file = promtool.write_namespace_files(ns, dev, tmp_path)
    result = promtool.run_rule_tests(tool, tests_file)
    assert not result.ok
    assert 'summary="api down"' in result.output and 'summary="web down"' in result.output


@pytest.mark.content
def test_a_broken_unit_test_in_a_definition_is_a_one_line_error(project_copy: Path) -> None:
    path = project_copy / "alerts/pods.py"
    text = path.read_text()
    path.write_text(
        text.replace(
            'AlertCheck("KubePodCrashLooping", at="15m")', 'AlertCheck("KubePodCrashLoop", at="15m")'
        )
    )
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if '"KubePodCrashLoop"' in row)
    result = run_cli("--project", str(project_copy), "build", "--out", str(project_copy / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"alerts/pods.py:{line}" in result.stderr
    assert "KubePodCrashLoop" in result.stderr and "Traceback" not in result.stderr
    assert not (project_copy / "out").exists()
