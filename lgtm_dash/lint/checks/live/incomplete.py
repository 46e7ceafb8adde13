from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck

if TYPE_CHECKING:
    from ...context import LintContext
    from ...findings import Finding


@register
class Incomplete(LiveCheck):
    """Every question to a reachable server got an answer within the time budget.

    ## What it does
    Reports a datasource for which some questions got no answer: single requests that failed after their
    retries, or that were never made because the time budget (`--time-budget`) ran out. It is found at the
    datasource's line in environments.yaml.

    ## Why is this bad?
    The queries depending on those answers were not checked.

    ## Example
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend"}
    errors:   # the metadata request keeps failing
      metadata: "prometheus answered HTTP 503: too many outstanding requests (gave up after 3 attempts)"
    ```
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    ```text
    6: prometheus: some queries were not fully checked: metadata: prometheus answered HTTP 503: too many outstanding requests (gave up after 3 attempts) [env dev, last 7d]
    ```

    ## Use instead
    Raise `--time-budget` or `--concurrency`, or check the server's health:
    ```yaml server
    series:
      - qgx_http_requests_total{service="backend"}
    ```
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    """

    id = "live/incomplete"

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        answers = ctx.live
        for datasource in answers.datasources() if answers is not None else ():
            if datasource.problems and not datasource.failed:
                problems = datasource.problems
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                yield self.report(
                    ctx,
                    f"{datasource.name}: some queries were not fully checked: {problems[0]}{more} "
                    f"{answers.where()}",
                    file=datasource.location.file,
                    line=datasource.location.line,
                )
