"""What dashboard checks read of a dashboard: labels for messages, datasource references, links, panel kinds."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .context import QUERY_FIELDS
from .inputs import DashboardDoc, PanelDoc

GRID_COLUMNS = 24
DASHBOARD_LINK = re.compile(r"/d/([A-Za-z0-9_-]+)")
# Panel types that show query results (core panels of Grafana 7-12 and the legacy ones). Other (plugin) panel
# types may or may not query: checks that need to know leave them alone.
DATA_PANELS = frozenset({
    "timeseries", "graph", "stat", "singlestat", "gauge", "bargauge", "table", "table-old", "piechart",
    "grafana-piechart-panel", "heatmap", "barchart", "histogram", "state-timeline", "status-history", "logs",
    "geomap", "xychart", "trend", "candlestick", "nodeGraph", "traces", "flamegraph",
})  # fmt: skip


def panel_label(dash: DashboardDoc, panel: PanelDoc) -> str:
    return f"{dash.label}, panel {panel.title or f'id {panel.id}'!r}"


def ref_uid(ref: Any) -> str | None:
    uid = ref.get("uid") if isinstance(ref, Mapping) else ref
    return uid if isinstance(uid, str) and uid else None


def datasource_refs(dash: DashboardDoc) -> Iterator[tuple[Any, PanelDoc | None, str]]:
    """(reference, panel or None, what) for every datasource reference of a dashboard."""
    for panel in dash.panels:
        if "datasource" in panel.data:
            yield panel.data["datasource"], panel, "panel datasource"
        for target in panel.data.get("targets") or []:
            if isinstance(target, Mapping) and "datasource" in target:
                what = f"query {target.get('refId') or ''} datasource".replace("  ", " ")
                yield target["datasource"], panel, what
    for variable in dash.templating:
        if "datasource" in variable:
            yield variable["datasource"], None, f"variable {variable.get('name')!r} datasource"
    annotations = dash.data.get("annotations")
    for annotation in (annotations.get("list") if isinstance(annotations, Mapping) else None) or []:
        if isinstance(annotation, Mapping) and "datasource" in annotation:
            yield annotation["datasource"], None, f"annotation {annotation.get('name')!r} datasource"


def link_urls(dash: DashboardDoc) -> Iterator[tuple[str, PanelDoc | None]]:
    """Every link URL of a dashboard: dashboard links, panel links, data links (defaults and overrides)."""
    for link in dash.data.get("links") or []:
        if isinstance(link, Mapping) and isinstance(link.get("url"), str):
            yield link["url"], None
    for panel in dash.panels:
        links = list(panel.data.get("links") or [])
        config = panel.data.get("fieldConfig") or {}
        links += list((config.get("defaults") or {}).get("links") or [])
        for override in config.get("overrides") or []:
            for prop in (override or {}).get("properties") or []:
                if (
                    isinstance(prop, Mapping)
                    and prop.get("id") == "links"
                    and isinstance(prop.get("value"), list)
                ):
                    links += prop["value"]
        for link in links:
            if isinstance(link, Mapping) and isinstance(link.get("url"), str):
                yield link["url"], panel


def target_has_query(target: Mapping[str, Any]) -> bool:
    """False for a target left empty (`"expr": ""`): Grafana does not run it."""
    if "panelId" in target:
        return True  # reuses another panel's results
    texts = [target[f] for f in QUERY_FIELDS if f in target]
    return not texts or any(not isinstance(t, str) or t.strip() for t in texts)
