"""A dashboard's layout before and after a change, as a plain-text sketch for a PR comment.

Panels are boxes on the 24-column grid (2 characters a column) at their gridPos, labelled with a number and
their title; the before and after grids stand side by side on one vertical scale, so a panel that moved is
seen moving. Marks: `+` added, `-` removed, `>` moved, `*` resized; the legend under the grids says from where
to where. Heights are compressed (a row header is one line, a 4-unit panel three, an 8-unit one four) and the
sketch stops after MAX_LINES. Panels inside a collapsed row are not on the grid: the legend lists their changes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..grid import GRID_COLUMN_COUNT, Item, Layout, Pos, fmt, lay_out
from .dashboards import FlatPanel, match_panels

CHARS_PER_COLUMN = 2
WIDTH = GRID_COLUMN_COUNT * CHARS_PER_COLUMN
GUTTER = "   "
MAX_LINES = 60
MAX_LEGEND = 25
ADDED, REMOVED, MOVED, RESIZED = "+", "-", ">", "*"


@dataclass
class Box:
    item: Item
    nested_in: str | None  # title of the collapsed row holding it; None on the main grid
    key: int = 0  # the number shown in the box and the legend (0 for row headers)
    marks: str = ""  # some of + - > *

    @property
    def pos(self) -> Pos:
        return self.item.declared

    @property
    def drawn(self) -> bool:
        return self.nested_in is None and self.pos.w > 0 and self.pos.h > 0


def sketch(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """Lines of the sketch ([] when the layout did not change). For a new dashboard: its layout alone."""
    if new is None:
        return []
    after = lay_out(new)
    new_boxes = boxes_of(after)
    if old is None:
        number(new_boxes)
        return [
            "new dashboard",
            *draw(new_boxes, line_map([b.pos for b in new_boxes if b.drawn]))[:MAX_LINES],
        ]
    before = lay_out(old)
    old_boxes = boxes_of(before)
    if not mark_changes(old_boxes, new_boxes):
        return []
    lines_of = line_map([b.pos for b in [*old_boxes, *new_boxes] if b.drawn])
    left, right = draw(old_boxes, lines_of), draw(new_boxes, lines_of)
    height = max(len(left), len(right))
    out = ["before".ljust(WIDTH) + GUTTER + "after"]
    for n in range(min(height, MAX_LINES)):
        pair = (left[n] if n < len(left) else "").ljust(WIDTH) + GUTTER + (right[n] if n < len(right) else "")
        out.append(pair.rstrip())
    if height > MAX_LINES:
        out.append(f"... {height - MAX_LINES} more lines not drawn")
    return out + legend(old_boxes, new_boxes)


def boxes_of(layout: Layout) -> list[Box]:
    """Every item in reading order, a collapsed row's panels right after it."""
    found: list[Box] = []
    for item in layout.items:
        found.append(Box(item, None))
        found += [Box(child, item.title or "(untitled row)") for child in item.children]
    return found


def number(boxes: list[Box], start: int = 1) -> int:
    for box in boxes:
        if not box.item.is_row and not box.key:
            box.key, start = start, start + 1
    return start


def mark_changes(old: list[Box], new: list[Box]) -> bool:
    """Pair panels like the diff does, number them in the new reading order, mark what changed."""
    flat_old = [FlatPanel(b.item.id, b.item.title, b.nested_in or "", b.item.panel) for b in old]
    flat_new = [FlatPanel(b.item.id, b.item.title, b.nested_in or "", b.item.panel) for b in new]
    box_of = {id(f): b for f, b in [*zip(flat_old, old), *zip(flat_new, new)]}
    pairs, removed, _ = match_panels(flat_old, flat_new)  # added: the new panels without a partner
    partner = {id(box_of[id(b)]): box_of[id(a)] for a, b in pairs}
    changed = False
    for box in new:
        earlier = partner.get(id(box))
        if earlier is None:
            box.marks = ADDED
        else:
            if (earlier.pos.x, earlier.pos.y) != (box.pos.x, box.pos.y) or earlier.nested_in != box.nested_in:
                box.marks += MOVED
            if (earlier.pos.w, earlier.pos.h) != (box.pos.w, box.pos.h):
                box.marks += RESIZED
            earlier.marks = box.marks
            changed = changed or earlier.item.collapsed != box.item.collapsed
        changed = changed or bool(box.marks)
    for flat in removed:
        box_of[id(flat)].marks = REMOVED
        changed = True
    following = number(new)
    for box in new:
        if box.key and id(box) in partner:
            partner[id(box)].key = box.key
    number(old, following)
    return changed


def lines_for(units: float) -> int:
    """Text lines for `units` grid rows: 1 → 1, 2 → 2, 3–4 → 3, 5–8 → 4, 9–16 → 5, more → 6."""
    return min(6, 1 + math.ceil(math.log2(max(units, 1))))


def line_map(positions: list[Pos]) -> dict[float, int]:
    """Grid y → text line: monotone, and at least 3 lines for every panel (1 for a one-unit item)."""
    edges = sorted({0.0, *(p.y for p in positions), *(p.bottom for p in positions)})
    ending: dict[float, list[Pos]] = {}
    for pos in positions:
        ending.setdefault(pos.bottom, []).append(pos)
    lines = {edges[0]: 0}
    for previous, edge in itertools.pairwise(edges):
        line = lines[previous] + lines_for(edge - previous)
        for pos in ending.get(edge, []):
            line = max(line, lines[pos.y] + (1 if pos.h <= 1 else 3))
        lines[edge] = line
    return lines


def draw(boxes: list[Box], lines_of: dict[float, int]) -> list[str]:
    drawn = [b for b in boxes if b.drawn]
    height = max((lines_of[b.pos.bottom] for b in drawn), default=0)
    canvas = [[" "] * WIDTH for _ in range(height)]
    for box in drawn:
        pos, top = box.pos, lines_of[box.pos.y]
        bottom = lines_of[pos.bottom] - 1
        if box.item.is_row:
            chevron = ">" if box.item.collapsed else "v"
            folded = f" ({len(box.item.children)} panels, collapsed)" if box.item.collapsed else ""
            text = f"=={box.marks or '='} {chevron} {box.item.title}{folded} "
            canvas[top] = list(text.ljust(WIDTH, "=")[:WIDTH])
            continue
        left = min(WIDTH - 1, max(0, round(pos.x * CHARS_PER_COLUMN)))
        right = min(WIDTH - 1, max(left + 1, round(pos.right * CHARS_PER_COLUMN) - 1))
        label = f"{box.marks}{box.key} {box.item.title}"[: right - left - 1]
        if bottom <= top:  # one line high: [label]
            canvas[top][left : right + 1] = list(f"[{label}".ljust(right - left) + "]")
            continue
        for line in range(top, bottom + 1):
            edge = line in (top, bottom)
            canvas[line][left : right + 1] = list(
                ("+" + "-" * (right - left - 1) + "+") if edge else "|" + " " * (right - left - 1) + "|"
            )
        canvas[top + 1][left + 1 : left + 1 + len(label)] = list(label)
    return ["".join(row).rstrip() for row in canvas]


def legend(old: list[Box], new: list[Box]) -> list[str]:
    """One line per changed panel: what happened, from where to where."""
    before = {b.key: b for b in old if b.key}
    lines = []
    for box in sorted([*new, *(b for b in old if b.marks == REMOVED)], key=lambda b: b.key):
        if not box.marks or box.item.is_row:
            continue
        where = f" (in collapsed row {box.nested_in})" if box.nested_in else ""
        if box.marks in (ADDED, REMOVED):
            what = f"{'added at' if box.marks == ADDED else 'removed from'} {place(box.pos)} {size(box.pos)}"
        else:
            earlier = before[box.key]
            parts = []
            if MOVED in box.marks:
                parts.append(f"moved {place(earlier.pos)} -> {place(box.pos)}")
                if earlier.nested_in != box.nested_in:
                    parts.append(
                        f"from {earlier.nested_in or 'the main grid'} to {box.nested_in or 'the main grid'}"
                    )
            if RESIZED in box.marks:
                parts.append(f"resized {size(earlier.pos)} -> {size(box.pos)}")
            what = ", ".join(parts)
        lines.append(f"{box.marks:>2} {box.key:<3} {box.item.title or '(untitled)'}: {what}{where}")
    if len(lines) > MAX_LEGEND:
        lines = [*lines[:MAX_LEGEND], f"   ... and {len(lines) - MAX_LEGEND} more changed panels"]
    return ["", *lines] if lines else []


def place(pos: Pos) -> str:
    return f"x={fmt(pos.x)} y={fmt(pos.y)}"


def size(pos: Pos) -> str:
    return f"{fmt(pos.w)}x{fmt(pos.h)}"
