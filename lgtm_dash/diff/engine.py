"""`diff_artifacts`: two out/ trees (read with lgtm_dash.artifacts) → a DiffReport."""

from __future__ import annotations

from ..artifacts import Artifacts
from .alertmanager import diff_alertmanager
from .dashboards import diff_dashboards, diff_folders
from .datasources import diff_datasources
from .report import DiffReport
from .rules import diff_rules


def diff_artifacts(old: Artifacts, new: Artifacts) -> DiffReport:
    """What changes when `old` is replaced by `new`: dashboards, folders, rules, routing, datasources."""
    return DiffReport(
        changes=(
            *diff_dashboards(old, new),
            *diff_folders(old, new),
            *diff_rules(old, new),
            *diff_alertmanager(old, new),
            *diff_datasources(old, new),
        )
    )
