from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...dashview import DASHBOARD_LINK, link_urls, panel_label
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class LinkTarget(Check):
    """Links to `/d/<uid>` point at a dashboard of the same build.

    ## What it does
    When a complete set of dashboards is linted (an `out/` tree), reports dashboard links, panel links and data
    links whose URL opens `/d/<uid>` for a uid no dashboard of the build has (a `$variable` in the uid is fine).

    ## Why is this bad?
    The drill-down a reader clicks in an incident opens "Dashboard not found".

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "links": [{"title": "Pods", "url": "/d/pods-overview/pods"}], "panels": []}
    ```
    ```text
    0: dashboard 'http': link to unknown dashboard uid 'pods-overview'
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "links": [{"title": "Self", "url": "/d/http/http?var-job=api"}], "panels": []}
    ```
    """

    id = "dashboard/link-target"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if not ctx.input.complete:
            return  # loose files: the other dashboards are not known
        for url, panel in link_urls(dash):
            for uid in DASHBOARD_LINK.findall(url):
                if uid not in ctx.dashboard_uids and "$" not in uid:
                    where = panel_label(dash, panel) if panel else dash.label
                    yield self.report(
                        ctx, f"{where}: link to unknown dashboard uid {uid!r}", dashboard=dash, panel=panel
                    )
