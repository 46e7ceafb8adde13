from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check, register


@register
class RuleMetricQuery(Check):
    """A Loki rule's expression is a metric query, not a log query.

    ## What it does
    Reports a Loki alerting or recording rule whose expression parses as a log query (a stream selector and its
    pipeline) instead of a metric query (`count_over_time`, `rate`, ... and what is built on them).

    ## Why is this bad?
    Loki's ruler accepts the rule on upload (`syntax.ParseExpr` takes log queries too) and then fails every
    evaluation: the alert never fires and the recording rule never records, silently.

    ## Example
    ```yaml loki
    groups:
      - name: logs
        rules:
          - alert: Panics
            expr: '{app="api"} |= "panic"'
    ```
    ```text
    4: alert 'Panics' (group 'logs'): a log query cannot be a rule expression (Loki stores it, then every evaluation fails); aggregate it, e.g. `sum by (...) (count_over_time(... [5m]))`: `{app="api"} |= "panic"`
    ```

    ## Use instead
    ```yaml loki
    groups:
      - name: logs
        rules:
          - alert: Panics
            expr: 'sum by (app) (count_over_time({app="api"} |= "panic" [5m])) > 0'
    ```
    """

    id = "logql/rule-metric-query"
    severity = Severity.ERROR
    languages = frozenset({"logql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if query.origin != "rule":
            return
        parsed, _error = ctx.parse(query)
        if parsed is not None and parsed.kind == "log":
            yield self.report(
                ctx,
                f"{query.label}: a log query cannot be a rule expression (Loki stores it, then every evaluation "
                f"fails); aggregate it, e.g. `sum by (...) (count_over_time(... [5m]))`: `{one_line(query.text)}`",
                query=query,
            )
