"""Small value helpers shared by the diff engines: flattening, formatting, inline text diffs, masking."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..secrets import REDACTED
from .report import ADDED, CHANGED, REMOVED, Detail

# Values longer than this (or spanning lines) are shown as a small unified diff rather than old → new.
INLINE_LIMIT = 100
# Key names whose values are credentials (a `${VAR}` placeholder is fine to show; a literal is not).
SECRET_KEY = re.compile(r"password|passwd|token|secret|credential|(^|_)key$|[a-z]Key$|^key$", re.IGNORECASE)
PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")

Masker = Callable[[str, Any], Any]


def fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def text_diff(old: str, new: str) -> tuple[str, ...]:
    """The changed lines of `old` → `new` with a line of context, as `-`/`+`/` ` lines."""
    hunks = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
    if sum(1 for line in hunks if line.startswith("@@")) == 1:
        hunks = [line for line in hunks if not line.startswith("@@")]
    return tuple(hunks)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as {"a.b.c": leaf}; lists and scalars are leaves (compared as a whole)."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key in sorted(value, key=str):
            flat.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > INLINE_LIMIT)


def value_detail(
    scope: str, name: str, field: str, old: Any, new: Any, *, always_diff: bool = False
) -> Detail:
    """A field whose value went from `old` to `new` (None: absent), as old → new or as a text diff."""
    if old is None:
        return Detail(change=ADDED, scope=scope, name=name, field=field, new=fmt(new))
    if new is None:
        return Detail(change=REMOVED, scope=scope, name=name, field=field, old=fmt(old))
    old_text, new_text = fmt(old), fmt(new)
    if always_diff or is_long(old_text) or is_long(new_text):
        if not isinstance(old, str) or not isinstance(new, str):
            old_text = json.dumps(old, indent=2, sort_keys=True, ensure_ascii=False)
            new_text = json.dumps(new, indent=2, sort_keys=True, ensure_ascii=False)
        return Detail(change=CHANGED, scope=scope, name=name, field=field, diff=text_diff(old_text, new_text))
    return Detail(change=CHANGED, scope=scope, name=name, field=field, old=old_text, new=new_text)


def field_details(
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    scope: str = "",
    name: str = "",
    prefix: str = "",
    ignore: Iterable[str] = (),
    masker: Masker | None = None,
) -> list[Detail]:
    """One detail per flattened field that differs between two mappings."""
    skip = set(ignore)
    flat_old = flatten(old, prefix) if old else {}
    flat_new = flatten(new, prefix) if new else {}
    details = []
    for path in sorted(flat_old.keys() | flat_new.keys()):
        if path in skip or path.split(".")[0] in skip:
            continue
        a, b = flat_old.get(path), flat_new.get(path)
        if a == b:
            continue
        if masker is not None:
            a, b = masker(path, a), masker(path, b)
            if a == b:  # both secret literals: say that it changed, never what to
                details.append(
                    Detail(change=CHANGED, scope=scope, name=name, field=path, old=REDACTED, new=REDACTED)
                )
                continue
        details.append(value_detail(scope, name, path, a, b))
    return details


def mask_secrets(path: str, value: Any, *, urls_too: bool = False) -> Any:
    """A value fit to print: literal credentials (and, for `urls_too`, literal URLs) become <redacted>."""
    if value is None:
        return None
    key = path.rsplit(".", 1)[-1]
    sensitive = bool(SECRET_KEY.search(key)) or (urls_too and "url" in key.lower())
    if not sensitive:
        return value
    if isinstance(value, str) and PLACEHOLDER.match(value):
        return value
    return REDACTED


def match_by(
    items: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str]
) -> dict[str, dict[str, Any]]:
    """Index items by a key; repeated keys get `#2`, `#3`… so nothing is silently dropped."""
    indexed: dict[str, dict[str, Any]] = {}
    for item in items:
        base = key(item)
        name, n = base, 1
        while name in indexed:
            n += 1
            name = f"{base} #{n}"
        indexed[name] = item
    return indexed
