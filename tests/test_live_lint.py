"""`lgtm-dash lint --live` against real servers: Debian's Prometheus (behind Mimir's prefix and tenant header,
and directly as Thanos), a real MariaDB, and the Loki emulator, all holding series generated from the
catalog (tests/live_world.py). The repository's dashboards and rules get no live finding there; faults
planted in a copy of the project are each found at their Python line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, require_binary, run_cli
from tests.live_world import HISTORY_ONLY, TENANT, LiveWorld
from tests.mariadb import MariaDB

pytestmark = pytest.mark.tools

MYSQL_PASSWORD = "live-lint-ro-password"
SECRETS = {"QGX_MYSQL_PASSWORD": MYSQL_PASSWORD}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorld]:
    for tool in ("prometheus", "promtool", "mariadbd", "mariadb-install-db", "mariadb"):
        require_binary(tool)
    db = MariaDB.start(tmp_path_factory.mktemp("mariadb"))
    try:
        db.execute("CREATE DATABASE qgx")
        db.execute((REPO / "datasources" / "mysql_schema.sql").read_text(), database="qgx")
        db.execute(
            f"CREATE USER 'grafana_ro'@'localhost' IDENTIFIED BY '{MYSQL_PASSWORD}';"
            "GRANT SELECT ON qgx.* TO 'grafana_ro'@'localhost';"
        )
        live = LiveWorld(tmp_path_factory.mktemp("world"), mariadb_socket=db.socket)
        try:
            yield live
        finally:
            live.stop()
    finally:
        db.stop()


def _copy(project_copy: Path, world: LiveWorld, **kwargs: str) -> Path:
    world.use_in(project_copy, **kwargs)
    return project_copy


def _build(project: Path) -> Path:
    out = project / "out"
    result = run_cli("--project", str(project), "build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def _live(project: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, list[dict], str]:
    result = run_cli(
        "--project", str(project), "lint", "--live", "--env", "dev", str(project / "out"), "--format", "json",
        *extra, env={**SECRETS, **(env or {})},
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, findings, result.stderr


def _plant(path: Path, old: str, new: str) -> int:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def test_the_repository_gets_no_live_finding_against_matching_series(
    world: LiveWorld, project_copy: Path
) -> None:
    project = _copy(project_copy, world)
    _build(project)
    world.mimir.clear_log()
    code, findings, stderr = _live(project)
    live = [f for f in findings if f["rule"].startswith("live/")]
    assert live == [], live
    assert code == 0, stderr
    assert "requests to 3 of 3 server(s)" in stderr, stderr  # Mimir (with the ruler's tenant), Loki, MySQL
    # Mimir's shape: every request under the prefix, with the tenant; each question asked once.
    asked = [
        (r.path, tuple(sorted((k, tuple(v)) for k, v in r.query.items()))) for r in world.mimir.request_log
    ]
    assert asked and all(path.startswith("/prometheus/api/v1/") for path, _ in asked)
    assert world.mimir.tenants_seen == {TENANT}
    assert len(asked) == len(set(asked)), "a question was asked twice"


PLANTED = [
    # (module, old, new, rule, dashboard uid or None for rules, what the message names)
    ("dashboards/http_overview.py", "prom_target(REQUEST_RATE)",
     'prom_target("sum(rate(qgx_http_request_total[$__rate_interval]))")',
     "live/metric-never-seen", "qgx-http-overview", "qgx_http_requests_total"),
    ("dashboards/http_overview.py", 'prom_target(by("method", "qgx_http_requests_total"), "{{method}}")',
     """prom_target('sum(rate(qgx_http_requests_total{service_name="backend"}[$__rate_interval]))', "m")""",
     "live/label-never-seen", "qgx-http-overview", "service_name"),
    ("dashboards/pod_monitoring.py", 'phase="Running", {PODS}', 'phase="running", {PODS}',
     "live/value-never-seen", "qgx-pod-monitoring", "'Running'"),
    ("dashboards/pod_monitoring.py", """prom_target(f'sum(kube_pod_status_ready{{condition="true", {PODS}}})', "ready")""",
     'prom_target("sum(rate(container_memory_working_set_bytes[$__rate_interval]))", "ready")',
     "live/rate-of-gauge", "qgx-pod-monitoring", "says is a gauge (the catalog says counter)"),
    ("dashboards/http_overview.py", 'prom_target(by("status", "qgx_http_requests_total"), "{{status}}")',
     'prom_target("sum(qgx_http_requests_total)", "{{status}}")',
     "live/counter-used-raw", "qgx-http-overview", "'qgx_http_requests_total' (server metadata; the catalog says gauge)"),
    ("dashboards/event_monitoring.py", "prom_target(RATE % EVENTS)",
     """prom_target('sum(rate(qgx_events_total{type=~"ORDER.*"}[$__rate_interval]))')""",
     "live/regex-matches-nothing", "qgx-event-monitoring", "order.created"),
    ("dashboards/raw_message_status.py", "SELECT status, COUNT(*) AS messages",
     "SELECT state, COUNT(*) AS messages", "live/sql-unknown-column", "qgx-raw-message-status", "'state'"),
    ("dashboards/backend_logs.py", 'loki_target(f"{SELECTED}")', """loki_target('{app_name="backend"} | json')""",
     "live/loki-label-never-seen", "qgx-backend-logs", "app_name"),
    ("dashboards/http_overview.py", 'prom_target(latency(0.5), "p50")',
     'prom_target("sum(namespace_service:qgx_http_requests:rate1m)", "p50")',
     "live/recording-rule-no-series", "qgx-http-overview", "namespace_service:qgx_http_requests:rate1m"),
    # A Loki ruler rule: checked against the Loki datasource, found at the Alert's line in alerts/logs.py.
    ("alerts/logs.py", "for service in ALWAYS_LOGGING", 'for service in ("backend", "gatewy")',
     "live/loki-value-never-seen", None, "gatewy"),
]  # fmt: skip
# Where the servers' metadata contradicts the project's catalog (the servers hold what the repository's catalog
# says): the type-based live rules are about exactly that. (Where the catalog is silent, the metadata fills it in
# for the offline rules: test_server_metadata_fills_in_what_the_catalog_lacks.)
RETYPED = {
    "container_memory_working_set_bytes": ("gauge", "counter"),
    "qgx_http_requests_total": ("counter", "gauge"),
}
# The recording rule the last fault uses: defined in the project, not deployed to the (test) Mimir.
NEW_RECORD = (
    "alerts/http.py",
    '        Record(\n            name="namespace_service:qgx_http_errors:rate5m",',
    '        Record(\n            name="namespace_service:qgx_http_requests:rate1m",\n'
    '            expr=f"sum by ({SERVICE}) (rate(qgx_http_requests_total[1m]))",\n        ),\n'
    '        Record(\n            name="namespace_service:qgx_http_errors:rate5m",',
)


def _retype(catalog: Path, metric: str, old: str, new: str) -> None:
    text = catalog.read_text()
    entry = f"  {metric}:\n    type: {old}\n"
    assert entry in text, entry
    catalog.write_text(text.replace(entry, f"  {metric}:\n    type: {new}\n"))


def test_planted_faults_are_each_found_at_their_python_line(world: LiveWorld, project_copy: Path) -> None:
    project = _copy(project_copy, world)
    for metric, (old, new) in RETYPED.items():
        _retype(project / "catalog.yaml", metric, old, new)
    _plant(project / NEW_RECORD[0], NEW_RECORD[1], NEW_RECORD[2])
    lines = {}
    for module, old, new, rule, _uid, _named in PLANTED:
        lines[rule] = _plant(project / module, old, new)
    _build(project)
    code, findings, stderr = _live(project)
    assert code == 1, stderr  # offline lint has errors of its own for some of these (e.g. sql/unknown-column)
    for module, _old, _new, rule, uid, named in PLANTED:
        found = [f for f in findings if f["rule"] == rule]
        assert len(found) == 1, (rule, found)
        finding = found[0]
        assert finding["severity"] == "warning"
        assert finding["file"] == module and finding["dashboard"] == uid, finding
        assert 0 <= lines[rule] - finding["line"] < 15, (finding, lines[rule])  # the panel's call
        assert named in finding["message"], finding
        assert "[env dev, " in finding["message"] and ", last 7d]" in finding["message"], finding
    # nothing else: the planted faults are the only live findings
    assert {f["rule"] for f in findings if f["rule"].startswith("live/")} == {p[3] for p in PLANTED}

    strict_code, strict, _ = _live(project, "--strict")
    assert strict_code == 1 and all(f["severity"] == "error" for f in strict if f["rule"].startswith("live/"))


def test_server_metadata_fills_in_what_the_catalog_lacks(world: LiveWorld, project_copy: Path) -> None:
    """A gauge under rate() that the catalog does not describe: offline lint cannot tell; with --live the offline
    rule promql/rate-counter knows the type from the server's metadata, and reports it once."""
    project = _copy(project_copy, world)
    catalog = project / "catalog.yaml"
    text = catalog.read_text()
    start = text.index("  container_memory_working_set_bytes:\n")
    end = text.index("  container_memory_rss:\n")  # the next entry
    catalog.write_text(text[:start] + text[end:])
    line = _plant(project / "dashboards/pod_monitoring.py",
                  """prom_target(f'sum(kube_pod_status_ready{{condition="true", {PODS}}})', "ready")""",
                  'prom_target("sum(rate(container_memory_working_set_bytes[$__rate_interval]))", "ready")')  # fmt: skip
    _build(project)
    offline = run_cli("--project", str(project), "lint", str(project / "out"), "--format", "json")
    assert not [f for f in json.loads(offline.stdout) if f["rule"] == "promql/rate-counter"]
    _code, findings, _ = _live(project)
    found = [f for f in findings if f["rule"] in ("promql/rate-counter", "live/rate-of-gauge")]
    assert [(f["rule"], f["severity"]) for f in found] == [("promql/rate-counter", "error")], found
    assert "which is a gauge (server metadata), not a counter" in found[0]["message"]
    assert found[0]["file"] == "dashboards/pod_monitoring.py" and 0 <= line - found[0]["line"] < 15


def test_live_findings_are_warnings_unless_strict(world: LiveWorld, project_copy: Path) -> None:
    """A fault only the live servers reveal: exit 0 by default (a warning), 1 with --strict."""
    project = _copy(project_copy, world)
    _plant(project / "dashboards/pod_monitoring.py", 'phase="Running", {PODS}', 'phase="Unknown", {PODS}')
    _build(project)
    code, findings, _ = _live(project)
    live = [f for f in findings if f["rule"].startswith("live/")]
    assert code == 0 and [(f["rule"], f["severity"]) for f in live] == [("live/value-never-seen", "warning")]
    strict_code, strict, _ = _live(project, "--strict")
    assert strict_code == 1 and [f["severity"] for f in strict if f["rule"].startswith("live/")] == ["error"]


def test_a_window_shorter_than_the_history_does_not_see_old_series(
    world: LiveWorld, project_copy: Path
) -> None:
    """A metric only in the backfilled blocks (three days to three hours ago) is seen in 7 days, not in 1 hour."""
    project = _copy(project_copy, world)
    line = _plant(project / "dashboards/http_overview.py", "prom_target(REQUEST_RATE)",
                  f'prom_target("sum(rate({HISTORY_ONLY}[$__rate_interval]))")')  # fmt: skip
    _build(project)
    code, findings, _ = _live(project, "--since", "7d")
    assert code == 0 and not [f for f in findings if f["rule"].startswith("live/")], findings
    code, findings, _ = _live(project, "--since", "1h")
    found = [f for f in findings if f["rule"] == "live/metric-never-seen"]
    assert len(found) == 1 and HISTORY_ONLY in found[0]["message"] and "last 1h]" in found[0]["message"]
    assert 0 <= line - found[0]["line"] < 15
    bad_code, _bad, stderr = _live(project, "--since", "seven days")
    assert bad_code == 2 and "--since" in stderr


def test_unreachable_servers_are_one_finding_each_and_exit_3_when_nothing_was_checked(
    world: LiveWorld, project_copy: Path
) -> None:
    project = _copy(project_copy, world, loki_url="http://127.0.0.1:9", mimir_url="http://127.0.0.1:9")
    text = (project / "environments.yaml").read_text().replace(str(world.mariadb_socket), "/nonexistent.sock")
    (project / "environments.yaml").write_text(text)
    _build(project)
    code, findings, stderr = _live(project)
    assert code == 3, stderr
    unreachable = [f for f in findings if f["rule"] == "live/unreachable"]
    assert sorted(f["message"].split(":")[0] for f in unreachable) == ["qgx-loki", "qgx-mimir", "qgx-mysql"]
    assert all(f["file"] == "environments.yaml" and f["line"] > 0 for f in unreachable)
    assert MYSQL_PASSWORD not in stderr + json.dumps(findings)


def test_one_server_down_is_reported_and_the_others_are_checked(world: LiveWorld, project_copy: Path) -> None:
    project = _copy(project_copy, world, loki_url="http://127.0.0.1:9")
    _build(project)
    code, findings, stderr = _live(project)
    live = [f for f in findings if f["rule"].startswith("live/")]
    assert [f["rule"] for f in live] == ["live/unreachable"] and "qgx-loki" in live[0]["message"]
    assert code == 0 and "requests to 2 of 3 server(s)" in stderr


def test_via_grafana_reaches_the_same_servers_through_the_datasource_proxy(
    world: LiveWorld, project_copy: Path
) -> None:
    from lgtm_dash.testing.query_proxies import GrafanaDatasourceProxy

    token = "glsa_live-lint-token"
    tenant = {"X-Scope-OrgID": TENANT}
    upstreams = {"qgx-mimir": (f"{world.mimir.url}/prometheus", tenant), "qgx-loki": (world.loki.url, tenant),
                 "qgx-thanos": (world.prometheus.url, {})}  # fmt: skip
    with GrafanaDatasourceProxy(upstreams, tokens={token}) as grafana:
        project = _copy(project_copy, world, grafana_url=grafana.url)
        _plant(project / "dashboards/pod_monitoring.py", 'phase="Running", {PODS}', 'phase="running", {PODS}')
        _build(project)
        code, findings, stderr = _live(project, "--via-grafana", env={"GRAFANA_TOKEN": token})
        assert code == 0, stderr
        live = [f for f in findings if f["rule"].startswith("live/")]
        assert [f["rule"] for f in live] == ["live/value-never-seen"], live
        assert "qgx-mimir via Grafana" in live[0]["message"]
        assert grafana.request_log and all(
            r.path.startswith("/api/datasources/proxy/uid/") for r in grafana.request_log
        )

        denied, findings, _ = _live(project, "--via-grafana", env={"GRAFANA_TOKEN": "wrong"})
        unreachable = [f for f in findings if f["rule"] == "live/unreachable"]
        assert {f["message"].split(":")[0] for f in unreachable} == {"qgx-mimir", "qgx-loki"}
        assert all("GRAFANA_TOKEN" in f["message"] and "wrong" not in f["message"] for f in unreachable)
        assert denied == 0  # MySQL (read directly) was still checked


def test_catalog_live_check_and_refresh(world: LiveWorld, project_copy: Path) -> None:
    project = _copy(project_copy, world)
    _build(project)
    catalog = project / "catalog.yaml"
    # The hand-written catalog lacks a used metric and one label of another.
    text = catalog.read_text()
    start = text.index("  kube_pod_info:\n")
    end = text.index("  kube_pod_status_phase:\n")
    text = text[:start] + text[end:]
    text = text.replace("labels: [service, type, status]", "labels: [service, type]  # status: see below", 1)
    catalog.write_text(text)

    check = run_cli("--project", str(project), "catalog", "--live", "--env", "dev", "--check", env=SECRETS)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "+ kube_pod_info" in check.stdout and "~ qgx_events_total" in check.stdout
    assert catalog.read_text() == text  # --check writes nothing

    refresh = run_cli("--project", str(project), "catalog", "--live", "--env", "dev", env=SECRETS)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    after = catalog.read_text()
    data = yaml.safe_load(after)
    assert data["metrics"]["kube_pod_info"]["type"] == "gauge"
    assert data["metrics"]["kube_pod_info"]["help"] == "Information about the pod (always 1)."
    assert "node" in data["metrics"]["kube_pod_info"]["labels"]
    assert data["metrics"]["qgx_events_total"]["labels"] == ["service", "type", "status"]
    # hand-written lines and comments survive; only additions
    for line in text.splitlines():
        if line.strip() and "labels: [service, type]" not in line:
            assert line in after, line
    again = run_cli("--project", str(project), "catalog", "--live", "--env", "dev", "--check", env=SECRETS)
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = run_cli("--project", str(project), "catalog", "--live", "--env", "dev", env=SECRETS)
    assert rerun.returncode == 0 and catalog.read_text() == after  # deterministic


def test_catalog_live_unreachable_exits_3(world: LiveWorld, project_copy: Path) -> None:
    project = _copy(project_copy, world, mimir_url="http://127.0.0.1:9")
    text = (project / "environments.yaml").read_text().replace(world.prometheus.url, "http://127.0.0.1:9")
    (project / "environments.yaml").write_text(text)
    _build(project)
    result = run_cli("--project", str(project), "catalog", "--live", "--env", "dev", "--check")
    assert result.returncode == 3 and "Traceback" not in result.stderr and "not asked" in result.stderr
