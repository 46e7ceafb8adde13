"""The collection pipeline itself: Alloy and scrape targets down, logs or samples dropped on the way.

Alloy's own metrics (`up`, `loki_write_dropped_entries_total`, `prometheus_remote_storage_samples_failed_total`)
and, where the tenant scrapes them, Mimir's and Loki's distributors (`cortex_discarded_samples_total`,
`loki_discarded_samples_total`).
"""

from alerts._common import CRITICAL, WARNING, annotations, expected
from dashboards import backend_logs, pod_monitoring
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import (
    Alert,
    AlertCheck,
    RuleGroup,
    RuleNamespace,
    RuleTest,
)

ALLOY_JOB = 'job=~".*alloy.*"'
POD = "cluster, namespace, pod"


def pods_dashboard(cluster: str, namespace: str, pod: str | None = None) -> DashboardURL:
    params = {"var-cluster": cluster, "var-namespace": namespace}
    if pod is not None:
        params["var-pod"] = pod
    return DashboardURL(pod_monitoring.dashboard, params)


def logs_dashboard(cluster: str, namespace: str) -> DashboardURL:
    return DashboardURL(backend_logs.dashboard, {"var-cluster": cluster, "var-namespace": namespace})


# Go templates inside a URL must not contain spaces (they would be percent-encoded into the action).
POD_DASHBOARD = pods_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}", "{{$labels.pod}}")
NAMESPACE_DASHBOARD = pods_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}")

alerts = RuleGroup(
    name="pipeline.alerts",
    rules=(
        Alert(
            name="AlloyDown",
            expr=f"min by ({POD}) (up{{{ALLOY_JOB}}}) == 0",
            for_="5m",
            labels=CRITICAL,
            annotations=annotations(
                "AlloyDown",
                summary="Alloy {{ $labels.namespace }}/{{ $labels.pod }} is down",
                description="Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} (cluster {{ $labels.cluster }}) "
                "has not answered its scrape for 5 minutes: logs and metrics of its node are not collected.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="AlloyMetricsAbsent",
            # When every Alloy is gone no `up` series reaches Mimir at all, so `AlloyDown` cannot fire.
            expr=f"absent_over_time(up{{{ALLOY_JOB}}}[10m]) == 1",
            for_="5m",
            labels=CRITICAL,
            annotations=annotations(
                "AlloyMetricsAbsent",
                summary="No metrics from Alloy reach Mimir",
                description="Mimir has received no `up` sample from any Alloy job for 15 minutes: "
                "the collection pipeline is down or cannot write to Mimir.",
                dashboard=DashboardURL(pod_monitoring.dashboard),
            ),
        ),
        Alert(
            name="ScrapeTargetsDown",
            expr="100 * (count by (cluster, namespace, job) (up == 0) / count by (cluster, namespace, job) (up)) > 10",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "ScrapeTargetsDown",
                summary="{{ $value | humanize }}% of the {{ $labels.job }} targets in {{ $labels.namespace }} are down",
                description="{{ $value | humanize }}% of the scrape targets of job {{ $labels.job }} in "
                "{{ $labels.namespace }} (cluster {{ $labels.cluster }}) have been down for 15 minutes.",
                dashboard=NAMESPACE_DASHBOARD,
            ),
        ),
        Alert(
            name="AlloyLokiWriteDroppingEntries",
            expr=f"sum by ({POD}) (rate(loki_write_dropped_entries_total[5m])) > 0",
            for_="10m",
            labels=WARNING,
            annotations=annotations(
                "AlloyLokiWriteDroppingEntries",
                summary="Alloy {{ $labels.namespace }}/{{ $labels.pod }} drops log lines",
                description="Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} drops {{ $value | humanize }} "
                "log entries/s that Loki did not accept.",
                dashboard=logs_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}"),
            ),
        ),
        Alert(
            name="AlloyRemoteWriteFailing",
            expr=f"sum by ({POD}) (rate(prometheus_remote_storage_samples_failed_total[5m])) > 0",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "AlloyRemoteWriteFailing",
                summary="Alloy {{ $labels.namespace }}/{{ $labels.pod }} fails to write samples to Mimir",
                description="Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} fails to remote-write "
                "{{ $value | humanize }} samples/s.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="MimirDiscardingSamples",
            expr="sum by (cluster, namespace, user, reason) (rate(cortex_discarded_samples_total[5m])) > 0",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "MimirDiscardingSamples",
                summary="Mimir discards samples of tenant {{ $labels.user }} ({{ $labels.reason }})",
                description="Mimir in {{ $labels.namespace }} discards {{ $value | humanize }} samples/s of tenant "
                "{{ $labels.user }} for reason {{ $labels.reason }}.",
                dashboard=NAMESPACE_DASHBOARD,
            ),
        ),
        Alert(
            name="LokiDiscardingSamples",
            expr="sum by (cluster, namespace, tenant, reason) (rate(loki_discarded_samples_total[5m])) > 0",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "LokiDiscardingSamples",
                summary="Loki discards log lines of tenant {{ $labels.tenant }} ({{ $labels.reason }})",
                description="Loki in {{ $labels.namespace }} discards {{ $value | humanize }} lines/s of tenant "
                "{{ $labels.tenant }} for reason {{ $labels.reason }}.",
                dashboard=NAMESPACE_DASHBOARD,
            ),
        ),
    ),
)

# --- unit tests (promtool test rules) -----------------------------------------------------------------

ALLOY_1 = 'cluster="c1", namespace="monitoring", pod="alloy-1"'
ALLOY_1_LABELS = {"cluster": "c1", "namespace": "monitoring", "pod": "alloy-1"}
MONITORING = pods_dashboard("c1", "monitoring")
ALLOY_1_DASHBOARD = pods_dashboard("c1", "monitoring", "alloy-1")


def drop_rate_test(
    alertname: str,
    metric: str,
    labels: str,
    expect: dict[str, str],
    summary: str,
    description: str,
    dashboard: DashboardURL,
) -> RuleTest:
    """A counter that starts increasing at minute 10 fires after `for`; a flat one never does."""
    return RuleTest(
        name=f"{alertname}: a rising {metric} fires; a flat one does not",
        series={
            f"{metric}{{{labels}}}": "0x10 0+60x40",  # 1/s from minute 10
            f"{metric}{{{labels.replace('c1', 'c2')}}}": "5x50",
        },
        checks=(
            AlertCheck(alertname, at="20m"),  # true since minute 11, `for` not elapsed yet
            AlertCheck(
                alertname,
                at="45m",
                firing=(expected(alertname, {**expect, **WARNING}, summary, description, dashboard),),
            ),
        ),
    )


tests = (
    RuleTest(
        name="one Alloy pod down for 5 minutes; the healthy one is quiet",
        series={
            f'up{{{ALLOY_1}, job="monitoring/alloy", instance="10.0.0.1:12345"}}': "1x5 0x20",
            'up{cluster="c1", namespace="monitoring", pod="alloy-2", job="monitoring/alloy", instance="10.0.0.2:12345"}': "1x25",
        },
        checks=(
            AlertCheck("AlloyDown", at="8m"),
            AlertCheck(
                "AlloyDown",
                at="15m",
                firing=(
                    expected(
                        "AlloyDown",
                        {**ALLOY_1_LABELS, **CRITICAL},
                        summary="Alloy monitoring/alloy-1 is down",
                        description="Alloy pod monitoring/alloy-1 (cluster c1) has not answered its scrape for 5 minutes: "
                        "logs and metrics of its node are not collected.",
                        dashboard=ALLOY_1_DASHBOARD,
                    ),
                ),
            ),
            AlertCheck("AlloyMetricsAbsent", at="15m"),
        ),
    ),
    RuleTest(
        name="every Alloy series stops",
        series={f'up{{{ALLOY_1}, job="monitoring/alloy", instance="10.0.0.1:12345"}}': "1x10"},
        checks=(
            AlertCheck("AlloyMetricsAbsent", at="18m"),  # absent only since minute 20 (10m window)
            AlertCheck(
                "AlloyMetricsAbsent",
                at="30m",
                firing=(
                    expected(
                        "AlloyMetricsAbsent",
                        CRITICAL,
                        summary="No metrics from Alloy reach Mimir",
                        description="Mimir has received no `up` sample from any Alloy job for 15 minutes: "
                        "the collection pipeline is down or cannot write to Mimir.",
                        dashboard=DashboardURL(pod_monitoring.dashboard),
                    ),
                ),
            ),
        ),
    ),
    RuleTest(
        name="half of a job's targets down fires; one of twenty does not",
        series={
            'up{cluster="c1", namespace="shop", job="api", instance="a"}': "1x40",
            'up{cluster="c1", namespace="shop", job="api", instance="b"}': "1x5 0x35",
            **{
                f'up{{cluster="c1", namespace="shop", job="worker", instance="w{i}"}}': (
                    "0x40" if i == 0 else "1x40"
                )
                for i in range(20)
            },
        },
        checks=(
            AlertCheck("ScrapeTargetsDown", at="15m"),
            AlertCheck(
                "ScrapeTargetsDown",
                at="30m",
                firing=(
                    expected(
                        "ScrapeTargetsDown",
                        {"cluster": "c1", "namespace": "shop", "job": "api", **WARNING},
                        summary="50% of the api targets in shop are down",
                        description="50% of the scrape targets of job api in shop (cluster c1) have been down for 15 minutes.",
                        dashboard=pods_dashboard("c1", "shop"),
                    ),
                ),
            ),
        ),
    ),
    drop_rate_test(
        "AlloyLokiWriteDroppingEntries",
        "loki_write_dropped_entries_total",
        f'{ALLOY_1}, reason="rate_limited"',
        ALLOY_1_LABELS,
        summary="Alloy monitoring/alloy-1 drops log lines",
        description="Alloy pod monitoring/alloy-1 drops 1 log entries/s that Loki did not accept.",
        dashboard=logs_dashboard("c1", "monitoring"),
    ),
    drop_rate_test(
        "AlloyRemoteWriteFailing",
        "prometheus_remote_storage_samples_failed_total",
        f'{ALLOY_1}, remote_name="mimir"',
        ALLOY_1_LABELS,
        summary="Alloy monitoring/alloy-1 fails to write samples to Mimir",
        description="Alloy pod monitoring/alloy-1 fails to remote-write 1 samples/s.",
        dashboard=ALLOY_1_DASHBOARD,
    ),
    drop_rate_test(
        "MimirDiscardingSamples",
        "cortex_discarded_samples_total",
        'cluster="c1", namespace="mimir", pod="distributor-1", user="qgx-dev", reason="sample_out_of_order"',
        {"cluster": "c1", "namespace": "mimir", "user": "qgx-dev", "reason": "sample_out_of_order"},
        summary="Mimir discards samples of tenant qgx-dev (sample_out_of_order)",
        description="Mimir in mimir discards 1 samples/s of tenant qgx-dev for reason sample_out_of_order.",
        dashboard=pods_dashboard("c1", "mimir"),
    ),
    drop_rate_test(
        "LokiDiscardingSamples",
        "loki_discarded_samples_total",
        'cluster="c1", namespace="loki", pod="distributor-1", tenant="qgx-dev", reason="rate_limited"',
        {"cluster": "c1", "namespace": "loki", "tenant": "qgx-dev", "reason": "rate_limited"},
        summary="Loki discards log lines of tenant qgx-dev (rate_limited)",
        description="Loki in loki discards 1 lines/s of tenant qgx-dev for reason rate_limited.",
        dashboard=pods_dashboard("c1", "loki"),
    ),
)

namespace = RuleNamespace(name="qgx-pipeline", groups=(alerts,), tests=tests)
