"""Event Monitoring (Mimir): how many events the backend processes, how many fail, which types fail, how long
processing takes.

Metrics (see catalog.yaml): `qgx_events_total{type, status}` counts processed events (status "success" or
"failed"); `qgx_event_processing_duration_seconds{type}` is the processing-time histogram.
"""

from grafanalib.core import Dashboard, Templating

from dashboards import _common as qgx
from dashboards import backend_logs
from dashboards._common import MIMIR
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.panels import (
    bar_gauge,
    layout,
    prom_target,
    row,
    series_color,
    stat,
    thresholds,
    timeseries,
)

EVENTS = 'cluster=~"$cluster", namespace=~"$namespace", service=~"$service", type=~"$type"'
FAILED = EVENTS + ', status="failed"'
SUCCEEDED = EVENTS + ', status="success"'
RATE = "sum(rate(qgx_events_total{%s}[$__rate_interval]))"
RATIO_COLORS = thresholds(("green", None), ("orange", 0.01), ("red", 0.05))
OUTCOME_COLORS = [series_color("success", "green"), series_color("failed", "red")]


def latency(quantile: float) -> str:
    return (
        f"histogram_quantile({quantile}, sum by (le) "
        f"(rate(qgx_event_processing_duration_seconds_bucket{{{EVENTS}}}[$__rate_interval])))"
    )


dashboard = Board(
    Dashboard(
        title="Event Monitoring",
        uid="qgx-event-monitoring",
        description="Backend event processing: throughput, success and failure per event type, latency.",
        tags=qgx.TAGS,
        refresh=qgx.REFRESH,
        time=qgx.LAST_6_HOURS,
        graphTooltip=qgx.SHARED_CROSSHAIR,
        links=[qgx.link_to(backend_logs.dashboard, icon="doc"), qgx.QGX_DASHBOARDS],
        templating=Templating(
            [
                qgx.prometheus_label("cluster", "qgx_events_total", label="Cluster"),
                qgx.prometheus_label("namespace", "qgx_events_total", "cluster", label="Namespace"),
                qgx.prometheus_label("service", "qgx_events_total", "cluster", "namespace", label="Service"),
                qgx.prometheus_label(
                    "type", "qgx_events_total", "cluster", "namespace", "service", label="Event type"
                ),
            ]
        ),
        panels=layout(
            row(
                None,
                stat(
                    "Throughput",
                    prom_target(RATE % EVENTS),
                    datasource=MIMIR,
                    unit="cps",
                    description="Events processed per second (success and failure).",
                ),
                stat(
                    "Succeeded per second",
                    prom_target(RATE % SUCCEEDED),
                    datasource=MIMIR,
                    unit="cps",
                ),
                stat(
                    "Failed per second",
                    prom_target(RATE % FAILED),
                    datasource=MIMIR,
                    unit="cps",
                    colors=thresholds(("green", None), ("red", 0.001)),
                ),
                stat(
                    "Failure ratio",
                    prom_target(f"{RATE % FAILED} / {RATE % EVENTS}"),
                    datasource=MIMIR,
                    unit="percentunit",
                    colors=RATIO_COLORS,
                ),
                stat(
                    "p99 processing time",
                    prom_target(latency(0.99)),
                    datasource=MIMIR,
                    unit="s",
                    colors=thresholds(("green", None), ("orange", 1), ("red", 5)),
                ),
                height=4,
            ),
            row(
                "Success and failure",
                timeseries(
                    "Events per second by outcome",
                    prom_target(
                        f"sum by (status) (rate(qgx_events_total{{{EVENTS}}}[$__rate_interval]))",
                        "{{status}}",
                    ),
                    datasource=MIMIR,
                    unit="cps",
                    stack=True,
                    overrides=OUTCOME_COLORS,
                ),
                timeseries(
                    "Failure ratio",
                    prom_target(f"{RATE % FAILED} / {RATE % EVENTS}", "all types"),
                    prom_target(
                        f"""
                        sum by (type) (rate(qgx_events_total{{{FAILED}}}[$__rate_interval]))
                          /
                        sum by (type) (rate(qgx_events_total{{{EVENTS}}}[$__rate_interval]))
                        """,
                        "{{type}}",
                    ),
                    datasource=MIMIR,
                    unit="percentunit",
                    min_value=0,
                ),
            ),
            row(
                "Per event type",
                timeseries(
                    "Succeeded per second by type",
                    prom_target(
                        f"sum by (type) (rate(qgx_events_total{{{SUCCEEDED}}}[$__rate_interval]))", "{{type}}"
                    ),
                    datasource=MIMIR,
                    unit="cps",
                ),
                timeseries(
                    "Failed per second by type",
                    prom_target(
                        f"sum by (type) (rate(qgx_events_total{{{FAILED}}}[$__rate_interval]))", "{{type}}"
                    ),
                    datasource=MIMIR,
                    unit="cps",
                ),
                bar_gauge(
                    "Top failing types in the time range",
                    prom_target(
                        f"topk(10, sum by (type) (increase(qgx_events_total{{{FAILED}}}[$__range])) > 0)",
                        "{{type}}",
                        instant=True,
                    ),
                    datasource=MIMIR,
                    unit="short",
                    colors=thresholds(("red", None)),
                ),
            ),
            row(
                "Processing time",
                timeseries(
                    "Processing time p50 / p90 / p99",
                    prom_target(latency(0.5), "p50"),
                    prom_target(latency(0.9), "p90"),
                    prom_target(latency(0.99), "p99"),
                    datasource=MIMIR,
                    unit="s",
                    min_value=0,
                ),
                timeseries(
                    "p99 processing time by type",
                    prom_target(
                        f"""
                        histogram_quantile(0.99, sum by (le, type) (
                          rate(qgx_event_processing_duration_seconds_bucket{{{EVENTS}}}[$__rate_interval])
                        ))
                        """,
                        "{{type}}",
                    ),
                    datasource=MIMIR,
                    unit="s",
                    min_value=0,
                ),
            ),
        ),
    ),
    folder=qgx.FOLDER,
)
