"""Links to dashboards: relative ones between dashboards, absolute ones (per environment) for alerts."""

from __future__ import annotations

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
