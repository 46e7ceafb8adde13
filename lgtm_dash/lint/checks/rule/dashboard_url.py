from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._common import RequiredAnnotations


@register
class DashboardUrl(RequiredAnnotations):
    """Alerts link the dashboard to open: a `dashboard_url` annotation (house rule, opt-in).

    ## What it does
    Reports alerts without a non-empty `dashboard_url` annotation. (Whether the link points at a dashboard of
    the build is `xref/dashboard-link`.)

    ## Why is this bad?
    The first thing to look at during an incident is the dashboard of the failing service; a button in the
    notification saves the search. Off by default: a team's convention.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): missing annotation dashboard_url
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            annotations:
              dashboard_url: https://grafana.example.com/d/http-overview/http
    ```
    """

    id = "rule/dashboard-url"
    severity = Severity.ERROR
    default = False
    required = ("dashboard_url",)
