"""The benchmark workload: a generated project in the repository's own style, at any number of dashboards.

Every dashboard describes one service (`svc-NNNN` in namespace `team-NN`) with 30 panels in five rows:
HTTP traffic and resources from Mimir (PromQL), long-term trends from Thanos (PromQL), logs from Loki (LogQL)
and the business database (MySQL). Queries differ per service, as they do between real dashboards, so no
cache can answer them from another dashboard. Rule groups scale with the dashboards (one per ten).

The same dashboards are written twice: as lgtm-dash definition modules (`dashboards/gen_NNNN.py`, built with
the toolkit's helpers in `lgtm_dash/model/`) and as grafanalib's own `*.dashboard.py` files (grafanalib's core
classes only), so `generate-dashboards` can be timed on the same panels and queries.
"""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lgtm_dash.model.panels import DEFAULT_HEIGHT, GRID_WIDTH, ROW_HEADER_HEIGHT

# The Mimir emulator's rule-group limit in the benchmark (bench/stages.py starts it with this).
MAX_RULE_GROUPS = 10_000

REPO = Path(__file__).resolve().parent.parent
PANELS_PER_DASHBOARD = 30
DASHBOARDS_PER_RULE_GROUP = 10
GROUPS_PER_NAMESPACE = 10
FOLDER_COUNT = 10

# Datasource handle in generated code -> (query language, target helper).
DATASOURCES = {
    "MIMIR": ("promql", "prom_target"),
    "THANOS": ("promql", "prom_target"),
    "LOKI": ("logql", "loki_target"),
    "MYSQL": ("sql", "sql_target"),
}


@dataclass(frozen=True)
class PanelSpec:
    kind: str  # a helper of lgtm_dash.model.panels: timeseries, stat, bar_gauge, pie_chart, table, logs
    title: str
    datasource: str  # a key of DATASOURCES
    queries: tuple[tuple[str, str], ...]  # (query text, legend)
    unit: str = "short"
    instant: bool = False
    sql_format: str = "time_series"

    @property
    def language(self) -> str:
        return DATASOURCES[self.datasource][0]


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    index: int
    uid: str
    title: str
    service: str
    namespace: str
    folder: int
    window: str  # the default of the dashboard's trend window variable
    rows: tuple[RowSpec, ...]

    @property
    def module(self) -> str:
        return f"gen_{self.index:04d}"

    def panels(self) -> list[PanelSpec]:
        return [panel for band in self.rows for panel in band.panels]


@dataclass(frozen=True)
class Workload:
    """What was generated, for the benchmark's throughput figures."""

    root: Path
    dashboards: tuple[DashboardSpec, ...]
    rule_groups: int
    rules: int

    def queries_per_language(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for spec in self.dashboards:
            for panel in spec.panels():
                counts[panel.language] += len(panel.queries)
        counts["promql"] += self.rules  # every rule expression is PromQL
        return counts


# --- The dashboards ----------------------------------------------------------------------------------------


def dashboard_spec(index: int) -> DashboardSpec:
    service = f"svc-{index:04d}"
    namespace = f"team-{index % 37:02d}"
    http = f'cluster="$cluster", namespace="$namespace", service="{service}"'
    pods = f'cluster="$cluster", namespace="$namespace", pod=~"{service}-.*"'
    logs = f'{{namespace="$namespace", app="{service}"}}'
    quantile = (0.95, 0.99, 0.999)[index % 3]
    slow_ms = 500 + 100 * (index % 10)
    rows = (
        RowSpec(
            "Traffic",
            (
                PanelSpec("stat", "Request rate", "MIMIR", ((f"sum(rate(qgx_http_requests_total{{{http}}}[$__rate_interval]))", ""),), "reqps"),
                PanelSpec("stat", "Error ratio", "MIMIR", ((f"sum(rate(qgx_http_errors_total{{{http}}}[$__rate_interval])) / sum(rate(qgx_http_requests_total{{{http}}}[$__rate_interval]))", ""),), "percentunit"),
                PanelSpec("stat", f"p{quantile * 100:g} latency", "MIMIR", ((f"histogram_quantile({quantile}, sum by (le) (rate(qgx_http_request_duration_ms_bucket{{{http}}}[$__rate_interval])))", ""),), "ms"),
                PanelSpec("timeseries", "Requests by status", "MIMIR", ((f"sum by (status) (rate(qgx_http_requests_total{{{http}}}[$__rate_interval]))", "{{status}}"),), "reqps"),
                PanelSpec(
                    "timeseries",
                    "Latency percentiles",
                    "MIMIR",
                    tuple(
                        (f"histogram_quantile({q}, sum by (le) (rate(qgx_http_request_duration_ms_bucket{{{http}}}[$__rate_interval])))", f"p{q * 100:g}")
                        for q in (0.5, 0.9, quantile)
                    ),
                    "ms",
                ),
                PanelSpec("bar_gauge", "Errors by URI", "MIMIR", ((f"topk(10, sum by (uri) (increase(qgx_http_errors_total{{{http}}}[$__range])))", "{{uri}}"),), "short", instant=True),
            ),
        ),
        RowSpec(
            "Resources",
            (
                PanelSpec("timeseries", "CPU by pod", "MIMIR", ((f'sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods}, container!=""}}[$__rate_interval]))', "{{pod}}"),), "short"),
                PanelSpec("timeseries", "Memory working set", "MIMIR", ((f'sum by (pod) (container_memory_working_set_bytes{{{pods}, container!=""}})', "{{pod}}"),), "bytes"),
                PanelSpec("timeseries", "CPU throttling", "MIMIR", ((f"sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{{{pods}}}[$__rate_interval])) / sum by (pod) (rate(container_cpu_cfs_periods_total{{{pods}}}[$__rate_interval]))", "{{pod}}"),), "percentunit"),
                PanelSpec("stat", "Restarts", "MIMIR", ((f"sum(increase(kube_pod_container_status_restarts_total{{{pods}}}[$__range]))", ""),), "short"),
                PanelSpec(
                    "timeseries",
                    "Network",
                    "MIMIR",
                    (
                        (f"sum(rate(container_network_receive_bytes_total{{{pods}}}[$__rate_interval]))", "received"),
                        (f"-sum(rate(container_network_transmit_bytes_total{{{pods}}}[$__rate_interval]))", "sent"),
                    ),
                    "Bps",
                ),
                PanelSpec("stat", "Replicas available", "MIMIR", ((f'kube_deployment_status_replicas_available{{cluster="$cluster", namespace="$namespace", deployment="{service}"}}', ""),), "short"),
            ),
        ),
        RowSpec(
            "Long-term",
            (
                PanelSpec("timeseries", "Requests per $window", "THANOS", ((f"sum(increase(qgx_http_requests_total{{{http}}}[$window]))", "requests"),), "short"),
                PanelSpec("stat", "Availability", "THANOS", ((f"1 - sum(increase(qgx_http_errors_total{{{http}}}[$__range])) / sum(increase(qgx_http_requests_total{{{http}}}[$__range]))", ""),), "percentunit"),
                PanelSpec("timeseries", "p99 latency trend", "THANOS", ((f"histogram_quantile(0.99, sum by (le) (rate(qgx_http_request_duration_ms_bucket{{{http}}}[$window])))", "p99"),), "ms"),
                PanelSpec("bar_gauge", "Top pods by memory", "THANOS", ((f"topk(5, max by (pod) (max_over_time(container_memory_working_set_bytes{{{pods}}}[7d])))", "{{pod}}"),), "bytes", instant=True),
                PanelSpec("timeseries", "Error budget burn", "THANOS", ((f"(sum(rate(qgx_http_errors_total{{{http}}}[$window])) / sum(rate(qgx_http_requests_total{{{http}}}[$window]))) / 0.001", "burn rate"),), "short"),
                PanelSpec(
                    "timeseries",
                    "CPU requested vs used",
                    "THANOS",
                    (
                        (f'sum(kube_pod_container_resource_requests{{{pods}, resource="cpu"}})', "requested"),
                        (f"sum(rate(container_cpu_usage_seconds_total{{{pods}}}[$__rate_interval]))", "used"),
                    ),
                    "short",
                ),
            ),
        ),
        RowSpec(
            "Logs",
            (
                PanelSpec("timeseries", "Log volume by level", "LOKI", ((f"sum by (level) (count_over_time({logs} | json | level=~\"$level\" [$__auto]))", "{{level}}"),), "short"),
                PanelSpec("bar_gauge", "Errors by logger", "LOKI", ((f'topk(10, sum by (logger) (count_over_time({logs} | json | level="ERROR" [$__range])))', "{{logger}}"),), "short", instant=True),
                PanelSpec("table", "5xx by URI", "LOKI", ((f"sum by (uri, statusCode) (count_over_time({logs} | json | statusCode >= 500 [$__range]))", ""),), "short", instant=True),
                PanelSpec("timeseries", "p99 duration from logs", "LOKI", ((f"quantile_over_time(0.99, {logs} | json | unwrap duration [$__auto]) by (uri)", "{{uri}}"),), "ms"),
                PanelSpec("logs", "Errors", "LOKI", ((f'{logs} |= "ERROR" | json | level="ERROR" | line_format "{{{{.logger}}}}: {{{{.message}}}}"', ""),)),
                PanelSpec("logs", f"Slow requests (> {slow_ms} ms)", "LOKI", ((f'{logs} | json | duration > {slow_ms} | line_format "{{{{.httpMethod}}}} {{{{.uri}}}} {{{{.duration}}}} ms"', ""),)),
            ),
        ),
        RowSpec(
            "Messages",
            (
                PanelSpec("timeseries", "Messages by status", "MYSQL", ((f"SELECT $__timeGroupAlias(created_at, '5m'), status AS metric, COUNT(*) AS value FROM raw_message WHERE $__timeFilter(created_at) AND source = '{service}' GROUP BY 1, 2 ORDER BY 1", ""),), "short"),
                PanelSpec("stat", "Failed messages", "MYSQL", ((f"SELECT COUNT(*) AS value FROM raw_message WHERE $__timeFilter(created_at) AND source = '{service}' AND status = 'FAILED'", ""),), "short", sql_format="table"),
                PanelSpec("timeseries", "Processing lag", "MYSQL", ((f"SELECT $__timeGroupAlias(created_at, '5m'), AVG(TIMESTAMPDIFF(SECOND, created_at, processed_at)) AS lag FROM raw_message WHERE $__timeFilter(created_at) AND source = '{service}' AND processed_at IS NOT NULL GROUP BY 1 ORDER BY 1", ""),), "s"),
                PanelSpec("table", "Latest failures", "MYSQL", ((f"SELECT created_at, id, last_error FROM raw_message WHERE $__timeFilter(created_at) AND source = '{service}' AND status = 'FAILED' ORDER BY created_at DESC LIMIT 50", ""),), "short", sql_format="table"),
                PanelSpec("pie_chart", "Messages by type", "MYSQL", ((f"SELECT message_type AS metric, COUNT(*) AS value FROM raw_message WHERE $__timeFilter(created_at) AND source = '{service}' GROUP BY message_type", ""),), "short", sql_format="table"),
                PanelSpec("stat", "Throughput", "MYSQL", ((f"SELECT COUNT(*) / GREATEST(TIMESTAMPDIFF(SECOND, $__timeFrom(), $__timeTo()), 1) AS value FROM raw_message WHERE $__timeFilter(processed_at) AND source = '{service}'", ""),), "short", sql_format="table"),
            ),
        ),
    )  # fmt: skip
    spec = DashboardSpec(
        index=index,
        uid=f"bench-{service}",
        title=f"Service {service}",
        service=service,
        namespace=namespace,
        folder=index % FOLDER_COUNT,
        window=("1h", "6h", "1d")[index % 3],
        rows=rows,
    )
    assert len(spec.panels()) == PANELS_PER_DASHBOARD
    return spec


# --- lgtm-dash definition modules ------------------------------------------------------------------------


def _call(name: str, *args: str, **kwargs: str) -> str:
    parts = [*args, *(f"{key}={value}" for key, value in kwargs.items())]
    return f"{name}({', '.join(parts)})"


def _lgtm_panel(panel: PanelSpec) -> str:
    helper = DATASOURCES[panel.datasource][1]
    targets: list[str] = []
    for text, legend in panel.queries:
        if helper == "sql_target":
            targets.append(_call(helper, repr(text), format=repr(panel.sql_format)))
        else:
            extra = {"instant": "True"} if panel.instant else {}
            targets.append(_call(helper, repr(text), *([repr(legend)] if legend else []), **extra))
    kwargs = {"datasource": panel.datasource}
    if panel.kind != "logs":
        kwargs["unit"] = repr(panel.unit)
    if panel.kind == "stat" and panel.unit == "percentunit":
        kwargs["colors"] = 'thresholds(("green", None), ("orange", 0.01), ("red", 0.05))'
    body = ",\n                    ".join(
        [repr(panel.title), *targets, *(f"{k}={v}" for k, v in kwargs.items())]
    )
    return f"                {panel.kind}(\n                    {body},\n                ),"


def lgtm_module(spec: DashboardSpec) -> str:
    rows = []
    for band in spec.rows:
        panels = "\n".join(_lgtm_panel(panel) for panel in band.panels)
        rows.append(f"            row(\n                {band.title!r},\n{panels}\n            ),")
    helpers = sorted({panel.kind for panel in spec.panels()} | {"layout", "row", "thresholds"})
    helpers += sorted({DATASOURCES[p.datasource][1] for p in spec.panels()})
    return f'''"""{spec.title}: HTTP traffic, resources, long-term trends, logs and messages of {spec.service}."""

from grafanalib.core import Dashboard, Templating, Time

from dashboards._common import (
    LEVEL, LOKI, MIMIR, MYSQL, THANOS, cluster_variable, namespace_variable, window_variable,
)
from dashboards._folders import FOLDERS
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.panels import (
{"".join(f"    {name},{chr(10)}" for name in helpers)})

dashboard = Board(
    Dashboard(
        title={spec.title!r},
        uid={spec.uid!r},
        tags=["service", {spec.namespace!r}],
        time=Time("now-6h", "now"),
        refresh="1m",
        templating=Templating(
            list=[cluster_variable(), namespace_variable({spec.namespace!r}), window_variable({spec.window!r}), LEVEL]
        ),
        panels=layout(
{chr(10).join(rows)}
        ),
    ),
    folder=FOLDERS[{spec.folder}],
)
'''


_COMMON_MODULE = '''"""What the generated dashboards share: datasource references and variables."""

from datasources.loki import datasource as loki
from datasources.mimir import datasource as mimir
from datasources.mysql import datasource as mysql
from datasources.thanos import datasource as thanos
from lgtm_dash.model.variables import ALL, custom_variable, query_variable

MIMIR = mimir.ref()
THANOS = thanos.ref()
LOKI = loki.ref()
MYSQL = mysql.ref()
LEVEL = custom_variable("level", ["ERROR", "WARN", "INFO", "DEBUG"], multi=True, include_all=True, default=ALL)


def window_variable(default: str):
    return custom_variable("window", ["1h", "6h", "1d", "7d"], label="Trend window", default=default)


def cluster_variable():
    return query_variable("cluster", "label_values(kube_pod_info, cluster)", datasource=MIMIR)


def namespace_variable(default: str):
    return query_variable(
        "namespace",
        'label_values(kube_pod_info{cluster="$cluster"}, namespace)',
        datasource=MIMIR,
        default=default,
    )
'''


def _folders_module() -> str:
    return (
        '"""Folders of the generated dashboards: one per team."""\n\n'
        "from lgtm_dash.model.folder import Folder\n\n"
        "BENCH = Folder(uid='bench', title='Benchmark')\n"
        f"FOLDERS = [Folder(uid=f'bench-team-{{n:02d}}', title=f'Team {{n:02d}}', parent=BENCH) "
        f"for n in range({FOLDER_COUNT})]\n"
    )


# --- Rule namespaces -----------------------------------------------------------------------------------------


def _rule_group(spec: DashboardSpec) -> str:
    selector = f'namespace="{spec.namespace}", service="{spec.service}"'
    prefix = f"Qgx{spec.service.replace('-', '').title()}"
    return f"""    RuleGroup(
        name="{spec.service}",
        rules=(
            Record(
                name="service:qgx_http_errors:ratio_rate5m",
                expr='sum by (cluster, namespace, service) (rate(qgx_http_errors_total{{{selector}}}[5m])) / sum by (cluster, namespace, service) (rate(qgx_http_requests_total{{{selector}}}[5m]))',
                labels={{"service": "{spec.service}"}},
            ),
            Alert(
                name="{prefix}HighErrorRatio",
                expr='service:qgx_http_errors:ratio_rate5m{{service="{spec.service}"}} > 0.05',
                for_="5m",
                labels={{"severity": "critical"}},
                annotations={{
                    "summary": "{spec.service} fails {{{{ $value | humanizePercentage }}}} of requests",
                    "description": "More than 5% of the requests to {spec.service} failed over 5 minutes.",
                    "runbook_url": "https://runbooks.example.com/{prefix}HighErrorRatio",
                    "dashboard_url": DashboardURL({spec.module}.dashboard),
                }},
            ),
            Alert(
                name="{prefix}HighLatencyP99",
                expr='histogram_quantile(0.99, sum by (le) (rate(qgx_http_request_duration_ms_bucket{{{selector}}}[5m]))) > 2000',
                for_="10m",
                labels={{"severity": "warning"}},
                annotations={{
                    "summary": "{spec.service} is slow",
                    "description": "The p99 latency of {spec.service} is {{{{ $value }}}} ms (threshold 2000 ms).",
                    "runbook_url": "https://runbooks.example.com/{prefix}HighLatencyP99",
                    "dashboard_url": DashboardURL({spec.module}.dashboard),
                }},
            ),
        ),
    ),"""


RULES_PER_GROUP = 3


def rules_module(number: int, owners: list[DashboardSpec]) -> str:
    imports = ", ".join(spec.module for spec in owners)
    groups = "\n".join(textwrap.indent(_rule_group(spec), "    ") for spec in owners)
    return f'''"""Generated rule namespace {number:02d}: error ratio and latency of {len(owners)} services."""

from dashboards import {imports}
from lgtm_dash.model.links import DashboardURL
from lgtm_dash.model.rules import Alert, Record, RuleGroup, RuleNamespace

namespace = RuleNamespace(
    name="bench-{number:02d}",
    groups=(
{groups}
    ),
)
'''


# --- The project ---------------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _environments() -> str:
    """The repository's environments, with the Mimir tenant's rule-group limit raised to what the emulator
    allows (the workload has one group per ten dashboards, more than Mimir's default 70)."""
    from lgtm_dash.yamlio import dump_yaml, load_yaml_file

    data = load_yaml_file(REPO / "environments.yaml")
    for env in data["environments"].values():
        env["mimir"]["max_rule_groups"] = MAX_RULE_GROUPS
    return dump_yaml(data)


def write_project(root: Path, dashboard_count: int) -> Workload:
    """A complete project under `root`: the repository's datasources, environments and catalog, plus
    `dashboard_count` generated dashboards and one rule group per ten of them."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "datasources", root / "datasources", ignore=shutil.ignore_patterns("__pycache__"))
    _write(root / "environments.yaml", _environments())
    if (REPO / "catalog.yaml").is_file():
        shutil.copy(REPO / "catalog.yaml", root / "catalog.yaml")
    specs = tuple(dashboard_spec(index) for index in range(1, dashboard_count + 1))
    _write(root / "dashboards" / "__init__.py", "")
    _write(root / "dashboards" / "_common.py", _COMMON_MODULE)
    _write(root / "dashboards" / "_folders.py", _folders_module())
    for spec in specs:
        _write(root / "dashboards" / f"{spec.module}.py", lgtm_module(spec))
    _write(root / "alerts" / "__init__.py", "")
    owners = specs[::DASHBOARDS_PER_RULE_GROUP]
    namespaces = [owners[i : i + GROUPS_PER_NAMESPACE] for i in range(0, len(owners), GROUPS_PER_NAMESPACE)]
    for number, chunk in enumerate(namespaces, start=1):
        _write(root / "alerts" / f"gen_{number:02d}.py", rules_module(number, list(chunk)))
    return Workload(root=root, dashboards=specs, rule_groups=len(owners), rules=RULES_PER_GROUP * len(owners))


# --- grafanalib's own modules (the baseline) --------------------------------------------------------------


def _grafanalib_panel(panel: PanelSpec, panel_id: int, x: int, y: int, width: int) -> str:
    datasource = f"{panel.datasource}"
    targets = []
    for ref, (text, legend) in enumerate(panel.queries):
        ref_id = chr(ord("A") + ref)
        if panel.language == "sql":
            targets.append(f"SqlTarget(rawSql={text!r}, format={panel.sql_format!r}, refId={ref_id!r})")
        else:
            instant = ", instant=True" if panel.instant else ""
            targets.append(f"Target(expr={text!r}, legendFormat={legend!r}, refId={ref_id!r}{instant})")
    cls = {
        "timeseries": "TimeSeries",
        "stat": "Stat",
        "bar_gauge": "BarGauge",
        "pie_chart": "PieChartv2",
        "table": "Table",
        "logs": "Logs",
    }[panel.kind]
    unit = (
        ""
        if panel.kind == "logs"
        else (f", format={panel.unit!r}" if panel.kind in ("stat", "bar_gauge") else f", unit={panel.unit!r}")
    )
    return (
        f"        {cls}(title={panel.title!r}, id={panel_id}, dataSource={datasource}{unit},\n"
        f"            gridPos=GridPos(h={DEFAULT_HEIGHT}, w={width}, x={x}, y={y}),\n"
        f"            targets=[{', '.join(targets)}]),"
    )  # fmt: skip


def grafanalib_module(spec: DashboardSpec) -> str:
    """The same dashboard written with grafanalib's core classes alone, laid out on the same grid."""
    lines: list[str] = []
    y, next_id = 0, 1
    for band in spec.rows:
        lines.append(
            f"        RowPanel(title={band.title!r}, id={next_id}, "
            f"gridPos=GridPos(h={ROW_HEADER_HEIGHT}, w={GRID_WIDTH}, x=0, y={y})),"
        )
        next_id += 1
        y += ROW_HEADER_HEIGHT
        width = GRID_WIDTH // len(band.panels)
        for column, panel in enumerate(band.panels):
            lines.append(_grafanalib_panel(panel, next_id, column * width, y, width))
            next_id += 1
        y += DEFAULT_HEIGHT
    panels = "\n".join(lines)
    return f'''"""{spec.title} (grafanalib baseline)."""

from grafanalib.core import (
    BarGauge, Dashboard, GridPos, Logs, PieChartv2, RowPanel, SqlTarget, Stat, Table, Target, Template,
    Templating, Time, TimeSeries,
)

MIMIR = {{"type": "prometheus", "uid": "qgx-mimir"}}
THANOS = {{"type": "prometheus", "uid": "qgx-thanos"}}
LOKI = {{"type": "loki", "uid": "qgx-loki"}}
MYSQL = {{"type": "mysql", "uid": "qgx-mysql"}}

dashboard = Dashboard(
    title={spec.title!r},
    uid={spec.uid!r},
    tags=["service", {spec.namespace!r}],
    time=Time("now-6h", "now"),
    refresh="1m",
    templating=Templating(list=[
        Template(name="cluster", query="label_values(kube_pod_info, cluster)", dataSource=MIMIR, refresh=2),
        Template(name="namespace", query='label_values(kube_pod_info{{cluster="$cluster"}}, namespace)',
                 dataSource=MIMIR, default={spec.namespace!r}, refresh=2),
        Template(name="window", query="1h,6h,1d,7d", type="custom", default={spec.window!r}),
        Template(name="level", query="ERROR,WARN,INFO,DEBUG", type="custom", multi=True, includeAll=True),
    ]),
    panels=[
{panels}
    ],
)
'''


def write_grafanalib_project(root: Path, specs: tuple[DashboardSpec, ...]) -> list[Path]:
    if root.exists():
        shutil.rmtree(root)
    paths = []
    for spec in specs:
        path = root / f"{spec.module}.dashboard.py"
        _write(path, grafanalib_module(spec))
        paths.append(path)
    return paths
