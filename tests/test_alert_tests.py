"""`lgtm-dash test`: the alert unit tests on the real promtool and the routing cases on the real amtool, on the
toolkit's own project (tests/fixtures/project): a readable report of what failed, where, expected and got."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgtm_dash.alert_tests import parse_promtool_output
from tests.helpers import require_binary, run_cli


def line_of(path: Path, text: str) -> int:
    return next(i for i, row in enumerate(path.read_text().splitlines(), 1) if text in row)


@pytest.fixture
def tools() -> None:
    require_binary("promtool")
    require_binary("amtool")


@pytest.mark.tools
def test_a_passing_project_reports_every_suite_and_exits_0(fixture_project: Path, tools: None) -> None:
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["demo-targets", "ok", "2", "cases"]
    assert lines[1].split() == ["alertmanager", "ok", "3", "cases"]
    assert lines[-1] == "all passed (5 cases in 2 suites)."


@pytest.mark.tools
def test_a_wrong_expectation_names_alert_case_expected_and_got(fixture_project: Path, tools: None) -> None:
    path = fixture_project / "alerts/targets.py"
    path.write_text(path.read_text().replace('"summary": "api is down"', '"summary": "web is down"'))
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    check_line = line_of(path, '    at="10m",') - 2  # the AlertCheck( that opens the check
    assert f"alerts/targets.py:{check_line}: demo-targets: alert TargetDown at 10m" in out, out
    assert '  case: "a target down for 10 minutes"' in out
    expected, got = out.index("  expected (1 alert):"), out.index("  got (1 alert):")
    assert expected < got
    assert 'summary="web is down"' in out[expected:got] and 'summary="api is down"' in out[got:]
    assert '{alertname="TargetDown", job="api", severity="warning"}' in out[expected:got]
    assert '  annotation summary: expected "web is down", got "api is down"' in out
    assert out.splitlines()[0].split()[:4] == ["demo-targets", "FAILED", "1", "failure"]
    assert out.rstrip().endswith("1 failure (5 cases in 2 suites).")


@pytest.mark.tools
def test_an_alert_that_should_not_fire_yet(fixture_project: Path, tools: None) -> None:
    path = fixture_project / "alerts/targets.py"
    path.write_text(
        path.read_text().replace('AlertCheck("TargetDown", at="3m")', 'AlertCheck("TargetDown", at="7m")')
    )
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 1
    at = line_of(path, 'AlertCheck("TargetDown", at="7m")')
    assert f"alerts/targets.py:{at}: demo-targets: alert TargetDown at 7m" in result.stdout
    assert "  expected:\n    no alert (it must not fire)\n  got (1 alert):" in result.stdout


@pytest.mark.tools
def test_a_wrong_routing_case_names_labels_expected_and_got(fixture_project: Path, tools: None) -> None:
    path = fixture_project / "alerts/alertmanager.py"
    text = path.read_text()
    path.write_text(text.replace('"severity": "warning"}, ("team",)', '"severity": "warning"}, ("pager",)'))
    result = run_cli("test", "alertmanager", cwd=fixture_project)
    assert result.returncode == 1, result.stdout + result.stderr
    at = line_of(path, '"severity": "warning"}, ("pager",)')
    assert (
        f'alerts/alertmanager.py:{at}: alertmanager: routing of {{alertname="TargetDown", severity="warning"}}\n'
        "  expected receivers: pager\n"
        "  got receivers: team\n"
    ) in result.stdout
    assert "demo-targets" not in result.stdout  # only the suite asked for


@pytest.mark.tools
def test_the_house_rule_every_alert_fires_and_stays_silent(fixture_project: Path, tools: None) -> None:
    path = fixture_project / "alerts/targets.py"
    path.write_text(path.read_text().replace('                AlertCheck("TargetDown", at="3m"),\n', ""))
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 1
    alert_line = line_of(path, "Alert(")
    assert f"alerts/targets.py:{alert_line}: demo-targets: alert TargetDown" in result.stdout
    assert "  no test case where it must not fire (see [tool.lgtm-dash.test] alert-cases)" in result.stdout
    # configurable: this project only asks for a firing case
    (fixture_project / "pyproject.toml").write_text('[tool.lgtm-dash.test]\nalert-cases = ["firing"]\n')
    assert run_cli("test", cwd=fixture_project).returncode == 0


def test_settings_are_checked(fixture_project: Path) -> None:
    pyproject = fixture_project / "pyproject.toml"
    pyproject.write_text('[tool.lgtm-dash.test]\nalert-case = ["firing"]\n')
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: pyproject.toml: [tool.lgtm-dash.test]: unknown key(s) alert-case (known: alert-cases)"
    )
    pyproject.write_text('[tool.lgtm-dash.test]\nalert-cases = ["always"]\n')
    result = run_cli("test", cwd=fixture_project)
    assert result.returncode == 2 and "alert-cases must be a list of 'firing', 'silent'" in result.stderr


def test_an_unknown_namespace_is_a_usage_error(fixture_project: Path) -> None:
    result = run_cli("test", "nope", cwd=fixture_project)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown namespace(s) nope (known: alertmanager, demo-targets)"


def test_routing_cases_must_name_defined_receivers(fixture_project: Path) -> None:
    path = fixture_project / "alerts/alertmanager.py"
    path.write_text(path.read_text().replace('("team",)),', '("teams",)),', 1))
    result = run_cli("build", "--out", str(fixture_project / "out"), cwd=fixture_project)
    assert result.returncode == 2
    at = line_of(path, '("teams",)')
    assert f"alerts/alertmanager.py:{at}: routing case" in result.stderr
    assert "unknown receiver(s) teams (defined: pager, team)" in result.stderr


# promtool 2.42's report for one test with three failures (captured from `promtool test rules`).
PROMTOOL_REPORT = """Unit Testing:  t.yaml
  FAILED:
    name: case one,
    alertname: Down, time: 5m, 
        exp:[
            0:
              Labels:{alertname="Down", job="api", severity="critical"}
              Annotations:{summary="web down"}
            ], 
        got:[
            0:
              Labels:{alertname="Down", job="api", severity="critical"}
              Annotations:{summary="api down"}
            ]
    alertname: Down, time: 6m, 
        exp:[], 
        got:[
            0:
              Labels:{alertname="Down", job="api", severity="critical"}
              Annotations:{summary="api down"}
            ]
    expr: "job:up:sum", time: 5m,
        exp: {__name__="job:up:sum", job="api"} 1E+00, {__name__="job:up:sum", job="x"} 1E+00
        got: {__name__="job:up:sum", job="api"} 0E+00
    expr: "job:up:sum{", time: 5m, err: 1:12: parse error: unexpected end of input inside braces
"""  # noqa: W291 - promtool's own trailing spaces


def test_promtool_report_is_read_block_by_block() -> None:
    alert, silent, samples, broken = parse_promtool_output(PROMTOOL_REPORT)
    assert (alert.kind, alert.name, alert.time) == ("alert", "Down", "5m")
    assert alert.expected == ['{alertname="Down", job="api", severity="critical"}\nsummary="web down"']
    assert alert.got == ['{alertname="Down", job="api", severity="critical"}\nsummary="api down"']
    assert (silent.time, silent.expected, len(silent.got)) == ("6m", [], 1)
    assert (samples.kind, samples.name) == ("expr", "job:up:sum")
    assert samples.expected == ['{__name__="job:up:sum", job="api"} 1', '{__name__="job:up:sum", job="x"} 1']
    assert samples.got == ['{__name__="job:up:sum", job="api"} 0']
    assert (broken.name, broken.error) == (
        "job:up:sum{",
        "1:12: parse error: unexpected end of input inside braces",
    )


def test_text_promtool_prints_that_is_no_expectation_is_kept() -> None:
    (other,) = parse_promtool_output("Unit Testing:  t.yaml\n  FAILED:\n1:14: parse error: unexpected '0'\n")
    assert (other.kind, other.error) == ("other", "1:14: parse error: unexpected '0'")
