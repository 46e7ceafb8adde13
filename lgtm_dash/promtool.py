"""Rules under the real Prometheus tooling: `promtool check rules` and `promtool test rules`.

promtool parses rule files strictly and knows nothing of Mimir's extensions, so the groups are handed to it
without the Mimir-only keys. A namespace's unit tests (`RuleTest`) compile to a promtool test file that
points at that stripped rule file.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model.rules import RuleNamespace, RuleTest
from .yamlio import dump_yaml

# Group keys Mimir's ruler accepts that Prometheus' rulefmt (strict) rejects.
MIMIR_ONLY_GROUP_KEYS = frozenset(
    {"source_tenants", "query_offset", "evaluation_delay", "align_evaluation_time_on_interval"}
)
TOOL_TIMEOUT_SECONDS = 120


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
    namespace: RuleNamespace, rule_file: str, env: Any = None, tests: Iterable[RuleTest] | None = None
) -> dict[str, Any]:
    """promtool's unit-test file for a namespace's tests, or only `tests` (annotations rendered for `env`)."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "tests": [test.to_dict(env) for test in (namespace.tests if tests is None else tests)],
    }


def write_rules_file(namespace: RuleNamespace, env: Any, path: Path) -> Path:
    """The namespace's groups as a Prometheus rule file promtool accepts (Mimir-only keys stripped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(prometheus_groups(namespace.to_file(env)["groups"])), encoding="utf-8")
    return path


def write_namespace_files(namespace: RuleNamespace, env: Any, directory: Path) -> tuple[Path, Path]:
    """Write `<ns>.rules.yaml` (stripped) and `<ns>.test.yaml` into `directory`; return both paths."""
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
