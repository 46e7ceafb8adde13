from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...dashview import DASHBOARD_LINK
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register


@register
class DashboardLinkTarget(Check):
    """Dashboard links in alert annotations point at a dashboard of the same build.

    ## What it does
    When a complete build is linted (an `out/` tree), reports annotation values holding a `/d/<uid>` URL whose
    uid no dashboard of the build has.

    ## Why is this bad?
    The "Dashboard" button of the Slack notification opens "Dashboard not found", in the middle of an incident.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": []}
    ```
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              dashboard_url: https://grafana.example.com/d/http-overview/http
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): annotation 'dashboard_url' links to unknown dashboard uid 'http-overview'
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": []}
    ```
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              dashboard_url: https://grafana.example.com/d/http/http
    ```
    """

    id = "xref/dashboard-link"
    severity = Severity.ERROR

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        annotations = rule.data.get("annotations")
        if not ctx.input.complete or not isinstance(annotations, Mapping):
            return
        for name, value in annotations.items():
            for uid in DASHBOARD_LINK.findall(str(value)):
                if uid not in ctx.dashboard_uids:
                    yield self.report(
                        ctx,
                        f"{rule.label}: annotation {name!r} links to unknown dashboard uid {uid!r}",
                        rule_doc=rule,
                    )
