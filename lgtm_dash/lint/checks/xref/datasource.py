from __future__ import annotations

from collections.abc import Iterable

from ...context import BUILTIN_DATASOURCES, LintContext
from ...dashview import datasource_refs, panel_label, ref_uid
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class DatasourceKnown(Check):
    """Every datasource uid a dashboard uses is provisioned.

    ## What it does
    When the provisioned datasources are known (an `out/` tree with `grafana/datasources.yaml`), reports panels,
    queries, variables and annotations that name a datasource uid (or name) that is not among them. Variables
    (`$ds`) and Grafana's built-in datasources (`-- Grafana --`, `-- Mixed --`, `-- Dashboard --`) are fine.

    ## Why is this bad?
    The panel shows "Datasource not found": usually a uid copied from another Grafana instance.

    ## Example
    ```yaml datasources
    - {uid: prom, name: Prometheus, type: prometheus}
    ```
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests", "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"},
       "targets": [{"refId": "A", "expr": "sum(up)"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Requests': panel datasource 'P1809F7CD0C75ACF3' is not a provisioned datasource
    ```

    ## Use instead
    ```yaml datasources
    - {uid: prom, name: Prometheus, type: prometheus}
    ```
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests", "datasource": {"type": "prometheus", "uid": "prom"},
       "targets": [{"refId": "A", "expr": "sum(up)"}]}]}
    ```
    """

    id = "xref/datasource"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if ctx.datasources is None:
            return
        for ref, panel, what in datasource_refs(dash):
            uid = ref_uid(ref)
            if not uid or "$" in uid or uid.lower() in BUILTIN_DATASOURCES or uid in ctx.datasources:
                continue
            where = panel_label(dash, panel) if panel else dash.label
            yield self.report(
                ctx, f"{where}: {what} {uid!r} is not a provisioned datasource", dashboard=dash, panel=panel
            )
