"""A DiffReport rendered three ways: terminal text (rich; colour only on a terminal), Markdown for a PR
comment (a summary table, then one collapsible section per object), and JSON."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator

from rich.text import Text

from ..ui import shorten
from .report import ADDED, CHANGED, REMOVED, Detail, DiffReport, ObjectChange

KIND_HEADINGS = {
    "dashboard": "Dashboards",
    "folder": "Folders",
    "rule namespace": "Rules",
    "Loki rule namespace": "Loki rules",
    "alertmanager": "Alertmanager",
    "datasource": "Datasources",
}
STYLE = {ADDED: "green", REMOVED: "red"}
MARK = {ADDED: "+", REMOVED: "-"}
# GitHub rejects comments over 65536 characters: stop adding sections well before that.
MARKDOWN_LIMIT = 60_000


def object_label(obj: ObjectChange) -> str:
    kind = obj.kind[0].upper() + obj.kind[1:]
    if obj.kind == "alertmanager":
        return "Alertmanager configuration"
    if obj.title == obj.key:
        return f"{kind} {obj.key}"
    return f"{kind} “{obj.title}” ({obj.key})"


def grouped(details: tuple[Detail, ...]) -> Iterator[tuple[str, list[Detail]]]:
    """Details grouped by the part they belong to ("" for the object itself), in order of first mention."""
    groups: dict[str, list[Detail]] = {}
    for detail in details:
        groups.setdefault(detail.subject, []).append(detail)
    yield from groups.items()


def split_whole(details: list[Detail]) -> tuple[Detail | None, list[Detail]]:
    """(the detail saying a whole part was added or removed — e.g. a panel —, the details under it)."""
    first = details[0]
    if first.scope and not first.field and first.change in (ADDED, REMOVED):
        return first, details[1:]
    return None, details


def describe(detail: Detail) -> str:
    """One detail as a sentence fragment, without its part: `unit: percent → percentunit`."""
    return _phrase(detail, detail.field or detail.subject or "value", str)


def _phrase(detail: Detail, name: str, show: Callable[[str], str]) -> str:
    """The wording of a detail, shared by text and Markdown; `show` writes a value."""
    if detail.diff:
        return f"{name} {detail.change}:"
    if detail.change == ADDED:
        return f"{name} added" + (f": {show(detail.new)}" if detail.new is not None else "")
    if detail.change == REMOVED:
        return f"{name} removed" + (f": {show(detail.old)}" if detail.old is not None else "")
    verb = "" if detail.change == CHANGED else f" {detail.change}"
    if detail.old is None and detail.new is None:
        return f"{name}{verb or ' changed'}"
    if detail.old is None:
        return f"{name}{verb}: {show(str(detail.new))}"
    return f"{name}{verb}: {show(detail.old)} → {show(str(detail.new))}"


# ---------------------------------------------------------------- text


def render_text(report: DiffReport) -> Text:
    out = Text()
    if not report.changed:
        out.append("No changes.\n")
        return out
    for obj in report.changes:
        out.append(object_label(obj), style=f"bold {STYLE.get(obj.status, 'yellow')}")
        out.append(f" — {obj.headline()}")
        if obj.source:
            out.append(f"  {obj.source}", style="dim")
        out.append("\n")
        for subject, details in grouped(obj.details):
            indent = "  "
            whole, rest = split_whole(details)
            if whole is not None:
                extra = whole.new if whole.change == ADDED else whole.old
                out.append(f"  {MARK[whole.change]} {subject} {whole.change}", style=STYLE[whole.change])
                out.append(f": {shorten(extra)}\n" if extra else "\n")
                indent = "      "
            elif subject:
                out.append(f"  ~ {subject}\n", style="yellow")
                indent = "      "
            for detail in rest:
                out.append(f"{indent}{shorten(describe(detail))}\n")
                for line in detail.diff:
                    style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
                    out.append(f"{indent}  {shorten(line)}\n", style=style)
        out.append("\n")
    out.append(f"Summary: {report.summary_line()}\n", style="bold")
    return out


# ---------------------------------------------------------------- markdown


def escape(text: str) -> str:
    """Names written as Markdown text: `<`, `>`, `&` must not become HTML (a title could close a section)."""
    return html.escape(text, quote=False)


def code(value: str) -> str:
    """An inline Markdown code span that survives backticks in the value."""
    value = value.replace("\n", " ")
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def describe_markdown(detail: Detail) -> str:
    return _phrase(detail, escape(detail.field or "value"), code)


def diff_block(lines: tuple[str, ...], indent: str, language: str = "diff") -> list[str]:
    fence = "~~~~" if any("```" in line for line in lines) else "```"
    return [f"{indent}{fence}{language}", *(f"{indent}{line}" for line in lines), f"{indent}{fence}"]


def markdown_section(obj: ObjectChange) -> str:
    summary = escape(f"{object_label(obj)} — {obj.headline()}")
    lines = [f"<details><summary>{summary}</summary>", ""]
    if obj.source:
        lines += [f"Defined at `{obj.source}`.", ""]
    if obj.sketch:
        lines += ["Layout:", "", *diff_block(obj.sketch, "", language="text"), ""]
    for subject, details in grouped(obj.details):
        whole, rest = split_whole(details)
        indent = "  "
        if whole is not None:
            extra = whole.new if whole.change == ADDED else whole.old
            lines.append(f"- **{escape(subject)}** {whole.change}" + (f": {code(extra)}" if extra else ""))
            indent = "    "
        elif subject:
            lines.append(f"- **{escape(subject)}**")
            indent = "    "
        for detail in rest:
            lines.append(f"{indent[2:]}- {describe_markdown(detail)}")
            if detail.diff:
                lines += diff_block(detail.diff, indent)
    if not obj.details:
        lines.append(f"_{obj.kind} {obj.status}_")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def render_markdown(report: DiffReport, title: str = "lgtm-dash diff") -> str:
    head = [f"### {title}", ""]
    if not report.changed:
        return "\n".join([*head, "No changes to dashboards, rules, routing or datasources.", ""])
    head += ["| | added | removed | changed |", "|---|---:|---:|---:|"]
    for kind, counts in report.counts().items():
        head.append(f"| {kind} | {counts[ADDED]} | {counts[REMOVED]} | {counts[CHANGED]} |")
    head.append("")
    text = "\n".join(head)
    omitted: list[str] = []
    for kind, heading in KIND_HEADINGS.items():
        objects = [obj for obj in report.changes if obj.kind == kind]
        if not objects:
            continue
        text += f"\n#### {heading}\n\n"
        for obj in objects:
            section = markdown_section(obj)
            if len(text) + len(section) > MARKDOWN_LIMIT:
                omitted.append(escape(object_label(obj)))
                continue
            text += section + "\n"
    if omitted:
        text += (
            f"\n_{len(omitted)} more sections omitted to fit a PR comment ({', '.join(omitted)}); "
            "run `lgtm-dash diff` locally for the full diff._\n"
        )
    return text


# ---------------------------------------------------------------- json


def render_json(report: DiffReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
