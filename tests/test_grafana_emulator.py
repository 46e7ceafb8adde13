"""The Grafana emulator, driven through the real grafana-client library (and `requests` for raw HTTP).

Each test pins a behaviour from ../shared/reference/grafana-api.md that the publisher relies on.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaBadInputError,
    GrafanaClientError,
    GrafanaServerError,
    GrafanaUnauthorizedError,
)

from lgtm_dash.testing import GrafanaEmulator

TOKEN = "good-token"
VIEWER = "viewer-token"


@pytest.fixture
def grafana():
    with GrafanaEmulator(tokens={TOKEN}, basic_auth={("admin", "secret")}, viewer_tokens={VIEWER}) as g:
        yield g


@pytest.fixture
def api(grafana: GrafanaEmulator) -> GrafanaApi:
    return GrafanaApi.from_url(grafana.url, credential=TOKEN)


def _dash(uid: str = "svc-overview", title: str = "Svc overview", **extra):
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "tags": ["gen"],
        "schemaVersion": 41,
        "panels": [],
        **extra,
    }


def _raises(exc_type, call, *args, **kwargs):
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    return info.value


# ============================================================================================ health + auth


def test_health_needs_no_auth_and_reports_version(grafana: GrafanaEmulator):
    r = requests.get(f"{grafana.url}/api/health", timeout=5)
    assert r.status_code == 200
    assert r.json() == {"database": "ok", "version": "12.0.0", "commit": "emulator"}
    with GrafanaEmulator(version="11.6.2") as g:
        assert requests.get(f"{g.url}/api/health", timeout=5).json()["version"] == "11.6.2"
        assert g.major == 11
    with pytest.raises(ValueError, match="not '10'"):
        GrafanaEmulator(version="10")


def test_health_503_when_database_down_and_version_hidden(grafana: GrafanaEmulator):
    grafana.database_down = True
    grafana.hide_version = True
    r = requests.get(f"{grafana.url}/api/health", timeout=5)
    assert r.status_code == 503
    assert r.json() == {"database": "failing"}


def test_grafana_client_health_check_and_version(grafana: GrafanaEmulator):
    api = GrafanaApi.from_url(grafana.url)  # frontend settings need no credential
    assert api.version == "12.0.0"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic Zm9vOmJhcg=="}]
)
def test_missing_or_wrong_credentials_get_401(grafana: GrafanaEmulator, headers):
    r = requests.get(f"{grafana.url}/api/search", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}


def test_grafana_client_raises_unauthorized_for_bad_token(grafana: GrafanaEmulator):
    bad = GrafanaApi.from_url(grafana.url, credential="nope")
    _raises(GrafanaUnauthorizedError, bad.search.search_dashboards)


def test_basic_auth_works_and_is_recorded_as_updated_by(grafana: GrafanaEmulator):
    api = GrafanaApi.from_url(grafana.url, credential=("admin", "secret"))
    api.dashboard.update_dashboard({"dashboard": _dash(), "overwrite": True})
    assert api.dashboard.get_dashboard("svc-overview")["meta"]["updatedBy"] == "admin"


def test_token_login_name_from_mapping():
    with GrafanaEmulator(tokens={"t": "sa-lgtm-dash"}) as g:
        api = GrafanaApi.from_url(g.url, credential="t")
        api.dashboard.update_dashboard({"dashboard": _dash()})
        assert g.dashboards["svc-overview"].updated_by == "sa-lgtm-dash"


def test_viewer_token_can_read_but_not_write(grafana: GrafanaEmulator):
    grafana.seed_dashboard(_dash())
    viewer = GrafanaApi.from_url(grafana.url, credential=VIEWER)
    got = viewer.dashboard.get_dashboard("svc-overview")
    assert got["meta"]["canSave"] is False
    err = _raises(
        GrafanaClientError, viewer.dashboard.update_dashboard, {"dashboard": _dash(), "overwrite": True}
    )
    assert err.status_code == 403
    assert err.response == {"message": "Access denied to save dashboard"}
    for call, args in [
        (viewer.folder.create_folder, ("Team",)),
        (viewer.datasource.create_datasource, ({"name": "x", "type": "loki"},)),
        (viewer.dashboard.delete_dashboard, ("svc-overview",)),
    ]:
        assert _raises(GrafanaClientError, call, *args).status_code == 403
    assert grafana.write_count() == 4  # the denied writes reached the server; nothing changed
    assert grafana.dashboards["svc-overview"].version == 1


# ============================================================================================ datasources


LOKI = {
    "name": "Loki",
    "type": "loki",
    "uid": "loki",
    "access": "proxy",
    "url": "http://loki-gateway:80",
    "jsonData": {"httpHeaderName1": "X-Scope-OrgID", "maxLines": 1000},
    "secureJsonData": {"httpHeaderValue1": "tenant-a"},
}


def test_create_datasource_returns_dto_without_secrets(api: GrafanaApi, grafana: GrafanaEmulator):
    resp = api.datasource.create_datasource(LOKI)
    assert resp["message"] == "Datasource added"
    assert resp["name"] == "Loki"
    ds = resp["datasource"]
    assert ds["id"] == resp["id"]
    assert (ds["uid"], ds["orgId"], ds["version"], ds["readOnly"]) == ("loki", 1, 1, False)
    assert ds["secureJsonFields"] == {"httpHeaderValue1": True}
    assert "secureJsonData" not in ds
    assert "tenant-a" not in str(resp)
    assert grafana.datasource_secrets("loki") == {"httpHeaderValue1": "tenant-a"}


def test_get_datasource_by_uid_name_and_list(api: GrafanaApi):
    api.datasource.create_datasource(LOKI)
    by_uid = api.datasource.get_datasource_by_uid("loki")
    by_name = api.datasource.get_datasource_by_name("Loki")
    assert by_uid == by_name
    assert by_uid["jsonData"] == LOKI["jsonData"]
    assert "secureJsonData" not in by_uid
    listed = api.datasource.list_datasources()
    assert [d["uid"] for d in listed] == ["loki"]
    assert "secureJsonFields" not in listed[0] and "secureJsonData" not in listed[0]


def test_get_unknown_datasource_404(api: GrafanaApi):
    err = _raises(GrafanaClientError, api.datasource.get_datasource_by_uid, "nope")
    assert err.status_code == 404
    assert err.response == {"message": "Data source not found"}


def test_create_datasource_conflicts_409(api: GrafanaApi):
    api.datasource.create_datasource(LOKI)
    same_name = _raises(GrafanaClientError, api.datasource.create_datasource, {**LOKI, "uid": "other"})
    assert same_name.status_code == 409
    assert same_name.response == {"message": "data source with the same name already exists"}
    same_uid = _raises(GrafanaClientError, api.datasource.create_datasource, {**LOKI, "name": "Other"})
    assert same_uid.status_code == 409
    assert same_uid.response == {"message": "data source with the same uid already exists"}


def test_create_datasource_bad_input_400(api: GrafanaApi):
    assert _raises(GrafanaBadInputError, api.datasource.create_datasource, {"type": "loki"}).response == {
        "message": "bad request data"
    }
    bad_url = {**LOKI, "url": "http://bad host"}
    assert _raises(GrafanaBadInputError, api.datasource.create_datasource, bad_url).response == {
        "message": "Validation error, invalid URL"
    }


def test_mysql_url_without_scheme_is_accepted(api: GrafanaApi):
    api.datasource.create_datasource({"name": "MySQL", "type": "mysql", "uid": "mysql", "url": "db:3306"})
    assert api.datasource.get_datasource_by_uid("mysql")["url"] == "db:3306"


def test_update_replaces_json_data_and_merges_secrets(api: GrafanaApi, grafana: GrafanaEmulator):
    api.datasource.create_datasource(
        {**LOKI, "secureJsonData": {"httpHeaderValue1": "a", "basicAuthPassword": "p"}}
    )
    body = {**LOKI, "jsonData": {"timeout": 30}, "secureJsonData": {"httpHeaderValue1": "b"}, "version": 1}
    resp = api.datasource.update_datasource_by_uid("loki", body)
    assert resp["message"] == "Datasource updated"
    ds = resp["datasource"]
    assert ds["jsonData"] == {"timeout": 30}  # replaced wholesale
    assert ds["version"] == 2
    assert ds["secureJsonFields"] == {"basicAuthPassword": True, "httpHeaderValue1": True}
    assert grafana.datasource_secrets("loki") == {"httpHeaderValue1": "b", "basicAuthPassword": "p"}


def test_update_with_stale_version_409_and_without_version_forced(api: GrafanaApi, grafana: GrafanaEmulator):
    api.datasource.create_datasource(LOKI)
    grafana.ui_edit_datasource("loki", lambda d: d["jsonData"].update(maxLines=5))  # now version 2
    err = _raises(GrafanaClientError, api.datasource.update_datasource_by_uid, "loki", {**LOKI, "version": 1})
    assert err.status_code == 409
    assert err.response == {
        "message": "Datasource has already been updated by someone else. Please reload and try again"
    }
    assert grafana.datasources["loki"]["jsonData"]["maxLines"] == 5
    ok = api.datasource.update_datasource_by_uid("loki", {**LOKI, "version": 2})
    assert ok["datasource"]["version"] == 3
    forced = api.datasource.update_datasource_by_uid("loki", LOKI)  # no version: forced, version = 0 + 1
    assert forced["datasource"]["version"] == 1


def test_update_unknown_datasource_404_and_name_clash_409(api: GrafanaApi):
    assert (
        _raises(GrafanaClientError, api.datasource.update_datasource_by_uid, "nope", LOKI).status_code == 404
    )
    api.datasource.create_datasource(LOKI)
    api.datasource.create_datasource({"name": "Tempo", "type": "tempo", "uid": "tempo"})
    err = _raises(
        GrafanaClientError,
        api.datasource.update_datasource_by_uid,
        "tempo",
        {"name": "Loki", "type": "tempo"},
    )
    assert err.status_code == 409
    assert err.response["message"].startswith("Failed to update datasource")


def test_read_only_datasource_cannot_be_updated_or_deleted(api: GrafanaApi, grafana: GrafanaEmulator):
    seeded = grafana.add_datasource(
        "Mimir", "prometheus", "mimir", url="http://mimir/prometheus", read_only=True
    )
    assert seeded["readOnly"] is True
    upd = _raises(
        GrafanaClientError,
        api.datasource.update_datasource_by_uid,
        "mimir",
        {"name": "Mimir", "type": "prometheus"},
    )
    assert (upd.status_code, upd.response) == (403, {"message": "Cannot update read-only data source"})
    dele = _raises(GrafanaClientError, api.datasource.delete_datasource_by_uid, "mimir")
    assert (dele.status_code, dele.response) == (403, {"message": "Cannot delete read-only data source"})
    assert "mimir" in grafana.datasources


def test_delete_datasource(api: GrafanaApi, grafana: GrafanaEmulator):
    created = api.datasource.create_datasource(LOKI)
    assert api.datasource.delete_datasource_by_uid("loki") == {
        "message": "Data source deleted",
        "id": created["id"],
    }
    assert grafana.datasources == {}
    assert _raises(GrafanaClientError, api.datasource.delete_datasource_by_uid, "loki").status_code == 404


# ============================================================================================ folders


def test_create_and_get_nested_folder(api: GrafanaApi, grafana: GrafanaEmulator):
    parent = api.folder.create_folder("Platform", uid="platform")
    assert (parent["uid"], parent["title"], parent["version"]) == ("platform", "Platform", 1)
    assert parent["url"] == "/dashboards/f/platform/platform"
    child = api.folder.create_folder("Team A", uid="team-a", parent_uid="platform")
    assert child["parentUid"] == "platform"
    assert [p["uid"] for p in child["parents"]] == ["platform"]
    assert api.folder.get_folder("team-a")["title"] == "Team A"
    assert grafana.folders["team-a"].parent_uid == "platform"


def test_list_folders_returns_immediate_children_only(api: GrafanaApi):
    api.folder.create_folder("B top", uid="b")
    api.folder.create_folder("A top", uid="a")
    api.folder.create_folder("Child", uid="c", parent_uid="a")
    api.folder.create_folder("Grandchild", uid="g", parent_uid="c")
    assert [f["uid"] for f in api.folder.get_all_folders()] == ["a", "b"]
    assert api.folder.get_all_folders(parent_uid="a") == [
        {"id": 3, "uid": "c", "title": "Child", "parentUid": "a"}
    ]


def test_get_unknown_folder_404(api: GrafanaApi):
    err = _raises(GrafanaClientError, api.folder.get_folder, "nope")
    assert (err.status_code, err.response) == (404, {"status": "not-found", "message": "folder not found"})


@pytest.mark.parametrize(
    ("title", "uid", "message"),
    [
        ("  ", "ok", "folder title cannot be empty"),
        ("T", "bad uid!", "uid contains illegal characters"),
        ("T", "x" * 41, "uid too long, max 40 characters"),
        ("T", "general", "invalid uid for folder provided"),
    ],
)
def test_create_folder_validation_400(api: GrafanaApi, title, uid, message):
    err = _raises(GrafanaBadInputError, api.folder.create_folder, title, uid=uid)
    assert err.response == {"message": message}


def test_create_folder_same_uid_409(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    err = _raises(GrafanaClientError, api.folder.create_folder, "Other", uid="team-a")
    assert (err.status_code, err.response) == (
        409,
        {"message": "a folder/dashboard with the same uid already exists"},
    )
    grafana.seed_dashboard(_dash(uid="dash-uid"))
    assert _raises(GrafanaClientError, api.folder.create_folder, "X", uid="dash-uid").status_code == 409


def test_create_folder_unknown_parent_404_and_depth_limit(api: GrafanaApi):
    assert _raises(GrafanaClientError, api.folder.create_folder, "X", parent_uid="nope").status_code == 404
    parent = None
    for depth in range(1, 5):  # default max depth 4
        api.folder.create_folder(f"L{depth}", uid=f"l{depth}", parent_uid=parent)
        parent = f"l{depth}"
    err = _raises(GrafanaBadInputError, api.folder.create_folder, "L5", uid="l5", parent_uid="l4")
    assert err.response["messageId"] == "folder.maximum-depth-reached"


def test_update_folder_version_rules(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    err = _raises(GrafanaClientError, api.folder.update_folder, "team-a", title="New", version=7)
    assert (err.status_code, err.response) == (
        412,
        {"status": "version-mismatch", "message": "the folder has been changed by someone else"},
    )
    assert _raises(GrafanaClientError, api.folder.update_folder, "team-a", title="New").status_code == 412
    assert api.folder.update_folder("team-a", title="New", version=1)["version"] == 2
    assert api.folder.update_folder("team-a", title="Newer", overwrite=True)["title"] == "Newer"
    assert grafana.folders["team-a"].version == 3


def test_delete_folder_deletes_dashboards_and_subfolders(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    api.folder.create_folder("Sub", uid="sub", parent_uid="team-a")
    grafana.seed_dashboard(_dash(uid="in-a"), folder_uid="team-a")
    grafana.seed_dashboard(_dash(uid="in-sub"), folder_uid="sub")
    grafana.seed_dashboard(_dash(uid="at-root"))
    resp = api.folder.delete_folder("team-a")
    assert resp["message"] == "Folder deleted"
    assert set(grafana.dashboards) == {"at-root"}
    assert grafana.folders == {}


def test_move_folder(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("A", uid="a")
    api.folder.create_folder("B", uid="b")
    api.folder.move_folder("b", "a")
    assert grafana.folders["b"].parent_uid == "a"
    assert _raises(GrafanaBadInputError, api.folder.move_folder, "a", "b")  # would be a cycle


# ============================================================================================ dashboards


def test_create_dashboard_response_and_stored_state(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    resp = api.dashboard.update_dashboard(
        {"dashboard": _dash(), "folderUid": "team-a", "message": "publish abc123", "overwrite": False}
    )
    stored = grafana.dashboards["svc-overview"]
    assert resp == {
        "status": "success",
        "slug": "svc-overview",
        "version": 1,
        "id": stored.id,
        "uid": "svc-overview",
        "url": "/d/svc-overview/svc-overview",
        "folderUid": "team-a",
    }
    assert (stored.version, stored.folder_uid) == (1, "team-a")
    assert stored.dashboard["panels"] == []
    assert stored.versions[-1]["message"] == "publish abc123"


def test_get_dashboard_meta_and_version_overwritten(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    api.dashboard.update_dashboard({"dashboard": _dash(version=99), "folderUid": "team-a"})
    got = api.dashboard.get_dashboard("svc-overview")
    dash, meta = got["dashboard"], got["meta"]
    assert dash["version"] == 1 == meta["version"]
    assert dash["id"] == grafana.dashboards["svc-overview"].id
    assert meta["folderUid"] == "team-a"
    assert meta["folderTitle"] == "Team A"
    assert meta["folderId"] == grafana.folders["team-a"].id
    assert meta["folderUrl"] == "/dashboards/f/team-a/team-a"
    assert meta["provisioned"] is False
    assert meta["updatedBy"] == meta["createdBy"] == "sa-publisher"
    assert {"created", "updated", "slug", "url", "canSave", "isFolder"} <= set(meta)


def test_dashboard_at_root_reports_general_folder(api: GrafanaApi):
    api.dashboard.update_dashboard({"dashboard": _dash()})
    meta = api.dashboard.get_dashboard("svc-overview")["meta"]
    assert (meta["folderUid"], meta["folderTitle"], meta["folderId"]) == ("", "General", 0)


def test_get_unknown_dashboard_404(api: GrafanaApi):
    err = _raises(GrafanaClientError, api.dashboard.get_dashboard, "nope")
    assert (err.status_code, err.response) == (404, {"message": "Dashboard not found"})


def test_resave_without_overwrite_is_412_and_with_overwrite_bumps_version(
    api: GrafanaApi, grafana: GrafanaEmulator
):
    api.dashboard.update_dashboard({"dashboard": _dash()})
    err = _raises(GrafanaClientError, api.dashboard.update_dashboard, {"dashboard": _dash()})
    assert (err.status_code, err.response) == (
        412,
        {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"},
    )
    assert api.dashboard.update_dashboard({"dashboard": _dash(), "overwrite": True})["version"] == 2
    assert api.dashboard.update_dashboard({"dashboard": _dash(version=2)})["version"] == 3
    assert grafana.dashboards["svc-overview"].version == 3


def test_ui_edit_makes_published_version_stale(api: GrafanaApi, grafana: GrafanaEmulator):
    api.dashboard.update_dashboard({"dashboard": _dash()})
    edited = grafana.ui_edit("svc-overview", lambda d: d.update(title="Edited in UI"))
    assert (edited.version, edited.updated_by, edited.title) == (2, "alice", "Edited in UI")
    meta = api.dashboard.get_dashboard("svc-overview")["meta"]
    assert (meta["version"], meta["updatedBy"]) == (2, "alice")
    err = _raises(GrafanaClientError, api.dashboard.update_dashboard, {"dashboard": _dash(version=1)})
    assert err.status_code == 412
    assert grafana.dashboards["svc-overview"].title == "Edited in UI"


def test_unknown_id_404_and_id_uid_conflict_400(api: GrafanaApi):
    err = _raises(GrafanaClientError, api.dashboard.update_dashboard, {"dashboard": {**_dash(), "id": 12345}})
    assert (err.status_code, err.response) == (404, {"status": "not-found", "message": "Dashboard not found"})
    first = api.dashboard.update_dashboard({"dashboard": _dash(uid="one")})
    api.dashboard.update_dashboard({"dashboard": _dash(uid="two")})
    conflict = {"dashboard": {**_dash(uid="two"), "id": first["id"]}, "overwrite": True}
    assert _raises(GrafanaBadInputError, api.dashboard.update_dashboard, conflict).response == {
        "message": "A dashboard with the same uid already exists"
    }


def test_update_by_id_may_change_uid(api: GrafanaApi, grafana: GrafanaEmulator):
    first = api.dashboard.update_dashboard({"dashboard": _dash(uid="old")})
    api.dashboard.update_dashboard({"dashboard": {**_dash(uid="new"), "id": first["id"], "version": 1}})
    assert set(grafana.dashboards) == {"new"}


def test_folder_not_found_is_400(api: GrafanaApi):
    err = _raises(
        GrafanaBadInputError, api.dashboard.update_dashboard, {"dashboard": _dash(), "folderUid": "nope"}
    )
    assert err.response == {"message": "folder not found"}


def test_update_without_folder_moves_dashboard_to_general(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    api.dashboard.update_dashboard({"dashboard": _dash(), "folderUid": "team-a"})
    resp = api.dashboard.update_dashboard({"dashboard": _dash(), "overwrite": True})
    assert resp["folderUid"] == ""
    assert grafana.dashboards["svc-overview"].folder_uid == ""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"dashboard": _dash(title="  ")},
            {"status": "empty-name", "message": "Dashboard title cannot be empty"},
        ),
        (
            {"dashboard": _dash(title="x" * 5001)},
            {"status": "title-too-long", "message": "Dashboard title cannot be longer than 5000 characters"},
        ),
        ({"dashboard": _dash(uid="bad uid")}, {"message": "uid contains illegal characters"}),
        ({"dashboard": _dash(uid="x" * 41)}, {"message": "uid too long, max 40 characters"}),
        ({"dashboard": _dash(), "message": "m" * 501}, {"message": "message too long, max 500 characters"}),
        ({"dashboard": _dash(), "isFolder": True}, {"message": "Use folders endpoint for saving folders."}),
        ({"dashboard": _dash(refresh="1s")}, {"message": "Dashboard refresh interval is too low"}),
    ],
)
def test_save_dashboard_validation_400(api: GrafanaApi, body, expected):
    assert _raises(GrafanaBadInputError, api.dashboard.update_dashboard, body).response == expected


def test_bad_json_body_400(grafana: GrafanaEmulator):
    r = requests.post(
        f"{grafana.url}/api/dashboards/db",
        data="{not json",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=5,
    )
    assert (r.status_code, r.json()) == (400, {"message": "bad request data"})


def test_server_trims_title_and_uid_and_generates_missing_uid(api: GrafanaApi, grafana: GrafanaEmulator):
    resp = api.dashboard.update_dashboard({"dashboard": _dash(uid="  spaced  ", title="  Padded  ")})
    assert resp["uid"] == "spaced"
    assert grafana.dashboards["spaced"].title == "Padded"
    generated = api.dashboard.update_dashboard({"dashboard": _dash(uid="")})
    assert generated["uid"] and generated["uid"] in grafana.dashboards


def test_provisioned_and_plugin_dashboards(api: GrafanaApi, grafana: GrafanaEmulator):
    grafana.seed_dashboard(_dash(uid="prov"), provisioned=True)
    assert api.dashboard.get_dashboard("prov")["meta"]["provisioned"] is True
    save = _raises(
        GrafanaBadInputError,
        api.dashboard.update_dashboard,
        {"dashboard": _dash(uid="prov"), "overwrite": True},
    )
    assert save.response == {"message": "Cannot save provisioned dashboard"}
    delete = _raises(GrafanaBadInputError, api.dashboard.delete_dashboard, "prov")
    assert delete.response == {"message": "provisioned dashboard cannot be deleted"}
    grafana.seed_dashboard(_dash(uid="plug"), plugin_id="kubernetes-app")
    err = _raises(
        GrafanaClientError, api.dashboard.update_dashboard, {"dashboard": _dash(uid="plug", version=1)}
    )
    assert (err.status_code, err.response["status"]) == (412, "plugin-dashboard")
    assert api.dashboard.update_dashboard({"dashboard": _dash(uid="plug"), "overwrite": True})["version"] == 2


def test_delete_dashboard(api: GrafanaApi, grafana: GrafanaEmulator):
    api.dashboard.update_dashboard({"dashboard": _dash()})
    resp = api.dashboard.delete_dashboard("svc-overview")
    assert resp == {
        "title": "Svc overview",
        "message": "Dashboard Svc overview deleted",
        "uid": "svc-overview",
    }
    assert grafana.dashboards == {}
    assert _raises(GrafanaClientError, api.dashboard.delete_dashboard, "svc-overview").status_code == 404


def test_dashboard_versions_newest_first_with_messages(api: GrafanaApi, grafana: GrafanaEmulator):
    api.dashboard.update_dashboard({"dashboard": _dash(), "message": "first"})
    api.dashboard.update_dashboard({"dashboard": _dash(), "message": "second", "overwrite": True})
    grafana.ui_edit("svc-overview", lambda d: None, message="ui")
    listed = api.dashboard_versions.get_dashboard_versions_by_uid("svc-overview")
    assert listed["continueToken"] == ""
    rows = listed["versions"]
    # The list rewrites the message of a version without parent (Grafana's GetDashboardVersions).
    assert [(r["version"], r["parentVersion"], r["message"]) for r in rows] == [
        (3, 2, "ui"),
        (2, 1, "second"),
        (1, 0, "Initial save"),
    ]
    assert rows[0]["createdBy"] == "alice"
    one = api.dashboard_versions.get_dashboard_version_by_uid("svc-overview", 2)
    assert one["data"]["version"] == 2
    first = api.dashboard_versions.get_dashboard_version_by_uid("svc-overview", 1)
    assert first["message"] == "first"  # a single version is returned as saved


# ============================================================================================ search


@pytest.fixture
def populated(grafana: GrafanaEmulator) -> GrafanaEmulator:
    grafana.seed_folder("team-a", "Team A")
    grafana.seed_folder("team-b", "Team B", parent_uid="team-a")
    grafana.seed_dashboard(
        _dash(uid="logs", title="Backend logs", tags=["logs", "backend"]), folder_uid="team-a"
    )
    grafana.seed_dashboard(_dash(uid="pods", title="Pod monitoring", tags=["k8s"]), folder_uid="team-b")
    grafana.seed_dashboard(_dash(uid="events", title="Event monitoring", tags=["backend"]))
    return grafana


def test_search_all_types_folders_first(api: GrafanaApi, populated: GrafanaEmulator):
    hits = api.search.search_dashboards()
    assert [(h["type"], h["uid"]) for h in hits] == [
        ("dash-folder", "team-a"),
        ("dash-folder", "team-b"),
        ("dash-db", "logs"),
        ("dash-db", "events"),
        ("dash-db", "pods"),
    ]
    logs = hits[2]
    assert (logs["folderUid"], logs["folderTitle"], logs["url"]) == (
        "team-a",
        "Team A",
        "/d/logs/backend-logs",
    )
    assert "folderUid" not in hits[3]  # root items have no folder fields


def test_search_filters(api: GrafanaApi, populated: GrafanaEmulator):
    def uids(**kw):
        return [h["uid"] for h in api.search.search_dashboards(**kw)]

    assert uids(query="MONITORING") == ["events", "pods"]
    assert uids(tag="backend") == ["logs", "events"]
    assert uids(tag=["backend", "logs"]) == ["logs"]  # repeated tags must all match
    assert uids(type_="dash-folder") == ["team-a", "team-b"]
    assert uids(type_="dash-db", folder_uids="team-a") == ["logs"]
    assert uids(type_="dash-db", folder_uids=["team-a", "team-b"]) == ["logs", "pods"]
    assert uids(dashboard_uids=["pods", "events"]) == ["events", "pods"]
    assert uids(type_="dash-db", limit=2, page=1) == ["logs", "events"]
    assert uids(type_="dash-db", limit=2, page=2) == ["pods"]


def test_search_limit_default_1000_max_5000(api: GrafanaApi, grafana: GrafanaEmulator):
    for i in range(5001):
        grafana.seed_dashboard({"uid": f"d{i:05d}", "title": f"D {i:05d}"})
    assert len(api.search.search_dashboards(type_="dash-db")) == 1000
    assert len(api.search.search_dashboards(type_="dash-db", limit=5000)) == 5000
    assert [h["uid"] for h in api.search.search_dashboards(type_="dash-db", limit=5000, page=2)] == ["d05000"]
    too_many = _raises(GrafanaClientError, api.search.search_dashboards, limit=5001)
    assert too_many.status_code == 422


# ============================================================================================ faults + request log


def test_request_log_and_write_count(api: GrafanaApi, grafana: GrafanaEmulator):
    api.folder.create_folder("Team A", uid="team-a")
    api.dashboard.update_dashboard({"dashboard": _dash(), "folderUid": "team-a"})
    api.dashboard.get_dashboard("svc-overview")
    api.search.search_dashboards(query="svc")
    assert grafana.requests == [
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
        ("GET", "/api/dashboards/uid/svc-overview"),
        ("GET", "/api/search"),
    ]
    assert grafana.request_log[-1].query == {"query": ["svc"]}
    assert grafana.request_log[1].json()["folderUid"] == "team-a"
    assert grafana.request_log[1].status == 200
    assert grafana.write_count() == 2
    grafana.clear_log()
    assert grafana.requests == [] and grafana.write_count() == 0


def test_latency_is_added_to_every_request(api: GrafanaApi, grafana: GrafanaEmulator):
    grafana.faults.latency = 0.05
    started = time.monotonic()
    api.search.search_dashboards()
    assert time.monotonic() - started >= 0.05


def test_n_failures_then_success(api: GrafanaApi, grafana: GrafanaEmulator):
    grafana.faults.fail("POST", r"^/api/dashboards/db$", 503, times=2)
    for _ in range(2):
        err = _raises(GrafanaServerError, api.dashboard.update_dashboard, {"dashboard": _dash()})
        assert err.status_code == 503
    assert api.dashboard.update_dashboard({"dashboard": _dash()})["version"] == 1
    assert grafana.requests.count(("POST", "/api/dashboards/db")) == 3
    assert grafana.write_count() == 1  # the failed attempts never reached the handler
    assert [r.fault for r in grafana.request_log] == ["fail", "fail", None]


def test_fault_matches_method_and_path_only(api: GrafanaApi, grafana: GrafanaEmulator):
    grafana.faults.fail("GET", "/api/search", 500)
    api.dashboard.update_dashboard({"dashboard": _dash()})  # POST not affected
    assert _raises(GrafanaServerError, api.search.search_dashboards).status_code == 500
    assert api.search.search_dashboards()  # consumed
    assert grafana.faults.pending == []


def test_429_carries_retry_after_zero(grafana: GrafanaEmulator):
    grafana.faults.fail("*", ".*", 429)
    r = requests.get(f"{grafana.url}/api/search", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "0"
    assert requests.get(
        f"{grafana.url}/api/search", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).ok


def test_connection_reset_is_a_connection_error(grafana: GrafanaEmulator):
    grafana.faults.reset_connection("POST", "/api/folders", times=1)
    url = f"{grafana.url}/api/folders"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json={"title": "T", "uid": "t"}, headers=headers, timeout=5)
    assert grafana.folders == {}
    assert requests.post(url, json={"title": "T", "uid": "t"}, headers=headers, timeout=5).status_code == 200
    assert grafana.request_log[0].fault == "reset" and grafana.request_log[0].status is None


def test_clear_faults(api: GrafanaApi, grafana: GrafanaEmulator):
    grafana.faults.latency = 1.0
    grafana.faults.fail(None, ".*", 502, times=None)
    grafana.faults.clear()
    assert grafana.faults.latency == 0
    assert api.search.search_dashboards() == []


def test_concurrent_saves_are_serialised(grafana: GrafanaEmulator):
    grafana.faults.latency = 0.01
    errors: list[Exception] = []

    def publish(i: int) -> None:
        try:
            api = GrafanaApi.from_url(grafana.url, credential=TOKEN)
            api.dashboard.update_dashboard({"dashboard": _dash(uid=f"d{i}"), "overwrite": True})
            api.dashboard.update_dashboard({"dashboard": _dash(uid="shared"), "overwrite": True})
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(grafana.dashboards) == 13
    assert grafana.dashboards["shared"].version == 12
    assert len({d.id for d in grafana.dashboards.values()}) == 13
    assert grafana.write_count() == 24
