"""Loki's ruler API: the emulator holds to docs/server-contract.md ("Loki ruler API"), and the client
(`lgtm_dash.loki.LokiRuler`) speaks it (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from lgtm_dash.environments import LokiTarget
from lgtm_dash.errors import RemoteError
from lgtm_dash.loki import LokiRuler
from lgtm_dash.publish.remote import AuthError, RetryPolicy
from lgtm_dash.testing.loki_emulator import LokiEmulator

TENANT = {"X-Scope-OrgID": "t1"}
RULES = "/loki/api/v1/rules"


@pytest.fixture
def loki() -> Iterator[LokiEmulator]:
    with LokiEmulator() as emu:
        yield emu


def post(emu: LokiEmulator, namespace: str, group: dict[str, Any] | str, headers=TENANT) -> requests.Response:
    body = group if isinstance(group, str) else yaml.safe_dump(group, sort_keys=False)
    return requests.post(f"{emu.url}{RULES}/{namespace}", data=body, headers=headers, timeout=10)


def get(emu: LokiEmulator, path: str, headers=TENANT) -> requests.Response:
    return requests.get(f"{emu.url}{path}", headers=headers, timeout=10)


ALERT = {
    "alert": "Errors",
    "expr": 'sum by (app) (rate({app="web"} |= "error" [5m])) > 1',
    "for": "300s",
    "keep_firing_for": "5m",
    "labels": {"team": "a", "severity": "warning"},
    "annotations": {"summary": "{{ $labels.app }} logs errors"},
    "unknown_key": "dropped",
}
RECORD = {"record": "app:log_lines:rate5m", "expr": 'sum by (app) (rate({app="web"}[5m]))'}


# --- the emulator, row by row of the contract ------------------------------------------------------------


def test_every_route_needs_the_tenant_and_other_methods_are_405(loki: LokiEmulator) -> None:
    missing = get(loki, RULES, headers={})
    assert (missing.status_code, missing.text) == (401, "no org id\n")
    assert requests.put(f"{loki.url}{RULES}", headers=TENANT, timeout=10).status_code == 405
    assert requests.patch(f"{loki.url}{RULES}/ns/g", headers=TENANT, timeout=10).status_code == 405


def test_an_empty_listing_is_a_404(loki: LokiEmulator) -> None:
    for path in (RULES, f"{RULES}/nowhere", "/api/prom/rules"):
        answer = get(loki, path)
        assert (answer.status_code, answer.text) == (404, "no rule groups found\n")
        assert answer.headers["Content-Type"].startswith("text/plain")


def test_a_group_is_stored_per_tenant_and_rewritten_as_loki_stores_it(loki: LokiEmulator) -> None:
    group = {
        "name": "g",
        "interval": "60s",
        "limit": 10,
        "query_offset": "1m",
        "labels": {"x": "y"},
        "rules": [ALERT, RECORD],
    }
    created = post(loki, "ns", group)
    assert created.status_code == 202
    assert created.json() == {"status": "success", "data": None, "errorType": "", "error": ""}
    stored = yaml.safe_load(get(loki, f"{RULES}/ns/g").text)
    assert stored == {
        "name": "g",
        "interval": "1m",
        "limit": 10,
        "rules": [
            {
                "alert": "Errors",
                "expr": ALERT["expr"],
                "for": "5m",
                "labels": {"severity": "warning", "team": "a"},
                "annotations": {"summary": "{{ $labels.app }} logs errors"},
            },
            RECORD,
        ],
    }
    assert list(stored["rules"][0]["labels"]) == ["severity", "team"]  # sorted
    assert yaml.safe_load(get(loki, RULES).text) == {"ns": [stored]}
    assert yaml.safe_load(get(loki, "/api/prom/rules/ns").text) == {"ns": [stored]}
    assert get(loki, RULES, headers={"X-Scope-OrgID": "t2"}).status_code == 404  # other tenants see nothing


def test_a_post_replaces_the_group_of_that_name_only(loki: LokiEmulator) -> None:
    post(loki, "ns", {"name": "a", "rules": [RECORD]})
    post(loki, "ns", {"name": "b", "rules": [RECORD]})
    post(loki, "ns", {"name": "a", "rules": [{**RECORD, "record": "app:log_lines:rate1m"}]})
    groups = yaml.safe_load(get(loki, f"{RULES}/ns").text)["ns"]
    assert [g["name"] for g in groups] == ["a", "b"]
    assert groups[0]["rules"][0]["record"] == "app:log_lines:rate1m"


def test_percent_encoded_names(loki: LokiEmulator) -> None:
    assert post(loki, "team%2Flogs", {"name": "g/1", "rules": [RECORD]}).status_code == 202
    assert get(loki, f"{RULES}/team%2Flogs/g%2F1").status_code == 200
    assert list(yaml.safe_load(get(loki, RULES).text)) == ["team/logs"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [{"alert": "A", "record": "a:b:c", "expr": "vector(1)"}],
            "only one of 'record' and 'alert' must be set",
        ),
        ([{"expr": "vector(1)"}], "one of 'record' or 'alert' must be set"),
        ([{"alert": "A"}], "field 'expr' must be set in rule"),
        (
            [{"alert": "A", "expr": 'sum(rate({app="x"}[5m])'}],
            "could not parse expression for alert 'A' in group 'g': parse error: ",
        ),
        ([{"record": "a:b:c", "expr": "vector(1)", "for": "1m"}], "invalid field 'for' in recording rule"),
        (
            [{"record": "a:b:c", "expr": "vector(1)", "annotations": {"x": "y"}}],
            "invalid field 'annotations' in recording rule",
        ),
        ([{"record": "not a name", "expr": "vector(1)"}], "invalid recording rule name: not a name"),
        ([{"alert": "A", "expr": "vector(1)", "labels": {"bad-name": "x"}}], "invalid label name: bad-name"),
        ([{"alert": "A", "expr": "vector(1)", "annotations": {"9x": "y"}}], "invalid annotation name: 9x"),
        (
            [{"alert": "A", "expr": "vector(1)", "annotations": {"url": "{{ $externalURL }}"}}],
            'annotation "url": template: __alert_A:1: undefined variable "$externalURL"',
        ),
    ],
)
def test_validation_refuses_what_loki_refuses(loki: LokiEmulator, rules: list, message: str) -> None:
    answer = post(loki, "ns", {"name": "g", "rules": rules})
    assert answer.status_code == 400
    assert answer.text.startswith(message), answer.text
    assert get(loki, RULES).status_code == 404  # nothing stored


def test_every_rule_s_first_problem_is_reported_joined(loki: LokiEmulator) -> None:
    answer = post(loki, "ns", {"name": "", "rules": [{"expr": "vector(1)"}, {"alert": "A"}]})
    assert answer.text == (
        "group 0: Groupname must not be empty, one of 'record' or 'alert' must be set, "
        "field 'expr' must be set in rule\n"
    )


def test_what_loki_accepts_a_log_query_and_a_group_without_rules(loki: LokiEmulator) -> None:
    # syntax.ParseExpr accepts log selector expressions: only evaluation (or lint) finds this out.
    assert post(loki, "ns", {"name": "a", "rules": [{"alert": "A", "expr": '{app="x"} |= "error"'}]}).ok
    assert post(loki, "ns", {"name": "b", "rules": []}).status_code == 202


def test_undecodable_bodies(loki: LokiEmulator) -> None:
    for body in ("name: [unclosed", "- a list", "name: g\ninterval: soon\nrules: []"):
        answer = post(loki, "ns", body)
        assert (answer.status_code, answer.text) == (400, "unable to decoded rule group\n"), body


def test_limits_count_the_replaced_group_too() -> None:
    with LokiEmulator(max_rules_per_group=1, max_rule_groups_per_tenant=1) as emu:
        too_many = post(emu, "ns", {"name": "g", "rules": [RECORD, RECORD]})
        assert too_many.text == "per-user rules per rule group limit (limit: 1 actual: 2) exceeded\n"
        assert post(emu, "ns", {"name": "g", "rules": [RECORD]}).status_code == 202
        again = post(emu, "ns", {"name": "g", "rules": [RECORD]})
        assert (again.status_code, again.text) == (
            400,
            "per-user rule groups limit (limit: 1 actual: 2) exceeded\n",
        )


def test_deletes(loki: LokiEmulator) -> None:
    post(loki, "ns", {"name": "a", "rules": [RECORD]})
    post(loki, "ns", {"name": "b", "rules": [RECORD]})
    gone = requests.delete(f"{loki.url}{RULES}/ns/nope", headers=TENANT, timeout=10)
    assert (gone.status_code, gone.text) == (404, "group does not exist\n")
    assert requests.delete(f"{loki.url}{RULES}/ns/a", headers=TENANT, timeout=10).status_code == 202
    assert [g["name"] for g in yaml.safe_load(get(loki, RULES).text)["ns"]] == ["b"]
    assert requests.delete(f"{loki.url}{RULES}/ns", headers=TENANT, timeout=10).status_code == 202
    missing = requests.delete(f"{loki.url}{RULES}/ns", headers=TENANT, timeout=10)
    assert (missing.status_code, missing.text) == (404, "group namespace does not exist\n")


def test_prometheus_style_listing(loki: LokiEmulator) -> None:
    post(loki, "ns", {"name": "g", "interval": "2m", "rules": [ALERT, RECORD]})
    data = get(loki, "/prometheus/api/v1/rules").json()
    assert data["status"] == "success"
    (group,) = data["data"]["groups"]
    assert (group["name"], group["file"], group["interval"]) == ("g", "ns", 120)
    alert, record = group["rules"]
    assert (alert["type"], alert["state"], alert["duration"], alert["query"]) == (
        "alerting",
        "inactive",
        300,
        ALERT["expr"],
    )
    assert (record["type"], record["name"]) == ("recording", RECORD["record"])
    assert get(loki, "/prometheus/api/v1/alerts").json()["data"] == {"alerts": []}


def test_the_gateway_s_basic_auth() -> None:
    with LokiEmulator(basic_auth=("qgx", "s3cret")) as emu:
        assert get(emu, RULES).status_code == 401
        answer = requests.get(f"{emu.url}{RULES}", headers=TENANT, auth=("qgx", "s3cret"), timeout=10)
        assert answer.status_code == 404  # authenticated: an empty listing


# --- the client ----------------------------------------------------------------------------------------


def client(emu: LokiEmulator, **kwargs: Any) -> LokiRuler:
    target = LokiTarget(address=emu.url, tenant="t1", **kwargs)
    return LokiRuler(target, retry=RetryPolicy(attempts=3, base_delay=0.0, sleep=lambda _s: None))


def test_client_lists_sets_and_deletes(loki: LokiEmulator) -> None:
    ruler = client(loki)
    assert ruler.list_rules() == {}  # Loki's 404 for "no rule groups" is an empty listing
    ruler.set_rule_group("team/logs", {"name": "g", "interval": "60s", "rules": [RECORD]})
    assert ruler.list_rules() == {"team/logs": [{"name": "g", "interval": "1m", "rules": [RECORD]}]}
    assert ("POST", f"{RULES}/team%2Flogs") in loki.requests
    ruler.delete_rule_group("team/logs", "g")
    ruler.delete_rule_group("team/logs", "g")  # already gone: fine
    assert ruler.list_rules() == {}


def test_client_reports_a_refusal_with_loki_s_reason(loki: LokiEmulator) -> None:
    with pytest.raises(RemoteError, match="Loki answered HTTP 400: could not parse expression for alert 'A'"):
        client(loki).set_rule_group("ns", {"name": "g", "rules": [{"alert": "A", "expr": "sum("}]})


def test_client_retries_transient_failures(loki: LokiEmulator) -> None:
    loki.faults.fail("GET", "/loki/api/v1/rules$", 503, times=2)
    assert client(loki).list_rules() == {}
    loki.faults.fail("POST", "/loki/api/v1/rules", 503, times=3)
    with pytest.raises(RemoteError, match="gave up after 3 attempts"):
        client(loki).set_rule_group("ns", {"name": "g", "rules": [RECORD]})


def test_client_auth_failure_names_the_variables_not_the_key() -> None:
    with LokiEmulator(basic_auth=("qgx", "right")) as emu:
        with pytest.raises(AuthError) as err:
            client(emu, user="qgx", key="wrong-key-1234").list_rules()
        message = str(err.value)
        assert "LOKI_API_USER/LOKI_API_KEY and LOKI_TENANT_ID" in message and "wrong-key-1234" not in message
        assert client(emu, user="qgx", key="right").list_rules() == {}
        # A key without a user authenticates as the tenant, like lokitool.
        with LokiEmulator(basic_auth=("t1", "k")) as by_tenant:
            assert client(by_tenant, key="k").list_rules() == {}
