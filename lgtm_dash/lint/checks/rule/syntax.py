from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import RuleDoc
from ...registry import Check, register
from ._common import parse_duration

RULE_KEYS = frozenset({"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"})
GROUP_KEYS = frozenset({
    "name", "interval", "rules", "query_offset", "evaluation_delay", "source_tenants", "limit", "labels",
    "align_evaluation_time_on_interval", "remote_write",
    "partial_response_strategy",  # Thanos ruler
})  # fmt: skip


@register
class RuleSyntax(Check):
    """Rules and rule groups are what Prometheus and Mimir accept.

    ## What it does
    Checks each rule has exactly one of `record` and `alert`, an `expr`, a recording rule name without braces,
    no `for`/`keep_firing_for`/`annotations` on a recording rule, durations Prometheus parses, label and
    annotation values that are strings, no `__name__` label and no unknown field; and each group has a name,
    unique in its file and namespace, valid durations and no unknown field. An empty group or an empty file is
    valid.

    ## Why is this bad?
    promtool and Mimir's ruler API refuse the file (so the whole namespace is not updated), or, for a misspelt
    field such as `annotation:`, silently drop what it holds.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            for: 5x
            annotation:
              summary: Errors
    ```
    ```text
    4: alert 'HighErrorRate' (group 'http'): unknown field(s) annotation (Prometheus and Mimir refuse the file, or drop the field)
    4: alert 'HighErrorRate' (group 'http'): `for: 5x` is not a valid duration
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
            for: 5m
            annotations:
              summary: Errors
    ```
    """

    id = "rule/syntax"
    severity = Severity.ERROR

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        for problem in self._problems(rule.data):
            yield self.report(ctx, f"{rule.label}: {problem}", rule_doc=rule)

    @staticmethod
    def _problems(data: Mapping[str, Any]) -> Iterator[str]:
        if "invalid" in data and len(data) == 1:
            yield "a rule must be a mapping"
            return
        record, alert = data.get("record"), data.get("alert")
        if record is not None and alert is not None:
            yield "only one of `record` and `alert` may be set"
        elif record is None and alert is None:
            yield "one of `record` or `alert` must be set"
        expr = data.get("expr")
        if expr is None or (isinstance(expr, str) and not expr.strip()):
            yield "`expr` must be set"
        unknown = sorted(set(map(str, data)) - RULE_KEYS)
        if unknown:
            yield f"unknown field(s) {', '.join(unknown)} (Prometheus and Mimir refuse the file, or drop the field)"
        if record is not None:
            if not isinstance(record, str) or not record.strip():
                yield "the recording rule name must be a non-empty string"
            elif "{" in record or "}" in record:
                yield f"recording rule name {record!r} holds braces: should they be in `expr`?"
            for key in ("for", "keep_firing_for", "annotations"):
                if key in data:
                    yield f"a recording rule cannot have `{key}`"
        elif alert is not None and (not isinstance(alert, str) or not alert.strip()):
            yield "the alert name must be a non-empty string"
        for key in ("for", "keep_firing_for"):
            if key in data and parse_duration(data[key]) is None:
                yield f"`{key}: {data[key]}` is not a valid duration"
        for key in ("labels", "annotations"):
            values = data.get(key)
            if values is None:
                continue
            if not isinstance(values, Mapping):
                yield f"`{key}` must be a mapping"
                continue
            for name, value in values.items():
                if not str(name) or (key == "labels" and name == "__name__"):
                    yield f"invalid {key[:-1]} name {name!r}"
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    yield f"{key[:-1]} {name!r} must be a string"

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: set[tuple[str, str, str]] = set()
        for group in ctx.input.rule_groups:
            key = (group.file, group.namespace, group.name)
            if not group.name:
                yield self.report(ctx, f"rule group in {group.file} has no name", group=group)
            elif key in seen:
                yield self.report(
                    ctx,
                    f"rule group {group.name!r} is repeated in namespace {group.namespace!r}",
                    group=group,
                )
            seen.add(key)
            unknown = sorted(set(map(str, group.data)) - GROUP_KEYS)
            if unknown:
                yield self.report(
                    ctx, f"rule group {group.name!r}: unknown field(s) {', '.join(unknown)}", group=group
                )
            for field in ("interval", "query_offset", "evaluation_delay"):
                if field in group.data and parse_duration(group.data[field]) is None:
                    yield self.report(
                        ctx, f"rule group {group.name!r}: `{field}: {group.data[field]}` is not a valid duration",
                        group=group,
                    )  # fmt: skip
