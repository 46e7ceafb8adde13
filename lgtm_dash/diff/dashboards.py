"""Dashboards: renamed, moved between folders, and per panel, variable and setting what changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..artifacts import Artifacts, DashboardArtifact
from .report import ADDED, CHANGED, MOVED, REMOVED, RENAMED, RESIZED, Detail, ObjectChange
from .values import field_details, fmt, match_by, value_detail

# Bookkeeping Grafana and grafanalib change on every save: never a difference.
IGNORED_DASHBOARD_KEYS = {"id", "version", "iteration", "uid", "panels", "rows", "templating", "title"}
# Panel fields shown by name; everything else in a panel is compared field by field.
HANDLED_PANEL_KEYS = {"id", "title", "gridPos", "targets", "panels", "collapsed"}
QUERY_FIELDS = ("expr", "rawSql", "query", "rawQuery", "queryText")


@dataclass(frozen=True)
class FlatPanel:
    id: Any
    title: str
    row: str  # title of the row holding it ("" at top level)
    data: Mapping[str, Any]

    @property
    def label(self) -> str:
        title = f"“{self.title}”" if self.title else "(untitled)"
        return f"{title} (#{self.id})" if self.id is not None else title


def flatten_panels(dashboard: dict[str, Any]) -> list[FlatPanel]:
    """Every panel, including those inside collapsed rows and legacy `rows`, with its row's title."""
    flat: list[FlatPanel] = []
    row = ""
    for panel in dashboard.get("panels") or []:
        if panel.get("type") == "row":
            row = panel.get("title") or ""
            flat.append(FlatPanel(panel.get("id"), row, "", panel))
            flat.extend(
                FlatPanel(p.get("id"), p.get("title") or "", row, p) for p in panel.get("panels") or []
            )
        else:
            flat.append(FlatPanel(panel.get("id"), panel.get("title") or "", row, panel))
    for legacy in dashboard.get("rows") or []:
        title = legacy.get("title") or ""
        flat.extend(
            FlatPanel(p.get("id"), p.get("title") or "", title, p) for p in legacy.get("panels") or []
        )
    return flat


def match_panels(
    old: list[FlatPanel], new: list[FlatPanel]
) -> tuple[list[tuple[FlatPanel, FlatPanel]], list[FlatPanel], list[FlatPanel]]:
    """Pair panels: same id and title, then same (unique) title — a renumbered panel —, then same id (a rename)."""
    pairs: list[tuple[FlatPanel, FlatPanel]] = []
    left, right = list(old), list(new)

    def pair_by(key: Any) -> None:
        index: dict[Any, list[FlatPanel]] = {}
        for panel in right:
            index.setdefault(key(panel), []).append(panel)
        for panel in list(left):
            candidates = index.get(key(panel)) or []
            if (
                key(panel) is not None
                and len(candidates) == 1
                and sum(key(p) == key(panel) for p in left) == 1
            ):
                pairs.append((panel, candidates[0]))
                left.remove(panel)
                right.remove(candidates[0])

    pair_by(lambda p: (p.id, p.title) if p.id is not None else None)
    pair_by(lambda p: p.title or None)
    pair_by(lambda p: p.id)
    return pairs, left, right


def query_text(target: dict[str, Any]) -> tuple[str | None, str | None]:
    for name in QUERY_FIELDS:
        if isinstance(target.get(name), str):
            return name, target[name]
    return None, None


def whole_panel(change: str, panel: FlatPanel) -> list[Detail]:
    """A panel added or removed as a whole, with its queries (what a reviewer needs to judge it)."""
    side = "new" if change == ADDED else "old"
    shown: dict[str, Any] = {side: panel.data.get("type")}  # old= or new=
    details = [Detail(change=change, scope="panel", name=panel.label, **shown)]
    for target in panel.data.get("targets") or []:
        _, text = query_text(target)
        if text is not None:
            field = f"query {target.get('refId') or '?'}"
            shown = {side: text}
            details.append(Detail(change=change, scope="panel", name=panel.label, field=field, **shown))
    return details


def target_details(scope: str, name: str, old: list[dict], new: list[dict]) -> list[Detail]:
    details: list[Detail] = []
    old_by = match_by(old, lambda t: str(t.get("refId") or "?"))
    new_by = match_by(new, lambda t: str(t.get("refId") or "?"))
    for ref in sorted(old_by.keys() | new_by.keys()):
        a, b = old_by.get(ref), new_by.get(ref)
        if a == b:
            continue
        if a is None or b is None:
            present = b if a is None else a
            assert present is not None  # not both: equal sides were skipped
            _, text = query_text(present)
            details.append(
                Detail(
                    change=ADDED if a is None else REMOVED,
                    scope=scope,
                    name=name,
                    field=f"query {ref}",
                    old=text if b is None else None,
                    new=text if a is None else None,
                )
            )
            continue
        old_field, old_query = query_text(a)
        new_field, new_query = query_text(b)
        if old_query != new_query:
            details.append(value_detail(scope, name, f"query {ref}", old_query, new_query, always_diff=True))
        rest_a = {k: v for k, v in a.items() if k not in (old_field, "refId")}
        rest_b = {k: v for k, v in b.items() if k not in (new_field, "refId")}
        details += field_details(rest_a, rest_b, scope=scope, name=name, prefix=f"query {ref}")
    return details


def thresholds_text(thresholds: Any) -> str | None:
    """Threshold steps as `green, red ≥ 80` (mode appended when not absolute)."""
    if not isinstance(thresholds, dict):
        return None
    steps = [
        f"{s.get('color')}" if s.get("value") is None else f"{s.get('color')} ≥ {fmt(s.get('value'))}"
        for s in thresholds.get("steps") or []
    ]
    mode = thresholds.get("mode")
    return ", ".join(steps) + (f" ({mode})" if mode and mode != "absolute" else "")


def panel_details(old: FlatPanel, new: FlatPanel, *, report_id: bool = True) -> list[Detail]:
    scope, name = "panel", new.label
    details: list[Detail] = []
    if old.title != new.title:
        details.append(
            Detail(change=RENAMED, scope=scope, name=name, field="title", old=old.title, new=new.title)
        )
    if report_id and old.id != new.id:
        details.append(
            Detail(change=MOVED, scope=scope, name=name, field="id", old=f"#{old.id}", new=f"#{new.id}")
        )
    if old.row != new.row:
        details.append(
            Detail(
                change=MOVED,
                scope=scope,
                name=name,
                field="row",
                old=old.row or "(top)",
                new=new.row or "(top)",
            )
        )
    grid_a, grid_b = old.data.get("gridPos") or {}, new.data.get("gridPos") or {}
    if (grid_a.get("x"), grid_a.get("y")) != (grid_b.get("x"), grid_b.get("y")):
        details.append(
            Detail(
                change=MOVED,
                scope=scope,
                name=name,
                field="position",
                old=f"x={grid_a.get('x')} y={grid_a.get('y')}",
                new=f"x={grid_b.get('x')} y={grid_b.get('y')}",
            )
        )
    if (grid_a.get("w"), grid_a.get("h")) != (grid_b.get("w"), grid_b.get("h")):
        details.append(
            Detail(
                change=RESIZED,
                scope=scope,
                name=name,
                field="size",
                old=f"{grid_a.get('w')}×{grid_a.get('h')}",
                new=f"{grid_b.get('w')}×{grid_b.get('h')}",
            )
        )
    defaults_a = (old.data.get("fieldConfig") or {}).get("defaults") or {}
    defaults_b = (new.data.get("fieldConfig") or {}).get("defaults") or {}
    if defaults_a.get("unit") != defaults_b.get("unit"):
        details.append(value_detail(scope, name, "unit", defaults_a.get("unit"), defaults_b.get("unit")))
    th_a, th_b = thresholds_text(defaults_a.get("thresholds")), thresholds_text(defaults_b.get("thresholds"))
    if th_a != th_b:
        details.append(value_detail(scope, name, "thresholds", th_a, th_b))
    legend_a = (old.data.get("options") or {}).get("legend") or {}
    legend_b = (new.data.get("options") or {}).get("legend") or {}
    details += field_details(legend_a, legend_b, scope=scope, name=name, prefix="legend")
    details += target_details(scope, name, old.data.get("targets") or [], new.data.get("targets") or [])

    def rest(panel: FlatPanel) -> dict[str, Any]:
        data = {k: v for k, v in panel.data.items() if k not in HANDLED_PANEL_KEYS}
        options = {k: v for k, v in (data.get("options") or {}).items() if k != "legend"}
        field_config = dict(data.get("fieldConfig") or {})
        field_config["defaults"] = {
            k: v for k, v in (field_config.get("defaults") or {}).items() if k not in ("unit", "thresholds")
        }
        return {**data, "options": options, "fieldConfig": field_config}

    details += field_details(rest(old), rest(new), scope=scope, name=name)
    return details


def query_of(variable: dict[str, Any]) -> Any:
    """A variable's query text (Grafana stores it as a string or as {query, refId})."""
    query = variable.get("query")
    return query.get("query", query) if isinstance(query, dict) else query


def variable_details(old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    details: list[Detail] = []
    old_by = match_by((old.get("templating") or {}).get("list") or [], lambda v: str(v.get("name")))
    new_by = match_by((new.get("templating") or {}).get("list") or [], lambda v: str(v.get("name")))
    for name in sorted(old_by.keys() | new_by.keys()):
        a, b = old_by.get(name), new_by.get(name)
        if a == b:
            continue
        label = f"${name}"
        if a is None or b is None:
            present = b if a is None else a
            assert present is not None  # not both: equal sides were skipped
            query = query_of(present)
            shown = fmt(query) if query not in (None, "") else None
            change = ADDED if a is None else REMOVED
            details.append(
                Detail(
                    change=change,
                    scope="variable",
                    name=label,
                    new=shown if change == ADDED else None,
                    old=shown if change == REMOVED else None,
                )
            )
            continue
        if query_of(a) != query_of(b):
            text_a, text_b = query_of(a), query_of(b)
            details.append(
                value_detail("variable", label, "query", text_a, text_b, always_diff=isinstance(text_a, str))
            )
        for key in ("current", "options"):
            if a.get(key) != b.get(key):
                details.append(value_detail("variable", label, key, choices(a.get(key)), choices(b.get(key))))
        details += field_details(
            a, b, scope="variable", name=label, ignore=("query", "current", "options", "name")
        )
    return details


def choices(value: Any) -> Any:
    """A variable's `current` or `options` as the values a user sees."""
    if isinstance(value, dict):
        return value.get("text", value.get("value"))
    if isinstance(value, list):
        return [choices(v) for v in value]
    return value


def dashboard_change(
    old: DashboardArtifact | None, new: DashboardArtifact | None, folders: dict[str, str], arts: Artifacts
) -> ObjectChange | None:
    current = new or old
    assert current is not None
    title = str(current.data.get("title") or current.uid)
    source = arts.sourcemap.get(f"dashboard:{current.uid}")
    if old is None or new is None:
        status = ADDED if old is None else REMOVED
        listed = [d for panel in flatten_panels(current.data) for d in whole_panel(status, panel)]
        return ObjectChange(
            kind="dashboard",
            key=current.uid,
            title=title,
            status=status,
            details=tuple(listed),
            source=source,
            sketch=layout_sketch(None, new),
        )
    details: list[Detail] = []
    if old.data.get("title") != new.data.get("title"):
        details.append(
            Detail(change=RENAMED, field="title", old=old.data.get("title"), new=new.data.get("title"))
        )
    if old.folder_uid != new.folder_uid:
        details.append(
            Detail(
                change=MOVED,
                field="folder",
                old=folders.get(old.folder_uid, old.folder_uid),
                new=folders.get(new.folder_uid, new.folder_uid),
            )
        )
    details += field_details(old.data, new.data, ignore=IGNORED_DASHBOARD_KEYS)
    details += variable_details(old.data, new.data)
    pairs, removed, added = match_panels(flatten_panels(old.data), flatten_panels(new.data))
    renumbered = [(a, b) for a, b in pairs if a.id != b.id]
    if len(renumbered) > 1:  # a panel inserted above: one line, not one "id moved" per panel below it
        (first_a, first_b), (last_a, last_b) = renumbered[0], renumbered[-1]
        span = f"#{first_a.id} → #{first_b.id} … #{last_a.id} → #{last_b.id}"
        details.append(
            Detail(change=CHANGED, field="panel ids", new=f"{len(renumbered)} panels renumbered ({span})")
        )
    for a, b in pairs:
        details += panel_details(a, b, report_id=len(renumbered) == 1)
    for panel in removed:
        details += whole_panel(REMOVED, panel)
    for panel in added:
        details += whole_panel(ADDED, panel)
    if not details:
        return None
    return ObjectChange(
        kind="dashboard",
        key=current.uid,
        title=title,
        status=CHANGED,
        details=tuple(details),
        source=source,
        sketch=layout_sketch(old, new),
    )


def layout_sketch(old: DashboardArtifact | None, new: DashboardArtifact | None) -> tuple[str, ...]:
    from .sketch import sketch

    return tuple(sketch(old.data if old else None, new.data if new else None))


def folder_titles(arts: Artifacts) -> dict[str, str]:
    return {f["uid"]: f"{f.get('title') or f['uid']} ({f['uid']})" for f in arts.folders if "uid" in f}


def diff_dashboards(old: Artifacts, new: Artifacts) -> list[ObjectChange]:
    titles = {**folder_titles(old), **folder_titles(new)}
    old_by = {d.uid: d for d in old.dashboards}
    new_by = {d.uid: d for d in new.dashboards}
    changes = []
    for uid in sorted(old_by.keys() | new_by.keys()):
        change = dashboard_change(old_by.get(uid), new_by.get(uid), titles, new if uid in new_by else old)
        if change is not None:
            changes.append(change)
    return changes


def diff_folders(old: Artifacts, new: Artifacts) -> list[ObjectChange]:
    old_by = {f.get("uid"): f for f in old.folders}
    new_by = {f.get("uid"): f for f in new.folders}
    changes = []
    for uid in sorted(old_by.keys() | new_by.keys(), key=str):
        a, b = old_by.get(uid), new_by.get(uid)
        if a == b:
            continue
        title = str((b or a or {}).get("title") or uid)
        source = (new if b is not None else old).sourcemap.get(f"folder:{uid}")
        if a is None or b is None:
            status = ADDED if a is None else REMOVED
            changes.append(
                ObjectChange(kind="folder", key=str(uid), title=title, status=status, source=source)
            )
            continue
        details = field_details(a, b, ignore=("uid", "id", "version"))
        if details:
            changes.append(
                ObjectChange(
                    kind="folder",
                    key=str(uid),
                    title=title,
                    status=CHANGED,
                    details=tuple(details),
                    source=source,
                )
            )
    return changes
