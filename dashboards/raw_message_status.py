"""Raw Message Status (MySQL): messages per status over time, the current backlog, processing time, and the
failed or stuck messages with their trace id.

Drill-down: a message's trace id opens Backend Logs filtered to that trace id, from 5 minutes before the message
was received to 5 minutes after its last update, and the trace itself in Tempo (Explore) over the same window.
Tables and columns: datasources/mysql_schema.sql (every DATETIME is UTC).
"""

from grafanalib.core import Dashboard, Templating

from dashboards import _common as qgx
from dashboards import backend_logs
from dashboards._common import MYSQL, TEMPO
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.links import dashboard_path, explore_path
from lgtm_dash.model.panels import (
    bar_gauge,
    data_link,
    field_override,
    layout,
    row,
    series_color,
    sql_target,
    stat,
    table,
    thresholds,
    timeseries,
)
from lgtm_dash.model.variables import ALL, query_variable

STATUS_COLORS = {"RECEIVED": "blue", "PROCESSING": "yellow", "PROCESSED": "green", "FAILED": "red"}
# Not yet processed and not touched for this long: stuck.
STUCK_AFTER = "INTERVAL 15 MINUTE"

# The drill-down window of a message, computed per row (epoch ms, as Grafana's from/to URL parameters want).
MESSAGE_WINDOW_FROM = "${__data.fields.from_ms}"
MESSAGE_WINDOW_TO = "${__data.fields.to_ms}"
TRACE_ID = "${__value.raw}"

LOGS_OF_TRACE = data_link(
    "Backend Logs of this trace",
    dashboard_path(
        backend_logs.dashboard.uid,
        backend_logs.dashboard.title,
        {
            "var-trace_id": TRACE_ID,
            **{f"var-{name}": ALL for name in ("cluster", "namespace", "tenant", "service", "level")},
            "from": MESSAGE_WINDOW_FROM,
            "to": MESSAGE_WINDOW_TO,
        },
    ),
)
TRACE_IN_TEMPO = data_link(
    "Trace in Tempo",
    explore_path(
        TEMPO,
        {"queryType": "traceql", "query": TRACE_ID},
        time_from=MESSAGE_WINDOW_FROM,
        time_to=MESSAGE_WINDOW_TO,
    ),
)

dashboard = Board(
    Dashboard(
        title="Raw Message Status",
        uid="qgx-raw-message-status",
        description="Raw messages in the QGX database: status over time, backlog, processing time, failures.",
        tags=qgx.TAGS,
        refresh=qgx.REFRESH,
        time=qgx.LAST_6_HOURS,
        graphTooltip=qgx.SHARED_CROSSHAIR,
        links=[qgx.link_to(backend_logs.dashboard, icon="doc"), qgx.QGX_DASHBOARDS],
        templating=Templating(
            [
                query_variable(
                    "message_type",
                    "SELECT DISTINCT message_type FROM raw_message ORDER BY message_type",
                    datasource=MYSQL,
                    label="Message type",
                    multi=True,
                    include_all=True,
                    default=ALL,
                ),
            ]
        ),
        panels=layout(
            row(
                None,
                stat(
                    "Received",
                    sql_target(
                        """
                        SELECT COUNT(*) AS received
                        FROM raw_message
                        WHERE $__timeFilter(created_at) AND message_type IN ($message_type)
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="short",
                    sparkline=False,
                    description="Messages received in the time range.",
                ),
                stat(
                    "Failed",
                    sql_target(
                        """
                        SELECT COUNT(*) AS failed
                        FROM raw_message
                        WHERE $__timeFilter(created_at) AND message_type IN ($message_type) AND status = 'FAILED'
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("red", 1)),
                    description="Messages received in the time range that are now FAILED.",
                ),
                stat(
                    "Backlog now",
                    sql_target(
                        """
                        SELECT COUNT(*) AS backlog
                        FROM raw_message
                        WHERE status IN ('RECEIVED', 'PROCESSING') AND message_type IN ($message_type)
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("orange", 1000), ("red", 10000)),
                    description="Messages received or in processing right now (whatever the time range).",
                ),
                stat(
                    "Stuck now",
                    sql_target(
                        f"""
                        SELECT COUNT(*) AS stuck
                        FROM raw_message
                        WHERE status IN ('RECEIVED', 'PROCESSING')
                          AND updated_at < UTC_TIMESTAMP(3) - {STUCK_AFTER}
                          AND message_type IN ($message_type)
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("red", 1)),
                    description="Not processed and not updated for 15 minutes.",
                ),
                stat(
                    "Average processing time",
                    sql_target(
                        """
                        SELECT AVG(TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) / 1000 AS avg_ms
                        FROM raw_message
                        WHERE $__timeFilter(processed_at) AND status = 'PROCESSED'
                          AND message_type IN ($message_type)
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="ms",
                    sparkline=False,
                ),
                height=4,
            ),
            row(
                "Status",
                timeseries(
                    "Messages received, by current status",
                    sql_target(
                        """
                        SELECT
                          $__timeGroupAlias(created_at, $__interval),
                          status AS metric,
                          COUNT(*) AS value
                        FROM raw_message
                        WHERE $__timeFilter(created_at) AND message_type IN ($message_type)
                        GROUP BY 1, 2
                        ORDER BY 1
                        """
                    ),
                    datasource=MYSQL,
                    unit="short",
                    bars=True,
                    stack=True,
                    overrides=[series_color(status, color) for status, color in STATUS_COLORS.items()],
                    width=16,
                ),
                bar_gauge(
                    "Backlog per status now",
                    sql_target(
                        """
                        SELECT status, COUNT(*) AS messages
                        FROM raw_message
                        WHERE status IN ('RECEIVED', 'PROCESSING', 'FAILED') AND message_type IN ($message_type)
                        GROUP BY status
                        ORDER BY status
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="short",
                    all_values=True,
                    colors=thresholds(("blue", None)),
                ),
            ),
            row(
                "Processing time",
                timeseries(
                    "Processing time (received to processed)",
                    sql_target(
                        """
                        SELECT
                          $__timeGroupAlias(processed_at, $__interval),
                          AVG(TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) / 1000 AS average,
                          MAX(TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) / 1000 AS maximum
                        FROM raw_message
                        WHERE $__timeFilter(processed_at) AND status = 'PROCESSED'
                          AND message_type IN ($message_type)
                        GROUP BY 1
                        ORDER BY 1
                        """
                    ),
                    datasource=MYSQL,
                    unit="ms",
                    min_value=0,
                ),
                timeseries(
                    "Average processing time by message type",
                    sql_target(
                        """
                        SELECT
                          $__timeGroupAlias(processed_at, $__interval),
                          message_type AS metric,
                          AVG(TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) / 1000 AS value
                        FROM raw_message
                        WHERE $__timeFilter(processed_at) AND status = 'PROCESSED'
                          AND message_type IN ($message_type)
                        GROUP BY 1, 2
                        ORDER BY 1
                        """
                    ),
                    datasource=MYSQL,
                    unit="ms",
                    min_value=0,
                ),
            ),
            row(
                "Failed and stuck messages",
                table(
                    "Failed or stuck messages (click a trace id)",
                    sql_target(
                        f"""
                        SELECT
                          created_at, id, message_type, status, retries, trace_id, last_error, updated_at,
                          (FLOOR(UNIX_TIMESTAMP(created_at)) - 300) * 1000 AS from_ms,
                          (FLOOR(UNIX_TIMESTAMP(COALESCE(processed_at, updated_at))) + 300) * 1000 AS to_ms
                        FROM raw_message
                        WHERE $__timeFilter(created_at)
                          AND message_type IN ($message_type)
                          AND (status = 'FAILED'
                               OR (status IN ('RECEIVED', 'PROCESSING')
                                   AND updated_at < UTC_TIMESTAMP(3) - {STUCK_AFTER}))
                        ORDER BY created_at DESC
                        LIMIT 500
                        """,
                        format="table",
                    ),
                    datasource=MYSQL,
                    unit="none",
                    description="Newest first. A trace id opens its logs (Backend Logs) or the trace (Tempo).",
                    overrides=[
                        field_override("trace_id", links=[LOGS_OF_TRACE, TRACE_IN_TEMPO]),
                        # The drill-down window: used by the links, not worth a column.
                        field_override("from_ms", custom__hidden=True),
                        field_override("to_ms", custom__hidden=True),
                    ],
                    height=12,
                ),
            ),
        ),
    ),
    folder=qgx.FOLDER,
)
