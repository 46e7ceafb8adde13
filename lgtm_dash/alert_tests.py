"""`lgtm-dash test [NAMESPACE...]`: the alert unit tests on the real promtool, the routing cases on the real amtool.

Each `RuleTest` of a namespace runs as its own `promtool test rules` file, so every failure promtool prints
belongs to one test and is traced back to the check (`AlertCheck`, `SampleCheck`) and its `file:line`. The
report says, per failure, which alert or expression, which case, what was expected and what came out.

The house rule "every alert has a case where it fires and one where it must not" is enforced here and set
in pyproject.toml:

    [tool.lgtm-dash.test]
    alert-cases = ["firing", "silent"]   # [] turns the rule off
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import amtool, promtool
from .durations import parse_duration_ms
from .environments import Environment, resolve_environment
from .errors import EXIT_FINDINGS, EXIT_OK, DefinitionError, UsageError
from .load import Project, load_project
from .model.alertmanager import RoutingCase
from .model.rules import (
    CASE_KINDS,
    CASE_WORDING,
    AlertCheck,
    RuleNamespace,
    RuleTest,
    SampleCheck,
    TemplateTest,
)
from .settings import tool_section
from .source import SourceLocation
from .ui import console, shorten

ALERTMANAGER_SUITE = "alertmanager"
DEFAULTS = {"alert-cases": list(CASE_KINDS)}
# Debian packages of the real tools (what `make tools` installs).
TOOL_PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}
# A value longer than this (a whole runbook in an annotation) is cut in the report.
VALUE_LIMIT = 2_000


@dataclass(frozen=True)
class Failure:
    """One failed case: where it is written, which suite and case, what, expected and got."""

    location: str
    suite: str
    case: str
    subject: str
    expected: tuple[str, ...] = ()
    got: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class SuiteResult:
    name: str
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


def find_tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/bin") / name, Path("/usr/sbin") / name) if p.exists()), None
    )
    if not found:
        raise UsageError(
            f"{name} is not installed: install Debian's `{TOOL_PACKAGES.get(name, name)}` package "
            "(`make tools` does, as root)"
        )
    return found


# --- promtool's report --------------------------------------------------------------------------------


@dataclass
class PromtoolFailure:
    """A failure block of `promtool test rules` output: an alert check, an expression check, or other text."""

    kind: str  # "alert" | "expr" | "other"
    name: str = ""  # alertname or expression
    time: str = ""
    expected: list[str] = field(default_factory=list)
    got: list[str] = field(default_factory=list)
    error: str = ""


_ALERT_HEAD = re.compile(r"^alertname: (?P<name>.*), time: (?P<time>[^,]+),?$")
_EXPR_HEAD = re.compile(r'^expr: (?P<expr>".*"), time: (?P<time>[^,]+),(?: err: (?P<err>.*))?$')
_SAMPLE = re.compile(r"(\{.*?\}) (\S+?)(?:, |$)")
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_promtool_output(output: str) -> list[PromtoolFailure]:
    """The failures in promtool's (2.x) text report, block by block; unknown lines kept as `other`."""
    failures: list[PromtoolFailure] = []
    current: PromtoolFailure | None = None
    target: list[str] | None = None
    item: list[str] = []

    def close_item() -> None:
        if target is not None and item:
            target.append("\n".join(item))
        item.clear()

    for raw in output.splitlines():
        line = raw.strip().rstrip(",").strip()
        if not line or line.startswith("Unit Testing:") or line == "FAILED:" or line.startswith("name: "):
            continue
        alert, expr = _ALERT_HEAD.match(line), _EXPR_HEAD.match(raw.strip())
        if alert or expr:
            close_item()
            target = None
            if alert:
                current = PromtoolFailure("alert", alert["name"], alert["time"].strip())
            else:
                assert expr is not None
                current = PromtoolFailure("expr", _go_unquote(expr["expr"]), expr["time"].strip())
                current.error = expr["err"] or ""
            failures.append(current)
            continue
        if current is not None and current.kind == "alert":
            if line.startswith(("exp:[", "got:[")):
                close_item()
                target = current.expected if line.startswith("exp:") else current.got
                continue
            if target is not None:
                if re.fullmatch(r"\d+:", line) or line == "]":
                    close_item()
                    continue
                if line.startswith("Labels:"):
                    item.append(line.removeprefix("Labels:"))
                    continue
                if line.startswith("Annotations:"):  # one `name="value"` per line, easier to compare
                    pairs = _PAIR.findall(line)
                    item.extend(f'{k}="{v}"' for k, v in pairs) if pairs else item.append(line)
                    continue
        if current is not None and current.kind == "expr" and line.startswith(("exp:", "got:")):
            samples = [f"{labels} {_number(value)}" for labels, value in _SAMPLE.findall(line[4:].strip())]
            (current.expected if line.startswith("exp:") else current.got).extend(samples)
            continue
        close_item()
        target = None
        current = PromtoolFailure("other", error=raw.strip())
        failures.append(current)
    close_item()
    return failures


def _go_unquote(text: str) -> str:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip('"')


def _number(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _alert_differences(expected: list[str], got: list[str]) -> tuple[str, ...]:
    """Alerts paired by their labels: the annotations that differ, and the alerts without a partner."""

    def split(entry: str) -> tuple[str, dict[str, str]]:
        labels, *annotations = entry.split("\n")
        return labels, {k: v for line in annotations for k, v in _PAIR.findall(line)}

    want, have = dict(map(split, expected)), dict(map(split, got))
    if len(want) == len(have) == 1 and want.keys() != have.keys():  # one alert, with other labels
        (want_labels, want_annotations), (have_labels, have_annotations) = *want.items(), *have.items()
        lines = [f"labels: expected {want_labels}, got {have_labels}"]
        want, have = {"": want_annotations}, {"": have_annotations}
    else:
        lines = [f"expected but not firing: {labels}" for labels in want if labels not in have]
        lines += [f"firing but not expected: {labels}" for labels in have if labels not in want]
    names = _distinguishing(list(want))
    for labels in (labels for labels in want if labels in have):
        for key in sorted(want[labels].keys() | have[labels].keys()):
            a, b = want[labels].get(key), have[labels].get(key)
            if a != b:
                shown = [f'"{v}"' if v is not None else "(none)" for v in (a, b)]
                where = f" of {names[labels]}" if len(want) > 1 else ""
                lines.append(f"annotation {key}{where}: expected {shown[0]}, got {shown[1]}")
    return tuple(lines)


def _distinguishing(label_sets: list[str]) -> dict[str, str]:
    """Each label set shown by the labels that tell it from the others (`{severity="critical"}`)."""
    pairs = {labels: _PAIR.findall(labels) for labels in label_sets}
    common = set.intersection(*(set(p) for p in pairs.values())) if pairs else set()
    return {
        labels: "{" + ", ".join(f'{k}="{v}"' for k, v in found if (k, v) not in common) + "}"
        for labels, found in pairs.items()
    }


def _sample_differences(expected: list[str], got: list[str]) -> tuple[str, ...]:
    """Samples paired by their labels: the values that differ, and the samples without a partner."""
    want = dict(entry.rsplit(" ", 1) for entry in expected)
    have = dict(entry.rsplit(" ", 1) for entry in got)
    lines = [f"sample {labels}: expected {want[labels]}, got {have[labels]}" for labels in want
             if labels in have and want[labels] != have[labels]]  # fmt: skip
    lines += [f"missing sample: {labels}" for labels in want if labels not in have]
    lines += [f"unexpected sample: {labels}" for labels in have if labels not in want]
    return tuple(lines)


# --- running --------------------------------------------------------------------------------------------


def _same_time(a: str, b: str) -> bool:
    return parse_duration_ms(a) is not None and parse_duration_ms(a) == parse_duration_ms(b)


def _check_location(test: RuleTest | TemplateTest, failure: PromtoolFailure) -> SourceLocation:
    """The line of the check promtool reports on (the test's line when none matches)."""
    for check in test.checks if isinstance(test, RuleTest) else ():
        if isinstance(check, AlertCheck) and failure.kind == "alert":
            subject = check.alertname == failure.name
        elif isinstance(check, SampleCheck) and failure.kind == "expr":
            subject = check.expr.strip() == failure.name.strip()
        else:
            continue
        if subject and _same_time(check.at, failure.time):
            return check.location
    return test.location


def _rule_test_failures(
    tool: str, ns: RuleNamespace, test: RuleTest | TemplateTest, env: Environment, rules: Path, index: int
) -> list[Failure]:
    path = rules.parent / f"test-{index}.yaml"
    path.write_text(
        json.dumps(promtool.rule_test_file(ns, rules.name, env, tests=[test]), ensure_ascii=False),
        encoding="utf-8",
    )
    result = promtool.run_rule_tests(tool, path)
    if result.ok:
        return []
    parsed = parse_promtool_output(result.output)
    failures: list[Failure] = []
    others = [p.error for p in parsed if p.kind == "other"]
    for found in parsed:
        if found.kind == "other":
            continue
        if found.kind == "alert":
            subject = f"alert {found.name} at {found.time}"
            expected = tuple(found.expected) or ("no alert (it must not fire)",)
            got = tuple(found.got) or ("no alert",)
        else:
            subject = f"expression {found.name} at {found.time}"
            expected, got = tuple(found.expected) or ("no sample",), tuple(found.got) or ("no sample",)
            if found.error:
                expected, got = (), ()
        if found.error:
            notes: tuple[str, ...] = (f"promtool: {found.error}",)
        elif found.kind == "alert":
            notes = _alert_differences(found.expected, found.got)
        else:
            notes = _sample_differences(found.expected, found.got)
        failures.append(
            Failure(str(_check_location(test, found)), ns.name, test.name, subject, expected, got, notes)
        )
    if others or not failures:  # what promtool said that is not an expectation: show it as it is
        failures.append(
            Failure(
                str(test.location),
                ns.name,
                test.name,
                "promtool could not run the test",
                notes=tuple(others or result.output.splitlines()),
            )
        )
    return failures


def _house_rule_failures(ns: RuleNamespace, required: Sequence[str]) -> list[Failure]:
    locations = {alert.name: alert.location for alert in reversed(ns.alerts())}  # its first definition
    return [
        Failure(
            str(locations[name]),
            ns.name,
            "house rule: every alert has a case where it fires and one where it must not"
            if kinds != ["template"]
            else "house rule: every Loki alert has a template test",
            f"alert {name}",
            notes=(
                (
                    "no test case where it "
                    + " and none where it ".join(CASE_WORDING[kind] for kind in kinds)
                    if kinds != ["template"]
                    else "no TemplateTest (LogQL cannot be evaluated locally)"
                )
                + " (see [tool.lgtm-dash.test] alert-cases)",
            ),
        )
        for name, kinds in ns.missing_cases(required).items()
    ]


def run_namespaces(
    namespaces: Sequence[RuleNamespace],
    env: Environment,
    workdir: Path,
    *,
    required: Sequence[str] = CASE_KINDS,
    promtool_path: str | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> list[SuiteResult]:
    """Every namespace's unit tests (one promtool run per `RuleTest`) and the house rule."""
    tool = promtool_path or find_tool("promtool")
    results = []
    jobs: list[tuple[SuiteResult, Any]] = []
    owned = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=4)
    try:
        for ns in namespaces:
            suite = SuiteResult(ns.name)
            results.append(suite)
            suite.failures += _house_rule_failures(ns, required)
            rules = promtool.write_rules_file(ns, env, workdir / ns.name / "rules.yaml")
            checked = promtool.check_rules(tool, [rules])
            if not checked.ok:
                suite.failures.append(
                    Failure(str(ns.location), ns.name, "promtool check rules", "the rules do not load",
                            notes=tuple(checked.output.splitlines()))
                )  # fmt: skip
                continue
            for index, test in enumerate(ns.tests):
                suite.cases += len(test.checks) if isinstance(test, RuleTest) else 1
                jobs.append((suite, pool.submit(_rule_test_failures, tool, ns, test, env, rules, index)))
        for suite, job in jobs:
            suite.failures += job.result()
    finally:
        if owned:
            pool.shutdown()
    return results


class _Placeholders(Mapping[str, str]):
    """Fills every `${VAR}` of the Alertmanager config with a harmless URL: routing needs no real secret."""

    def __getitem__(self, name: str) -> str:
        return f"https://placeholder.invalid/{name}"

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _routing_failure(tool: str, config: Path, case: RoutingCase) -> Failure | None:
    result = amtool.routes_test(tool, config, case.labels, list(case.receivers))
    if result.ok:
        return None
    answer = [ln for ln in result.output.splitlines() if ln.strip() and not ln.lower().startswith("warning")]
    got = answer[0].strip() if answer else "(no answer)"
    labels = ", ".join(f'{k}="{v}"' for k, v in case.labels.items())
    return Failure(
        str(case.location),
        ALERTMANAGER_SUITE,
        case.name,
        f"routing of {{{labels}}}",
        expected=(", ".join(case.receivers),),
        got=(got,),
    )


def run_routing(
    alertmanager: Any,
    workdir: Path,
    *,
    amtool_path: str | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> SuiteResult:
    """`amtool check-config`, then every routing case on `amtool config routes test`."""
    tool = amtool_path or find_tool("amtool")
    suite = SuiteResult(ALERTMANAGER_SUITE)
    cases: tuple[RoutingCase, ...] = tuple(getattr(alertmanager, "tests", ()))
    config = amtool.write_config(alertmanager.to_api_body(), workdir / ALERTMANAGER_SUITE, _Placeholders())
    checked = amtool.check_config(tool, config)
    suite.cases = len(cases)
    if not checked.ok:
        suite.failures.append(
            Failure(str(alertmanager.location), ALERTMANAGER_SUITE, "amtool check-config",
                    "the configuration does not load", notes=tuple(checked.output.splitlines()))
        )  # fmt: skip
        return suite
    owned = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=4)
    try:
        found = pool.map(lambda case: _routing_failure(tool, config, case), cases)
        suite.failures += [f for f in found if f is not None]
    finally:
        if owned:
            pool.shutdown()
    return suite


def run_all(
    project: Project, env: Environment, names: Sequence[str], required: Sequence[str]
) -> list[SuiteResult]:
    known = [ns.name for ns in project.rule_namespaces]
    unknown = [n for n in names if n not in known and n != ALERTMANAGER_SUITE]
    if unknown:
        raise UsageError(
            f"unknown namespace(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted([*known, ALERTMANAGER_SUITE]))})"
        )
    selected = [ns for ns in project.rule_namespaces if not names or ns.name in names]
    with tempfile.TemporaryDirectory(prefix="lgtm-dash-test-") as scratch, ThreadPoolExecutor(4) as pool:
        results = run_namespaces(selected, env, Path(scratch), required=required, pool=pool)
        if project.alertmanager is not None and (not names or ALERTMANAGER_SUITE in names):
            results.append(run_routing(project.alertmanager, Path(scratch), pool=pool))
    return results


# --- the report ---------------------------------------------------------------------------------------------


def _quantity(lines: tuple[str, ...], noun: str) -> str:
    if len(lines) == 1 and lines[0].startswith("no "):
        return ""
    return f" ({len(lines)} {noun}{'s' if len(lines) != 1 else ''})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_lines(results: Sequence[SuiteResult]) -> list[str]:
    """A summary line per suite, then each failure: where, what, the case, expected and got."""
    width = max((len(r.name) for r in results), default=0)
    lines = []
    for suite in results:
        status = f"FAILED  {_plural(suite.failed, 'failure')} in" if suite.failures else "ok     "
        lines.append(f"{suite.name.ljust(width)}  {status} {_plural(suite.cases, 'case')}")
    for suite in results:
        for failure in suite.failures:
            noun = "sample" if failure.subject.startswith("expression") else "alert"
            lines += ["", f"{failure.location}: {failure.suite}: {failure.subject}"]
            if failure.case:
                lines.append(f'  case: "{failure.case}"')
            for label, values in (("expected", failure.expected), ("got", failure.got)):
                if values and failure.subject.startswith("routing"):
                    lines.append(f"  {label} receivers: {values[0]}")
                elif values:
                    lines.append(f"  {label}{_quantity(values, noun)}:")
                    for value in values:
                        first, *rest = value.split("\n")
                        lines.append(f"    {shorten(first, VALUE_LIMIT)}")
                        lines += [f"      {shorten(more, VALUE_LIMIT)}" for more in rest]
            lines += [f"  {shorten(note, VALUE_LIMIT)}" for note in failure.notes]
    total = sum(r.cases for r in results)
    failed = sum(r.failed for r in results)
    outcome = f"{_plural(failed, 'failure')}" if failed else "all passed"
    lines += ["", f"{outcome} ({_plural(total, 'case')} in {_plural(len(results), 'suite')})."]
    return lines


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "namespaces",
        nargs="*",
        metavar="NAMESPACE",
        help=f"rule namespaces to test, or `{ALERTMANAGER_SUITE}` for the routing cases (default: all)",
    )
    parser.add_argument(
        "--env", default=None, help="environment the annotations are rendered for (default: dev)"
    )


def run(args: argparse.Namespace) -> int:
    settings = tool_section(args.project, "test", DEFAULTS)
    required = settings["alert-cases"]
    if not isinstance(required, list) or set(required) - set(CASE_KINDS):
        raise DefinitionError(
            f"alert-cases must be a list of {', '.join(map(repr, CASE_KINDS))}, got {required!r}",
            "pyproject.toml: [tool.lgtm-dash.test]",
        )
    env = resolve_environment(args.project, args.env, environ={})
    project = load_project(args.project)
    results = run_all(project, env, args.namespaces, required)
    for line in report_lines(results):
        console.print(line, markup=False)
    return EXIT_FINDINGS if any(r.failures for r in results) else EXIT_OK
