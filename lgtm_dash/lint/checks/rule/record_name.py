from __future__ import annotations

import re
from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register
from ._common import LEGACY_METRIC_NAME

RECORD_NAME_CONVENTION = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+(:[a-zA-Z0-9_]+)+$")


@register
class RecordName(Check):
    """Recording rule names follow `level:metric:operations` (house rule, opt-in).

    ## What it does
    Reports recording rules whose name is not `level:metric:operations`, Prometheus' naming convention
    (`job:http_requests:rate5m`).

    ## Why is this bad?
    The convention tells at a glance that a series is recorded, what it aggregates and how; it is also what
    `xref/recording-rule` relies on to find queries of recorded series that nothing records. Off by default:
    many mixins name recorded series differently.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - record: http_requests_rate
            expr: sum by (job) (rate(http_requests_total[5m]))
    ```
    ```text
    4: recording rule 'http_requests_rate' (group 'http'): name 'http_requests_rate' does not follow level:metric:operations
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - record: job:http_requests:rate5m
            expr: sum by (job) (rate(http_requests_total[5m]))
    ```
    """

    id = "rule/record-name"
    severity = Severity.WARNING
    default = False

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        record = rule.data.get("record")
        if (
            isinstance(record, str)
            and LEGACY_METRIC_NAME.match(record)
            and not RECORD_NAME_CONVENTION.match(record)
        ):
            yield self.report(
                ctx, f"{rule.label}: name {record!r} does not follow level:metric:operations", rule_doc=rule
            )
