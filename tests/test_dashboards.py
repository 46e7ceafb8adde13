"""The team's dashboards, discovered in dashboards/ (a new module is tested without editing this file): they
compile to modern Grafana JSON, every reference in them resolves (datasources, variables, links, catalog), and
the source map points every panel at its line. A failure names the module's `file:line`. Tests of one named
dashboard (the MySQL drill-down, the Mimir/Thanos switch) check what that dashboard promises."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml

from lgtm_dash.artifacts import dashboard_path
from lgtm_dash.compile import build
from lgtm_dash.load import Project, definition_modules, load_project
from lgtm_dash.model.dashboard import SCHEMA_VERSION
from lgtm_dash.model.links import slugify
from tests.helpers import REPO, run_cli, shared

pytestmark = pytest.mark.content
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
def sourcemap(out: Path) -> dict[str, str]:
    return json.loads((out / "sourcemap.json").read_text())


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


def where(sourcemap: dict[str, str], uid: str, panel: dict[str, Any] | None = None) -> str:
    """`file:line: uid` of a dashboard, or of one of its panels, for failure messages."""
    if panel is not None:
        key = f"dashboard:{uid}/panel:{panel.get('id')}"
        if key in sourcemap:
            return f"{sourcemap[key]}: {uid}: panel {panel.get('title')!r}"
    return f"{sourcemap.get(f'dashboard:{uid}', uid)}: {uid}"


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


def test_every_module_in_dashboards_compiles_to_one_dashboard_file(
    out: Path, project: Project, sourcemap: dict[str, str]
) -> None:
    """Every dashboards/ module (sub-folders too, `_*.py` helpers aside) is one file in its folder's directory."""
    modules = {p.relative_to(REPO).as_posix() for p in definition_modules(REPO, "dashboards")}
    defined_in = {sourcemap[f"dashboard:{board.uid}"].rsplit(":", 1)[0] for board in project.dashboards}
    assert defined_in == modules, "a module in dashboards/ was not built, or a dashboard comes from elsewhere"
    assert {p.relative_to(out).as_posix() for p in (out / "grafana/dashboards").rglob("*.json")} == {
        dashboard_path(board.folder.uid, board.uid) for board in project.dashboards
    }
    folders = {f["uid"] for f in yaml.safe_load((out / "grafana/folders.yaml").read_text())["folders"]}
    assert {board.folder.uid for board in project.dashboards} <= folders


def test_the_team_s_dashboards_are_in_the_qgx_folder(
    out: Path, dashboards: dict[str, dict[str, Any]]
) -> None:
    folders = yaml.safe_load((out / "grafana/folders.yaml").read_text())["folders"]
    assert {"uid": "qgx", "title": "QGX"} in folders
    for uid in ("qgx-backend-logs", "qgx-pod-monitoring", "qgx-event-monitoring", "qgx-raw-message-status"):
        assert (out / dashboard_path("qgx", uid)).is_file(), uid


def test_modern_grafana_json(dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        if dashboard["schemaVersion"] != SCHEMA_VERSION:
            problems.append(f"{where(sourcemap, uid)}: schemaVersion {dashboard['schemaVersion']}")
        legacy = {"rows", "style", "hideControls", "sharedCrosshair", "__inputs", "id", "version"}
        if legacy & dashboard.keys():
            problems.append(f"{where(sourcemap, uid)}: legacy fields {sorted(legacy & dashboard.keys())}")
        if "time_options" in dashboard.get("timepicker", {}):
            problems.append(f"{where(sourcemap, uid)}: timepicker.time_options")
        for panel in panels_of(dashboard):
            at = where(sourcemap, uid, panel)
            if panel["type"] not in MODERN_PANELS:
                problems.append(f"{at}: a {panel['type']} panel")
            old = {"span", "editable", "error", "height", "minSpan", "maxDataPoints"} & panel.keys()
            if old:
                problems.append(f"{at}: legacy panel fields {sorted(old)}")
            ds = panel.get("datasource")
            if panel["type"] != "row" and not (isinstance(ds, dict) and set(ds) == {"type", "uid"}):
                problems.append(f"{at}: datasource {ds!r} is not a {{type, uid}} reference")
        for variable in dashboard["templating"]["list"]:
            if {"useTags", "tagsQuery", "tagValuesQuery"} & variable.keys():
                problems.append(f"{where(sourcemap, uid)}: variable {variable['name']} has tag fields")
    assert not problems, "\n".join(problems)


def test_every_numeric_panel_has_a_unit(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    problems = [
        f"{where(sourcemap, uid, panel)}: no unit"
        for uid, dashboard in dashboards.items()
        for panel in panels_of(dashboard)
        if panel["type"] in NUMERIC_PANELS and not panel["fieldConfig"]["defaults"].get("unit")
    ]
    assert not problems, "\n".join(problems)


def test_no_null_in_the_json(dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        nulls = [path for path, value in walk(dashboard) if value is None and not ALLOWED_NULL.match(path)]
        if nulls:
            problems.append(f"{where(sourcemap, uid)}: null at {nulls}")
    assert not problems, "\n".join(problems)


def test_panels_have_unique_ids_and_do_not_overlap(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        panels = list(panels_of(dashboard))
        ids = [p["id"] for p in panels]
        if len(ids) != len(set(ids)):
            problems.append(f"{where(sourcemap, uid)}: duplicate panel ids")
        taken: dict[tuple[int, int], str] = {}
        for panel in panels:
            pos = panel["gridPos"]
            if not (pos["x"] >= 0 and pos["w"] >= 1 and pos["x"] + pos["w"] <= 24):
                problems.append(f"{where(sourcemap, uid, panel)}: outside the 24-column grid: {pos}")
            cells = {
                (x, y)
                for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])
            }
            overlapped = sorted({taken[c] for c in cells if c in taken})
            if overlapped:
                problems.append(f"{where(sourcemap, uid, panel)}: overlaps {overlapped}")
            taken.update(dict.fromkeys(cells, panel["title"]))
    assert not problems, "\n".join(problems)


def test_compiled_dashboards_match_the_grafana_schema(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    import jsonschema

    schema = json.loads(shared("schemas/dashboard.jsonschema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for uid, dashboard in dashboards.items():
        rejected = [
            (path, message)
            for path, message in schema_errors(validator, dashboard)
            if not any(re.fullmatch(allowed, path) for allowed in SCHEMA_EXCEPTIONS)
        ]
        if rejected:
            problems.append(f"{where(sourcemap, uid)}: {rejected}")
    assert not problems, "\n".join(problems)


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
    dashboards: dict[str, dict[str, Any]], datasource_uids: set[str], sourcemap: dict[str, str]
) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        variables = variables_of(dashboard)
        refs = [
            (where(sourcemap, uid, p), p["datasource"]) for p in panels_of(dashboard) if "datasource" in p
        ]
        refs += [
            (f"{where(sourcemap, uid)}: variable {v['name']}", v["datasource"])
            for v in variables.values()
            if "datasource" in v
        ]
        for at, ref in refs:
            match = re.fullmatch(r"\$\{(\w+)\}", ref["uid"])
            if match:
                variable = variables.get(match.group(1))
                if not (variable and variable["type"] == "datasource"):
                    problems.append(f"{at}: {ref} is not a datasource variable")
                elif variable["query"] != ref["type"]:
                    problems.append(f"{at}: the variable lists other datasources than {ref['type']}")
                elif variable["current"]["value"] not in datasource_uids:
                    problems.append(f"{at}: the variable's default is not a known datasource")
            elif ref["uid"] not in datasource_uids:
                problems.append(f"{at}: unknown datasource {ref}")
    assert not problems, "\n".join(problems)


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


def test_every_variable_used_is_defined(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        defined = set(variables_of(dashboard))
        texts = [(where(sourcemap, uid, p), q) for p in panels_of(dashboard) for q in queries_of(p)]
        texts += [
            (where(sourcemap, uid, p), p["datasource"]["uid"])
            for p in panels_of(dashboard)
            if "datasource" in p
        ]
        texts += [
            (f"{where(sourcemap, uid)}: variable {v['name']}", v["query"])
            for v in dashboard["templating"]["list"]
            if isinstance(v.get("query"), str)
        ]
        for at, text in texts:
            if not used_variables(text) <= defined:
                problems.append(
                    f"{at}: undefined variable(s) {sorted(used_variables(text) - defined)} in {text!r}"
                )
    assert not problems, "\n".join(problems)


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


def test_every_link_points_at_an_existing_dashboard(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        for part, link in links_of(dashboard):
            at = f"{where(sourcemap, uid)}: {part}"
            url = link.get("url", "")
            if link.get("type") == "dashboards":  # a list of dashboards by tag
                tags = set(link.get("tags", []))
                if not any(tags <= set(d.get("tags", [])) for d in dashboards.values() if d["uid"] != uid):
                    problems.append(f"{at}: no other dashboard has the tags {sorted(tags)}")
                continue
            match = re.match(r"^/d/([^/?]+)/([^/?]+)", url)
            if match:
                target, slug = match.groups()
                if target not in dashboards:
                    problems.append(f"{at}: link to unknown dashboard {url}")
                elif slug != slugify(dashboards[target]["title"]):
                    problems.append(f"{at}: stale slug in {url}")
            elif not url.startswith("/explore?"):
                problems.append(f"{at}: unexpected link {url}")
    assert not problems, "\n".join(problems)


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
    dashboards: dict[str, dict[str, Any]], catalog: dict[str, Any], sourcemap: dict[str, str]
) -> None:
    known = catalog_metrics(catalog)
    assert {spec["type"] for spec in catalog["metrics"].values()} <= {"counter", "gauge", "histogram"}
    for name, spec in catalog["metrics"].items():
        assert (spec["type"] == "counter") == name.endswith("_total"), name
    selector = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
    problems, seen = [], set()
    for uid, dashboard in dashboards.items():
        texts = [
            (where(sourcemap, uid, p), q)
            for p in panels_of(dashboard)
            if p.get("datasource", {}).get("type") == "prometheus"
            for q in queries_of(p)
        ]
        texts += [
            (f"{where(sourcemap, uid)}: variable {v['name']}", v["query"])
            for v in dashboard["templating"]["list"]
            if v.get("datasource", {}).get("type") == "prometheus"
        ]
        for at, text in texts:
            for metric, matchers in selector.findall(text):
                labels = set(re.findall(r"(\w+)\s*[!=]~?", matchers))
                if metric not in known:
                    problems.append(f"{at}: {metric} is not in catalog.yaml")
                elif not labels <= known[metric]:
                    problems.append(
                        f"{at}: {metric} has no label(s) {sorted(labels - known[metric])} in catalog.yaml"
                    )
                seen.add(metric)
    assert not problems, "\n".join(problems)
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


def test_source_map_points_every_panel_at_its_line(
    dashboards: dict[str, dict[str, Any]], sourcemap: dict[str, str]
) -> None:
    problems = []
    for uid, dashboard in dashboards.items():
        file, line = sourcemap[f"dashboard:{uid}"].rsplit(":", 1)
        if (
            not file.startswith("dashboards/")
            or "Board(" not in (REPO / file).read_text().splitlines()[int(line) - 1]
        ):
            problems.append(f"{file}:{line}: {uid}: the source map does not point at its Board(...)")
        for panel in panels_of(dashboard):
            key = f"dashboard:{uid}/panel:{panel['id']}"
            if key not in sourcemap:
                problems.append(
                    f"{file}: {uid}: panel {panel['title']!r} has no source line "
                    "(build panels with the helpers of lgtm_dash.model.panels)"
                )
                continue
            panel_file, panel_line = sourcemap[key].rsplit(":", 1)
            text = (REPO / panel_file).read_text().splitlines()[int(panel_line) - 1]
            helper = HELPER_OF.get(panel["type"])
            if panel_file != file or (helper and helper not in text):
                problems.append(f"{sourcemap[key]}: {uid}: panel {panel['title']!r} maps to {text.strip()!r}")
    assert not problems, "\n".join(problems)


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
