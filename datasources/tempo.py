"""Tempo: traces from the applications; spans link to their logs in Loki and metrics in Mimir."""

from datasources import _uids as uids
from lgtm_dash.model.datasource import tempo

datasource = tempo(
    uid=uids.TEMPO,
    name="Tempo",
    logs_uid=uids.LOKI,
    metrics_uid=uids.MIMIR,
    span_tags=[{"key": "k8s.namespace.name", "value": "namespace"}],
    # The backend's JSON log lines carry the trace id as `traceId`.
    trace_id_log_query='{namespace="${__span.tags["k8s.namespace.name"]}"} |= "${__trace.traceId}" | json',
)
