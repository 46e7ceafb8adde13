"""Which server each query goes to, and how to reach it: directly with the environment's URL, tenant and
credentials, or (`--via-grafana`) through Grafana's datasource proxy with one Grafana credential.

A dashboard query goes to its target's datasource, else its panel's; `${datasource}`-style references go
to the datasource variable's current value, as Grafana does on load. Rule expressions go to the Mimir
tenant of the environment (the ruler evaluates them there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..clients.query import ApiTarget
from ..environments import DatasourceSettings, Environment
from ..errors import DefinitionError
from ..lint.context import LintContext, Query, datasource_variable_name

KIND_OF_LANGUAGE = {"promql": "prometheus", "logql": "loki", "sql": "mysql"}
RULER = "mimir-ruler"  # the pseudo-datasource of rule expressions
LOKI_RULER = "loki-ruler"  # the pseudo-datasource of Loki rule expressions without a Loki datasource
GRAFANA_PROXY = "/api/datasources/proxy/uid/{uid}"


def datasource_uid(query: Query, ctx: LintContext) -> str | None:
    """The uid of the datasource a query is sent to, or None when it cannot be told.

    A Mimir rule goes to the ruler's tenant; a Loki rule to the one Loki datasource Grafana is provisioned with
    (the Loki the ruler evaluates against), else to the environment's `loki:` address.
    """
    if query.rule is not None:
        if query.language != "logql":
            return RULER
        lokis = [
            uid
            for uid, ds in (ctx.datasources or {}).items()
            if ds.get("type") == "loki" and ds.get("uid") == uid
        ]
        return lokis[0] if len(lokis) == 1 else LOKI_RULER
    dash = query.dashboard
    ref: Any = None
    if query.origin == "panel" and query.panel is not None:
        for target in query.panel.data.get("targets") or []:
            if isinstance(target, Mapping) and str(target.get("refId") or "") == query.ref:
                ref = target.get("datasource")
                break
        uid = _uid(ref)
        if not uid or uid.lower() in ("-- mixed --", "mixed"):
            ref = query.panel.data.get("datasource")
    elif query.origin == "variable" and dash is not None:
        ref = next((v.get("datasource") for v in dash.templating if v.get("name") == query.ref), None)
    elif query.origin == "annotation" and dash is not None:
        for item in (dash.data.get("annotations") or {}).get("list") or []:
            if isinstance(item, Mapping) and str(item.get("name") or "") == query.ref:
                ref = item.get("datasource")
    uid = _uid(ref)
    if uid and dash is not None:
        variable = datasource_variable_name(uid)
        if variable is not None:
            uid = _datasource_variable_value(dash.templating, variable)
    if uid and ctx.datasources and uid in ctx.datasources:
        return str(ctx.datasources[uid].get("uid") or uid)  # a name resolves to its uid
    return uid or None


def _uid(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        ref = ref.get("uid")
    return ref if isinstance(ref, str) and ref else None


def _datasource_variable_value(templating: list[Mapping[str, Any]], name: str) -> str | None:
    for entry in templating:
        if entry.get("name") == name and entry.get("type") == "datasource":
            current = entry.get("current")
            current = current if isinstance(current, Mapping) else {}
            value = current.get("value")
            if isinstance(value, list):
                value = value[0] if value else None
            return str(value) if value else None
    return None


def _secret(settings: DatasourceSettings, which: str, environ: Mapping[str, str]) -> str | None:
    secret = getattr(settings, which)
    return environ.get(secret.env_var) or None if secret is not None else None


def direct_target(
    uid: str, kind: str, env: Environment, environ: Mapping[str, str] | None = None
) -> ApiTarget:
    """How to reach datasource `uid` of `env` without Grafana (raises DefinitionError when it has no settings)."""
    environ = os.environ if environ is None else environ
    if uid == LOKI_RULER:
        loki = env.loki
        if loki is None:
            raise DefinitionError(
                f"environment {env.name!r} has no Loki datasource or `loki:` section to check Loki rules against",
                env.location,
            )
        return ApiTarget(
            name=f"loki (tenant {loki.tenant})",
            kind="loki",
            base_url=loki.address.rstrip("/"),
            headers={"X-Scope-OrgID": loki.tenant},
            basic_auth=(loki.user or loki.tenant, loki.key) if loki.key else None,
            credential=loki.credential_name,
        )
    if uid == RULER:
        mimir = env.mimir
        prefix = mimir.ruler_prefix.strip("/")
        return ApiTarget(
            name=f"mimir (tenant {mimir.tenant})",
            kind="prometheus",
            base_url=mimir.address.rstrip("/") + (f"/{prefix}" if prefix else ""),
            headers={"X-Scope-OrgID": mimir.tenant},
            basic_auth=(mimir.user or mimir.tenant, mimir.key) if mimir.key else None,
            credential=mimir.credential_name,
        )
    settings = env.datasource(uid)
    headers = {"X-Scope-OrgID": settings.tenant} if settings.tenant and kind != "mysql" else {}
    if kind == "mysql":
        secret = settings.password
        return ApiTarget(
            name=uid, kind=kind, base_url=settings.url, database=settings.database, user=settings.user,
            password=_secret(settings, "password", environ),
            credential=f"{settings.user or 'the user'} / {secret.env_var if secret else 'the password'}",
        )  # fmt: skip
    password = _secret(settings, "basic_auth_password", environ)
    secret = settings.basic_auth_password
    return ApiTarget(
        name=uid, kind=kind, base_url=settings.url, headers=headers,
        basic_auth=(settings.basic_auth_user, password) if settings.basic_auth_user and password else None,
        credential=secret.env_var if secret else "the datasource's credentials",
    )  # fmt: skip


def grafana_target(uid: str, kind: str, env: Environment, ctx: LintContext) -> ApiTarget:
    """How to reach datasource `uid` through Grafana's datasource proxy (Grafana adds tenant and auth).

    Grafana proxies HTTP datasources only: a MySQL datasource is still read directly.
    """
    if kind == "mysql":
        return direct_target(uid, kind, env)
    if uid == LOKI_RULER:
        return direct_target(LOKI_RULER, kind, env)
    if uid == RULER:
        uid = _ruler_datasource(env) or uid
        if uid == RULER:
            return direct_target(RULER, kind, env)
    grafana = env.grafana
    bearer = grafana.token
    basic = (grafana.user, grafana.password) if not bearer and grafana.user and grafana.password else None
    return ApiTarget(
        name=uid,
        kind=kind,
        base_url=grafana.url.rstrip("/") + GRAFANA_PROXY.format(uid=uid),
        headers={"X-Grafana-Org-Id": str(grafana.org_id)},
        bearer=bearer,
        basic_auth=basic,
        credential=grafana.credential_name,
        via="grafana",
    )


def _ruler_datasource(env: Environment) -> str | None:
    """The Prometheus-type datasource that reads the ruler's tenant (same tenant), if any."""
    for uid, settings in sorted(env.datasources.items()):
        if settings.tenant == env.mimir.tenant and "/prometheus" in settings.url:
            return uid
    return None
