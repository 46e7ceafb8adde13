"""Rules under the real Prometheus tooling: `promtool check rules` and `promtool test rules`.

promtool parses rule files strictly and knows nothing of Mimir's extensions, so the groups are handed to it
without the Mimir-only keys. A namespace's unit tests (`RuleTest`) compile to a promtool test file that
points at that stripped rule file.

A Loki namespace's expressions are LogQL, which promtool cannot evaluate: its alerts are handed to promtool with
each expression replaced by a stand-in series (`logql_result{alertname="<alert>"}`), and each `TemplateTest`
feeds that series one sample of the LogQL result. What promtool then checks is real: the `for` wait, the alert
labels, and the annotations as Prometheus' template engine (the one Loki's ruler runs) renders them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .durations import parse_duration_ms
from .model.rules import Alert, RuleNamespace, RuleTest, TemplateTest
from .yamlio import dump_yaml

# Group keys Mimir's ruler accepts that Prometheus' rulefmt (strict) rejects.
MIMIR_ONLY_GROUP_KEYS = frozenset(
    {"source_tenants", "query_offset", "evaluation_delay", "align_evaluation_time_on_interval"}
)
TOOL_TIMEOUT_SECONDS = 120
# The series standing in for a LogQL alert expression's result in template tests.
STANDIN_METRIC = "logql_result"


@dataclass(frozen=True)
class ToolResult:
    command: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def prometheus_groups(groups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A Prometheus rule file (`groups:` only) from Mimir groups, Mimir-only keys removed."""
    return {"groups": [{k: v for k, v in g.items() if k not in MIMIR_ONLY_GROUP_KEYS} for g in groups]}


def rule_test_file(
    namespace: RuleNamespace,
    rule_file: str,
    env: Any = None,
    tests: Iterable[RuleTest | TemplateTest] | None = None,
) -> dict[str, Any]:
    """promtool's unit-test file for a namespace's tests, or only `tests` (annotations rendered for `env`)."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "tests": [
            _template_test(namespace, test, env) if isinstance(test, TemplateTest) else test.to_dict(env)
            for test in (namespace.tests if tests is None else tests)
        ],
    }


def _series(labels: Mapping[str, str]) -> str:
    return STANDIN_METRIC + "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "}"


def standin_groups(namespace: RuleNamespace, env: Any = None) -> dict[str, Any]:
    """A Loki namespace's alerts as a Prometheus rule file, each expression replaced by its stand-in series."""
    groups = []
    for group in namespace.groups:
        alerts = [rule for rule in group.rules if isinstance(rule, Alert)]
        if not alerts:
            continue  # recording rules have nothing to render
        rules = [{**alert.to_dict(env), "expr": _series({"alertname": alert.name})} for alert in alerts]
        groups.append({**group.to_dict(env), "rules": rules})
    return {"groups": groups}


def _template_test(namespace: RuleNamespace, test: TemplateTest, env: Any) -> dict[str, Any]:
    """One promtool test: the stand-in sample held long enough for every rule named `test.alertname` to fire."""
    waits = [parse_duration_ms(a.for_ or "0") or 0 for a in namespace.alerts() if a.name == test.alertname]
    minutes = -(-max(waits, default=0) // 60_000) + 1
    return {
        "name": f"{_series(test.result).removeprefix(STANDIN_METRIC)} = {test.value:g} renders {test.alertname}",
        "interval": "1m",
        "input_series": [
            {
                "series": _series({"alertname": test.alertname, **test.result}),
                "values": f"{test.value!r}x{minutes + 1}",
            }
        ],
        "alert_rule_test": [
            {
                "eval_time": f"{minutes}m",
                "alertname": test.alertname,
                "exp_alerts": [alert.to_dict(env) for alert in test.firing],
            }
        ],
    }


def rules_document(namespace: RuleNamespace, env: Any = None) -> dict[str, Any]:
    """The rule file promtool loads: Mimir's groups without Mimir-only keys, or Loki's alerts on stand-ins."""
    if namespace.is_loki:
        return standin_groups(namespace, env)
    return prometheus_groups(namespace.to_file(env)["groups"])


def write_rules_file(namespace: RuleNamespace, env: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(rules_document(namespace, env)), encoding="utf-8")
    return path


def write_namespace_files(namespace: RuleNamespace, env: Any, directory: Path) -> tuple[Path, Path]:
    """Write `<ns>.rules.yaml` and `<ns>.test.yaml` into `directory`; return both paths."""
    rules_path = write_rules_file(namespace, env, directory / f"{namespace.name}.rules.yaml")
    tests_path = directory / f"{namespace.name}.test.yaml"
    tests_path.write_text(dump_yaml(rule_test_file(namespace, rules_path.name, env)), encoding="utf-8")
    return rules_path, tests_path


def run_tool(command: list[str], cwd: Path | None = None) -> ToolResult:
    """Run a real tool with a bounded time; its exit code and combined output."""
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS, check=False
    )
    return ToolResult(tuple(command), done.returncode, (done.stdout + done.stderr).strip())


def check_rules(promtool: str, rule_files: Iterable[Path]) -> ToolResult:
    """`promtool check rules` on Prometheus rule files (strip Mimir keys first: see `prometheus_groups`)."""
    return run_tool([promtool, "check", "rules", *map(str, rule_files)])


def run_rule_tests(promtool: str, test_file: Path) -> ToolResult:
    """`promtool test rules`, run beside the test file so its relative `rule_files` resolve."""
    return run_tool([promtool, "test", "rules", test_file.name], cwd=test_file.parent)
