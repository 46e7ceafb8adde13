from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check, register


@register
class PromQLSyntax(Check):
    """PromQL queries parse.

    ## What it does
    Parses every PromQL query (panel targets, template variable queries such as `label_values(...)` and
    `query_result(...)`, dashboard annotations, rule expressions) with promql-parser, after Grafana's variables
    are replaced by their current value or a placeholder of the right kind (`$__rate_interval` by a duration, a
    variable glued to a metric name by a name). Empty targets are skipped: Grafana does not run them. Syntax
    that Prometheus 3.x accepts only behind a feature flag is `promql/experimental`, not this rule.

    ## Why is this bad?
    A panel whose query does not parse shows an error instead of data; a rule that does not parse is refused by
    Mimir's ruler API, and with it the whole rule group.

    ## Example
    ```promql
    sum(rate(http_requests_total[$__rate_interval])
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: invalid PromQL: unclosed left parenthesis: `sum(rate(http_requests_total[$__rate_interval])`
    ```

    ## Use instead
    ```promql
    sum(rate(http_requests_total[$__rate_interval]))
    ```
    """

    id = "promql/syntax"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        _ast, error = ctx.parse(query)
        if error:
            yield self.report(
                ctx, f"{query.label}: invalid PromQL: {error}: `{one_line(query.text)}`", query=query
            )
