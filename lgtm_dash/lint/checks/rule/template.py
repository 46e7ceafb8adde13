from __future__ import annotations

from collections.abc import Iterable, Mapping

from ....gotemplate import PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES, TemplateError, scan_template
from ...context import LintContext
from ...findings import Finding, Severity, one_line
from ...inputs import RuleDoc
from ...registry import Check, register


@register
class Templates(Check):
    """Label and annotation templates parse as the Go templates Prometheus and Mimir expand.

    ## What it does
    Parses every label and annotation value holding `{{` the way Prometheus does: closed actions, balanced
    `if`/`range`/`with`/`define` ... `end`, known functions (`humanize`, `printf`...), and known variables
    (`$labels`, `$value`, `$externalLabels`, `$externalURL`, or declared with `:=`).

    ## Why is this bad?
    promtool and Mimir refuse the rule file; an undefined variable such as `$label` (for `$labels`) is a
    template error at load time.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: InstanceDown
            expr: up == 0
            annotations:
              summary: "{{ $label.instance }} is down"
    ```
    ```text
    4: alert 'InstanceDown' (group 'http'): annotation 'summary': template error: undefined variable '$label': `{{ $label.instance }} is down`
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: InstanceDown
            expr: up == 0
            annotations:
              summary: "{{ $labels.instance }} is down"
    ```
    """

    id = "rule/template"
    severity = Severity.ERROR

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        for key in ("labels", "annotations"):
            values = rule.data.get(key)
            if not isinstance(values, Mapping):
                continue
            for name, value in values.items():
                if not isinstance(value, str) or "{{" not in value:
                    continue
                try:
                    scan_template(value, PROMETHEUS_VARIABLES, PROMETHEUS_FUNCTIONS)
                except TemplateError as err:
                    yield self.report(
                        ctx, f"{rule.label}: {key[:-1]} {name!r}: template error: {err}: `{one_line(value)}`",
                        rule_doc=rule,
                    )  # fmt: skip
