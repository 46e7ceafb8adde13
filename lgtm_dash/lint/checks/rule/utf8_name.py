from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register
from ._common import LEGACY_LABEL_NAME, LEGACY_METRIC_NAME


@register
class Utf8Name(Check):
    """Recording rule, label and annotation names are valid outside Prometheus 3's UTF-8 names too.

    ## What it does
    Reports a recording rule name that is not `[a-zA-Z_:][a-zA-Z0-9_:]*`, and label or annotation names that are
    not `[a-zA-Z_][a-zA-Z0-9_]*` (a dash, a dot, a space...).

    ## Why is this bad?
    Prometheus 3 accepts any UTF-8 name, but Prometheus 2, Mimir with its default (legacy) name validation and
    many tools refuse such a rule file; in PromQL the name must then be quoted (`{"my.metric"}`). A warning:
    valid where UTF-8 names are enabled.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - record: http-requests:rate5m
            expr: sum(rate(http_requests_total[5m]))
    ```
    ```text
    4: recording rule 'http-requests:rate5m' (group 'http'): name 'http-requests:rate5m' is valid only with UTF-8 name validation (Prometheus 3); Prometheus 2 and Mimir's default legacy validation refuse it
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - record: http_requests:rate5m
            expr: sum(rate(http_requests_total[5m]))
    ```
    """

    id = "rule/utf8-name"
    severity = Severity.WARNING

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        names: list[str] = []
        record = rule.data.get("record")
        if isinstance(record, str) and record and "{" not in record and not LEGACY_METRIC_NAME.match(record):
            names.append(f"name {record!r}")
        for key in ("labels", "annotations"):
            values = rule.data.get(key)
            if isinstance(values, Mapping):
                names += [
                    f"{key[:-1]} name {str(n)!r}"
                    for n in values
                    if str(n) and not LEGACY_LABEL_NAME.match(str(n))
                ]
        if names:
            yield self.report(
                ctx, f"{rule.label}: {', '.join(names)} {'is' if len(names) == 1 else 'are'} valid only with UTF-8 "
                "name validation (Prometheus 3); Prometheus 2 and Mimir's default legacy validation refuse "
                f"{'it' if len(names) == 1 else 'them'}", rule_doc=rule,
            )  # fmt: skip
