"""Normalisation shared by `plan` and `diff --live`: what counts as the same object."""

from __future__ import annotations

import pytest

from lgtm_dash.clients.http import RetryPolicy, TransientError
from lgtm_dash.normalize import (
    DASHBOARD_MARKER,
    canonical_duration,
    changed_since_publish,
    dropped_group_fields,
    mark_dashboard,
    marked_folders,
    mask_alertmanager_secrets,
    normalize_alertmanager,
    normalize_dashboard,
    normalize_datasource,
    normalize_rule_group,
)
from lgtm_dash.publish.kinds.datasources import datasource_body


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("60s", "1m"),
        ("90s", "1m30s"),
        ("1h0m", "1h"),
        ("7d", "1w"),
        ("14d", "2w"),
        ("10d", "10d"),
        ("0s", None),
    ],
)
def test_durations_take_prometheus_canonical_form(written: str, stored: str | None) -> None:
    assert canonical_duration(written) == stored


def test_rule_group_compares_as_mimir_stores_it() -> None:
    desired = {
        "name": "g",
        "interval": "60s",
        "query_offset": "0s",
        "rules": [
            {"alert": "A", "expr": "up == 0", "for": "300s", "labels": {"b": "2", "a": "1"}, "unknown": 1},
            {"record": "x:y", "expr": "sum(up)", "labels": {}},
        ],
    }
    live = {
        "name": "g",
        "interval": "1m",
        "rules": [
            {"alert": "A", "expr": "up == 0", "for": "5m", "labels": {"a": "1", "b": "2"}},
            {"record": "x:y", "expr": "sum(up)"},
        ],
    }
    assert normalize_rule_group(desired) == normalize_rule_group(live)
    changed = {**live, "rules": [{**live["rules"][0], "keep_firing_for": "5m"}, live["rules"][1]]}
    assert normalize_rule_group(changed) != normalize_rule_group(live)  # mimirtool misses this one
    assert dropped_group_fields({"name": "g", "labels": {"team": "a"}, "limit": 5, "rules": []}) == [
        "labels",
        "limit",
    ]


def test_dashboard_ignores_server_bookkeeping_and_key_order() -> None:
    desired = {"uid": "u", "title": "T", "panels": [{"id": 1, "type": "stat"}], "tags": ["lgtm-dash"]}
    live = {
        "tags": ["lgtm-dash"],
        "panels": [{"type": "stat", "id": 1}],
        "title": "T",
        "uid": "u",
        "id": 7,
        "version": 3,
    }
    assert normalize_dashboard(desired) == normalize_dashboard(live)
    assert normalize_dashboard({**live, "title": "Other"}) != normalize_dashboard(desired)


def test_publish_marker_tells_our_last_publish_from_a_later_edit() -> None:
    desired = {"uid": "u", "title": "T", "panels": [{"id": 1, "type": "stat"}]}
    sent = mark_dashboard(desired, ["team", "platform"])
    assert normalize_dashboard(sent) == normalize_dashboard(desired)  # the marker is not content
    # What Grafana returns: the JSON as sent, with id and version rewritten (contract row G-DASH-GET).
    live = {**sent, "id": 9, "version": 4}
    assert not changed_since_publish(live)
    assert marked_folders(live) == ["team", "platform"]
    assert changed_since_publish({**live, "title": "Edited in the UI"})
    assert changed_since_publish({k: v for k, v in live.items() if k != DASHBOARD_MARKER})


def test_datasource_secrets_compare_by_key_and_provisioning_spelling_is_undone() -> None:
    entry = {
        "name": "Loki",
        "type": "loki",
        "uid": "loki",
        "orgId": 1,
        "editable": False,
        "url": "http://loki",
        "jsonData": {"derivedFields": [{"url": "$${__value.raw}"}]},
        "secureJsonData": {"password": "${DB_PASSWORD}"},
    }
    body = datasource_body(entry, {"DB_PASSWORD": "s3cret"})
    assert body["secureJsonData"] == {"password": "s3cret"}
    assert body["jsonData"]["derivedFields"][0]["url"] == "${__value.raw}"
    assert "orgId" not in body and "editable" not in body
    live = {
        **{k: v for k, v in body.items() if k != "secureJsonData"},
        "id": 4,
        "orgId": 1,
        "version": 2,
        "readOnly": False,
        "user": "",
        "basicAuth": False,
        "basicAuthUser": "",
        "withCredentials": False,
        "access": "proxy",
        "typeLogoUrl": "public/plugins/loki/img/logo.svg",
        "apiVersion": "",  # always in the DTO (contract row G-DS-GET)
        "secureJsonFields": {"password": True},
    }
    assert normalize_datasource(body) == normalize_datasource(live, also=frozenset(body))
    assert normalize_datasource(body) != normalize_datasource({**live, "basicAuth": True})
    assert "s3cret" not in str(normalize_datasource(body))
    assert normalize_datasource({**live, "secureJsonFields": {}}) != normalize_datasource(body)


def test_alertmanager_compares_structure_and_masks_credentials() -> None:
    a = {
        "alertmanager_config": "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'https://x'}]}]\n"
    }
    b = {
        "alertmanager_config": "receivers:\n- name: r\n  slack_configs:\n  - api_url: https://x\nroute:\n  receiver: r\n"
    }
    assert normalize_alertmanager(a) == normalize_alertmanager(b)
    masked = mask_alertmanager_secrets(normalize_alertmanager(a))
    assert "https://x" not in str(masked)


def test_retry_policy_retries_only_transient_failures_and_gives_up() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("503", 503)
        return "ok"

    policy = RetryPolicy(attempts=3, base_delay=0, sleep=lambda s: None)
    assert policy.run(flaky) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(TransientError):
        RetryPolicy(attempts=2, base_delay=0, sleep=lambda s: None).run(lambda: flaky() and "")
    assert len(calls) == 2
    with pytest.raises(ValueError):
        policy.run(lambda: (_ for _ in ()).throw(ValueError("not transient")))


def test_folder_depths_are_computed_once_and_a_cycle_is_named() -> None:
    from lgtm_dash.publish.foldertree import FolderCycle, FolderTree

    tree = FolderTree.of(
        [
            {"uid": "c", "parentUid": "b"},
            {"uid": "a"},
            {"uid": "b", "parentUid": "a"},
            {"uid": "x", "parentUid": "gone"},
        ]
    )
    assert tree.depths == {"a": 1, "b": 2, "c": 3, "x": 1}  # a parent outside the tree is a root
    assert tree.chain("c") == ["c", "b", "a"] and tree.chain("nope") == []
    looped = FolderTree.of(
        [{"uid": "a", "parentUid": "c"}, {"uid": "b", "parentUid": "a"}, {"uid": "c", "parentUid": "b"}]
    )
    with pytest.raises(FolderCycle, match="a -> c -> b -> a"):
        looped.depths  # noqa: B018
