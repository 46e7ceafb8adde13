"""Raw Message Status (placeholder: panels to come)."""

from grafanalib.core import Dashboard

from dashboards._folders import QGX
from lgtm_dash.model.dashboard import Board

dashboard = Board(Dashboard(title="Raw Message Status", uid="qgx-raw-message-status", panels=[]), folder=QGX)
