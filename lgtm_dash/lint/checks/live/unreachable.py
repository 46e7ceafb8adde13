from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck

if TYPE_CHECKING:
    from ...context import LintContext
    from ...findings import Finding


@register
class Unreachable(LiveCheck):
    """Every datasource's server could be reached and accepted the credentials.

    ## What it does
    Reports, once per datasource, a server that could not be reached, refused the credentials, or that the
    environment gives no settings for, so none of its queries were checked. It is found at the datasource's
    line in environments.yaml. When no server at all could be checked, `lint --live` exits 3.

    ## Why is this bad?
    Nothing was verified against that datasource: a clean report would be a false comfort.

    ## Example
    ```yaml environments
    environments:
      dev:
        grafana: {url: "http://grafana:3000"}
        mimir: {address: "http://mimir:8080", tenant: dev}
        datasources:
          prometheus: {url: "http://prometheus:9090"}
    ```
    ```yaml server
    unreachable: "cannot reach prometheus at http://prometheus:9090: Connection refused (gave up after 3 attempts)"
    ```
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    ```text
    6: prometheus: not checked: cannot reach prometheus at http://prometheus:9090: Connection refused (gave up after 3 attempts) [env dev, last 7d]
    ```

    ## Use instead
    Run from where the servers are reachable, fix the URL in environments.yaml, set the credential variable
    it names, or use `--via-grafana` with a Grafana token:
    ```yaml environments
    environments:
      dev:
        grafana: {url: "http://grafana:3000"}
        mimir: {address: "http://mimir:8080", tenant: dev}
        datasources:
          prometheus: {url: "http://prometheus.monitoring.svc:9090"}
    ```
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    """

    id = "live/unreachable"

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        answers = ctx.live
        for datasource in answers.datasources() if answers is not None else ():
            if datasource.failed:
                yield self.report(
                    ctx,
                    f"{datasource.name}: not checked: {datasource.failed} {answers.where()}",
                    file=datasource.location.file,
                    line=datasource.location.line,
                )
