"""What plan and publish print, and the optional JSON report. Secrets are redacted from all of it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from ..secrets import redact
from ..ui import console, shorten
from .apply import ApplyResult
from .plan import Change, Plan

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "conflict": "!", "unchanged": "="}
COLOURS = {"create": "green", "update": "yellow", "delete": "red", "conflict": "bold red", "unchanged": "dim"}
STATUS_COLOURS = {
    "created": "green",
    "updated": "yellow",
    "deleted": "red",
    "unchanged": "dim",
    "conflict": "bold red",
    "failed": "bold red",
    "skipped": "magenta",
    "interrupted": "bold magenta",
}


def _line(change: Change) -> str:
    where = f"  ({change.source})" if change.source else ""
    reason = f": {change.reason}" if change.reason else ""
    line = f"{SYMBOLS[change.action]} {change.action} {change.kind} {change.key}{reason}{where}"
    if change.drift:
        line += f"\n    drift: {change.drift}; publish puts back what out/ says (the diff shows both)"
    return line


def print_plan(plan: Plan, secrets: Mapping[str, str], *, verbose: bool = False) -> None:
    env = plan.env
    target = f"Grafana {env.grafana.url}, Mimir {env.mimir.address} (tenant {env.mimir.tenant})"
    if env.loki is not None and any(c.kind == "loki-rule-group" for c in plan.changes):
        target += f", Loki {env.loki.address} (tenant {env.loki.tenant})"
    console.print(f"Plan for {env.name} ({escape(redact(target, secrets))}): {plan.summary()}.")
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/] {escape(redact(warning, secrets))}")
    shown = [c for c in plan.changes if verbose or c.action != "unchanged"]
    if shown:
        console.print()
    for change in shown:
        colour = COLOURS[change.action]
        console.print(f"[{colour}]{escape(shorten(redact(_line(change), secrets)))}[/]")
        if change.diff and change.action in ("update", "conflict"):
            for line in redact(change.diff, secrets).splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(f"    [{style}]{escape(shorten(line))}[/]")


def print_result(result: ApplyResult, secrets: Mapping[str, str]) -> None:
    done = [o for o in result.outcomes if o.status != "unchanged"]
    if done and console.is_terminal:
        table = Table(title="publish", show_lines=False)
        for column in ("result", "kind", "object", "detail"):
            table.add_column(column)
        for o in done:
            colour = STATUS_COLOURS.get(o.status, "")
            table.add_row(
                f"[{colour}]{o.status}[/]", o.change.kind, o.change.key, escape(redact(o.error, secrets))
            )
        console.print(table)
    else:
        for o in done:
            detail = f": {o.error}" if o.error else ""
            console.print(escape(redact(f"{o.status} {o.change.kind} {o.change.key}{detail}", secrets)))
    console.print(f"Applied: {result.summary()}.")
    for service in result.refused_services():
        console.print(
            f"[yellow]warning:[/] every write to {service} was refused with HTTP 403: "
            "check that its credentials may write, not only read"
        )


def report_data(plan: Plan, result: ApplyResult | None, secrets: Mapping[str, str]) -> dict[str, Any]:
    objects = []
    outcomes = {id(o.change): o for o in (result.outcomes if result else [])}
    for change in plan.changes:
        outcome = outcomes.get(id(change))
        problem = outcome is not None and outcome.status in ("conflict", "failed", "skipped", "interrupted")
        objects.append(
            {
                "kind": change.kind,
                "key": change.key,
                "action": change.action,
                "status": outcome.status if outcome else None,
                "reason": redact(change.reason, secrets),
                "error": redact(outcome.error, secrets) if outcome and problem else "",
                "detail": redact(outcome.error, secrets) if outcome and not problem else "",
                "source": change.source,
                "drift": redact(change.drift, secrets),
                "diff": redact(change.diff, secrets),
            }
        )
    data: dict[str, Any] = {
        "env": plan.env.name,
        "plan": {a: plan.count(a) for a in ("create", "update", "delete", "unchanged", "conflict")},
        "objects": objects,
    }
    if result is not None:
        statuses = (
            "created",
            "updated",
            "deleted",
            "unchanged",
            "conflict",
            "failed",
            "skipped",
            "interrupted",
        )
        data["result"] = {s: result.count(s) for s in statuses}
        data["interrupted"] = result.interrupted
    return data


def write_report(path: Path, plan: Plan, result: ApplyResult | None, secrets: Mapping[str, str]) -> None:
    text = json.dumps(report_data(plan, result, secrets), indent=2, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(redact(text, secrets), encoding="utf-8")
    tmp.replace(path)  # a report is whole or absent, even when a second Ctrl-C comes while writing
