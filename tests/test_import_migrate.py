"""Grafana's load-time dashboard migrations as the importer ports them.

The expected values are the examples Grafana documents for each step (grafana/grafana
apps/dashboard/pkg/migration/schemaversion/v<N>.go, and the panel handlers named in
lgtm_dash/importer/panel_migrations.py), worked through by hand where a case combines several rules.
"""

from __future__ import annotations

from typing import Any

from lgtm_dash.importer.datasources import DatasourceIndex, KnownDatasource
from lgtm_dash.importer.migrate import migrate

PROM = KnownDatasource("prom-uid", "Prometheus", "prometheus")
INDEX = DatasourceIndex.of([PROM])


def load(dashboard: dict[str, Any], index: DatasourceIndex = INDEX) -> dict[str, Any]:
    return migrate({"title": "t", "uid": "u", **dashboard}, index).dashboard


def only_panel(dashboard: dict[str, Any], **panel: Any) -> dict[str, Any]:
    return load({"schemaVersion": dashboard.get("schemaVersion", 27), "panels": [{"id": 1, **panel}]})[
        "panels"
    ][0]


def test_a_current_dashboard_is_left_as_it_is() -> None:
    dashboard = {
        "title": "t",
        "uid": "u",
        "schemaVersion": 41,
        "panels": [{"id": 3, "type": "timeseries", "options": {}}],
    }
    assert migrate(dashboard, INDEX).dashboard == dashboard
    assert migrate(dashboard, INDEX).notes == []


def test_v16_legacy_rows_become_grid_panels() -> None:
    """upgradeToGridLayout: span × 2 columns, heights in 38px rows, collapsed rows hold their panels."""
    loaded = load(
        {
            "schemaVersion": 14,
            "rows": [
                {
                    "title": "A",
                    "showTitle": True,
                    "height": "250px",
                    "panels": [
                        {"id": 1, "span": 4},
                        {"id": 2, "span": 8, "height": 400},
                        {"id": 3, "span": 12},
                    ],
                },
                {"title": "B", "collapse": True, "height": 150, "panels": [{"id": 4, "span": 6}]},
            ],
        }
    )
    grid = {p["id"]: p["gridPos"] for p in loaded["panels"]}
    assert grid[5] == {"x": 0, "y": 0, "w": 24, "h": 7}  # row "A": its header, one id above the panels
    assert grid[1] == {"x": 0, "y": 1, "w": 8, "h": 7}
    assert grid[2] == {"x": 8, "y": 1, "w": 16, "h": 11}  # 400px
    assert grid[3] == {"x": 0, "y": 8, "w": 24, "h": 7}  # wrapped to the next line of the row
    collapsed = next(p for p in loaded["panels"] if p.get("title") == "B")
    assert collapsed["collapsed"] is True and [p["id"] for p in collapsed["panels"]] == [4]
    assert collapsed["panels"][0]["gridPos"] == {"x": 0, "y": 16, "w": 12, "h": 4}
    assert [p["id"] for p in loaded["panels"]] == [5, 1, 2, 3, 6]  # sorted by position, as Grafana keeps them
    assert "rows" not in loaded and all("span" not in p for p in loaded["panels"])


def test_v17_min_span_becomes_max_per_row() -> None:
    assert only_panel({"schemaVersion": 16}, type="graph-x", minSpan=8)["maxPerRow"] == 3


def test_v19_panel_links_become_urls() -> None:
    panel = only_panel(
        {"schemaVersion": 18},
        links=[{"dashboard": "my dashboard", "keepTime": True, "includeVars": True, "params": "customParam"}],
    )
    assert panel["links"] == [
        {"url": "dashboard/db/my-dashboard?$__url_time_range&$__all_variables&customParam", "title": ""}
    ]


def test_v20_and_v21_data_link_variables() -> None:
    options = {"dataLinks": [{"url": "http://x?s=$__series_name&t=__value_time&l=${__series.labels.a}"}]}
    panel = only_panel({"schemaVersion": 19}, type="x", options=options)
    assert (
        panel["options"]["dataLinks"][0]["url"]
        == "http://x?s=${__series.name}&t=__value.time&l=${__field.labels.a}"
    )


def test_v23_current_follows_multi() -> None:
    variables = [
        {"name": "a", "type": "query", "multi": True, "current": {"value": "A", "text": "A"}},
        {"name": "b", "type": "custom", "multi": False, "current": {"value": ["B"], "text": ["B"]}},
    ]
    loaded = load({"schemaVersion": 22, "templating": {"list": variables}})
    assert [v["current"] for v in loaded["templating"]["list"]] == [
        {"value": ["A"], "text": ["A"]},
        {"value": "B", "text": "B"},
    ]


def test_v24_angular_table_becomes_the_react_table() -> None:
    """tablePanelChangedHandler: the /.*/ style is the defaults, the other styles overrides."""
    panel = only_panel(
        {"schemaVersion": 23},
        type="table",
        title="Pods",
        transform="timeseries_aggregations",
        columns=[{"value": "avg", "text": "Avg"}, {"value": "current", "text": "Current"}],
        styles=[
            {
                "pattern": "/.*/",
                "unit": "short",
                "decimals": 2,
                "thresholds": ["10", "20"],
                "colors": ["green", "orange", "red"],
            },
            {"pattern": "Time", "type": "date", "dateFormat": "YYYY-MM-DD", "alias": "When"},
            {"pattern": "/^instance$/", "type": "hidden"},
        ],
        fontSize="100%",
    )
    assert panel["type"] == "table" and "styles" not in panel and "fontSize" not in panel
    assert panel["transformations"] == [
        {"id": "reduce", "options": {"reducers": ["mean", "lastNotNull"], "includeTimeField": False}}
    ]
    defaults = panel["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["decimals"]) == ("short", 2)
    assert defaults["thresholds"]["steps"] == [
        {"color": "green", "value": None}, {"color": "orange", "value": 10}, {"color": "red", "value": 20}
    ]  # fmt: skip
    by_name, hidden = panel["fieldConfig"]["overrides"]
    assert by_name["matcher"] == {"id": "byName", "options": "Time"}
    assert {"id": "unit", "value": "time: YYYY-MM-DD"} in by_name["properties"]
    assert {"id": "displayName", "value": "When"} in by_name["properties"]
    assert (
        hidden["matcher"]["id"] == "byRegexp"
        and {"id": "custom.hidden", "value": True} in hidden["properties"]
    )


def test_v27_constants_and_v28_variable_tags() -> None:
    variables = [
        {"name": "env", "type": "constant", "query": "prod", "hide": 0},
        {"name": "job", "type": "query", "tags": ["x"], "tagsQuery": "q", "useTags": True},
    ]
    constant, query = load({"schemaVersion": 26, "templating": {"list": variables}})["templating"]["list"]
    assert constant["type"] == "textbox" and constant["current"] == {
        "selected": True,
        "text": "prod",
        "value": "prod",
    }
    assert "tags" not in query and "useTags" not in query and query["refresh"] == 1


def test_v30_value_mappings_and_v31_merge_after_labels_to_fields() -> None:
    panel = only_panel(
        {"schemaVersion": 29},
        type="stat",
        fieldConfig={
            "defaults": {
                "mappings": [
                    {"id": 0, "text": "Up", "type": 1, "value": "1"},
                    {"id": 1, "text": "Down", "type": 1, "value": "0"},
                    {"from": "10", "to": "20", "text": "Medium", "type": 2},
                ]
            },
            "overrides": [],
        },
        transformations=[{"id": "labelsToFields", "options": {}}, {"id": "organize", "options": {}}],
    )
    assert panel["fieldConfig"]["defaults"]["mappings"] == [
        {"type": "value", "options": {"1": {"text": "Up"}, "0": {"text": "Down"}}},
        {"type": "range", "options": {"from": 10, "to": 20, "result": {"text": "Medium"}}},
    ]
    assert [t["id"] for t in panel["transformations"]] == ["labelsToFields", "merge", "organize"]


def test_v33_and_v36_datasource_references() -> None:
    """Legacy names become `{uid, type}` refs of the datasource of that name; unknown names keep the name as uid."""
    panels = [
        {
            "id": 1,
            "type": "timeseries",
            "datasource": "Prometheus",
            "targets": [{"refId": "A", "expr": "up"}],
        },
        {
            "id": 2,
            "type": "timeseries",
            "datasource": "Gone",
            "targets": [{"refId": "A", "datasource": "$ds"}],
        },
        {"id": 3, "type": "timeseries", "targets": [{"refId": "A"}]},
    ]
    known, gone, default = load({"schemaVersion": 27, "panels": panels})["panels"]
    ref = {"uid": "prom-uid", "type": "prometheus"}
    assert known["datasource"] == ref and known["targets"][0]["datasource"] == ref
    assert gone["datasource"] == {"uid": "Gone"} and gone["targets"][0]["datasource"] == {"uid": "$ds"}
    assert default.get("datasource") is None  # the project has no default datasource
    with_default = DatasourceIndex.of([KnownDatasource("prom-uid", "Prometheus", "prometheus", default=True)])
    assert load({"schemaVersion": 27, "panels": [panels[2]]}, with_default)["panels"][0]["datasource"] == ref


def test_v35_to_v41() -> None:
    loaded = load(
        {
            "schemaVersion": 34,
            "refresh": False,
            "timepicker": {"refresh_intervals": ["5s"], "time_options": ["5m"]},
            "panels": [
                {
                    "id": 1,
                    "type": "timeseries",
                    "fieldConfig": {"defaults": {"custom": {"axisPlacement": "hidden"}}, "overrides": []},
                    "options": {"legend": {"displayMode": "hidden"}},
                },
                {
                    "id": 2,
                    "type": "table",
                    "fieldConfig": {
                        "defaults": {"custom": {"displayMode": "gradient-gauge"}},
                        "overrides": [
                            {
                                "matcher": {"id": "byName", "options": "CPU"},
                                "properties": [
                                    {"id": "custom.displayMode", "value": "color-background-solid"}
                                ],
                            }
                        ],
                    },
                    "transformations": [{"id": "timeSeriesTable", "options": {"refIdToStat": {"A": "mean"}}}],
                },
            ],
        }
    )
    series, table = loaded["panels"]
    assert series["fieldConfig"]["overrides"] == [
        {
            "matcher": {"id": "byType", "options": "time"},
            "properties": [{"id": "custom.axisPlacement", "value": "auto"}],
        }
    ]
    assert series["options"]["legend"] == {"displayMode": "list", "showLegend": False}
    assert table["fieldConfig"]["defaults"]["custom"] == {
        "cellOptions": {"type": "gauge", "mode": "gradient"}
    }
    assert table["fieldConfig"]["overrides"][0]["properties"] == [
        {"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}}
    ]
    assert table["transformations"][0]["options"] == {"A": {"stat": "mean"}}
    assert (loaded["refresh"], loaded["timepicker"], loaded["schemaVersion"]) == (
        "",
        {"refresh_intervals": ["5s"]},
        41,
    )


def test_graph_panel_becomes_a_time_series_like_grafana_migrates_it() -> None:
    """graphPanelChangedHandler / flotToGraphOptions."""
    panel = only_panel(
        {"schemaVersion": 39},
        type="graph",
        title="Latency",
        bars=False,
        lines=True,
        points=False,
        fill=2,
        linewidth=1,
        stack=True,
        steppedLine=True,
        nullPointMode="connected",
        yaxes=[
            {"format": "s", "show": True, "logBase": 2, "label": "seconds"},
            {"format": "percent", "show": True},
        ],
        aliasColors={"p99": "red"},
        seriesOverrides=[{"alias": "/p9.*/", "yaxis": 2, "fill": 0}, {"alias": "p50", "dashes": True}],
        legend={"show": True, "rightSide": True, "values": True, "avg": True, "total": False},
        tooltip={"shared": True, "sort": 2},
        thresholds=[{"op": "gt", "value": 1, "colorMode": "critical", "fill": True, "line": False}],
        xaxis={"show": False, "mode": "time"},
        renderer="flot",
    )
    assert panel["type"] == "timeseries" and "renderer" not in panel and "yaxes" not in panel
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["unit"] == "s" and defaults["nullValueMode"] == "connected"
    assert defaults["custom"] == {
        "axisPlacement": "auto",
        "axisLabel": "seconds",
        "scaleDistribution": {"type": "log", "log": 2},
        "drawStyle": "line",
        "showPoints": "never",
        "lineWidth": 1,
        "fillOpacity": 20,
        "spanNulls": True,
        "lineInterpolation": "stepAfter",
        "stacking": {"mode": "normal", "group": "A"},
        "thresholdsStyle": {"mode": "area"},
    }
    assert defaults["thresholds"] == {
        "mode": "absolute",
        "steps": [{"color": "transparent", "value": None}, {"value": 1, "color": "red"}],
    }
    colors, p9x, p50, time_axis = panel["fieldConfig"]["overrides"]
    assert colors["properties"] == [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]
    assert p9x["matcher"] == {"id": "byRegexp", "options": "/p9.*/"}
    # the right axis: what it sets differently from the left one
    assert p9x["properties"] == [{"id": "unit", "value": "percent"}, {"id": "custom.fillOpacity", "value": 0}]
    assert p50["properties"] == [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]
    assert time_axis["matcher"] == {"id": "byType", "options": "time"}
    assert panel["options"] == {
        "legend": {"displayMode": "list", "showLegend": True, "placement": "right", "calcs": ["mean"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }


def test_singlestat_becomes_a_stat_like_grafana_migrates_it() -> None:
    panel = only_panel(
        {"schemaVersion": 39},
        type="singlestat",
        format="bytes",
        valueName="avg",
        decimals=0,
        colorBackground=True,
        sparkline={"show": True},
        thresholds="100,200",
        colors=["green", "orange", "red"],
        mappingType=1,
        valueMaps=[{"op": "=", "text": "300", "value": "3"}],
        gauge={"show": False},
    )
    assert panel["type"] == "stat"
    assert panel["options"] == {
        "reduceOptions": {"calcs": ["mean"]},
        "orientation": "horizontal",
        "graphMode": "area",
        "colorMode": "background",
    }
    defaults = panel["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["decimals"]) == ("bytes", 0)
    # a mapped text that is a number takes the colour its value would have had
    assert defaults["mappings"] == [{"type": "value", "options": {"3": {"text": "300", "color": "red"}}}]
