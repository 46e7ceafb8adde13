"""HTTP Service Overview (Mimir): request rate, error ratio and latency of the backend, by uri, method and status.

Metrics Alloy derives from the backend's JSON access logs (see catalog.yaml): `qgx_http_requests_total`,
`qgx_http_errors_total` (counters) and `qgx_http_request_duration_ms` (histogram, milliseconds). Every graph by
uri links to Backend Logs with the same cluster, namespace and service, searching for that uri.
"""

from grafanalib.core import Dashboard, Templating

from dashboards import _common as qgx
from dashboards import backend_logs
from dashboards._common import MIMIR
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.links import dashboard_path
from lgtm_dash.model.panels import (
    data_link,
    field_override,
    layout,
    prom_target,
    row,
    stat,
    table,
    thresholds,
    timeseries,
)

REQUESTS = (
    'cluster=~"$cluster", namespace=~"$namespace", service=~"$service", method=~"$method", uri=~"$uri", '
    'status=~"$status"'
)
# The duration histogram has no status label.
TIMED = 'cluster=~"$cluster", namespace=~"$namespace", service=~"$service", method=~"$method", uri=~"$uri"'
FILTERS = ("cluster", "namespace", "service")

REQUEST_RATE = f"sum(rate(qgx_http_requests_total{{{REQUESTS}}}[$__rate_interval]))"
ERROR_RATE = f"sum(rate(qgx_http_errors_total{{{REQUESTS}}}[$__rate_interval]))"
ERROR_RATIO_COLORS = thresholds(("green", None), ("orange", 0.01), ("red", 0.05))


def latency(quantile: float, by: str = "") -> str:
    return (
        f"histogram_quantile({quantile}, sum by (le{', ' + by if by else ''}) "
        f"(rate(qgx_http_request_duration_ms_bucket{{{TIMED}}}[$__rate_interval])))"
    )


def by(label: str, metric: str, filters: str = REQUESTS) -> str:
    return f"sum by ({label}) (rate({metric}{{{filters}}}[$__rate_interval]))"


# Backend Logs for the clicked series' uri, with this dashboard's cluster/namespace/service and time range.
LOGS_OF_URI = data_link(
    "Backend Logs for ${__field.labels.uri}",
    dashboard_path(
        backend_logs.dashboard.uid,
        backend_logs.dashboard.title,
        {**qgx.carry(*FILTERS), "var-search": "${__field.labels.uri}"},
    ),
)
LOGS_OF_URI_ROW = data_link(
    "Backend Logs for ${__data.fields.uri}",
    dashboard_path(
        backend_logs.dashboard.uid,
        backend_logs.dashboard.title,
        {**qgx.carry(*FILTERS), "var-search": "${__data.fields.uri}"},
    ),
)
LOGS = data_link(
    "Backend Logs",
    dashboard_path(backend_logs.dashboard.uid, backend_logs.dashboard.title, qgx.carry(*FILTERS)),
)

dashboard = Board(
    Dashboard(
        title="HTTP Service Overview",
        uid="qgx-http-overview",
        description="Backend HTTP traffic derived from its access logs: rate, errors and latency by uri, method, status.",
        tags=qgx.TAGS,
        refresh=qgx.REFRESH,
        time=qgx.LAST_6_HOURS,
        graphTooltip=qgx.SHARED_CROSSHAIR,
        links=[qgx.link_to(backend_logs.dashboard, icon="doc"), qgx.QGX_DASHBOARDS],
        templating=Templating(
            [
                qgx.prometheus_label("cluster", "qgx_http_requests_total", label="Cluster"),
                qgx.prometheus_label("namespace", "qgx_http_requests_total", "cluster", label="Namespace"),
                qgx.prometheus_label(
                    "service", "qgx_http_requests_total", "cluster", "namespace", label="Service"
                ),
                qgx.prometheus_label("method", "qgx_http_requests_total", *FILTERS, label="Method"),
                qgx.prometheus_label("uri", "qgx_http_requests_total", *FILTERS, label="URI"),
                qgx.prometheus_label("status", "qgx_http_requests_total", *FILTERS, label="Status"),
            ]
        ),
        panels=layout(
            row(
                None,
                stat(
                    "Requests per second",
                    prom_target(REQUEST_RATE),
                    datasource=MIMIR,
                    unit="reqps",
                    links=[LOGS],
                ),
                stat(
                    "Error ratio",
                    prom_target(f"{ERROR_RATE} / {REQUEST_RATE}"),
                    datasource=MIMIR,
                    unit="percentunit",
                    colors=ERROR_RATIO_COLORS,
                    links=[LOGS],
                ),
                stat("p50 latency", prom_target(latency(0.5)), datasource=MIMIR, unit="ms"),
                stat("p90 latency", prom_target(latency(0.9)), datasource=MIMIR, unit="ms"),
                stat(
                    "p99 latency",
                    prom_target(latency(0.99)),
                    datasource=MIMIR,
                    unit="ms",
                    colors=thresholds(("green", None), ("orange", 500), ("red", 2000)),
                ),
                height=4,
            ),
            row(
                "Traffic",
                timeseries(
                    "Requests per second by status",
                    prom_target(by("status", "qgx_http_requests_total"), "{{status}}"),
                    datasource=MIMIR,
                    unit="reqps",
                    stack=True,
                ),
                timeseries(
                    "Requests per second by method",
                    prom_target(by("method", "qgx_http_requests_total"), "{{method}}"),
                    datasource=MIMIR,
                    unit="reqps",
                    stack=True,
                ),
                timeseries(
                    "Requests per second by uri",
                    prom_target(by("uri", "qgx_http_requests_total"), "{{uri}}"),
                    datasource=MIMIR,
                    unit="reqps",
                    links=[LOGS_OF_URI],
                ),
            ),
            row(
                "Errors",
                timeseries(
                    "Error ratio",
                    prom_target(f"{ERROR_RATE} / {REQUEST_RATE}", "all"),
                    datasource=MIMIR,
                    unit="percentunit",
                    min_value=0,
                    links=[LOGS],
                ),
                timeseries(
                    "Error ratio by uri",
                    prom_target(
                        f"{by('uri', 'qgx_http_errors_total')} / {by('uri', 'qgx_http_requests_total')}",
                        "{{uri}}",
                    ),
                    datasource=MIMIR,
                    unit="percentunit",
                    min_value=0,
                    links=[LOGS_OF_URI],
                ),
                timeseries(
                    "Errors per second by status",
                    prom_target(by("status", "qgx_http_errors_total"), "{{status}}"),
                    datasource=MIMIR,
                    unit="reqps",
                    stack=True,
                    links=[LOGS],
                ),
            ),
            row(
                "Latency",
                timeseries(
                    "Latency p50 / p90 / p99",
                    prom_target(latency(0.5), "p50"),
                    prom_target(latency(0.9), "p90"),
                    prom_target(latency(0.99), "p99"),
                    datasource=MIMIR,
                    unit="ms",
                    min_value=0,
                ),
                timeseries(
                    "p99 latency by uri",
                    prom_target(latency(0.99, by="uri"), "{{uri}}"),
                    datasource=MIMIR,
                    unit="ms",
                    min_value=0,
                    links=[LOGS_OF_URI],
                ),
                timeseries(
                    "p99 latency by method",
                    prom_target(latency(0.99, by="method"), "{{method}}"),
                    datasource=MIMIR,
                    unit="ms",
                    min_value=0,
                ),
            ),
            row(
                "By uri",
                table(
                    "Requests, errors and p99 latency by uri and method",
                    prom_target(by("uri, method", "qgx_http_requests_total"), table=True),
                    prom_target(
                        f"{by('uri, method', 'qgx_http_errors_total')} / {by('uri, method', 'qgx_http_requests_total')}",
                        table=True,
                    ),
                    prom_target(latency(0.99, by="uri, method"), table=True),
                    datasource=MIMIR,
                    unit="short",
                    transformations=[
                        {"id": "merge", "options": {}},
                        {
                            "id": "organize",
                            "options": {
                                "excludeByName": {"Time": True},
                                "renameByName": {
                                    "Value #A": "Requests/s",
                                    "Value #B": "Error ratio",
                                    "Value #C": "p99",
                                },
                            },
                        },
                    ],
                    overrides=[
                        field_override("Requests/s", unit="reqps"),
                        field_override("Error ratio", unit="percentunit"),
                        field_override("p99", unit="ms"),
                        field_override("uri", links=[LOGS_OF_URI_ROW]),
                    ],
                    sort_by="Requests/s",
                    height=10,
                ),
            ),
        ),
    ),
    folder=qgx.FOLDER,
)
