"""Datasources: fields and jsonData keys changed; secureJsonData only ever as set / changed / removed."""

from __future__ import annotations

from typing import Any

from ..artifacts import Artifacts
from .report import ADDED, CHANGED, REMOVED, RENAMED, Detail, ObjectChange
from .values import field_details, mask_secrets

SECURE = "secureJsonData"
IGNORED = ("id", "version", "uid", "name", SECURE)


def secure_details(old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    """Which secure fields were set, changed or removed: never their values, not even placeholders."""
    details = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            details.append(Detail(change=REMOVED, field=f"{SECURE}.{key}"))
        elif key not in old:
            details.append(Detail(change=ADDED, field=f"{SECURE}.{key}", new="(set)"))
        elif old[key] != new[key]:
            details.append(Detail(change=CHANGED, field=f"{SECURE}.{key}", new="(value changed)"))
    return details


def diff_datasources(old: Artifacts, new: Artifacts) -> list[ObjectChange]:
    old_by = {str(d.get("uid")): d for d in old.datasources}
    new_by = {str(d.get("uid")): d for d in new.datasources}
    changes = []
    for uid in sorted(old_by.keys() | new_by.keys()):
        a, b = old_by.get(uid), new_by.get(uid)
        if a == b:
            continue
        title = str((b or a or {}).get("name") or uid)
        source = (new if b is not None else old).sourcemap.get(f"datasource:{uid}")
        if a is None or b is None:
            status = ADDED if a is None else REMOVED
            changes.append(
                ObjectChange(kind="datasource", key=uid, title=title, status=status, source=source)
            )
            continue
        details: list[Detail] = []
        if a.get("name") != b.get("name"):
            details.append(Detail(change=RENAMED, field="name", old=a.get("name"), new=b.get("name")))
        details += field_details(a, b, ignore=IGNORED, masker=mask_secrets)
        details += secure_details(a.get(SECURE) or {}, b.get(SECURE) or {})
        if details:
            changes.append(
                ObjectChange(
                    kind="datasource",
                    key=uid,
                    title=title,
                    status=CHANGED,
                    details=tuple(details),
                    source=source,
                )
            )
    return changes
