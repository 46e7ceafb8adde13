from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register
from ._common import missing_annotations


@register
class RunbookUrl(Check):
    """Alerts link their runbook: a `runbook_url` annotation (house rule, opt-in).

    ## What it does
    Reports alerts without a non-empty `runbook_url` annotation.

    ## Why is this bad?
    Whoever is paged at night should not have to search for what to do. Off by default: not every team keeps
    runbooks, and an alert without one is not broken.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): missing annotation runbook_url
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              runbook_url: https://runbooks.example.com/HighErrorRate
    ```
    """

    id = "rule/runbook-url"
    severity = Severity.ERROR
    default = False

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if missing_annotations(rule, ("runbook_url",)):
            yield self.report(ctx, f"{rule.label}: missing annotation runbook_url", rule_doc=rule)
