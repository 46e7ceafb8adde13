"""The HTTP transport every client sends through (lgtm_dash/clients/transport.py): connections, proxies, URLs.

Redirects, TLS, time limits and redaction are tested through the clients (test_publish_safety.py,
test_client_redaction.py); these are the transport's own promises.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lgtm_dash.clients.http import TransientError
from lgtm_dash.clients.transport import HttpTransport, basic_auth
from lgtm_dash.errors import RemoteError


class Recorder(ThreadingHTTPServer):
    """Answers `{"path": <request target>}` and records each request line, header and connection."""

    daemon_threads = True
    close_after_answer = False  # answer, then close the connection as an idle keep-alive timeout would

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lines: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.server.lines.append(self.requestline)
        self.server.headers_seen.append(dict(self.headers.items()))
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_answer:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()


def transport(url: str, **headers: str) -> HttpTransport:
    return HttpTransport(url, service="Grafana", headers=headers)


def get(http: HttpTransport, path: str, **kwargs: object) -> object:
    return http.request("GET", path, what="a read", timeout=5, **kwargs).json()  # type: ignore[arg-type]


def test_requests_share_one_kept_alive_connection_and_carry_the_headers(server: Recorder) -> None:
    http = transport(server.url + "/grafana", Authorization=basic_auth("admin", "s3cret"))
    answers = [get(http, "/api/dashboards/uid/a", params={"limit": 1, "tag": ["x", "y"]}) for _ in range(3)]
    assert answers[0] == {"path": "/grafana/api/dashboards/uid/a?limit=1&tag=x&tag=y"}
    assert server.connections == 1  # one TCP connection for the three requests
    assert server.headers_seen[0]["Authorization"] == "Basic YWRtaW46czNjcmV0"  # admin:s3cret
    assert server.headers_seen[0]["User-Agent"] == "lgtm-dash"


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_failure(server: Recorder) -> None:
    server.close_after_answer = True
    http = transport(server.url)
    for n in range(3):  # each request after the first finds its connection closed by the server
        assert get(http, f"/n{n}") == {"path": f"/n{n}"}
    assert server.connections == 3


def test_a_plain_http_proxy_from_the_environment_gets_the_absolute_url(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = transport("http://grafana.example.invalid:3000")
    get(http, "/api/health")
    assert server.lines == ["GET http://grafana.example.invalid:3000/api/health HTTP/1.1"]


def test_no_proxy_exempts_a_host(server: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert get(transport(server.url), "/direct") == {"path": "/direct"}


def test_an_unreachable_server_is_a_transient_error_naming_it_without_secrets() -> None:
    http = HttpTransport(
        "http://127.0.0.1:9", service="Mimir", headers={}, secrets={"key": "hunter2"}
    )  # discard port: nothing listens
    with pytest.raises(TransientError) as caught:
        http.request("GET", "/prometheus/config/v1/rules", what="list rule groups", timeout=5)
    assert caught.value.message.startswith("list rule groups: cannot reach Mimir at http://127.0.0.1:9: ")
    assert "hunter2" not in caught.value.message


@pytest.mark.parametrize("url", ["grafana.example.com", "ftp://grafana.example.com", "http://host:port"])
def test_an_address_that_is_not_an_http_url_fails_each_request_with_one_clear_line(url: str) -> None:
    http = transport(url)
    with pytest.raises(RemoteError, match=r"^a read: the address of Grafana \(.*\) is not an http\(s\) URL$"):
        http.request("GET", "/api/health", what="a read", timeout=5)
