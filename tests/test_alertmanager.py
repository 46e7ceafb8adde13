"""Alertmanager config as code: Mimir's validation, amtool, routing table, Helm fallback, and a real
Alertmanager delivering Slack messages to a local webhook sink (issue 5); Loki ruler alerts routed the same way
(issue 18)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import yaml

from lgtm_dash import amtool
from lgtm_dash.compile import build
from lgtm_dash.environments import resolve_environment
from lgtm_dash.errors import DefinitionError
from lgtm_dash.load import load_project
from lgtm_dash.model.alertmanager import (
    FORBIDDEN_FILE_FIELDS,
    AlertmanagerConfig,
    Receiver,
    Route,
    SlackConfig,
    mimir_config_errors,
    parse_template,
)
from lgtm_dash.model.alertmanager import (
    AlertmanagerConfig as Config,
)
from lgtm_dash.model.rules import RuleNamespace, TemplateTest
from lgtm_dash.secrets import Secret
from tests.helpers import REPO, corpus, require_binary, run_cli

DUMMY_WEBHOOK = "https://hooks.slack.example/services/T0/B0/dummy"
SECRET_WEBHOOK = "https://hooks.slack.com/services/TSECRET/BSECRET/very-secret-token"


@pytest.fixture(scope="module")
def config() -> AlertmanagerConfig:
    am = load_project(REPO).alertmanager
    assert isinstance(am, AlertmanagerConfig)
    return am


@pytest.fixture(scope="module")
def routing_cases(config: AlertmanagerConfig) -> tuple:
    return config.tests  # the routing cases live beside the routing


@pytest.fixture(scope="module")
def loki_namespaces() -> list[RuleNamespace]:
    return [ns for ns in load_project(REPO).rule_namespaces if ns.ruler == "loki"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    build(REPO, "dev", out)
    return out


# --- the compiled artifacts -----------------------------------------------------------------------------


def test_compiled_body_is_what_mimir_s_api_takes(built: Path) -> None:
    body = yaml.safe_load((built / "mimir/alertmanager.yaml").read_text())
    assert set(body) == {"template_files", "alertmanager_config"}
    assert isinstance(body["alertmanager_config"], str)
    config = yaml.safe_load(body["alertmanager_config"])
    assert config["templates"] == ["slack.tmpl"] == list(body["template_files"])
    assert config["route"]["group_by"] == ["alertname", "namespace", "cluster"]
    assert mimir_config_errors(config, body["template_files"]) == []
    slack = [c for r in config["receivers"] for c in r.get("slack_configs", [])]
    assert {c["channel"] for c in slack} == {"#alerts-critical", "#alerts", "#alerts-info"}
    assert all(c["api_url"] == "${SLACK_WEBHOOK_URL}" and c["send_resolved"] is True for c in slack)
    inhibit = config["inhibit_rules"]
    assert inhibit == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "namespace", "cluster"],
        }
    ]


def test_the_webhook_never_reaches_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("build", "--out", str(out), env={"SLACK_WEBHOOK_URL": SECRET_WEBHOOK})
    assert result.returncode == 0, result.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert "TSECRET" not in path.read_text(), path


def test_helm_fallback_values_read_the_webhook_from_a_mounted_secret(built: Path) -> None:
    values = yaml.safe_load((built / "mimir/alertmanager-fallback-values.yaml").read_text())["alertmanager"]
    fallback = yaml.safe_load(values["fallbackConfig"])
    mount = values["extraVolumeMounts"][0]
    assert values["extraVolumes"][0]["name"] == mount["name"]
    slack = [c for r in fallback["receivers"] for c in r.get("slack_configs", [])]
    assert slack and all(c["api_url_file"] == f"{mount['mountPath']}/SLACK_WEBHOOK_URL" for c in slack)
    assert all("api_url" not in c for c in slack)
    assert "templates" not in fallback  # Mimir has no template files for the fallback: they are inlined
    assert all('define "slack.qgx.title"' in c["title"] for c in slack)


# --- Mimir's validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "conf.slack-default-api-url-file.yml",
        "conf.opsgenie-default-apikey-file.yml",
        "conf.telegram-default-bot-token-file.yml",
        "conf.victorops-default-apikey-file.yml",
    ],
)
def test_secret_files_valid_upstream_are_rejected_as_mimir_does(name: str) -> None:
    text = corpus(f"alertmanager/testdata/{name}").read_text()
    errors = mimir_config_errors(yaml.safe_load(text), {})
    used = {key for key in FORBIDDEN_FILE_FIELDS if re.search(rf"^\s*{key}:", text, re.M)}
    assert used, name
    for key in used:
        assert any(f"Mimir does not allow {key!r}" in e for e in errors), (key, errors)


def test_template_paths_are_rejected_as_mimir_does() -> None:
    config = yaml.safe_load(corpus("alertmanager/examples/simple.yml").read_text())
    errors = mimir_config_errors(config, {})
    assert any("the template name cannot contain any path" in e for e in errors), errors
    assert mimir_config_errors({"route": {"receiver": "r"}, "receivers": [{"name": "r"}]}, {"a/b.tmpl": ""})


def test_tls_and_routing_problems_are_reported() -> None:
    config = {
        "route": {"receiver": "a", "routes": [{"receiver": "ghost"}]},
        "receivers": [
            {
                "name": "a",
                "webhook_configs": [{"url": "http://x", "http_config": {"tls_config": {"ca_file": "/c"}}}],
            },
            {"name": "a"},
        ],
    }
    errors = mimir_config_errors(config, {})
    assert any("'ca_file'" in e for e in errors)
    assert any("undefined receiver 'ghost'" in e for e in errors)
    assert any("'a' is defined more than once" in e for e in errors)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{{ define "a" }}x\n{{ if .X }}y\n{{ end }}', "'define' is never closed", 1),
        ("ok\n\n{{ .Status ", "unclosed action", 3),
        ("{{ end }}", "'end' without an open block", 1),
        ("a\n{{ else }}", "'else' outside", 2),
        ("{{/* it's a comment with }} inside? no */}}{{ define }}{{ end }}", "define needs a quoted name", 1),
    ],
)
def test_broken_templates_name_the_line(text: str, message: str, line: int) -> None:
    with pytest.raises(DefinitionError, match=re.escape(message)) as err:
        parse_template(text, "t.tmpl")
    assert f"t.tmpl:{line}:" in str(err.value)


def test_a_function_alertmanager_does_not_define_fails_like_mimir_s_api() -> None:
    with pytest.raises(DefinitionError, match="function 'humanize' not defined") as err:
        parse_template('{{ define "x" }}\n{{ .CommonLabels.value | humanize }}{{ end }}', "t.tmpl")
    assert "t.tmpl:2:" in str(err.value)
    parse_template('{{ define "x" }}{{ .StartsAt | since | humanizeDuration }} {{ toJson .Labels }}{{ end }}')


def test_well_formed_templates_parse() -> None:
    parsed = parse_template(
        '{{/* c */}}{{ define "x" -}}{{ range .Alerts }}{{ if eq .Status "}}" }}a{{ else if true }}b'
        '{{ else }}c{{ end }}{{ end }}{{ template "y" . }}{{- end }}{{ define "y" }}{{ end }}'
    )
    assert [d.name for d in parsed.defines] == ["x", "y"]
    assert parsed.calls == {"y"}


def test_an_undefined_template_is_a_definition_error() -> None:
    slack = SlackConfig(channel="#a", api_url=Secret("HOOK"), title='{{ template "nope" . }}')
    with pytest.raises(DefinitionError, match='template "nope" is used but no template file defines it'):
        Config(route=Route(receiver="r"), receivers=(Receiver("r", (slack,)),))


def test_a_broken_template_file_fails_the_build_with_its_line(project_copy: Path) -> None:
    template = project_copy / "alerts/slack.tmpl"
    lines = template.read_text().splitlines()
    broken = next(i for i, row in enumerate(lines) if "define" in row and "slack.qgx.text" in row)
    lines[broken + 1] = lines[broken + 1].replace("{{ range .Alerts -}}", "{{ range .Alerts")
    template.write_text("\n".join(lines) + "\n")
    result = run_cli("--project", str(project_copy), "build", "--out", str(project_copy / "out"))
    assert result.returncode == 2
    assert f"alerts/slack.tmpl:{broken + 2}: unclosed action" in result.stderr
    assert "Traceback" not in result.stderr and not (project_copy / "out").exists()


# --- amtool ---------------------------------------------------------------------------------------------


@pytest.mark.content
@pytest.mark.tools
def test_amtool_check_config_accepts_the_compiled_config(built: Path, tmp_path: Path) -> None:
    tool = require_binary("amtool")
    body = yaml.safe_load((built / "mimir/alertmanager.yaml").read_text())
    path = amtool.write_config(body, tmp_path, {"SLACK_WEBHOOK_URL": DUMMY_WEBHOOK})
    result = amtool.check_config(tool, path)
    assert result.ok, result.output
    assert "3 receivers" in result.output and "1 templates" in result.output


@pytest.mark.content
@pytest.mark.tools
def test_amtool_check_config_accepts_the_helm_fallback(config: AlertmanagerConfig, tmp_path: Path) -> None:
    tool = require_binary("amtool")
    (tmp_path / "SLACK_WEBHOOK_URL").write_text(DUMMY_WEBHOOK)
    path = tmp_path / "fallback.yml"
    path.write_text(yaml.safe_dump(config.fallback_config(str(tmp_path))))
    result = amtool.check_config(tool, path)
    assert result.ok, result.output


@pytest.mark.content
@pytest.mark.tools
def test_routing_table_on_the_real_amtool(
    config: AlertmanagerConfig, routing_cases: tuple, tmp_path: Path
) -> None:
    tool = require_binary("amtool")
    path = amtool.write_config(config.to_api_body(), tmp_path, {"SLACK_WEBHOOK_URL": DUMMY_WEBHOOK})
    assert len(routing_cases) >= 5
    reached = {receiver for case in routing_cases for receiver in case.receivers}
    assert reached == {r.name for r in config.receivers}  # the table covers every receiver
    for case in routing_cases:
        result = amtool.routes_test(tool, path, case.labels, list(case.receivers))
        assert result.ok, f"{case.location}: {case.labels} -> {case.receivers}: {result.output}"
    wrong = amtool.routes_test(tool, path, {"severity": "critical"}, ["slack-info"])
    assert not wrong.ok and "did not match" in wrong.output


def test_every_loki_alert_has_a_routing_case_with_the_labels_its_logql_keeps(
    config: AlertmanagerConfig, routing_cases: tuple, loki_namespaces: list[RuleNamespace]
) -> None:
    """Each (Loki alert, severity) is in the routing table, headed for its severity's channel, with the label set
    its template test gives (what the LogQL result carries), so amtool routes what Loki will really send."""
    import alerts.alertmanager

    assert loki_namespaces, "no Loki namespace to route"
    for ns in loki_namespaces:
        samples = {t.alertname: set(t.result) for t in ns.tests if isinstance(t, TemplateTest)}
        for alert in ns.alerts():
            severity = alert.labels["severity"]
            cases = [
                case
                for case in routing_cases
                if case.labels.get("alertname") == alert.name and case.labels.get("severity") == severity
            ]
            assert cases, f"no routing case for {alert.name} ({severity})"
            for case in cases:
                assert case.receivers == (alerts.alertmanager.CHANNELS[severity][0],), (alert.name, severity)
                assert set(case.labels) - {"alertname", "severity"} == samples[alert.name], alert.name


# --- a real Alertmanager delivering to a local Slack webhook ---------------------------------------------


class SlackSink:
    """A local HTTP server recording every JSON body posted to it (what Slack's webhook would receive)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink._lock:
                    sink.messages.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/sink"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no matching Slack message within {timeout}s; got {self.messages}")

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if predicate(m)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["api", "fallback"])
def alertmanager(
    request: pytest.FixtureRequest, config: AlertmanagerConfig, tmp_path: Path
) -> Iterator[tuple[str, SlackSink]]:
    """A real Alertmanager (test timings), its Slack webhook pointed at a sink.

    Runs on the config Mimir's API gets (placeholder filled at publish) and on the Helm fallback (webhook
    read from a mounted file, templates inlined): both must deliver the same messages.
    """
    binary = require_binary("prometheus-alertmanager")
    sink = SlackSink()
    fast = config.with_timings(group_wait="1s", group_interval="1s", repeat_interval="1h")
    if request.param == "api":
        path = amtool.write_config(fast.to_api_body(), tmp_path / "config", {"SLACK_WEBHOOK_URL": sink.url})
    else:
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        (secrets / "SLACK_WEBHOOK_URL").write_text(sink.url)
        path = tmp_path / "fallback.yml"
        path.write_text(yaml.safe_dump(fast.fallback_config(str(secrets))))
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={path}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Alertmanager did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield url, sink
    finally:
        process.kill()
        process.wait(timeout=10)
        sink.server.shutdown()


def post_alerts(url: str, *alerts: dict[str, Any]) -> None:
    request = Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(list(alerts)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 200


def alert(
    name: str, severity: str, namespace: str = "shop", ends_at: datetime | None = None
) -> dict[str, Any]:
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "labels": {
            "alertname": name,
            "severity": severity,
            "namespace": namespace,
            "cluster": "c1",
            "service": "api",
        },
        "annotations": {
            "summary": f"api in {namespace} fails 10% of requests",
            "description": f"10% of the HTTP requests to api in {namespace} failed over the last 5 minutes.",
            "runbook_url": f"https://runbooks.qgx.example.com/{name}",
            "dashboard_url": f"http://localhost:3000/d/qgx-http-overview/http-service-overview?var-namespace={namespace}",
        },
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
        "generatorURL": "http://mimir.example/graph",
    }
    if ends_at is not None:
        data["endsAt"] = ends_at.isoformat()
    return data


def attachment(message: dict[str, Any]) -> dict[str, Any]:
    return message["attachments"][0]


@pytest.mark.tools
def test_slack_message_arrives_and_resolves(alertmanager: tuple[str, SlackSink]) -> None:
    url, sink = alertmanager
    post_alerts(url, alert("QgxHttpHighErrorRatio", "critical"))
    firing = sink.wait_for(lambda m: "[FIRING" in attachment(m)["title"])
    assert firing["channel"] == "#alerts-critical"
    message = attachment(firing)
    assert message["title"] == "[FIRING:1] QgxHttpHighErrorRatio in shop (c1)"
    assert "api in shop fails 10% of requests" in message["text"]
    assert "10% of the HTTP requests to api in shop failed over the last 5 minutes." in message["text"]
    assert message["color"] == "danger"
    buttons = {action["text"]: action["url"] for action in message["actions"]}
    assert buttons["Runbook"] == "https://runbooks.qgx.example.com/QgxHttpHighErrorRatio"
    assert buttons["Dashboard"].startswith("http://localhost:3000/d/qgx-http-overview/")
    assert buttons["Silence"].startswith(f"{url}/#/silences/new?filter=%7B")
    assert "alertname%3D%22QgxHttpHighErrorRatio%22" in buttons["Silence"]
    assert "namespace%3D%22shop%22" in buttons["Silence"]

    post_alerts(
        url, alert("QgxHttpHighErrorRatio", "critical", ends_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    resolved = sink.wait_for(lambda m: "[RESOLVED]" in attachment(m)["title"])
    assert resolved["channel"] == "#alerts-critical"
    assert attachment(resolved)["title"] == "[RESOLVED] QgxHttpHighErrorRatio in shop (c1)"
    assert attachment(resolved)["color"] == "good"
    assert "api in shop fails 10% of requests" in attachment(resolved)["text"]


@pytest.mark.tools
def test_a_critical_inhibits_the_warning_of_the_same_alert_and_namespace(
    alertmanager: tuple[str, SlackSink],
) -> None:
    url, sink = alertmanager
    post_alerts(
        url,
        alert("QgxHttpHighErrorRatio", "critical", namespace="shop"),
        alert("QgxHttpHighErrorRatio", "warning", namespace="shop"),  # inhibited
        alert("QgxHttpHighErrorRatio", "warning", namespace="billing"),  # no critical there: delivered
    )
    sink.wait_for(lambda m: m["channel"] == "#alerts-critical")
    control = sink.wait_for(lambda m: m["channel"] == "#alerts")
    assert "billing" in attachment(control)["title"] and attachment(control)["color"] == "warning"
    # Both warning groups flush on the same schedule; give the inhibited one a further group interval.
    time.sleep(2)
    warnings = sink.matching(lambda m: m["channel"] == "#alerts")
    assert [attachment(m)["title"] for m in warnings] == ["[FIRING:1] QgxHttpHighErrorRatio in billing (c1)"]


def loki_alert(namespace: RuleNamespace, alertname: str, grafana: str, datasource_uid: str) -> dict[str, Any]:
    """What Loki's ruler posts for the first alert a template test expects: the labels and annotations promtool
    checked, and a generatorURL built as Loki's SendAlerts builds it (Explore on the Loki datasource)."""
    test = next(t for t in namespace.tests if isinstance(t, TemplateTest) and t.alertname == alertname)
    expected = test.firing[0].to_dict(resolve_environment(REPO, "dev", environ={}))
    expr = next(a.expr for a in namespace.alerts() if a.name == alertname)
    query = {"expr": expr, "queryType": "range", "datasource": {"type": "loki", "uid": datasource_uid}}
    left = json.dumps({"queries": [query]}, separators=(",", ":"))
    return {
        "labels": {"alertname": alertname, **expected["exp_labels"]},
        "annotations": expected["exp_annotations"],
        "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "generatorURL": f"{grafana}/explore?{urlencode({'left': left})}",
    }


@pytest.mark.tools
def test_a_loki_alert_reaches_its_slack_channel(
    alertmanager: tuple[str, SlackSink], loki_namespaces: list[RuleNamespace]
) -> None:
    url, sink = alertmanager
    namespace = next(ns for ns in loki_namespaces if "QgxLogFatal" in ns.alert_names())
    fatal = loki_alert(namespace, "QgxLogFatal", "http://localhost:3000", "qgx-loki")
    silent = loki_alert(namespace, "QgxServiceStoppedLogging", "http://localhost:3000", "qgx-loki")
    post_alerts(url, fatal, silent)
    message = attachment(sink.wait_for(lambda m: "QgxLogFatal" in attachment(m)["title"]))
    assert message["title"] == "[FIRING:1] QgxLogFatal in shop (c1)"
    assert message["color"] == "danger"
    assert fatal["annotations"]["summary"] in message["text"] and "`critical`" in message["text"]
    buttons = {action["text"]: action["url"] for action in message["actions"]}
    assert buttons["Dashboard"] == fatal["annotations"]["dashboard_url"]
    assert "var-service=api" in buttons["Dashboard"] and "from=now-1h" in buttons["Dashboard"]
    assert buttons["Runbook"] == "https://runbooks.qgx.example.com/QgxLogFatal"
    critical = sink.matching(lambda m: "QgxLogFatal" in attachment(m)["title"])
    assert [m["channel"] for m in critical] == ["#alerts-critical"]
    # Only a service label (absent_over_time keeps its equality matchers): no namespace, no cluster in the title.
    quiet = sink.wait_for(lambda m: "QgxServiceStoppedLogging" in attachment(m)["title"])
    assert quiet["channel"] == "#alerts"
    assert attachment(quiet)["title"] == "[FIRING:1] QgxServiceStoppedLogging"
