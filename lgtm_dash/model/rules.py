"""Rule groups as code: one `RuleNamespace` per ruler namespace, of the Mimir ruler (PromQL) or of the Loki
ruler (LogQL, `ruler="loki"`), with the same group, alert and recording-rule objects.

A namespace also carries its unit tests, written beside the rules and compiled for promtool by
`lgtm_dash.promtool`: for Mimir, `RuleTest` (input series, evaluation times, expected alerts or samples); for
Loki, whose LogQL promtool cannot evaluate, `TemplateTest` (one sample of the expression's result and the alerts,
labels and rendered annotations it must give).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..artifacts import lint_ignore_comment
from ..durations import parse_duration_ms
from ..errors import DefinitionError
from ..gotemplate import PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES, TemplateError, scan_template
from ..source import SourceLocation, caller_location
from ..yamlio import dump_yaml
from .dashboard import check_lint_ignore

# The kinds of alert test case a project may require of every alert (`[tool.lgtm-dash.test] alert-cases`).
CASE_KINDS = ("firing", "silent")
CASE_WORDING = {"firing": "fires", "silent": "must not fire"}


class EnvironmentValue(Protocol):
    """A value known only per environment (e.g. a dashboard URL on that environment's Grafana)."""

    def render(self, env: Any) -> str: ...


def _render_value(value: str | EnvironmentValue, env: Any) -> str:
    return value if isinstance(value, str) else value.render(env)


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str | EnvironmentValue] = field(default_factory=dict)
    keep_firing_for: str | None = None
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    # Rule ids or prefixes lint skips for this alert: a `# lgtm-dash: ignore=` comment in out/ (see README, Lint).
    lint_ignore: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        check_lint_ignore(self.lint_ignore, self.location)
        for kind, values in (("label", self.labels), ("annotation", self.annotations)):
            for key, value in values.items():
                if isinstance(value, str):
                    self._check_template(kind, key, value)

    def _check_template(self, kind: str, key: str, text: str) -> None:
        """Prometheus parses alert label and annotation templates when a rule is loaded (rulefmt's
        testTemplateParsing) and Mimir's ruler API refuses the group: an unknown function or variable,
        or a template that does not parse, is caught at build instead."""
        if "{{" not in text:
            return
        try:
            scan_template(text, PROMETHEUS_VARIABLES, PROMETHEUS_FUNCTIONS)
        except TemplateError as err:
            raise DefinitionError(
                f"alert {self.name!r}: {kind} {key!r}: template line {err.line}: {err.message}", self.location
            ) from None

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_:
            data["for"] = self.for_
        if self.keep_firing_for:
            data["keep_firing_for"] = self.keep_firing_for
        if self.labels:
            data["labels"] = dict(self.labels)
        if self.annotations:
            data["annotations"] = {k: _render_value(v, env) for k, v in self.annotations.items()}
            for key, value in data["annotations"].items():
                if not isinstance(self.annotations[key], str):  # rendered per environment: check now
                    self._check_template("annotation", key, value)
        return data


@dataclass(frozen=True)
class Record:
    name: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    lint_ignore: tuple[str, ...] = field(default=(), compare=False)  # as for Alert

    def __post_init__(self) -> None:
        check_lint_ignore(self.lint_ignore, self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"record": self.name, "expr": self.expr}
        if self.labels:
            data["labels"] = dict(self.labels)
        return data


Rule = Alert | Record


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None
    # Mimir-only group fields (stripped before `promtool check rules`).
    query_offset: str | None = None
    source_tenants: tuple[str, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    # At most this many alerts or series per evaluation (0 or None: no limit).
    limit: int | None = None
    # Labels added to every rule of the group (Prometheus 3 rule files).
    labels: Mapping[str, str] = field(default_factory=dict)
    # Mimir's older name for query_offset, and its evaluation-alignment switch.
    evaluation_delay: str | None = None
    align_evaluation_time_on_interval: bool | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise DefinitionError("a rule group needs a name", self.location)
        if not self.rules:
            raise DefinitionError(f"rule group {self.name!r} has no rules", self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.interval:
            data["interval"] = self.interval
        if self.query_offset:
            data["query_offset"] = self.query_offset
        if self.source_tenants:
            data["source_tenants"] = list(self.source_tenants)
        if self.evaluation_delay:
            data["evaluation_delay"] = self.evaluation_delay
        if self.align_evaluation_time_on_interval is not None:
            data["align_evaluation_time_on_interval"] = self.align_evaluation_time_on_interval
        if self.limit is not None:
            data["limit"] = self.limit
        if self.labels:
            data["labels"] = dict(self.labels)
        data["rules"] = [rule.to_dict(env) for rule in self.rules]
        return data


@dataclass(frozen=True)
class ExpectedAlert:
    """One alert a unit test expects, with its exact labels and rendered annotations."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str | EnvironmentValue] = field(default_factory=dict)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        return {
            "exp_labels": dict(self.labels),
            "exp_annotations": {k: _render_value(v, env) for k, v in self.annotations.items()},
        }


@dataclass(frozen=True)
class AlertCheck:
    """At `at` (a duration from the test start), `alertname` fires exactly `firing`; `()` = must not fire."""

    alertname: str
    at: str
    firing: tuple[ExpectedAlert, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        _check_duration(self.at, "eval time", self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        return {
            "eval_time": self.at,
            "alertname": self.alertname,
            "exp_alerts": [alert.to_dict(env) for alert in self.firing],
        }


@dataclass(frozen=True)
class SampleCheck:
    """At `at`, `expr` returns exactly `samples` (`'metric{label="v"}'` -> value): checks recording rules."""

    expr: str
    at: str
    samples: Mapping[str, float]
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        _check_duration(self.at, "eval time", self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        return {
            "expr": self.expr,
            "eval_time": self.at,
            "exp_samples": [{"labels": labels, "value": value} for labels, value in self.samples.items()],
        }


@dataclass(frozen=True)
class RuleTest:
    """A promtool unit test: input series (`'metric{l="v"}'` -> promtool values like `0+1x30`) and checks."""

    name: str
    series: Mapping[str, str]
    checks: tuple[AlertCheck | SampleCheck, ...]
    interval: str = "1m"
    external_labels: Mapping[str, str] = field(default_factory=dict)
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        _check_duration(self.interval, "interval", self.location)
        if not self.checks:
            raise DefinitionError(f"rule test {self.name!r} checks nothing", self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "interval": self.interval}
        if self.external_labels:
            data["external_labels"] = dict(self.external_labels)
        data["input_series"] = [{"series": s, "values": v} for s, v in self.series.items()]
        alert_checks = [c.to_dict(env) for c in self.checks if isinstance(c, AlertCheck)]
        sample_checks = [c.to_dict(env) for c in self.checks if isinstance(c, SampleCheck)]
        if alert_checks:
            data["alert_rule_test"] = alert_checks
        if sample_checks:
            data["promql_expr_test"] = sample_checks
        return data


@dataclass(frozen=True)
class TemplateTest:
    """A Loki alert given one sample of its LogQL result (`result` labels, `value`) must fire exactly `firing`.

    promtool cannot evaluate LogQL, so the alert's expression is replaced by a stand-in series with these
    labels and value; promtool then checks what Prometheus' rule engine (which Loki's ruler runs) makes of it:
    the `for` wait, the rule's labels, and every annotation rendered by the real template engine. All rules
    named `alertname` see the sample (tiers: list each one that must fire). The expression itself is checked
    by lint (LogQL grammar, the labels its result keeps), not here.
    """

    alertname: str
    result: Mapping[str, str]
    value: float
    firing: tuple[ExpectedAlert, ...]
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        if not self.firing:
            raise DefinitionError(
                f"template test of {self.alertname!r} expects no alert: list the alerts the sample fires",
                self.location,
            )

    @property
    def name(self) -> str:
        return f"template of {self.alertname}"


def _check_duration(value: str, what: str, location: SourceLocation) -> None:
    if parse_duration_ms(value) is None:
        raise DefinitionError(f"invalid {what} {value!r} (expected a duration like 90s, 5m, 1h30m)", location)


RULERS = ("mimir", "loki")
# What Loki's ruler stores of a group and a rule (pkg/ruler/rulespb, see docs/server-contract.md): anything else
# would be dropped on upload, and a republish would never converge.
LOKI_UNSTORED_GROUP_FIELDS = ("query_offset", "source_tenants")
WRONG_TEST_KIND = {
    "mimir": "TemplateTest is for Loki rules; promtool evaluates these (use RuleTest)",
    "loki": "promtool cannot evaluate LogQL, so a Loki namespace has no RuleTest; check its alerts' labels and "
    "annotations with TemplateTest",
}


@dataclass(frozen=True)
class RuleNamespace:
    """A ruler namespace: compiled to out/<ruler>/rules/<name>.yaml (mimirtool's and lokitool's format).

    `ruler` is "mimir" (PromQL rules) or "loki" (LogQL rules, evaluated by Loki's ruler). `tests` are its
    unit tests (`RuleTest` for Mimir, `TemplateTest` for Loki); they are not part of the compiled rules.
    """

    name: str
    groups: tuple[RuleGroup, ...]
    tests: tuple[RuleTest | TemplateTest, ...] = ()
    ruler: str = "mimir"
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        if self.ruler not in RULERS:
            raise DefinitionError(
                f"namespace {self.name!r}: unknown ruler {self.ruler!r} (expected one of {', '.join(RULERS)})",
                self.location,
            )
        if self.ruler == "loki":
            self._check_loki()
        expected = TemplateTest if self.is_loki else RuleTest
        for test in self.tests:
            if not isinstance(test, expected):
                raise DefinitionError(
                    f"namespace {self.name!r}: {WRONG_TEST_KIND[self.ruler]}", test.location
                )
        seen: set[str] = set()
        for group in self.groups:
            if group.name in seen:
                raise DefinitionError(
                    f"duplicate rule group {group.name!r} in namespace {self.name!r}", group.location
                )
            seen.add(group.name)
        names = set(self.alert_names())
        for test in self.tests:
            if isinstance(test, TemplateTest):
                if test.alertname not in names:
                    raise DefinitionError(
                        f"template test checks alert {test.alertname!r}, which namespace {self.name!r} "
                        "does not define",
                        test.location,
                    )
                continue
            for check in test.checks:
                if isinstance(check, AlertCheck) and check.alertname not in names:
                    raise DefinitionError(
                        f"rule test {test.name!r} checks alert {check.alertname!r}, "
                        f"which namespace {self.name!r} does not define",
                        check.location,
                    )

    def _check_loki(self) -> None:
        for group in self.groups:
            for key in LOKI_UNSTORED_GROUP_FIELDS:
                if getattr(group, key):
                    raise DefinitionError(
                        f"rule group {group.name!r}: Loki's ruler does not store `{key}`", group.location
                    )
            for rule in group.rules:
                if isinstance(rule, Alert) and rule.keep_firing_for:
                    raise DefinitionError(
                        f"alert {rule.name!r}: Loki's ruler does not store `keep_firing_for`", rule.location
                    )

    @property
    def is_loki(self) -> bool:
        return self.ruler == "loki"

    def alerts(self) -> list[Alert]:
        return [rule for group in self.groups for rule in group.rules if isinstance(rule, Alert)]

    def alert_names(self) -> list[str]:
        return list(dict.fromkeys(alert.name for alert in self.alerts()))

    def missing_cases(self, required: Collection[str] = CASE_KINDS) -> dict[str, list[str]]:
        """Alert name -> the `required` kinds of unit-test case it lacks: `firing` (a case where it fires),
        `silent` (a case where it must not fire). Alerts that have them all are left out."""
        if self.is_loki:
            # The firing condition is LogQL, which no local tool evaluates: a template test stands in for the
            # cases (promtool checks `for`, labels and annotations against one sample of the query's result).
            tested = {test.alertname for test in self.tests if isinstance(test, TemplateTest)}
            return {name: ["template"] for name in self.alert_names() if required and name not in tested}
        unknown = set(required) - set(CASE_KINDS)
        if unknown:
            raise ValueError(f"unknown case kind(s) {sorted(unknown)}: expected {', '.join(CASE_KINDS)}")
        seen: dict[str, set[str]] = {kind: set() for kind in CASE_KINDS}
        for test in self.tests:
            assert isinstance(test, RuleTest)
            for check in test.checks:
                if isinstance(check, AlertCheck):
                    seen["firing" if check.firing else "silent"].add(check.alertname)
        missing = {
            name: [kind for kind in CASE_KINDS if kind in required and name not in seen[kind]]
            for name in self.alert_names()
        }
        return {name: kinds for name, kinds in missing.items() if kinds}

    def untested_alerts(self, required: Collection[str] = CASE_KINDS) -> list[str]:
        """One message per alert lacking a unit-test case of a `required` kind (see `missing_cases`)."""
        return [
            f"{self.name}: alert {name} has no template test"
            if kinds == ["template"]
            else f"{self.name}: alert {name} has no test case where it "
            + " and none where it ".join(CASE_WORDING[kind] for kind in kinds)
            for name, kinds in self.missing_cases(required).items()
        ]

    def to_file(self, env: Any = None) -> dict[str, Any]:
        """mimirtool's (and lokitool's) file format; `env` renders environment-specific annotation values."""
        return {"namespace": self.name, "groups": [g.to_dict(env) for g in self.groups]}

    def to_yaml(self, env: Any = None) -> str:
        """The rule file as written to out/: `to_file()`, with a `# lgtm-dash: ignore=` comment above each rule
        that has `lint_ignore` (lint reads them there, as in a hand-written file)."""
        comments: dict[tuple[str | int, ...], str] = {
            ("groups", g, "rules", r): lint_ignore_comment(rule.lint_ignore)
            for g, group in enumerate(self.groups)
            for r, rule in enumerate(group.rules)
            if rule.lint_ignore
        }
        return dump_yaml(self.to_file(env), comments=comments)

    def source_map(self) -> dict[str, SourceLocation]:
        entries: dict[str, SourceLocation] = {f"namespace:{self.name}": self.location}
        for group in self.groups:
            entries[f"group:{self.name}/{group.name}"] = group.location
            for rule in group.rules:
                entries[f"rule:{self.name}/{group.name}/{rule.name}"] = rule.location
        return entries
