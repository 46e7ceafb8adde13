"""Folders the dashboards live in."""

from lgtm_dash.model.folder import Folder

QGX = Folder(uid="qgx", title="QGX")
