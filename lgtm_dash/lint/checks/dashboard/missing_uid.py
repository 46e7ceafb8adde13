from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register


@register
class MissingUid(Check):
    """Every dashboard has a uid (house rule, opt-in).

    ## What it does
    Reports a dashboard without a `uid`.

    ## Why is this bad?
    Grafana makes up a uid when a dashboard without one is imported or provisioned, different on every instance:
    links to `/d/<uid>` cannot be written, and publishing again creates a copy instead of an update. Off by
    default: an exported dashboard meant for import may leave the uid out on purpose.

    ## Example
    ```json
    {"title": "HTTP", "panels": []}
    ```
    ```text
    0: dashboard 'HTTP' has no uid
    ```

    ## Use instead
    ```json
    {"uid": "http-overview", "title": "HTTP", "panels": []}
    ```
    """

    id = "dashboard/missing-uid"
    severity = Severity.WARNING
    default = False

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        if not dash.uid:
            yield self.report(ctx, f"dashboard {dash.title!r} has no uid", dashboard=dash, file=dash.file)
