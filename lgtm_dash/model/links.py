"""Links to dashboards: relative ones between dashboards, absolute ones (per environment) for alerts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


def slugify(title: str) -> str:
    """Grafana's URL slug of a dashboard title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _query(params: Mapping[str, str | list[str]]) -> str:
    # Keep Grafana's ${...} / {{ ... }} templating readable: only escape what would break the URL.
    safe = "$:{}[]/.,()|*"
    parts: list[str] = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"{key}={quote(str(item), safe=safe)}" if item != "" else key)
    return "&".join(parts)


def dashboard_path(uid: str, title: str, params: Mapping[str, str | list[str]] | None = None) -> str:
    """`/d/<uid>/<slug>?…`: the path Grafana serves a dashboard at."""
    path = f"/d/{uid}/{slugify(title)}"
    return f"{path}?{_query(params)}" if params else path


def explore_path(
    datasource: Mapping[str, str], query: Mapping[str, Any], *, time_from: str, time_to: str
) -> str:
    """`/explore?…`: Grafana Explore running one `query` on `datasource` (a `{"type","uid"}` ref) over a range."""
    pane = {
        "datasource": datasource["uid"],
        "queries": [{"refId": "A", "datasource": dict(datasource), **query}],
        "range": {"from": time_from, "to": time_to},
    }
    panes = json.dumps({"explore": pane}, separators=(",", ":"), sort_keys=True)
    return "/explore?" + _query({"schemaVersion": "1", "panes": panes})


@dataclass(frozen=True)
class DashboardURL:
    """An absolute dashboard URL on an environment's Grafana (rendered at build time).

    Use it for alert annotations: `dashboard_url=DashboardURL(pod_monitoring.dashboard, {"var-namespace":
    "{{ $labels.namespace }}"})`. The dashboard object, not a typed string, decides the uid and slug.
    """

    board: Any  # a Board (anything with .uid and .title)
    params: Mapping[str, str | list[str]] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        return self.board.uid

    def render(self, env: Any) -> str:
        base = env.grafana.url.rstrip("/") if env is not None else ""
        return base + dashboard_path(self.board.uid, self.board.title, self.params)
