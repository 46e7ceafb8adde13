from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import ALL, Check, is_known_selector, register, rule_ids


@register
class UnknownIgnore(Check):
    """Suppressions name rules that exist.

    ## What it does
    Reports a `lint_ignore=` / `lintIgnore` entry of a dashboard or panel, or a `# lgtm-dash: ignore=` comment
    of a rule file, that is neither a rule id nor a prefix of one.

    ## Why is this bad?
    A misspelt suppression silences nothing (the finding it was written for still shows), or silences something
    else after a rename.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          # lgtm-dash: ignore=rule/fore
          - alert: TargetDown
            expr: up == 0
    ```
    ```text
    5: alert 'TargetDown' (group 'http'): ignores unknown rule 'rule/fore'
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          # lgtm-dash: ignore=rule/for
          - alert: TargetDown
            expr: up == 0
    ```
    """

    id = "lint/unknown-ignore"
    severity = Severity.WARNING

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        known = rule_ids()
        for selector in _unknown(dash.ignores, known):
            yield self.report(ctx, f"{dash.label}: ignores unknown rule {selector!r}", dashboard=dash)
        for panel in dash.panels:
            for selector in _unknown(panel.ignores, known):
                label = f"{dash.label}, panel {panel.title or f'id {panel.id}'!r}"
                yield self.report(
                    ctx, f"{label}: ignores unknown rule {selector!r}", dashboard=dash, panel=panel
                )

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        known = rule_ids()
        reported: set[tuple[str, str]] = set()
        for group in ctx.input.rule_groups:
            for rule in group.rules:
                for selector in _unknown(rule.ignores, known):
                    if (rule.file, selector) not in reported or selector not in group.ignores:
                        reported.add((rule.file, selector))
                        yield self.report(
                            ctx, f"{rule.label}: ignores unknown rule {selector!r}", rule_doc=rule
                        )


def _unknown(selectors: tuple[str, ...], known: list[str]) -> list[str]:
    return [s for s in dict.fromkeys(selectors) if s != ALL and not is_known_selector(s, known)]
