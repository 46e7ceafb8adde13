from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check, register


@register
class LogQLSyntax(Check):
    """LogQL queries parse.

    ## What it does
    Parses every LogQL query of a Loki datasource (panel targets, annotations, and the stream selector of
    template variable queries such as `label_values({app="api"}, pod)` or `{stream: ..., label: ...}`) with the
    LogQL grammar (`lgtm_dash/lint/logql.lark`, checked against Loki's own parser tests), after Grafana's
    variables are replaced; `$__auto`, `$__interval`, `$__range` and `$__rate_interval` stay, as Loki's
    datasource accepts them in ranges.

    ## Why is this bad?
    A query Loki cannot parse shows an error in the panel, and a variable whose selector does not parse has no
    values, so every panel using it is empty.

    ## Example
    ```logql
    sum(count_over_time({app="api"} |= "error" [$__auto])
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: invalid LogQL: syntax error: unexpected end of query, expecting ")" at line 1, column 54: `sum(count_over_time({app="api"} |= "error" [$__auto])`
    ```

    ## Use instead
    ```logql
    sum(count_over_time({app="api"} |= "error" [$__auto]))
    ```
    """

    id = "logql/syntax"
    severity = Severity.ERROR
    languages = frozenset({"logql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        _summary, error = ctx.parse(query)
        if error:
            yield self.report(
                ctx, f"{query.label}: invalid LogQL: {error}: `{one_line(query.text)}`", query=query
            )
