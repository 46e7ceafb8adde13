"""Pinned datasource UIDs, shared by the datasources that link to each other."""

LOKI = "qgx-loki"
MIMIR = "qgx-mimir"
TEMPO = "qgx-tempo"
THANOS = "qgx-thanos"
MYSQL = "qgx-mysql"
