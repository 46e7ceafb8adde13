"""HTTP: error ratio, p99 latency and traffic drop of the backend, from the metrics Alloy derives from its logs.

`qgx_http_requests_total`, `qgx_http_errors_total` (counters) and `qgx_http_request_duration_ms` (histogram in
milliseconds, buckets 10..10000).
"""

from alerts._common import CRITICAL, WARNING, annotations, expected
from dashboards import http_overview
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import (
    Alert,
    AlertCheck,
    ExpectedAlert,
    Record,
    RuleGroup,
    RuleNamespace,
    RuleTest,
    SampleCheck,
)

SERVICE = "cluster, namespace, service"
# Below this rate (requests per second) a service is too quiet for its ratios to mean anything.
MIN_REQUEST_RATE = 0.1


def http_dashboard(cluster: str, namespace: str, service: str) -> DashboardURL:
    return DashboardURL(
        http_overview.dashboard, {"var-cluster": cluster, "var-namespace": namespace, "var-service": service}
    )


# Go templates inside a URL must not contain spaces (they would be percent-encoded into the action).
SERVICE_DASHBOARD = http_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}", "{{$labels.service}}")
ERROR_SUMMARY = (
    "{{ $labels.service }} in {{ $labels.namespace }} fails {{ $value | humanizePercentage }} of requests"
)
ERROR_DESCRIPTION = (
    "{{ $value | humanizePercentage }} of the HTTP requests to {{ $labels.service }} in "
    "{{ $labels.namespace }} (cluster {{ $labels.cluster }}) failed over the last 5 minutes."
)

recording = RuleGroup(
    name="http.recording",
    rules=(
        Record(
            name="namespace_service:qgx_http_requests:rate5m",
            expr=f"sum by ({SERVICE}) (rate(qgx_http_requests_total[5m]))",
        ),
        Record(
            name="namespace_service:qgx_http_errors:rate5m",
            expr=f"sum by ({SERVICE}) (rate(qgx_http_errors_total[5m]))",
        ),
        Record(
            name="namespace_service:qgx_http_errors:ratio_rate5m",
            expr="namespace_service:qgx_http_errors:rate5m / namespace_service:qgx_http_requests:rate5m",
        ),
        Record(
            name="namespace_service_le:qgx_http_request_duration_ms_bucket:rate5m",
            expr=f"sum by ({SERVICE}, le) (rate(qgx_http_request_duration_ms_bucket[5m]))",
        ),
        Record(
            name="namespace_service:qgx_http_request_duration_ms:p99_rate5m",
            expr="histogram_quantile(0.99, namespace_service_le:qgx_http_request_duration_ms_bucket:rate5m)",
        ),
    ),
)

alerts = RuleGroup(
    name="http.alerts",
    rules=(
        # Two tiers of one alert: Alertmanager inhibits the warning while the critical fires.
        Alert(
            name="QgxHttpHighErrorRatio",
            expr=f"""
namespace_service:qgx_http_errors:ratio_rate5m > 0.05
and on ({SERVICE})
namespace_service:qgx_http_requests:rate5m > {MIN_REQUEST_RATE}
""".strip(),
            for_="5m",
            labels=CRITICAL,
            annotations=annotations(
                "QgxHttpHighErrorRatio", ERROR_SUMMARY, ERROR_DESCRIPTION, dashboard=SERVICE_DASHBOARD
            ),
        ),
        Alert(
            name="QgxHttpHighErrorRatio",
            expr=f"""
namespace_service:qgx_http_errors:ratio_rate5m > 0.01
and on ({SERVICE})
namespace_service:qgx_http_requests:rate5m > {MIN_REQUEST_RATE}
""".strip(),
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "QgxHttpHighErrorRatio", ERROR_SUMMARY, ERROR_DESCRIPTION, dashboard=SERVICE_DASHBOARD
            ),
        ),
        Alert(
            name="QgxHttpHighLatencyP99",
            expr="namespace_service:qgx_http_request_duration_ms:p99_rate5m > 2000",
            for_="10m",
            labels=WARNING,
            annotations=annotations(
                "QgxHttpHighLatencyP99",
                summary="{{ $labels.service }} in {{ $labels.namespace }} is slow",
                description='The 99th percentile latency of {{ $labels.service }} in {{ $labels.namespace }} is {{ printf "%.0f" $value }} ms (threshold 2000 ms).',
                dashboard=SERVICE_DASHBOARD,
            ),
        ),
        Alert(
            name="QgxHttpTrafficDrop",
            # Against the same time yesterday (traffic follows the day), for services that had real traffic.
            expr=f"""
namespace_service:qgx_http_requests:rate5m < 0.5 * (namespace_service:qgx_http_requests:rate5m offset 1d)
and on ({SERVICE})
(namespace_service:qgx_http_requests:rate5m offset 1d) > 0.5
""".strip(),
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "QgxHttpTrafficDrop",
                summary="Traffic to {{ $labels.service }} in {{ $labels.namespace }} dropped by more than half",
                description="{{ $labels.service }} in {{ $labels.namespace }} receives {{ $value | humanize }} "
                "requests/s, less than half of the rate at the same time yesterday.",
                dashboard=SERVICE_DASHBOARD,
            ),
        ),
    ),
)

# --- unit tests (promtool test rules) -----------------------------------------------------------------

API = 'cluster="c1", namespace="shop", service="api"'
API_LABELS = {"cluster": "c1", "namespace": "shop", "service": "api"}
API_DASHBOARD = http_dashboard("c1", "shop", "api")


def error_ratio_alert(severity: dict[str, str]) -> ExpectedAlert:
    return expected(
        "QgxHttpHighErrorRatio",
        {**API_LABELS, **severity},
        summary="api in shop fails 10% of requests",
        description="10% of the HTTP requests to api in shop (cluster c1) failed over the last 5 minutes.",
        dashboard=API_DASHBOARD,
    )


def bucket(service: str, le: str) -> str:
    return f'qgx_http_request_duration_ms_bucket{{cluster="c1", namespace="shop", service="{service}", le="{le}"}}'


tests = (
    RuleTest(
        name="error ratio: 10% pages (critical, then warning too); 0.5% and a quiet service do not",
        series={
            # 10 requests/s, 1 error/s on two pods.
            f'qgx_http_requests_total{{{API}, pod="api-1", method="GET", status="200"}}': "0+300x40",
            f'qgx_http_requests_total{{{API}, pod="api-2", method="GET", status="200"}}': "0+300x40",
            f'qgx_http_errors_total{{{API}, pod="api-1", method="GET", status="500"}}': "0+60x40",
            # 0.5% errors.
            'qgx_http_requests_total{cluster="c1", namespace="shop", service="cart"}': "0+600x40",
            'qgx_http_errors_total{cluster="c1", namespace="shop", service="cart"}': "0+3x40",
            # Every request fails, but 3 requests a minute are too few to judge.
            'qgx_http_requests_total{cluster="c1", namespace="shop", service="admin"}': "0+3x40",
            'qgx_http_errors_total{cluster="c1", namespace="shop", service="admin"}': "0+3x40",
        },
        checks=(
            AlertCheck("QgxHttpHighErrorRatio", at="4m"),
            AlertCheck("QgxHttpHighErrorRatio", at="10m", firing=(error_ratio_alert(CRITICAL),)),
            AlertCheck(
                "QgxHttpHighErrorRatio",
                at="30m",
                firing=(error_ratio_alert(CRITICAL), error_ratio_alert(WARNING)),
            ),
            SampleCheck(
                "namespace_service:qgx_http_errors:ratio_rate5m",
                at="30m",
                samples={
                    f"namespace_service:qgx_http_errors:ratio_rate5m{{{API}}}": 0.1,
                    'namespace_service:qgx_http_errors:ratio_rate5m{cluster="c1", namespace="shop", service="cart"}': 0.005,
                    'namespace_service:qgx_http_errors:ratio_rate5m{cluster="c1", namespace="shop", service="admin"}': 1,
                },
            ),
        ),
    ),
    RuleTest(
        name="p99 latency: every request 2.5-10 s fires; fast requests do not",
        series={
            bucket("api", "100"): "0x30",
            bucket("api", "1000"): "0x30",
            bucket("api", "2500"): "0x30",
            bucket("api", "10000"): "0+60x30",
            bucket("api", "+Inf"): "0+60x30",
            bucket("cart", "100"): "0+60x30",
            bucket("cart", "1000"): "0+60x30",
            bucket("cart", "2500"): "0+60x30",
            bucket("cart", "10000"): "0+60x30",
            bucket("cart", "+Inf"): "0+60x30",
        },
        checks=(
            AlertCheck("QgxHttpHighLatencyP99", at="8m"),
            AlertCheck(
                "QgxHttpHighLatencyP99",
                at="20m",
                firing=(
                    expected(
                        "QgxHttpHighLatencyP99",
                        {**API_LABELS, **WARNING},
                        summary="api in shop is slow",
                        description="The 99th percentile latency of api in shop is 9925 ms (threshold 2000 ms).",
                        dashboard=API_DASHBOARD,
                    ),
                ),
            ),
            SampleCheck(
                "namespace_service:qgx_http_request_duration_ms:p99_rate5m",
                at="20m",
                samples={
                    f"namespace_service:qgx_http_request_duration_ms:p99_rate5m{{{API}}}": 9925,
                    'namespace_service:qgx_http_request_duration_ms:p99_rate5m{cluster="c1", namespace="shop", service="cart"}': 99,
                },
            ),
        ),
    ),
    RuleTest(
        name="traffic drop against yesterday: 1/s to 0.2/s fires; steady traffic does not",
        series={
            # A day at 1 request/s, then 0.2/s.
            f"qgx_http_requests_total{{{API}}}": "0+60x1440 86400+12x60",
            'qgx_http_requests_total{cluster="c1", namespace="shop", service="cart"}': "0+60x1500",
        },
        checks=(
            AlertCheck("QgxHttpTrafficDrop", at="1d10m"),
            AlertCheck(
                "QgxHttpTrafficDrop",
                at="1d40m",
                firing=(
                    expected(
                        "QgxHttpTrafficDrop",
                        {**API_LABELS, **WARNING},
                        summary="Traffic to api in shop dropped by more than half",
                        description="api in shop receives 200m requests/s, less than half of the rate at the same time yesterday.",
                        dashboard=API_DASHBOARD,
                    ),
                ),
            ),
        ),
    ),
)

namespace = RuleNamespace(name="qgx-http", groups=(recording, alerts), tests=tests)
