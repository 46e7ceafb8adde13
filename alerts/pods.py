"""Pods: crash loops, restarts, readiness, OOM kills, CPU throttling and memory near the limit.

Sources: kube-state-metrics (`kube_pod_*`) and cAdvisor (`container_*`), shipped to Mimir by Alloy.
"""

from alerts._common import INFO, WARNING, annotations, expected
from dashboards import pod_monitoring
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

POD = "cluster, namespace, pod"
CONTAINER = "cluster, namespace, pod, container"


def pod_dashboard(cluster: str, namespace: str, pod: str) -> DashboardURL:
    return DashboardURL(
        pod_monitoring.dashboard, {"var-cluster": cluster, "var-namespace": namespace, "var-pod": pod}
    )


# Go templates inside a URL must not contain spaces (they would be percent-encoded into the action).
POD_DASHBOARD = pod_dashboard("{{$labels.cluster}}", "{{$labels.namespace}}", "{{$labels.pod}}")

recording = RuleGroup(
    name="pods.recording",
    rules=(
        Record(
            name="cluster_namespace_pod_container:container_cpu_cfs_throttled:ratio_rate5m",
            expr=f"""
sum by ({CONTAINER}) (rate(container_cpu_cfs_throttled_periods_total{{container!=""}}[5m]))
/
sum by ({CONTAINER}) (rate(container_cpu_cfs_periods_total{{container!=""}}[5m]))
""".strip(),
        ),
        Record(
            name="cluster_namespace_pod_container:container_memory_working_set_bytes:ratio_limit",
            expr=f"""
max by ({CONTAINER}) (container_memory_working_set_bytes{{container!="", image!=""}})
/
max by ({CONTAINER}) (kube_pod_container_resource_limits{{resource="memory"}} > 0)
""".strip(),
        ),
    ),
)

alerts = RuleGroup(
    name="pods.alerts",
    rules=(
        Alert(
            name="KubePodCrashLooping",
            expr=f'max by ({CONTAINER}) (kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff"}}) >= 1',
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "KubePodCrashLooping",
                summary="Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping",
                description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} "
                "(cluster {{ $labels.cluster }}) has been in CrashLoopBackOff for 15 minutes.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="KubePodFrequentRestarts",
            expr=f"sum by ({CONTAINER}) (increase(kube_pod_container_status_restarts_total[1h])) > 3",
            for_="5m",
            labels=WARNING,
            annotations=annotations(
                "KubePodFrequentRestarts",
                summary="Pod {{ $labels.namespace }}/{{ $labels.pod }} restarts frequently",
                description='Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ printf "%.0f" $value }} times in the last hour.',
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="KubePodNotReady",
            # Completed pods (jobs) are never ready: only running or pending pods count.
            expr=f"""
max by ({POD}) (kube_pod_status_ready{{condition="true"}}) == 0
and on ({POD})
max by ({POD}) (kube_pod_status_phase{{phase=~"Running|Pending"}}) == 1
""".strip(),
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "KubePodNotReady",
                summary="Pod {{ $labels.namespace }}/{{ $labels.pod }} is not ready",
                description="Pod {{ $labels.namespace }}/{{ $labels.pod }} (cluster {{ $labels.cluster }}) "
                "has not been ready for 15 minutes.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="KubeContainerOOMKilled",
            # The "last terminated" reason stays set after the restart: require a recent restart as well.
            expr=f"""
sum by ({CONTAINER}) (increase(kube_pod_container_status_restarts_total[10m])) > 0
and on ({CONTAINER})
max by ({CONTAINER}) (kube_pod_container_status_last_terminated_reason{{reason="OOMKilled"}}) == 1
""".strip(),
            # The restart stays in the 10m window, so a short `for` only filters a one-scrape blip.
            for_="1m",
            labels=WARNING,
            annotations=annotations(
                "KubeContainerOOMKilled",
                summary="Container {{ $labels.container }} in {{ $labels.namespace }}/{{ $labels.pod }} was OOM killed",
                description="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} "
                "was killed for exceeding its memory limit and restarted in the last 10 minutes.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="KubeContainerCPUThrottling",
            expr="cluster_namespace_pod_container:container_cpu_cfs_throttled:ratio_rate5m > 0.25",
            for_="15m",
            labels=INFO,
            annotations=annotations(
                "KubeContainerCPUThrottling",
                summary="Container {{ $labels.container }} in {{ $labels.namespace }}/{{ $labels.pod }} is CPU throttled",
                description="{{ $value | humanizePercentage }} of the CPU periods of container {{ $labels.container }} "
                "in {{ $labels.namespace }}/{{ $labels.pod }} were throttled over 15 minutes.",
                dashboard=POD_DASHBOARD,
            ),
        ),
        Alert(
            name="KubeContainerMemoryNearLimit",
            expr="cluster_namespace_pod_container:container_memory_working_set_bytes:ratio_limit > 0.9",
            for_="15m",
            labels=WARNING,
            annotations=annotations(
                "KubeContainerMemoryNearLimit",
                summary="Container {{ $labels.container }} in {{ $labels.namespace }}/{{ $labels.pod }} is near its memory limit",
                description="Container {{ $labels.container }} in {{ $labels.namespace }}/{{ $labels.pod }} "
                "uses {{ $value | humanizePercentage }} of its memory limit.",
                dashboard=POD_DASHBOARD,
            ),
        ),
    ),
)

# --- unit tests (promtool test rules) -----------------------------------------------------------------

C = 'cluster="c1", namespace="shop", pod="api-1", container="api"'
P = 'cluster="c1", namespace="shop", pod="api-1"'
CONTAINER_LABELS = {"cluster": "c1", "namespace": "shop", "pod": "api-1", "container": "api"}
POD_LABELS = {"cluster": "c1", "namespace": "shop", "pod": "api-1"}
API_1 = pod_dashboard("c1", "shop", "api-1")

tests = (
    RuleTest(
        name="crash looping container",
        series={
            f'kube_pod_container_status_waiting_reason{{{C}, reason="CrashLoopBackOff"}}': "0x5 1x30",
            # Another container waiting for a different reason never alerts.
            f'kube_pod_container_status_waiting_reason{{{P}, container="sidecar", reason="ContainerCreating"}}': "1x35",
        },
        checks=(
            AlertCheck("KubePodCrashLooping", at="15m"),  # in CrashLoopBackOff for 10m only: pending
            AlertCheck(
                "KubePodCrashLooping",
                at="25m",
                firing=(
                    expected(
                        "KubePodCrashLooping",
                        {**CONTAINER_LABELS, **WARNING},
                        summary="Pod shop/api-1 is crash looping",
                        description="Container api of pod shop/api-1 (cluster c1) has been in CrashLoopBackOff for 15 minutes.",
                        dashboard=API_1,
                    ),
                ),
            ),
        ),
    ),
    RuleTest(
        name="restarts: 6 in an hour fire, 1 does not",
        series={
            f"kube_pod_container_status_restarts_total{{{C}}}": "0x10 1 2 3 4 5 6x60",
            f'kube_pod_container_status_restarts_total{{{P}, container="sidecar"}}': "0x10 1x60",
        },
        checks=(
            AlertCheck("KubePodFrequentRestarts", at="10m"),
            AlertCheck(
                "KubePodFrequentRestarts",
                at="30m",
                firing=(
                    expected(
                        "KubePodFrequentRestarts",
                        {**CONTAINER_LABELS, **WARNING},
                        summary="Pod shop/api-1 restarts frequently",
                        description="Container api of pod shop/api-1 restarted 6 times in the last hour.",
                        dashboard=API_1,
                    ),
                ),
            ),
        ),
    ),
    RuleTest(
        name="pod not ready while running; completed job pods are ignored",
        series={
            f'kube_pod_status_ready{{{P}, condition="true"}}': "1x5 0x30",
            f'kube_pod_status_phase{{{P}, phase="Running"}}': "1x35",
            'kube_pod_status_ready{cluster="c1", namespace="shop", pod="job-1", condition="true"}': "0x35",
            'kube_pod_status_phase{cluster="c1", namespace="shop", pod="job-1", phase="Succeeded"}': "1x35",
            'kube_pod_status_phase{cluster="c1", namespace="shop", pod="job-1", phase="Running"}': "0x35",
        },
        checks=(
            AlertCheck("KubePodNotReady", at="10m"),
            AlertCheck(
                "KubePodNotReady",
                at="25m",
                firing=(
                    expected(
                        "KubePodNotReady",
                        {**POD_LABELS, **WARNING},
                        summary="Pod shop/api-1 is not ready",
                        description="Pod shop/api-1 (cluster c1) has not been ready for 15 minutes.",
                        dashboard=API_1,
                    ),
                ),
            ),
        ),
    ),
    RuleTest(
        name="OOM kill followed by a restart; an old OOM kill stays quiet",
        series={
            f"kube_pod_container_status_restarts_total{{{C}}}": "0x10 1x40",
            f'kube_pod_container_status_last_terminated_reason{{{C}, reason="OOMKilled"}}': "_x10 1x40",
        },
        checks=(
            AlertCheck("KubeContainerOOMKilled", at="5m"),
            AlertCheck(
                "KubeContainerOOMKilled",
                at="12m",
                firing=(
                    expected(
                        "KubeContainerOOMKilled",
                        {**CONTAINER_LABELS, **WARNING},
                        summary="Container api in shop/api-1 was OOM killed",
                        description="Container api of pod shop/api-1 was killed for exceeding its memory limit "
                        "and restarted in the last 10 minutes.",
                        dashboard=API_1,
                    ),
                ),
            ),
            AlertCheck("KubeContainerOOMKilled", at="40m"),
        ),
    ),
    RuleTest(
        name="CPU throttling above 25% for 15 minutes",
        series={
            # 100 CFS periods a minute; 50 throttled from minute 10 on (10 before).
            f"container_cpu_cfs_periods_total{{{C}}}": "0+100x40",
            f"container_cpu_cfs_throttled_periods_total{{{C}}}": "0+10x10 100+50x30",
        },
        checks=(
            AlertCheck("KubeContainerCPUThrottling", at="10m"),
            AlertCheck(
                "KubeContainerCPUThrottling",
                at="35m",
                firing=(
                    expected(
                        "KubeContainerCPUThrottling",
                        {**CONTAINER_LABELS, **INFO},
                        summary="Container api in shop/api-1 is CPU throttled",
                        description="50% of the CPU periods of container api in shop/api-1 were throttled over 15 minutes.",
                        dashboard=API_1,
                    ),
                ),
            ),
            SampleCheck(
                "cluster_namespace_pod_container:container_cpu_cfs_throttled:ratio_rate5m",
                at="35m",
                samples={
                    f"cluster_namespace_pod_container:container_cpu_cfs_throttled:ratio_rate5m{{{C}}}": 0.5
                },
            ),
        ),
    ),
    RuleTest(
        name="memory at 95% of the limit; another container at 50% stays quiet",
        series={
            f'container_memory_working_set_bytes{{{C}, image="api:1", id="/a"}}': "950x30",
            f'kube_pod_container_resource_limits{{{C}, resource="memory", unit="byte"}}': "1000x30",
            f'container_memory_working_set_bytes{{{P}, container="sidecar", image="proxy:1"}}': "500x30",
            f'kube_pod_container_resource_limits{{{P}, container="sidecar", resource="memory"}}': "1000x30",
            # cAdvisor's pod-level series (no container) is not a container.
            f'container_memory_working_set_bytes{{{P}, container="", id="/pod"}}': "1900x30",
        },
        checks=(
            AlertCheck("KubeContainerMemoryNearLimit", at="10m"),
            AlertCheck(
                "KubeContainerMemoryNearLimit",
                at="20m",
                firing=(
                    expected(
                        "KubeContainerMemoryNearLimit",
                        {**CONTAINER_LABELS, **WARNING},
                        summary="Container api in shop/api-1 is near its memory limit",
                        description="Container api in shop/api-1 uses 95% of its memory limit.",
                        dashboard=API_1,
                    ),
                ),
            ),
        ),
    ),
)

namespace = RuleNamespace(name="qgx-pods", groups=(recording, alerts), tests=tests)
