from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register


@register
class Duplicate(Check):
    """No rule is defined twice in one namespace.

    ## What it does
    Reports a rule with the same kind, name, labels and expression as an earlier rule of the same namespace
    (one Mimir namespace, or one rule file: files of unrelated sources are not one set). Recording rules that
    share a name but not an expression, a common way to build one series from parts, are fine.

    ## Why is this bad?
    The two copies evaluate the same thing twice: a recording rule writes the same series twice (Prometheus
    reports duplicate samples), and an alert notifies twice or hides that one copy was meant to differ.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
      - name: http-copy
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
    ```
    ```text
    8: alert 'HighErrorRate' (group 'http-copy'): duplicates the rule at rules.yaml:4
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
    ```
    """

    id = "rule/duplicate"
    severity = Severity.ERROR

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: dict[tuple[Any, ...], RuleDoc] = {}
        for group in ctx.input.rule_groups:
            for rule in group.rules:
                if "record" not in rule.data and "alert" not in rule.data:
                    continue
                labels = rule.data.get("labels")
                labels = labels if isinstance(labels, Mapping) else {}
                label_key = tuple(sorted((str(k), str(v)) for k, v in labels.items()))
                key = (
                    rule.file,
                    rule.namespace,
                    "alert" in rule.data,
                    rule.name,
                    label_key,
                    _expression(rule, ctx),
                )
                first = seen.setdefault(key, rule)
                if first is not rule:
                    yield self.report(
                        ctx, f"{rule.label}: duplicates the rule at {first.location()}", rule_doc=rule
                    )


def _expression(rule: RuleDoc, ctx: LintContext) -> str:
    """The expression as the parser prints it (so spacing and line breaks do not matter)."""
    ast = ctx.parse_rule(rule)
    return str(ast) if ast is not None else " ".join(str(rule.data.get("expr") or "").split())
