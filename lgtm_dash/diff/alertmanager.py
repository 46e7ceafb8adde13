"""Alertmanager: routes (identified by their matcher path), receivers, inhibit rules and templates.

Receivers hold credentials: a `${VAR}` placeholder is shown, any literal URL or credential is <redacted>.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import yaml

from ..artifacts import ALERTMANAGER, ALERTMANAGER_CONFIG_SHAPE, Artifacts, check_shape
from ..errors import DefinitionError
from ..yamlio import load_yaml
from .report import ADDED, CHANGED, MOVED, REMOVED, Detail, ObjectChange
from .values import field_details, mask_secrets, match_by, value_detail

# Compared part by part below; every other top-level key (global, time_intervals, templates) field by field.
STRUCTURED_KEYS = ("route", "receivers", "inhibit_rules")
mask_receiver = partial(mask_secrets, urls_too=True)


def parse_config(arts: Artifacts) -> tuple[dict[str, Any], dict[str, str]]:
    """(alertmanager_config parsed, template_files) of an out/ tree; empty when it has none."""
    body = arts.alertmanager or {}
    text = body.get("alertmanager_config") or ""
    path = arts.root / ALERTMANAGER
    try:
        config = (load_yaml(text) if isinstance(text, str) else text) or {}
    except yaml.YAMLError as err:
        raise DefinitionError(f"alertmanager_config is not valid YAML: {err}", path) from None
    check_shape(config, ALERTMANAGER_CONFIG_SHAPE, path, "alertmanager_config")
    assert isinstance(config, dict)  # check_shape refused anything else
    return config, dict(body.get("template_files") or {})


def matchers_text(route: dict[str, Any]) -> str:
    matchers = [str(m) for m in route.get("matchers") or []]
    matchers += [f'{k}="{v}"' for k, v in sorted((route.get("match") or {}).items())]
    matchers += [f'{k}=~"{v}"' for k, v in sorted((route.get("match_re") or {}).items())]
    return "{" + ", ".join(matchers) + "}"


def flatten_routes(route: dict[str, Any], path: str = "root") -> list[tuple[str, int, dict[str, Any]]]:
    """(matcher path, position among siblings, route without children) for the whole tree."""
    flat = [(path, 0, {k: v for k, v in route.items() if k != "routes"})]
    siblings: dict[str, int] = {}
    for position, child in enumerate(route.get("routes") or []):
        child_path = f"{path} > {matchers_text(child)}"
        siblings[child_path] = siblings.get(child_path, 0) + 1
        if siblings[child_path] > 1:  # same matchers twice: tell them apart by receiver, then count
            child_path += f" → {child.get('receiver', '?')}" + (
                f" #{siblings[child_path]}" if siblings[child_path] > 2 else ""
            )
        for sub_path, sub_position, sub in flatten_routes(child, child_path):
            flat.append((sub_path, position if sub_path == child_path else sub_position, sub))
    return flat


def route_details(old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    old_by = {p: (pos, r) for p, pos, r in flatten_routes(old.get("route") or {})} if old.get("route") else {}
    new_by = {p: (pos, r) for p, pos, r in flatten_routes(new.get("route") or {})} if new.get("route") else {}
    details: list[Detail] = []
    for path in list(old_by) + [p for p in new_by if p not in old_by]:
        a, b = old_by.get(path), new_by.get(path)
        if a == b:
            continue
        if a is None or b is None:
            route = (b or old_by[path])[1]  # the side that has it
            details.append(
                Detail(
                    change=ADDED if a is None else REMOVED,
                    scope="route",
                    name=path,
                    old=f"receiver {route.get('receiver')}" if b is None else None,
                    new=f"receiver {route.get('receiver')}" if a is None else None,
                )
            )
            continue
        if a[0] != b[0]:  # order decides which route matches first
            details.append(
                Detail(
                    change=MOVED,
                    scope="route",
                    name=path,
                    field="position",
                    old=str(a[0] + 1),
                    new=str(b[0] + 1),
                )
            )
        details += field_details(a[1], b[1], scope="route", name=path)
    return details


def receiver_details(old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    old_by = match_by(old.get("receivers") or [], lambda r: str(r.get("name")))
    new_by = match_by(new.get("receivers") or [], lambda r: str(r.get("name")))
    details: list[Detail] = []
    for name in list(old_by) + [n for n in new_by if n not in old_by]:
        a, b = old_by.get(name), new_by.get(name)
        if a == b:
            continue
        if a is None or b is None:
            kinds = ", ".join(k for k in (b or a or {}) if k != "name")
            details.append(
                Detail(
                    change=ADDED if a is None else REMOVED,
                    scope="receiver",
                    name=name,
                    old=kinds if b is None else None,
                    new=kinds if a is None else None,
                )
            )
            continue
        details += field_details(
            integrations(a), integrations(b), scope="receiver", name=name, masker=mask_receiver
        )
    return details


def integrations(receiver: dict[str, Any]) -> dict[str, Any]:
    """A receiver with its integration lists spelled as mappings (slack_configs.0.channel) to compare fields."""
    return {
        key: {str(i): item for i, item in enumerate(value)} if isinstance(value, list) else value
        for key, value in receiver.items()
        if key != "name"
    }


def inhibition_key(rule: dict[str, Any]) -> str:
    def side(prefix: str) -> str:
        return matchers_text(
            {
                "matchers": rule.get(f"{prefix}_matchers"),
                "match": rule.get(f"{prefix}_match"),
                "match_re": rule.get(f"{prefix}_match_re"),
            }
        )

    return f"{side('source')} mutes {side('target')}"


def inhibition_details(old: dict[str, Any], new: dict[str, Any]) -> list[Detail]:
    old_by = match_by(old.get("inhibit_rules") or [], inhibition_key)
    new_by = match_by(new.get("inhibit_rules") or [], inhibition_key)
    details: list[Detail] = []
    for key in list(old_by) + [k for k in new_by if k not in old_by]:
        a, b = old_by.get(key), new_by.get(key)
        if a == b:
            continue
        if a is None or b is None:
            equal = (b or a or {}).get("equal")
            text = f"equal {equal}" if equal else None
            details.append(
                Detail(
                    change=ADDED if a is None else REMOVED,
                    scope="inhibit rule",
                    name=key,
                    old=text if b is None else None,
                    new=text if a is None else None,
                )
            )
            continue
        details += field_details(a, b, scope="inhibit rule", name=key)
    return details


def template_details(old: dict[str, str], new: dict[str, str]) -> list[Detail]:
    details: list[Detail] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if a is None or b is None:
            details.append(Detail(change=ADDED if a is None else REMOVED, scope="template", name=name))
            continue
        details.append(value_detail("template", name, "text", a, b, always_diff=True))
    return details


def diff_alertmanager(old: Artifacts, new: Artifacts) -> list[ObjectChange]:
    if old.alertmanager is None and new.alertmanager is None:
        return []
    source = (new if new.alertmanager is not None else old).sourcemap.get("alertmanager")
    if old.alertmanager is None or new.alertmanager is None:
        status = ADDED if old.alertmanager is None else REMOVED
        return [
            ObjectChange(
                kind="alertmanager", key="alertmanager", title="Alertmanager", status=status, source=source
            )
        ]
    (old_config, old_templates), (new_config, new_templates) = parse_config(old), parse_config(new)
    details = route_details(old_config, new_config)
    details += receiver_details(old_config, new_config)
    details += inhibition_details(old_config, new_config)
    details += template_details(old_templates, new_templates)
    details += field_details(
        {k: v for k, v in old_config.items() if k not in STRUCTURED_KEYS},
        {k: v for k, v in new_config.items() if k not in STRUCTURED_KEYS},
        masker=mask_receiver,
    )
    if not details:
        return []
    return [
        ObjectChange(
            kind="alertmanager",
            key="alertmanager",
            title="Alertmanager",
            status=CHANGED,
            details=tuple(details),
            source=source,
        )
    ]
