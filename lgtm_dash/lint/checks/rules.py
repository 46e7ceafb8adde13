"""Rule checks, offline in the spirit of pint: structure, `for`, labels, annotations, templates, names,
duplicates, alert conditions, and the dashboards and recording rules they refer to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import promql_parser as pp

from ...durations import parse_duration_ms
from ...gotemplate import PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES, TemplateError, scan_template
from ..context import LintContext
from ..findings import Finding, Severity, one_line
from ..inputs import RuleDoc, RuleGroupDoc
from ..promql_ast import COMPARISON_OPS, call_name, metric_name, op_text, selectors, unwrap
from ..registry import Check, register
from .dashboard import DASHBOARD_LINK

RULE_KEYS = frozenset({"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"})
GROUP_KEYS = frozenset({
    "name", "interval", "rules", "query_offset", "evaluation_delay", "source_tenants", "limit", "labels",
    "align_evaluation_time_on_interval", "remote_write",
})  # fmt: skip
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
RECORD_NAME_CONVENTION = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+(:[a-zA-Z0-9_]+)+$")
SEVERITIES = ("info", "warning", "critical")
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
MAX_FOR = timedelta(days=1)
# Alerts that are meant to always fire (a dead man's switch) need no comparison.
ALWAYS_FIRING_FUNCTIONS = frozenset({"vector", "absent", "absent_over_time"})


def parse_duration(value: Any) -> timedelta | None:
    """A rule or group duration as a timedelta; None when it is not a string Prometheus accepts."""
    ms = parse_duration_ms(value) if isinstance(value, str) else None
    return None if ms is None else timedelta(milliseconds=ms)


def group_location(group: RuleGroupDoc) -> dict[str, Any]:
    location = group.location()
    return {"file": location.file, "line": location.line}


@register
class RuleSyntax(Check):
    id = "rule/syntax"
    severity = Severity.ERROR
    summary = "rule and group fields are valid: record xor alert, expr, names, durations, no unknown keys"

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
            yield f"unknown field(s) {', '.join(unknown)} (Mimir silently drops them)"
        if record is not None:
            if not isinstance(record, str) or not METRIC_NAME.match(record):
                yield f"recording rule name {record!r} is not a valid metric name"
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
                if not LABEL_NAME.match(str(name)):
                    yield f"invalid {key[:-1]} name {name!r}"
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    yield f"{key[:-1]} {name!r} must be a string"

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: set[tuple[str, str, str]] = set()
        for group in ctx.input.rule_groups:
            where = {**group_location(group)}
            key = (group.file, group.namespace, group.name)
            if not group.name:
                yield self.report(ctx, f"rule group in {group.file} has no name", **where)
            elif key in seen:
                yield self.report(
                    ctx, f"rule group {group.name!r} is repeated in namespace {group.namespace!r}", **where
                )
            seen.add(key)
            if not group.rules:
                yield self.report(ctx, f"rule group {group.name!r} has no rules", **where)
            unknown = sorted(set(map(str, group.data)) - GROUP_KEYS)
            if unknown:
                yield self.report(
                    ctx, f"rule group {group.name!r}: unknown field(s) {', '.join(unknown)}", **where
                )
            for key in ("interval", "query_offset", "evaluation_delay"):
                if key in group.data and parse_duration(group.data[key]) is None:
                    yield self.report(
                        ctx,
                        f"rule group {group.name!r}: `{key}: {group.data[key]}` is not a valid duration",
                        **where,
                    )


@register
class RuleFor(Check):
    id = "rule/for"
    severity = Severity.WARNING
    summary = "alerts wait a sane `for` (set, and at most 1d) before firing, so one bad sample does not page"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert or _always_firing(rule, ctx):
            return
        value = rule.data.get("for")
        duration = parse_duration(value) if value is not None else timedelta(0)
        if duration is None:
            return  # rule/syntax reports it
        if duration <= timedelta(0):
            yield self.report(
                ctx, f"{rule.label}: no `for`: the alert fires on a single evaluation", rule_doc=rule
            )
        elif duration > MAX_FOR:
            yield self.report(
                ctx, f"{rule.label}: `for: {value}` is longer than {MAX_FOR.days}d", rule_doc=rule
            )


@register
class SeverityLabel(Check):
    id = "rule/severity-label"
    severity = Severity.ERROR
    summary = f"alerts carry a `severity` label, one of {', '.join(SEVERITIES)}"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        labels = rule.data.get("labels") if isinstance(rule.data.get("labels"), Mapping) else {}
        value = labels.get("severity")
        if value not in SEVERITIES:
            problem = "no `severity` label" if value is None else f"severity {value!r}"
            yield self.report(
                ctx, f"{rule.label}: {problem}; use one of {', '.join(SEVERITIES)}", rule_doc=rule
            )


@register
class Annotations(Check):
    id = "rule/annotations"
    severity = Severity.ERROR
    summary = f"alerts have the {', '.join(REQUIRED_ANNOTATIONS)} annotations"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert:
            return
        annotations = (
            rule.data.get("annotations") if isinstance(rule.data.get("annotations"), Mapping) else {}
        )
        missing = [a for a in REQUIRED_ANNOTATIONS if not str(annotations.get(a) or "").strip()]
        if missing:
            yield self.report(ctx, f"{rule.label}: missing annotation(s) {', '.join(missing)}", rule_doc=rule)


@register
class Templates(Check):
    id = "rule/template"
    severity = Severity.ERROR
    summary = "label and annotation templates parse as Go templates, with known functions and variables"

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


@register
class RecordName(Check):
    id = "rule/record-name"
    severity = Severity.WARNING
    summary = "recording rule names follow level:metric:operations"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        record = rule.data.get("record")
        if isinstance(record, str) and METRIC_NAME.match(record) and not RECORD_NAME_CONVENTION.match(record):
            yield self.report(
                ctx, f"{rule.label}: name {record!r} does not follow level:metric:operations", rule_doc=rule
            )


def _normalized_expr(rule: RuleDoc, ctx: LintContext) -> str:
    expr = str(rule.data.get("expr") or "")
    try:
        return str(pp.parse(expr))
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        return " ".join(expr.split())


@register
class Duplicate(Check):
    id = "rule/duplicate"
    severity = Severity.ERROR
    summary = "no rule is defined twice (same kind, name, labels and expression)"

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        seen: dict[tuple[Any, ...], RuleDoc] = {}
        key: tuple[Any, ...]
        for group in ctx.input.rule_groups:
            for rule in group.rules:
                labels = rule.data.get("labels") if isinstance(rule.data.get("labels"), Mapping) else {}
                label_key = tuple(sorted((str(k), str(v)) for k, v in labels.items()))
                if "record" not in rule.data and "alert" not in rule.data:
                    continue
                # Same name with different expressions is a common, valid way to build one series from parts.
                key = ("alert" in rule.data, rule.name, label_key, _normalized_expr(rule, ctx))
                first = seen.setdefault(key, rule)
                if first is not rule:
                    where = first.location()
                    yield self.report(ctx, f"{rule.label}: duplicates the rule at {where}", rule_doc=rule)


def _always_firing(rule: RuleDoc, ctx: LintContext) -> bool:
    expr = rule.data.get("expr")
    try:
        ast = unwrap(pp.parse(str(expr)))
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        return False
    return isinstance(ast, pp.NumberLiteral) or call_name(ast) in ALWAYS_FIRING_FUNCTIONS


def has_condition(node: Any) -> bool:
    """Whether an alert expression filters: a comparison, absent(), or a set operation with one."""
    node = unwrap(node)
    if isinstance(node, pp.BinaryExpr):
        op = op_text(node)
        if op in COMPARISON_OPS and not (node.modifier is not None and node.modifier.return_bool):
            return True
        if op in ("and", "unless"):
            return True  # filters the left side by the right one
        if op == "or":
            return has_condition(node.lhs) and has_condition(node.rhs)
        return False
    if isinstance(node, pp.AggregateExpr):
        return op_text(node) in ("topk", "bottomk", "limitk") or has_condition(node.expr)
    return call_name(node) in ALWAYS_FIRING_FUNCTIONS


@register
class AlertComparison(Check):
    id = "alert/comparison"
    severity = Severity.WARNING
    summary = (
        "an alert expression has a condition (a comparison, absent(), ...), or it fires for every series"
    )

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if not rule.is_alert or not isinstance(rule.data.get("expr"), str):
            return
        try:
            ast = pp.parse(rule.data["expr"])
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            return  # promql/syntax reports it
        if not has_condition(ast) and not isinstance(unwrap(ast), pp.NumberLiteral):
            yield self.report(
                ctx, f"{rule.label}: expression has no comparison, so it fires for every series it returns: "
                f"`{one_line(rule.data['expr'])}`", rule_doc=rule,
            )  # fmt: skip


@register
class DashboardLinkTarget(Check):
    id = "xref/dashboard-link"
    severity = Severity.ERROR
    summary = "dashboard links (/d/<uid>) in alert annotations point at a dashboard of the same build"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        annotations = rule.data.get("annotations")
        if not ctx.input.complete or not isinstance(annotations, Mapping):
            return
        for name, value in annotations.items():
            for uid in DASHBOARD_LINK.findall(str(value)):
                if uid not in ctx.dashboard_uids:
                    yield self.report(
                        ctx,
                        f"{rule.label}: annotation {name!r} links to unknown dashboard uid {uid!r}",
                        rule_doc=rule,
                    )


@register
class RecordingRuleDefined(Check):
    id = "xref/recording-rule"
    severity = Severity.ERROR
    summary = "a level:metric:operations series a query uses is defined by a recording rule of the same build"
    languages = frozenset({"promql"})

    def check_query(self, query: Any, ctx: LintContext) -> Iterable[Finding]:
        if not ctx.input.complete:
            return  # loose files: the recording rules may live elsewhere
        ast, _ = ctx.parse(query)
        if ast is None:
            return
        reported: set[str] = set()
        for selector, _ in selectors(ast):
            name = metric_name(selector)
            if name and ":" in name and name not in ctx.recording_rules and name not in reported:
                reported.add(name)
                yield self.report(
                    ctx, f"{query.label}: {name!r} is not defined by any recording rule: `{one_line(query.text)}`",
                    query=query,
                )  # fmt: skip
