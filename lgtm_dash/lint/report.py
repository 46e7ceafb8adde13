"""Printing findings: text (like ruff, grouped by file, with a summary), JSON, or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from .findings import Finding, Severity

FORMATS = ("text", "json", "github")


def location(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


def summary(findings: list[Finding], checked: str) -> str:
    counts = Counter(f.severity for f in findings)
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    if not findings:
        return f"lint: no problems in {checked}"
    return (
        f"lint: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {checked}"
    )


def print_text(findings: list[Finding], checked: str, console: Console) -> None:
    for file, group in groupby(findings, key=lambda f: f.file):
        console.print(f"[bold]{escape(file or '<input>')}[/bold]", emoji=False)
        for finding in group:
            colour = "red" if finding.severity is Severity.ERROR else "yellow"
            console.print(
                f"  {escape(location(finding))}: [{colour}]{finding.rule} {finding.severity}[/{colour}] "
                f"{escape(finding.message)}",
                emoji=False,  # `file:100:` must not become an emoji
            )
    console.print(summary(findings, checked), emoji=False)


def to_json(findings: list[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: list[Finding]) -> str:
    """GitHub workflow commands: `::error file=…,line=…,title=…::message`."""
    lines = []
    for finding in findings:
        level = "error" if finding.severity is Severity.ERROR else "warning"
        props = [f"file={_escape_property(finding.file)}"] if finding.file else []
        if finding.line:
            props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(finding.rule)}")
        lines.append(f"::{level} {','.join(props)}::{_escape_data(finding.message)}")
    return "\n".join(lines)
