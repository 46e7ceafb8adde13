from __future__ import annotations

from collections.abc import Iterable

from ....model.uid import UID_MAX_LENGTH, UID_PATTERN
from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import DashboardDoc, KnownDashboard
from ...registry import Check, register


@register
class DashboardUid(Check):
    """Dashboard uids are valid and unique.

    ## What it does
    Reports a dashboard uid longer than 40 characters or with characters other than `[A-Za-z0-9_-]`, and a uid
    two dashboards of the same run share. (A dashboard without a uid is `dashboard/missing-uid`, opt-in.)

    ## Why is this bad?
    Grafana refuses to save a dashboard with an invalid uid; two dashboards with one uid overwrite each other
    when they are published, and links to `/d/<uid>` open whichever came last.

    ## Example
    ```json
    {"uid": "http overview!", "title": "HTTP", "panels": []}
    ```
    ```text
    0: dashboard 'http overview!': uid must be at most 40 characters of [A-Za-z0-9_-]
    ```

    ## Use instead
    ```json
    {"uid": "http-overview", "title": "HTTP", "panels": []}
    ```
    """

    id = "dashboard/uid"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if dash.uid and (len(dash.uid) > UID_MAX_LENGTH or not UID_PATTERN.match(dash.uid)):
            yield self.report(
                ctx,
                f"{dash.label}: uid must be at most {UID_MAX_LENGTH} characters of [A-Za-z0-9_-]",
                dashboard=dash,
            )

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: dict[str, DashboardDoc | KnownDashboard] = {}
        for dash in ctx.input.dashboards:
            if dash.uid and dash.uid in seen:
                yield self.report(
                    ctx, f"{dash.label}: uid already used by {seen[dash.uid].file}", dashboard=dash
                )
            elif dash.uid:
                seen[dash.uid] = dash
