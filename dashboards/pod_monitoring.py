"""Pod Monitoring (Mimir, or Thanos through the `datasource` variable): pod phases and readiness, CPU and memory
against requests and limits, network, restarts, OOM kills and CPU throttling.

Metrics: cAdvisor (`container_*`, scraped from the kubelet) and kube-state-metrics (`kube_pod_*`). cAdvisor's
per-container series carry `container`; the pod's own cgroup has `container=""`, excluded to avoid double counts.
"""

from grafanalib.core import Dashboard, Templating

from dashboards import _common as qgx
from dashboards._common import SELECTED_PROMETHEUS as PROMETHEUS
from datasources.mimir import datasource as mimir
from datasources.thanos import datasource as thanos
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.panels import (
    PromQuery,
    bar_gauge,
    layout,
    prom_target,
    regex_override,
    row,
    series_color,
    stat,
    thresholds,
    timeseries,
)
from lgtm_dash.model.variables import datasource_variable

# Label filters of every query; containers additionally exclude the pod-level cgroup.
PODS = 'cluster=~"$cluster", namespace=~"$namespace", pod=~"$pod"'
CONTAINERS = PODS + ', container!=""'
PHASE_COLORS = {
    "Running": "green",
    "Pending": "yellow",
    "Succeeded": "blue",
    "Failed": "red",
    "Unknown": "purple",
}


def totals(usage: str, resource: str) -> list[PromQuery]:
    """Usage of the selected pods against the sum of their requests and limits of `resource`."""
    return [
        prom_target(f"sum({usage})", "usage"),
        prom_target(
            f'sum(kube_pod_container_resource_requests{{resource="{resource}", {PODS}}})', "requests"
        ),
        prom_target(f'sum(kube_pod_container_resource_limits{{resource="{resource}", {PODS}}})', "limits"),
    ]


LIMIT_LINES = [series_color("requests", "yellow"), series_color("limits", "red")]
CPU_USAGE = f"rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$__rate_interval])"
MEMORY_USAGE = f"container_memory_working_set_bytes{{{CONTAINERS}}}"

dashboard = Board(
    Dashboard(
        title="Pod Monitoring",
        uid="qgx-pod-monitoring",
        description="Kubernetes pods: phases, readiness, CPU, memory, network, restarts, OOM kills, throttling.",
        tags=qgx.TAGS,
        refresh=qgx.REFRESH,
        time=qgx.LAST_6_HOURS,
        graphTooltip=qgx.SHARED_CROSSHAIR,
        links=[qgx.QGX_DASHBOARDS],
        templating=Templating(
            [
                datasource_variable(
                    "datasource",
                    "prometheus",
                    default=mimir,
                    label="Metrics",
                    regex=f"/^({mimir.name}|{thanos.name})$/",
                ),
                qgx.prometheus_label("cluster", "kube_pod_info", datasource=PROMETHEUS, label="Cluster"),
                qgx.prometheus_label(
                    "namespace", "kube_pod_info", "cluster", datasource=PROMETHEUS, label="Namespace"
                ),
                qgx.prometheus_label(
                    "pod", "kube_pod_info", "cluster", "namespace", datasource=PROMETHEUS, label="Pod"
                ),
            ]
        ),
        panels=layout(
            row(
                None,
                stat(
                    "Running pods",
                    prom_target(f'sum(kube_pod_status_phase{{phase="Running", {PODS}}})'),
                    datasource=PROMETHEUS,
                    unit="short",
                ),
                stat(
                    "Pods not ready",
                    prom_target(f'sum(kube_pod_status_ready{{condition!="true", {PODS}}})'),
                    datasource=PROMETHEUS,
                    unit="short",
                    colors=thresholds(("green", None), ("red", 1)),
                ),
                stat(
                    "Container restarts",
                    prom_target(
                        f"sum(increase(kube_pod_container_status_restarts_total{{{PODS}}}[$__range]))",
                        instant=True,
                    ),
                    datasource=PROMETHEUS,
                    unit="short",
                    sparkline=False,
                    colors=thresholds(("green", None), ("orange", 1)),
                    description="Restarts over the selected time range.",
                ),
                stat(
                    "Last terminated by OOM kill",
                    prom_target(
                        f'sum(kube_pod_container_status_last_terminated_reason{{reason="OOMKilled", {PODS}}})'
                    ),
                    datasource=PROMETHEUS,
                    unit="short",
                    colors=thresholds(("green", None), ("red", 1)),
                    description="Containers whose last termination was an OOM kill.",
                ),
                height=4,
            ),
            row(
                "Pods",
                timeseries(
                    "Pods by phase",
                    prom_target(f"sum by (phase) (kube_pod_status_phase{{{PODS}}})", "{{phase}}"),
                    datasource=PROMETHEUS,
                    unit="short",
                    stack=True,
                    overrides=[series_color(phase, color) for phase, color in PHASE_COLORS.items()],
                ),
                timeseries(
                    "Ready vs not ready",
                    prom_target(f'sum(kube_pod_status_ready{{condition="true", {PODS}}})', "ready"),
                    prom_target(f'sum(kube_pod_status_ready{{condition!="true", {PODS}}})', "not ready"),
                    datasource=PROMETHEUS,
                    unit="short",
                    stack=True,
                    overrides=[series_color("ready", "green"), series_color("not ready", "red")],
                ),
            ),
            row(
                "CPU",
                timeseries(
                    "CPU usage vs requests and limits (cores)",
                    *totals(CPU_USAGE, "cpu"),
                    datasource=PROMETHEUS,
                    unit="short",
                    overrides=LIMIT_LINES,
                    min_value=0,
                ),
                timeseries(
                    "CPU usage by pod (cores)",
                    prom_target(f"sum by (pod) ({CPU_USAGE})", "{{pod}}"),
                    datasource=PROMETHEUS,
                    unit="short",
                    min_value=0,
                ),
                timeseries(
                    "CPU throttling by pod",
                    prom_target(
                        f"""
                        sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{{{CONTAINERS}}}[$__rate_interval]))
                          /
                        sum by (pod) (rate(container_cpu_cfs_periods_total{{{CONTAINERS}}}[$__rate_interval]))
                        """,
                        "{{pod}}",
                    ),
                    datasource=PROMETHEUS,
                    unit="percentunit",
                    min_value=0,
                    description="Share of CFS periods in which the pod's containers hit their CPU limit.",
                ),
            ),
            row(
                "Memory",
                timeseries(
                    "Memory working set vs requests and limits",
                    *totals(MEMORY_USAGE, "memory"),
                    datasource=PROMETHEUS,
                    unit="bytes",
                    overrides=LIMIT_LINES,
                    min_value=0,
                ),
                timeseries(
                    "Memory working set by pod",
                    prom_target(f"sum by (pod) ({MEMORY_USAGE})", "{{pod}}"),
                    datasource=PROMETHEUS,
                    unit="bytes",
                    min_value=0,
                ),
                timeseries(
                    "Memory working set / limit by pod",
                    prom_target(
                        f"""
                        sum by (namespace, pod) ({MEMORY_USAGE})
                          /
                        sum by (namespace, pod) (kube_pod_container_resource_limits{{resource="memory", {PODS}}})
                        """,
                        "{{pod}}",
                    ),
                    datasource=PROMETHEUS,
                    unit="percentunit",
                    min_value=0,
                    description="The kubelet OOM-kills a container whose working set reaches its limit.",
                ),
            ),
            row(
                "Network",
                timeseries(
                    "Network receive (+) / transmit (-) by pod",
                    prom_target(
                        f"sum by (pod) (rate(container_network_receive_bytes_total{{{PODS}}}[$__rate_interval]))",
                        "rx {{pod}}",
                    ),
                    prom_target(
                        f"sum by (pod) (rate(container_network_transmit_bytes_total{{{PODS}}}[$__rate_interval]))",
                        "tx {{pod}}",
                    ),
                    datasource=PROMETHEUS,
                    unit="Bps",
                    overrides=[regex_override("^tx ", custom__transform="negative-Y")],
                    width=24,
                ),
            ),
            row(
                "Restarts and OOM kills",
                bar_gauge(
                    "Restarts in the time range by container",
                    prom_target(
                        f"""
                        topk(20, sum by (pod, container) (
                          increase(kube_pod_container_status_restarts_total{{{PODS}}}[$__range])
                        ) > 0)
                        """,
                        "{{pod}} / {{container}}",
                        instant=True,
                    ),
                    datasource=PROMETHEUS,
                    unit="short",
                    colors=thresholds(("orange", None)),
                ),
                timeseries(
                    "Restarts",
                    prom_target(
                        f"sum by (pod) (increase(kube_pod_container_status_restarts_total{{{PODS}}}[$__rate_interval]))",
                        "{{pod}}",
                    ),
                    datasource=PROMETHEUS,
                    unit="short",
                    bars=True,
                ),
                timeseries(
                    "Containers last terminated by OOM kill",
                    prom_target(
                        f'sum by (pod, container) (kube_pod_container_status_last_terminated_reason{{reason="OOMKilled", {PODS}}})',
                        "{{pod}} / {{container}}",
                    ),
                    datasource=PROMETHEUS,
                    unit="short",
                    description="kube-state-metrics keeps the reason of each container's last termination.",
                ),
            ),
        ),
    ),
    folder=qgx.FOLDER,
)
