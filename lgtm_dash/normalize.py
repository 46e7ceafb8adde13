"""Bring desired (out/) and live (Grafana, Mimir) objects to one comparable form.

Used by `plan`/`publish` to decide create / update / unchanged, and by `diff --live` (through
`lgtm_dash.publish.export_live`) so both show the same differences. What is dropped and why:

- dashboards: `id`, `version`, `iteration` (server bookkeeping) and lgtm-dash's own publish marker; key
  order never matters.
- datasources: only the fields an API body sets (name, type, url, jsonData…) plus the keys the desired
  body carries; everything else the DTO adds (`id`, `version`, `readOnly`, `typeLogoUrl`, `apiVersion`,
  whatever a later Grafana adds) is ignored, and a field at the server's default (`user: ""`,
  `basicAuth: false`, `apiVersion: ""`…) counts as absent. `secureJsonData` values are compared by key
  only, because the server never returns secrets. (docs/server-contract.md, rows G-DS-GET and G-DS-LIST.)
- rule groups: exactly what Mimir stores (its `RuleGroupDesc`): durations in canonical form (`60s` →
  `1m`), zero durations and empty fields omitted, unknown keys dropped, and lgtm-dash's publish mark (a
  PromQL comment line in the first rule's expression) and trailing blank space of expressions left out.
- Alertmanager: the config string parsed and compared as a structure; templates by content.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from .durations import format_duration, parse_duration_ms
from .yamlio import load_yaml

# Datasources published by lgtm-dash carry this jsonData key, so `--prune` knows which ones it owns.
DATASOURCE_MARKER = "lgtmDashManaged"
# Grafana never returns secure fields, so publish also stores a fingerprint of their *sources* (the
# `${VAR}` names and non-secret literals such as the X-Scope-OrgID tenant): a changed tenant is then seen.
SECURE_FINGERPRINT = "lgtmDashSecureFingerprint"
# A digest of the settings as publish last wrote them (secure values by key only): a live datasource whose
# settings no longer match it was changed in Grafana since (drift). Never compared itself.
DATASOURCE_DIGEST = "lgtmDashDigest"
# Bookkeeping keys publish adds to jsonData; they are not part of a datasource's settings.
DATASOURCE_BOOKKEEPING_KEYS = (DATASOURCE_MARKER, SECURE_FINGERPRINT, DATASOURCE_DIGEST)
# Dashboards published by lgtm-dash carry this top-level key. Grafana stores the dashboard JSON as sent and
# returns it (contract rows G-DASH-SAVE, G-DASH-GET), so the key survives: it holds a digest of the
# content as published (a live copy whose content no longer matches it was changed by someone else), the
# uid it was published under (a copy saved under another uid — "Save as", an import — keeps the marker
# and the `lgtm-dash` tag, but is not lgtm-dash's), and the lgtm-dash folders above the dashboard (which
# is how `--prune` knows which folders it created: Grafana's folder API returns no description or other
# free field to mark them with, row G-FOLDER-GET).
DASHBOARD_MARKER = "lgtmDashPublished"
SECRET_SET = "<secret>"


def secure_fingerprint(provisioning_secure: Mapping[str, Any]) -> str:
    """A digest of secureJsonData as written in out/ (placeholders unexpanded: no secret goes into it)."""
    text = json.dumps(dict(sorted(provisioning_secure.items())), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_DASHBOARD_BOOKKEEPING = ("id", "version", "iteration", DASHBOARD_MARKER)
# The fields a datasource API body sets (UpdateDataSourceCommand); the DTO's other fields are the server's.
_DATASOURCE_FIELDS = frozenset(
    {
        "uid",
        "name",
        "type",
        "access",
        "url",
        "user",
        "database",
        "basicAuth",
        "basicAuthUser",
        "withCredentials",
        "isDefault",
        "jsonData",
        "secureJsonData",
        "secureJsonFields",
    }
)
# Datasource fields whose empty value is the server's default (the DTO always carries them).
_DATASOURCE_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "user": ("",),
    "database": ("",),
    "basicAuth": (False,),
    "basicAuthUser": ("",),
    "withCredentials": (False,),
    "isDefault": (False,),
    "jsonData": ({},),
    "access": ("proxy", ""),
    "url": ("",),
    "apiVersion": ("",),
}


def canonical_json(data: Any) -> str:
    """Key-order-free text of a JSON value, for equality and unified diffs."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


# --- dashboards ---------------------------------------------------------------------------------------


def normalize_dashboard(data: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard content lgtm-dash compares: without server bookkeeping or its own marker."""
    # Only top-level keys change, so a shallow copy leaves `data` untouched (a deep copy of every dashboard
    # was most of a no-op publish's CPU time).
    out = dict(data)
    for key in _DASHBOARD_BOOKKEEPING:
        out.pop(key, None)
    for key in ("uid", "title"):
        if isinstance(out.get(key), str):
            out[key] = out[key].strip()  # Grafana trims both on save
    return out


def dashboard_digest(data: Mapping[str, Any]) -> str:
    """A digest of a dashboard's content as compared (marker and bookkeeping left out)."""
    text = json.dumps(normalize_dashboard(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def mark_dashboard(data: Mapping[str, Any], folders: list[str]) -> dict[str, Any]:
    """`data` as publish sends it: the marker holds its digest, its uid and its lgtm-dash folder chain."""
    marked = dict(data)
    marked[DASHBOARD_MARKER] = {
        "digest": dashboard_digest(data),
        "folders": list(folders),
        "uid": str(data.get("uid") or "").strip(),
    }
    return marked


def dashboard_marker(data: Mapping[str, Any]) -> dict[str, Any] | None:
    marker = data.get(DASHBOARD_MARKER)
    return marker if isinstance(marker, dict) else None


def changed_since_publish(data: Mapping[str, Any]) -> bool:
    """True when the live dashboard is not exactly what lgtm-dash last published (or never was)."""
    marker = dashboard_marker(data)
    return marker is None or marker.get("digest") != dashboard_digest(data)


def owns_dashboard(data: Mapping[str, Any]) -> bool:
    """True when lgtm-dash published this very dashboard: its marker names its uid.

    The `lgtm-dash` tag proves nothing (anyone can add it, and a copy keeps it), nor does a marker
    copied along with the content. A marker from before markers named the uid counts only while the
    content still matches its digest.
    """
    marker = dashboard_marker(data)
    if marker is None:
        return False
    if "uid" in marker:
        return marker["uid"] == str(data.get("uid") or "").strip()
    return not changed_since_publish(data)


def marked_folders(data: Mapping[str, Any]) -> list[str]:
    """The lgtm-dash folders recorded in a live dashboard's marker (innermost first)."""
    marker = dashboard_marker(data) or {}
    return [str(uid) for uid in marker.get("folders") or [] if isinstance(uid, str)]


# --- datasources --------------------------------------------------------------------------------------


def normalize_datasource(
    entry: Mapping[str, Any], *, secure_keys: set[str] | None = None, also: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A datasource API body (desired) or DTO (live) in comparable form.

    Only the settable fields are kept, plus `also` (pass the desired body's keys when normalising the live
    DTO, so a field out/ sets is compared even where this list does not know it). Secure fields become
    `{"secureJsonData": {key: "<secret>"}}`; for a live DTO pass nothing and the keys are read from
    `secureJsonFields`.
    """
    keep = _DATASOURCE_FIELDS | also
    out = {k: copy.deepcopy(v) for k, v in entry.items() if k in keep}
    if secure_keys is None:
        secure_keys = set(out.pop("secureJsonData", {}) or {})
        secure_keys |= {k for k, v in (out.pop("secureJsonFields", {}) or {}).items() if v}
    else:
        out.pop("secureJsonData", None)
        out.pop("secureJsonFields", None)
    if isinstance(out.get("jsonData"), dict) and DATASOURCE_DIGEST in out["jsonData"]:
        out["jsonData"] = {k: v for k, v in out["jsonData"].items() if k != DATASOURCE_DIGEST}
    for key, defaults in _DATASOURCE_DEFAULTS.items():
        if key in out and (out[key] is None or out[key] in defaults):
            del out[key]
    if secure_keys:
        out["secureJsonData"] = {key: SECRET_SET for key in sorted(secure_keys)}
    return out


def datasource_digest(entry: Mapping[str, Any]) -> str:
    """A digest of a datasource's settable fields (an API body, or a live DTO), bookkeeping left out."""
    settings = normalize_datasource(entry)
    json_data = {
        k: v for k, v in (settings.get("jsonData") or {}).items() if k not in DATASOURCE_BOOKKEEPING_KEYS
    }
    settings.pop("jsonData", None)
    if json_data:
        settings["jsonData"] = json_data
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def datasource_drifted(live: Mapping[str, Any]) -> bool:
    """True when a live datasource's settings no longer match the digest publish stored with them."""
    stored = (live.get("jsonData") or {}).get(DATASOURCE_DIGEST)
    return isinstance(stored, str) and stored != datasource_digest(live)


def is_managed_datasource(dto: Mapping[str, Any]) -> bool:
    return bool((dto.get("jsonData") or {}).get(DATASOURCE_MARKER))


# --- folders ------------------------------------------------------------------------------------------


def normalize_folder(folder: Mapping[str, Any]) -> dict[str, Any]:
    out = {"uid": folder["uid"], "title": str(folder.get("title") or "").strip()}
    if folder.get("parentUid"):
        out["parentUid"] = folder["parentUid"]
    return out


# --- rule groups --------------------------------------------------------------------------------------


def canonical_duration(text: object) -> str | None:
    """Prometheus' canonical spelling (`60s` → `1m`, `90s` → `1m30s`); None for zero; as given when invalid
    (left for Mimir to reject)."""
    ms = parse_duration_ms(str(text).strip())
    if ms is None:
        return str(text)
    return format_duration(ms) if ms else None


_GROUP_DURATIONS = ("interval", "query_offset", "evaluation_delay")
_RULE_DURATIONS = ("for", "keep_firing_for")


def _normalize_rules(rules: Any, durations: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rules as a Cortex-derived ruler stores them: record (else alert), expr (without lgtm-dash's publish
    mark), the given durations when above 0, labels and annotations sorted, nothing else."""
    out = []
    for rule in rules or []:
        item: dict[str, Any] = {}
        if rule.get("record"):
            item["record"] = str(rule["record"])
        else:
            item["alert"] = str(rule.get("alert") or "")
        item["expr"] = strip_rule_mark(str(rule.get("expr") or ""))
        for key in durations:
            if rule.get(key) not in (None, ""):
                value = canonical_duration(rule[key])
                if value:
                    item[key] = value
        for key in ("labels", "annotations"):
            if rule.get(key):
                item[key] = {str(k): str(v) for k, v in sorted(rule[key].items())}
        out.append(item)
    return out


# The publish mark of a rule group. Neither Mimir nor Loki keeps an extra field of a group or rule (rows
# M-RULES-ROUNDTRIP, L-RULES-ROUNDTRIP) and every field they keep changes what the ruler does, except the
# text of an expression: it is stored and returned verbatim (rows M-RULES-EXPR-VERBATIM,
# L-RULES-EXPR-VERBATIM), and a `#` comment is skipped by both the PromQL and the LogQL lexer. So publish
# appends one comment line to the first rule's expression: `owner` ties the group to its namespace and name
# (a copy elsewhere is not lgtm-dash's), `digest` is its content as published, as the server stores it (a
# group whose content no longer matches it was changed in the server since: drift).
RULE_MARK_PREFIX = "# lgtm-dash-published"
_RULE_MARK = re.compile(
    r"^[ \t]*# lgtm-dash-published owner=(?P<owner>[0-9a-f]{12}) digest=(?P<digest>[0-9a-f]{24})[ \t]*$", re.M
)
# How a server stores a group (`normalize_rule_group` for Mimir, `normalize_loki_rule_group` for Loki).
GroupNormalizer = Callable[[Mapping[str, Any]], dict[str, Any]]


def strip_rule_mark(expr: str) -> str:
    """An expression without lgtm-dash's publish mark and without trailing blank space."""
    if RULE_MARK_PREFIX in expr:
        expr = _RULE_MARK.sub("", expr)
    return expr.rstrip()


def rule_group_owner(namespace: str, name: str) -> str:
    return hashlib.sha256(f"{namespace}\0{name}".encode()).hexdigest()[:12]


def rule_group_digest(group: Mapping[str, Any], normalize: GroupNormalizer) -> str:
    text = json.dumps(normalize(group), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def mark_rule_group(group: Mapping[str, Any], namespace: str, normalize: GroupNormalizer) -> dict[str, Any]:
    """`group` as publish sends it: its first rule's expression ends with the publish mark."""
    marked = dict(group)
    rules = [dict(rule) for rule in group.get("rules") or []]
    if rules:
        mark = (
            f"{RULE_MARK_PREFIX} owner={rule_group_owner(namespace, str(group.get('name') or ''))} "
            f"digest={rule_group_digest(group, normalize)}"
        )
        rules[0]["expr"] = f"{strip_rule_mark(str(rules[0].get('expr') or ''))}\n{mark}"
        marked["rules"] = rules
    return marked


def unmark_rule_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A live group as it was written before publish marked it (for import)."""
    unmarked = dict(group)
    rules = [dict(rule) for rule in group.get("rules") or []]
    if rules and RULE_MARK_PREFIX in str(rules[0].get("expr") or ""):
        rules[0]["expr"] = strip_rule_mark(str(rules[0]["expr"]))
        unmarked["rules"] = rules
    return unmarked


def rule_group_mark(group: Mapping[str, Any]) -> dict[str, str] | None:
    """`{"owner", "digest"}` from a live group's first rule, or None when it carries no mark."""
    rules = group.get("rules") or []
    found = _RULE_MARK.search(str(rules[0].get("expr") or "")) if rules else None
    return {"owner": found["owner"], "digest": found["digest"]} if found else None


def owns_rule_group(group: Mapping[str, Any], namespace: str) -> bool:
    """True when lgtm-dash published this group under this namespace and name."""
    mark = rule_group_mark(group)
    return mark is not None and mark["owner"] == rule_group_owner(namespace, str(group.get("name") or ""))


def rule_group_changed_since_publish(group: Mapping[str, Any], normalize: GroupNormalizer) -> bool:
    mark = rule_group_mark(group)
    return mark is None or mark["digest"] != rule_group_digest(group, normalize)


def normalize_rule_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A rule group as Mimir stores and returns it (publish mark left out)."""
    out: dict[str, Any] = {"name": str(group.get("name") or "")}
    for key in _GROUP_DURATIONS:
        if group.get(key) not in (None, ""):
            value = canonical_duration(group[key])
            if value:
                out[key] = value
    out["rules"] = _normalize_rules(group.get("rules"), _RULE_DURATIONS)
    if group.get("source_tenants"):
        out["source_tenants"] = [str(t) for t in group["source_tenants"]]
    if group.get("align_evaluation_time_on_interval"):
        out["align_evaluation_time_on_interval"] = True
    return out


def dropped_group_fields(group: Mapping[str, Any]) -> list[str]:
    """Keys of a desired group that Mimir would silently drop (so they would never take effect)."""
    known = {"name", "rules", "source_tenants", "align_evaluation_time_on_interval", *_GROUP_DURATIONS}
    return sorted(k for k, v in group.items() if k not in known and v not in (None, "", [], {}))


# What Loki's ruler keeps (rulespb.ToProto / FromProto, docs/server-contract.md L-RULES-ROUNDTRIP).
LOKI_GROUP_KEYS = frozenset({"name", "interval", "limit", "rules"})


def normalize_loki_rule_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A rule group as Loki's ruler stores and returns it: name, interval and limit when set; per rule
    record (else alert), expr, `for`, labels, annotations. No `keep_firing_for`, no Mimir group fields."""
    out: dict[str, Any] = {"name": str(group.get("name") or "")}
    interval = canonical_duration(group["interval"]) if group.get("interval") not in (None, "") else None
    if interval:
        out["interval"] = interval
    limit = group.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit:
        out["limit"] = limit
    out["rules"] = _normalize_rules(group.get("rules"), ("for",))
    return out


def dropped_loki_group_fields(group: Mapping[str, Any]) -> list[str]:
    """Keys of a desired group (and its rules) that Loki's ruler would silently drop."""
    dropped = [k for k, v in group.items() if k not in LOKI_GROUP_KEYS and v not in (None, "", [], {})]
    for rule in group.get("rules") or []:
        if isinstance(rule, Mapping) and rule.get("keep_firing_for") not in (None, ""):
            dropped.append(f"keep_firing_for ({rule.get('alert') or rule.get('record')})")
    return sorted(dropped)


# --- Alertmanager -------------------------------------------------------------------------------------

# Keys whose values are credentials in an Alertmanager config (masked in exported live state).
_ALERTMANAGER_SECRET_KEYS = frozenset(
    {
        "api_url",
        "slack_api_url",
        "url",
        "webhook_url",
        "password",
        "auth_password",
        "smtp_auth_password",
        "api_key",
        "routing_key",
        "service_key",
        "token",
        "bot_token",
        "user_key",
        "credentials",
        "client_secret",
        "api_secret",
    }
)


def normalize_alertmanager(body: Mapping[str, Any]) -> dict[str, Any]:
    """`{"template_files": {...}, "alertmanager_config": <parsed structure>}`."""
    raw = body.get("alertmanager_config") or ""
    try:
        config = load_yaml(raw) if isinstance(raw, str) else raw
    except yaml.YAMLError:
        config = raw  # compared as text; Mimir would have rejected it anyway
    templates = {str(k): str(v) for k, v in sorted((body.get("template_files") or {}).items())}
    return {"template_files": templates, "alertmanager_config": config if config is not None else {}}


def mask_alertmanager_secrets(value: Any, key: str = "") -> Any:
    """Replace credential values (Slack URLs, passwords, keys) with a marker, for showing live state."""
    if isinstance(value, Mapping):
        return {k: mask_alertmanager_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_alertmanager_secrets(v, key) for v in value]
    if key in _ALERTMANAGER_SECRET_KEYS and value not in (None, ""):
        return SECRET_SET
    return value
