"""The Grafana and Mimir clients never repeat a secret a server echoes back in an error (a proxy or a server
that quotes the request it refuses): the message is redacted before it reaches any output."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lgtm_dash.clients.grafana import Grafana
from lgtm_dash.clients.http import RetryPolicy
from lgtm_dash.clients.loki import LokiRuler
from lgtm_dash.clients.mimir import Mimir
from lgtm_dash.environments import GrafanaTarget, LokiTarget, MimirTarget
from lgtm_dash.errors import LgtmError
from lgtm_dash.secrets import REDACTED

TOKEN = "glsa_echoed-token-5f1d0b7e"
MIMIR_KEY = "mimir-echoed-key-77a1"
PASSWORD = "mysql-echoed-password-31c9"
WEBHOOK = "https://hooks.slack.com/services/T0/B0/echoed-webhook-9e2d"


class EchoServer(ThreadingHTTPServer):
    """Answers every request with `status` and a message quoting the request: its headers and body."""

    daemon_threads = True
    status = 400


class Echo(BaseHTTPRequestHandler):
    server: EchoServer

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        payload = json.dumps({"message": f"refused {self.path}: {body} ({headers})"}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[400, 401, 503])
def echo(request: pytest.FixtureRequest) -> Iterator[EchoServer]:
    server = EchoServer(("127.0.0.1", 0), Echo)
    server.status = request.param
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: EchoServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_grafana_client_redacts_what_the_server_echoes(echo: EchoServer) -> None:
    grafana = Grafana(
        GrafanaTarget(url=url(echo), token=TOKEN),
        retry=RetryPolicy(attempts=1),
        secrets={"QGX_MYSQL_PASSWORD": PASSWORD},
    )
    with pytest.raises(LgtmError) as caught:
        grafana.create_datasource(
            {"uid": "qgx-mysql", "type": "mysql", "secureJsonData": {"password": PASSWORD}}
        )
    message = str(caught.value)
    assert "refused /api/datasources" in message  # the server's words are kept...
    assert TOKEN not in message and PASSWORD not in message  # ...without the secrets they quote
    assert REDACTED in message


def test_mimir_client_redacts_what_the_server_echoes(echo: EchoServer) -> None:
    mimir = Mimir(
        MimirTarget(address=url(echo), tenant="qgx-dev", user="qgx-dev", key=MIMIR_KEY),
        retry=RetryPolicy(attempts=1),
        secrets={"SLACK_WEBHOOK_URL": WEBHOOK},
    )
    # Mimir's message is cut to a length: padded so that the cut falls inside the webhook for some padding.
    for padding in range(0, 320, 16):
        config = f"# {'x' * padding}\nreceivers: [{{name: slack, slack_configs: [{{api_url: {WEBHOOK}}}]}}]\n"
        with pytest.raises(LgtmError) as caught:
            mimir.set_alertmanager({"template_files": {}, "alertmanager_config": config})
        message = str(caught.value)
        assert "refused /api/v1/alerts" in message
        assert MIMIR_KEY not in message and WEBHOOK[:24] not in message, message


def test_an_echoed_basic_auth_header_is_redacted(echo: EchoServer) -> None:
    grafana = Grafana(
        GrafanaTarget(url=url(echo), user="admin", password=PASSWORD), retry=RetryPolicy(attempts=1)
    )
    with pytest.raises(LgtmError) as caught:
        grafana.list_datasources()
    message = str(caught.value)
    assert "Authorization: Basic " + REDACTED in message
    assert base64.b64encode(f"admin:{PASSWORD}".encode()).decode() not in message


def test_loki_ruler_client_redacts_its_basic_auth_when_echoed(echo: EchoServer) -> None:
    """Loki's ruler client shares the Mimir client's request code (`clients.ruler`), redaction included."""
    loki = LokiRuler(
        LokiTarget(address=url(echo), tenant="qgx-logs", key=MIMIR_KEY), retry=RetryPolicy(attempts=1)
    )
    with pytest.raises(LgtmError) as caught:
        loki.list_rules()
    message = str(caught.value)
    assert "refused /loki/api/v1/rules" in message
    assert MIMIR_KEY not in message
    assert base64.b64encode(f"qgx-logs:{MIMIR_KEY}".encode()).decode() not in message
    assert "Authorization: Basic " + REDACTED in message
