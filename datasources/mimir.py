"""Mimir: container metrics and the Alloy-derived qgx_http_* metrics; exemplars link to Tempo."""

from datasources import _uids as uids
from lgtm_dash.model.datasource import prometheus

datasource = prometheus(
    uid=uids.MIMIR,
    name="Mimir",
    flavor="Mimir",
    tenant_header=True,
    scrape_interval="30s",
    exemplar_trace_uid=uids.TEMPO,
    exemplar_label="trace_id",
)
