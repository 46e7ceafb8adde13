"""HTTP Service Overview (placeholder: panels to come)."""

from grafanalib.core import Dashboard

from dashboards._folders import QGX
from lgtm_dash.model.dashboard import Board

dashboard = Board(Dashboard(title="HTTP Service Overview", uid="qgx-http-overview", panels=[]), folder=QGX)
