"""The command line behaves like the tools people know: the project root found upwards, global options on
either side of the command, --version, one-line bad input with exit 2, hints that never overwrite the committed
out/, exit codes 70 and 130. On the toolkit's own project (tests/fixtures/project)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lgtm_dash import cli, compile
from tests.helpers import REPO, run_cli


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the project root and global options -------------------------------------------------------------------


def test_the_project_root_is_found_walking_up(fixture_project: Path) -> None:
    result = run_cli("build", cwd=fixture_project / "dashboards")  # like git: from anywhere inside
    assert result.returncode == 0, result.stderr
    assert (fixture_project / "out/grafana/dashboards/demo/demo-targets.json").is_file()
    assert not (fixture_project / "dashboards/out").exists()


def test_project_before_or_after_the_command_is_the_same(fixture_project: Path, tmp_path: Path) -> None:
    before = run_cli("--project", str(fixture_project), "build", "--out", str(tmp_path / "a"), cwd=tmp_path)
    after = run_cli("build", "--out", str(tmp_path / "b"), "--project", str(fixture_project), cwd=tmp_path)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")
    assert "1 dashboard, 1 Mimir rule namespace" in after.stdout


def test_outside_any_project_the_error_says_how_to_name_one(tmp_path: Path) -> None:
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 2
    err = result.stderr.strip()
    assert err.startswith("error: environments.yaml: not found in the project root") and "--project" in err
    assert len(err.splitlines()) == 1


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"lgtm-dash \d+\.\d+\.\d+\S*", result.stdout.strip()), result.stdout


def test_new_commands_slot_into_the_command_table() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == list(cli.COMMANDS)
    positional = {"diff": ["a", "b"], "init": ["new-project"]}
    for name in cli.COMMANDS:  # every command accepts the global options after its name
        positional = {"diff": ["a", "b"], "init": ["new-project"]}.get(name, [])
        args = parser.parse_args([name, "--project", "/x", *positional])
        assert args.project == Path("/x")


# --- exit codes ----------------------------------------------------------------------------------------------


def test_an_internal_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def broken(args: object) -> int:
        raise KeyError("boom")

    monkeypatch.setattr(compile, "run", broken)
    monkeypatch.delenv("LGTM_DASH_DEBUG", raising=False)
    assert cli.main(["--project", str(REPO), "build"]) == 70
    err = capsys.readouterr().err
    assert err == "internal error: KeyError: 'boom' (set LGTM_DASH_DEBUG=1 for a traceback)\n"


def test_an_interrupt_is_exit_130(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(compile, "run", interrupted)
    assert cli.main(["--project", str(REPO), "build"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_the_readme_lists_every_exit_code() -> None:
    readme = (REPO / "README.md").read_text()
    table = re.findall(r"^\| (\d+) \| ", readme, re.M)
    assert table == ["0", "1", "2", "3", "70", "130"]


# --- build --check ---------------------------------------------------------------------------------------------


def test_build_check_reports_files_left_over_in_out(fixture_project: Path) -> None:
    assert run_cli("build", cwd=fixture_project).returncode == 0
    leftover = fixture_project / "out/grafana/dashboards/demo/deleted-board.json"
    leftover.write_text("{}")
    result = run_cli("build", "--check", cwd=fixture_project)
    assert result.returncode == 1
    assert "grafana/dashboards/demo/deleted-board.json" in result.stdout and "stale" in result.stdout


def test_build_check_on_another_environment_s_out_says_so(fixture_project: Path) -> None:
    local = fixture_project / "build/local"
    assert run_cli("build", "--env", "local", "--out", str(local), cwd=fixture_project).returncode == 0
    result = run_cli("build", "--check", "--out", str(local), cwd=fixture_project)
    assert result.returncode == 1
    assert "build/local/ was built for environment 'local', not 'dev'" in result.stdout
    assert "stale" not in result.stdout
    assert (
        run_cli("build", "--check", "--env", "local", "--out", str(local), cwd=fixture_project).returncode
        == 0
    )
    # The committed out/ (dev's) checked against another environment: it points at build/<env>, never out/.
    assert run_cli("build", cwd=fixture_project).returncode == 0
    result = run_cli("build", "--check", "--env", "local", cwd=fixture_project)
    assert result.returncode == 1
    assert "`lgtm-dash build --check --env local --out build/local`" in result.stdout


@pytest.mark.parametrize("command", ["plan", "publish", "configmaps", "diff --live"])
def test_hints_never_overwrite_the_committed_out_with_another_environment(
    fixture_project: Path, command: str
) -> None:
    assert run_cli("build", cwd=fixture_project).returncode == 0  # out/ is dev's
    before = read_tree(fixture_project / "out")
    env = {"GRAFANA_TOKEN": "t", "DEMO_SLACK_WEBHOOK_URL": "https://hooks.invalid/x"}
    result = run_cli(*command.split(), "--env", "local", cwd=fixture_project, env=env)
    assert result.returncode == 2
    err = result.stderr.strip()
    assert "was built for environment 'dev', not 'local'" in err
    assert "--env local --out build/local" in err
    assert not re.search(r"--out \S*\bout\b", err), err
    assert read_tree(fixture_project / "out") == before


# --- environments and variables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GRAFANA_URL", "localhost:3000", "GRAFANA_URL must be an http(s) URL with a host"),
        ("GRAFANA_URL", "http://admin:hunter22@[::1", "GRAFANA_URL is not a valid URL"),
        ("MIMIR_ADDRESS", "ftp://mimir", "MIMIR_ADDRESS must be an http(s) URL with a host"),
        ("GRAFANA_ORG_ID", "one", "GRAFANA_ORG_ID must be a whole number"),
    ],
)
def test_an_invalid_url_variable_is_bad_input(
    fixture_project: Path, variable: str, value: str, message: str
) -> None:
    assert run_cli("build", cwd=fixture_project).returncode == 0
    env = {"GRAFANA_TOKEN": "t", "DEMO_SLACK_WEBHOOK_URL": "https://hooks.invalid/x", variable: value}
    result = run_cli("plan", "--retries", "1", cwd=fixture_project, env=env)
    assert result.returncode == 2, result.stderr
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert "hunter22" not in err


def test_every_missing_secret_variable_is_named_at_once(fixture_project: Path) -> None:
    path = fixture_project / "environments.yaml"
    path.write_text(
        path.read_text().replace(
            '      demo-prometheus: {url: "http://prometheus:9090"}\n',
            '      demo-prometheus: {url: "http://prometheus:9090", basic_auth_user: grafana,'
            " basic_auth_password_env: DEMO_PROMETHEUS_PASSWORD}\n",
            1,
        )
    )
    assert run_cli("build", cwd=fixture_project).returncode == 0
    environ = {"GRAFANA_TOKEN": "t"}
    result = run_cli("plan", cwd=fixture_project, env=environ)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: environment variables not set: "
        "DEMO_PROMETHEUS_PASSWORD (needed by datasource demo-prometheus); "
        "DEMO_SLACK_WEBHOOK_URL (needed by the Alertmanager config)"
    )


@pytest.mark.parametrize(
    ("old", "new", "message", "key_line"),
    [
        ('grafana: {url: "http://localhost:3000", folder: demo}', "grafana: {folder: demo}",
         "environments.dev.grafana.url is missing", "    grafana:"),
        ("folder: demo}", "folder: demo, org: 2}", "unknown key(s) environments.dev.grafana.org", "    grafana:"),
        ('{url: "http://prometheus:9090"}', '{url: "http://prometheus:9090", tenant: [a]}',
         "environments.dev.datasources.demo-prometheus.tenant must be a single value", "      demo-prometheus:"),
        ("folder: demo}", "folder: demo, org_id: first}", "environments.dev.grafana.org_id must be a whole number",
         "    grafana:"),
        ('address: "http://localhost:9009"', 'address: "localhost:9009"',
         "environments.dev.mimir.address must be an http(s) URL", "    mimir:"),
    ],
)  # fmt: skip
def test_environments_yaml_errors_name_the_key_and_line(
    fixture_project: Path, old: str, new: str, message: str, key_line: str
) -> None:
    path = fixture_project / "environments.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if row.startswith(key_line))
    result = run_cli("build", cwd=fixture_project)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: environments.yaml:{line}: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(fixture_project) not in result.stderr  # paths relative to the project, like every error


# --- panels ------------------------------------------------------------------------------------------------------


def test_an_unknown_unit_suggests_the_grafana_one(fixture_project: Path) -> None:
    path = fixture_project / "dashboards/targets.py"
    path.write_text(path.read_text().replace('unit="short",\n', 'unit="seconds",\n', 1))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "timeseries(" in row)
    result = run_cli("build", cwd=fixture_project)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: dashboards/targets.py:{line}: unknown unit 'seconds' (did you mean `s`?)"
    )


def test_timeseries_takes_colors_with_a_threshold_style(fixture_project: Path) -> None:
    assert run_cli("build", cwd=fixture_project).returncode == 0
    board = json.loads((fixture_project / "out/grafana/dashboards/demo/demo-targets.json").read_text())
    (graph,) = [p for p in board["panels"] if p["type"] == "timeseries"]
    defaults = graph["fieldConfig"]["defaults"]
    assert defaults["thresholds"] == {
        "mode": "absolute",
        "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
    }
    assert defaults["custom"]["thresholdsStyle"] == {"mode": "line"}
    path = fixture_project / "dashboards/targets.py"
    path.write_text(
        path.read_text().replace("colors=thresholds(", 'threshold_style="dashed+area", colors=thresholds(')
    )
    assert run_cli("build", cwd=fixture_project).returncode == 0
    board = json.loads((fixture_project / "out/grafana/dashboards/demo/demo-targets.json").read_text())
    (graph,) = [p for p in board["panels"] if p["type"] == "timeseries"]
    assert graph["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed+area"}


# --- what is loaded ----------------------------------------------------------------------------------------------


def test_sub_folders_of_dashboards_are_built_and_underscored_files_skipped(fixture_project: Path) -> None:
    team = fixture_project / "dashboards/team_a"
    team.mkdir()
    text = (fixture_project / "dashboards/targets.py").read_text()
    (team / "targets_copy.py").write_text(text.replace('uid="demo-targets"', 'uid="demo-targets-copy"'))
    (fixture_project / "dashboards/_shared.py").write_text("raise RuntimeError('a helper is never loaded')\n")
    (fixture_project / "dashboards/_drafts").mkdir()
    (fixture_project / "dashboards/_drafts/wip.py").write_text("this is not even Python\n")
    result = run_cli("build", cwd=fixture_project)
    assert result.returncode == 0, result.stderr
    assert "2 dashboards" in result.stdout
    sourcemap = json.loads((fixture_project / "out/sourcemap.json").read_text())
    assert sourcemap["dashboard:demo-targets-copy"].startswith("dashboards/team_a/targets_copy.py:")


def test_a_sub_folder_that_cannot_be_imported_is_refused_not_skipped(fixture_project: Path) -> None:
    (fixture_project / "dashboards/team-a").mkdir()
    (fixture_project / "dashboards/team-a/board.py").write_text("dashboard = None\n")
    result = run_cli("build", cwd=fixture_project)
    assert result.returncode == 2
    assert result.stderr.startswith("error: dashboards/team-a/board.py:1: sub-folder 'team-a' of dashboards/")
    assert not (fixture_project / "out").exists()


# --- long values -------------------------------------------------------------------------------------------------

HUGE = "x" * 5_000_000  # a 5 MB description


def _set_description(out: Path, text: str) -> None:
    path = out / "grafana/dashboards/demo/demo-targets.json"
    board = json.loads(path.read_text())
    board["description"] = text
    path.write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")


def test_long_values_are_shortened_in_the_text_diff(fixture_project: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    assert run_cli("build", "--out", str(old), cwd=fixture_project).returncode == 0
    assert run_cli("build", "--out", str(new), cwd=fixture_project).returncode == 0
    _set_description(old, "short")
    _set_description(new, HUGE)
    result = run_cli("diff", str(old), str(new), cwd=fixture_project)
    assert result.returncode == 1, result.stderr
    assert len(result.stdout) < 5_000, len(result.stdout)
    assert "more characters)" in result.stdout and "xxxxxxxxxx" in result.stdout


def test_long_values_are_shortened_in_the_text_plan(fixture_project: Path) -> None:
    from lgtm_dash.testing import GrafanaEmulator, MimirEmulator

    with GrafanaEmulator(tokens={"t"}) as grafana, MimirEmulator() as mimir:
        env = {
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": "t",
            "MIMIR_ADDRESS": mimir.url,
            "DEMO_SLACK_WEBHOOK_URL": "https://hooks.invalid/x",
        }
        assert run_cli("build", cwd=fixture_project).returncode == 0
        assert run_cli("publish", cwd=fixture_project, env=env).returncode == 0
        _set_description(fixture_project / "out", HUGE)
        result = run_cli("plan", cwd=fixture_project, env=env)
    assert result.returncode == 1, result.stderr
    assert "~ update dashboard demo-targets" in result.stdout
    assert len(result.stdout) < 5_000, len(result.stdout)
    assert "more characters)" in result.stdout
