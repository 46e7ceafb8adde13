from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext, datasource_variable_name
from ...dashview import datasource_refs, panel_label, ref_uid
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class DatasourceVariableExists(Check):
    """A datasource given as a variable (`$ds`, `${DS_PROMETHEUS}`) is defined by the dashboard.

    ## What it does
    Reports a panel, query, variable or annotation whose datasource is a variable that is neither a datasource
    (or constant) variable of the dashboard nor an `__inputs` entry of an exported dashboard.

    ## Why is this bad?
    Grafana cannot resolve the datasource: the panel shows "Datasource ${ds} was not found" and no data.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests", "datasource": {"type": "prometheus", "uid": "${ds}"},
       "targets": [{"refId": "A", "expr": "up"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Requests': panel datasource ${ds} is not a datasource variable of the dashboard
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "templating": {"list": [{"name": "ds", "type": "datasource", "query": "prometheus"}]},
     "panels": [{"id": 1, "type": "timeseries", "title": "Requests",
       "datasource": {"type": "prometheus", "uid": "${ds}"}, "targets": [{"refId": "A", "expr": "up"}]}]}
    ```
    """

    id = "dashboard/datasource-exists"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        variables = {
            v.get("name") for v in dash.templating if v.get("type") in ("datasource", "adhoc", "constant")
        }
        inputs = {i.get("name") for i in dash.data.get("__inputs") or [] if isinstance(i, Mapping)}
        reported: set[tuple[object, str]] = set()
        for ref, panel, what in datasource_refs(dash):
            uid = ref_uid(ref)
            name = datasource_variable_name(uid) if uid else None
            if name is None or name in variables or name in inputs or name.startswith("__"):
                continue
            if (id(panel), name) in reported:
                continue  # the panel and each of its queries name the same variable: one finding
            reported.add((id(panel), name))
            where = panel_label(dash, panel) if panel else dash.label
            yield self.report(
                ctx, f"{where}: {what} ${{{name}}} is not a datasource variable of the dashboard",
                dashboard=dash, panel=panel,
            )  # fmt: skip
