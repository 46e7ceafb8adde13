"""Live lint pieces that need no external binary: the Loki emulator's API contract, Grafana-style variable
expansion, selector usage, metadata types, and a LogQL-only live run against the Loki emulator (findings,
deduplication, retries, an unreachable server, the time budget)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lgtm_dash.environments import DatasourceSettings, Environment, GrafanaTarget, MimirTarget
from lgtm_dash.lint.context import LintContext
from lgtm_dash.lint.inputs import LintInput, dashboard_doc
from lgtm_dash.live.adapter import to_findings
from lgtm_dash.live.gather import ServerState
from lgtm_dash.live.rules import metric_type
from lgtm_dash.live.run import LiveOptions, live_lint
from lgtm_dash.live.selectors import VARIABLE_MARKER, live_interpolator, prom_selectors
from lgtm_dash.live.transport import ApiTarget, RetryPolicy
from lgtm_dash.source import SourceLocation
from lgtm_dash.testing.loki_emulator import LokiEmulator

NOW_S = 1_800_000_000
NOW_NS = NOW_S * 10**9
DAY_NS = 24 * 3600 * 10**9


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def loki() -> LokiEmulator:
    with LokiEmulator(now_ns=NOW_NS) as emulator:
        emulator.add_stream("t1", {"app": "backend", "namespace": "qgx-dev"}, NOW_NS - 2 * DAY_NS, NOW_NS)
        emulator.add_stream(
            "t1", {"app": "gateway", "namespace": "edge"}, NOW_NS - 9 * DAY_NS, NOW_NS - 8 * DAY_NS
        )
        emulator.add_stream("t2", {"job": "other"}, NOW_NS - DAY_NS, NOW_NS)
        yield emulator


# ------------------------------------------------------------------ the Loki emulator's contract


def test_loki_needs_the_tenant_header_and_keeps_tenants_apart(loki: LokiEmulator) -> None:
    status, body = _get(f"{loki.url}/loki/api/v1/labels")
    assert (status, body) == (401, b"no org id\n")
    status, body = _get(f"{loki.url}/loki/api/v1/labels?start={NOW_S - 3 * 86400}", {"X-Scope-OrgID": "t2"})
    assert status == 200 and json.loads(body) == {"status": "success", "data": ["job"]}


def test_loki_labels_and_values_follow_the_window_and_omit_empty_data(loki: LokiEmulator) -> None:
    tenant = {"X-Scope-OrgID": "t1"}
    # default window: the last hour
    assert json.loads(_get(f"{loki.url}/loki/api/v1/label/app/values", tenant)[1])["data"] == ["backend"]
    # seconds (10 digits) and nanoseconds are both understood
    wide = f"start={NOW_S - 10 * 86400}&end={NOW_NS}"
    assert json.loads(_get(f"{loki.url}/loki/api/v1/label/app/values?{wide}", tenant)[1])["data"] == [
        "backend", "gateway",
    ]  # fmt: skip
    narrowed = f"{wide}&query=" + urllib.request.quote('{namespace="edge"}')
    assert json.loads(_get(f"{loki.url}/loki/api/v1/label/app/values?{narrowed}", tenant)[1])["data"] == [
        "gateway"
    ]
    status, body = _get(f"{loki.url}/loki/api/v1/label/nothing/values", tenant)
    assert status == 200 and body == b'{"status":"success"}\n'  # `data` omitted when empty
    status, body = _get(f"{loki.url}/loki/api/v1/labels?start=yesterday", tenant)
    assert status == 400 and b"invalid syntax" in body


def test_loki_series_merges_match_and_match_brackets_and_rejects_bad_selectors(loki: LokiEmulator) -> None:
    tenant = {"X-Scope-OrgID": "t1"}
    window = f"start={NOW_S - 10 * 86400}"
    q = urllib.request.quote
    back, backend, edge, nothing = (q(s) for s in ('{app=~"back.*"}', '{app="backend"}', '{namespace="edge"}',
                                                    '{app="nothing"}'))  # fmt: skip
    status, body = _get(f"{loki.url}/loki/api/v1/series?{window}&match[]={back}", tenant)
    assert status == 200 and json.loads(body)["data"] == [{"app": "backend", "namespace": "qgx-dev"}]
    both = f"{window}&match[]={backend}&match={edge}"
    assert len(json.loads(_get(f"{loki.url}/loki/api/v1/series?{both}", tenant)[1])["data"]) == 2
    everything = f"{loki.url}/loki/api/v1/series?{window}&match[]={q('{}')}"
    assert len(json.loads(_get(everything, tenant)[1])["data"]) == 2
    form = f"{window}&match[]={nothing}".encode()
    status, body = _get(f"{loki.url}/loki/api/v1/series", tenant, data=form)  # POST, form body
    assert status == 200 and json.loads(body) == {"status": "success", "data": []}
    status, body = _get(f"{loki.url}/loki/api/v1/series?match[]={q('app=x')}", tenant)
    assert status == 400 and body.startswith(b"parse error")


# ------------------------------------------------------------------ expansion and selectors


def test_variables_expand_as_grafana_sends_them() -> None:
    templating = [
        {"name": "env", "type": "custom", "query": "dev,prod", "includeAll": True, "current": {"value": "$__all"},
         "options": [{"value": "$__all"}, {"value": "dev"}, {"value": "prod"}]},
        {"name": "ns", "type": "query", "current": {"value": "qgx-dev"}},
        {"name": "svc", "type": "query", "includeAll": True, "allValue": ".+", "current": {"value": ["$__all"]}},
    ]  # fmt: skip
    interpolator = live_interpolator(templating)
    text = interpolator('up{env=~"$env", namespace="$ns", service=~"$svc"}')
    assert text == f'up{{env=~"dev|prod", namespace="{VARIABLE_MARKER}", service=~".+"}}'
    (selector,) = prom_selectors(text, "panel")
    by_name = {m.name: m for m in selector.matchers}
    assert (
        not by_name["env"].from_variable
        and by_name["namespace"].from_variable
        and not by_name["service"].from_variable
    )


def test_selector_usage_tells_range_raw_and_counted_apart() -> None:
    usage = {
        s.metric: s.usage for s in prom_selectors("rate(a[5m]) + sum(b) + count(c) + absent(d)", "panel")
    }
    assert usage == {"a": "range", "b": "raw", "c": "other", "d": "other"}
    assert [s.usage for s in prom_selectors('label_values(up{job="x"}, instance)', "variable")] == ["labels"]


def test_metric_types_of_histogram_series_and_openmetrics_counters() -> None:
    state = ServerState(ApiTarget("p", "prometheus", "http://x"))
    state.metadata = {"h": {"type": "histogram"}, "c": {"type": "counter"}, "g": {"type": "gauge"}}
    assert [metric_type(state, n) for n in ("h_bucket", "h_count", "c_total", "g", "x")] == [
        "counter", "counter", "counter", "gauge", None,
    ]  # fmt: skip


# ------------------------------------------------------------------ a LogQL-only live run


def _environment(loki_url: str) -> Environment:
    settings = DatasourceSettings(url=loki_url, tenant="t1", location=SourceLocation("environments.yaml", 7))
    return Environment(
        name="dev",
        grafana=GrafanaTarget(url="http://127.0.0.1:9"),
        mimir=MimirTarget(address="http://127.0.0.1:9", tenant="t1"),
        datasources={"logs": settings},
        location=SourceLocation("environments.yaml", 2),
    )


def _context(*exprs: str) -> LintContext:
    panels = [
        {"id": i, "title": f"p{i}", "type": "logs", "datasource": {"type": "loki", "uid": "logs"},
         "targets": [{"refId": "A", "expr": expr}]}
        for i, expr in enumerate(exprs)
    ]  # fmt: skip
    dash = dashboard_doc({"uid": "d", "title": "D", "panels": panels}, "d.json")
    return LintContext(LintInput(dashboards=[dash], datasources=[{"uid": "logs", "type": "loki"}]))


def _options(url: str, **kwargs: object) -> LiveOptions:
    return LiveOptions(
        env=_environment(url), now=NOW_S, retry=RetryPolicy(attempts=2, base_delay=0.01), **kwargs
    )


def test_live_loki_findings_and_one_question_per_label(loki: LokiEmulator) -> None:
    ctx = _context(
        '{app="backend"} |= "x"', '{app="backend"} | json', '{app="backend", level="ERROR"}',
        '{app="payments"}', '{app="backend", namespace!="qgx-dev"}',
    )  # fmt: skip
    report = live_lint(ctx, _options(loki.url))
    findings = to_findings(report, ctx, "dev")
    rules = sorted((f.panel, f.rule) for f in findings)
    assert rules == [
        ("p2", "live/loki-label-never-seen"),
        ("p3", "live/loki-value-never-seen"),
        ("p4", "live/loki-selector-matches-nothing"),
    ], findings
    assert all(f.file == "d.json" and "[env dev, logs, last 7d]" in f.message for f in findings)
    paths = [r.path for r in loki.request_log]
    assert paths.count("/loki/api/v1/labels") == 1 and paths.count("/loki/api/v1/label/app/values") == 1
    assert report.requests == len(loki.request_log)


def test_retries_then_unreachable_then_time_budget(loki: LokiEmulator) -> None:
    ctx = _context('{app="backend"}')
    loki.faults.fail("GET", "/labels$", 503, times=1)
    report = live_lint(ctx, _options(loki.url))
    assert report.results == [] and report.requests == 4  # labels twice (one 503), values, series

    loki.faults.fail(None, ".", 503, times=None)
    report = live_lint(ctx, _options(loki.url))
    findings = to_findings(report, ctx, "dev", strict=True)
    assert [(f.rule, f.severity, f.file, f.line) for f in findings] == [
        ("live/unreachable", "error", "environments.yaml", 7)
    ]
    assert report.nothing_checked
    loki.faults.clear()

    loki.faults.latency = 0.3
    report = live_lint(ctx, _options(loki.url, time_budget_s=0.4))
    assert [r.rule for r in report.results] == ["live/incomplete"]
    assert "time budget" in report.results[0].message


def test_credentials_refused_are_named_not_shown(loki: LokiEmulator) -> None:
    loki.faults.fail(None, ".", 401, times=None, body="invalid token glsa_secret-value")
    ctx = _context('{app="backend"}')
    settings = DatasourceSettings(url=loki.url, tenant="t1", basic_auth_user="u")
    env = _environment(loki.url)
    env = Environment(env.name, env.grafana, env.mimir, {"logs": settings}, env.location)
    report = live_lint(ctx, LiveOptions(env=env, now=NOW_S))
    (result,) = report.results
    assert result.rule == "live/unreachable" and "HTTP 401" in result.message


def test_a_dashboard_without_environment_settings_is_one_finding(tmp_path: Path, loki: LokiEmulator) -> None:
    dash = dashboard_doc(
        {"uid": "d", "title": "D", "panels": [{"id": 1, "title": "p", "type": "logs",
         "datasource": {"type": "loki", "uid": "elsewhere"}, "targets": [{"refId": "A", "expr": '{a="b"}'}]}]},
        "d.json",
    )  # fmt: skip
    ctx = LintContext(LintInput(dashboards=[dash]))
    report = live_lint(ctx, _options(loki.url))
    assert [(r.rule, r.server) for r in report.results] == [("live/unreachable", "elsewhere")]
    assert "no settings for datasource 'elsewhere'" in report.results[0].message
