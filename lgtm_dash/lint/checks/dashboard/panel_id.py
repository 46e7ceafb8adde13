from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ...context import LintContext
from ...dashview import panel_label
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class PanelIds(Check):
    """Panel ids are unique within a dashboard.

    ## What it does
    Reports a panel id used by more than one panel of a dashboard (panels inside collapsed rows included).

    ## Why is this bad?
    Grafana renumbers duplicates when it loads the dashboard (`DashboardModel.ensurePanelsHaveUniqueIds`), so
    whatever refers to a panel by id (a `viewPanel=` link, a panel reusing another's results with the
    `-- Dashboard --` datasource, an alert's panel annotation) may open or read the wrong panel.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}},
      {"id": 1, "type": "text", "title": "Links", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 4}}]}
    ```
    ```text
    0: dashboard 'http', panel 'About': panel id 1 is used more than once
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}},
      {"id": 2, "type": "text", "title": "Links", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 4}}]}
    ```
    """

    id = "dashboard/panel-id"
    severity = Severity.WARNING

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        counts = Counter(p.id for p in dash.panels if p.id is not None)
        for panel in dash.panels:
            if panel.id is not None and counts[panel.id] > 1:
                counts[panel.id] = 0  # report each duplicate id once
                yield self.report(
                    ctx, f"{panel_label(dash, panel)}: panel id {panel.id} is used more than once",
                    dashboard=dash, panel=panel,
                )  # fmt: skip
