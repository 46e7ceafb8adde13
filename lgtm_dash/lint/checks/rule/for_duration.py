from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register
from ._common import always_firing, parse_duration

MAX_FOR = timedelta(days=1)


@register
class RuleFor(Check):
    """Alerts say how long a condition must hold before they fire (house rule, opt-in).

    ## What it does
    Reports alerts without a `for` (and ones waiting more than a day). `for: 0m` written out is a choice and is
    accepted; constant and `absent()` alerts (dead man's switches) are exempt.

    ## Why is this bad?
    Without `for`, one bad evaluation (a scrape that timed out, a restarting target) pages someone. Off by
    default: many alerts already smooth over a window (`increase(x[15m]) > 0`) or report events that do not
    flap.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: TargetDown
            expr: up == 0
    ```
    ```text
    4: alert 'TargetDown' (group 'http'): no `for`: the alert fires on a single evaluation (write `for: 0m` if that is meant)
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: TargetDown
            expr: up == 0
            for: 5m
    ```
    """

    id = "rule/for"
    severity = Severity.WARNING
    default = False

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert or always_firing(rule, ctx):
            return
        value = rule.data.get("for")
        if value is None:
            yield self.report(ctx, f"{rule.label}: no `for`: the alert fires on a single evaluation (write "
                              "`for: 0m` if that is meant)", rule_doc=rule)  # fmt: skip
            return
        duration = parse_duration(value)
        if duration is not None and duration > MAX_FOR:
            yield self.report(
                ctx, f"{rule.label}: `for: {value}` is longer than {MAX_FOR.days}d", rule_doc=rule
            )
