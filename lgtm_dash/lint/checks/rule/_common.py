"""What the `rule/...` and `alert/...` rules share: durations, names, always-firing alerts, required annotations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, ClassVar

import promql_parser as pp

from ....durations import parse_duration_ms
from ...context import LintContext
from ...findings import Finding
from ...inputs import RuleDoc
from ...promql_ast import call_name, unwrap
from ...registry import Check

# The names Prometheus < 3 and Mimir's default (legacy) validation accept; Prometheus 3 accepts any UTF-8.
LEGACY_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
LEGACY_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# Alerts that are meant to always fire (a dead man's switch) need no comparison and no `for`.
ALWAYS_FIRING_FUNCTIONS = frozenset({"vector", "absent", "absent_over_time"})


def parse_duration(value: Any) -> timedelta | None:
    """A rule or group duration as a timedelta; None when it is not a string Prometheus accepts."""
    ms = parse_duration_ms(value) if isinstance(value, str) else None
    return None if ms is None else timedelta(milliseconds=ms)


def always_firing(rule: RuleDoc, ctx: LintContext) -> bool:
    ast = ctx.parse_rule(rule)
    if ast is None:
        return False
    ast = unwrap(ast)
    return isinstance(ast, pp.NumberLiteral) or call_name(ast) in ALWAYS_FIRING_FUNCTIONS


class RequiredAnnotations(Check):
    """Base of the house rules that want alerts to carry some annotations (not a rule itself)."""

    required: ClassVar[tuple[str, ...]]

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        annotations = rule.data.get("annotations")
        annotations = annotations if isinstance(annotations, Mapping) else {}
        missing = [name for name in self.required if not str(annotations.get(name) or "").strip()]
        if missing:
            noun = "annotation" if len(self.required) == 1 else "annotation(s)"
            yield self.report(ctx, f"{rule.label}: missing {noun} {', '.join(missing)}", rule_doc=rule)
