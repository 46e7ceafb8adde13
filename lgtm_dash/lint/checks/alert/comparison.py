from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext
from ...findings import Finding, Severity, one_line
from ...inputs import RuleDoc
from ...logql_labels import has_condition
from ...promql_ast import COMPARISON_OPS, call_name, op_text, unwrap, walk
from ...registry import Check, register
from ..rule._common import ALWAYS_FIRING_FUNCTIONS

FILTERING_AGGREGATIONS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


@register
class AlertComparison(Check):
    """An alert expression filters: it has a condition somewhere.

    ## What it does
    Reports alert expressions without any filtering condition: no comparison (without `bool`) anywhere in the
    expression, no `and`/`unless`, no `absent()`/`vector()`, no `topk`/`bottomk`. A comparison nested inside an
    aggregation or a function (`count(up == 0) > 0`, `sum(x > 1)`) counts. Loki (LogQL) alerts alike, with
    `absent_over_time` as their `absent()`.

    ## Why is this bad?
    An alert fires for every series its expression returns. Without a condition that is every series, always:
    the alert pages the moment it is deployed and never resolves.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): expression has no comparison, so it fires for every series it returns: `sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))`
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m])) > 0.05
    ```
    """

    id = "alert/comparison"
    severity = Severity.WARNING

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        if rule.language == "logql":
            if has_condition(str(rule.data.get("expr") or "")) in (True, None):
                return  # (an expression that does not parse is logql/syntax)
        else:
            ast = ctx.parse_rule(rule)
            if ast is None or isinstance(unwrap(ast), pp.NumberLiteral) or _filters(ast):
                return  # (an expression that does not parse is promql/syntax)
        yield self.report(
            ctx, f"{rule.label}: expression has no comparison, so it fires for every series it returns: "
            f"`{one_line(rule.data.get('expr'))}`", rule_doc=rule,
        )  # fmt: skip


def _filters(ast: object) -> bool:
    for node, _ in walk(ast):
        if isinstance(node, pp.BinaryExpr):
            op = op_text(node)
            if op in COMPARISON_OPS and not (node.modifier is not None and node.modifier.return_bool):
                return True
            if op in ("and", "unless"):
                return True
        elif (isinstance(node, pp.AggregateExpr) and op_text(node) in FILTERING_AGGREGATIONS) or call_name(
            node
        ) in ALWAYS_FIRING_FUNCTIONS:
            return True
    return False
