"""Thanos Query in front of the cluster that keeps Prometheus for long-term metrics (no tenants)."""

from datasources import _uids as uids
from lgtm_dash.model.datasource import prometheus

datasource = prometheus(
    uid=uids.THANOS,
    name="Thanos",
    flavor="Thanos",
    tenant_header=False,
    scrape_interval="30s",
    exemplar_trace_uid=uids.TEMPO,
)
