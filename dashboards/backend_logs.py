"""Backend Logs (placeholder: panels to come)."""

from grafanalib.core import Dashboard

from dashboards._folders import QGX
from lgtm_dash.model.dashboard import Board

dashboard = Board(Dashboard(title="Backend Logs", uid="qgx-backend-logs", panels=[]), folder=QGX)
