"""Rules of the Mimir and the Loki ruler: per namespace and group, alerts and recording rules added, removed or
changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..artifacts import Artifacts
from .report import ADDED, CHANGED, REMOVED, Detail, ObjectChange
from .values import field_details, fmt, value_detail

RULE_FIELDS_SHOWN = ("expr", "for", "keep_firing_for")


def rule_kind(rule: dict[str, Any]) -> str:
    return "record" if "record" in rule else "alert"


def rule_name(rule: dict[str, Any]) -> str:
    return str(rule.get("alert") or rule.get("record") or "?")


def index_rules(group_name: str, rules: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Rules keyed by (kind, display name). Names repeated in a group (one alert per severity, say) are told
    apart by their labels, then by position."""
    names = Counter((rule_kind(r), rule_name(r)) for r in rules)
    indexed: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in rules:
        kind, name = rule_kind(rule), rule_name(rule)
        label = f"{group_name} / {name}"
        if names[(kind, name)] > 1:
            labels = ", ".join(f'{k}="{v}"' for k, v in sorted((rule.get("labels") or {}).items()))
            label += f"{{{labels}}}"
        key, n = (kind, label), 1
        while key in indexed:
            n += 1
            key = (kind, f"{label} #{n}")
        indexed[key] = rule
    return indexed


def rule_details(kind: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    details: list[Detail] = []
    if old.get("expr") != new.get("expr"):
        details.append(value_detail(kind, name, "expr", old.get("expr"), new.get("expr"), always_diff=True))
    for key in ("for", "keep_firing_for"):
        if old.get(key) != new.get(key):
            details.append(value_detail(kind, name, key, old.get(key), new.get(key)))
    rest_a = {k: v for k, v in old.items() if k not in (*RULE_FIELDS_SHOWN, "alert", "record")}
    rest_b = {k: v for k, v in new.items() if k not in (*RULE_FIELDS_SHOWN, "alert", "record")}
    return details + field_details(rest_a, rest_b, scope=kind, name=name)


def group_details(group_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Detail]:
    if old is None or new is None:
        present = new if old is None else old
        assert present is not None
        rules = present.get("rules") or []
        what = ", ".join(f"{rule_kind(r)} {rule_name(r)}" for r in rules)
        change = ADDED if old is None else REMOVED
        detail = Detail(
            change=change,
            scope="group",
            name=group_name,
            old=what if new is None else None,
            new=what if old is None else None,
        )
        return [detail] + [
            Detail(change=change, scope=kind, name=name) for (kind, name) in index_rules(group_name, rules)
        ]
    details = field_details(
        {k: v for k, v in old.items() if k not in ("rules", "name")},
        {k: v for k, v in new.items() if k not in ("rules", "name")},
        scope="group",
        name=group_name,
    )
    old_rules = index_rules(group_name, old.get("rules") or [])
    new_rules = index_rules(group_name, new.get("rules") or [])
    for key in list(old_rules) + [k for k in new_rules if k not in old_rules]:
        kind, name = key
        a, b = old_rules.get(key), new_rules.get(key)
        if a == b:
            continue
        if a is None or b is None:
            present = b if a is None else a
            assert present is not None
            details.append(
                Detail(
                    change=ADDED if a is None else REMOVED,
                    scope=kind,
                    name=name,
                    old=fmt(present.get("expr")) if b is None else None,
                    new=fmt(present.get("expr")) if a is None else None,
                )
            )
            continue
        details += rule_details(kind, name, a, b)
    order_a = [rule_name(r) for r in old.get("rules") or []]
    order_b = [rule_name(r) for r in new.get("rules") or []]
    if order_a != order_b and sorted(order_a) == sorted(order_b):
        details.append(Detail(change=CHANGED, scope="group", name=group_name, field="rule order"))
    return details


def diff_rules(old: Artifacts, new: Artifacts) -> list[ObjectChange]:
    return [
        *diff_namespaces(old, new, old.rule_namespaces, new.rule_namespaces, "rule namespace"),
        *diff_namespaces(old, new, old.loki_rule_namespaces, new.loki_rule_namespaces, "Loki rule namespace"),
    ]


def diff_namespaces(
    old: Artifacts,
    new: Artifacts,
    old_namespaces: dict[str, list[dict[str, Any]]],
    new_namespaces: dict[str, list[dict[str, Any]]],
    kind: str,
) -> list[ObjectChange]:
    changes = []
    for namespace in sorted(old_namespaces.keys() | new_namespaces.keys()):
        in_old, in_new = namespace in old_namespaces, namespace in new_namespaces
        source = (new if in_new else old).sourcemap.get(f"namespace:{namespace}")
        old_groups = {str(g.get("name")): g for g in old_namespaces.get(namespace, [])}
        new_groups = {str(g.get("name")): g for g in new_namespaces.get(namespace, [])}
        details: list[Detail] = []
        for group in list(old_groups) + [g for g in new_groups if g not in old_groups]:
            if old_groups.get(group) != new_groups.get(group):
                details += group_details(group, old_groups.get(group), new_groups.get(group))
        if not details and in_old and in_new:
            continue
        status = CHANGED if in_old and in_new else ADDED if in_new else REMOVED
        changes.append(
            ObjectChange(
                kind=kind,
                key=namespace,
                title=namespace,
                status=status,
                details=tuple(details),
                source=source,
            )
        )
    return changes
