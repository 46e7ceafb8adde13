"""What every QGX alert shares: severities, the runbook base, the four annotations, expected test alerts."""

from __future__ import annotations

from collections.abc import Mapping

from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import EnvironmentValue, ExpectedAlert

RUNBOOK_BASE = "https://runbooks.qgx.example.com"

CRITICAL = {"severity": "critical"}
WARNING = {"severity": "warning"}
INFO = {"severity": "info"}


def runbook_url(alertname: str) -> str:
    return f"{RUNBOOK_BASE}/{alertname}"


def annotations(
    alertname: str, summary: str, description: str, dashboard: DashboardURL
) -> dict[str, str | EnvironmentValue]:
    """summary, description, runbook_url and dashboard_url (rendered per environment from the board)."""
    return {
        "summary": summary,
        "description": description,
        "runbook_url": runbook_url(alertname),
        "dashboard_url": dashboard,
    }


def expected(
    alertname: str,
    labels: Mapping[str, str],
    summary: str,
    description: str,
    dashboard: DashboardURL,
) -> ExpectedAlert:
    """An alert a unit test expects: `dashboard` carries the concrete variable values the template yields."""
    return ExpectedAlert(labels=labels, annotations=annotations(alertname, summary, description, dashboard))
