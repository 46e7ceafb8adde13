"""Pod Monitoring (placeholder: panels to come)."""

from grafanalib.core import Dashboard

from dashboards._folders import QGX
from lgtm_dash.model.dashboard import Board

dashboard = Board(Dashboard(title="Pod Monitoring", uid="qgx-pod-monitoring", panels=[]), folder=QGX)
