"""Which rules run and which findings are silenced: `[tool.lgtm-dash.lint]` in pyproject.toml (like ruff), the
command line's --select/--extend-select/--ignore, and suppressions where the finding occurs (`lint_ignore=` in
Python, `lintIgnore` in dashboard JSON, `# lgtm-dash: ignore=` in rule YAML)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from lgtm_dash.errors import DefinitionError
from lgtm_dash.lint.config import LintConfig, path_matches
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.findings import Severity
from lgtm_dash.lint.inputs import read_text
from lgtm_dash.lint.registry import all_checks, check_class
from tests.helpers import REPO, run_cli

CHECKS = {check.id: check for check in all_checks()}
# A panel with a fixed rate window (promql/rate-interval) and no unit (dashboard/panel-unit, a house rule).
DASHBOARD = {
    "uid": "http",
    "title": "HTTP",
    "panels": [
        {
            "id": 1,
            "type": "timeseries",
            "title": "Requests",
            "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
            "datasource": {"type": "prometheus", "uid": "prom"},
            "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}],
        }
    ],
}
RULES = """\
groups:
  - name: http
    rules:
      - alert: Fires
        expr: sum(rate(http_errors_total[5m]))
      - alert: Down
        expr: up == 0
"""


def enabled(config: LintConfig) -> set[str]:
    return {rule_id for rule_id, check in CHECKS.items() if config.enabled(check)}


def write_pyproject(root: Path, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.lgtm-dash.lint]\n" + textwrap.dedent(table)
    )
    return root


# ------------------------------------------------------------------ which rules run


def test_without_configuration_only_correctness_rules_run() -> None:
    on = enabled(LintConfig())
    assert on == {rule_id for rule_id, check in CHECKS.items() if check.default}
    for house in (
        "rule/runbook-url",
        "rule/record-name",
        "rule/dashboard-url",
        "dashboard/panel-unit",
        "rule/for",
    ):
        assert house not in on
    assert {"promql/syntax", "rule/duplicate", "alert/template-label", "input/syntax"} <= on


def test_select_extend_select_and_ignore_take_ids_and_prefixes() -> None:
    assert enabled(LintConfig(select=("promql",))) == {i for i in CHECKS if i.startswith("promql/")}
    assert enabled(LintConfig(select=("ALL",))) == set(CHECKS)
    assert "rule/runbook-url" in enabled(LintConfig(extend_select=("rule/runbook-url",)))
    assert not {i for i in enabled(LintConfig(ignore=("promql/rate",))) if i.startswith("promql/rate")}
    assert "promql/rate-interval" not in enabled(LintConfig(ignore=("promql/rate-interval",)))


def test_the_more_specific_entry_wins_and_a_tie_goes_to_ignore() -> None:
    config = LintConfig(ignore=("promql",), extend_select=("promql/syntax",))
    assert enabled(config) & {i for i in CHECKS if i.startswith("promql/")} == {"promql/syntax"}
    config = LintConfig(select=("ALL",), ignore=("rule/for",))
    assert "rule/for" not in enabled(config) and "rule/record-name" in enabled(config)
    assert "rule/for" not in enabled(LintConfig(extend_select=("rule/for",), ignore=("rule/for",)))


def test_severity_overrides_and_per_file_ignores(tmp_path: Path) -> None:
    lint_input = read_text(json.dumps(DASHBOARD), "dashboards/http.json")
    lint_input.extend(read_text(RULES, "alerts/http.yaml"))
    base = lint(lint_input, config=LintConfig(extend_select=("dashboard/panel-unit",)))
    assert {f.rule for f in base} >= {"promql/rate-interval", "dashboard/panel-unit", "alert/comparison"}

    louder = LintConfig(extend_select=("dashboard/panel-unit",), severity={"promql/rate": Severity.ERROR})
    graded = {f.rule: f.severity for f in lint(lint_input, config=louder)}
    assert (
        graded["promql/rate-interval"] is Severity.ERROR
        and graded["dashboard/panel-unit"] is Severity.WARNING
    )

    per_file = LintConfig(
        extend_select=("dashboard/panel-unit",),
        per_file_ignores={"dashboards/*.json": ("promql",), "http.yaml": ("alert/comparison",)},
    )
    left = {f.rule for f in lint(lint_input, config=per_file)}
    assert "promql/rate-interval" not in left and "alert/comparison" not in left
    assert "dashboard/panel-unit" in left


def test_path_globs_match_like_ruff() -> None:
    assert path_matches("dashboards/*.py", "dashboards/http.py")
    assert path_matches("dashboards/*.py", "dashboards/sub/http.py")  # `*` crosses directories
    assert path_matches("**/legacy.json", "imported/legacy.json")
    assert path_matches("legacy.json", "imported/old/legacy.json")  # a bare name matches anywhere
    assert path_matches("out/", "out/grafana/dashboards/qgx/x.json")
    assert not path_matches("alerts/*.py", "dashboards/http.py")


# ------------------------------------------------------------------ pyproject.toml and the command line


def test_pyproject_configures_the_cli_and_options_override_it(tmp_path: Path) -> None:
    project = write_pyproject(
        tmp_path / "p", 'extend-select = ["dashboard/panel-unit"]\nignore = ["promql"]\n'
    )
    (project / "http.json").write_text(json.dumps(DASHBOARD))
    result = run_cli("--project", str(project), "lint", str(project / "http.json"), "--format", "json")
    assert {f["rule"] for f in json.loads(result.stdout)} == {"dashboard/panel-unit"}
    assert result.returncode == 0  # a warning

    override = run_cli("--project", str(project), "lint", str(project / "http.json"), "--format", "json",
                       "--select", "promql/rate-interval", "--strict")  # fmt: skip
    assert [f["rule"] for f in json.loads(override.stdout)] == ["promql/rate-interval"]
    assert override.returncode == 1
    isolated = run_cli(
        "--project", str(project), "lint", str(project / "http.json"), "--format", "json", "--isolated"
    )
    assert {f["rule"] for f in json.loads(isolated.stdout)} == {"promql/rate-interval"}


@pytest.mark.parametrize(
    ("table", "where", "says"),
    [
        (
            'select = ["promql"]\nignore = [\n  "promql/nope",\n]\n',
            7,
            "ignore: unknown rule id or prefix 'promql/nope'",
        ),
        ('selct = ["promql"]\n', 5, "selct: unknown key"),
        ('severity = { "dashboard/grid" = "fatal" }\n', 5, "severity: dashboard/grid: 'fatal'"),
        ('extend-select = "rule/for"\n', 5, "extend-select: expected a list"),
    ],
)
def test_bad_configuration_is_bad_input_naming_the_file_line_and_key(
    tmp_path: Path, table: str, where: int, says: str
) -> None:
    project = write_pyproject(tmp_path, table)
    result = run_cli("--project", str(project), "lint", str(project))
    assert result.returncode == 2
    assert f"pyproject.toml:{where}: [tool.lgtm-dash.lint] {says}" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    with pytest.raises(DefinitionError):
        LintConfig.load(project / "pyproject.toml")


def test_unknown_rule_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--project", str(tmp_path), "lint", "--ignore", "promql/typo", str(tmp_path))
    assert result.returncode == 2 and "--ignore: unknown rule id or prefix 'promql/typo'" in result.stderr


def test_this_repository_turns_its_house_rules_on() -> None:
    config = LintConfig.load(REPO / "pyproject.toml")
    for house in ("rule/runbook-url", "rule/record-name", "rule/dashboard-url", "dashboard/panel-unit"):
        assert config.enabled(check_class(house)()), house
    listed = run_cli("lint", "--list-rules").stdout.splitlines()
    assert any(line.startswith("on ") and "rule/runbook-url" in line for line in listed)


def test_help_explains_configuration_and_suppression() -> None:
    text = run_cli("lint", "--help").stdout
    for needle in ("[tool.lgtm-dash.lint]", "extend-select", "per-file-ignores", "lint_ignore=", "lintIgnore",
                   "# lgtm-dash: ignore="):  # fmt: skip
        assert needle in text, needle


# ------------------------------------------------------------------ suppressions in the files


def test_panel_and_dashboard_json_silence_rules() -> None:
    everything = LintConfig(select=("ALL",))
    panel_ignores = json.loads(json.dumps(DASHBOARD))
    panel_ignores["panels"][0]["options"] = {"lintIgnore": ["promql/rate-interval", "dashboard/panel"]}
    rules = {f.rule for f in lint(read_text(json.dumps(panel_ignores), "d.json"), config=everything)}
    assert "promql/rate-interval" not in rules and "dashboard/panel-unit" not in rules

    board_ignores = {**DASHBOARD, "lintIgnore": ["promql"]}
    rules = {f.rule for f in lint(read_text(json.dumps(board_ignores), "d.json"), config=everything)}
    assert "promql/rate-interval" not in rules and "dashboard/panel-unit" in rules


def test_rule_yaml_comments_silence_a_rule_a_group_or_the_file() -> None:
    everything = LintConfig(select=("ALL",))

    def rules_of(text: str) -> list[tuple[str, str]]:
        return sorted((f.rule, f.message.split("'")[1]) for f in lint(read_text(text, "r.yaml"), config=everything)
                      if f.rule in ("alert/comparison", "rule/for"))  # fmt: skip

    assert rules_of(RULES) == [("alert/comparison", "Fires"), ("rule/for", "Down"), ("rule/for", "Fires")]
    above = RULES.replace("      - alert: Down", "      # lgtm-dash: ignore=rule/for\n      - alert: Down")
    assert rules_of(above) == [("alert/comparison", "Fires"), ("rule/for", "Fires")]
    inside = RULES.replace(
        "sum(rate(http_errors_total[5m]))", "sum(rate(http_errors_total[5m]))  # lgtm-dash: ignore=alert"
    )
    assert rules_of(inside) == [("rule/for", "Down"), ("rule/for", "Fires")]
    group = RULES.replace("  - name: http", "  # lgtm-dash: ignore=rule/for\n  - name: http")
    assert rules_of(group) == [("alert/comparison", "Fires")]
    whole = "# lgtm-dash: ignore-file=rule,alert\n" + RULES
    assert rules_of(whole) == []


def test_a_suppression_naming_no_rule_is_reported() -> None:
    text = RULES.replace("      - alert: Down", "      # lgtm-dash: ignore=rule/fore\n      - alert: Down")
    findings = [f for f in lint(read_text(text, "r.yaml")) if f.rule == "lint/unknown-ignore"]
    assert [(f.line, f.message) for f in findings] == [
        (7, "alert 'Down' (group 'http'): ignores unknown rule 'rule/fore'")
    ]
    board = {**DASHBOARD, "lintIgnore": ["promql/rate-intervall"]}
    assert [
        f.message for f in lint(read_text(json.dumps(board), "d.json")) if f.rule == "lint/unknown-ignore"
    ] == ["dashboard 'http': ignores unknown rule 'promql/rate-intervall'"]


def test_python_lint_ignore_travels_through_out_to_lint(project_copy: Path, tmp_path: Path) -> None:
    """Panel helpers, Board and Alert take lint_ignore=; the build writes it where lint (and Grafana) keep it."""
    module = project_copy / "dashboards" / "lint_ignore_example.py"
    module.write_text(textwrap.dedent('''
        from grafanalib.core import Dashboard

        from lgtm_dash.model.dashboard import Board
        from lgtm_dash.model.folder import Folder
        from lgtm_dash.model.panels import layout, prom_target, row, timeseries

        MIMIR = {"type": "prometheus", "uid": "qgx-mimir"}
        dashboard = Board(
            Dashboard(title="Ignored", uid="lint-ignore-example", panels=layout(row(None,
                timeseries("Fixed window", prom_target("sum(rate(qgx_http_requests_total[5m]))"),
                           datasource=MIMIR, unit="reqps", lint_ignore=("promql/rate-interval",)),
                timeseries("Also fixed", prom_target("sum(rate(qgx_http_requests_total[5m]))"),
                           datasource=MIMIR, unit="reqps"),
            ))),
            folder=Folder(uid="lint-examples", title="Lint examples"),
            lint_ignore=("dashboard/panel-title",),
        )
    '''))  # fmt: skip
    alerts = project_copy / "alerts" / "http.py"
    text = alerts.read_text()
    # Both tiers of QgxHttpHighErrorRatio lose their `for` (a rule/for finding); the first one ignores it.
    assert text.count('            for_="5m",\n') >= 1 and '            for_="15m",\n' in text
    text = text.replace('            for_="5m",\n', '            lint_ignore=("rule/for",),\n', 1)
    alerts.write_text(text.replace('            for_="15m",\n', "", 1))
    out = tmp_path / "out"
    built = run_cli("--project", str(project_copy), "build", "--out", str(out))
    assert built.returncode == 0, built.stderr

    board = json.loads(next(out.rglob("lint-ignore-example.json")).read_text())
    assert board["lintIgnore"] == ["dashboard/panel-title"]
    options = {p["title"]: p.get("options", {}).get("lintIgnore") for p in board["panels"]}
    assert options == {"Fixed window": ["promql/rate-interval"], "Also fixed": None}
    rules_yaml = (out / "mimir" / "rules").glob("*.yaml")
    assert any("# lgtm-dash: ignore=rule/for" in p.read_text() for p in rules_yaml)
    for path in (out / "mimir" / "rules").glob("*.yaml"):
        yaml.safe_load(path.read_text())  # the comment keeps the file valid YAML

    result = run_cli("--project", str(project_copy), "lint", str(out), "--format", "json", "--isolated",
                     "--select", "promql/rate-interval,rule/for")  # fmt: skip
    findings = json.loads(result.stdout)
    rate = [f for f in findings if f["rule"] == "promql/rate-interval"]
    assert [f["panel"] for f in rate] == ["Also fixed"]
    assert rate[0]["file"] == "dashboards/lint_ignore_example.py"
    missing_for = [f for f in findings if f["rule"] == "rule/for"]
    assert [(f["file"], "QgxHttpHighErrorRatio" in f["message"]) for f in missing_for] == [
        ("alerts/http.py", True)
    ]
    source = (project_copy / "alerts" / "http.py").read_text().splitlines()
    assert "Alert(" in source[missing_for[0]["line"] - 1]  # the second tier's constructor line
    assert 'lint_ignore=("rule/for",)' not in "\n".join(source[missing_for[0]["line"] - 1 :][:10])
