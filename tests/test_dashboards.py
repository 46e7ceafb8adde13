"""The team's five dashboards: they compile to modern Grafana JSON, every reference in them resolves (datasources,
variables, links, catalog), the MySQL drill-down carries the trace id and time window, and the source map points
every panel at its line in dashboards/*.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml

from lgtm_dash.compile import build
from lgtm_dash.model.dashboard import SCHEMA_VERSION
from lgtm_dash.model.links import slugify
from tests.helpers import REPO, SHARED, missing, run_cli

EXPECTED = {
    "qgx-backend-logs": ("Backend Logs", "backend_logs"),
    "qgx-pod-monitoring": ("Pod Monitoring", "pod_monitoring"),
    "qgx-event-monitoring": ("Event Monitoring", "event_monitoring"),
    "qgx-raw-message-status": ("Raw Message Status", "raw_message_status"),
    "qgx-http-overview": ("HTTP Service Overview", "http_overview"),
}
MODERN_PANELS = {"timeseries", "stat", "gauge", "bargauge", "table", "logs", "piechart", "row", "text"}
NUMERIC_PANELS = {"timeseries", "stat", "gauge", "bargauge", "table", "piechart"}
# The dashboard-module helper that builds each panel type (the source map must point at its call).
HELPER_OF = {
    "timeseries": "timeseries(",
    "stat": "stat(",
    "bargauge": "bar_gauge(",
    "table": "table(",
    "logs": "logs(",
    "piechart": "pie_chart(",
    "row": "row(",
}
# Grafana's own variables and macros (never defined by a dashboard).
VARIABLE = re.compile(r"\$\{([A-Za-z0-9_.]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]")

# Where the (stricter than Grafana) dashboard JSON schema rejects what Grafana itself saves, and why we keep it:
SCHEMA_EXCEPTIONS = {
    # Override matchers `byName`/`byRegexp` take the field name or pattern as a string; the schema says object.
    r"panels/\d+/fieldConfig/overrides/\d+/matcher/options": "matcher options are a string for byName/byRegexp",
    # An override property's value has the property's own type: a unit string, a list of links, a boolean.
    r"panels/\d+/fieldConfig/overrides/\d+/properties/\d+/value": "override values are not always objects",
    # Panel links are data links ({title, url, targetBlank}); the schema reuses the dashboard-link type.
    r"panels/\d+/links/\d+": "panel links are data links, not dashboard links",
}
# The one null we keep: a threshold scale's base step has no lower bound, which Grafana saves as null.
ALLOWED_NULL = re.compile(r"^panels/\d+/fieldConfig/defaults/thresholds/steps/0/value$")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("out")
    build(REPO, "dev", out_dir)
    return out_dir


@pytest.fixture(scope="module")
def dashboards(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "grafana/dashboards").rglob("*.json"))}


@pytest.fixture(scope="module")
def datasource_uids(out: Path) -> set[str]:
    return {ds["uid"] for ds in yaml.safe_load((out / "grafana/datasources.yaml").read_text())["datasources"]}


def panels_of(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables_of(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def queries_of(panel: dict[str, Any]) -> list[str]:
    return [t.get("expr") or t.get("rawSql") or "" for t in panel.get("targets", [])]


def links_of(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, link) for dashboard links, panel links and data links in field config."""
    for link in dashboard.get("links", []):
        yield "dashboard", link
    for panel in panels_of(dashboard):
        for link in panel.get("links", []):
            yield panel["title"], link
        config = panel.get("fieldConfig", {})
        for link in config.get("defaults", {}).get("links", []):
            yield panel["title"], link
        for override in config.get("overrides", []):
            for prop in override["properties"]:
                if prop["id"] == "links":
                    for link in prop["value"]:
                        yield panel["title"], link


def used_variables(text: str) -> set[str]:
    names = {next(g for g in match.groups() if g) for match in VARIABLE.finditer(text)}
    return {name for name in names if not name.startswith("__")}


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}/{index}" if path else str(index))


# --- What was built -----------------------------------------------------------------------------------------


def test_five_dashboards_in_the_qgx_folder(out: Path, dashboards: dict[str, dict[str, Any]]) -> None:
    assert {p.relative_to(out).as_posix() for p in (out / "grafana/dashboards").rglob("*.json")} == {
        f"grafana/dashboards/qgx/{uid}.json" for uid in EXPECTED
    }
    assert {uid: d["title"] for uid, d in dashboards.items()} == {uid: t for uid, (t, _) in EXPECTED.items()}
    folders = yaml.safe_load((out / "grafana/folders.yaml").read_text())["folders"]
    assert {"uid": "qgx", "title": "QGX"} in folders


def test_modern_grafana_json(dashboards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in dashboards.items():
        assert dashboard["schemaVersion"] == SCHEMA_VERSION >= 39, uid
        legacy = {
            "rows",
            "style",
            "hideControls",
            "sharedCrosshair",
            "__inputs",
            "id",
            "version",
        } & dashboard.keys()
        assert not legacy, f"{uid}: legacy fields {legacy}"
        assert "time_options" not in dashboard.get("timepicker", {})
        for panel in panels_of(dashboard):
            assert panel["type"] in MODERN_PANELS, f"{uid}: {panel['title']!r} is a {panel['type']} panel"
            assert not {"span", "editable", "error", "height", "minSpan", "maxDataPoints"} & panel.keys()
            if panel["type"] != "row":
                ds = panel["datasource"]
                assert isinstance(ds, dict) and set(ds) == {"type", "uid"}, f"{uid}: {panel['title']!r}: {ds}"
        for variable in dashboard["templating"]["list"]:
            assert not {"useTags", "tagsQuery", "tagValuesQuery"} & variable.keys(), variable["name"]


def test_every_numeric_panel_has_a_unit(dashboards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in dashboards.items():
        for panel in panels_of(dashboard):
            if panel["type"] in NUMERIC_PANELS:
                unit = panel["fieldConfig"]["defaults"].get("unit")
                assert unit, f"{uid}: panel {panel['title']!r} has no unit"


def test_no_null_in_the_json(dashboards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in dashboards.items():
        nulls = [path for path, value in walk(dashboard) if value is None and not ALLOWED_NULL.match(path)]
        assert not nulls, f"{uid}: null at {nulls}"


def test_panels_have_unique_ids_and_do_not_overlap(dashboards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in dashboards.items():
        panels = list(panels_of(dashboard))
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids"
        taken: dict[tuple[int, int], str] = {}
        for panel in panels:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["w"] >= 1 and pos["x"] + pos["w"] <= 24, f"{uid}: {panel['title']}"
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in taken, f"{uid}: {panel['title']!r} overlaps {taken[(x, y)]!r}"
                    taken[(x, y)] = panel["title"]


def test_compiled_dashboards_match_the_grafana_schema(dashboards: dict[str, dict[str, Any]]) -> None:
    import jsonschema

    schema_path = SHARED / "schemas/dashboard.jsonschema.json"
    if not schema_path.exists():
        missing(f"dashboard schema {schema_path} is not present")
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for uid, dashboard in dashboards.items():
        rejected = [
            (path, message)
            for path, message in schema_errors(validator, dashboard)
            if not any(re.fullmatch(allowed, path) for allowed in SCHEMA_EXCEPTIONS)
        ]
        assert not rejected, f"{uid}: {rejected}"


def schema_errors(validator: Any, dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Leaf errors as (path, message); a panel's oneOf(Panel, RowPanel) is judged by the branch of its type."""
    for error in validator.iter_errors(dashboard):
        yield from _leaves(error, dashboard)


def _leaves(error: Any, dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    path = "/".join(str(p) for p in error.absolute_path)
    if error.validator != "oneOf" or not error.context:
        yield path, error.message
        return
    node = dashboard
    for part in error.absolute_path:
        node = node[part]
    branch = 1 if isinstance(node, dict) and node.get("type") == "row" else 0
    for sub in error.context:
        if sub.relative_schema_path[0] == branch:
            yield from _leaves(sub, dashboard)


def test_schema_exceptions_are_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for path in ("matcher.options", "properties[].value", "panels[].links[]"):
        assert path in readme, f"README does not document the schema exception {path}"


# --- References resolve ----------------------------------------------------------------------------------------


def test_every_datasource_exists_or_is_a_datasource_variable(
    dashboards: dict[str, dict[str, Any]], datasource_uids: set[str]
) -> None:
    for uid, dashboard in dashboards.items():
        variables = variables_of(dashboard)
        refs = [(p["title"], p["datasource"]) for p in panels_of(dashboard) if "datasource" in p]
        refs += [(f"variable {v['name']}", v["datasource"]) for v in variables.values() if "datasource" in v]
        assert refs
        for where, ref in refs:
            match = re.fullmatch(r"\$\{(\w+)\}", ref["uid"])
            if match:
                variable = variables.get(match.group(1))
                assert variable and variable["type"] == "datasource", f"{uid}: {where}: {ref}"
                assert variable["query"] == ref["type"], f"{uid}: {where}: variable lists other datasources"
                assert variable["current"]["value"] in datasource_uids
            else:
                assert ref["uid"] in datasource_uids, f"{uid}: {where}: unknown datasource {ref}"


def test_pod_monitoring_switches_between_mimir_and_thanos(dashboards: dict[str, dict[str, Any]]) -> None:
    dashboard = dashboards["qgx-pod-monitoring"]
    selector = variables_of(dashboard)["datasource"]
    assert selector["current"]["value"] == "qgx-mimir"
    assert re.search(selector["regex"].strip("/"), "Thanos") and re.search(
        selector["regex"].strip("/"), "Mimir"
    )
    assert not re.search(selector["regex"].strip("/"), "Loki")
    for panel in panels_of(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_every_variable_used_is_defined(dashboards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in dashboards.items():
        defined = set(variables_of(dashboard))
        texts = [q for p in panels_of(dashboard) for q in queries_of(p)]
        texts += [v["query"] for v in dashboard["templating"]["list"] if isinstance(v.get("query"), str)]
        texts += [p["datasource"]["uid"] for p in panels_of(dashboard) if "datasource" in p]
        for text in texts:
            assert used_variables(text) <= defined, f"{uid}: {used_variables(text) - defined} in {text!r}"


def test_shared_filters_have_the_same_name_everywhere(dashboards: dict[str, dict[str, Any]]) -> None:
    names = {uid: set(variables_of(d)) for uid, d in dashboards.items()}
    assert {"cluster", "namespace", "tenant", "service", "level", "search", "trace_id"} <= names[
        "qgx-backend-logs"
    ]
    assert {"datasource", "cluster", "namespace", "pod"} <= names["qgx-pod-monitoring"]
    assert {"cluster", "namespace", "service"} <= names["qgx-http-overview"] & names["qgx-event-monitoring"]
    logs = variables_of(dashboards["qgx-backend-logs"])
    assert logs["trace_id"]["type"] == "textbox" and logs["trace_id"]["query"] == ""
    assert logs["search"]["type"] == "textbox" and logs["level"]["multi"] is True


def test_every_link_points_at_an_existing_dashboard(dashboards: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for uid, dashboard in dashboards.items():
        for where, link in links_of(dashboard):
            url = link.get("url", "")
            if link.get("type") == "dashboards":  # a list of dashboards by tag
                assert any("qgx" in d["tags"] for d in dashboards.values() if d["uid"] != uid)
                continue
            match = re.match(r"^/d/([^/?]+)/([^/?]+)", url)
            if match:
                target, slug = match.groups()
                assert target in dashboards, f"{uid}: {where}: link to unknown dashboard {url}"
                assert slug == slugify(dashboards[target]["title"]), f"{uid}: {where}: stale slug in {url}"
                checked += 1
            else:
                assert url.startswith("/explore?"), f"{uid}: {where}: unexpected link {url}"
    assert checked >= 5


def test_links_to_backend_logs_carry_filters_that_exist_there(dashboards: dict[str, dict[str, Any]]) -> None:
    logs_variables = set(variables_of(dashboards["qgx-backend-logs"]))
    for uid, dashboard in dashboards.items():
        for where, link in links_of(dashboard):
            url = link.get("url", "")
            if not url.startswith("/d/qgx-backend-logs/"):
                continue
            if link.get("includeVars"):  # a dashboard link: carries every variable and the time range
                assert link["keepTime"], f"{uid}: {where}"
                continue
            query = urlsplit(url).query
            # `${name:queryparam}` carries this dashboard's value(s) of `name`: it must exist on both sides.
            passed_on = set(re.findall(r"\$\{(\w+):queryparam\}", query))
            assert passed_on <= set(variables_of(dashboard)), f"{uid}: {where}"
            carried = passed_on | {key[4:] for key, _ in parse_qsl(query) if key.startswith("var-")}
            assert carried and carried <= logs_variables, f"{uid}: {where}: {carried - logs_variables}"
            assert "${__url_time_range}" in query or ("from=" in query and "to=" in query), f"{uid}: {where}"


def test_http_overview_links_logs_with_the_same_filters(dashboards: dict[str, dict[str, Any]]) -> None:
    dashboard = dashboards["qgx-http-overview"]
    by_uri = [
        link for where, link in links_of(dashboard) if "uri" in where and "var-search" in link.get("url", "")
    ]
    assert by_uri
    for link in by_uri:
        query = link["url"].split("?", 1)[1]
        for name in ("cluster", "namespace", "service"):
            assert f"${{{name}:queryparam}}" in query
        assert "${__url_time_range}" in query
        assert re.search(r"var-search=\$\{__(field\.labels|data\.fields)\.uri\}", query)


# --- The MySQL drill-down ----------------------------------------------------------------------------------------


def trace_id_links(dashboards: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    for panel in panels_of(dashboards["qgx-raw-message-status"]):
        for override in panel.get("fieldConfig", {}).get("overrides", []):
            if override["matcher"]["options"] == "trace_id":
                links = [p["value"] for p in override["properties"] if p["id"] == "links"]
                if links:
                    return panel, links[0]
    raise AssertionError("no trace_id column with links in Raw Message Status")


def test_trace_id_opens_backend_logs_filtered_to_that_trace_around_the_message(
    dashboards: dict[str, dict[str, Any]],
) -> None:
    panel, links = trace_id_links(dashboards)
    logs = [link for link in links if link["url"].startswith("/d/")]
    assert len(logs) == 1
    url = urlsplit(logs[0]["url"])
    assert url.path == "/d/qgx-backend-logs/backend-logs"
    params = dict(parse_qsl(url.query))
    assert params["var-trace_id"] == "${__value.raw}"
    assert params["from"] == "${__data.fields.from_ms}" and params["to"] == "${__data.fields.to_ms}"
    # The window the link reads is computed by the table's query, and its columns are hidden.
    (sql,) = queries_of(panel)
    assert re.search(r"\)\s*-\s*300\)\s*\*\s*1000 AS from_ms", sql)
    assert re.search(r"\)\s*\+\s*300\)\s*\*\s*1000 AS to_ms", sql)
    assert "trace_id" in sql
    hidden = {
        o["matcher"]["options"]
        for o in panel["fieldConfig"]["overrides"]
        if {"id": "custom.hidden", "value": True} in o["properties"]
    }
    assert hidden == {"from_ms", "to_ms"}
    # ... and Backend Logs filters every query by that trace id.
    for logs_panel in panels_of(dashboards["qgx-backend-logs"]):
        for query in queries_of(logs_panel):
            assert "|= `$trace_id`" in query, logs_panel["title"]


def test_trace_id_opens_the_trace_in_tempo(dashboards: dict[str, dict[str, Any]]) -> None:
    _, links = trace_id_links(dashboards)
    explore = [link for link in links if link["url"].startswith("/explore?")]
    assert len(explore) == 1
    params = dict(parse_qsl(urlsplit(explore[0]["url"]).query))
    pane = json.loads(unquote(params["panes"]))["explore"]
    assert pane["datasource"] == "qgx-tempo"
    (query,) = pane["queries"]
    assert query["datasource"] == {"type": "tempo", "uid": "qgx-tempo"}
    assert query["query"] == "${__value.raw}"
    assert pane["range"] == {"from": "${__data.fields.from_ms}", "to": "${__data.fields.to_ms}"}


# --- Catalog and schema --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return yaml.safe_load((REPO / "catalog.yaml").read_text())


def catalog_metrics(catalog: dict[str, Any]) -> dict[str, set[str]]:
    metrics: dict[str, set[str]] = {}
    for name, spec in catalog["metrics"].items():
        labels = set(spec["labels"]) | set(catalog["common_labels"])
        metrics[name] = labels
        if spec["type"] == "histogram":
            metrics[f"{name}_bucket"] = labels | {"le"}
            metrics[f"{name}_sum"] = metrics[f"{name}_count"] = labels
    return metrics


def test_catalog_lists_every_metric_and_label_the_dashboards_use(
    dashboards: dict[str, dict[str, Any]], catalog: dict[str, Any]
) -> None:
    known = catalog_metrics(catalog)
    assert {spec["type"] for spec in catalog["metrics"].values()} <= {"counter", "gauge", "histogram"}
    for name, spec in catalog["metrics"].items():
        assert (spec["type"] == "counter") == name.endswith("_total"), name
    selector = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
    seen = set()
    for uid, dashboard in dashboards.items():
        prometheus_texts = [
            q
            for p in panels_of(dashboard)
            if p.get("datasource", {}).get("type") == "prometheus"
            for q in queries_of(p)
        ]
        prometheus_texts += [
            v["query"]
            for v in dashboard["templating"]["list"]
            if v.get("datasource", {}).get("type") == "prometheus"
        ]
        for text in prometheus_texts:
            for metric, matchers in selector.findall(text):
                assert metric in known, f"{uid}: {metric} is not in catalog.yaml"
                labels = set(re.findall(r"(\w+)\s*[!=]~?", matchers))
                assert labels <= known[metric], f"{uid}: {metric} has no label(s) {labels - known[metric]}"
                seen.add(metric)
    assert {"kube_pod_status_phase", "container_cpu_usage_seconds_total", "qgx_events_total"} <= seen


def test_catalog_lists_the_loki_labels_and_json_fields(
    dashboards: dict[str, dict[str, Any]], catalog: dict
) -> None:
    labels, fields = set(catalog["loki"]["labels"]), set(catalog["loki"]["fields"])
    assert {"traceId", "level", "logger", "uri"} <= fields
    for panel in panels_of(dashboards["qgx-backend-logs"]):
        for query in queries_of(panel):
            stream = re.search(r"\{([^}]*)\}", query).group(1)
            assert set(re.findall(r"(\w+)=~?", stream)) <= labels
            assert set(re.findall(r"by \((\w+)\)", query)) <= fields


def test_mysql_schema_has_the_columns_the_dashboard_reads(
    dashboards: dict[str, dict[str, Any]], catalog: dict
) -> None:
    schema = (REPO / catalog["mysql"]["schema"]).read_text()
    table = re.search(r"CREATE TABLE raw_message \((.*)\)\s*ENGINE", schema, re.S).group(1)
    columns = set(re.findall(r"^\s+(\w+)\s+(?:BIGINT|VARCHAR|ENUM|CHAR|INT|SMALLINT|DATETIME)", table, re.M))
    assert {"id", "message_type", "status", "trace_id", "created_at", "updated_at", "processed_at"} <= columns
    words = set()
    for panel in panels_of(dashboards["qgx-raw-message-status"]):
        for sql in queries_of(panel):
            assert "FROM raw_message" in sql
            words |= set(re.findall(r"\b([a-z_]+_(?:at|id|type)|status|retries|last_error)\b", sql))
    assert words - {"from_ms", "to_ms"} <= columns, words - columns


# --- Source map and bad input ---------------------------------------------------------------------------------------


def test_source_map_points_every_panel_at_its_line(out: Path, dashboards: dict[str, dict[str, Any]]) -> None:
    sourcemap = json.loads((out / "sourcemap.json").read_text())
    for uid, dashboard in dashboards.items():
        module = EXPECTED[uid][1]
        file, line = sourcemap[f"dashboard:{uid}"].split(":")
        assert file == f"dashboards/{module}.py"
        assert "Board(" in (REPO / file).read_text().splitlines()[int(line) - 1]
        for panel in panels_of(dashboard):
            file, line = sourcemap[f"dashboard:{uid}/panel:{panel['id']}"].split(":")
            assert file == f"dashboards/{module}.py", panel["title"]
            text = (REPO / file).read_text().splitlines()[int(line) - 1]
            assert HELPER_OF[panel["type"]] in text, (
                f"{uid}: {panel['title']!r} maps to {file}:{line}: {text!r}"
            )


def test_a_row_too_wide_is_a_one_line_error_at_its_line(project_copy: Path) -> None:
    path = project_copy / "dashboards/backend_logs.py"
    text = path.read_text()
    anchor = "                    width=16,\n"
    assert anchor in text
    path.write_text(text.replace(anchor, "                    width=24,\n", 1))
    line = text[: text.index(anchor)].count("\n") + 1
    result = run_cli("--project", str(project_copy), "build", "--out", str(project_copy / "out"))
    assert result.returncode == 2, result.stderr
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "no room left" in err and "dashboards/backend_logs.py:" in err
    assert int(re.search(r"backend_logs\.py:(\d+)", err).group(1)) < line  # the row(...) call above the panel
    assert not (project_copy / "out").exists()
