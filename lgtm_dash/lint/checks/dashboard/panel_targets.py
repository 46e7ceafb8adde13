from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...dashview import DATA_PANELS, panel_label, target_has_query
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class PanelTargets(Check):
    """Panels that show data have a query; a query reusing another panel's results names an existing panel.

    ## What it does
    Reports a data panel (time series, graph, stat, gauge, table, logs...) without any query, or whose queries
    are all empty, and a query that reuses the results of a panel id (`-- Dashboard --` datasource) no panel
    has. Rows, text, news, dashboard and alert lists, library panels and panel types it does not know are
    exempt.

    ## Why is this bad?
    The panel says "No data" forever, which looks like an outage of whatever it was meant to show.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests", "targets": [{"refId": "A", "expr": ""}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Requests': panel has no queries
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests", "targets": [{"refId": "A", "expr": "sum(up)"}]}]}
    ```
    """

    id = "dashboard/panel-targets"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        ids = {p.id for p in dash.panels}
        for panel in dash.panels:
            if panel.data.get("type") not in DATA_PANELS or "libraryPanel" in panel.data:
                continue
            targets = [t for t in panel.data.get("targets") or [] if isinstance(t, Mapping)]
            if not any(target_has_query(t) for t in targets):
                yield self.report(
                    ctx, f"{panel_label(dash, panel)}: panel has no queries", dashboard=dash, panel=panel
                )
            for target in targets:
                if "panelId" in target and target["panelId"] not in ids:
                    yield self.report(
                        ctx, f"{panel_label(dash, panel)}: query reuses the results of panel id "
                        f"{target['panelId']}, which does not exist", dashboard=dash, panel=panel,
                    )  # fmt: skip
