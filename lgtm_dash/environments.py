"""environments.yaml: where each environment's Grafana, Mimir, Loki and datasources live.

Only URLs, tenants and the *names* of credential variables are written there. The ecosystem's usual
variables override it at run time: GRAFANA_URL, GRAFANA_TOKEN (grafana-client), MIMIR_ADDRESS,
MIMIR_TENANT_ID, MIMIR_API_USER, MIMIR_API_KEY (mimirtool) and LOKI_ADDRESS, LOKI_TENANT_ID, LOKI_API_USER,
LOKI_API_KEY (lokitool).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import DefinitionError
from .secrets import Secret
from .source import SourceLocation, display_path
from .yamlio import key_lines, load_yaml_file

ENVIRONMENTS_FILE = "environments.yaml"
DEFAULT_ENV = "dev"  # also the environment of the committed out/ (artifacts.COMMITTED_ENV)
# Mimir's default `-ruler.max-rule-groups-per-tenant` (docs/server-contract.md, row M-RULES-LIMIT).
MIMIR_DEFAULT_MAX_RULE_GROUPS = 70


@dataclass(frozen=True)
class GrafanaTarget:
    url: str
    org_id: int = 1
    folder: str = ""  # default folder uid for dashboards that name none
    token_env: str = "GRAFANA_TOKEN"
    user_env: str = "GRAFANA_USER"
    password_env: str = "GRAFANA_PASSWORD"
    token: str | None = field(default=None, repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def credential_name(self) -> str:
        """The variable(s) a user should check when Grafana says 401/403."""
        return self.token_env if self.token or not self.user else f"{self.user_env}/{self.password_env}"


@dataclass(frozen=True)
class MimirTarget:
    address: str
    tenant: str
    ruler_prefix: str = "/prometheus"
    user_env: str = "MIMIR_API_USER"
    key_env: str = "MIMIR_API_KEY"
    user: str | None = None
    key: str | None = field(default=None, repr=False)
    # The tenant's rule-group limit, so a publish that would pass it is caught before writing (0: none).
    max_rule_groups: int = MIMIR_DEFAULT_MAX_RULE_GROUPS

    @property
    def credential_name(self) -> str:
        return f"{self.user_env}/{self.key_env}"


@dataclass(frozen=True)
class LokiTarget:
    """Loki's ruler API (publish), and where the Loki ruler itself sends alerts and recorded series (Helm values:
    in-cluster addresses of the Mimir Alertmanager and of Mimir's remote-write endpoint)."""

    address: str
    tenant: str
    user_env: str = "LOKI_API_USER"
    key_env: str = "LOKI_API_KEY"
    alertmanager_url: str = ""
    remote_write_url: str = ""
    max_rule_groups: int = 0  # the tenant's ruler_max_rule_groups_per_tenant (Loki's default 0: no limit)
    user: str | None = None
    key: str | None = field(default=None, repr=False)

    @property
    def credential_name(self) -> str:
        return f"{self.user_env}/{self.key_env}"


@dataclass(frozen=True)
class DatasourceSettings:
    """Per-environment facts of one datasource, keyed by its pinned UID."""

    url: str
    tenant: str | None = None
    user: str | None = None
    database: str | None = None
    password: Secret | None = None
    basic_auth_user: str | None = None
    basic_auth_password: Secret | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Environment:
    name: str
    grafana: GrafanaTarget
    mimir: MimirTarget
    datasources: Mapping[str, DatasourceSettings]
    location: SourceLocation
    loki: LokiTarget | None = None  # None: the environment has no `loki:` section (and LOKI_ADDRESS is unset)

    def datasource(self, uid: str, where: object = None) -> DatasourceSettings:
        try:
            return self.datasources[uid]
        except KeyError:
            raise DefinitionError(
                f"environment {self.name!r} has no settings for datasource {uid!r} "
                f"(add environments.{self.name}.datasources.{uid} to {ENVIRONMENTS_FILE})",
                where or self.location,
            ) from None

    def secret_variables(self) -> set[str]:
        """Every environment variable this environment treats as a secret."""
        names = {self.grafana.token_env, self.grafana.password_env, self.mimir.key_env}
        if self.loki is not None:
            names.add(self.loki.key_env)
        for ds in self.datasources.values():
            names |= {s.env_var for s in (ds.password, ds.basic_auth_password) if s}
        return names


class _Section:
    """One mapping of environments.yaml, read key by key; every error names the full key and its line."""

    def __init__(self, value: object, keys: tuple[str, ...], at: Callable[..., str]):
        self.keys, self.at = keys, at
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise DefinitionError(f"{self.name()} must be a mapping", at(*keys))
        self.rest = {str(k): v for k, v in value.items()}

    def name(self, *more: str) -> str:
        return ".".join((*self.keys, *more))

    def section(self, key: str) -> _Section:
        return _Section(self.rest.pop(key, None), (*self.keys, key), self.at)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.rest.pop(key, None)
        if value is None:  # absent, or written empty (`tenant:`)
            if required:
                raise DefinitionError(f"{self.name(key)} is missing", self.at(*self.keys))
            return default
        if isinstance(value, (Mapping, list)):
            raise DefinitionError(f"{self.name(key)} must be a single value", self.at(*self.keys, key))
        return str(value)

    def required(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.rest.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise DefinitionError(
                f"{self.name(key)} must be a whole number, got {value!r}", self.at(*self.keys, key)
            )
        self.rest.pop(key, None)
        return int(value)

    def done(self) -> None:
        """Every key was read: anything left is unknown (a typo would otherwise be ignored)."""
        if self.rest:
            first = next(iter(self.rest))
            names = ", ".join(self.name(k) for k in self.rest)
            raise DefinitionError(f"unknown key(s) {names}", self.at(*self.keys, first))


def load_environments(project_root: Path) -> dict[str, Environment]:
    """Parse environments.yaml (no environment variables applied)."""
    path = project_root / ENVIRONMENTS_FILE
    shown = display_path(path)
    if not path.is_file():
        raise DefinitionError(
            f"not found in the project root {project_root}: run lgtm-dash inside a project (the root is the "
            f"nearest directory above holding {ENVIRONMENTS_FILE}) or pass --project DIR",
            shown,
        )
    data = load_yaml_file(path)
    lines = key_lines(path)

    def at(*keys: str) -> str:
        for i in range(len(keys), 0, -1):
            if keys[:i] in lines:
                return f"{shown}:{lines[keys[:i]]}"
        return f"{shown}:1"

    top = _Section(data, (), at)
    envs = top.section("environments")
    if not envs.rest:
        raise DefinitionError(
            "no environments defined (expected `environments:` with at least one entry)", at()
        )
    result: dict[str, Environment] = {}
    for name in list(envs.rest):
        body = envs.section(name)
        g, m = body.section("grafana"), body.section("mimir")
        grafana = GrafanaTarget(
            url=_http_url(g.required("url"), g.name("url"), at(*g.keys, "url")),
            org_id=g.integer("org_id", 1),
            folder=g.text("folder", "") or "",
            token_env=g.text("token_env", "GRAFANA_TOKEN") or "GRAFANA_TOKEN",
            user_env=g.text("user_env", "GRAFANA_USER") or "GRAFANA_USER",
            password_env=g.text("password_env", "GRAFANA_PASSWORD") or "GRAFANA_PASSWORD",
        )
        mimir = MimirTarget(
            address=_http_url(m.required("address"), m.name("address"), at(*m.keys, "address")),
            tenant=m.required("tenant"),
            ruler_prefix=m.text("ruler_prefix", "/prometheus") or "",
            user_env=m.text("user_env", "MIMIR_API_USER") or "MIMIR_API_USER",
            key_env=m.text("key_env", "MIMIR_API_KEY") or "MIMIR_API_KEY",
            max_rule_groups=m.integer("max_rule_groups", MIMIR_DEFAULT_MAX_RULE_GROUPS),
        )
        g.done()
        m.done()
        datasources: dict[str, DatasourceSettings] = {}
        ds_map = body.section("datasources")
        for uid in list(ds_map.rest):
            ds = ds_map.section(uid)
            password_env = ds.text("password_env")
            basic_password_env = ds.text("basic_auth_password_env")
            datasources[uid] = DatasourceSettings(
                url=ds.required("url"),
                tenant=ds.text("tenant"),
                user=ds.text("user"),
                database=ds.text("database"),
                password=Secret(password_env) if password_env else None,
                basic_auth_user=ds.text("basic_auth_user"),
                basic_auth_password=Secret(basic_password_env) if basic_password_env else None,
                location=SourceLocation.parse(at(*ds.keys)),
            )
            ds.done()
        loki = None
        if body.rest.get("loki") is not None:
            lk = body.section("loki")
            loki = LokiTarget(
                address=_http_url(lk.required("address"), lk.name("address"), at(*lk.keys, "address")),
                tenant=lk.required("tenant"),
                user_env=lk.text("user_env", "LOKI_API_USER") or "LOKI_API_USER",
                key_env=lk.text("key_env", "LOKI_API_KEY") or "LOKI_API_KEY",
                alertmanager_url=lk.text("alertmanager_url", "") or "",
                remote_write_url=lk.text("remote_write_url", "") or "",
                max_rule_groups=lk.integer("max_rule_groups", 0),
            )
            lk.done()
        body.rest.pop("loki", None)  # `loki:` with nothing under it: no Loki ruler
        body.done()
        result[name] = Environment(
            name=name,
            grafana=grafana,
            mimir=mimir,
            datasources=datasources,
            location=SourceLocation.parse(at(*body.keys)),
            loki=loki,
        )
    return result


def _http_url(value: str, what: str, where: str | None = None) -> str:
    """`value` when it is an http(s) URL with a host; bad input naming `what` otherwise."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as err:
        raise DefinitionError(
            f"{what} is not a valid URL ({err}): {_without_credentials(value)!r}", where
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DefinitionError(
            f"{what} must be an http(s) URL with a host, like http://localhost:{9009 if 'mimir' in what.lower() else 3000}, "
            f"got {_without_credentials(value)!r}",
            where,
        )
    return value


def _org_id(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise DefinitionError(f"GRAFANA_ORG_ID must be a whole number, got {value!r}")
    return int(value)


def _without_credentials(url: str) -> str:
    """A URL as it may be shown: `user:password@` removed (someone may have pasted credentials into it)."""
    return re.sub(r"//[^/@]*@", "//<credentials>@", url)


def resolve_environment(
    project_root: Path, name: str | None, environ: Mapping[str, str] | None = None
) -> Environment:
    """The named environment with the ecosystem's environment variables applied on top."""
    env_vars = os.environ if environ is None else environ
    envs = load_environments(project_root)
    name = name or DEFAULT_ENV
    if name not in envs:
        known = ", ".join(sorted(envs))
        raise DefinitionError(
            f"unknown environment {name!r} (known: {known})", display_path(project_root / ENVIRONMENTS_FILE)
        )
    env = envs[name]
    g, m = env.grafana, env.mimir
    grafana = GrafanaTarget(
        url=_http_url(env_vars["GRAFANA_URL"], "GRAFANA_URL") if env_vars.get("GRAFANA_URL") else g.url,
        org_id=_org_id(env_vars.get("GRAFANA_ORG_ID")) or g.org_id,
        folder=g.folder,
        token_env=g.token_env,
        user_env=g.user_env,
        password_env=g.password_env,
        token=env_vars.get(g.token_env) or env_vars.get("GRAFANA_TOKEN") or None,
        user=env_vars.get(g.user_env) or None,
        password=env_vars.get(g.password_env) or None,
    )
    mimir = MimirTarget(
        address=_http_url(env_vars["MIMIR_ADDRESS"], "MIMIR_ADDRESS")
        if env_vars.get("MIMIR_ADDRESS")
        else m.address,
        tenant=env_vars.get("MIMIR_TENANT_ID") or m.tenant,
        ruler_prefix=m.ruler_prefix,
        user_env=m.user_env,
        key_env=m.key_env,
        user=env_vars.get(m.user_env) or env_vars.get("MIMIR_API_USER") or None,
        key=env_vars.get(m.key_env) or env_vars.get("MIMIR_API_KEY") or None,
        max_rule_groups=m.max_rule_groups,
    )
    return Environment(
        name=name,
        grafana=grafana,
        mimir=mimir,
        datasources=env.datasources,
        location=env.location,
        loki=_resolve_loki(env.loki, env_vars),
    )


def _resolve_loki(loki: LokiTarget | None, env_vars: Mapping[str, str]) -> LokiTarget | None:
    """The `loki:` section with lokitool's variables on top; from the variables alone when there is none."""
    override = env_vars.get("LOKI_ADDRESS")
    address = _http_url(override, "LOKI_ADDRESS") if override else (loki.address if loki else "")
    if not address:
        return None
    base = loki or LokiTarget(address=address, tenant="")
    return LokiTarget(
        address=address,
        tenant=env_vars.get("LOKI_TENANT_ID") or base.tenant,
        user_env=base.user_env,
        key_env=base.key_env,
        alertmanager_url=base.alertmanager_url,
        remote_write_url=base.remote_write_url,
        max_rule_groups=base.max_rule_groups,
        user=env_vars.get(base.user_env) or env_vars.get("LOKI_API_USER") or None,
        key=env_vars.get(base.key_env) or env_vars.get("LOKI_API_KEY") or None,
    )
