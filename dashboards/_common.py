"""What this team's dashboards share: datasource refs, variable names and definitions, log-level colours, links.

Variable names are the same on every dashboard (`cluster`, `namespace`, `service`, `tenant`, `level`, `search`,
`trace_id`, `pod`, `datasource`), so a link carries the filters as `var-<name>` and lands on the same selection.
"""

from collections.abc import Mapping

from grafanalib.core import DashboardLink, Template, Time

from dashboards._folders import QGX
from datasources.loki import datasource as loki
from datasources.mimir import datasource as mimir
from datasources.mysql import datasource as mysql
from datasources.tempo import datasource as tempo
from lgtm_dash.model.dashboard import Board
from lgtm_dash.model.links import dashboard_path
from lgtm_dash.model.variables import ALL, custom_variable, query_variable, textbox, variable_ref

LOKI = loki.ref()
MIMIR = mimir.ref()
MYSQL = mysql.ref()
TEMPO = tempo.ref()
# Panels of a dashboard with a `datasource` variable (Mimir or Thanos) refer to it instead of a fixed uid.
SELECTED_PROMETHEUS = {"type": "prometheus", "uid": variable_ref("datasource")}

FOLDER = QGX
TAGS = ["qgx"]
REFRESH = "1m"
LAST_6_HOURS = Time("now-6h", "now")
# Shared crosshair: hovering one graph shows the same instant on all of them.
SHARED_CROSSHAIR = 1
# Label filters are written `label=~"$var"`; "All" must match every value, and Loki needs a non-empty matcher.
ANY_VALUE = ".+"

# Backend log levels, most severe first, each with a fixed colour on every panel.
LEVEL_COLORS = {"ERROR": "red", "WARN": "orange", "INFO": "green", "DEBUG": "blue", "TRACE": "purple"}


def _matchers(names: tuple[str, ...]) -> str:
    return ", ".join(f'{name}=~"${name}"' for name in names)


def loki_label(name: str, *narrowed_by: str, label: str | None = None) -> Template:
    """A multi-value Loki stream-label variable, its values narrowed by the variables chosen before it."""
    selector = f"{{{_matchers(narrowed_by)}}}, " if narrowed_by else ""
    return query_variable(
        name,
        f"label_values({selector}{name})",
        datasource=LOKI,
        label=label,
        multi=True,
        include_all=True,
        all_value=ANY_VALUE,
        default=ALL,
    )


def prometheus_label(
    name: str, metric: str, *narrowed_by: str, datasource: Mapping[str, str] = MIMIR, label: str | None = None
) -> Template:
    """A multi-value label variable from `metric`'s series, narrowed by the variables chosen before it."""
    selector = f"{metric}{{{_matchers(narrowed_by)}}}" if narrowed_by else metric
    return query_variable(
        name,
        f"label_values({selector}, {name})",
        datasource=datasource,
        label=label,
        multi=True,
        include_all=True,
        all_value=ANY_VALUE,
        default=ALL,
    )


def level_variable() -> Template:
    # A parsed JSON field, not a stream label: "All" must also match lines without a level.
    return custom_variable(
        "level", list(LEVEL_COLORS), label="Level", multi=True, include_all=True, all_value=".*"
    )


def search_variable() -> Template:
    return textbox("search", label="Search")


def trace_id_variable() -> Template:
    return textbox("trace_id", label="Trace ID")


def carry(*names: str) -> dict[str, str]:
    """URL parameters carrying the current value(s) of `names` (`var-name=...`) and the time range."""
    params = {f"${{{name}:queryparam}}": "" for name in names}
    params["${__url_time_range}"] = ""
    return params


def link_to(board: Board, *, title: str | None = None, icon: str = "dashboard") -> DashboardLink:
    """A dashboard link (top right) to `board`, keeping the time range and every variable of the same name."""
    return DashboardLink(
        type="link",
        title=title or board.title,
        uri=dashboard_path(board.uid, board.title),
        includeVars=True,
        keepTime=True,
        icon=icon,
    )


# Every QGX dashboard lists the others (by tag) in a drop-down, keeping time range and variables.
QGX_DASHBOARDS = DashboardLink(
    type="dashboards", title="QGX", tags=TAGS, asDropdown=True, includeVars=True, keepTime=True
)
