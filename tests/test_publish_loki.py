"""`lgtm-dash plan` / `publish` of Loki rule groups through Loki's ruler API, against the emulators (issue 18):
created per namespace and group in the environment's tenant, each marked as lgtm-dash's (a LogQL `#` comment, row
L-RULES-EXPR-VERBATIM), a republish writes nothing, `--prune` deletes only marked groups inside the namespaces out/
has, LOKI_* variables override environments.yaml, a refusal fails that group alone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.cli import main
from lgtm_dash.compile import build
from lgtm_dash.lint.logql import parse_logql
from lgtm_dash.normalize import strip_rule_mark
from lgtm_dash.testing import GrafanaEmulator, LokiEmulator, MimirEmulator
from tests.helpers import REPO, run_cli

TOKEN = "glsa_loki-publish-token-0001"
TENANT = "qgx-dev"  # environments.yaml: dev's loki.tenant
OURS = "lgtm-loki-test"
RULES = f"""\
namespace: {OURS}
groups:
- name: errors
  interval: 60s
  rules:
  - alert: AppErrors
    expr: sum by (app) (rate({{app=~".+"}} |= "error" [5m])) > 1
    for: 300s
    labels:
      severity: warning
    annotations:
      summary: "{{{{ $labels.app }}}} logs errors"
- name: recording
  rules:
  - record: app:log_lines:rate5m
    expr: sum by (app) (rate({{app=~".+"}} [5m]))
"""


@dataclass
class Stack:
    grafana: GrafanaEmulator
    mimir: MimirEmulator
    loki: LokiEmulator


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "out"
    build(REPO, "dev", out)
    (out / "loki" / "rules" / f"{OURS}.yaml").write_text(RULES)
    return out


@pytest.fixture
def out(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator() as mimir, LokiEmulator() as loki:
        monkeypatch.setenv("GRAFANA_URL", grafana.url)
        monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
        monkeypatch.setenv("MIMIR_ADDRESS", mimir.url)
        monkeypatch.setenv("LOKI_ADDRESS", loki.url)
        monkeypatch.setenv("QGX_MYSQL_PASSWORD", "pw")
        monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x")
        for name in ("MIMIR_TENANT_ID", "LOKI_TENANT_ID", "LOKI_API_USER", "LOKI_API_KEY", "MIMIR_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        yield Stack(grafana, mimir, loki)


def lgtm(command: str, out: Path, *extra: str) -> int:
    return main(
        ["--project", str(REPO), command, "--env", "dev", "--out", str(out), "--retry-delay", "0", *extra]
    )


def edit_rules(out: Path, namespace: str, edit) -> None:
    path = out / "loki" / "rules" / f"{namespace}.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_publish_creates_every_loki_group_and_a_republish_writes_nothing(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arts = read_artifacts(out)
    assert arts.loki_rule_namespaces, "out/ holds no Loki rules"
    assert lgtm("plan", out) == 1
    planned = capsys.readouterr().out
    assert (
        f"create loki-rule-group {OURS}/errors" in planned
        and f"Loki {stack.loki.url} (tenant {TENANT})" in planned
    )
    assert stack.loki.write_count() == 0  # a plan writes nothing

    assert lgtm("publish", out) == 0
    stored = stack.loki.rules(TENANT)
    assert set(stored) == set(arts.loki_rule_namespaces)
    for namespace, groups in arts.loki_rule_namespaces.items():
        assert [g["name"] for g in stored[namespace]] == sorted(g["name"] for g in groups)
    assert stored[OURS][0]["interval"] == "1m" and stored[OURS][0]["rules"][0]["for"] == "5m"  # Loki rewrites
    assert not set(stack.mimir.rules(TENANT)) & set(arts.loki_rule_namespaces)  # nothing Loki's went to Mimir
    posts = [r for r in stack.loki.request_log if r.method == "POST"]
    assert {r.headers.get("x-scope-orgid") for r in stack.loki.request_log} == {TENANT}
    assert len(posts) == sum(len(g) for g in arts.loki_rule_namespaces.values())

    writes = stack.loki.write_count()
    capsys.readouterr()
    assert lgtm("publish", out) == 0
    assert stack.loki.write_count() == writes  # canonical durations read back are not a change
    assert "Nothing to publish." in capsys.readouterr().out


def test_a_changed_expression_updates_that_group_only(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    before = stack.loki.write_count()
    edit_rules(
        out, OURS, lambda d: d["groups"][0]["rules"][0].update(expr=d["groups"][0]["rules"][0]["expr"] + "0")
    )
    assert lgtm("publish", out) == 0
    new_posts = [r for r in stack.loki.request_log if r.method == "POST"][-1:]
    assert stack.loki.write_count() == before + 1
    assert new_posts[0].path.endswith(f"/{OURS}")
    expr = stack.loki.rules(TENANT)[OURS][0]["rules"][0]["expr"]
    assert strip_rule_mark(expr).endswith("> 10") and "\n# lgtm-dash-published owner=" in expr


def test_the_mark_parses_to_the_same_logql_as_out(stack: Stack, out: Path) -> None:
    """The mark is a LogQL comment (Loki's lexer skips `#` to the end of the line): every stored expression
    parses, with the grammar checked against Loki's own parser cases, exactly as out/'s does."""
    assert lgtm("publish", out) == 0
    desired = read_artifacts(out).loki_rule_namespaces
    stored = stack.loki.rules(TENANT)
    for namespace, groups in desired.items():
        live = {g["name"]: g for g in stored[namespace]}
        for group in groups:
            first = live[group["name"]]["rules"][0]["expr"]
            assert "\n# lgtm-dash-published owner=" in first
            assert parse_logql(first) == parse_logql(group["rules"][0]["expr"])


def test_what_loki_does_not_store_is_a_warning_not_an_endless_update(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def add(data: dict) -> None:
        data["groups"][0]["rules"][0]["keep_firing_for"] = "10m"
        data["groups"][0]["query_offset"] = "1m"

    edit_rules(out, OURS, add)
    assert lgtm("publish", out) == 0
    assert "Loki does not store keep_firing_for (AppErrors), query_offset" in capsys.readouterr().out
    writes = stack.loki.write_count()
    assert lgtm("publish", out) == 0
    assert stack.loki.write_count() == writes


def test_prune_deletes_only_groups_lgtm_dash_published_inside_the_namespaces_out_has(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.loki.seed_rule_group(
        TENANT, OURS, {"name": "by-hand", "rules": [{"record": "a:b:c", "expr": "vector(1)"}]}
    )
    stack.loki.seed_rule_group(
        TENANT, "someone-else", {"name": "theirs", "rules": [{"record": "x:y:z", "expr": "vector(1)"}]}
    )
    assert lgtm("publish", out) == 0
    stored = stack.loki.rules(TENANT)[OURS]
    assert all(
        strip_rule_mark(g["rules"][0]["expr"]) != g["rules"][0]["expr"]
        for g in stored
        if g["name"] != "by-hand"
    )
    edit_rules(out, OURS, lambda d: d["groups"].pop())  # `recording` leaves out/
    assert lgtm("publish", out) == 0
    assert "recording" in {g["name"] for g in stack.loki.rules(TENANT)[OURS]}  # no --prune: kept
    capsys.readouterr()

    assert lgtm("publish", out, "--prune", "--force") == 0
    stored = stack.loki.rules(TENANT)
    assert [g["name"] for g in stored[OURS]] == ["by-hand", "errors"]  # ours is gone, the hand-made one stays
    assert (
        f"rule group {OURS}/by-hand is not in out/ and carries no lgtm-dash mark" in capsys.readouterr().out
    )
    assert [g["name"] for g in stored["someone-else"]] == ["theirs"]  # never outside out/'s namespaces


def test_a_loki_group_changed_since_publish_is_drift_and_not_pruned_without_force(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lgtm("publish", out) == 0
    for name in ("errors", "recording"):
        group = next(g for g in stack.loki.rules(TENANT)[OURS] if g["name"] == name)
        stack.loki.seed_rule_group(TENANT, OURS, {**group, "interval": "5m"})  # edited through the ruler API
    edit_rules(out, OURS, lambda d: d["groups"].pop())
    capsys.readouterr()

    assert lgtm("plan", out, "--prune") == 1
    printed = capsys.readouterr().out
    assert f"update loki-rule-group {OURS}/errors" in printed
    assert "drift: changed in Loki since the last publish" in printed
    assert f"conflict loki-rule-group {OURS}/recording: no longer in out/, but changed in Loki" in printed
    assert lgtm("publish", out, "--prune") == 1
    stored = {g["name"]: g for g in stack.loki.rules(TENANT)[OURS]}
    assert stored["errors"]["interval"] == "1m" and "recording" in stored  # out/ put back; theirs kept
    assert lgtm("publish", out, "--prune", "--force") == 0
    assert [g["name"] for g in stack.loki.rules(TENANT)[OURS]] == ["errors"]


def test_loki_variables_override_the_environment(
    stack: Stack, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKI_TENANT_ID", "logs-tenant")
    assert lgtm("publish", out) == 0
    assert OURS in stack.loki.rules("logs-tenant") and stack.loki.rules(TENANT) == {}
    with LokiEmulator(basic_auth=("qgx", "loki-key-51fa")) as guarded:
        monkeypatch.setenv("LOKI_ADDRESS", guarded.url)
        monkeypatch.setenv("LOKI_API_USER", "qgx")
        monkeypatch.setenv("LOKI_API_KEY", "loki-key-51fa")
        assert lgtm("publish", out) == 0
        assert OURS in guarded.rules("logs-tenant")


def test_a_wrong_loki_key_names_the_loki_variables_and_never_the_key(out: Path, stack: Stack) -> None:
    with LokiEmulator(basic_auth=("qgx", "right")) as guarded:
        env = {"LOKI_ADDRESS": guarded.url, "LOKI_API_USER": "qgx", "LOKI_API_KEY": "wrong-key-9d2c"}
        result = run_cli("--project", str(REPO), "publish", "--env", "dev", "--out", str(out), env=env)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "LOKI_API_USER/LOKI_API_KEY and LOKI_TENANT_ID" in result.stderr
        assert "wrong-key-9d2c" not in result.stdout + result.stderr
        assert guarded.write_count() == 0


def test_a_group_loki_refuses_fails_alone_and_a_rerun_converges(stack: Stack, out: Path) -> None:
    broken = {"name": "broken", "rules": [{"alert": "Bad", "expr": 'sum(rate({app="x"}[5m])'}]}
    edit_rules(out, OURS, lambda d: d["groups"].append(broken))
    assert lgtm("publish", out) == 3
    stored = stack.loki.rules(TENANT)
    assert {g["name"] for g in stored[OURS]} == {"errors", "recording"}  # the others are published
    edit_rules(out, OURS, lambda d: d["groups"].pop())
    assert lgtm("publish", out) == 0
    writes = stack.loki.write_count()
    assert lgtm("publish", out) == 0
    assert stack.loki.write_count() == writes


def test_loki_rules_without_a_loki_ruler_are_a_usage_error(out: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    text = (REPO / "environments.yaml").read_text()
    start = text.index("    loki:\n      address: http://localhost:3100\n      tenant: qgx-dev")
    (project / "environments.yaml").write_text(text[:start] + text[text.index("    datasources:", start) :])
    result = run_cli(
        "--project", str(project), "plan", "--env", "dev", "--out", str(out), env={"LOKI_ADDRESS": ""}
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "holds Loki rules, but environment 'dev' names no Loki ruler" in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
