"""docs/server-contract.md, row by row, against the emulators.

Each row of the contract (what Grafana, Mimir or Loki answers, cited to their source) has one check here,
registered under the row's id and run once per Grafana release the row names. A row without a check, or a
check without a row, fails `test_every_row_has_a_check`: the emulators implement exactly the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, quote

import pytest
import requests
import yaml

from lgtm_dash import gotemplate
from lgtm_dash.testing import GrafanaEmulator, LokiEmulator, MimirEmulator
from lgtm_dash.testing import mimir_emulator as mimir_module
from lgtm_dash.testing.faults import HTTPEmulator, Request, Response
from lgtm_dash.testing.query_proxies import GrafanaDatasourceProxy, MimirQueryProxy
from tests.helpers import REPO

CONTRACT = REPO / "docs" / "server-contract.md"
ROW = re.compile(r"^\| `(?P<id>[A-Z0-9-]+)` \|")
TOKEN = "glsa_contract-token"
TENANT = {"X-Scope-OrgID": "tenant-1"}
RULES = "/prometheus/config/v1/rules"


def contract_rows() -> dict[str, tuple[str, ...]]:
    """Row id -> the Grafana releases it holds for (`("mimir",)` for Mimir rows, `("loki",)` for Loki's,
    `("grafana",)` for Grafana rows read without a release: the datasource proxy)."""
    rows: dict[str, tuple[str, ...]] = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if not found:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 6, f"row {found['id']} needs 6 cells: {line}"
        assert cells[4], f"row {found['id']} cites no source"
        where = cells[3]
        if where in ("Mimir", "Loki", "Grafana"):  # one server, no release named: the check runs once
            rows[found["id"]] = (where.lower(),)
        else:
            rows[found["id"]] = tuple(v.strip() for v in where.split(","))
    return rows


ROWS = contract_rows()
CHECKS: dict[str, Callable[[str], None]] = {}


def check(row_id: str) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
    def register(function: Callable[[str], None]) -> Callable[[str], None]:
        assert row_id not in CHECKS, f"two checks for {row_id}"
        CHECKS[row_id] = function
        return function

    return register


def test_every_row_has_a_check() -> None:
    assert ROWS, "no rows found in docs/server-contract.md"
    assert set(ROWS) - set(CHECKS) == set(), "rows without a check"
    assert set(CHECKS) - set(ROWS) == set(), "checks without a row"


@pytest.mark.parametrize(
    ("row_id", "version"),
    [(row_id, version) for row_id, versions in ROWS.items() for version in versions],
    ids=[f"{row_id}-{version}" for row_id, versions in ROWS.items() for version in versions],
)
def test_row(row_id: str, version: str) -> None:
    CHECKS[row_id](version)


# --- helpers ----------------------------------------------------------------------------------------------


@contextmanager
def grafana(version: str, **options: object) -> Iterator[GrafanaEmulator]:
    with GrafanaEmulator(tokens={TOKEN}, version=version, **options) as emulator:
        yield emulator


def call(
    g: GrafanaEmulator, method: str, path: str, *, auth: bool = True, **kwargs: object
) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"} if auth else {}
    return requests.request(method, g.url + path, headers=headers, timeout=5, **kwargs)


def save(g: GrafanaEmulator, dashboard: dict, **body: object) -> requests.Response:
    return call(g, "POST", "/api/dashboards/db", json={"dashboard": dashboard, **body})


def dashboard(uid: str = "svc", **extra: object) -> dict:
    return {"uid": uid, "title": "Svc", "tags": ["lgtm-dash"], "panels": [{"id": 1, "type": "stat"}], **extra}


LOKI = {
    "name": "Loki",
    "type": "loki",
    "uid": "loki",
    "access": "proxy",
    "url": "http://loki:3100",
    "jsonData": {"maxLines": 1000},
    "secureJsonData": {"httpHeaderValue1": "tenant-a"},
}


@contextmanager
def mimir(**options: object) -> Iterator[MimirEmulator]:
    with MimirEmulator(**options) as emulator:
        yield emulator


def post_group(m: MimirEmulator, namespace: str, body: str) -> requests.Response:
    return requests.post(f"{m.url}{RULES}/{quote(namespace, safe='')}", data=body, headers=TENANT, timeout=5)


def post_alertmanager(
    m: MimirEmulator, config: str, templates: dict[str, str] | None = None
) -> requests.Response:
    body = yaml.safe_dump({"template_files": templates or {}, "alertmanager_config": config})
    return requests.post(f"{m.url}/api/v1/alerts", data=body, headers=TENANT, timeout=5)


ONE_RULE = "rules:\n  - record: a:b\n    expr: up\n"
AM_CONFIG = "route:\n  receiver: r\nreceivers:\n  - name: r\ntemplates: [t.tmpl]\n"


# --- Grafana ----------------------------------------------------------------------------------------------


@check("G-AUTH")
def _(version: str) -> None:
    with grafana(version) as g:
        assert call(g, "GET", "/api/folders", auth=False).status_code == 401
        wrong = requests.get(f"{g.url}/api/folders", headers={"Authorization": "Bearer wrong"}, timeout=5)
        assert wrong.status_code == 401
        assert call(g, "GET", "/api/health", auth=False).status_code == 200


@check("G-DS-GET")
def _(version: str) -> None:
    with grafana(version) as g:
        assert call(g, "POST", "/api/datasources", json=LOKI).status_code == 200
        dto = call(g, "GET", "/api/datasources/uid/loki").json()
        assert set(dto) == {
            "id", "uid", "orgId", "name", "type", "typeLogoUrl", "access", "url", "user", "database",
            "basicAuth", "basicAuthUser", "withCredentials", "isDefault", "jsonData", "secureJsonFields",
            "version", "readOnly", "apiVersion",
        }  # fmt: skip
        assert dto["apiVersion"] == "" and dto["typeLogoUrl"]
        assert dto["secureJsonFields"] == {"httpHeaderValue1": True} and "tenant-a" not in str(dto)
        missing = call(g, "GET", "/api/datasources/uid/nope")
        assert (missing.status_code, missing.json()["message"]) == (404, "Data source not found")


@check("G-DS-LIST")
def _(version: str) -> None:
    with grafana(version) as g:
        call(g, "POST", "/api/datasources", json=LOKI)
        call(g, "POST", "/api/datasources", json={"name": "alpha", "type": "prometheus", "uid": "a"})
        items = call(g, "GET", "/api/datasources").json()
        assert [i["name"] for i in items] == ["alpha", "Loki"]  # by lower-cased name
        item = items[1]
        assert item["typeName"] and item["jsonData"] == {"maxLines": 1000}
        for absent in ("secureJsonFields", "version", "basicAuthUser", "withCredentials", "apiVersion"):
            assert absent not in item


@check("G-DS-UPDATE")
def _(version: str) -> None:
    with grafana(version) as g:
        call(g, "POST", "/api/datasources", json=LOKI)
        body = {k: v for k, v in LOKI.items() if k != "secureJsonData"}
        assert call(g, "PUT", "/api/datasources/uid/loki", json={**body, "version": 1}).status_code == 200
        assert g.datasource_secrets("loki") == {"httpHeaderValue1": "tenant-a"}  # kept
        stale = call(g, "PUT", "/api/datasources/uid/loki", json={**body, "version": 1})
        assert stale.status_code == 409
        assert stale.json()["message"] == (
            "Datasource has already been updated by someone else. Please reload and try again"
        )


@check("G-DS-READONLY")
def _(version: str) -> None:
    with grafana(version) as g:
        g.add_datasource("Tempo", "tempo", "tempo", url="http://tempo", read_only=True)
        put = call(g, "PUT", "/api/datasources/uid/tempo", json={"name": "Tempo", "type": "tempo"})
        assert (put.status_code, put.json()["message"]) == (403, "Cannot update read-only data source")
        delete = call(g, "DELETE", "/api/datasources/uid/tempo")
        assert (delete.status_code, delete.json()["message"]) == (403, "Cannot delete read-only data source")


@check("G-DS-QUOTA")
def _(version: str) -> None:
    with grafana(version, datasource_quota=0) as g:
        answer = call(g, "POST", "/api/datasources", json=LOKI)
        assert (answer.status_code, answer.json()["message"]) == (403, "data_source Quota reached")


@check("G-FOLDER-GET")
def _(version: str) -> None:
    with grafana(version) as g:
        call(g, "POST", "/api/folders", json={"uid": "top", "title": "Top"})
        created = call(
            g, "POST", "/api/folders", json={"uid": "a", "title": "A", "parentUid": "top", "description": "x"}
        )
        assert created.status_code == 200 and "description" not in created.json()
        dto = call(g, "GET", "/api/folders/a").json()
        assert set(dto) >= {"id", "uid", "title", "url", "hasAcl", "canSave", "canEdit", "canAdmin",
                            "canDelete", "createdBy", "created", "updatedBy", "updated", "version",
                            "parentUid", "parents"}  # fmt: skip
        assert "description" not in dto and g.folders["a"].description == "x"  # stored, never returned
        missing = call(g, "GET", "/api/folders/nope")
        assert (missing.status_code, missing.json()["status"]) == (404, "not-found")


@check("G-FOLDER-LIST")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("top", "Top")
        g.seed_folder("child", "Child", parent_uid="top")
        assert [f["uid"] for f in call(g, "GET", "/api/folders").json()] == ["top"]
        (child,) = call(g, "GET", "/api/folders", params={"parentUid": "top"}).json()
        assert child == {"id": child["id"], "uid": "child", "title": "Child", "parentUid": "top"}


@check("G-FOLDER-CONFLICT")
def _(version: str) -> None:
    with grafana(version) as g:
        call(g, "POST", "/api/folders", json={"uid": "a", "title": "A"})
        call(g, "PUT", "/api/folders/a", json={"title": "A2", "version": 1})
        stale = call(g, "PUT", "/api/folders/a", json={"title": "A3", "version": 1})
        assert (stale.status_code, stale.json()["status"]) == (412, "version-mismatch")
        assert call(g, "POST", "/api/folders", json={"uid": "a", "title": "Again"}).status_code == 409


@check("G-FOLDER-DELETE-LIBRARY")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("lib", "Library")
        g.connect_library_panel("lib")
        refused = call(g, "DELETE", "/api/folders/lib")
        assert refused.status_code == 403
        assert refused.json()["message"] == (
            "Folder could not be deleted because it contains library elements in use"
        )
        assert "lib" in g.folders


@check("G-USER")
def _(version: str) -> None:
    with GrafanaEmulator(tokens={TOKEN: "sa-1-publisher"}, version=version) as g:
        me = call(g, "GET", "/api/user")
        assert me.status_code == 200 and me.json()["login"] == "sa-1-publisher"
        basic = requests.get(g.url + "/api/user", auth=("admin", "admin"), timeout=5)
        assert basic.json()["login"] == "admin"
        assert call(g, "GET", "/api/user", auth=False).status_code == 401


@check("G-FOLDER-UPDATED-BY")
def _(version: str) -> None:
    with GrafanaEmulator(tokens={TOKEN: "sa-1-publisher"}, version=version) as g:
        g.seed_folder("top", "Top", user="alice")
        g.seed_folder("a", "A", user="alice")
        assert call(g, "GET", "/api/folders/a").json()["updatedBy"] == "alice"
        call(g, "POST", "/api/folders/a/move", json={"parentUid": "top"})
        assert call(g, "GET", "/api/folders/a").json()["updatedBy"] == "sa-1-publisher"
        g.ui_edit_folder("a", title="Renamed", user="bob")
        assert call(g, "GET", "/api/folders/a").json()["updatedBy"] == "bob"
        call(g, "PUT", "/api/folders/a", json={"title": "A", "overwrite": True})
        created = call(g, "POST", "/api/folders", json={"uid": "b", "title": "B"}).json()
        assert (
            call(g, "GET", "/api/folders/a").json()["updatedBy"] == created["updatedBy"] == "sa-1-publisher"
        )


@check("G-FOLDER-COUNTS")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("top", "Top")
        g.seed_folder("child", "Child", parent_uid="top")
        g.seed_folder("grandchild", "Grandchild", parent_uid="child")
        g.seed_dashboard({"uid": "d1", "title": "D1"}, "top")
        g.seed_dashboard({"uid": "d2", "title": "D2"}, "grandchild")
        g.seed_library_panel("child")
        g.seed_alert_rule("grandchild")
        counts = call(g, "GET", "/api/folders/top/counts")
        assert counts.status_code == 200
        assert counts.json() == {"folder": 2, "dashboard": 2, "librarypanel": 1, "alertrule": 1}
        g.seed_folder("empty", "Empty")
        assert set(call(g, "GET", "/api/folders/empty/counts").json().values()) == {0}
        assert call(g, "GET", "/api/folders/nope/counts").status_code == 404


@check("G-FOLDER-DELETE")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("top", "Top")
        g.seed_folder("child", "Child", parent_uid="top")
        g.seed_dashboard({"uid": "d1", "title": "D1"}, "top")
        g.seed_dashboard({"uid": "d2", "title": "D2"}, "child")
        g.seed_library_panel("top")
        g.seed_dashboard({"uid": "elsewhere", "title": "Elsewhere"})
        deleted = call(g, "DELETE", "/api/folders/top")
        assert deleted.status_code == 200 and deleted.json()["message"] == "Folder deleted"
        # Everything inside went with it, at every depth.
        assert set(g.folders) == set() and set(g.dashboards) == {"elsewhere"}
        g.seed_folder("rules", "Rules")
        g.seed_folder("below", "Below", parent_uid="rules")
        g.seed_alert_rule("below")
        refused = call(g, "DELETE", "/api/folders/rules")
        assert 400 <= refused.status_code < 500 and "alert rules" in refused.json()["message"]
        assert {"rules", "below"} <= set(g.folders)
        forced = call(g, "DELETE", "/api/folders/rules", params={"forceDeleteRules": "true"})
        assert forced.status_code == 200 and not g.folders


@check("G-DASH-GET")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("team", "Team")
        sent = dashboard(lgtmDashPublished={"digest": "abc", "folders": ["team"]})
        save(g, sent, folderUid="team", message="m")
        got = call(g, "GET", "/api/dashboards/uid/svc").json()
        assert {k: v for k, v in got["dashboard"].items() if k not in ("id", "version")} == sent
        assert got["dashboard"]["version"] == got["meta"]["version"] == 1
        meta = got["meta"]
        assert (meta["folderUid"], meta["folderTitle"], meta["updatedBy"]) == ("team", "Team", "sa-publisher")
        save(g, dashboard("root"))
        assert call(g, "GET", "/api/dashboards/uid/root").json()["meta"]["folderTitle"] == "General"
        missing = call(g, "GET", "/api/dashboards/uid/nope")
        assert (missing.status_code, missing.json()["message"]) == (404, "Dashboard not found")


@check("G-DASH-GET-V2")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_dashboard(dashboard(), api_version="v2beta1")
        refused = call(g, "GET", "/api/dashboards/uid/svc")
        assert refused.status_code == 406
        assert refused.json()["message"] == (
            "dashboard api version not supported, use "
            "/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/svc instead"
        )


@check("G-DASH-SAVE")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("team", "Team")
        sent = dashboard(custom={"kept": ["as", "sent"]})
        answer = save(g, sent, folderUid="team")
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) == {"status", "slug", "version", "id", "uid", "url", "folderUid"}
        assert (body["status"], body["version"], body["uid"], body["folderUid"]) == (
            "success",
            1,
            "svc",
            "team",
        )
        stored = g.dashboards["svc"].dashboard
        assert {k: v for k, v in stored.items() if k not in ("id", "version")} == sent


@check("G-DASH-SAVE-CONFLICT")
def _(version: str) -> None:
    with grafana(version) as g:
        save(g, dashboard())
        stale = save(g, {**dashboard(), "version": 0, "title": "Stale"})
        missing_version = save(g, {**dashboard(), "title": "No version"})
        for answer in (stale, missing_version):
            if version == "13":
                assert answer.status_code == 409
                assert answer.json()["message"] == "Dashboard already exists. Use overwrite flag to update."
            else:
                assert answer.status_code == 412
                assert answer.json() == {
                    "status": "version-mismatch",
                    "message": "The dashboard has been changed by someone else",
                }
        assert save(g, {**dashboard(), "version": 1, "title": "Current"}).json()["version"] == 2
        assert save(g, {**dashboard(), "title": "Forced"}, overwrite=True).status_code == 200


@check("G-DASH-SAVE-QUOTA")
def _(version: str) -> None:
    with grafana(version, dashboard_quota=0) as g:
        refused = save(g, dashboard())
        assert (refused.status_code, refused.json()["message"]) == (403, "Quota reached")


@check("G-DASH-VERSIONS")
def _(version: str) -> None:
    with grafana(version) as g:
        save(g, dashboard(), message="lgtm-dash publish abc123")
        save(g, {**dashboard(title="Second"), "version": 1}, message="lgtm-dash publish def456")
        listed = call(g, "GET", "/api/dashboards/uid/svc/versions", params={"limit": 10}).json()
        if version == "11":
            assert isinstance(listed, list)
            rows = listed
        else:
            assert set(listed) == {"continueToken", "versions"}
            rows = listed["versions"]
        assert [(r["version"], r["message"]) for r in rows] == [
            (2, "lgtm-dash publish def456"),
            (1, "Initial save"),  # whatever the first save said
        ]
        first = call(g, "GET", "/api/dashboards/uid/svc/versions/1").json()
        assert first["message"] == "lgtm-dash publish abc123"


@check("G-DASH-VERSIONS-PARENT")
def _(version: str) -> None:
    with grafana(version) as g:
        save(g, dashboard())
        for n in range(1, 4):
            save(g, {**dashboard(title=f"T{n}"), "version": n})
        rows = call(g, "GET", "/api/dashboards/uid/svc/versions").json()["versions"]
        assert [(r["version"], r["parentVersion"]) for r in rows] == [(4, 3), (3, 2), (2, 1), (1, 0)]


@check("G-DASH-DELETE")
def _(version: str) -> None:
    with grafana(version) as g:
        save(g, dashboard())
        deleted = call(g, "DELETE", "/api/dashboards/uid/svc")
        assert deleted.json() == {"title": "Svc", "message": "Dashboard Svc deleted", "uid": "svc"}
        assert call(g, "DELETE", "/api/dashboards/uid/svc").status_code == 404


@check("G-SEARCH")
def _(version: str) -> None:
    with grafana(version) as g:
        g.seed_folder("team", "Team")
        save(g, dashboard("a"), folderUid="team")
        save(g, dashboard("b", tags=["other"]))
        tagged = call(g, "GET", "/api/search", params={"type": "dash-db", "tag": "lgtm-dash"}).json()
        assert [h["uid"] for h in tagged] == ["a"]
        inside = call(g, "GET", "/api/search", params={"type": "dash-db", "folderUIDs": "team"}).json()
        assert [h["uid"] for h in inside] == ["a"] and inside[0]["folderUid"] == "team"
        assert call(g, "GET", "/api/search", params={"limit": 5001}).status_code == 422


# --- Mimir ------------------------------------------------------------------------------------------------


@check("M-RULES-LIST")
def _(version: str) -> None:
    with mimir() as m:
        empty = requests.get(f"{m.url}{RULES}", headers=TENANT, timeout=5)
        assert empty.status_code == 200 and yaml.safe_load(empty.text) == {}
        post_group(m, "ns", f"name: g\n{ONE_RULE}")
        listed = yaml.safe_load(requests.get(f"{m.url}{RULES}", headers=TENANT, timeout=5).text)
        assert listed == {"ns": [{"name": "g", "rules": [{"record": "a:b", "expr": "up"}]}]}


@check("M-RULES-ROUNDTRIP")
def _(version: str) -> None:
    with mimir() as m:
        body = (
            "name: g\ninterval: 60s\nlimit: 5\nlabels: {team: a}\nunknown: 1\nrules:\n"
            "  - alert: A\n    expr: up == 0\n    for: 300s\n    keep_firing_for: 90s\n"
            "    labels: {severity: page}\n    annotations: {summary: down}\n"
        )
        assert post_group(m, "ns", body).status_code == 202
        got = yaml.safe_load(requests.get(f"{m.url}{RULES}/ns/g", headers=TENANT, timeout=5).text)
        assert got == {
            "name": "g",
            "interval": "1m",
            "rules": [
                {
                    "alert": "A",
                    "expr": "up == 0",
                    "for": "5m",
                    "keep_firing_for": "1m30s",
                    "labels": {"severity": "page"},
                    "annotations": {"summary": "down"},
                }
            ],
        }


@check("M-RULES-EXPR-VERBATIM")
def _(version: str) -> None:
    with mimir() as m:
        expr = "sum(rate(x_total[5m])) > 1\n# lgtm-dash-published owner=0123456789ab digest=" + "0" * 24
        body = yaml.safe_dump({"name": "g", "rules": [{"alert": "A", "expr": expr}]})
        assert post_group(m, "ns", body).status_code == 202
        got = yaml.safe_load(requests.get(f"{m.url}{RULES}/ns/g", headers=TENANT, timeout=5).text)
        assert got["rules"][0]["expr"] == expr


@check("M-RULES-POST")
def _(version: str) -> None:
    with mimir() as m:
        assert post_group(m, "ns", f"name: g\n{ONE_RULE}").status_code == 202
        assert post_group(m, "ns", "name: [unclosed").status_code == 400
        bad = post_group(m, "ns", "name: g\nrules:\n  - record: 'not a name'\n    expr: up\n")
        assert bad.status_code == 400 and bad.text.startswith('group "g", rule 0, "not a name": ')


@check("M-RULES-LIMIT")
def _(version: str) -> None:
    assert MimirEmulator().max_rule_groups_per_tenant == 70
    with mimir(max_rule_groups_per_tenant=2) as m:
        assert post_group(m, "ns", f"name: a\n{ONE_RULE}").status_code == 202
        assert post_group(m, "other", f"name: b\n{ONE_RULE}").status_code == 202
        update = post_group(m, "ns", f"name: a\n{ONE_RULE}")  # replacing counts too
        assert (update.status_code, update.text) == (
            400,
            "per-user rule groups limit (limit: 2 actual: 3) exceeded\n",
        )
        requests.delete(f"{m.url}{RULES}/other/b", headers=TENANT, timeout=5)
        assert post_group(m, "ns", f"name: a\n{ONE_RULE}").status_code == 202


@check("M-RULES-RULES-LIMIT")
def _(version: str) -> None:
    assert MimirEmulator().max_rules_per_group == 20
    with mimir() as m:
        rules = "".join(f"  - record: r:{i}\n    expr: up\n" for i in range(21))
        refused = post_group(m, "ns", f"name: g\nrules:\n{rules}")
        assert (refused.status_code, refused.text) == (
            400,
            "per-user rules per rule group limit (limit: 20 actual: 21) exceeded\n",
        )


@check("M-RULES-PROTECTED")
def _(version: str) -> None:
    with mimir() as m:
        m.seed_rule_group("tenant-1", "locked", {"name": "g", "rules": [{"record": "a:b", "expr": "up"}]})
        m.protect_namespace(None, "locked")
        for answer in (
            post_group(m, "locked", f"name: h\n{ONE_RULE}"),
            requests.delete(f"{m.url}{RULES}/locked/g", headers=TENANT, timeout=5),
        ):
            assert (answer.status_code, answer.text) == (
                403,
                "namespace is protected, no modification allowed\n",
            )
        assert post_group(m, "open", f"name: h\n{ONE_RULE}").status_code == 202


@check("M-RULES-DELETE")
def _(version: str) -> None:
    with mimir() as m:
        post_group(m, "ns", f"name: g\n{ONE_RULE}")
        assert requests.delete(f"{m.url}{RULES}/ns/g", headers=TENANT, timeout=5).status_code == 202
        assert requests.delete(f"{m.url}{RULES}/ns/g", headers=TENANT, timeout=5).status_code == 404


@check("M-RULE-TEMPLATE")
def _(version: str) -> None:
    assert mimir_module.PROMETHEUS_TEMPLATE_FUNCTIONS == gotemplate.PROMETHEUS_FUNCTIONS
    with mimir() as m:

        def alert(annotation: str) -> requests.Response:
            rule = {"alert": "A", "expr": "up == 0", "annotations": {"summary": annotation}}
            return post_group(m, "ns", yaml.safe_dump({"name": "g", "rules": [rule]}))

        ok = "{{ $value | humanizePercentage }} on {{ $labels.job | toUpper }} at {{ $externalURL }}"
        assert alert(ok).status_code == 202
        refused = alert("{{ $value | humanise }}")
        assert refused.status_code == 400
        assert 'annotation "summary": template: __alert_A:1: function "humanise" not defined' in refused.text


@check("M-AM-GET")
def _(version: str) -> None:
    with mimir() as m:
        assert requests.get(f"{m.url}/api/v1/alerts", headers=TENANT, timeout=5).status_code == 404
        post_alertmanager(m, AM_CONFIG, {"t.tmpl": '{{ define "x" }}y{{ end }}'})
        got = requests.get(f"{m.url}/api/v1/alerts", headers=TENANT, timeout=5)
        assert got.status_code == 200
        assert yaml.safe_load(got.text) == {
            "template_files": {"t.tmpl": '{{ define "x" }}y{{ end }}'},
            "alertmanager_config": AM_CONFIG,
        }


@check("M-AM-POST")
def _(version: str) -> None:
    with mimir() as m:
        assert post_alertmanager(m, AM_CONFIG, {"t.tmpl": "x"}).status_code == 201
        empty = post_alertmanager(m, "")
        assert empty.status_code == 400 and "configuration provided is empty" in empty.text
        secret_file = "route: {receiver: r}\nreceivers:\n- name: r\n  slack_configs:\n  - api_url_file: /s\n    channel: '#a'\n"
        refused = post_alertmanager(m, secret_file)
        assert refused.status_code == 400 and "api_url_file" in refused.text


@check("M-AM-TEMPLATE")
def _(version: str) -> None:
    assert mimir_module.ALERTMANAGER_TEMPLATE_FUNCTIONS == gotemplate.ALERTMANAGER_FUNCTIONS
    with mimir() as m:
        known = '{{ define "t" }}{{ .CommonLabels.alertname | toUpper }} {{ .Alerts | len }} {{ since .StartsAt }}{{ end }}'
        assert post_alertmanager(m, AM_CONFIG, {"t.tmpl": known}).status_code == 201
        refused = post_alertmanager(m, AM_CONFIG, {"t.tmpl": '{{ define "t" }}{{ humanize 1 }}{{ end }}'})
        assert refused.status_code == 400 and 'function "humanize" not defined' in refused.text


# --- Loki's ruler API ----------------------------------------------------------------------------------------

LOKI_RULES = "/loki/api/v1/rules"
LOKI_RULE = 'rules:\n  - record: app:lines:rate5m\n    expr: sum by (app) (rate({app="web"}[5m]))\n'


@contextmanager
def loki(**options: object) -> Iterator[LokiEmulator]:
    with LokiEmulator(**options) as emulator:
        yield emulator


def loki_post(emu: LokiEmulator, namespace: str, body: str) -> requests.Response:
    return requests.post(f"{emu.url}{LOKI_RULES}/{namespace}", data=body, headers=TENANT, timeout=5)


def loki_get(emu: LokiEmulator, path: str, headers: dict | None = None) -> requests.Response:
    return requests.get(f"{emu.url}{path}", headers=TENANT if headers is None else headers, timeout=5)


@check("L-RULES-ROUTES")
def _(version: str) -> None:
    with loki() as emu:
        assert loki_post(emu, "ns", f"name: g\n{LOKI_RULE}").status_code == 202
        for path in (LOKI_RULES, f"{LOKI_RULES}/ns", "/api/prom/rules", "/api/prom/rules/ns"):
            assert loki_get(emu, path).status_code == 200, path
        assert loki_get(emu, f"{LOKI_RULES}/ns/g").status_code == 200
        assert loki_get(emu, "/prometheus/api/v1/rules").status_code == 200
        for method, path in (("PUT", LOKI_RULES), ("PATCH", f"{LOKI_RULES}/ns/g"), ("POST", LOKI_RULES)):
            assert requests.request(method, emu.url + path, headers=TENANT, timeout=5).status_code == 405


@check("L-RULES-TENANT")
def _(version: str) -> None:
    with loki() as emu:
        missing = loki_get(emu, LOKI_RULES, headers={})
        assert (missing.status_code, missing.text) == (401, "no org id\n")
        assert loki_post(emu, "team%2Flogs", f"name: g%2F1\n{LOKI_RULE}").status_code == 202
        assert list(yaml.safe_load(loki_get(emu, LOKI_RULES).text)) == ["team/logs"]
        assert loki_get(emu, LOKI_RULES, headers={"X-Scope-OrgID": "tenant-2"}).status_code == 404


@check("L-RULES-LIST")
def _(version: str) -> None:
    with loki() as emu:
        for path in (LOKI_RULES, f"{LOKI_RULES}/nowhere"):
            empty = loki_get(emu, path)
            assert (empty.status_code, empty.text) == (404, "no rule groups found\n")
            assert empty.headers["Content-Type"].startswith("text/plain")
        loki_post(emu, "b", f"name: g\n{LOKI_RULE}")
        loki_post(emu, "a", f"name: g\n{LOKI_RULE}")
        listed = loki_get(emu, LOKI_RULES)
        assert listed.headers["Content-Type"] == "application/yaml"
        assert list(yaml.safe_load(listed.text)) == ["a", "b"]
        assert loki_get(emu, f"{LOKI_RULES}/nowhere").status_code == 404


@check("L-RULES-GET")
def _(version: str) -> None:
    with loki() as emu:
        missing = loki_get(emu, f"{LOKI_RULES}/ns/g")
        assert (missing.status_code, missing.text) == (404, "group does not exist\n")
        loki_post(emu, "ns", f"name: g\n{LOKI_RULE}")
        assert yaml.safe_load(loki_get(emu, f"{LOKI_RULES}/ns/g").text)["name"] == "g"


@check("L-RULES-POST")
def _(version: str) -> None:
    with loki() as emu:
        created = loki_post(emu, "ns", f"name: a\nunknown: 1\n{LOKI_RULE}")
        assert created.status_code == 202
        assert created.json() == {"status": "success", "data": None, "errorType": "", "error": ""}
        loki_post(emu, "ns", f"name: b\n{LOKI_RULE}")
        loki_post(
            emu, "ns", 'name: a\nrules:\n  - record: app:lines:rate1m\n    expr: sum(rate({app="x"}[1m]))\n'
        )
        groups = yaml.safe_load(loki_get(emu, f"{LOKI_RULES}/ns").text)["ns"]
        assert [g["name"] for g in groups] == ["a", "b"]
        assert groups[0]["rules"][0]["record"] == "app:lines:rate1m"  # replaced
        for body in ("name: [unclosed", "- a list", "name: g\ninterval: soon\nrules: []"):
            answer = loki_post(emu, "ns", body)
            assert (answer.status_code, answer.text) == (400, "unable to decoded rule group\n"), body


@check("L-RULES-VALIDATE")
def _(version: str) -> None:
    refused = {
        "record: a:b:c\n    alert: A\n    expr: vector(1)": "only one of 'record' and 'alert' must be set",
        "expr: vector(1)": "one of 'record' or 'alert' must be set",
        "alert: A": "field 'expr' must be set in rule",
        'alert: A\n    expr: sum(rate({app="x"}[5m])': "could not parse expression for alert 'A' in group 'g': ",
        "record: a:b:c\n    expr: vector(1)\n    for: 1m": "invalid field 'for' in recording rule",
        "record: a:b:c\n    expr: vector(1)\n    annotations: {x: y}": "invalid field 'annotations' in recording rule",
        "record: not a name\n    expr: vector(1)": "invalid recording rule name: not a name",
        "alert: A\n    expr: vector(1)\n    labels: {bad-name: x}": "invalid label name: bad-name",
        "alert: A\n    expr: vector(1)\n    annotations: {9x: y}": "invalid annotation name: 9x",
        "alert: A\n    expr: vector(1)\n    annotations: {u: '{{ $externalURL }}'}": (
            'annotation "u": template: __alert_A:1: undefined variable "$externalURL"'
        ),
        "alert: A\n    expr: vector(1)\n    annotations: {u: '{{ nope 1 }}'}": (
            'annotation "u": template: __alert_A:1: function "nope" not defined'
        ),
    }
    with loki() as emu:
        for rule, message in refused.items():
            answer = loki_post(emu, "ns", f"name: g\nrules:\n  - {rule}\n")
            assert answer.status_code == 400 and answer.text.startswith(message), (rule, answer.text)
        joined = loki_post(emu, "ns", "name: ''\nrules:\n  - expr: vector(1)\n  - alert: A\n")
        assert joined.text == (
            "group 0: Groupname must not be empty, one of 'record' or 'alert' must be set, "
            "field 'expr' must be set in rule\n"
        )
        assert loki_get(emu, LOKI_RULES).status_code == 404  # nothing stored
        assert loki_post(emu, "ns", "name: empty\nrules: []\n").status_code == 202  # no rules: accepted
        fine = "name: g\nrules:\n  - alert: A\n    expr: vector(1)\n    annotations: {s: '{{ $value | humanize }}'}\n"
        assert loki_post(emu, "ns", fine).status_code == 202


@check("L-RULES-LOGQL")
def _(version: str) -> None:
    with loki() as emu:
        body = 'name: g\nrules:\n  - alert: A\n    expr: \'{app="x"} |= "panic"\'\n'
        assert loki_post(emu, "ns", body).status_code == 202


@check("L-RULES-LIMIT")
def _(version: str) -> None:
    assert (LokiEmulator().max_rules_per_group, LokiEmulator().max_rule_groups_per_tenant) == (0, 0)
    two = "rules:\n  - record: a:b:c\n    expr: vector(1)\n  - record: a:b:d\n    expr: vector(1)\n"
    with loki(max_rules_per_group=1, max_rule_groups_per_tenant=1) as emu:
        too_many = loki_post(emu, "ns", f"name: g\n{two}")
        assert too_many.text == "per-user rules per rule group limit (limit: 1 actual: 2) exceeded\n"
        assert loki_post(emu, "ns", f"name: g\n{LOKI_RULE}").status_code == 202
        again = loki_post(emu, "ns", f"name: g\n{LOKI_RULE}")  # replacing counts too
        assert (again.status_code, again.text) == (
            400,
            "per-user rule groups limit (limit: 1 actual: 2) exceeded\n",
        )


@check("L-RULES-ROUNDTRIP")
def _(version: str) -> None:
    with loki() as emu:
        body = (
            "name: g\ninterval: 60s\nlimit: 10\nquery_offset: 1m\nlabels: {team: a}\nunknown: 1\nrules:\n"
            '  - alert: A\n    expr: sum(rate({app="x"}[5m])) > 1\n    for: 300s\n    keep_firing_for: 5m\n'
            "    labels: {z: '1', severity: warning}\n    annotations: {summary: down}\n"
            '  - record: a:b:c\n    expr: sum(rate({app="x"}[5m]))\n    for: 0s\n'
        )
        assert loki_post(emu, "ns", body).status_code == 202
        text = loki_get(emu, f"{LOKI_RULES}/ns/g").text
        assert yaml.safe_load(text) == {
            "name": "g",
            "interval": "1m",
            "limit": 10,
            "rules": [
                {
                    "alert": "A",
                    "expr": 'sum(rate({app="x"}[5m])) > 1',
                    "for": "5m",
                    "labels": {"severity": "warning", "z": "1"},
                    "annotations": {"summary": "down"},
                },
                {"record": "a:b:c", "expr": 'sum(rate({app="x"}[5m]))'},
            ],
        }
        assert text.index("severity") < text.index("z:")  # maps sorted


@check("L-RULES-EXPR-VERBATIM")
def _(version: str) -> None:
    mark = "# lgtm-dash-published owner=0123456789ab digest=" + "0" * 24
    expr = f'sum by (app) (rate({{app="x"}} |= "a#b" [5m])) > 1\n{mark}'
    with loki() as emu:
        body = yaml.safe_dump({"name": "g", "rules": [{"alert": "A", "expr": expr}]})
        assert loki_post(emu, "ns", body).status_code == 202
        assert yaml.safe_load(loki_get(emu, f"{LOKI_RULES}/ns/g").text)["rules"][0]["expr"] == expr
        listed = yaml.safe_load(loki_get(emu, LOKI_RULES).text)
        assert listed["ns"][0]["rules"][0]["expr"] == expr
        # The comment runs to the end of its line: one in front swallows the selector.
        swallowed = yaml.safe_dump({"name": "h", "rules": [{"alert": "A", "expr": '#{app="x"} | json'}]})
        answer = loki_post(emu, "ns", swallowed)
        assert answer.status_code == 400
        assert answer.text.startswith("could not parse expression for alert 'A' in group 'h': ")


@check("L-RULES-DELETE")
def _(version: str) -> None:
    with loki() as emu:
        loki_post(emu, "ns", f"name: a\n{LOKI_RULE}")
        loki_post(emu, "ns", f"name: b\n{LOKI_RULE}")

        def delete(path: str) -> requests.Response:
            return requests.delete(emu.url + path, headers=TENANT, timeout=5)

        assert (delete(f"{LOKI_RULES}/ns/nope").status_code, delete(f"{LOKI_RULES}/ns/nope").text) == (
            404,
            "group does not exist\n",
        )
        assert delete(f"{LOKI_RULES}/ns/a").status_code == 202
        assert [g["name"] for g in yaml.safe_load(loki_get(emu, LOKI_RULES).text)["ns"]] == ["b"]
        assert delete(f"{LOKI_RULES}/ns").status_code == 202
        gone = delete(f"{LOKI_RULES}/ns")
        assert (gone.status_code, gone.text) == (404, "group namespace does not exist\n")


@check("L-RULES-PROM")
def _(version: str) -> None:
    with loki() as emu:
        body = (
            'name: g\ninterval: 2m\nrules:\n  - alert: A\n    expr: sum(rate({app="x"}[5m])) > 1\n    for: 5m\n'
            "    labels: {severity: warning}\n    annotations: {summary: s}\n"
            '  - record: a:b:c\n    expr: sum(rate({app="x"}[5m]))\n'
        )
        loki_post(emu, "ns", body)
        data = loki_get(emu, "/prometheus/api/v1/rules").json()
        assert data["status"] == "success"
        (group,) = data["data"]["groups"]
        assert (group["name"], group["file"], group["interval"]) == ("g", "ns", 120)
        alert, record = group["rules"]
        assert (alert["type"], alert["state"], alert["duration"], alert["alerts"]) == (
            "alerting",
            "inactive",
            300,
            [],
        )
        assert alert["labels"] == {"severity": "warning"} and alert["annotations"] == {"summary": "s"}
        assert (record["type"], record["name"], record["health"]) == ("recording", "a:b:c", "unknown")
        assert loki_get(emu, "/prometheus/api/v1/alerts").json()["data"] == {"alerts": []}


# --- Loki's query API (live lint) ---------------------------------------------------------------------------

NOW_S = 1_800_000_000
NOW_NS = NOW_S * 10**9
DAY_NS = 24 * 3600 * 10**9
T1, T2 = {"X-Scope-OrgID": "t1"}, {"X-Scope-OrgID": "t2"}


@contextmanager
def loki_streams() -> Iterator[LokiEmulator]:
    """Loki at a pinned now: t1 has backend (the last two days) and gateway (eight days ago); t2 has one job."""
    with LokiEmulator(now_ns=NOW_NS) as emu:
        emu.add_stream("t1", {"app": "backend", "namespace": "qgx-dev"}, NOW_NS - 2 * DAY_NS, NOW_NS)
        emu.add_stream(
            "t1", {"app": "gateway", "namespace": "edge"}, NOW_NS - 9 * DAY_NS, NOW_NS - 8 * DAY_NS
        )
        emu.add_stream("t2", {"job": "other"}, NOW_NS - DAY_NS, NOW_NS)
        yield emu


def loki_query(
    emu: LokiEmulator, path: str, params: dict | list | None = None, *, headers: dict | None = T1,
    method: str = "GET",
) -> requests.Response:  # fmt: skip
    if method == "POST":
        return requests.post(emu.url + path, data=params, headers=headers, timeout=5)
    return requests.request(method, emu.url + path, params=params, headers=headers, timeout=5)


TEN_DAYS = {"start": str(NOW_S - 10 * 86400)}


@check("L-QUERY-ROUTES")
def _(version: str) -> None:
    with loki_streams() as emu:
        for path in ("/loki/api/v1/labels", "/loki/api/v1/label", "/loki/api/v1/label/app/values",
                     "/loki/api/v1/series"):  # fmt: skip
            for method in ("GET", "POST"):
                answer = loki_query(emu, path, TEN_DAYS, method=method)
                assert answer.status_code == 200 and answer.json()["status"] == "success", (method, path)
            assert loki_query(emu, path, method="PUT").status_code == 405, path
        assert (
            loki_query(emu, "/loki/api/v1/label", TEN_DAYS).json()
            == loki_query(emu, "/loki/api/v1/labels", TEN_DAYS).json()
        )  # the alias


@check("L-QUERY-TENANT")
def _(version: str) -> None:
    with loki_streams() as emu:
        missing = loki_query(emu, "/loki/api/v1/labels", headers={})
        assert (missing.status_code, missing.text) == (401, "no org id\n")
        assert loki_query(emu, "/loki/api/v1/labels", TEN_DAYS, headers=T2).json() == {
            "status": "success", "data": ["job"],
        }  # fmt: skip
        assert "job" not in loki_query(emu, "/loki/api/v1/labels", TEN_DAYS).json()["data"]


@check("L-QUERY-PARAMS")
def _(version: str) -> None:
    with loki_streams() as emu:
        wide = {**TEN_DAYS, "end": str(NOW_NS)}
        get = loki_query(emu, "/loki/api/v1/label/app/values", wide)
        post = loki_query(emu, "/loki/api/v1/label/app/values", wide, method="POST")  # form body
        assert get.json() == post.json() == {"status": "success", "data": ["backend", "gateway"]}
        selector = {"match[]": '{namespace="edge"}', **TEN_DAYS}
        assert loki_query(emu, "/loki/api/v1/series", selector, method="POST").json()["data"] == [
            {"app": "gateway", "namespace": "edge"}
        ]


@check("L-QUERY-TIME")
def _(version: str) -> None:
    def apps(params: dict) -> list[str]:
        return loki_query(emu, "/loki/api/v1/label/app/values", params).json().get("data", [])

    with loki_streams() as emu:
        assert apps({}) == ["backend"]  # now - 1h .. now
        nine_days = NOW_S - 9 * 86400 - 60
        assert apps({"start": str(nine_days)}) == ["backend", "gateway"]  # 10 digits: seconds
        assert apps({"start": str(nine_days * 10**9)}) == ["backend", "gateway"]  # longer: nanoseconds
        assert apps({"start": f"{nine_days}.5"}) == ["backend", "gateway"]  # with a dot: float seconds
        assert apps({"start": "2027-01-06T12:00:00Z", "end": "2027-01-07T00:00:00.5Z"}) == [
            "gateway"
        ]  # RFC3339
        assert apps({"start": str(NOW_S - 3 * 86400), "end": str(NOW_S - 86400)}) == ["backend"]
        bad = loki_query(emu, "/loki/api/v1/labels", {"start": "yesterday"})
        assert bad.status_code == 400 and "invalid syntax" in bad.text


@check("L-QUERY-LABELS")
def _(version: str) -> None:
    with loki_streams() as emu:
        names = loki_query(emu, "/loki/api/v1/labels", TEN_DAYS)
        assert names.text == '{"status":"success","data":["app","namespace"]}\n'
        empty = loki_query(emu, "/loki/api/v1/label/nothing/values")
        assert (empty.status_code, empty.text) == (200, '{"status":"success"}\n')  # `data` left out
        assert loki_query(emu, "/loki/api/v1/labels", headers={"X-Scope-OrgID": "t3"}).text == (
            '{"status":"success"}\n'
        )


@check("L-QUERY-VALUES-QUERY")
def _(version: str) -> None:
    with loki_streams() as emu:
        narrowed = {**TEN_DAYS, "query": '{namespace="edge"}'}
        assert loki_query(emu, "/loki/api/v1/label/app/values", narrowed).json()["data"] == ["gateway"]
        everything = loki_query(emu, "/loki/api/v1/label/app/values", TEN_DAYS).json()["data"]
        assert everything == ["backend", "gateway"]


@check("L-QUERY-SERIES-MATCH")
def _(version: str) -> None:
    with loki_streams() as emu:

        def series(params: list) -> requests.Response:
            return loki_query(emu, "/loki/api/v1/series", [*TEN_DAYS.items(), *params])

        assert series([("match[]", '{app=~"back.*"}')]).json()["data"] == [
            {"app": "backend", "namespace": "qgx-dev"}
        ]
        both = series([("match[]", '{app="backend"}'), ("match", '{namespace="edge"}')]).json()["data"]
        assert len(both) == 2  # match[] and match merged; a stream matching any group
        twice = series([("match[]", '{app="backend"}'), ("match", '{app="backend"}')]).json()["data"]
        assert len(twice) == 1  # deduplicated
        assert len(series([("match[]", "{}")]).json()["data"]) == 2  # `{}` alone: no matcher, every stream
        empty_group = series([("match[]", "{}"), ("match[]", '{app="backend"}')])
        assert empty_group.status_code == 400 and "0 matchers in group" in empty_group.text
        bad = series([("match[]", "app=x")])
        assert bad.status_code == 400 and bad.text.startswith("parse error")


@check("L-QUERY-SERIES")
def _(version: str) -> None:
    with loki_streams() as emu:
        none = loki_query(emu, "/loki/api/v1/series", {**TEN_DAYS, "match[]": '{app="nothing"}'})
        assert (none.status_code, none.text) == (200, '{"status":"success","data":[]}\n')  # always a list
        one = loki_query(emu, "/loki/api/v1/series", {**TEN_DAYS, "match[]": '{app="backend"}'})
        assert one.text == '{"status":"success","data":[{"app":"backend","namespace":"qgx-dev"}]}\n'


@check("L-QUERY-ERRORS")
def _(version: str) -> None:
    with loki_streams() as emu:
        bad = loki_query(emu, "/loki/api/v1/series", {"match[]": "{app="})
        assert bad.status_code == 400
        assert bad.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert bad.text and not bad.text.endswith("\n")


# --- Mimir's query API shape (MimirQueryProxy in front of a Prometheus) -------------------------------------


class PrometheusStandIn(HTTPEmulator):
    """What stands behind the proxy in these checks: every request is recorded and answered with the envelope
    Prometheus uses, naming the path and parameters it received (the real Prometheus is asked in
    tests/test_live_lint.py)."""

    def handle(self, request: Request) -> Response:
        if request.raw_path == "/api/v1/metadata":
            return Response.json(
                200, {"status": "success", "data": {"up": [{"type": "gauge", "help": "Up.", "unit": ""}]}}
            )
        form = {**request.query, **parse_qs(request.text())}  # the query string and a form body
        return Response.json(200, {"status": "success", "data": [request.method, request.raw_path, form]})


@contextmanager
def mimir_query() -> Iterator[tuple[MimirQueryProxy, PrometheusStandIn]]:
    with PrometheusStandIn() as upstream, MimirQueryProxy(upstream.url) as proxy:
        yield proxy, upstream


@check("M-QUERY-PREFIX")
def _(version: str) -> None:
    with mimir_query() as (proxy, upstream):
        answer = requests.get(f"{proxy.url}/prometheus/api/v1/labels", headers=TENANT, timeout=5)
        assert answer.status_code == 200 and answer.json()["data"][1] == "/api/v1/labels"  # prefix stripped
        outside = requests.get(f"{proxy.url}/api/v1/labels", headers=TENANT, timeout=5)
        assert outside.status_code == 404 and len(upstream.request_log) == 1


@check("M-QUERY-ROUTES")
def _(version: str) -> None:
    with mimir_query() as (proxy, upstream):
        base = f"{proxy.url}/prometheus"
        selector = {"match[]": '{__name__="up"}', "start": "1", "end": "2"}
        for method, path in (("GET", "/api/v1/labels"), ("POST", "/api/v1/labels"), ("GET", "/api/v1/series"),
                             ("GET", "/api/v1/label/job/values")):  # fmt: skip
            if method == "POST":
                answer = requests.post(base + path, data=selector, headers=TENANT, timeout=5)
            else:
                answer = requests.get(base + path, params=selector, headers=TENANT, timeout=5)
            assert answer.status_code == 200, (method, path)
            seen_method, seen_path, seen_form = answer.json()["data"]
            assert (seen_method, seen_path) == (method, path)
            assert seen_form["match[]"] == ['{__name__="up"}']  # from the query string or the form body
        assert [r.path for r in upstream.request_log] == [
            "/api/v1/labels", "/api/v1/labels", "/api/v1/series", "/api/v1/label/job/values",
        ]  # fmt: skip


@check("M-QUERY-TENANT")
def _(version: str) -> None:
    with mimir_query() as (proxy, upstream):
        missing = requests.get(f"{proxy.url}/prometheus/api/v1/labels", timeout=5)
        assert (missing.status_code, missing.text) == (401, "no org id\n") and not upstream.request_log
        requests.get(f"{proxy.url}/prometheus/api/v1/labels", headers={"X-Scope-OrgID": "qgx-dev"}, timeout=5)
        assert proxy.tenants_seen == {"qgx-dev"}
        assert upstream.request_log[0].headers.get("x-scope-orgid") == "qgx-dev"  # passed on


@check("M-QUERY-METADATA")
def _(version: str) -> None:
    with mimir_query() as (proxy, _upstream):
        answer = requests.get(f"{proxy.url}/prometheus/api/v1/metadata", headers=TENANT, timeout=5)
        assert answer.status_code == 200
        assert answer.json() == {
            "status": "success",
            "data": {"up": [{"type": "gauge", "help": "Up.", "unit": ""}]},
        }


# --- Grafana's datasource proxy (GrafanaDatasourceProxy) -----------------------------------------------------

PROXY_TOKEN = "glsa_proxy-token"


@contextmanager
def datasource_proxy() -> Iterator[tuple[GrafanaDatasourceProxy, PrometheusStandIn]]:
    with (
        PrometheusStandIn() as upstream,
        GrafanaDatasourceProxy(
            {"qgx-mimir": (f"{upstream.url}/base", {"X-Scope-OrgID": "qgx-dev"})}, tokens={PROXY_TOKEN}
        ) as proxy,
    ):
        yield proxy, upstream


def via_proxy(
    proxy: GrafanaDatasourceProxy, path: str, token: str = PROXY_TOKEN, **kwargs: object
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{proxy.url}/api/datasources/proxy/uid/{path}", headers=headers, timeout=5, **kwargs)


@check("G-DS-PROXY")
def _(version: str) -> None:
    with datasource_proxy() as (proxy, upstream):
        answer = via_proxy(proxy, "qgx-mimir/api/v1/labels", params={"match[]": "up"})
        assert answer.status_code == 200
        assert answer.json()["data"] == ["GET", "/base/api/v1/labels", {"match[]": ["up"]}]
        posted = requests.post(f"{proxy.url}/api/datasources/proxy/uid/qgx-mimir/api/v1/labels", data={"a": "b"},
                               headers={"Authorization": f"Bearer {PROXY_TOKEN}"}, timeout=5)  # fmt: skip
        assert (
            posted.json()["data"][:2] == ["POST", "/base/api/v1/labels"]
            and upstream.request_log[-1].body == b"a=b"
        )
        assert via_proxy(proxy, "unknown/api/v1/labels").status_code == 404


@check("G-DS-PROXY-AUTH")
def _(version: str) -> None:
    with datasource_proxy() as (proxy, upstream):
        assert via_proxy(proxy, "qgx-mimir/api/v1/labels", token="wrong").status_code == 401
        assert (
            requests.get(
                f"{proxy.url}/api/datasources/proxy/uid/qgx-mimir/api/v1/labels", timeout=5
            ).status_code
            == 401
        )
        assert not upstream.request_log


@check("G-DS-PROXY-HEADERS")
def _(version: str) -> None:
    with datasource_proxy() as (proxy, upstream):
        via_proxy(proxy, "qgx-mimir/api/v1/labels")
        (seen,) = upstream.request_log
        assert seen.headers.get("x-scope-orgid") == "qgx-dev"
        assert "authorization" not in seen.headers  # the caller's Grafana token stays with Grafana


@check("G-DS-PROXY-UPSTREAM-401")
def _(version: str) -> None:
    with datasource_proxy() as (proxy, upstream):
        upstream.faults.fail(None, ".", 401, times=None, body="invalid tenant credentials")
        answer = via_proxy(proxy, "qgx-mimir/api/v1/labels")
        assert (answer.status_code, answer.text) == (400, "Authentication to data source failed")
