"""Dashboards: a grafanalib `Dashboard` placed in a folder, rendered to modern, null-free Grafana JSON.

(Minimal version from the foundation; the dashboards work extends it with panel helpers.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard

from ..source import SourceLocation, caller_location, location_of
from .folder import Folder
from .uid import check_uid

SCHEMA_VERSION = 41
# Every dashboard built here carries this tag: `publish --prune` only ever deletes dashboards that have it.
MANAGED_TAG = "lgtm-dash"


def strip_nulls(value: Any) -> Any:
    """Drop `null`s and the empty containers grafanalib emits by default, so diffs stay small."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    data = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    data = strip_nulls(data)
    data.pop("id", None)
    data["schemaVersion"] = SCHEMA_VERSION
    data["tags"] = sorted(set(data.get("tags") or []) | {MANAGED_TAG})
    return data


@dataclass(frozen=True)
class Board:
    """What a dashboards/ module exposes as `dashboard`."""

    dashboard: Dashboard
    folder: Folder
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        check_uid(self.dashboard.uid, f"dashboard {self.dashboard.title!r}", self.location)

    @property
    def uid(self) -> str:
        return self.dashboard.uid

    @property
    def title(self) -> str:
        return self.dashboard.title

    def to_json(self) -> dict[str, Any]:
        return dashboard_json(self.dashboard)

    def source_map(self) -> dict[str, SourceLocation]:
        """`panel:<id>` for every panel whose constructor recorded its definition line."""
        entries: dict[str, SourceLocation] = {}
        panels = list(self.dashboard.panels or [])
        for row in self.dashboard.rows or []:
            panels.extend(getattr(row, "panels", []) or [])
        for panel in panels:
            loc = location_of(panel)
            if loc is not None and getattr(panel, "id", None) is not None:
                entries[f"panel:{panel.id}"] = loc
        return entries
