from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...dashview import panel_label
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class PanelTitle(Check):
    """Every panel has a title (house rule, opt-in).

    ## What it does
    Reports panels without a title; rows and text panels are exempt.

    ## Why is this bad?
    An untitled panel cannot be found in search, named in a conversation or told apart in a link. Off by
    default: a stat under a titled row often needs no title of its own.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "stat", "title": "", "targets": [{"refId": "A", "expr": "sum(up)"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'id 1': panel has no title
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "stat", "title": "Targets up", "targets": [{"refId": "A", "expr": "sum(up)"}]}]}
    ```
    """

    id = "dashboard/panel-title"
    severity = Severity.WARNING
    default = False

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        for panel in dash.panels:
            if panel.data.get("type") in ("row", "text") or panel.title.strip():
                continue
            yield self.report(
                ctx, f"{panel_label(dash, panel)}: panel has no title", dashboard=dash, panel=panel
            )
