"""The Loki ruler client (`lgtm_dash.clients.loki.LokiRuler`) against the emulator, which
tests/test_server_contract.py holds to docs/server-contract.md ("Loki ruler API") (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lgtm_dash.clients.http import AuthError, RetryPolicy
from lgtm_dash.clients.loki import LokiRuler
from lgtm_dash.environments import LokiTarget
from lgtm_dash.errors import RemoteError
from lgtm_dash.testing.loki_emulator import LokiEmulator

RULES = "/loki/api/v1/rules"


@pytest.fixture
def loki() -> Iterator[LokiEmulator]:
    with LokiEmulator() as emu:
        yield emu


RECORD = {"record": "app:log_lines:rate5m", "expr": 'sum by (app) (rate({app="web"}[5m]))'}


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
