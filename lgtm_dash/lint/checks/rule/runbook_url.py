from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._common import RequiredAnnotations


@register
class RunbookUrl(RequiredAnnotations):
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
    required = ("runbook_url",)
