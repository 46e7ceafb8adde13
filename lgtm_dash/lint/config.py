"""Which rules run and how loud they are: `[tool.lgtm-dash.lint]` in the project's pyproject.toml, like ruff.

    [tool.lgtm-dash.lint]
    select = ["ALL"]                       # replaces the default set (the correctness rules)
    extend-select = ["rule/runbook-url"]   # adds to it
    ignore = ["promql/rate-interval"]      # removes from it
    severity = { "dashboard/grid" = "error" }

    [tool.lgtm-dash.lint.per-file-ignores]
    "dashboards/legacy_*.py" = ["promql"]  # globs over the Python definition file or the input file

Entries are rule ids or prefixes (`promql`, `promql/rate`, `ALL`). When a rule matches both an enabling entry
(`select`, `extend-select`) and `ignore`, the more specific entry wins (`ignore = ["promql"]` with
`extend-select = ["promql/syntax"]` keeps `promql/syntax`); a tie goes to `ignore`. Without `select`, the
rules that are on by default (`Check.default`) are selected. An unknown rule id, key or value is bad input:
exit 2, naming pyproject.toml, the line and the key.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import DefinitionError, UsageError
from .findings import Finding, Severity
from .registry import ALL, Check, is_known_selector, rule_ids, selector_matches, specificity

TABLE = "tool.lgtm-dash.lint"
KEYS = ("select", "extend-select", "ignore", "severity", "per-file-ignores")


@dataclass(frozen=True)
class LintConfig:
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading

    @classmethod
    def load(cls, pyproject: Path) -> LintConfig:
        """The configuration in `pyproject` (defaults when the file or the table is absent)."""
        if not pyproject.is_file():
            return cls()
        text = pyproject.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise DefinitionError(f"invalid TOML: {err}", pyproject) from None
        table: Any = data
        for part in ("tool", "lgtm-dash", "lint"):
            table = table.get(part) if isinstance(table, Mapping) else None
        if table is None:
            return cls()
        return _Reader(pyproject, text).read(table)

    def with_options(
        self, select: Sequence[str] | None, extend_select: Sequence[str], ignore: Sequence[str]
    ) -> LintConfig:
        """The command line's options: --select starts a new selection (the configured select, extend-select and
        ignore no longer count); otherwise --extend-select and --ignore add to the configured lists."""
        known = rule_ids()
        for option, values in (("--select", select or ()), ("--extend-select", extend_select),
                               ("--ignore", ignore)):  # fmt: skip
            for value in values:
                if not is_known_selector(value, known):
                    raise UsageError(f"{option}: unknown rule id or prefix {value!r}")
        if select:  # a new selection, as in ruff: what the configuration selected or ignored no longer counts
            return replace(
                self, select=tuple(select), extend_select=tuple(extend_select), ignore=tuple(ignore)
            )
        return replace(
            self, extend_select=(*self.extend_select, *extend_select), ignore=(*self.ignore, *ignore)
        )

    # ------------------------------------------------------------------ deciding

    def enabled(self, check: Check) -> bool:
        """Whether a rule runs: the most specific matching entry decides (ties go to `ignore`)."""
        best_on = -1 if self.select is not None or not check.default else 0  # default set: least specific
        for selector in (*(self.select or ()), *self.extend_select):
            if selector_matches(selector, check.id):
                best_on = max(best_on, specificity(selector))
        best_off = max((specificity(s) for s in self.ignore if selector_matches(s, check.id)), default=-1)
        return best_on >= 0 and best_on > best_off

    def enabled_checks(self, checks: Iterable[Check]) -> list[Check]:
        return [check for check in checks if self.enabled(check)]

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """Severity overrides and per-file-ignores applied to a run's findings."""
        result = []
        for finding in findings:
            if self._ignored_in_file(finding):
                continue
            severity = self._severity_of(finding.rule)
            result.append(
                finding if severity in (None, finding.severity) else replace(finding, severity=severity)
            )
        return result

    def _severity_of(self, rule_id: str) -> Severity | None:
        matching = [
            (specificity(s), level) for s, level in self.severity.items() if selector_matches(s, rule_id)
        ]
        return max(matching, key=lambda item: item[0])[1] if matching else None

    def _ignored_in_file(self, finding: Finding) -> bool:
        paths = [p for p in (finding.file, finding.input) if p]
        for pattern, selectors in self.per_file_ignores.items():
            if any(selector_matches(s, finding.rule) for s in selectors) and any(
                path_matches(pattern, p) for p in paths
            ):
                return True
        return False


def path_matches(pattern: str, path: str) -> bool:
    """A glob over a path as shown (relative to the project): `*` crosses `/`; a bare name matches anywhere."""
    path = path.replace("\\", "/").removeprefix("./")
    pattern = pattern.removeprefix("./")
    if pattern.endswith("/"):
        return path.startswith(pattern)
    candidates = [pattern, pattern.removeprefix("**/")]
    if any(fnmatch.fnmatchcase(path, p) for p in candidates):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(PurePosixPath(path).name, pattern)


class _Reader:
    """Validates the table, naming pyproject.toml, the line and the key of anything wrong."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()
        self.known = rule_ids()
        self.start = next((i for i, line in enumerate(self.lines) if line.strip().startswith(f"[{TABLE}")), 0)

    def fail(self, key: str, problem: str, needle: str | None = None) -> DefinitionError:
        return DefinitionError(f"[{TABLE}] {key}: {problem}", f"{self.path}:{self._line(needle or key)}")

    def _line(self, needle: str) -> int:
        for number in range(self.start, len(self.lines)):
            if needle in self.lines[number]:
                return number + 1
        return self.start + 1

    def selectors(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "expected a list of rule ids or prefixes")
        for selector in value:
            if selector != ALL and not is_known_selector(selector, self.known):
                raise self.fail(key, f"unknown rule id or prefix {selector!r}", f'"{selector}"')
        return tuple(value)

    def read(self, table: Any) -> LintConfig:
        if not isinstance(table, Mapping):
            raise self.fail("lint", "expected a table")
        for key in table:
            if key not in KEYS:
                raise self.fail(str(key), f"unknown key (expected one of {', '.join(KEYS)})")
        severity: dict[str, Severity] = {}
        levels = table.get("severity", {})
        if not isinstance(levels, Mapping):
            raise self.fail("severity", 'expected a table of rule = "error" | "warning"')
        for selector, level in levels.items():
            self.selectors("severity", [selector])
            if level not in (Severity.ERROR, Severity.WARNING):
                raise self.fail("severity", f'{selector}: {level!r} is not "error" or "warning"', selector)
            severity[selector] = Severity(level)
        per_file: dict[str, tuple[str, ...]] = {}
        patterns = table.get("per-file-ignores", {})
        if not isinstance(patterns, Mapping):
            raise self.fail("per-file-ignores", "expected a table of glob = [rule ids]")
        for pattern, selectors in patterns.items():
            per_file[str(pattern)] = self.selectors(f"per-file-ignores.{pattern!r}", selectors)
        return LintConfig(
            select=self.selectors("select", table["select"]) if "select" in table else None,
            extend_select=self.selectors("extend-select", table.get("extend-select", [])),
            ignore=self.selectors("ignore", table.get("ignore", [])),
            severity=severity,
            per_file_ignores=per_file,
        )
