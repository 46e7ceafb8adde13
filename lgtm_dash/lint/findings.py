"""What a lint check reports: a `Finding`, and the `Subject` it is about (dashboard, panel, query, rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_QUERY_IN_MESSAGE = 160


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem. `file:line` is the Python definition when known, else the artifact or input file."""

    file: str
    line: int
    rule: str
    severity: Severity
    message: str
    dashboard: str | None = None  # dashboard uid
    panel: str | None = None  # panel title
    query: str | None = None
    # The input file (artifact, dashboard JSON, rule file) when `file` is the Python definition; for
    # per-file-ignores. Not part of the finding's identity.
    input: str | None = field(default=None, compare=False)
    # Silenced where it was found (`lint_ignore=`, `lintIgnore`, `# lgtm-dash: ignore=`): the engine drops it.
    suppressed: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "dashboard": self.dashboard,
            "panel": self.panel,
            "query": self.query,
        }


def one_line(text: object, limit: int = MAX_QUERY_IN_MESSAGE) -> str:
    """A query shown inside a one-line message: whitespace collapsed, long ones shortened."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
