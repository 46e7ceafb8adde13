"""Backend Logs (Loki): volume by level, error and warning rates, where errors come from, and the log stream.

The backend logs JSON lines (`traceId, level, logger, message, httpMethod, uri, statusCode, duration`). A trace id
in a line opens the trace in Tempo through the Loki datasource's derived field (datasources/loki.py). Other
dashboards open this one with `var-trace_id=...` (Raw Message Status) or `var-search=<uri>` (HTTP overview).
"""

from grafanalib.core import Dashboard, Templating

from dashboards import _common as qgx
from dashboards import pod_monitoring
from dashboards._common import LEVEL_COLORS, LOKI
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.panels import (
    bar_gauge,
    layout,
    logs,
    loki_target,
    row,
    series_color,
    stat,
    thresholds,
    timeseries,
)

# The streams the filters select, and the line filters every panel applies (empty textboxes match every line).
STREAMS = '{cluster=~"$cluster", namespace=~"$namespace", tenant=~"$tenant", service=~"$service"}'
LINES = STREAMS + " |= `$search` |= `$trace_id` | json"
SELECTED = LINES + ' | level=~"$level"'
ERRORS = LINES + ' | level="ERROR"'

dashboard = Board(
    Dashboard(
        title="Backend Logs",
        uid="qgx-backend-logs",
        description="Backend JSON logs from Loki, filtered by cluster, namespace, tenant, service, level, text and trace id.",
        tags=qgx.TAGS,
        refresh=qgx.REFRESH,
        time=qgx.LAST_6_HOURS,
        graphTooltip=qgx.SHARED_CROSSHAIR,
        links=[qgx.link_to(pod_monitoring.dashboard), qgx.QGX_DASHBOARDS],
        templating=Templating(
            [
                qgx.loki_label("cluster", label="Cluster"),
                qgx.loki_label("namespace", "cluster", label="Namespace"),
                qgx.loki_label("tenant", "cluster", "namespace", label="Tenant"),
                qgx.loki_label("service", "cluster", "namespace", label="Service"),
                qgx.level_variable(),
                qgx.search_variable(),
                qgx.trace_id_variable(),
            ]
        ),
        panels=layout(
            row(
                None,
                stat(
                    "Log lines",
                    loki_target(f"sum(count_over_time({SELECTED} [$__range]))", instant=True),
                    datasource=LOKI,
                    unit="short",
                    sparkline=False,
                    description="Lines matching every filter over the whole time range.",
                ),
                stat(
                    "Errors",
                    loki_target(f"sum(count_over_time({ERRORS} [$__range]))", instant=True),
                    datasource=LOKI,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("red", 1)),
                ),
                stat(
                    "Warnings",
                    loki_target(f'sum(count_over_time({LINES} | level="WARN" [$__range]))', instant=True),
                    datasource=LOKI,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("orange", 1)),
                ),
                stat(
                    "Error share",
                    loki_target(
                        f"sum(count_over_time({ERRORS} [$__range])) / sum(count_over_time({LINES} [$__range]))",
                        instant=True,
                    ),
                    datasource=LOKI,
                    unit="percentunit",
                    sparkline=False,
                    colors=thresholds(("green", None), ("orange", 0.01), ("red", 0.05)),
                    description="Error lines as a share of all lines (level filter ignored).",
                ),
                height=4,
            ),
            row(
                "Volume",
                timeseries(
                    "Log volume by level",
                    loki_target(f"sum by (level) (count_over_time({SELECTED} [$__auto]))", "{{level}}"),
                    datasource=LOKI,
                    unit="short",
                    bars=True,
                    stack=True,
                    overrides=[series_color(level, color) for level, color in LEVEL_COLORS.items()],
                    width=16,
                ),
                timeseries(
                    "Errors and warnings per second",
                    loki_target(
                        f'sum by (level) (rate({LINES} | level=~"ERROR|WARN" [$__auto]))', "{{level}}"
                    ),
                    datasource=LOKI,
                    unit="cps",
                    overrides=[series_color(level, LEVEL_COLORS[level]) for level in ("ERROR", "WARN")],
                ),
            ),
            row(
                "Where errors come from",
                bar_gauge(
                    "Top loggers among errors",
                    loki_target(
                        f"topk(10, sum by (logger) (count_over_time({ERRORS} [$__range])))",
                        "{{logger}}",
                        instant=True,
                    ),
                    datasource=LOKI,
                    unit="short",
                    colors=thresholds(("red", None)),
                ),
                bar_gauge(
                    "Top URIs among errors",
                    loki_target(
                        f"topk(10, sum by (uri) (count_over_time({ERRORS} [$__range])))",
                        "{{uri}}",
                        instant=True,
                    ),
                    datasource=LOKI,
                    unit="short",
                    colors=thresholds(("red", None)),
                ),
            ),
            row(
                "Logs",
                logs(
                    "Log stream",
                    loki_target(f"{SELECTED}"),
                    datasource=LOKI,
                    description="Newest first. Open a line's details: its traceId links to the trace in Tempo.",
                    height=16,
                ),
            ),
        ),
    ),
    folder=qgx.FOLDER,
)
