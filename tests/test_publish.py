"""`lgtm-dash plan` / `publish` against the Grafana, Mimir and Loki emulators (real HTTP on 127.0.0.1).

Each test builds this repository's definitions into a scratch out/, adds one rule namespace and an
Alertmanager config of its own (so rule and routing behaviour is tested whatever alerts/ holds), and
publishes through the CLI entry point, exactly as `make publish` would. Tests using the `stack` fixture
run once per Grafana release the emulator answers as (11, 12, 13: docs/server-contract.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.cli import main
from lgtm_dash.compile import build
from lgtm_dash.model.dashboard import MANAGED_TAG
from lgtm_dash.testing import GrafanaEmulator, LokiEmulator, MimirEmulator
from lgtm_dash.testing.grafana_emulator import VERSIONS
from tests.helpers import REPO, point_at_emulators, run_cli

TOKEN = "glsa_test-publisher-token-0001"
MYSQL_PASSWORD = "mysql-pw-7f3e9c"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/slack-secret-42"
TEST_NAMESPACE = "lgtm-publish-test"

RULES = f"""\
namespace: {TEST_NAMESPACE}
groups:
- name: http.alerts
  interval: 60s
  rules:
  - alert: TooManyErrors
    expr: sum(rate(qgx_http_errors_total[5m])) > 1
    for: 300s
    keep_firing_for: 120s
    labels:
      severity: critical
    annotations:
      summary: "{{{{ $value }}}} errors per second"
- name: http.recording
  rules:
  - record: qgx:http_requests:rate5m
    expr: sum(rate(qgx_http_requests_total[5m]))
"""

ALERTMANAGER = {
    "template_files": {"slack.tmpl": '{{ define "slack.title" }}{{ .CommonLabels.alertname }}{{ end }}'},
    "alertmanager_config": (
        "route:\n"
        "  receiver: slack\n"
        "  group_by: [alertname, namespace]\n"
        "receivers:\n"
        "- name: slack\n"
        "  slack_configs:\n"
        "  - api_url: ${SLACK_WEBHOOK_URL}\n"
        "    channel: '#alerts'\n"
        "    title: '{{ template \"slack.title\" . }}'\n"
        "templates: [slack.tmpl]\n"
    ),
}


@dataclass
class Stack:
    grafana: GrafanaEmulator
    mimir: MimirEmulator
    loki: LokiEmulator

    def writes(self) -> int:
        return self.grafana.write_count() + self.mimir.write_count() + self.loki.write_count()


@pytest.fixture(autouse=True)
def loki(monkeypatch: pytest.MonkeyPatch) -> Iterator[LokiEmulator]:
    """Loki's ruler for the Loki rules out/ holds (tests/test_publish_loki.py tests them on their own)."""
    with LokiEmulator() as emulator:
        monkeypatch.setenv("LOKI_ADDRESS", emulator.url)
        for name in ("LOKI_TENANT_ID", "LOKI_API_USER", "LOKI_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        yield emulator


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "out"
    build(REPO, "dev", out)
    (out / "mimir" / "rules").mkdir(parents=True, exist_ok=True)
    (out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml").write_text(RULES)
    (out / "mimir" / "alertmanager.yaml").write_text(yaml.safe_dump(ALERTMANAGER))
    return out


@pytest.fixture
def out(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture(params=VERSIONS, ids=[f"grafana{v}" for v in VERSIONS])
def stack(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, loki: LokiEmulator
) -> Iterator[Stack]:
    with GrafanaEmulator(tokens={TOKEN}, version=request.param) as grafana, MimirEmulator() as mimir:
        point_at(monkeypatch, grafana, mimir)
        yield Stack(grafana, mimir, loki)


def point_at(monkeypatch: pytest.MonkeyPatch, grafana: GrafanaEmulator, mimir: MimirEmulator) -> None:
    """The environment `publish` reads, aimed at these emulators (as the `dev` tenant, with a token)."""
    point_at_emulators(monkeypatch, grafana.url, mimir.url, TOKEN)
    monkeypatch.setenv("QGX_MYSQL_PASSWORD", MYSQL_PASSWORD)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SLACK_URL)


def lgtm(command: str, out: Path, *extra: str) -> int:
    return main(
        ["--project", str(REPO), command, "--env", "dev", "--out", str(out), "--retry-delay", "0", *extra]
    )


def move_dashboard_to_new_folder(out: Path, uid: str, folder: str, title: str = "Old team") -> Path:
    """Put dashboard `uid` into a folder of its own in out/; returns the dashboard's new path."""
    folders_file = out / "grafana" / "folders.yaml"
    data = yaml.safe_load(folders_file.read_text())
    data["folders"].append({"uid": folder, "title": title})
    folders_file.write_text(yaml.safe_dump(data))
    path = next(out.glob(f"grafana/dashboards/*/{uid}.json"))
    target = out / "grafana" / "dashboards" / folder / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    path.rename(target)
    return target


def drop_folder(out: Path, folder: str) -> None:
    """Remove a folder and its dashboards from out/."""
    folders_file = out / "grafana" / "folders.yaml"
    data = yaml.safe_load(folders_file.read_text())
    data["folders"] = [f for f in data["folders"] if f["uid"] != folder]
    folders_file.write_text(yaml.safe_dump(data))
    shutil.rmtree(out / "grafana" / "dashboards" / folder)


def edit_dashboard(out: Path, uid: str, **changes: object) -> None:
    path = next(out.glob(f"grafana/dashboards/*/{uid}.json"))
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=2))


# --- first publish, no-op republish, single change ------------------------------------------------------


def test_first_publish_creates_everything_in_out(stack: Stack, out: Path) -> None:
    arts = read_artifacts(out)
    assert lgtm("publish", out) == 0

    g, m = stack.grafana, stack.mimir
    assert set(g.datasources) == {d["uid"] for d in arts.datasources}
    assert set(g.folders) == {f["uid"] for f in arts.folders}
    assert set(g.dashboards) == {d.uid for d in arts.dashboards}
    for art in arts.dashboards:
        stored = g.dashboards[art.uid]
        assert stored.folder_uid == art.folder_uid
        assert stored.versions[-1]["message"].startswith("lgtm-dash publish ")
    # Secrets come from the environment at publish time; `$$` in the provisioning file is a single `$`.
    assert g.datasource_secrets("qgx-mysql")["password"] == MYSQL_PASSWORD
    loki_links = g.datasources["qgx-loki"]["jsonData"]["derivedFields"]
    assert all("$$" not in f["url"] for f in loki_links) and loki_links[0]["url"].startswith("${")
    tenant = "qgx-dev"
    assert set(m.rules(tenant)) == set(arts.rule_namespaces)
    assert [g["name"] for g in m.rules(tenant)[TEST_NAMESPACE]] == ["http.alerts", "http.recording"]
    stored_am = m.alertmanager_config(tenant)
    assert stored_am is not None and SLACK_URL in stored_am["alertmanager_config"]
    assert "{{ .CommonLabels.alertname }}" in stored_am["template_files"]["slack.tmpl"]


def test_republish_with_nothing_changed_makes_no_write_requests(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lgtm("publish", out) == 0
    writes = stack.writes()
    capsys.readouterr()

    assert lgtm("plan", out) == 0
    assert lgtm("publish", out) == 0
    assert stack.writes() == writes
    printed = capsys.readouterr().out
    assert "0 to create, 0 to update, 0 to delete" in printed
    assert "Nothing to publish." in printed


def test_plan_reports_creations_exits_1_and_writes_nothing(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arts = read_artifacts(out)
    total = (
        len(arts.datasources)
        + len(arts.folders)
        + len(arts.dashboards)
        + sum(len(g) for g in arts.rule_namespaces.values())
        + sum(len(g) for g in arts.loki_rule_namespaces.values())
        + 1
    )
    assert lgtm("plan", out) == 1
    first_line = capsys.readouterr().out.splitlines()[0]
    assert f"{total} to create, 0 to update, 0 to delete, 0 unchanged" in first_line
    assert stack.writes() == 0


def test_one_changed_dashboard_updates_only_it(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    uid = read_artifacts(out).dashboards[0].uid
    edit_dashboard(out, uid, title="Renamed in code")
    stack.grafana.clear_log()
    stack.mimir.clear_log()

    assert lgtm("publish", out) == 0
    writes = [r for r in stack.grafana.request_log if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [("POST", "/api/dashboards/db")]
    assert writes[0].json()["dashboard"]["uid"] == uid
    assert writes[0].json()["overwrite"] is False
    assert stack.mimir.write_count() == 0
    assert stack.grafana.dashboards[uid].title == "Renamed in code"


def test_a_changed_tenant_is_republished_although_grafana_hides_secure_fields(
    stack: Stack, out: Path
) -> None:
    assert lgtm("publish", out) == 0
    assert stack.grafana.datasource_secrets("qgx-loki")["httpHeaderValue1"] == "qgx-dev"
    path = out / "grafana" / "datasources.yaml"
    path.write_text(path.read_text().replace("httpHeaderValue1: qgx-dev", "httpHeaderValue1: qgx-dev-2"))
    stack.grafana.clear_log()

    assert lgtm("publish", out) == 0
    writes = [(r.method, r.path) for r in stack.grafana.request_log if r.method != "GET"]
    # Only the datasources whose tenant changed are written, and they get every secure field again.
    assert ("PUT", "/api/datasources/uid/qgx-loki") in writes
    assert all(path.startswith("/api/datasources/uid/") for _, path in writes)
    assert stack.grafana.datasource_secrets("qgx-loki")["httpHeaderValue1"] == "qgx-dev-2"
    assert stack.grafana.datasource_secrets("qgx-mysql")["password"] == MYSQL_PASSWORD
    writes_before = stack.writes()
    assert lgtm("publish", out) == 0
    assert stack.writes() == writes_before  # converged


def test_rule_durations_rewritten_by_mimir_are_not_a_change_but_keep_firing_for_is(
    stack: Stack, out: Path
) -> None:
    assert lgtm("publish", out) == 0
    stored = stack.mimir.rule_group("qgx-dev", TEST_NAMESPACE, "http.alerts")
    assert stored["interval"] == "1m" and stored["rules"][0]["for"] == "5m"  # Mimir rewrote 60s, 300s
    assert lgtm("plan", out) == 0

    rules = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
    rules.write_text(rules.read_text().replace("keep_firing_for: 120s", "keep_firing_for: 10m"))
    before = stack.mimir.write_count()
    assert lgtm("publish", out) == 0
    assert stack.mimir.write_count() == before + 1
    stored = stack.mimir.rule_group("qgx-dev", TEST_NAMESPACE, "http.alerts")
    assert stored["rules"][0]["keep_firing_for"] == "10m"


def test_alertmanager_change_is_detected_structurally(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    path = out / "mimir" / "alertmanager.yaml"
    body = yaml.safe_load(path.read_text())
    # Same structure, different spelling: not a change.
    body["alertmanager_config"] = body["alertmanager_config"].replace(
        "group_by: [alertname, namespace]", "group_by:\n  - alertname\n  - namespace"
    )
    path.write_text(yaml.safe_dump(body))
    assert lgtm("plan", out) == 0
    body["alertmanager_config"] = body["alertmanager_config"].replace("'#alerts'", "'#alerts-critical'")
    path.write_text(yaml.safe_dump(body))
    assert lgtm("publish", out) == 0
    assert "#alerts-critical" in stack.mimir.alertmanager_config("qgx-dev")["alertmanager_config"]


# --- UI edits -----------------------------------------------------------------------------------------------


def test_ui_edit_is_never_overwritten_without_force(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lgtm("publish", out) == 0
    uid = read_artifacts(out).dashboards[0].uid
    stack.grafana.ui_edit(uid, lambda d: d.update(title="Tuned by a human"), user="alice", message="tuned")
    edit_dashboard(out, uid, description="changed in code as well")
    capsys.readouterr()

    assert lgtm("publish", out) == 1
    printed = capsys.readouterr().out
    assert f"conflict dashboard {uid}" in printed and "alice" in printed and "--force" in printed
    assert "(version 2: 'tuned')" in printed  # read from either shape of the versions list
    assert '-  "title": "Tuned by a human"' in printed  # a readable diff: live -> out/
    assert stack.grafana.dashboards[uid].title == "Tuned by a human"

    assert lgtm("publish", out, "--force") == 0
    assert stack.grafana.dashboards[uid].title != "Tuned by a human"
    assert lgtm("plan", out) == 0  # our publish is the newest version again


def test_ui_edit_that_already_matches_out_is_not_a_conflict(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    uid = read_artifacts(out).dashboards[0].uid
    stack.grafana.ui_edit(uid, lambda d: None, user="alice")  # saved without changes
    assert lgtm("plan", out) == 0


def test_ui_edit_between_plan_and_apply_is_caught_by_the_version_guard(stack: Stack, out: Path) -> None:
    from lgtm_dash.clients.http import RetryPolicy
    from lgtm_dash.environments import resolve_environment
    from lgtm_dash.publish.apply import apply_plan
    from lgtm_dash.publish.plan import PlanOptions, compute_plan, make_clients

    assert lgtm("publish", out) == 0
    uid = read_artifacts(out).dashboards[0].uid
    edit_dashboard(out, uid, title="Changed in code")
    env = resolve_environment(REPO, "dev")
    arts = read_artifacts(out)
    clients = make_clients(env, arts, PlanOptions(), RetryPolicy(base_delay=0), {})
    plan = compute_plan(env, arts, clients, PlanOptions())
    assert [(c.key, c.action) for c in plan.pending] == [(uid, "update")]

    stack.grafana.ui_edit(uid, lambda d: d.update(title="Human, meanwhile"), user="bob")
    result = apply_plan(plan, clients, message="lgtm-dash publish test")
    assert [o.status for o in result.outcomes if o.change.key == uid] == ["conflict"]
    assert stack.grafana.dashboards[uid].title == "Human, meanwhile"


# --- prune --------------------------------------------------------------------------------------------------


def test_prune_deletes_only_what_lgtm_dash_manages(stack: Stack, out: Path) -> None:
    g, m = stack.grafana, stack.mimir
    # Things lgtm-dash does not own, seeded before the first publish.
    g.add_datasource("Hand-made", "prometheus", "hand-made", url="http://prom:9090")
    g.seed_folder("team-b", "Team B")
    g.seed_dashboard({"uid": "team-b-board", "title": "Team B board", "tags": ["team-b"]}, "team-b")
    m.seed_rule_group(
        "qgx-dev", "someone-else", {"name": "theirs", "rules": [{"record": "a:b", "expr": "1"}]}
    )
    assert lgtm("publish", out) == 0
    # In a namespace out/ also uses, a group someone made by hand: the namespace is no proof of ownership.
    m.seed_rule_group(
        "qgx-dev", TEST_NAMESPACE, {"name": "by-hand", "rules": [{"record": "c:d", "expr": "1"}]}
    )

    # Remove a dashboard, the recording group and the Tempo datasource from out/.
    gone_board = read_artifacts(out).dashboards[0]
    gone_board.path.unlink()
    rules = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
    data = yaml.safe_load(rules.read_text())
    data["groups"] = [grp for grp in data["groups"] if grp["name"] != "http.recording"]
    rules.write_text(yaml.safe_dump(data))

    assert lgtm("plan", out) == 0  # without --prune nothing is deleted
    assert lgtm("publish", out, "--prune") == 0

    assert gone_board.uid not in g.dashboards
    assert {"hand-made"} <= set(g.datasources)
    assert "team-b" in g.folders and "team-b-board" in g.dashboards
    assert [grp["name"] for grp in m.rules("qgx-dev")[TEST_NAMESPACE]] == ["by-hand", "http.alerts"]
    assert m.rules("qgx-dev")["someone-else"][0]["name"] == "theirs"
    assert lgtm("plan", out, "--prune") == 0


def test_prune_removes_a_managed_datasource_and_a_managed_folder_and_nothing_unmanaged(
    stack: Stack, out: Path
) -> None:
    g = stack.grafana
    uid = read_artifacts(out).dashboards[0].uid
    move_dashboard_to_new_folder(out, uid, "old-team")
    assert lgtm("publish", out) == 0
    assert g.dashboards[uid].folder_uid == "old-team"
    g.add_datasource(
        "Old", "prometheus", "old-ds", url="http://old:9090", json_data={"lgtmDashManaged": True}
    )
    g.seed_folder("unmarked-empty", "Unmarked")  # nobody knows who made it: never pruned
    drop_folder(out, "old-team")

    assert lgtm("publish", out, "--prune") == 0
    assert "old-ds" not in g.datasources
    assert uid not in g.dashboards and "old-team" not in g.folders
    assert "unmarked-empty" in g.folders and "qgx" in g.folders
    writes = stack.writes()
    assert lgtm("publish", out, "--prune") == 0
    assert stack.writes() == writes  # converged


def test_prune_never_deletes_a_managed_folder_holding_unmanaged_dashboards(stack: Stack, out: Path) -> None:
    g = stack.grafana
    uid = read_artifacts(out).dashboards[0].uid
    move_dashboard_to_new_folder(out, uid, "old-team")
    assert lgtm("publish", out) == 0
    g.seed_dashboard({"uid": "precious", "title": "Precious"}, "old-team")
    drop_folder(out, "old-team")

    assert lgtm("publish", out, "--prune") == 1
    assert uid not in g.dashboards  # the managed dashboard goes
    assert "old-team" in g.folders and "precious" in g.dashboards  # the folder stays for what is not ours


def test_a_folder_cycle_in_out_is_bad_input_naming_the_file(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders_file = out / "grafana" / "folders.yaml"
    folders_file.write_text(
        yaml.safe_dump(
            {
                "folders": [
                    {"uid": "qgx", "title": "QGX", "parentUid": "b"},
                    {"uid": "a", "title": "A", "parentUid": "qgx"},
                    {"uid": "b", "title": "B", "parentUid": "a"},
                ]
            }
        )
    )
    assert lgtm("plan", out) == 2
    err = capsys.readouterr().err
    assert str(folders_file) in err and "cycle" in err and "qgx" in err and "Traceback" not in err
    assert stack.writes() == 0


def test_prune_refuses_an_empty_desired_state(stack: Stack, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "build.json").write_text('{"env": "dev"}')
    stack.grafana.seed_dashboard({"uid": "managed", "title": "Managed", "tags": [MANAGED_TAG]})
    assert lgtm("publish", empty, "--prune") == 2
    assert stack.writes() == 0
    assert "managed" in stack.grafana.dashboards


def test_prune_refuses_to_delete_every_dashboard(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    shutil.rmtree(out / "grafana" / "dashboards")
    writes = stack.writes()
    assert lgtm("publish", out, "--prune") == 2
    assert stack.writes() == writes


# --- failures and retries -----------------------------------------------------------------------------------


def test_retries_recover_from_429_5xx_and_connection_resets(stack: Stack, out: Path) -> None:
    g, m = stack.grafana, stack.mimir
    g.faults.fail("POST", r"^/api/dashboards/db$", 503, times=2)
    g.faults.fail("POST", r"^/api/datasources$", 429, times=2)
    g.faults.reset_connection("GET", r"^/api/folders/", times=1)
    m.faults.fail("POST", r"/config/v1/rules/", 502, times=2)
    m.faults.reset_connection("POST", r"^/api/v1/alerts$", times=1)

    assert lgtm("publish", out) == 0
    arts = read_artifacts(out)
    assert set(g.dashboards) == {d.uid for d in arts.dashboards}
    assert set(g.datasources) == {d["uid"] for d in arts.datasources}
    assert m.alertmanager_config("qgx-dev") is not None
    assert not g.faults.pending and not m.faults.pending  # every fault was hit, and survived
    assert lgtm("plan", out) == 0


def test_429_retry_after_is_honoured(stack: Stack) -> None:
    from lgtm_dash.clients.http import RetryPolicy
    from lgtm_dash.clients.mimir import Mimir
    from lgtm_dash.environments import resolve_environment

    waits: list[float] = []
    stack.mimir.faults.fail("POST", r"^/api/v1/alerts$", 429, times=1, retry_after=7)
    mimir = Mimir(resolve_environment(REPO, "dev").mimir, retry=RetryPolicy(sleep=waits.append))
    mimir.set_alertmanager({"alertmanager_config": "route: {receiver: r}\nreceivers: [{name: r}]\n"})
    assert waits == [7.0]
    assert stack.mimir.alertmanager_config("qgx-dev") is not None


def test_a_failing_object_leaves_the_others_correct_and_a_rerun_converges(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g, m = stack.grafana, stack.mimir
    g.faults.fail("POST", r"^/api/folders$", 500, times=None)  # the folder cannot be created
    assert lgtm("publish", out, "--retries", "2") == 3
    printed = capsys.readouterr().out
    assert "failed folder" in printed and "skipped dashboard" in printed
    arts = read_artifacts(out)
    assert set(g.datasources) == {d["uid"] for d in arts.datasources}  # earlier stage done
    assert not g.dashboards  # dependents skipped, not sent into a missing folder
    assert TEST_NAMESPACE in m.rules("qgx-dev")  # independent stage done

    g.faults.clear()
    assert lgtm("publish", out) == 0
    assert set(g.dashboards) == {d.uid for d in arts.dashboards}
    writes = stack.writes()
    assert lgtm("publish", out) == 0
    assert stack.writes() == writes


def test_read_only_datasource_that_differs_is_a_conflict_not_a_write(stack: Stack, out: Path) -> None:
    stack.grafana.add_datasource("Tempo", "tempo", "qgx-tempo", url="http://elsewhere", read_only=True)
    assert lgtm("publish", out) == 1
    assert stack.grafana.datasources["qgx-tempo"]["url"] == "http://elsewhere"
    assert not any(
        r.path == "/api/datasources/uid/qgx-tempo" and r.method == "PUT" for r in stack.grafana.request_log
    )


# --- credentials, secrets, tenants, environments --------------------------------------------------------------


def test_wrong_token_fails_cleanly_without_leaking_it(stack: Stack, out: Path, tmp_path: Path) -> None:
    canary = "glsa_CANARY-do-not-print-9d1c"
    report = tmp_path / "report.json"
    env = {
        "GRAFANA_URL": stack.grafana.url,
        "GRAFANA_TOKEN": canary,
        "MIMIR_ADDRESS": stack.mimir.url,
        "QGX_MYSQL_PASSWORD": MYSQL_PASSWORD,
        "SLACK_WEBHOOK_URL": SLACK_URL,
    }
    args = ["publish", "--env", "dev", "--out", str(out), "--report", str(report), "--retry-delay", "0"]
    done = run_cli(*args, env=env)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "GRAFANA_TOKEN" in lines[0] and stack.grafana.url in lines[0]
    assert "Traceback" not in done.stderr
    for text in (done.stdout, done.stderr, report.read_text() if report.exists() else ""):
        assert canary not in text and MYSQL_PASSWORD not in text and SLACK_URL not in text
    assert stack.writes() == 0


@pytest.mark.parametrize("service", ["grafana", "mimir"])
def test_a_403_on_a_read_stops_the_run_naming_the_credentials(
    stack: Stack, out: Path, service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = stack.grafana if service == "grafana" else stack.mimir
    emulator.faults.fail("GET", r"^/(api|prometheus)/", 403, times=None)
    assert lgtm("publish", out) == 3
    err = capsys.readouterr().err.strip().splitlines()
    variable = "GRAFANA_TOKEN" if service == "grafana" else "MIMIR_API_USER/MIMIR_API_KEY"
    assert len(err) == 1 and "denied access (HTTP 403" in err[0] and variable in err[0]
    assert stack.writes() == 0


def test_wrong_mimir_key_names_the_mimir_credentials(out: Path) -> None:
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator(basic_auth=("qgx-dev", "right")) as mimir:
        env = {
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": TOKEN,
            "MIMIR_ADDRESS": mimir.url,
            "MIMIR_API_KEY": "wrong-key-canary-1234",
            "QGX_MYSQL_PASSWORD": MYSQL_PASSWORD,
            "SLACK_WEBHOOK_URL": SLACK_URL,
        }
        done = run_cli("plan", "--env", "dev", "--out", str(out), env=env)
    assert done.returncode == 3
    assert "MIMIR_API_USER/MIMIR_API_KEY" in done.stderr and "wrong-key-canary-1234" not in done.stderr
    assert "Traceback" not in done.stderr


def test_secrets_never_appear_in_plan_output_or_report(
    stack: Stack, out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    assert lgtm("publish", out, "--report", str(report)) == 0
    path = out / "mimir" / "alertmanager.yaml"
    body = yaml.safe_load(path.read_text())
    body["alertmanager_config"] = body["alertmanager_config"].replace("#alerts", "#other")
    path.write_text(yaml.safe_dump(body))
    assert lgtm("plan", out, "--verbose", "--update-secrets", "--report", str(report)) == 1
    printed = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert data["env"] == "dev" and data["plan"]["update"] >= 1
    for text in (printed, report.read_text()):
        assert SLACK_URL not in text and MYSQL_PASSWORD not in text and TOKEN not in text


def test_missing_secret_variable_fails_before_any_request(
    stack: Stack, out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("QGX_MYSQL_PASSWORD")
    assert lgtm("publish", out) == 2
    assert "QGX_MYSQL_PASSWORD" in capsys.readouterr().err
    assert stack.writes() == 0


def test_artifacts_built_for_another_environment_are_refused(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--project", str(REPO), "publish", "--env", "prod", "--out", str(out)])
    assert code == 2
    assert "built for environment 'dev', not 'prod'" in capsys.readouterr().err
    assert stack.grafana.requests == [] and stack.mimir.requests == []


def test_two_tenants_stay_apart(stack: Stack, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMIR_TENANT_ID", "tenant-a")
    assert lgtm("publish", out) == 0
    monkeypatch.setenv("MIMIR_TENANT_ID", "tenant-b")
    rules = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
    data = yaml.safe_load(rules.read_text())
    data["groups"] = data["groups"][:1]
    rules.write_text(yaml.safe_dump(data))
    assert lgtm("publish", out, "--prune") == 0

    m = stack.mimir
    assert [g["name"] for g in m.rules("tenant-a")[TEST_NAMESPACE]] == ["http.alerts", "http.recording"]
    assert [g["name"] for g in m.rules("tenant-b")[TEST_NAMESPACE]] == ["http.alerts"]
    assert {r.headers.get("x-scope-orgid") for r in m.request_log} == {"tenant-a", "tenant-b"}


def test_concurrency_option_still_publishes_everything(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out, "--concurrency", "1") == 0
    assert lgtm("plan", out, "--concurrency", "16") == 0


# --- export for `diff --live` ---------------------------------------------------------------------------------


def test_export_live_matches_export_desired_after_publish(stack: Stack, out: Path, tmp_path: Path) -> None:
    from lgtm_dash.environments import resolve_environment
    from lgtm_dash.publish import export_desired, export_live

    assert lgtm("publish", out) == 0
    arts = read_artifacts(out)
    env = resolve_environment(REPO, "dev")
    export_live(env, tmp_path / "live", artifacts=arts)
    export_desired(arts, tmp_path / "desired")

    def files(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): p.read_text()
            for p in root.rglob("*")
            if p.is_file() and p.name != "build.json"
        }

    live, desired = files(tmp_path / "live"), files(tmp_path / "desired")
    assert live == desired
    everything = "".join(live.values())
    assert MYSQL_PASSWORD not in everything and SLACK_URL not in everything
    assert read_artifacts(tmp_path / "live").env == "dev"

    uid = arts.dashboards[0].uid
    stack.grafana.ui_edit(uid, lambda d: d.update(title="Edited live"))
    export_live(env, tmp_path / "live")
    changed = files(tmp_path / "live")
    assert [k for k in changed if changed[k] != desired.get(k)] == [
        f"grafana/dashboards/{arts.dashboards[0].folder_uid}/{uid}.json"
    ]


def test_read_only_token_fails_each_write_with_grafanas_reason(out: Path) -> None:
    viewer = "glsa_viewer-canary-5e1d"
    with GrafanaEmulator(tokens={TOKEN}, viewer_tokens={viewer}) as grafana, MimirEmulator() as mimir:
        env = {
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": viewer,
            "MIMIR_ADDRESS": mimir.url,
            "QGX_MYSQL_PASSWORD": MYSQL_PASSWORD,
            "SLACK_WEBHOOK_URL": SLACK_URL,
        }
        done = run_cli("publish", "--env", "dev", "--out", str(out), "--retry-delay", "0", env=env)
        assert not grafana.datasources and not grafana.folders and not grafana.dashboards
        assert mimir.rules("qgx-dev")  # a 403 on a write fails that object, not the run
    assert done.returncode == 3
    assert "refused it (HTTP 403): Access denied" in done.stdout
    assert "skipped dashboard" in done.stdout  # its folder was refused
    assert "every write to grafana was refused with HTTP 403" in done.stdout
    assert viewer not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_a_protected_namespace_and_a_quota_fail_those_objects_alone_with_the_servers_reason(
    out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arts = read_artifacts(out)
    with (
        GrafanaEmulator(tokens={TOKEN}, datasource_quota=len(arts.datasources) - 1) as grafana,
        MimirEmulator() as mimir,
    ):
        point_at(monkeypatch, grafana, mimir)
        mimir.protect_namespace(None, TEST_NAMESPACE)

        assert lgtm("publish", out) == 3
        printed = capsys.readouterr().out
        assert "namespace is protected, no modification allowed" in printed
        assert "data_source Quota reached" in printed
        assert len(grafana.datasources) == len(arts.datasources) - 1
        assert set(grafana.dashboards) == {d.uid for d in arts.dashboards}  # everything else applied
        assert TEST_NAMESPACE not in mimir.rules("qgx-dev")
        assert set(mimir.rules("qgx-dev")) == set(arts.rule_namespaces) - {TEST_NAMESPACE}
        assert mimir.alertmanager_config("qgx-dev") is not None


def test_nested_folders_are_created_parents_first_then_moved_and_renamed(stack: Stack, out: Path) -> None:
    assert lgtm("publish", out) == 0
    folders_file = out / "grafana" / "folders.yaml"
    folders = yaml.safe_load(folders_file.read_text())["folders"]
    child = folders[0]["uid"]
    nested = [
        {"uid": "platform", "title": "Platform"},
        {**folders[0], "title": "Renamed", "parentUid": "platform"},
    ]
    folders_file.write_text(yaml.safe_dump({"folders": nested + folders[1:]}))

    assert lgtm("publish", out) == 0
    g = stack.grafana
    assert g.folders["platform"].parent_uid == "" and g.folders[child].parent_uid == "platform"
    assert g.folders[child].title == "Renamed"
    created = [r for r in g.request_log if r.method == "POST" and r.path == "/api/folders"]
    assert [r.json()["uid"] for r in created][-1] == "platform"
    assert lgtm("plan", out) == 0


# --- server behaviours the emulators answer as the real servers do (docs/server-contract.md) -------------


@pytest.mark.parametrize("stack", ["12", "13"], indirect=True)  # schema v2 exists from Grafana 12
def test_a_dashboard_converted_to_schema_v2_is_a_conflict_not_a_crash(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arts = read_artifacts(out)
    art = arts.dashboards[0]
    stack.grafana.seed_folder(art.folder_uid, "QGX")
    stack.grafana.seed_dashboard(art.data, art.folder_uid, api_version="v2beta1")

    assert lgtm("publish", out) == 1
    printed = capsys.readouterr().out
    assert f"conflict dashboard {art.uid}: stored as a schema v2 dashboard" in printed
    assert "dashboard api version not supported" in printed  # Grafana's own reason
    assert {d.uid for d in arts.dashboards} <= set(stack.grafana.dashboards)  # the others were published
    assert stack.grafana.dashboards[art.uid].version == 1  # never overwritten


def test_a_tenant_at_its_rule_group_limit_is_updated_by_delete_and_create(
    out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arts = read_artifacts(out)
    desired = sum(len(groups) for groups in arts.rule_namespaces.values())
    limit = 70  # Mimir's default, and environments.yaml sets none
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator(max_rule_groups_per_tenant=limit) as mimir:
        point_at(monkeypatch, grafana, mimir)
        for n in range(limit - desired):  # someone else's groups fill the tenant up to its limit
            mimir.seed_rule_group(
                "qgx-dev", "someone-else", {"name": f"g{n}", "rules": [{"record": "a:b", "expr": "1"}]}
            )
        assert lgtm("publish", out) == 0
        assert sum(len(g) for g in mimir.rules("qgx-dev").values()) == limit

        rules = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
        rules.write_text(rules.read_text().replace("keep_firing_for: 120s", "keep_firing_for: 10m"))
        mimir.clear_log()
        capsys.readouterr()
        assert lgtm("publish", out) == 0  # at the limit Mimir refuses a plain update (it counts limit + 1)
        assert [r.method for r in mimir.request_log if r.method != "GET"] == ["DELETE", "POST"]
        assert "replaced by delete + create" in capsys.readouterr().out
        assert (
            mimir.rule_group("qgx-dev", TEST_NAMESPACE, "http.alerts")["rules"][0]["keep_firing_for"] == "10m"
        )

        data = yaml.safe_load(rules.read_text())
        data["groups"].append({"name": "one.too.many", "rules": [{"record": "c:d", "expr": "1"}]})
        rules.write_text(yaml.safe_dump(data))
        mimir.clear_log()
        assert lgtm("publish", out) == 1
        assert "is at its limit of 70 rule groups" in capsys.readouterr().out
        assert mimir.write_count() == 0  # caught before writing


def test_a_tenant_over_its_rule_group_limit_gets_conflicts_not_failed_writes(
    out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator(max_rule_groups_per_tenant=70) as mimir:
        point_at(monkeypatch, grafana, mimir)
        assert lgtm("publish", out) == 0
        for n in range(70):  # the limit was lowered under existing groups: every write would be refused
            mimir.seed_rule_group(
                "qgx-dev", "someone-else", {"name": f"g{n}", "rules": [{"record": "a:b", "expr": "1"}]}
            )
        rules = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
        rules.write_text(rules.read_text().replace("keep_firing_for: 120s", "keep_firing_for: 10m"))
        capsys.readouterr()
        mimir.clear_log()
        assert lgtm("publish", out) == 1
        assert "more than its limit of 70: Mimir refuses every write" in capsys.readouterr().out
        assert mimir.write_count() == 0
