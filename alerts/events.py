"""Events: failure ratio, processing stuck and processing slow.

`qgx_events_total{type, status}` (counter; status `success` or `failed`) and
`qgx_event_processing_duration_seconds` (histogram).
"""

from alerts._common import CRITICAL, WARNING, annotations, expected
from dashboards import event_monitoring
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import (
    Alert,
    AlertCheck,
    Record,
    RuleGroup,
    RuleNamespace,
    RuleTest,
    SampleCheck,
)

TYPE = "cluster, namespace, type"


def events_dashboard(cluster: str, namespace: str) -> DashboardURL:
    return DashboardURL(event_monitoring.dashboard, {"var-cluster": cluster, "var-namespace": namespace})


# Go templates inside a URL must not contain spaces (they would be percent-encoded into the action).
EVENTS_DASHBOARD = events_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}")

recording = RuleGroup(
    name="events.recording",
    rules=(
        Record(
            name="namespace_type:qgx_events:rate5m",
            expr=f"sum by ({TYPE}) (rate(qgx_events_total[5m]))",
        ),
        Record(
            name="namespace_type:qgx_events_failed:rate5m",
            expr=f'sum by ({TYPE}) (rate(qgx_events_total{{status="failed"}}[5m]))',
        ),
        Record(
            name="namespace_type:qgx_events_failed:ratio_rate5m",
            expr="namespace_type:qgx_events_failed:rate5m / namespace_type:qgx_events:rate5m",
        ),
        Record(
            name="namespace_type:qgx_event_processing_duration_seconds:p99_rate5m",
            expr=f"histogram_quantile(0.99, sum by ({TYPE}, le) (rate(qgx_event_processing_duration_seconds_bucket[5m])))",
        ),
    ),
)

alerts = RuleGroup(
    name="events.alerts",
    rules=(
        Alert(
            name="QgxEventsHighFailureRatio",
            expr=f"""
namespace_type:qgx_events_failed:ratio_rate5m > 0.1
and on ({TYPE})
namespace_type:qgx_events:rate5m > 0.01
""".strip(),
            for_="10m",
            labels=WARNING,
            annotations=annotations(
                "QgxEventsHighFailureRatio",
                summary="{{ $labels.type }} events in {{ $labels.namespace }} fail",
                description="{{ $value | humanizePercentage }} of the {{ $labels.type }} events in "
                "{{ $labels.namespace }} (cluster {{ $labels.cluster }}) failed over the last 5 minutes.",
                dashboard=EVENTS_DASHBOARD,
            ),
        ),
        Alert(
            name="QgxEventsProcessingStuck",
            # Nothing processed for 15 minutes although events were flowing in the hour before.
            expr=f"""
sum by ({TYPE}) (increase(qgx_events_total[15m])) == 0
and on ({TYPE})
sum by ({TYPE}) (increase(qgx_events_total[1h] offset 15m)) > 0
""".strip(),
            for_="5m",
            labels=CRITICAL,
            annotations=annotations(
                "QgxEventsProcessingStuck",
                summary="{{ $labels.type }} event processing in {{ $labels.namespace }} is stuck",
                description="No {{ $labels.type }} event was processed in {{ $labels.namespace }} "
                "(cluster {{ $labels.cluster }}) for 20 minutes, although events were processed in the hour before.",
                dashboard=EVENTS_DASHBOARD,
            ),
        ),
        Alert(
            name="QgxEventsProcessingSlow",
            expr="namespace_type:qgx_event_processing_duration_seconds:p99_rate5m > 30",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "QgxEventsProcessingSlow",
                summary="{{ $labels.type }} events in {{ $labels.namespace }} are processed slowly",
                description="The 99th percentile processing time of {{ $labels.type }} events in "
                "{{ $labels.namespace }} is {{ $value | humanizeDuration }} (threshold 30s).",
                dashboard=EVENTS_DASHBOARD,
            ),
        ),
    ),
)

# --- unit tests (promtool test rules) -----------------------------------------------------------------

ORDERS = 'cluster="c1", namespace="shop", type="order"'
ORDER_LABELS = {"cluster": "c1", "namespace": "shop", "type": "order"}
SHOP_DASHBOARD = events_dashboard("c1", "shop")


def duration_bucket(type_: str, le: str) -> str:
    return f'qgx_event_processing_duration_seconds_bucket{{cluster="c1", namespace="shop", type="{type_}", le="{le}"}}'


tests = (
    RuleTest(
        name="failure ratio: 20% fires; 5% does not",
        series={
            f'qgx_events_total{{{ORDERS}, status="success"}}': "0+48x40",
            f'qgx_events_total{{{ORDERS}, status="failed"}}': "0+12x40",
            'qgx_events_total{cluster="c1", namespace="shop", type="refund", status="success"}': "0+57x40",
            'qgx_events_total{cluster="c1", namespace="shop", type="refund", status="failed"}': "0+3x40",
        },
        checks=(
            AlertCheck("QgxEventsHighFailureRatio", at="8m"),
            AlertCheck(
                "QgxEventsHighFailureRatio",
                at="20m",
                firing=(
                    expected(
                        "QgxEventsHighFailureRatio",
                        {**ORDER_LABELS, **WARNING},
                        summary="order events in shop fail",
                        description="20% of the order events in shop (cluster c1) failed over the last 5 minutes.",
                        dashboard=SHOP_DASHBOARD,
                    ),
                ),
            ),
            SampleCheck(
                "namespace_type:qgx_events_failed:ratio_rate5m",
                at="20m",
                samples={
                    f"namespace_type:qgx_events_failed:ratio_rate5m{{{ORDERS}}}": 0.2,
                    'namespace_type:qgx_events_failed:ratio_rate5m{cluster="c1", namespace="shop", type="refund"}': 0.05,
                },
            ),
        ),
    ),
    RuleTest(
        name="processing stops after an hour of flow; a type that keeps flowing stays quiet",
        series={
            f'qgx_events_total{{{ORDERS}, status="success"}}': "0+60x60 3600x60",
            'qgx_events_total{cluster="c1", namespace="shop", type="refund", status="success"}': "0+60x120",
        },
        checks=(
            AlertCheck("QgxEventsProcessingStuck", at="70m"),  # stopped only 10 minutes ago
            AlertCheck(
                "QgxEventsProcessingStuck",
                at="90m",
                firing=(
                    expected(
                        "QgxEventsProcessingStuck",
                        {**ORDER_LABELS, **CRITICAL},
                        summary="order event processing in shop is stuck",
                        description="No order event was processed in shop (cluster c1) for 20 minutes, "
                        "although events were processed in the hour before.",
                        dashboard=SHOP_DASHBOARD,
                    ),
                ),
            ),
        ),
    ),
    RuleTest(
        name="p99 processing time: 30-120 s fires; under a second does not",
        series={
            duration_bucket("order", "1"): "0x30",
            duration_bucket("order", "30"): "0x30",
            duration_bucket("order", "120"): "0+10x30",
            duration_bucket("order", "+Inf"): "0+10x30",
            duration_bucket("refund", "1"): "0+10x30",
            duration_bucket("refund", "30"): "0+10x30",
            duration_bucket("refund", "120"): "0+10x30",
            duration_bucket("refund", "+Inf"): "0+10x30",
        },
        checks=(
            AlertCheck("QgxEventsProcessingSlow", at="10m"),
            AlertCheck(
                "QgxEventsProcessingSlow",
                at="25m",
                firing=(
                    expected(
                        "QgxEventsProcessingSlow",
                        {**ORDER_LABELS, **WARNING},
                        summary="order events in shop are processed slowly",
                        description="The 99th percentile processing time of order events in shop is 1m 59s (threshold 30s).",
                        dashboard=SHOP_DASHBOARD,
                    ),
                ),
            ),
        ),
    ),
)

namespace = RuleNamespace(name="qgx-events", groups=(recording, alerts), tests=tests)
