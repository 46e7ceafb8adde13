"""Live lint pieces that need no external binary: Grafana-style variable expansion, selector usage, metadata
types, a LogQL-only live run against the Loki emulator (findings, deduplication, retries, an unreachable server,
the time budget), the live rules configured and suppressed like any rule, and server metadata filling in the
catalog for the offline rules. (The Loki emulator's own contract is checked row by row in
tests/test_server_contract.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgtm_dash.clients.query import ApiTarget, RetryPolicy
from lgtm_dash.environments import DatasourceSettings, Environment, GrafanaTarget, MimirTarget
from lgtm_dash.lint.context import LintContext
from lgtm_dash.lint.engine import lint_context
from lgtm_dash.lint.findings import Finding
from lgtm_dash.lint.inputs import LintInput, dashboard_doc
from lgtm_dash.live.gather import ServerState
from lgtm_dash.live.run import LiveAnswers, LiveOptions, live_answers
from lgtm_dash.live.selectors import VARIABLE_MARKER, live_interpolator, prom_selectors
from lgtm_dash.source import SourceLocation
from lgtm_dash.testing.loki_emulator import LokiEmulator

NOW_S = 1_800_000_000
NOW_NS = NOW_S * 10**9
DAY_NS = 24 * 3600 * 10**9


@pytest.fixture
def loki() -> LokiEmulator:
    with LokiEmulator(now_ns=NOW_NS) as emulator:
        emulator.add_stream("t1", {"app": "backend", "namespace": "qgx-dev"}, NOW_NS - 2 * DAY_NS, NOW_NS)
        emulator.add_stream(
            "t1", {"app": "gateway", "namespace": "edge"}, NOW_NS - 9 * DAY_NS, NOW_NS - 8 * DAY_NS
        )
        emulator.add_stream("t2", {"job": "other"}, NOW_NS - DAY_NS, NOW_NS)
        yield emulator


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
    assert [state.metric_type(n) for n in ("h_bucket", "h_count", "c_total", "g", "x")] == [
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


def _live(ctx: LintContext, options: LiveOptions) -> tuple[LiveAnswers, list[Finding]]:
    """A `lint --live` run: ask the servers, then lint with the default rules; the live findings."""
    ctx.live = live_answers(ctx, options)
    return ctx.live, [f for f in lint_context(ctx, jobs=1) if f.rule.startswith("live/")]


def test_live_loki_findings_and_one_question_per_label(loki: LokiEmulator) -> None:
    ctx = _context(
        '{app="backend"} |= "x"', '{app="backend"} | json', '{app="backend", level="ERROR"}',
        '{app="payments"}', '{app="backend", namespace!="qgx-dev"}',
    )  # fmt: skip
    answers, findings = _live(ctx, _options(loki.url))
    rules = sorted((f.panel, f.rule) for f in findings)
    assert rules == [
        ("p2", "live/loki-label-never-seen"),
        ("p3", "live/loki-value-never-seen"),
        ("p4", "live/loki-selector-matches-nothing"),
    ], findings
    assert all(f.file == "d.json" and "[env dev, logs, last 7d]" in f.message for f in findings)
    assert all(f.severity == "warning" for f in findings)
    paths = [r.path for r in loki.request_log]
    assert paths.count("/loki/api/v1/labels") == 1 and paths.count("/loki/api/v1/label/app/values") == 1
    assert answers.requests == len(loki.request_log)


def test_retries_then_unreachable_then_time_budget(loki: LokiEmulator) -> None:
    ctx = _context('{app="backend"}')
    loki.faults.fail("GET", "/labels$", 503, times=1)
    answers, findings = _live(ctx, _options(loki.url))
    assert findings == [] and answers.requests == 4  # labels twice (one 503), values, series

    loki.faults.fail(None, ".", 503, times=None)
    answers, findings = _live(_context('{app="backend"}'), _options(loki.url, strict=True))
    assert [(f.rule, f.severity, f.file, f.line) for f in findings] == [
        ("live/unreachable", "error", "environments.yaml", 7)
    ]
    assert answers.nothing_checked
    loki.faults.clear()

    loki.faults.latency = 0.3
    _answers, findings = _live(_context('{app="backend"}'), _options(loki.url, time_budget_s=0.4))
    assert [f.rule for f in findings] == ["live/incomplete"]
    assert "time budget" in findings[0].message


def test_credentials_refused_are_named_not_shown(loki: LokiEmulator) -> None:
    loki.faults.fail(None, ".", 401, times=None, body="invalid token glsa_secret-value")
    ctx = _context('{app="backend"}')
    settings = DatasourceSettings(url=loki.url, tenant="t1", basic_auth_user="u")
    env = _environment(loki.url)
    env = Environment(env.name, env.grafana, env.mimir, {"logs": settings}, env.location)
    _answers, findings = _live(ctx, LiveOptions(env=env, now=NOW_S))
    (finding,) = findings
    assert finding.rule == "live/unreachable" and "HTTP 401" in finding.message


def test_a_dashboard_without_environment_settings_is_one_finding(tmp_path: Path, loki: LokiEmulator) -> None:
    dash = dashboard_doc(
        {"uid": "d", "title": "D", "panels": [{"id": 1, "title": "p", "type": "logs",
         "datasource": {"type": "loki", "uid": "elsewhere"}, "targets": [{"refId": "A", "expr": '{a="b"}'}]}]},
        "d.json",
    )  # fmt: skip
    ctx = LintContext(LintInput(dashboards=[dash]))
    _answers, findings = _live(ctx, _options(loki.url))
    assert [(f.rule, f.message.split(":")[0]) for f in findings] == [("live/unreachable", "elsewhere")]
    assert "no settings for datasource 'elsewhere'" in findings[0].message


# ------------------------------------------------------------------ live rules are rules like the others


def _live_project(root: Path, loki_url: str, lint_table: str) -> Path:
    """A project whose environment `dev` reaches the Loki emulator, with a dashboard of four panels."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "environments.yaml").write_text(
        "environments:\n  dev:\n    grafana: {url: 'http://127.0.0.1:9'}\n"
        "    mimir: {address: 'http://127.0.0.1:9', tenant: t1}\n"
        f"    datasources:\n      logs: {{url: '{loki_url}', tenant: t1}}\n"
    )
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.lgtm-dash.lint]\n" + lint_table)
    exprs = ['{app="backend", level="ERROR"}', '{app="payments"}', '{app="backend", namespace="edge"}',
             '{app="backend"} |= "x"']  # fmt: skip
    panels = [
        {"id": i, "title": f"p{i}", "type": "logs", "datasource": {"type": "loki", "uid": "logs"},
         "gridPos": {"x": 0, "y": i * 8, "w": 24, "h": 8}, "targets": [{"refId": "A", "expr": expr}]}
        for i, expr in enumerate(exprs)
    ]  # fmt: skip
    panels[1]["options"] = {"lintIgnore": ["live/loki-value-never-seen"]}  # suppressed where it occurs
    (root / "d.json").write_text(json.dumps({"uid": "d", "title": "D", "panels": panels}))
    return root


@pytest.fixture
def loki_now() -> LokiEmulator:
    """The Loki emulator with streams of the last two days (the CLI asks about the real now)."""
    import time

    now = time.time_ns()
    with LokiEmulator() as emulator:
        emulator.add_stream("t1", {"app": "backend", "namespace": "qgx-dev"}, now - 2 * DAY_NS, now)
        emulator.add_stream("t1", {"app": "gateway", "namespace": "edge"}, now - 2 * DAY_NS, now)
        yield emulator


def _cli_live(project: Path, *extra: str) -> tuple[int, list[dict], str]:
    from tests.helpers import run_cli

    result = run_cli("--project", str(project), "lint", str(project / "d.json"), "--format", "json", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def test_live_rules_are_selected_configured_and_suppressed_like_any_rule(
    tmp_path: Path, loki_now: LokiEmulator
) -> None:
    table = (
        'ignore = ["live/loki-selector-matches-nothing"]\n'
        'severity = { "live/loki-label-never-seen" = "error" }\n'
    )
    project = _live_project(tmp_path / "p", loki_now.url, table)
    code, findings, stderr = _cli_live(project, "--live", "--env", "dev")
    live = sorted((f["panel"], f["rule"], f["severity"]) for f in findings if f["rule"].startswith("live/"))
    # p1's value finding is silenced by the panel's lintIgnore, p2's selector finding by `ignore`
    assert live == [("p0", "live/loki-label-never-seen", "error")], (findings, stderr)
    assert code == 1  # the configured severity: an error without --strict

    # Without the configuration the same run reports all three, as warnings (exit 0); --strict makes them errors.
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    code, findings, _ = _cli_live(project, "--live", "--env", "dev")
    live = sorted((f["panel"], f["rule"], f["severity"]) for f in findings if f["rule"].startswith("live/"))
    assert live == [("p0", "live/loki-label-never-seen", "warning"),
                    ("p2", "live/loki-selector-matches-nothing", "warning")] and code == 0  # fmt: skip
    code, findings, _ = _cli_live(project, "--live", "--env", "dev", "--strict", "--select", "live/loki")
    assert code == 1 and {(f["rule"], f["severity"]) for f in findings} == {
        ("live/loki-label-never-seen", "error"), ("live/loki-selector-matches-nothing", "error"),
    }  # fmt: skip
    code, findings, _ = _cli_live(project, "--live", "--env", "dev", "--ignore", "live")
    assert not [f for f in findings if f["rule"].startswith("live/")]

    # Offline, the live rules are listed but do not run; nothing is asked.
    asked = len(loki_now.request_log)
    code, findings, _ = _cli_live(project)
    assert not [f for f in findings if f["rule"].startswith("live/")] and len(loki_now.request_log) == asked


def test_unknown_live_rule_ids_are_bad_input_and_listed_rules_say_they_need_live(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    project = _live_project(tmp_path / "p", "http://127.0.0.1:9", 'ignore = ["live/metric-never-sen"]\n')
    code, _findings, stderr = _cli_live(project)
    assert code == 2 and "unknown rule id or prefix 'live/metric-never-sen'" in stderr
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.lgtm-dash.lint]\n"
        'ignore = ["live/metric-never-seen"]\nper-file-ignores = { "*.json" = ["live/unreachable"] }\n'
    )
    listed = run_cli("--project", str(project), "lint", "--list-rules").stdout.splitlines()
    rows = {line.split()[1]: line for line in listed}
    assert rows["live/metric-never-seen"].startswith("off") and rows["live/value-never-seen"].startswith("on")
    assert rows["live/value-never-seen"].endswith("(with --live)")
    assert not rows["promql/syntax"].endswith("(with --live)")


def test_live_metadata_tells_offline_rules_a_metric_type_the_catalog_lacks(tmp_path: Path) -> None:
    """A gauge under rate(), unknown to the catalog: offline lint cannot tell; with the server's metadata the
    offline rule promql/rate-counter reports it (once: live/rate-of-gauge is for contradictions)."""
    from lgtm_dash.environments import load_environments
    from lgtm_dash.lint.examples import DEFAULT_ENVIRONMENTS
    from lgtm_dash.live.held import Held, HeldGatherer

    panel = {"id": 1, "title": "Queue", "type": "timeseries", "datasource": {"type": "prometheus", "uid": "prometheus"},
             "targets": [{"refId": "A", "expr": "sum(rate(queue_depth[$__rate_interval]))"}]}  # fmt: skip
    dash = dashboard_doc({"uid": "q", "title": "Q", "panels": [panel]}, "q.json")
    (tmp_path / "environments.yaml").write_text(DEFAULT_ENVIRONMENTS)
    env = load_environments(tmp_path)["dev"]

    def run(metadata: dict[str, str] | None) -> list[tuple[str, str]]:
        ctx = LintContext(LintInput(dashboards=[dash]))
        if metadata is not None:
            held = Held({"series": ['queue_depth{queue="orders"}'], "metadata": metadata})
            gatherer = lambda *a, **k: HeldGatherer(held, *a, **k)  # noqa: E731
            ctx.live = live_answers(ctx, LiveOptions(env=env, now=NOW_S), gatherer)
        rules = ("promql/rate-counter", "live/rate-of-gauge")
        return [(f.rule, f.message) for f in lint_context(ctx, jobs=1) if f.rule in rules]

    assert run(None) == []
    assert run({"queue_depth": "gauge"}) == [(
        "promql/rate-counter",
        "dashboard 'q', panel 'Queue', query A: rate() of 'queue_depth', which is a gauge (server metadata), "
        "not a counter: `sum(rate(queue_depth[$__rate_interval]))`",
    )]  # fmt: skip
    assert run({"queue_depth": "counter"}) == []
    assert (
        run({"queue_depth": "histogram"}) == []
    )  # a native histogram is rated: the family type does not judge


def test_a_datasource_refusing_grafanas_credentials_is_not_checked(loki: LokiEmulator) -> None:
    """Through Grafana's proxy a datasource's 401 arrives as 400 (contract row G-DS-PROXY-UPSTREAM-401): the
    datasource was not checked (one live/unreachable with Grafana's text), and no other question is asked."""
    from lgtm_dash.testing.query_proxies import GrafanaDatasourceProxy

    loki.faults.fail(None, ".", 401, times=None, body="no org id")
    with GrafanaDatasourceProxy({"logs": (loki.url, {})}, tokens={"glsa_t"}) as grafana:
        env = _environment(loki.url)
        env = Environment(env.name, GrafanaTarget(url=grafana.url, token="glsa_t"), env.mimir, env.datasources,
                          env.location)  # fmt: skip
        answers, findings = _live(
            _context('{app="backend"}'), LiveOptions(env=env, now=NOW_S, via_grafana=True)
        )
    assert [(f.rule, f.line) for f in findings] == [("live/unreachable", 7)]
    assert "HTTP 400: Authentication to data source failed" in findings[0].message
    assert answers.nothing_checked and answers.requests == 1


def test_a_rule_files_ignore_comment_silences_a_live_finding_on_its_expression(loki: LokiEmulator) -> None:
    from lgtm_dash.environments import LokiTarget
    from lgtm_dash.lint.inputs import for_ruler, read_text

    rules = """\
groups:
  - name: logs
    rules:
      - alert: BackendErrors
        expr: sum(count_over_time({app="backend", level="ERROR"}[5m])) > 0
      # lgtm-dash: ignore=live/loki-label-never-seen
      - alert: KnownErrors
        expr: sum(count_over_time({app="backend", severity="ERROR"}[5m])) > 0
"""
    lint_input = read_text(rules, "logs.yaml")
    lint_input.rule_groups = for_ruler(lint_input.rule_groups, "loki")
    env = _environment(loki.url)
    env = Environment(env.name, env.grafana, env.mimir, {}, env.location, loki=LokiTarget(loki.url, "t1"))
    _answers, findings = _live(LintContext(lint_input), LiveOptions(env=env, now=NOW_S))
    assert [(f.rule, f.line) for f in findings] == [("live/loki-label-never-seen", 4)], findings
    assert "'level'" in findings[0].message and "[env dev, loki (tenant t1), last 7d]" in findings[0].message
