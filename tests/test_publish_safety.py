"""Publish under accident and attack (issue 13), as a user sees it, against the emulators with faults.

- Prune never deletes what lgtm-dash does not own: a rule group made by hand in a namespace out/ also
  uses, a dashboard saved into a managed folder between plan and apply, a dashboard a person tagged
  `lgtm-dash` or copied ("Save as"), even with `--force`.
- No secret leaves: a server echoing the request back (credentials in `Authorization`, passwords in
  the body) is redacted in every encoded form from stdout, stderr and the report; a redirect of a
  write, or of anything to another origin, is refused and nothing reaches the other server.
- Time is bounded: a server trickling its answer ends `plan --timeout` on time with exit 3; a stalled
  request is given up and retried; a TLS certificate that does not verify is not retried; Ctrl-C
  exits 130 with the report of what was applied; a server killed mid-run converges on the next run.
- Drift: a datasource, folder or rule group changed on the server since the last publish shows as drift
  in the plan, and publish puts back what out/ says.
"""

# ruff: noqa: F811 - the fixtures imported from test_publish are named as arguments

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
import yaml

from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.clients.http import RetryPolicy, TLSVerificationFailed
from lgtm_dash.clients.mimir import Mimir
from lgtm_dash.environments import MimirTarget
from lgtm_dash.model.dashboard import MANAGED_TAG
from lgtm_dash.testing import GrafanaEmulator, HTTPEmulator, LokiEmulator, MimirEmulator, Request, Response
from tests.helpers import LGTM, REPO, require_binary, run_cli, stop_process
from tests.test_publish import (  # noqa: F401 - `built`, `out` and `stack` are fixtures
    SLACK_URL,
    TEST_NAMESPACE,
    TOKEN,
    Stack,
    built,
    drop_folder,
    edit_dashboard,
    lgtm,
    loki,
    move_dashboard_to_new_folder,
    out,
    point_at,
    stack,
)

TENANT = "qgx-dev"


@pytest.fixture
def one_stack(monkeypatch: pytest.MonkeyPatch, loki: LokiEmulator) -> Iterator[Stack]:
    """One Grafana release (12) for behaviour that does not depend on the release."""
    with GrafanaEmulator(tokens={TOKEN}, version="12") as grafana, MimirEmulator() as mimir:
        point_at(monkeypatch, grafana, mimir)
        yield Stack(grafana, mimir, loki)


def cli(out: Path, command: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`lgtm-dash <command>` in its own process (the environment `point_at` set is inherited)."""
    return run_cli(command, "--env", "dev", "--out", str(out), "--retry-delay", "0", *extra)


def drop_rule_group(out: Path, name: str) -> None:
    path = out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml"
    data = yaml.safe_load(path.read_text())
    data["groups"] = [g for g in data["groups"] if g["name"] != name]
    path.write_text(yaml.safe_dump(data))


# --- rule groups: the publish mark ---------------------------------------------------------------------


def test_a_hand_made_group_in_a_namespace_out_uses_survives_prune_and_is_reported(
    one_stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = one_stack.mimir
    assert lgtm("publish", out) == 0
    stored = m.rule_group(TENANT, TEST_NAMESPACE, "http.alerts")
    assert stored is not None and "# lgtm-dash-published owner=" in stored["rules"][0]["expr"]
    by_hand = {"name": "made-by-hand", "rules": [{"record": "team:x", "expr": "sum(up)"}]}
    m.seed_rule_group(TENANT, TEST_NAMESPACE, by_hand)
    # A copy of one of ours, mark included, saved under another name: the mark names the original.
    copy = {**stored, "name": "copied"}
    m.seed_rule_group(TENANT, TEST_NAMESPACE, copy)
    drop_rule_group(out, "http.recording")
    capsys.readouterr()

    assert lgtm("publish", out, "--prune", "--force") == 0
    printed = capsys.readouterr().out
    names = [g["name"] for g in m.rules(TENANT)[TEST_NAMESPACE]]
    assert names == ["copied", "http.alerts", "made-by-hand"]  # ours that left out/ is gone, theirs stay
    assert f"rule group {TEST_NAMESPACE}/made-by-hand is not in out/ and carries no lgtm-dash mark" in printed
    assert f"rule group {TEST_NAMESPACE}/copied is not in out/ and carries a mark of another group" in printed


def test_groups_published_before_marks_are_marked_once_then_never_rewritten(
    one_stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = one_stack.mimir
    arts = read_artifacts(out)
    for namespace, groups in arts.rule_namespaces.items():  # what an older lgtm-dash left: no marks
        for group in groups:
            m.seed_rule_group(TENANT, namespace, group)
    total = sum(len(groups) for groups in arts.rule_namespaces.values())
    capsys.readouterr()

    assert lgtm("plan", out) == 1
    assert capsys.readouterr().out.count("not marked as published by lgtm-dash: marks it") == total
    assert lgtm("publish", out) == 0
    writes = one_stack.writes()
    assert lgtm("publish", out) == 0
    assert one_stack.writes() == writes  # idempotent from then on


def test_a_group_changed_in_mimir_shows_drift_and_is_not_pruned_without_force(
    one_stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = one_stack.mimir
    assert lgtm("publish", out) == 0
    for name in ("http.alerts", "http.recording"):
        group = m.rule_group(TENANT, TEST_NAMESPACE, name)
        assert group is not None
        group["interval"] = "5m"  # edited through the ruler API (the Grafana alerting UI does this)
        m.seed_rule_group(TENANT, TEST_NAMESPACE, group)
    drop_rule_group(out, "http.recording")
    capsys.readouterr()

    assert lgtm("plan", out, "--prune") == 1
    printed = capsys.readouterr().out
    assert f"update rule-group {TEST_NAMESPACE}/http.alerts" in printed
    assert "drift: changed in Mimir since the last publish" in printed
    assert f"conflict rule-group {TEST_NAMESPACE}/http.recording: no longer in out/, but changed" in printed
    assert lgtm("publish", out, "--prune") == 1
    assert m.rule_group(TENANT, TEST_NAMESPACE, "http.alerts")["interval"] == "1m"  # out/ put back
    assert m.rule_group(TENANT, TEST_NAMESPACE, "http.recording") is not None
    assert lgtm("publish", out, "--prune", "--force") == 0
    assert m.rule_group(TENANT, TEST_NAMESPACE, "http.recording") is None


@pytest.mark.tools
def test_the_mark_changes_nothing_prometheus_evaluates(one_stack: Stack, out: Path, tmp_path: Path) -> None:
    """The groups as Mimir stores them (mark included) give the same alerts, labels, annotations and
    recorded series as out/'s, in the real Prometheus rule engine (`promtool test rules`)."""
    promtool = require_binary("promtool")
    assert lgtm("publish", out) == 0
    published = {"groups": one_stack.mimir.rules(TENANT)[TEST_NAMESPACE]}
    assert all("lgtm-dash-published" in g["rules"][0]["expr"] for g in published["groups"])
    original = {
        "groups": yaml.safe_load((out / "mimir" / "rules" / f"{TEST_NAMESPACE}.yaml").read_text())["groups"]
    }
    unit = {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'qgx_http_errors_total{job="api"}', "values": "0+600x30"},
                    {"series": 'qgx_http_requests_total{job="api"}', "values": "0+60x30"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "15m",
                        "alertname": "TooManyErrors",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "critical"},
                                "exp_annotations": {"summary": "10 errors per second"},
                            }
                        ],
                    }
                ],
                "promql_expr_test": [
                    {
                        "expr": "qgx:http_requests:rate5m",
                        "eval_time": "10m",
                        "exp_samples": [{"labels": "qgx:http_requests:rate5m", "value": 1}],
                    }
                ],
            }
        ],
    }
    for label, groups in (("original", original), ("published", published)):
        rules = tmp_path / f"{label}.yaml"
        rules.write_text(yaml.safe_dump(groups))
        test = tmp_path / f"{label}-test.yaml"
        test.write_text(yaml.safe_dump({**unit, "rule_files": [rules.name]}))
        checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        tested = subprocess.run(
            [promtool, "test", "rules", test.name], cwd=tmp_path, capture_output=True, text=True
        )
        assert tested.returncode == 0, f"{label}: {tested.stdout}{tested.stderr}"


# --- folders: emptiness checked right before the delete ------------------------------------------------


def publish_then_drop_a_folder(out: Path) -> str:
    """Publish with one dashboard in a folder of its own, then drop that folder from out/: its uid."""
    uid = read_artifacts(out).dashboards[0].uid
    move_dashboard_to_new_folder(out, uid, "old-team")
    assert lgtm("publish", out) == 0
    drop_folder(out, "old-team")
    return uid


def test_a_dashboard_saved_into_a_managed_folder_between_plan_and_apply_survives(
    stack: Stack, out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = stack.grafana
    uid = publish_then_drop_a_folder(out)
    # Someone saves a dashboard into the folder while publish deletes the one lgtm-dash put there.
    g.faults.on(
        "DELETE",
        rf"^/api/dashboards/uid/{uid}$",
        lambda _request: g.seed_dashboard({"uid": "precious", "title": "Precious"}, "old-team", user="bob"),
    )
    report = tmp_path / "report.json"
    capsys.readouterr()

    assert lgtm("publish", out, "--prune", "--report", str(report)) == 1
    assert "precious" in g.dashboards and "old-team" in g.folders
    assert uid not in g.dashboards
    assert not any(r.method == "DELETE" and r.path == "/api/folders/old-team" for r in g.request_log)
    printed = capsys.readouterr().out
    assert "conflict folder old-team: folder old-team is not empty any more (1 dashboard" in printed
    (entry,) = [o for o in json.loads(report.read_text())["objects"] if o["key"] == "old-team"]
    assert entry["status"] == "conflict" and "not empty any more" in entry["error"]


@pytest.mark.parametrize("content", ["library panel", "alert rule"])
def test_a_managed_folder_holding_a_library_panel_or_an_alert_rule_is_not_pruned(
    one_stack: Stack, out: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    g = one_stack.grafana
    uid = publish_then_drop_a_folder(out)
    (g.seed_library_panel if content == "library panel" else g.seed_alert_rule)("old-team")
    capsys.readouterr()

    assert lgtm("publish", out, "--prune") == 1
    assert "old-team" in g.folders and uid not in g.dashboards
    kind = "librarypanel" if content == "library panel" else "alertrule"
    assert f"conflict folder old-team: no longer in out/, but still holds 1 {kind}" in capsys.readouterr().out


# --- dashboards: --force overrides an edit, never ownership --------------------------------------------


def test_prune_with_force_never_deletes_a_dashboard_lgtm_dash_does_not_own(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = stack.grafana
    arts = read_artifacts(out)
    assert lgtm("publish", out) == 0
    # A person tags their own dashboard `lgtm-dash`; another copies one of ours ("Save as" keeps the
    # tag and the publish marker) under a new uid.
    g.seed_dashboard({"uid": "tagged-by-hand", "title": "Mine", "tags": [MANAGED_TAG]}, user="carol")
    ours = arts.dashboards[0]
    copy = {**g.dashboards[ours.uid].dashboard, "uid": "saved-as-copy", "title": "My copy"}
    g.seed_dashboard(copy, user="dave")
    # One of ours, edited in the UI and then dropped from out/: --force may delete that one.
    edited = arts.dashboards[1]
    g.ui_edit(edited.uid, lambda d: d.update(description="tweaked"))
    edited.path.unlink()
    capsys.readouterr()

    assert lgtm("plan", out, "--prune") == 1  # without --force the edited one is a conflict
    assert f"conflict dashboard {edited.uid}" in capsys.readouterr().out
    assert lgtm("publish", out, "--prune", "--force") == 0
    assert {"tagged-by-hand", "saved-as-copy"} <= set(g.dashboards)
    assert edited.uid not in g.dashboards
    printed = capsys.readouterr().out
    for uid in ("tagged-by-hand", "saved-as-copy"):
        assert f"dashboard {uid} is tagged 'lgtm-dash' but lgtm-dash did not publish it" in printed


# --- secrets: an echoing server, a redirecting server ----------------------------------------------------

# A password with characters that every encoding changes (JSON, URL), and credentials sent as basic auth.
ODD_PASSWORD = 'my/pw"7f+3e&9c'
GRAFANA_USER, GRAFANA_PASSWORD = "publisher", "grafana-pw-4b1e"
MIMIR_KEY = "mimir-key-77ad02"
LOKI_KEY = "loki-key-3c90e1"


def encoded_forms(value: str) -> set[str]:
    raw = value.encode()
    return {
        value,
        base64.b64encode(raw).decode(),
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
    }


def leaks(*texts: str) -> list[str]:
    """Every secret form found in `texts` (empty when nothing leaked)."""
    secrets = {
        *encoded_forms(ODD_PASSWORD),
        *encoded_forms(SLACK_URL),
        *encoded_forms(TOKEN),
        *encoded_forms(GRAFANA_PASSWORD),
        *encoded_forms(f"{GRAFANA_USER}:{GRAFANA_PASSWORD}"),
        *encoded_forms(MIMIR_KEY),
        *encoded_forms(f"{TENANT}:{MIMIR_KEY}"),
        *encoded_forms(LOKI_KEY),
        *encoded_forms(f"{TENANT}:{LOKI_KEY}"),
    }
    found = [s for s in secrets if any(s in text for text in texts)]
    for text in texts:
        for line in text.splitlines():
            if "uthorization:" in line and "<redacted>" not in line:
                found.append(line)
    return found


@pytest.fixture(params=["token", "basic"])
def echo_stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Grafana (with a token or basic auth), Mimir and Loki (basic auth) that echo requests when told to."""
    with (
        GrafanaEmulator(tokens={TOKEN}, basic_auth={(GRAFANA_USER, GRAFANA_PASSWORD)}) as grafana,
        MimirEmulator(basic_auth=(TENANT, MIMIR_KEY)) as mimir,
        LokiEmulator(basic_auth=(TENANT, LOKI_KEY)) as guarded_loki,
    ):
        point_at(monkeypatch, grafana, mimir)
        monkeypatch.setenv("QGX_MYSQL_PASSWORD", ODD_PASSWORD)
        monkeypatch.setenv("MIMIR_API_KEY", MIMIR_KEY)
        monkeypatch.setenv("LOKI_ADDRESS", guarded_loki.url)
        monkeypatch.setenv("LOKI_API_KEY", LOKI_KEY)
        if request.param == "basic":
            monkeypatch.delenv("GRAFANA_TOKEN")
            monkeypatch.setenv("GRAFANA_USER", GRAFANA_USER)
            monkeypatch.setenv("GRAFANA_PASSWORD", GRAFANA_PASSWORD)
        yield Stack(grafana, mimir, guarded_loki)


def test_a_server_echoing_requests_back_leaks_no_credential_in_any_encoding(
    echo_stack: Stack, out: Path, tmp_path: Path
) -> None:
    g, m, lk = echo_stack.grafana, echo_stack.mimir, echo_stack.loki
    g.faults.echo("POST", r"^/api/datasources$", 400, times=None)  # bodies hold the MySQL password
    m.faults.echo("POST", r"^/api/v1/alerts$", 400, times=None)  # the Slack webhook URL
    lk.faults.echo("POST", r"^/loki/api/v1/rules/", 400, times=None)  # Loki's basic auth (tenant:key)
    report = tmp_path / "report.json"

    done = cli(out, "publish", "--report", str(report))
    assert done.returncode == 3
    echoed = [r for r in g.request_log + m.request_log + lk.request_log if r.fault == "echo"]
    assert echoed and all(r.headers.get("authorization") for r in echoed)  # there was something to leak
    assert {r.path.split("/")[1] for r in echoed} == {"api", "loki"}
    assert "failed datasource qgx-mysql" in done.stdout and "failed alertmanager config" in done.stdout
    assert "failed loki-rule-group" in done.stdout
    assert "Authorization: <redacted>" in done.stdout or "Authorization: Basic <redacted>" in done.stdout
    assert leaks(done.stdout, done.stderr, report.read_text()) == []

    # A read echoed back stops the plan: its one-line error is clean too.
    g.faults.clear()
    g.faults.echo("GET", r"^/api/datasources/uid/", 400, times=None)
    done = cli(out, "plan", "--report", str(report))
    assert done.returncode == 3 and "Grafana answered HTTP 400" in done.stderr
    assert leaks(done.stdout, done.stderr) == []


class Recorder(HTTPEmulator):
    """Another host: records whatever reaches it."""

    def handle(self, request: Request) -> Response:
        return Response.json(200, {"message": "thanks"})


def test_a_redirected_write_is_never_followed_and_nothing_reaches_the_other_host(
    one_stack: Stack, out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g, m = one_stack.grafana, one_stack.mimir
    monkeypatch.setenv("QGX_MYSQL_PASSWORD", ODD_PASSWORD)
    with Recorder() as elsewhere:
        # What a plain HTTP client does with such an answer: it re-sends the body to the other host.
        g.faults.redirect("POST", r"^/api/datasources$", 307, elsewhere.url + "/api/datasources", times=1)
        requests.post(g.url + "/api/datasources", json={"password": "x"}, timeout=5)
        assert [(r.method, r.json()) for r in elsewhere.request_log] == [("POST", {"password": "x"})]
        elsewhere.clear_log()

        g.faults.redirect("POST", r"^/api/datasources$", 307, elsewhere.url + "/api/datasources", times=None)
        m.faults.redirect("POST", r"^/api/v1/alerts$", 308, elsewhere.url + "/api/v1/alerts", times=None)
        one_stack.loki.faults.redirect(
            "POST", r"^/loki/api/v1/rules/", 307, elsewhere.url + "/loki/api/v1/rules/x", times=None
        )
        report = tmp_path / "report.json"
        done = cli(out, "publish", "--report", str(report))

        assert done.returncode == 3
        assert elsewhere.request_log == []
        assert "failed loki-rule-group" in done.stdout and "Loki at http" in done.stdout
        assert (
            f"a redirect to http://127.0.0.1:{elsewhere.port}: not followed (a write is never redirected)"
            in (done.stdout)
        )
        assert leaks(done.stdout, done.stderr, report.read_text()) == []
        assert g.dashboards  # the rest was published

        # A read is not followed to another origin either; on the same origin it is.
        g.faults.clear()
        g.faults.redirect("GET", r"^/api/folders/qgx$", 301, g.url + "/api/folders/qgx/", times=1)
        done = cli(out, "plan")
        assert done.returncode == 1 and done.stderr == ""  # the datasources that failed are still to create
        assert ("GET", "/api/folders/qgx/") in g.requests and "create folder qgx" not in done.stdout
        g.faults.redirect("GET", r"^/api/folders/qgx$", 302, elsewhere.url + "/api/folders/qgx", times=1)
        done = cli(out, "plan")
        assert done.returncode == 3 and "not followed (it is another origin)" in done.stderr
        assert elsewhere.request_log == []


# --- time: trickling, stalled, TLS, Ctrl-C, killed ---------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "publish", "diff --live"])
def test_timeout_ends_a_run_against_a_trickling_server_on_time(
    one_stack: Stack, out: Path, command: str
) -> None:
    one_stack.grafana.faults.trickle("GET", r"^/api/", 1.0, times=None)  # one byte a second, forever
    started = time.monotonic()
    done = run_cli(*command.split(), "--env", "dev", "--out", str(out), "--timeout", "3")
    elapsed = time.monotonic() - started
    assert done.returncode == 3
    assert "stopped at the time limit of 3 s (--timeout)" in done.stderr
    assert 3 <= elapsed < 3 + 10  # start-up included; without --timeout: 5 attempts of 30 s
    assert one_stack.writes() == 0


def test_a_stalled_request_is_given_up_and_retried_and_publish_converges(one_stack: Stack, out: Path) -> None:
    g = one_stack.grafana
    g.faults.stall("POST", r"^/api/dashboards/db$", 3.0, times=2)
    assert lgtm("publish", out, "--request-timeout", "1") == 0
    assert not g.faults.pending
    assert set(g.dashboards) == {d.uid for d in read_artifacts(out).dashboards}
    writes = one_stack.writes()
    assert lgtm("publish", out) == 0 and one_stack.writes() == writes


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    openssl = require_binary("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TLSServer:
    """Accepts TLS connections with a self-signed certificate and counts them."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()


@pytest.mark.tools  # openssl makes the certificate
def test_a_certificate_that_does_not_verify_is_not_retried(
    one_stack: Stack, out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = TLSServer(self_signed(tmp_path))
    monkeypatch.setenv("GRAFANA_URL", f"https://127.0.0.1:{server.port}")
    started = time.monotonic()
    done = cli(out, "plan", "--retries", "5", "--read-concurrency", "1")
    assert done.returncode == 3
    assert "does not verify" in done.stderr and "not retried" in done.stderr
    assert server.connections == 1 and time.monotonic() - started < 20

    mimir = Mimir(MimirTarget(address=f"https://127.0.0.1:{server.port}", tenant=TENANT), retry=RetryPolicy())
    with pytest.raises(TLSVerificationFailed, match="does not verify"):
        mimir.list_rules()
    assert server.connections == 2
    server.sock.close()


def test_ctrl_c_during_publish_exits_130_and_writes_the_report_of_what_was_applied(
    one_stack: Stack, out: Path, tmp_path: Path
) -> None:
    g = one_stack.grafana
    first_save = threading.Event()
    g.faults.on("POST", r"^/api/dashboards/db$", lambda _r: first_save.set())
    g.faults.stall("POST", r"^/api/dashboards/db$", 1.0, times=None)  # each save takes a second
    report = tmp_path / "report.json"
    args = ["--project", str(REPO), "publish", "--env", "dev", "--out", str(out), "--retry-delay", "0"]
    process = subprocess.Popen(
        [*LGTM, *args, "--concurrency", "1", "--report", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert first_save.wait(60), "publish never reached the dashboards"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        stop_process(process)
    assert process.returncode == 130
    assert "Interrupted: " in stderr and str(report) in stderr and "Run publish again" in stderr
    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    statuses = {(o["kind"], o["key"]): o["status"] for o in data["objects"]}
    saved = set(g.dashboards)
    assert saved and all(statuses[("dashboard", uid)] == "created" for uid in saved)  # the report is true
    assert any(s == "skipped" for (kind, _), s in statuses.items() if kind == "dashboard")
    assert all(s == "created" for (kind, _), s in statuses.items() if kind in ("datasource", "folder"))
    assert "Traceback" not in stderr and "Applied:" in stdout

    g.faults.clear()  # the next run finishes the job
    assert lgtm("publish", out) == 0
    assert set(g.dashboards) == {d.uid for d in read_artifacts(out).dashboards}


def test_a_server_killed_mid_publish_fails_the_run_and_the_next_run_converges(
    stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = stack.grafana
    saves = []

    def kill_on_second_save(_request: object) -> None:
        saves.append(1)
        if len(saves) == 2:
            g.kill()

    g.faults.on("POST", r"^/api/dashboards/db$", kill_on_second_save, times=None)
    assert lgtm("publish", out, "--retries", "2", "--concurrency", "1") == 3
    assert "failed dashboard" in capsys.readouterr().out
    assert 0 < len(g.dashboards) < len(read_artifacts(out).dashboards)

    g.faults.clear()
    g.start()  # back on the same address, with what it had stored
    assert lgtm("publish", out) == 0
    writes = stack.writes()
    assert lgtm("publish", out) == 0 and stack.writes() == writes


# --- drift: changed on the server since the last publish --------------------------------------------------


def test_drift_on_a_datasource_and_a_folder_is_shown_then_reverted(
    one_stack: Stack, out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = one_stack.grafana
    assert lgtm("publish", out) == 0
    g.ui_edit_datasource("qgx-loki", lambda dto: dto.update(url="http://loki.elsewhere"))
    g.ui_edit_folder("qgx", title="Renamed in the UI", user="alice")
    capsys.readouterr()
    report = tmp_path / "report.json"

    assert lgtm("plan", out, "--report", str(report)) == 1
    printed = capsys.readouterr().out
    assert "update datasource qgx-loki" in printed and "update folder qgx" in printed
    assert "drift: changed in Grafana since the last publish" in printed  # the datasource
    assert "drift: changed in Grafana by alice at " in printed  # the folder
    assert "--- live (changed there since the last publish)" in printed
    assert '-  "url": "http://loki.elsewhere"' in printed and '-  "title": "Renamed in the UI"' in printed
    drift = {o["key"]: o["drift"] for o in json.loads(report.read_text())["objects"]}
    assert drift["qgx-loki"] and drift["qgx"] and not drift["qgx-mimir"]

    assert lgtm("publish", out) == 0
    assert g.datasources["qgx-loki"]["url"] != "http://loki.elsewhere"
    assert g.folders["qgx"].title != "Renamed in the UI"
    assert lgtm("plan", out) == 0


def test_a_change_made_in_out_is_not_called_drift(
    one_stack: Stack, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lgtm("publish", out) == 0
    folders = out / "grafana" / "folders.yaml"
    data = yaml.safe_load(folders.read_text())
    data["folders"][0]["title"] = "Renamed in out"
    folders.write_text(yaml.safe_dump(data))
    datasources = out / "grafana" / "datasources.yaml"
    datasources.write_text(datasources.read_text().replace("maxLines: 1000", "maxLines: 2000"))
    capsys.readouterr()
    assert lgtm("plan", out) == 1
    printed = capsys.readouterr().out
    assert "update folder" in printed and "drift" not in printed


def test_redaction_covers_every_encoding_and_any_credential_header_but_keeps_plain_words() -> None:
    from lgtm_dash.secrets import REDACTED, basic_credentials, redact

    secrets = {"password": ODD_PASSWORD, "basic": basic_credentials(GRAFANA_USER, GRAFANA_PASSWORD)}
    basic = base64.b64encode(f"{GRAFANA_USER}:{GRAFANA_PASSWORD}".encode()).decode()
    said = [
        f"Authorization: Basic {basic}",
        f'{{"password":"{json.dumps(ODD_PASSWORD)[1:-1]}"}}',
        f"password={quote_plus(ODD_PASSWORD)}&url={quote(ODD_PASSWORD, safe='')}",
        '"Authorization":["Bearer glsa_unknown-token-0123"]',  # a value we never knew
        "authorization=abc.def.ghi",
        "proxy said: bearer eyJhbGciOi.payload.sig",
    ]
    cleaned = redact("\n".join(said), secrets)
    assert leaks(cleaned) == [] and "glsa_unknown" not in cleaned and "eyJhbGciOi" not in cleaned
    assert cleaned.count(REDACTED) >= len(said)
    plain = 'Basic authentication required; "httpHeaderName1": "Authorization",'
    assert redact(plain, secrets) == plain
