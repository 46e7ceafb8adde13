from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...logql_labels import result_labels as logql_result_labels
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
    Loki rules too, by LogQL's rules: a range aggregation keeps the stream labels and what its pipeline adds
    (`json a` adds `a`, `label_format a=b` renames `b`, `drop`, `keep`), `absent_over_time` its equality
    matchers.

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
    ```yaml loki
    groups:
      - name: logs
        rules:
          - alert: Errors
            expr: 'sum by (service) (rate({service=~".+"} |= "ERROR" [5m])) > 1'
            annotations:
              summary: "{{ $labels.service }} in {{ $labels.namespace }} logs errors"
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): annotation 'summary' uses $labels.instance, but the expression's result has only the labels (job): it renders empty
    4: alert 'Errors' (group 'logs'): annotation 'summary' uses $labels.namespace, but the expression's result has only the labels (service): it renders empty
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
    ```yaml loki
    groups:
      - name: logs
        rules:
          - alert: Errors
            expr: 'sum by (namespace, service) (rate({service=~".+"} |= "ERROR" [5m])) > 1'
            annotations:
              summary: "{{ $labels.service }} in {{ $labels.namespace }} logs errors"
    ```
    """

    id = "alert/template-label"
    severity = Severity.ERROR

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        uses = list(_label_uses(rule))
        if not uses:
            return
        if rule.language == "logql":
            found = logql_result_labels(str(rule.data.get("expr") or ""))
        else:
            ast = ctx.parse_rule(rule)
            found = result_labels(ast)[0] if ast is not None else None
        if found is None:
            return
        labels = found
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
