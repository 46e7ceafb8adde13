"""The Mimir emulator (ruler config API + Alertmanager config API), driven through `requests`.

Each test pins a behaviour from ../shared/reference/mimir-rules-alerting.md that the publisher relies on.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests
import yaml

from lgtm_dash.testing import MimirEmulator
from lgtm_dash.testing.mimir_emulator import (
    check_go_template,
    format_prometheus_duration,
    parse_prometheus_duration,
)

T1 = {"X-Scope-OrgID": "tenant-1"}
T2 = {"X-Scope-OrgID": "tenant-2"}
RULES = "/prometheus/config/v1/rules"
SUCCESS = '{"status":"success","data":null,"errorType":"","error":""}'

GROUP = """
name: qgx-http
interval: 60s
rules:
  - record: job:qgx_http_requests:rate5m
    expr: sum by (job) (rate(qgx_http_requests_total[5m]))
  - alert: QgxHighErrorRate
    expr: job:qgx_http_errors:rate5m / job:qgx_http_requests:rate5m > 0.05
    for: 300s
    labels:
      severity: critical
    annotations:
      summary: "High error rate on {{ $labels.job }}"
      description: "{{ $value | humanizePercentage }} of requests fail"
"""

AM_CONFIG = """
route:
  receiver: slack-default
  group_by: [alertname, namespace]
  routes:
    - receiver: slack-critical
      matchers: ['severity="critical"']
receivers:
  - name: slack-default
    slack_configs:
      - api_url: https://hooks.slack.example/T000/B000/XXX
        channel: '#alerts'
        title: '{{ template "slack.title" . }}'
  - name: slack-critical
    slack_configs:
      - api_url: https://hooks.slack.example/T000/B000/YYY
        send_resolved: true
templates:
  - slack.tmpl
"""

SLACK_TMPL = """{{ define "slack.title" -}}
[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}
{{- end }}
{{ define "slack.text" }}{{ range .Alerts }}*{{ .Annotations.summary }}*
{{ range $k, $v := .Labels }}{{ $k }}={{ $v }} {{ end }}{{ end }}{{ end }}
"""


@pytest.fixture
def mimir():
    with MimirEmulator() as m:
        yield m


def _post(m: MimirEmulator, ns: str, body: str, headers=T1) -> requests.Response:
    return requests.post(f"{m.url}{RULES}/{quote(ns, safe='')}", data=body, headers=headers, timeout=5)


def _get(m: MimirEmulator, path: str, headers=T1) -> requests.Response:
    return requests.get(f"{m.url}{path}", headers=headers, timeout=5)


def _am_post(m: MimirEmulator, config: str, templates: dict[str, str] | None = None, headers=T1):
    body = yaml.safe_dump({"template_files": templates or {}, "alertmanager_config": config})
    return requests.post(f"{m.url}/api/v1/alerts", data=body, headers=headers, timeout=5)


# ============================================================================================ tenant + auth


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", RULES),
        ("GET", f"{RULES}/ns"),
        ("POST", f"{RULES}/ns"),
        ("DELETE", f"{RULES}/ns/g"),
        ("GET", "/api/v1/alerts"),
        ("POST", "/api/v1/alerts"),
        ("DELETE", "/api/v1/alerts"),
    ],
)
def test_missing_tenant_header_is_401_no_org_id(mimir: MimirEmulator, method, path):
    r = requests.request(method, f"{mimir.url}{path}", data=GROUP, timeout=5)
    assert (r.status_code, r.text) == (401, "no org id\n")


def test_basic_auth_checked_when_configured():
    with MimirEmulator(basic_auth=("user", "key")) as m:
        assert requests.get(f"{m.url}{RULES}", headers=T1, timeout=5).status_code == 401
        wrong = requests.get(f"{m.url}{RULES}", headers=T1, auth=("user", "bad"), timeout=5)
        assert wrong.status_code == 401
        ok = requests.get(f"{m.url}{RULES}", headers=T1, auth=("user", "key"), timeout=5)
        assert ok.status_code == 200


def test_tenants_never_see_each_other(mimir: MimirEmulator):
    assert _post(mimir, "qgx", GROUP, T1).status_code == 202
    assert yaml.safe_load(_get(mimir, RULES, T2).text) == {}
    assert _get(mimir, f"{RULES}/qgx/qgx-http", T2).status_code == 404
    assert requests.delete(f"{mimir.url}{RULES}/qgx", headers=T2, timeout=5).status_code == 404
    assert _am_post(mimir, AM_CONFIG, {"slack.tmpl": SLACK_TMPL}, T1).status_code == 201
    assert _get(mimir, "/api/v1/alerts", T2).status_code == 404
    assert mimir.rules("tenant-2") == {} and mimir.alertmanager_config("tenant-2") is None
    assert list(mimir.rules("tenant-1")) == ["qgx"]


# ============================================================================================ ruler


def test_empty_tenant_lists_as_empty_yaml_map(mimir: MimirEmulator):
    r = _get(mimir, RULES)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/yaml"
    assert r.text.strip() == "{}"
    assert yaml.safe_load(_get(mimir, f"{RULES}/unknown").text) == {}


def test_post_group_202_and_read_back(mimir: MimirEmulator):
    r = _post(mimir, "qgx", GROUP)
    assert r.status_code == 202
    assert r.text == SUCCESS
    assert r.headers["Content-Type"] == "application/json"
    group = yaml.safe_load(_get(mimir, f"{RULES}/qgx/qgx-http").text)
    assert group["name"] == "qgx-http"
    assert [rule.get("record") or rule.get("alert") for rule in group["rules"]] == [
        "job:qgx_http_requests:rate5m",
        "QgxHighErrorRate",
    ]
    assert yaml.safe_load(_get(mimir, f"{RULES}/qgx").text) == {"qgx": [group]}
    assert yaml.safe_load(_get(mimir, RULES).text) == {"qgx": [group]}
    assert mimir.rules("tenant-1") == {"qgx": [group]}
    assert mimir.rule_group("tenant-1", "qgx", "qgx-http") == group


def test_get_unknown_group_404_text(mimir: MimirEmulator):
    r = _get(mimir, f"{RULES}/qgx/nope")
    assert (r.status_code, r.text) == (404, "group does not exist\n")


def test_post_upserts_by_name_and_leaves_other_groups(mimir: MimirEmulator):
    _post(mimir, "qgx", GROUP)
    _post(mimir, "qgx", "name: other\nrules:\n  - record: a:b\n    expr: sum(up)\n")
    _post(mimir, "qgx", GROUP.replace("interval: 60s", "interval: 2m"))
    groups = mimir.rules("tenant-1")["qgx"]
    assert [g["name"] for g in groups] == ["other", "qgx-http"]
    assert groups[1]["interval"] == "2m"
    # a rename leaves the old group in place
    _post(mimir, "qgx", GROUP.replace("name: qgx-http", "name: qgx-http-v2"))
    assert [g["name"] for g in mimir.rules("tenant-1")["qgx"]] == ["other", "qgx-http", "qgx-http-v2"]


def test_delete_group_and_namespace(mimir: MimirEmulator):
    _post(mimir, "qgx", GROUP)
    _post(mimir, "qgx", "name: other\nrules:\n  - record: a:b\n    expr: sum(up)\n")
    r = requests.delete(f"{mimir.url}{RULES}/qgx/other", headers=T1, timeout=5)
    assert (r.status_code, r.text) == (202, SUCCESS)
    again = requests.delete(f"{mimir.url}{RULES}/qgx/other", headers=T1, timeout=5)
    assert (again.status_code, again.text) == (404, "group does not exist\n")
    ns = requests.delete(f"{mimir.url}{RULES}/qgx", headers=T1, timeout=5)
    assert (ns.status_code, ns.text) == (202, SUCCESS)
    assert mimir.rules("tenant-1") == {}
    gone = requests.delete(f"{mimir.url}{RULES}/qgx", headers=T1, timeout=5)
    assert (gone.status_code, gone.text) == (404, "group namespace does not exist\n")


def test_percent_encoded_namespace_and_group(mimir: MimirEmulator):
    ns, name = "team/a b", "slash/group"
    body = f"name: {name}\nrules:\n  - record: a:b\n    expr: sum(up)\n"
    assert _post(mimir, ns, body).status_code == 202
    assert list(mimir.rules("tenant-1")) == [ns]
    url = f"{RULES}/{quote(ns, safe='')}/{quote(name, safe='')}"
    assert yaml.safe_load(_get(mimir, url).text)["name"] == name
    assert requests.delete(f"{mimir.url}{url}", headers=T1, timeout=5).status_code == 202
    assert requests.post(f"{mimir.url}{RULES}/", data=body, headers=T1, timeout=5).status_code == 404


def test_multiline_expr_kept_verbatim(mimir: MimirEmulator):
    body = (
        "name: g\nrules:\n  - record: r:1\n    expr: |\n      sum by (job) (\n        rate(x[5m])\n      )\n"
    )
    assert _post(mimir, "ns", body).status_code == 202
    got = yaml.safe_load(_get(mimir, f"{RULES}/ns/g").text)
    assert got["rules"][0]["expr"] == "sum by (job) (\n  rate(x[5m])\n)\n"


def test_custom_prefix():
    with MimirEmulator(prefix="/mimir/prometheus") as m:
        r = requests.post(f"{m.url}/mimir/prometheus/config/v1/rules/ns", data=GROUP, headers=T1, timeout=5)
        assert r.status_code == 202
        assert requests.get(f"{m.url}{RULES}", headers=T1, timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "invalid rules configuration: rule group name must not be empty"),
        (
            "rules:\n  - record: a:b\n    expr: up\n",
            "invalid rules configuration: rule group name must not be empty",
        ),
        ("name: g\n", "invalid rules configuration: rule group 'g' has no rules"),
        ("name: g\nrules: []\n", "invalid rules configuration: rule group 'g' has no rules"),
        (
            "name: g\nrules:\n  - record: a:b\n    alert: B\n    expr: up\n",
            "group \"g\", rule 0, \"B\": only one of 'record' and 'alert' must be set",
        ),
        (
            "name: g\nrules:\n  - expr: up\n",
            "group \"g\", rule 0, \"\": one of 'record' or 'alert' must be set",
        ),
        ("name: g\nrules:\n  - alert: A\n", 'group "g", rule 0, "A": field \'expr\' must be set in rule'),
        (
            "name: g\nrules:\n  - record: a:b\n    expr: up\n    for: 5m\n",
            'group "g", rule 0, "a:b": invalid field \'for\' in recording rule',
        ),
        (
            "name: g\nrules:\n  - record: a:b\n    expr: up\n    keep_firing_for: 5m\n",
            'group "g", rule 0, "a:b": invalid field \'keep_firing_for\' in recording rule',
        ),
        (
            "name: g\nrules:\n  - record: a:b\n    expr: up\n    annotations: {summary: x}\n",
            'group "g", rule 0, "a:b": invalid field \'annotations\' in recording rule',
        ),
        (
            "name: g\nrules:\n  - record: a-b\n    expr: up\n",
            'group "g", rule 0, "a-b": invalid recording rule name: a-b',
        ),
        (
            "name: g\nrules:\n  - alert: A\n    expr: up\n    labels: {bad-name: x}\n",
            'group "g", rule 0, "A": invalid label name: bad-name',
        ),
        (
            "name: g\nrules:\n  - alert: A\n    expr: up\n    annotations: {summary: '{{ $labels.x '}\n",
            'group "g", rule 0, "A": annotation "summary": template: __alert_A:1: unclosed action',
        ),
    ],
)
def test_rule_group_validation_errors(mimir: MimirEmulator, body, message):
    r = _post(mimir, "ns", body)
    assert (r.status_code, r.text) == (400, message + "\n")
    assert mimir.rules("tenant-1") == {}


def test_promql_parse_error_names_rule_index(mimir: MimirEmulator):
    body = (
        "name: g\nrules:\n  - record: ok:rule\n    expr: up\n  - alert: Broken\n    expr: sum(rate(x[5m])\n"
    )
    r = _post(mimir, "ns", body)
    assert r.status_code == 400
    assert r.text.startswith('group "g", rule 1, "Broken": could not parse expression: ')


def test_all_rule_errors_joined_with_comma(mimir: MimirEmulator):
    body = "name: g\nrules:\n  - record: a:b\n    alert: B\n  - alert: C\n    expr: up\n    labels: {__name__: x}\n"
    r = _post(mimir, "ns", body)
    assert r.text == (
        "group \"g\", rule 0, \"B\": only one of 'record' and 'alert' must be set, "
        'group "g", rule 0, "B": field \'expr\' must be set in rule, '
        'group "g", rule 1, "C": invalid label name: __name__\n'
    )


@pytest.mark.parametrize(
    "body",
    [
        "name: [a, b]\n",
        "name: g\nrules: nope\n",
        "name: g\ninterval: 60\nrules: []\n",
        "{{{",
        "name: g\nname: h\n",
    ],
)
def test_undecodable_group_400(mimir: MimirEmulator, body):
    r = _post(mimir, "ns", body)
    assert (r.status_code, r.text) == (400, "unable to decode rule group\n")


def test_rule_limits():
    with MimirEmulator(max_rules_per_group=2, max_rule_groups_per_tenant=2) as m:
        rules = "".join(f"  - record: r:{i}\n    expr: up\n" for i in range(3))
        r = _post(m, "ns", f"name: g\nrules:\n{rules}")
        assert (r.status_code, r.text) == (
            400,
            "per-user rules per rule group limit (limit: 2 actual: 3) exceeded\n",
        )
        one = "rules:\n  - record: r:1\n    expr: up\n"
        assert _post(m, "ns", f"name: a\n{one}").status_code == 202
        assert _post(m, "other", f"name: b\n{one}").status_code == 202
        # At the limit even an update is refused: Mimir counts every group of the tenant plus one.
        r = _post(m, "ns", f"name: a\n{one}")
        assert (r.status_code, r.text) == (400, "per-user rule groups limit (limit: 2 actual: 3) exceeded\n")
        r = _post(m, "ns", f"name: c\n{one}")
        assert (r.status_code, r.text) == (400, "per-user rule groups limit (limit: 2 actual: 3) exceeded\n")


def test_group_is_stored_normalised_like_mimir(mimir: MimirEmulator):
    body = """
name: norm
interval: 60s
limit: 10
labels: {team: a}
unknown_group_key: dropped
rules:
  - alert: A
    expr: "up  ==   0"
    for: 90s
    keep_firing_for: 0s
    annotation: {typo: dropped}
    labels: {z: "1", a: "2"}
  - record: r:sum
    expr: sum(up)
    for: 0s
    labels: {}
  - alert: B
    expr: up
    for: 3600s
    keep_firing_for: 7d
  - alert: C
    expr: up
    for: 14d
"""
    assert _post(mimir, "ns", body).status_code == 202
    assert yaml.safe_load(_get(mimir, f"{RULES}/ns/norm").text) == {
        "name": "norm",
        "interval": "1m",
        "rules": [
            {"alert": "A", "expr": "up  ==   0", "for": "1m30s", "labels": {"a": "2", "z": "1"}},
            {"record": "r:sum", "expr": "sum(up)"},
            {"alert": "B", "expr": "up", "for": "1h", "keep_firing_for": "1w"},
            {"alert": "C", "expr": "up", "for": "2w"},
        ],
    }


def test_query_offset_and_federation_rules(mimir: MimirEmulator):
    one = "rules:\n  - record: r:1\n    expr: up\n"
    assert _post(mimir, "ns", f"name: q\nquery_offset: 120s\n{one}").status_code == 202
    assert mimir.rule_group("tenant-1", "ns", "q")["query_offset"] == "2m"
    both = _post(mimir, "ns", f"name: q\nquery_offset: 1m\nevaluation_delay: 2m\n{one}")
    assert both.status_code == 400 and "has both query_offset and (deprecated) evaluation_delay" in both.text
    fed = _post(mimir, "ns", f"name: f\nsource_tenants: [a, b]\n{one}")
    assert (
        fed.status_code == 400 and "is a federated rule group, but rules federation is disabled" in fed.text
    )
    with MimirEmulator(federation_enabled=True) as m:
        assert _post(m, "ns", f"name: f\nsource_tenants: [a, b]\n{one}").status_code == 202
        assert m.rule_group("tenant-1", "ns", "f")["source_tenants"] == ["a", "b"]


def test_protected_namespace(mimir: MimirEmulator):
    _post(mimir, "locked", GROUP)
    mimir.protect_namespace("tenant-1", "locked")
    for r in (
        _post(mimir, "locked", GROUP),
        requests.delete(f"{mimir.url}{RULES}/locked/qgx-http", headers=T1, timeout=5),
        requests.delete(f"{mimir.url}{RULES}/locked", headers=T1, timeout=5),
    ):
        assert (r.status_code, r.text) == (403, "namespace is protected, no modification allowed\n")
    read = _get(mimir, RULES)
    assert read.status_code == 200
    assert read.headers["X-Mimir-Ruler-Protected-Namespaces"] == "locked"
    override = {**T1, "X-Mimir-Ruler-Override-Namespace-Protection": "locked"}
    assert _post(mimir, "locked", GROUP, override).status_code == 202
    assert _post(mimir, "locked", GROUP, T2).status_code == 202  # protection was for tenant-1 only


def test_seed_helpers(mimir: MimirEmulator):
    seeded = mimir.seed_rule_group(
        "t", "ns", {"name": "g", "interval": "300s", "rules": [{"record": "a", "expr": "1"}]}
    )
    assert seeded == {"name": "g", "interval": "5m", "rules": [{"record": "a", "expr": "1"}]}
    assert yaml.safe_load(_get(mimir, RULES, {"X-Scope-OrgID": "t"}).text) == {"ns": [seeded]}
    mimir.seed_alertmanager_config("t", "route: {receiver: x}\nreceivers: [{name: x}]\n")
    assert _get(mimir, "/api/v1/alerts", {"X-Scope-OrgID": "t"}).status_code == 200
    assert mimir.write_count() == 0


def test_duration_helpers_match_prometheus():
    cases = {"60s": "1m", "90s": "1m30s", "0s": "0s", "0": "0s", "1h30m": "1h30m", "7d": "1w", "8d": "8d",
             "365d": "1y", "1500ms": "1s500ms", "120m": "2h"}  # fmt: skip
    for text, canonical in cases.items():
        assert format_prometheus_duration(parse_prometheus_duration(text)) == canonical
    for bad in ("", "5", "1.5h", "1m1h", "-1m", "1x"):
        with pytest.raises(ValueError):
            parse_prometheus_duration(bad)


# ============================================================================================ alertmanager


def test_alertmanager_get_404_when_none(mimir: MimirEmulator):
    r = _get(mimir, "/api/v1/alerts")
    assert (r.status_code, r.text) == (404, "alertmanager storage object not found\n")


def test_alertmanager_post_get_delete(mimir: MimirEmulator):
    r = _am_post(mimir, AM_CONFIG, {"slack.tmpl": SLACK_TMPL})
    assert (r.status_code, r.text) == (201, "")
    got = _get(mimir, "/api/v1/alerts")
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(got.text) == {
        "template_files": {"slack.tmpl": SLACK_TMPL},
        "alertmanager_config": AM_CONFIG,
    }
    assert mimir.alertmanager_config("tenant-1") == {
        "template_files": {"slack.tmpl": SLACK_TMPL},
        "alertmanager_config": AM_CONFIG,
    }
    deleted = requests.delete(f"{mimir.url}/api/v1/alerts", headers=T1, timeout=5)
    assert (deleted.status_code, deleted.text) == (200, "")
    assert _get(mimir, "/api/v1/alerts").status_code == 404
    assert requests.delete(f"{mimir.url}/api/v1/alerts", headers=T1, timeout=5).status_code == 200


def test_alertmanager_v1_api_is_gone(mimir: MimirEmulator):
    assert requests.get(f"{mimir.url}/alertmanager/api/v1/alerts", headers=T1, timeout=5).status_code == 410


def test_alertmanager_bad_yaml_and_empty(mimir: MimirEmulator):
    bad = requests.post(f"{mimir.url}/api/v1/alerts", data="template_files: [\n", headers=T1, timeout=5)
    assert bad.status_code == 400
    assert bad.text.startswith("error marshalling YAML Alertmanager config: ")
    empty = requests.post(f"{mimir.url}/api/v1/alerts", data="template_files: {}\n", headers=T1, timeout=5)
    assert empty.status_code == 400
    assert empty.text == (
        "error validating Alertmanager config: configuration provided is empty, if you'd like to remove your "
        "configuration please use the delete configuration endpoint\n"
    )


SLACK_FILE = AM_CONFIG.replace(
    "api_url: https://hooks.slack.example/T000/B000/XXX", "api_url_file: /etc/slack"
)


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (SLACK_FILE, "setting Slack api_url_file and global slack_api_url_file is not allowed"),
        (
            AM_CONFIG.replace(
                "send_resolved: true", "http_config: {basic_auth: {username: u, password_file: /p}}"
            ),
            "setting password_file, bearer_token_file and credentials_file is not allowed",
        ),
        (
            AM_CONFIG.replace("send_resolved: true", "http_config: {tls_config: {ca_file: /ca.pem}}"),
            "setting TLS ca_file, cert_file and key_file is not allowed",
        ),
        (
            AM_CONFIG.replace(
                "send_resolved: true",
                "http_config: {oauth2: {client_id: a, client_secret: b, token_url: 'http://t', proxy_url: 'http://p'}}",
            ),
            "setting proxy_url is not allowed",
        ),
        (
            "global: {slack_api_url_file: /x}\n" + AM_CONFIG,
            "setting Slack api_url_file and global slack_api_url_file is not allowed",
        ),
        (
            AM_CONFIG.replace("- slack.tmpl", "- /etc/alertmanager/slack.tmpl"),
            'invalid template name "/etc/alertmanager/slack.tmpl": the template name cannot contain any path',
        ),
        (
            AM_CONFIG.replace("receiver: slack-critical", "receiver: pager"),
            'undefined receiver "pager" used in route',
        ),
        (
            AM_CONFIG.replace("name: slack-critical", "name: slack-default").replace(
                "receiver: slack-critical", "receiver: slack-default"
            ),
            'notification config name "slack-default" is not unique',
        ),
        ("receivers: [{name: x}]\n", "no route provided in config"),
        ("route: {group_by: [a]}\nreceivers: [{name: x}]\n", "root route must specify a default receiver"),
    ],
)
def test_alertmanager_validation_errors(mimir: MimirEmulator, config, error):
    r = _am_post(mimir, config, {"slack.tmpl": SLACK_TMPL})
    assert (r.status_code, r.text) == (400, f"error validating Alertmanager config: {error}\n")
    assert mimir.alertmanager_config("tenant-1") is None


def test_plain_http_proxy_url_is_allowed(mimir: MimirEmulator):
    config = AM_CONFIG.replace("send_resolved: true", "http_config: {proxy_url: 'http://proxy:3128'}")
    assert _am_post(mimir, config, {"slack.tmpl": SLACK_TMPL}).status_code == 201


def test_alertmanager_unknown_field_rejected_like_config_load(mimir: MimirEmulator):
    r = _am_post(
        mimir,
        AM_CONFIG.replace(
            "slack_configs:\n      - api_url: https://hooks.slack.example/T000/B000/YYY",
            "slack_config:\n      - api_url: x",
        ),
    )
    assert r.status_code == 400
    assert "field slack_config not found in type config.plain" in r.text


def test_template_file_name_with_path_rejected(mimir: MimirEmulator):
    r = _am_post(mimir, AM_CONFIG, {"slack.tmpl": SLACK_TMPL, "../evil.tmpl": "x"})
    assert r.status_code == 400
    assert r.text == (
        'error validating Alertmanager config: invalid template name "../evil.tmpl": the template name cannot '
        "contain any path\n"
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('{{ define "slack.title" }}{{ .Status ', "template: slack.tmpl:1: unclosed action"),
        ('{{ define "slack.title" }}{{ if .Status }}x{{ end }}', "template: slack.tmpl:1: unexpected EOF"),
        ('{{ define "slack.title" }}x{{ end }}\n{{ end }}', "template: slack.tmpl:2: unexpected {{end}}"),
        (
            '{{ define "slack.title" }}{{ $labels.x }}{{ end }}',
            'template: slack.tmpl:1: undefined variable "$labels"',
        ),
    ],
)
def test_template_that_does_not_parse_rejected(mimir: MimirEmulator, template, problem):
    r = _am_post(mimir, AM_CONFIG, {"slack.tmpl": template})
    assert (r.status_code, r.text) == (400, f"error validating Alertmanager config: {problem}\n")


def test_alertmanager_size_and_template_limits():
    with MimirEmulator(max_config_size_bytes=200, max_templates=1, max_template_size_bytes=1000) as m:
        r = _am_post(m, AM_CONFIG)
        assert (r.status_code, r.text) == (400, "Alertmanager configuration is too big, limit: 200 bytes\n")
        m.max_config_size_bytes = 0
        many = _am_post(m, AM_CONFIG, {"slack.tmpl": SLACK_TMPL, "b.tmpl": "x"})
        assert many.text.endswith("too many templates in the configuration: 2 (limit: 1)\n")
        big = _am_post(m, AM_CONFIG, {"slack.tmpl": "x" * 1001})
        assert "template slack.tmpl is too big: 1001 bytes (limit: 1000 bytes)" in big.text


def test_go_template_checker_accepts_real_templates():
    assert check_go_template(SLACK_TMPL, "slack.tmpl") is None
    text = """{{/* comment */}}{{- range $i, $a := .Alerts -}}
{{ if $i }}, {{ end }}{{ $a.Labels.alertname }}{{ with $a.Annotations.runbook_url }} <{{ . }}|runbook>{{ else }}-{{ end }}
{{- if gt (len $.Alerts) 3 }}{{ break }}{{ end }}{{ "}}" }}{{ `raw
}}` }}{{- end }}{{ template "slack.title" . }}{{ block "b" . }}{{ .X }}{{ end }}"""
    assert check_go_template(text, "t") is None


# ============================================================================================ faults + log


def test_request_log_and_write_count(mimir: MimirEmulator):
    _post(mimir, "qgx", GROUP)
    _get(mimir, f"{RULES}/qgx/qgx-http")
    requests.delete(f"{mimir.url}{RULES}/qgx/qgx-http", headers=T1, timeout=5)
    _am_post(mimir, AM_CONFIG, {"slack.tmpl": SLACK_TMPL})
    assert mimir.requests == [
        ("POST", f"{RULES}/qgx"),
        ("GET", f"{RULES}/qgx/qgx-http"),
        ("DELETE", f"{RULES}/qgx/qgx-http"),
        ("POST", "/api/v1/alerts"),
    ]
    assert mimir.write_count() == 3
    assert mimir.request_log[0].headers["x-scope-orgid"] == "tenant-1"
    assert [r.status for r in mimir.request_log] == [202, 200, 202, 201]


def test_failures_then_success_and_429(mimir: MimirEmulator):
    mimir.faults.fail("POST", r"/config/v1/rules/", 502, times=1)
    mimir.faults.fail("POST", r"/config/v1/rules/", 429, times=1)
    first = _post(mimir, "qgx", GROUP)
    assert first.status_code == 502 and first.text
    second = _post(mimir, "qgx", GROUP)
    assert (second.status_code, second.headers["Retry-After"]) == (429, "0")
    assert _post(mimir, "qgx", GROUP).status_code == 202
    assert mimir.write_count() == 1
    assert len(mimir.requests) == 3


def test_connection_reset_then_recovery(mimir: MimirEmulator):
    mimir.faults.reset_connection("GET", "/api/v1/alerts", times=2)
    session = requests.Session()
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            session.get(f"{mimir.url}/api/v1/alerts", headers=T1, timeout=5)
    assert session.get(f"{mimir.url}/api/v1/alerts", headers=T1, timeout=5).status_code == 404


def test_latency(mimir: MimirEmulator):
    mimir.faults.latency = 0.05
    started = time.monotonic()
    _get(mimir, RULES)
    assert time.monotonic() - started >= 0.05
