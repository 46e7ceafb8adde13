"""`lgtm-dash diff`: crafted changes to a built out/ tree each show up with the right kind; nothing else does.

The dashboards and rules are whatever the repository holds when the tests run: what to mutate is taken
from the built JSON/YAML (the first panel with a query, the first alert), and only when the repository has
none yet is a crafted one planted in the base tree.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.compile import build
from lgtm_dash.diff import Detail, DiffReport, ObjectChange, diff_artifacts
from lgtm_dash.diff.dashboards import flatten_panels
from lgtm_dash.diff.render import render_json, render_markdown, render_text
from lgtm_dash.secrets import REDACTED
from lgtm_dash.yamlio import dump_yaml
from tests.helpers import REPO, run_cli

CANARY = "CANARY-7c3e91-secret"
CRAFTED_PANEL = {
    "id": 901,
    "type": "timeseries",
    "title": "Crafted request rate",
    "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
    "datasource": {"type": "prometheus", "uid": "qgx-mimir"},
    "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": []},
    "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
    "targets": [{"refId": "A", "expr": "sum(rate(qgx_http_requests_total[5m]))", "legendFormat": "all"}],
}
CRAFTED_RULES = {
    "namespace": "crafted",
    "groups": [
        {
            "name": "crafted.alerts",
            "rules": [
                {
                    "alert": "CraftedHighErrorRate",
                    "expr": "sum(rate(qgx_http_errors_total[5m])) > 1",
                    "for": "5m",
                    "labels": {"severity": "warning"},
                    "annotations": {"summary": "errors"},
                }
            ],
        }
    ],
}
CRAFTED_ALERTMANAGER_CONFIG = {
    "route": {
        "receiver": "slack-default",
        "group_by": ["alertname", "namespace"],
        "routes": [{"matchers": ['severity="critical"'], "receiver": "slack-critical"}],
    },
    "receivers": [
        {
            "name": "slack-default",
            "slack_configs": [{"api_url": "${SLACK_WEBHOOK_URL}", "channel": "#alerts"}],
        },
        {
            "name": "slack-critical",
            "slack_configs": [{"api_url": "${SLACK_WEBHOOK_URL}", "channel": "#pager"}],
        },
    ],
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname"],
        }
    ],
    "templates": ["slack.tmpl"],
}


# ---------------------------------------------------------------- the base tree and its mutations


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def dashboard_files(out: Path) -> list[Path]:
    return sorted((out / "grafana/dashboards").glob("*/*.json"))


def panels_with_queries(data: dict) -> list[dict]:
    return [p.data for p in flatten_panels(data) if p.data.get("targets") and p.data.get("type") != "row"]


def dashboard_with_query(out: Path) -> tuple[Path, dict, dict]:
    """(file, dashboard JSON, first panel with a query) of the first dashboard that has one."""
    for path in dashboard_files(out):
        data = read_json(path)
        panels = panels_with_queries(data)
        if panels:
            return path, data, panels[0]
    raise AssertionError("the base tree has no panel with a query")


def alertmanager_body(out: Path) -> tuple[dict, dict]:
    body = yaml.safe_load((out / "mimir/alertmanager.yaml").read_text())
    return body, yaml.safe_load(body["alertmanager_config"])


def write_alertmanager(out: Path, body: dict, config: dict) -> None:
    body["alertmanager_config"] = dump_yaml(config)
    (out / "mimir/alertmanager.yaml").write_text(dump_yaml(body))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository built for dev, plus crafted content for whatever the repository does not hold yet."""
    out = tmp_path_factory.mktemp("base") / "out"
    build(REPO, "dev", out)
    if not any(panels_with_queries(read_json(p)) for p in dashboard_files(out)):
        path = dashboard_files(out)[0]
        data = read_json(path)
        data["panels"] = [*data.get("panels", []), CRAFTED_PANEL]
        write_json(path, data)
    rule_files = sorted((out / "mimir/rules").glob("*.yaml"))
    has_alert = any(
        "alert" in r for p in rule_files for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"]
    )
    if not has_alert:
        (out / "mimir/rules").mkdir(parents=True, exist_ok=True)
        (out / "mimir/rules/crafted.yaml").write_text(dump_yaml(CRAFTED_RULES))
    if not (out / "mimir/alertmanager.yaml").is_file():
        body = {"template_files": {"slack.tmpl": '{{ define "slack.title" }}{{ .Status }}{{ end }}\n'}}
        write_alertmanager(out, body, CRAFTED_ALERTMANAGER_CONFIG)
    return out


Mutation = Callable[[Path], None]


def diff_after(base: Path, tmp_path: Path, mutate: Mutation) -> DiffReport:
    new = tmp_path / "new"
    shutil.copytree(base, new)
    mutate(new)
    return diff_artifacts(read_artifacts(base), read_artifacts(new))


def only_change(report: DiffReport, kind: str) -> ObjectChange:
    found = [c for c in report.changes if c.kind == kind]
    assert len(found) == 1, report.changes
    return found[0]


def details_of(obj: ObjectChange, **match: str) -> list:
    return [d for d in obj.details if all(getattr(d, k) == v for k, v in match.items())]


def query_text_of(target: dict) -> str:
    return next(target[k] for k in ("expr", "rawSql", "query") if isinstance(target.get(k), str))


def edit_query_panel(edit: Callable[[dict, dict], None]) -> Mutation:
    """A mutation of the first panel with a query (edit(dashboard, panel) changes both in place)."""

    def mutate(out: Path) -> None:
        path, data, panel = dashboard_with_query(out)
        target = next(p for p in panels_with_queries(data) if p.get("id") == panel.get("id"))
        edit(data, target)
        write_json(path, data)

    return mutate


# ---------------------------------------------------------------- no change


def test_unchanged_tree_reports_no_changes(base: Path, tmp_path: Path) -> None:
    report = diff_after(base, tmp_path, lambda out: None)
    assert not report.changed and report.changes == ()
    assert "No changes" in render_text(report).plain
    assert "No changes" in render_markdown(report)
    assert json.loads(render_json(report))["changed"] is False


def test_ids_versions_and_key_order_are_not_differences(base: Path, tmp_path: Path) -> None:
    def bookkeeping(out: Path) -> None:
        for path in dashboard_files(out):
            data = read_json(path)
            data.update(id=4242, version=17, iteration=1700000000000)
            reordered = dict(reversed(list(data.items())))
            path.write_text(json.dumps(reordered, indent=4))

    assert diff_after(base, tmp_path, bookkeeping).changes == ()


# ---------------------------------------------------------------- dashboards


def test_dashboard_renamed(base: Path, tmp_path: Path) -> None:
    def rename(out: Path) -> None:
        path, data, _ = dashboard_with_query(out)
        data["title"] = "Renamed by review"
        write_json(path, data)

    change = only_change(diff_after(base, tmp_path, rename), "dashboard")
    (detail,) = change.details
    assert (detail.change, detail.field, detail.new) == ("renamed", "title", "Renamed by review")
    assert change.title == "Renamed by review" and change.headline() == "renamed"


def test_dashboard_moved_to_another_folder(base: Path, tmp_path: Path) -> None:
    def move(out: Path) -> None:
        path, _, _ = dashboard_with_query(out)
        target = out / "grafana/dashboards/archive"
        target.mkdir()
        path.rename(target / path.name)
        folders = yaml.safe_load((out / "grafana/folders.yaml").read_text())
        folders["folders"].append({"uid": "archive", "title": "Archive"})
        (out / "grafana/folders.yaml").write_text(dump_yaml(folders))

    report = diff_after(base, tmp_path, move)
    (detail,) = only_change(report, "dashboard").details
    assert (detail.change, detail.field, detail.new) == ("moved", "folder", "Archive (archive)")
    assert only_change(report, "folder").status == "added"


def test_dashboard_added_and_removed(base: Path, tmp_path: Path) -> None:
    def add_and_remove(out: Path) -> None:
        path, data, _ = dashboard_with_query(out)
        path.unlink()
        data.update(uid="brand-new", title="Brand new")
        write_json(path.parent / "brand-new.json", data)

    report = diff_after(base, tmp_path, add_and_remove)
    statuses = {c.key: c.status for c in report.changes if c.kind == "dashboard"}
    removed_uid = dashboard_with_query(base)[1]["uid"]
    assert statuses == {"brand-new": "added", removed_uid: "removed"}
    added = next(c for c in report.changes if c.key == "brand-new")
    panel_count = len(panels_with_queries(dashboard_with_query(base)[1]))
    assert len({d.name for d in added.details if d.scope == "panel" and d.change == "added"}) >= panel_count


def test_panel_added_removed_renamed(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        extra = json.loads(json.dumps(panel))
        extra.update(id=777, title="Added panel")
        data["panels"].append(extra)
        panel["title"] = "Renamed panel"

    change = only_change(diff_after(base, tmp_path, edit_query_panel(edit)), "dashboard")
    assert details_of(change, scope="panel", change="added", name="“Added panel” (#777)")
    (renamed,) = details_of(change, scope="panel", change="renamed")
    assert renamed.new == "Renamed panel"
    assert "1 panel added" in change.headline() and "1 panel changed" in change.headline()

    def remove(data: dict, panel: dict) -> None:
        container = next(
            c for c in [data["panels"], *(p.get("panels", []) for p in data["panels"])] if panel in c
        )
        container.remove(panel)

    removed = only_change(diff_after(base, tmp_path / "r", edit_query_panel(remove)), "dashboard")
    assert {(d.scope, d.change) for d in removed.details} == {("panel", "removed")}
    _, _, panel = dashboard_with_query(base)
    gone = query_text_of(panel["targets"][0])
    assert any(d.field.startswith("query ") and d.old == gone for d in removed.details)  # its query is shown
    assert "1 panel removed" in removed.headline()


def test_renumbered_panel_is_moved_not_removed_and_added(base: Path, tmp_path: Path) -> None:
    change = only_change(
        diff_after(base, tmp_path, edit_query_panel(lambda d, p: p.update(id=4321))), "dashboard"
    )
    (detail,) = change.details
    assert (detail.change, detail.field, detail.new) == ("moved", "id", "#4321")


def test_panel_moved_and_resized(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        grid = panel.setdefault("gridPos", {"x": 0, "y": 0, "w": 12, "h": 8})
        grid.update(x=grid.get("x", 0) + 1, w=grid.get("w", 12) + 2)

    change = only_change(diff_after(base, tmp_path, edit_query_panel(edit)), "dashboard")
    assert {d.change: d.field for d in change.details} == {"moved": "position", "resized": "size"}


def test_unit_threshold_and_legend_changes(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        defaults = panel.setdefault("fieldConfig", {}).setdefault("defaults", {})
        defaults["unit"] = "crafted-unit"
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": "green", "value": None}, {"color": "red", "value": 123}],
        }
        panel.setdefault("options", {}).setdefault("legend", {})["placement"] = "crafted-right"
        panel["targets"][0]["legendFormat"] = "{{crafted}}"

    change = only_change(diff_after(base, tmp_path, edit_query_panel(edit)), "dashboard")
    by_field = {d.field: d for d in change.details}
    assert by_field["unit"].new == "crafted-unit"
    assert by_field["thresholds"].new == "green, red ≥ 123"
    assert by_field["legend.placement"].new == "crafted-right"
    ref = change_ref = next(iter(k for k in by_field if k.endswith(".legendFormat")))
    assert by_field[change_ref].new == "{{crafted}}" and ref.startswith("query ")
    assert len(details_of(change, scope="panel")) == len(change.details)  # all inside the one panel


def test_query_change_is_an_inline_diff(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        target = panel["targets"][0]
        key = next(k for k in ("expr", "rawSql", "query") if isinstance(target.get(k), str))
        target[key] = target[key] + " or vector(42)"

    change = only_change(diff_after(base, tmp_path, edit_query_panel(edit)), "dashboard")
    (detail,) = change.details
    assert detail.field.startswith("query ") and detail.change == "changed"
    assert any(line.startswith("+") and "vector(42)" in line for line in detail.diff)
    assert any(line.startswith("-") and "vector(42)" not in line for line in detail.diff)
    markdown = render_markdown(DiffReport((change,)))
    assert "```diff" in markdown and "vector(42)" in markdown


def test_variables_added_removed_changed(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        variables = data.setdefault("templating", {}).setdefault("list", [])
        variables.append(
            {
                "name": "crafted",
                "type": "query",
                "query": "label_values(up, job)",
                "current": {"text": "a", "value": "a"},
            }
        )

    with_var = tmp_path / "with"
    shutil.copytree(base, with_var)
    edit_query_panel(edit)(with_var)
    change = only_change(diff_artifacts(read_artifacts(base), read_artifacts(with_var)), "dashboard")
    assert details_of(change, scope="variable", name="$crafted", change="added")

    def change_var(out: Path) -> None:
        path, data, _ = dashboard_with_query(out)
        var = next(v for v in data["templating"]["list"] if v["name"] == "crafted")
        var["query"] = "label_values(up, namespace)"
        var["current"] = {"text": "b", "value": "b"}
        write_json(path, data)

    changed_dir = tmp_path / "changed"
    shutil.copytree(with_var, changed_dir)
    change_var(changed_dir)
    change = only_change(diff_artifacts(read_artifacts(with_var), read_artifacts(changed_dir)), "dashboard")
    fields = {d.field: d for d in details_of(change, scope="variable", name="$crafted")}
    assert any("namespace" in line for line in fields["query"].diff)
    assert (fields["current"].old, fields["current"].new) == ("a", "b")
    removed = only_change(diff_artifacts(read_artifacts(with_var), read_artifacts(base)), "dashboard")
    assert details_of(removed, scope="variable", name="$crafted", change="removed")


def test_panels_inside_collapsed_rows_are_compared(base: Path, tmp_path: Path) -> None:
    def collapse(data: dict, panel: dict) -> None:
        data["panels"] = [p for p in data["panels"] if p is not panel]
        data["panels"].append(
            {"id": 990, "type": "row", "title": "Collapsed", "collapsed": True, "panels": [panel]}
        )

    collapsed = tmp_path / "collapsed"
    shutil.copytree(base, collapsed)
    edit_query_panel(collapse)(collapsed)
    change = only_change(diff_artifacts(read_artifacts(base), read_artifacts(collapsed)), "dashboard")
    assert details_of(change, scope="panel", field="row")  # the panel moved into the row, not removed
    assert not details_of(change, scope="panel", change="removed")

    def edit_inside(out: Path) -> None:
        path, data, _ = dashboard_with_query(out)
        row = next(p for p in data["panels"] if p.get("id") == 990)
        row["panels"][0].setdefault("fieldConfig", {}).setdefault("defaults", {})["unit"] = "inside-row"
        write_json(path, data)

    edited = tmp_path / "edited"
    shutil.copytree(collapsed, edited)
    edit_inside(edited)
    change = only_change(diff_artifacts(read_artifacts(collapsed), read_artifacts(edited)), "dashboard")
    assert [(d.scope, d.field, d.new) for d in change.details] == [("panel", "unit", "inside-row")]


def test_dashboard_settings_tags_and_time(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        data["tags"] = [*data.get("tags", []), "crafted-tag"]
        data["time"] = {"from": "now-24h", "to": "now"}

    change = only_change(diff_after(base, tmp_path, edit_query_panel(edit)), "dashboard")
    fields = {d.field: d for d in change.details}
    assert "crafted-tag" in fields["tags"].new and fields["time.from"].new == "now-24h"


# ---------------------------------------------------------------- rules


def first_alert_file(out: Path) -> tuple[Path, dict, dict, dict]:
    for path in sorted((out / "mimir/rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for group in data["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    return path, data, group, rule
    raise AssertionError("no alert in the base tree")


def edit_first_alert(edit: Callable[[dict, dict], None]) -> Mutation:
    def mutate(out: Path) -> None:
        path, data, group, rule = first_alert_file(out)
        edit(group, rule)
        path.write_text(dump_yaml(data))

    return mutate


def test_alert_expr_for_labels_annotations_changed(base: Path, tmp_path: Path) -> None:
    def edit(group: dict, rule: dict) -> None:
        rule["expr"] = rule["expr"].rstrip() + " * 2"
        rule["for"] = "42m"
        rule.setdefault("labels", {})["severity"] = "crafted-severity"
        rule.setdefault("annotations", {})["summary"] = "crafted summary"

    change = only_change(diff_after(base, tmp_path, edit_first_alert(edit)), "rule namespace")
    _, _, group, rule = first_alert_file(base)
    fields = {d.field: d for d in change.details}
    assert all(d.scope == "alert" and d.name.endswith(rule["alert"]) for d in change.details)
    assert any(line.startswith("+") and "* 2" in line for line in fields["expr"].diff)
    assert (fields["for"].old, fields["for"].new) == (rule.get("for"), "42m")
    assert fields["labels.severity"].new == "crafted-severity"
    assert fields["annotations.summary"].new == "crafted summary"
    assert group["name"] in fields["expr"].name


def test_alert_and_recording_rule_added_and_removed(base: Path, tmp_path: Path) -> None:
    def edit(group: dict, rule: dict) -> None:
        group["rules"].remove(rule)
        group["rules"].append({"alert": "CraftedNewAlert", "expr": "up == 0", "labels": {"severity": "info"}})
        group["rules"].append({"record": "crafted:up:sum", "expr": "sum(up)"})
        group["interval"] = "2m"

    change = only_change(diff_after(base, tmp_path, edit_first_alert(edit)), "rule namespace")
    _, _, group, rule = first_alert_file(base)
    assert details_of(change, scope="alert", change="removed", name=f"{group['name']} / {rule['alert']}")
    (added,) = details_of(change, scope="alert", change="added")
    assert added.name.endswith("CraftedNewAlert") and added.new == "up == 0"
    assert details_of(change, scope="record", change="added", name=f"{group['name']} / crafted:up:sum")
    (interval,) = details_of(change, scope="group", field="interval")
    assert interval.new == "2m"
    counts = DiffReport((change,)).counts()
    assert counts["alerts"] == {"added": 1, "removed": 1, "changed": 0}
    assert counts["recording rules"]["added"] == 1


def test_rule_namespace_added(base: Path, tmp_path: Path) -> None:
    def add(out: Path) -> None:
        data = json.loads(json.dumps(CRAFTED_RULES))
        data["namespace"] = "crafted-new"
        (out / "mimir/rules/crafted-new.yaml").write_text(dump_yaml(data))

    change = only_change(diff_after(base, tmp_path, add), "rule namespace")
    assert change.status == "added" and details_of(change, scope="alert", change="added")


def test_loki_rules_are_diffed_as_loki_rules(base: Path, tmp_path: Path) -> None:
    def edit(out: Path) -> None:
        path = next(iter(sorted((out / "loki/rules").glob("*.yaml"))))
        data = yaml.safe_load(path.read_text())
        alert = next(r for g in data["groups"] for r in g["rules"] if "alert" in r)
        alert["expr"] = alert["expr"].replace("[5m]", "[10m]", 1)
        path.write_text(dump_yaml(data))

    report = diff_after(base, tmp_path, edit)
    change = only_change(report, "Loki rule namespace")
    (detail,) = change.details
    assert (detail.scope, detail.field) == ("alert", "expr")
    assert any(line.startswith("+") and "[10m]" in line for line in detail.diff)
    assert change.source and change.source.startswith("alerts/")
    assert "Loki rule namespaces" in report.counts()
    assert "#### Loki rules" in render_markdown(report)


# ---------------------------------------------------------------- Alertmanager


def test_routes_receivers_inhibitions_templates(base: Path, tmp_path: Path) -> None:
    def edit(out: Path) -> None:
        body, config = alertmanager_body(out)
        config["route"]["group_wait"] = "42s"
        config["route"].setdefault("routes", []).append(
            {"matchers": ['team="crafted"'], "receiver": config["receivers"][0]["name"]}
        )
        receiver = config["receivers"][0]
        receiver.setdefault("slack_configs", [{}])[0]["channel"] = "#crafted-channel"
        config["receivers"].append(
            {"name": "crafted-receiver", "webhook_configs": [{"url": "${CRAFTED_URL}"}]}
        )
        config.setdefault("inhibit_rules", []).append(
            {
                "source_matchers": ['alertname="Crafted"'],
                "target_matchers": ['severity="info"'],
                "equal": ["job"],
            }
        )
        templates = body.setdefault("template_files", {})
        name = next(iter(templates), "crafted.tmpl")
        templates[name] = templates.get(name, "") + '{{ define "crafted" }}crafted{{ end }}\n'
        write_alertmanager(out, body, config)

    change = only_change(diff_after(base, tmp_path, edit), "alertmanager")
    assert details_of(change, scope="route", name="root", field="group_wait")[0].new == "42s"
    assert details_of(change, scope="route", name='root > {team="crafted"}', change="added")
    channel = [d for d in details_of(change, scope="receiver") if d.field.endswith("channel")]
    assert channel and channel[0].new == "#crafted-channel"
    assert details_of(change, scope="receiver", name="crafted-receiver", change="added")
    (inhibit,) = details_of(change, scope="inhibit rule", change="added")
    assert inhibit.name == '{alertname="Crafted"} mutes {severity="info"}'
    (template,) = details_of(change, scope="template")
    assert any(line.startswith("+") and "crafted" in line for line in template.diff)


def test_route_order_and_inhibition_change(base: Path, tmp_path: Path) -> None:
    def prepare(out: Path) -> None:
        body, config = alertmanager_body(out)
        config["route"]["routes"] = [
            {"matchers": ['team="a"'], "receiver": config["receivers"][0]["name"]},
            {"matchers": ['team="b"'], "receiver": config["receivers"][0]["name"]},
        ]
        config["inhibit_rules"] = [
            {"source_matchers": ['x="1"'], "target_matchers": ['y="2"'], "equal": ["a"]}
        ]
        write_alertmanager(out, body, config)

    def swap(out: Path) -> None:
        body, config = alertmanager_body(out)
        config["route"]["routes"].reverse()
        config["inhibit_rules"][0]["equal"] = ["a", "b"]
        write_alertmanager(out, body, config)

    first = tmp_path / "first"
    shutil.copytree(base, first)
    prepare(first)
    report = diff_after(first, tmp_path, swap)
    change = only_change(report, "alertmanager")
    moved = {d.name: (d.old, d.new) for d in details_of(change, scope="route", change="moved")}
    assert moved == {'root > {team="a"}': ("1", "2"), 'root > {team="b"}': ("2", "1")}
    (equal,) = details_of(change, scope="inhibit rule", field="equal")
    assert equal.new == '["a", "b"]'


def test_literal_receiver_secrets_are_masked(base: Path, tmp_path: Path) -> None:
    def literal(secret: str) -> Mutation:
        def mutate(out: Path) -> None:
            body, config = alertmanager_body(out)
            slack = config["receivers"][0].setdefault("slack_configs", [{}])[0]
            slack["api_url"] = f"https://hooks.slack.com/services/{secret}"
            slack["http_config"] = {"authorization": {"credentials": secret}}
            write_alertmanager(out, body, config)

        return mutate

    before = tmp_path / "before"
    shutil.copytree(base, before)
    literal("OLD-" + CANARY)(before)
    report = diff_after(before, tmp_path, literal("NEW-" + CANARY))
    change = only_change(report, "alertmanager")
    masked = {d.field.rsplit(".", 1)[-1]: d for d in change.details}
    assert masked["api_url"].old == masked["api_url"].new == REDACTED
    assert masked["credentials"].new == REDACTED
    for rendered in (render_text(report).plain, render_markdown(report), render_json(report)):
        assert CANARY not in rendered and "hooks.slack.com" not in rendered


# ---------------------------------------------------------------- datasources


def test_datasource_changes_never_show_secrets(base: Path, tmp_path: Path) -> None:
    def edit(out: Path) -> None:
        provisioning = yaml.safe_load((out / "grafana/datasources.yaml").read_text())
        ds = provisioning["datasources"][0]
        ds.setdefault("jsonData", {})["timeout"] = 4242
        ds.setdefault("secureJsonData", {})["password"] = "${" + "CRAFTED_SECRET_VAR}"
        ds["secureJsonData"]["basicAuthPassword"] = CANARY
        ds["basicAuthPassword"] = CANARY  # a legacy top-level secret field written as a literal
        (out / "grafana/datasources.yaml").write_text(dump_yaml(provisioning))

    report = diff_after(base, tmp_path, edit)
    change = only_change(report, "datasource")
    fields = {d.field: d for d in change.details}
    assert fields["jsonData.timeout"].new == "4242"
    assert fields["secureJsonData.basicAuthPassword"].change == "added"
    assert fields["basicAuthPassword"].new == REDACTED
    assert "secureJsonData.password" in fields
    for rendered in (render_text(report).plain, render_markdown(report), render_json(report)):
        assert CANARY not in rendered and "CRAFTED_SECRET_VAR" not in rendered


# ---------------------------------------------------------------- rendering and the command line


def test_markdown_has_summary_table_and_a_section_per_dashboard(base: Path, tmp_path: Path) -> None:
    def edit(data: dict, panel: dict) -> None:
        panel.setdefault("fieldConfig", {}).setdefault("defaults", {})["unit"] = "crafted-unit"
        panel["title"] = "Panel <b> & co"

    report = diff_after(base, tmp_path, edit_query_panel(edit))
    change = only_change(report, "dashboard")
    markdown = render_markdown(report)
    assert "| dashboards | 0 | 0 | 1 |" in markdown and "| panels | 0 | 0 | 1 |" in markdown
    summary = f"<details><summary>Dashboard “{change.title}” ({change.key}) — 1 panel changed</summary>"
    assert summary in markdown
    assert "**panel “Panel &lt;b&gt; &amp; co”" in markdown  # a title never turns into HTML
    assert "unit: `" in markdown and "`crafted-unit`" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") == 1


def test_cli_formats_and_exit_codes(base: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(base, changed)
    edit_query_panel(lambda d, p: p.update(title="CLI renamed"))(changed)
    same = run_cli("diff", str(base), str(base))
    assert same.returncode == 0 and "No changes" in same.stdout
    as_json = run_cli("diff", str(base), str(changed), "--format", "json")
    assert as_json.returncode == 1, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["changed"] is True and data["summary"]["panels"]["changed"] == 1
    text = run_cli("diff", str(base), str(changed))
    assert text.returncode == 1 and "title renamed:" in text.stdout and "CLI renamed" in text.stdout
    assert "\x1b[" not in text.stdout  # no colour codes outside a terminal
    output = tmp_path / "diff.md"
    written = run_cli("diff", str(base), str(changed), "--format", "markdown", "--output", str(output))
    assert written.returncode == 1 and "<details><summary>" in output.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff"], "give exactly one of"),
        (["diff", "/nonexistent-a", "/nonexistent-b"], "does not exist"),
        (["diff", "--base", "no-such-ref-xyz"], "unknown git ref 'no-such-ref-xyz'"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    if "--base" in args:  # a repository of its own, so the real one is never touched
        project = git_project(tmp_path)
        args = ["--project", str(project), *args]
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_invalid_artifact_names_file_and_line(base: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(base, broken)
    (broken / "grafana/folders.yaml").write_text("folders:\n  - uid: x\n   title: [\n")
    result = run_cli("diff", str(base), str(broken))
    assert result.returncode == 2 and f"{broken}/grafana/folders.yaml:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- --base against a git ref


def git_project(tmp_path: Path) -> Path:
    """A copy of this project's definitions in a fresh git repository with one commit."""
    import subprocess

    project = tmp_path / "repo"
    for name in ("datasources", "dashboards", "alerts"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("environments.yaml", "catalog.yaml"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, project / name)

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=project,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    return project


def test_base_ref_shows_an_uncommitted_dashboard_change(tmp_path: Path) -> None:
    project = git_project(tmp_path)
    unchanged = run_cli("--project", str(project), "diff", "--base", "HEAD")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "No changes" in unchanged.stdout
    module = next(p for p in sorted((project / "dashboards").glob("*.py")) if not p.name.startswith("_"))
    # Retitle whatever dashboard the module defines (grafanalib's Dashboard is mutable), uncommitted.
    module.write_text(module.read_text() + '\ndashboard.dashboard.title = "Retitled in this PR"\n')
    result = run_cli("--project", str(project), "diff", "--base", "HEAD", "--format", "json")
    assert result.returncode == 1, result.stderr
    changes = json.loads(result.stdout)["changes"]
    # Other dashboards linking to it may change too; the retitled one is found by its source file.
    (change,) = [c for c in changes if c["source"].startswith(f"dashboards/{module.name}:")]
    (detail,) = change["details"]
    assert (change["kind"], detail["change"], detail["field"]) == ("dashboard", "renamed", "title")
    assert detail["new"] == "Retitled in this PR" and detail["old"] not in ("", None, detail["new"])
    markdown = run_cli("--project", str(project), "diff", "--base", "HEAD", "--format", "markdown")
    assert markdown.returncode == 1 and f"`{detail['old']}` → `Retitled in this PR`" in markdown.stdout
    assert not (project / "out").exists(), "diff --base must not write the project's out/"


def test_base_ref_that_does_not_build_is_a_clean_error(tmp_path: Path) -> None:
    import subprocess

    project = git_project(tmp_path)
    (project / "dashboards/broken.py").write_text("dashboard = 1 / 0\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "broken"],
        cwd=project,
        check=True,
    )
    (project / "dashboards/broken.py").unlink()
    result = run_cli("--project", str(project), "diff", "--base", "HEAD")
    assert result.returncode == 2 and "cannot build the base 'HEAD'" in result.stderr
    assert "dashboards/broken.py:1" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_secret_values_from_the_environment_never_appear(base: Path, tmp_path: Path) -> None:
    project = git_project(tmp_path)
    environments = project / "environments.yaml"
    environments.write_text(
        environments.read_text().replace("QGX_MYSQL_PASSWORD}", "QGX_MYSQL_PASSWORD_V2}", 1)
    )
    assert "QGX_MYSQL_PASSWORD_V2" in environments.read_text()
    secrets = {name: CANARY for name in ("QGX_MYSQL_PASSWORD", "QGX_MYSQL_PASSWORD_V2", "SLACK_WEBHOOK_URL")}
    for fmt in ("text", "markdown", "json"):
        result = run_cli("--project", str(project), "diff", "--base", "HEAD", "--format", fmt, env=secrets)
        assert result.returncode == 1, result.stderr
        assert "secureJsonData.password" in result.stdout and "qgx-mysql" in result.stdout
        assert CANARY not in result.stdout + result.stderr
        assert "QGX_MYSQL_PASSWORD" not in result.stdout  # not even the placeholder of a secure field
    # A secret value that turns up in a changed text (pasted into a description) is redacted as well.
    changed = tmp_path / "changed"
    shutil.copytree(base, changed)
    edit_query_panel(lambda d, p: p.update(description=f"see {CANARY}"))(changed)
    shown = run_cli("--project", str(project), "diff", str(base), str(changed), env=secrets)
    assert shown.returncode == 1, shown.stderr
    assert CANARY not in shown.stdout and REDACTED in shown.stdout


def test_markdown_fits_a_pr_comment_however_big_the_change() -> None:
    big = tuple(
        ObjectChange(
            kind="dashboard",
            key=f"d{i}",
            title=f"Dashboard {i}",
            status="changed",
            details=(
                Detail(
                    change="changed",
                    scope="panel",
                    name="“p” (#1)",
                    field="query A",
                    diff=("-" + "x" * 900, "+" + "y" * 900),
                ),
            ),
        )
        for i in range(200)
    )
    markdown = render_markdown(DiffReport(big))
    assert len(markdown) < 65536  # GitHub's limit for a comment
    assert "| dashboards | 0 | 0 | 200 |" in markdown  # the summary still counts everything
    assert "more sections omitted" in markdown and "Dashboard “Dashboard 199” (d199)" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")


def test_the_base_is_built_with_its_own_toolkit_only(tmp_path: Path) -> None:
    # A base ref whose toolkit lacks a module this one has must not borrow it from the installed (editable)
    # package: mixing two versions of the toolkit is how `diff --base` once failed on older refs.
    import subprocess
    import sys

    from lgtm_dash.diff.sources import _BASE_TOOLKIT_ONLY

    toolkit = tmp_path / "tree" / "lgtm_dash"
    toolkit.mkdir(parents=True)
    (toolkit / "__init__.py").write_text("")
    (toolkit / "cli.py").write_text(
        "import importlib\n\n\ndef main(argv):\n"
        "    try:\n        importlib.import_module('lgtm_dash.k8s')\n        print('borrowed')\n"
        "    except ModuleNotFoundError:\n        print('own')\n    return 0\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", _BASE_TOOLKIT_ONLY],
        cwd=tmp_path / "tree",
        env={**os.environ, "PYTHONPATH": str(tmp_path / "tree")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "own"
