"""Loki: pod logs shipped by Alloy. A trace id in a backend JSON log line links to the trace in Tempo."""

from datasources import _uids as uids
from lgtm_dash.model.datasource import loki, trace_id_field

datasource = loki(
    uid=uids.LOKI,
    name="Loki",
    derived_fields=[
        # The backend logs JSON with a `traceId` field; match it in the raw line.
        trace_id_field(tempo_uid=uids.TEMPO, name="traceId", regex=r'"traceId"\s*:\s*"(\w+)"'),
    ],
    timeout=60,
)
