from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._common import RequiredAnnotations

REQUIRED = ("summary", "description")


@register
class Annotations(RequiredAnnotations):
    """Alerts have `summary` and `description` annotations (house rule, opt-in).

    ## What it does
    Reports alerts without a non-empty `summary` or `description` annotation.

    ## Why is this bad?
    The notification shows only the alert's name and labels: whoever is paged has to open the rule to learn
    what is wrong and why it matters. Off by default: the annotations a team uses are its convention.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              summary: Many errors
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): missing annotation(s) description
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              summary: Many errors
              description: "{{ $value }} errors per second in the last 5 minutes."
    ```
    """

    id = "rule/annotations"
    severity = Severity.ERROR
    default = False
    required = REQUIRED
