"""Logs (Loki ruler): error bursts, fatal lines, services gone silent, 5xx in the access log, and log-derived series.

Evaluated by Loki's ruler on the backend's JSON lines (`traceId, level, logger, message, httpMethod, uri,
statusCode, duration`) of every stream Alloy labels with a `service`. Alerts go to the same Mimir Alertmanager as
the Mimir rules (so the Loki tenant must be the Mimir tenant); the recording rules reach Mimir through the ruler's
remote write (see README, "Loki rules").
"""

from alerts._common import CRITICAL, WARNING, annotations, expected
from dashboards import backend_logs
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import Alert, ExpectedAlert, Record, RuleGroup, RuleNamespace, TemplateTest

SERVICE = "cluster, namespace, service"
STREAMS = '{service=~".+"}'
# Access-log lines: the backend's JSON lines that carry a status code (application lines do not).
ACCESS = STREAMS + ' | json statusCode, uri | statusCode != "" | __error__=""'
ERRORS = STREAMS + ' |= "ERROR" | json level | level="ERROR"'
# Services that always log (health checks, access log): silence from one of them means it is down or unshipped.
# Selected by service alone, so the rule is the same in every environment (namespaces differ per environment).
ALWAYS_LOGGING = ("backend", "gateway")
# Below this many requests in 5 minutes a URI's 5xx ratio means nothing.
MIN_URI_REQUESTS = 20


def logs_dashboard(cluster: str | None, namespace: str | None, service: str, **more: str) -> DashboardURL:
    """Backend Logs for one service over the hour before the alert (`more`: other filters, e.g. level)."""
    params = {"var-cluster": cluster, "var-namespace": namespace, "var-service": service, **more}
    return DashboardURL(
        backend_logs.dashboard,
        {k: v for k, v in params.items() if v is not None} | {"from": "now-1h", "to": "now"},
    )


# Go templates inside a URL must not contain spaces (they would be percent-encoded into the action).
CLUSTER, NAMESPACE, SERVICE_NAME = "{{$labels.cluster}}", "{{$labels.namespace}}", "{{$labels.service}}"

ERROR_SUMMARY = "{{ $labels.service }} in {{ $labels.namespace }} logs {{ $value | humanize }} errors/s"
ERROR_DESCRIPTION = (
    "{{ $labels.service }} in {{ $labels.namespace }} (cluster {{ $labels.cluster }}) logged "
    "{{ $value | humanize }} ERROR lines per second over the last 5 minutes."
)


ERROR_ANNOTATIONS = annotations(
    "QgxLogErrorBurst",
    ERROR_SUMMARY,
    ERROR_DESCRIPTION,
    dashboard=logs_dashboard(CLUSTER, NAMESPACE, SERVICE_NAME, **{"var-level": "ERROR"}),
)
ERROR_RATE = f"sum by ({SERVICE}) (rate({ERRORS} [5m]))"


recording = RuleGroup(
    name="logs.recording",
    rules=(
        Record(
            name="cluster_namespace_service_level:qgx_log_lines:rate5m",
            expr=f'sum by ({SERVICE}, level) (rate({STREAMS} | json level | __error__="" [5m]))',
        ),
        Record(
            name="cluster_namespace_service_status:qgx_access_log_requests:rate5m",
            expr=f"sum by ({SERVICE}, status) (rate({ACCESS} | label_format status=statusCode [5m]))",
        ),
    ),
)

alerts = RuleGroup(
    name="logs.alerts",
    rules=(
        # Two tiers of one alert: Alertmanager inhibits the warning while the critical fires.
        Alert(
            name="QgxLogErrorBurst",
            expr=f"{ERROR_RATE} > 10",
            for_="5m",
            labels=CRITICAL,
            annotations=ERROR_ANNOTATIONS,
        ),
        Alert(
            name="QgxLogErrorBurst",
            expr=f"{ERROR_RATE} > 1",
            for_="10m",
            labels=WARNING,
            annotations=ERROR_ANNOTATIONS,
        ),
        Alert(
            name="QgxLogFatal",
            # A single line is enough: count_over_time keeps it above 0 for 5 minutes, longer than `for`.
            expr=f"sum by ({SERVICE}) (count_over_time({STREAMS} |~ `panic|OutOfMemoryError|FATAL` [5m])) > 0",
            for_="1m",
            labels=CRITICAL,
            annotations=annotations(
                "QgxLogFatal",
                summary="{{ $labels.service }} in {{ $labels.namespace }} logged a fatal error",
                description="{{ $labels.service }} in {{ $labels.namespace }} (cluster {{ $labels.cluster }}) "
                "logged {{ $value | humanize }} lines with panic, OutOfMemoryError or FATAL in the last 5 minutes.",
                dashboard=logs_dashboard(CLUSTER, NAMESPACE, SERVICE_NAME),
            ),
        ),
        Alert(
            name="QgxServiceStoppedLogging",
            # absent_over_time keeps the labels of its equality matchers: `service` alone.
            expr=" or ".join(
                f'absent_over_time({{service="{service}"}} [10m]) == 1' for service in ALWAYS_LOGGING
            ),
            for_="1m",
            labels=WARNING,
            annotations=annotations(
                "QgxServiceStoppedLogging",
                summary="{{ $labels.service }} stopped logging",
                description="Loki has received no log line from {{ $labels.service }} for 10 minutes, in any "
                "cluster or namespace: the service is down, or its logs do not reach Loki.",
                dashboard=logs_dashboard(None, None, SERVICE_NAME),
            ),
        ),
        Alert(
            name="QgxAccessLog5xxRatio",
            # From the access log itself, before the metrics Alloy derives from it reach Mimir.
            expr=f"""
(
  sum by ({SERVICE}, uri) (count_over_time({ACCESS} | statusCode >= 500 [5m]))
  /
  sum by ({SERVICE}, uri) (count_over_time({ACCESS} [5m]))
) > 0.05
and
sum by ({SERVICE}, uri) (count_over_time({ACCESS} [5m])) >= {MIN_URI_REQUESTS}
""".strip(),
            for_="10m",
            labels=WARNING,
            annotations=annotations(
                "QgxAccessLog5xxRatio",
                summary="{{ $labels.service }} answers {{ $value | humanizePercentage }} of {{ $labels.uri }} with 5xx",
                description="{{ $value | humanizePercentage }} of the requests to {{ $labels.uri }} on "
                "{{ $labels.service }} in {{ $labels.namespace }} (cluster {{ $labels.cluster }}) were answered "
                "with a 5xx status over the last 5 minutes (access log).",
                dashboard=logs_dashboard(
                    CLUSTER, NAMESPACE, SERVICE_NAME, **{"var-search": "{{$labels.uri}}"}
                ),
            ),
        ),
    ),
)

# --- template tests (promtool renders what one sample of each LogQL result gives) ------------------------

API_LABELS = {"cluster": "c1", "namespace": "shop", "service": "api"}
API_LOGS = logs_dashboard("c1", "shop", "api")


def error_burst_alert(severity: dict[str, str]) -> ExpectedAlert:
    return expected(
        "QgxLogErrorBurst",
        {**API_LABELS, **severity},
        summary="api in shop logs 12.5 errors/s",
        description="api in shop (cluster c1) logged 12.5 ERROR lines per second over the last 5 minutes.",
        dashboard=logs_dashboard("c1", "shop", "api", **{"var-level": "ERROR"}),
    )


tests = (
    TemplateTest(
        "QgxLogErrorBurst",
        result=API_LABELS,
        value=12.5,
        firing=(error_burst_alert(CRITICAL), error_burst_alert(WARNING)),
    ),
    TemplateTest(
        "QgxLogFatal",
        result=API_LABELS,
        value=3,
        firing=(
            expected(
                "QgxLogFatal",
                {**API_LABELS, **CRITICAL},
                summary="api in shop logged a fatal error",
                description="api in shop (cluster c1) logged 3 lines with panic, OutOfMemoryError or FATAL "
                "in the last 5 minutes.",
                dashboard=API_LOGS,
            ),
        ),
    ),
    TemplateTest(
        "QgxServiceStoppedLogging",
        result={"service": "gateway"},
        value=1,
        firing=(
            expected(
                "QgxServiceStoppedLogging",
                {"service": "gateway", **WARNING},
                summary="gateway stopped logging",
                description="Loki has received no log line from gateway for 10 minutes, in any cluster or "
                "namespace: the service is down, or its logs do not reach Loki.",
                dashboard=logs_dashboard(None, None, "gateway"),
            ),
        ),
    ),
    TemplateTest(
        "QgxAccessLog5xxRatio",
        result={**API_LABELS, "uri": "/api/orders"},
        value=0.25,
        firing=(
            expected(
                "QgxAccessLog5xxRatio",
                {**API_LABELS, "uri": "/api/orders", **WARNING},
                summary="api answers 25% of /api/orders with 5xx",
                description="25% of the requests to /api/orders on api in shop (cluster c1) were answered with "
                "a 5xx status over the last 5 minutes (access log).",
                dashboard=logs_dashboard("c1", "shop", "api", **{"var-search": "/api/orders"}),
            ),
        ),
    ),
)

namespace = RuleNamespace(name="qgx-logs", groups=(recording, alerts), tests=tests, ruler="loki")
