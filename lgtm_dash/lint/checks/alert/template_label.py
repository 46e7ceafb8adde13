from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...promql_ast import result_labels
from ...registry import Check, register

# `$labels.name`, `.Labels.name` and `index $labels "name"` in a Go template.
LABEL_USE = re.compile(
    r"""(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)|index\s+(?:\$labels|\.Labels)\s+"([^"]+)\""""
)


@register
class TemplateLabel(Check):
    """Alert templates use only labels the expression's result keeps.

    ## What it does
    Works out which labels an alert expression's result can carry (`sum by (job)` keeps only `job`, `sum` keeps
    none, `on(x)` in a one-to-one match keeps only `x`, `group_left(y)` adds `y`, `label_replace()` adds its
    target, `absent()` has the labels of its equality matchers) and reports `$labels.X` in annotations and labels
    for an `X` the result certainly lacks. A rule's own `labels:` are not in `$labels` when templates expand.

    ## Why is this bad?
    The template renders an empty string: "High error rate on " in Slack, with nothing after it, when the
    reader needs to know where.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum by (job) (rate(http_errors_total[5m])) > 1
            annotations:
              summary: "High error rate on {{ $labels.instance }}"
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): annotation 'summary' uses $labels.instance, but the expression's result has only the labels (job): it renders empty
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum by (job, instance) (rate(http_errors_total[5m])) > 1
            annotations:
              summary: "High error rate on {{ $labels.instance }}"
    ```
    """

    id = "alert/template-label"
    severity = Severity.ERROR

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        uses = list(_label_uses(rule))
        ast = ctx.parse_rule(rule) if uses else None
        if ast is None:
            return
        labels, _scalar = result_labels(ast)
        if not labels.closed and not labels.names:
            return  # a selector's labels: anything may be there
        reported: set[str] = set()
        for key, name, label in uses:
            if label in reported or not labels.absent(label):
                continue
            reported.add(label)
            if labels.closed:
                having = (
                    f"has only the labels ({', '.join(sorted(labels.names))})"
                    if labels.names
                    else "has no labels"
                )
            else:
                having = f"drops {label!r}"
            yield self.report(ctx, f"{rule.label}: {key} {name!r} uses $labels.{label}, but the expression's result "
                              f"{having}: it renders empty", rule_doc=rule)  # fmt: skip


def _label_uses(rule: RuleDoc) -> Iterable[tuple[str, str, str]]:
    for key in ("annotations", "labels"):
        values = rule.data.get(key)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            if isinstance(value, str) and "{{" in value:
                for match in LABEL_USE.finditer(value):
                    yield key[:-1], str(name), match.group(1) or match.group(2)
