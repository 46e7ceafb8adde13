"""The diff report as data: what changed, per object, before it is rendered as text, Markdown or JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
RENAMED = "renamed"
MOVED = "moved"
RESIZED = "resized"

# Plural names of what the summary table counts, in the order it lists them.
PLURALS = {
    "dashboard": "dashboards",
    "panel": "panels",
    "variable": "variables",
    "folder": "folders",
    "rule namespace": "rule namespaces",
    "Loki rule namespace": "Loki rule namespaces",
    "group": "rule groups",
    "alert": "alerts",
    "record": "recording rules",
    "route": "routes",
    "receiver": "receivers",
    "inhibit rule": "inhibit rules",
    "template": "templates",
    "datasource": "datasources",
}


def plural(kind: str, count: int) -> str:
    return kind if count == 1 else PLURALS.get(kind, kind + "s")


@dataclass(frozen=True)
class Detail:
    """One difference inside an object, e.g. the unit of panel “Errors” (#3) changed.

    `scope`/`name` say which part of the object (a panel, a variable, an alert, a route; scope "" for the
    object itself), `field` which of its fields, and either `old`/`new` (short values) or `diff` (the lines
    of a small unified diff, for query text and templates).
    """

    change: str
    scope: str = ""
    name: str = ""
    field: str = ""
    old: str | None = None
    new: str | None = None
    diff: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        return f"{self.scope} {self.name}".strip()


@dataclass(frozen=True)
class ObjectChange:
    """A dashboard, folder, datasource, rule namespace or the Alertmanager configuration that changed."""

    kind: str
    key: str
    title: str
    status: str
    details: tuple[Detail, ...] = ()
    source: str | None = None  # file:line of the Python that defines it
    sketch: tuple[str, ...] = ()  # a dashboard's layout before/after, drawn as text (diff/sketch.py)

    def parts(self) -> dict[tuple[str, str], str]:
        """Each part (scope, name) touched, with its overall change: added, removed or changed."""
        found: dict[tuple[str, str], str] = {}
        for detail in self.details:
            if not detail.scope:
                continue
            key = (detail.scope, detail.name)
            change = detail.change if detail.change in (ADDED, REMOVED) and not detail.field else CHANGED
            if found.get(key) in (ADDED, REMOVED):
                continue
            found[key] = change
        return found

    def headline(self) -> str:
        """e.g. "3 panels changed, 1 variable added" (or the object's own status)."""
        if self.status != CHANGED:
            return self.status
        counts: Counter[tuple[str, str]] = Counter(
            (scope, change) for (scope, _), change in self.parts().items()
        )
        pieces = [f"{n} {plural(scope, n)} {change}" for (scope, change), n in counts.items()]
        own = [
            d.change if d.change in (RENAMED, MOVED) else f"{d.field} {CHANGED}"
            for d in self.details
            if not d.scope
        ]
        pieces[:0] = dict.fromkeys(own)
        return ", ".join(pieces) or CHANGED


@dataclass(frozen=True)
class DiffReport:
    changes: tuple[ObjectChange, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, dict[str, int]]:
        """{plural kind: {added, removed, changed}} for the objects and the parts inside them."""
        table: dict[str, Counter[str]] = {}
        for obj in self.changes:
            table.setdefault(obj.kind, Counter())[obj.status] += 1
            for (scope, _), change in obj.parts().items():
                table.setdefault(scope, Counter())[change] += 1
        order = list(PLURALS)
        ordered = sorted(table, key=lambda k: order.index(k) if k in order else len(order))
        return {
            PLURALS.get(kind, kind): {c: table[kind][c] for c in (ADDED, REMOVED, CHANGED)}
            for kind in ordered
        }

    def summary_line(self) -> str:
        if not self.changed:
            return "no changes"
        parts = []
        for kind, counts in self.counts().items():
            done = ", ".join(f"{n} {c}" for c, n in counts.items() if n)
            parts.append(f"{kind}: {done}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "summary": self.counts(),
            "changes": [{k: v for k, v in asdict(obj).items() if k != "sketch"} for obj in self.changes],
        }
