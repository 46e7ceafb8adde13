from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register

SEVERITIES = ("info", "warning", "critical")


@register
class SeverityLabel(Check):
    """Alerts carry a `severity` label: info, warning or critical (house rule, opt-in).

    ## What it does
    Reports alerts without a `severity` label or with a value other than `info`, `warning` or `critical`.

    ## Why is this bad?
    Alertmanager routes and Slack channels are chosen on `severity`: an alert without one (or with `page`
    where the routes expect `critical`) goes to the default receiver, or nowhere. Off by default: the set of
    severities is each team's convention.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            labels:
              severity: page
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): severity 'page'; use one of info, warning, critical
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            labels:
              severity: critical
    ```
    """

    id = "rule/severity-label"
    severity = Severity.ERROR
    default = False

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        labels = rule.data.get("labels")
        labels = labels if isinstance(labels, Mapping) else {}
        value = labels.get("severity")
        if value not in SEVERITIES:
            problem = "no `severity` label" if value is None else f"severity {value!r}"
            yield self.report(
                ctx, f"{rule.label}: {problem}; use one of {', '.join(SEVERITIES)}", rule_doc=rule
            )
