"""Dashboards that exercise what this repository's own dashboards do not: every layout problem, collapsed and
repeated rows, a legacy `rows` dashboard, and hostile text everywhere a dashboard can put text."""

from __future__ import annotations

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE_COLOR = "red; background-image: url(http://127.0.0.1:9/leak.png)"


def panel(pid: int, title: str, x: float, y: float, w: float, h: float, **extra: object) -> dict:
    return {
        "id": pid,
        "title": title,
        "type": "timeseries",
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "datasource": {"type": "prometheus", "uid": "fixture-prom"},
        "targets": [{"refId": "A", "expr": f'sum(rate(requests_total{{panel="{pid}"}}[5m]))'}],
        **extra,
    }


TRICKY = {
    "uid": "fixture-tricky",
    "title": "Tricky " + HOSTILE,
    "description": HOSTILE,
    "tags": ["fixture", HOSTILE],
    "time": {"from": "now-1h", "to": "now"},
    "templating": {
        "list": [
            {
                "name": "pod",
                "label": "Pod " + HOSTILE,
                "type": "query",
                "query": 'label_values(up{job="' + HOSTILE + '"}, pod)',
                "datasource": {"type": "prometheus", "uid": "fixture-prom"},
                "current": {"text": ["a", "b"], "value": ["a", "b"]},
                "multi": True,
                "includeAll": True,
            },
            {"name": "hidden_one", "type": "constant", "query": "42", "hide": 2},
        ]
    },
    "links": [
        {"type": "link", "title": "Same site", "url": "/d/fixture-legacy/legacy?orgId=1"},
        {"type": "link", "title": "Script link", "url": "javascript:alert(1)"},
        {"type": "link", "title": "External", "url": "https://grafana.com/docs/"},
        {"type": "dashboards", "title": "Fixtures", "tags": ["fixture"], "asDropdown": True},
    ],
    "panels": [
        panel(
            1,
            "Stat with thresholds " + HOSTILE,
            0,
            0,
            8,
            4,
            type="stat",
            fieldConfig={
                "defaults": {
                    "unit": "percentunit",
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [
                            {"color": "green", "value": None},
                            {"color": "#EAB839", "value": 0.5},
                            {"color": HOSTILE_COLOR, "value": 0.9},
                        ],
                    },
                    "links": [{"title": "Data link " + HOSTILE, "url": "javascript:alert(2)"}],
                }
            },
            links=[{"title": "To legacy", "url": "/d/fixture-legacy"}],
        ),
        panel(2, "Overlapped", 8, 0, 8, 6),
        panel(3, "Overlapping", 12, 2, 8, 6),  # overlaps "Overlapped": Grafana pushes it down
        panel(4, "Too wide", 20, 0, 8, 4),  # leaves the grid on the right
        panel(5, "Floating", 0, 20, 8, 4),  # a gap above it closes
        {"id": 6, "type": "row", "title": "Expanded row", "gridPos": {"x": 0, "y": 30, "w": 24, "h": 1}},
        panel(7, "Repeated", 0, 31, 8, 4, repeat="pod", repeatDirection="h", maxPerRow=3),
        {
            "id": 8,
            "type": "row",
            "title": "Folded " + HOSTILE,
            "collapsed": True,
            "repeat": "pod",
            "gridPos": {"x": 0, "y": 35, "w": 24, "h": 1},
            "panels": [panel(9, "Inside A", 0, 36, 12, 6), panel(10, "Inside B", 12, 36, 12, 6)],
        },
        panel(11, "No size", 0, 36, 0, 4),
        {
            "id": 12,
            "title": "Mixed queries",
            "type": "table",
            "gridPos": {"x": 0, "y": 36, "w": 24, "h": 5},
            "datasource": {"type": "datasource", "uid": "-- Mixed --"},
            "targets": [
                {
                    "refId": "A",
                    "datasource": {"type": "loki", "uid": "fixture-loki"},
                    "expr": '{app="x"} |= `' + HOSTILE + "`",
                },
                {
                    "refId": "B",
                    "datasource": {"type": "mysql", "uid": "fixture-mysql"},
                    "rawSql": "SELECT 1 < 2",
                    "hide": True,
                },
            ],
        },
    ],
}

LEGACY = {
    "uid": "fixture-legacy",
    "title": "Legacy rows",
    "tags": ["fixture"],
    "schemaVersion": 14,
    "rows": [
        {
            "title": "Top",
            "showTitle": True,
            "height": 250,
            "panels": [
                {
                    "id": 1,
                    "title": "Left",
                    "type": "graph",
                    "span": 6,
                    "targets": [{"refId": "A", "expr": "up"}],
                },
                {"id": 2, "title": "Right", "type": "singlestat", "span": 6, "format": "bytes"},
            ],
        },
        {
            "title": "Folded",
            "collapse": True,
            "height": "200px",
            "panels": [{"id": 3, "title": "Hidden", "span": 12}],
        },
    ],
}

DATASOURCES = [
    {"name": "Fixture Prometheus", "type": "prometheus", "uid": "fixture-prom"},
    {"name": "Fixture Loki", "type": "loki", "uid": "fixture-loki"},
]
