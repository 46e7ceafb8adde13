"""environments.yaml: where each environment's Grafana, Mimir, Loki and datasources live.

Only URLs, tenants and the *names* of credential variables are written there. The ecosystem's usual
variables override it at run time: GRAFANA_URL, GRAFANA_TOKEN (grafana-client), MIMIR_ADDRESS,
MIMIR_TENANT_ID, MIMIR_API_USER, MIMIR_API_KEY (mimirtool) and LOKI_ADDRESS, LOKI_TENANT_ID, LOKI_API_USER,
LOKI_API_KEY (lokitool).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DefinitionError
from .secrets import Secret
from .source import SourceLocation, display_path
from .yamlio import key_lines, load_yaml_file

ENVIRONMENTS_FILE = "environments.yaml"
DEFAULT_ENV = "dev"
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


def _expect_mapping(value: object, what: str, where: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DefinitionError(f"{what} must be a mapping", where)
    return value


def load_environments(project_root: Path) -> dict[str, Environment]:
    """Parse environments.yaml (no environment variables applied)."""
    path = project_root / ENVIRONMENTS_FILE
    shown = display_path(path)
    if not path.is_file():
        raise DefinitionError(f"{ENVIRONMENTS_FILE} not found in {project_root}", shown)
    data = load_yaml_file(path)
    lines = key_lines(path)

    def at(*keys: str) -> str:
        for i in range(len(keys), 0, -1):
            if keys[:i] in lines:
                return f"{shown}:{lines[keys[:i]]}"
        return f"{shown}:1"

    envs = _expect_mapping(_expect_mapping(data, "the file", at()).get("environments"), "environments", at())
    if not envs:
        raise DefinitionError(
            "no environments defined (expected `environments:` with at least one entry)", at()
        )
    result: dict[str, Environment] = {}
    for name, body in envs.items():
        body = _expect_mapping(body, f"environment {name!r}", at("environments", name))
        try:
            g = dict(_expect_mapping(body.get("grafana"), "grafana", at("environments", name, "grafana")))
            m = dict(_expect_mapping(body.get("mimir"), "mimir", at("environments", name, "mimir")))
            grafana = GrafanaTarget(
                url=str(g.pop("url")),
                org_id=int(g.pop("org_id", 1)),
                folder=str(g.pop("folder", "")),
                token_env=str(g.pop("token_env", "GRAFANA_TOKEN")),
                user_env=str(g.pop("user_env", "GRAFANA_USER")),
                password_env=str(g.pop("password_env", "GRAFANA_PASSWORD")),
            )
            mimir = MimirTarget(
                address=str(m.pop("address")),
                tenant=str(m.pop("tenant")),
                ruler_prefix=str(m.pop("ruler_prefix", "/prometheus")),
                user_env=str(m.pop("user_env", "MIMIR_API_USER")),
                key_env=str(m.pop("key_env", "MIMIR_API_KEY")),
                max_rule_groups=int(m.pop("max_rule_groups", MIMIR_DEFAULT_MAX_RULE_GROUPS)),
            )
            loki = None
            if body.get("loki") is not None:
                lk = dict(_expect_mapping(body.get("loki"), "loki", at("environments", name, "loki")))
                loki = LokiTarget(
                    address=str(lk.pop("address")),
                    tenant=str(lk.pop("tenant")),
                    user_env=str(lk.pop("user_env", "LOKI_API_USER")),
                    key_env=str(lk.pop("key_env", "LOKI_API_KEY")),
                    alertmanager_url=str(lk.pop("alertmanager_url", "")),
                    remote_write_url=str(lk.pop("remote_write_url", "")),
                    max_rule_groups=int(lk.pop("max_rule_groups", 0)),
                )
            else:
                lk = {}
            for section, rest in (("grafana", g), ("mimir", m), ("loki", lk)):
                if rest:
                    unknown = ", ".join(sorted(rest))
                    raise DefinitionError(
                        f"unknown key(s) {unknown}", at("environments", name, section, *rest)
                    )
            datasources: dict[str, DatasourceSettings] = {}
            ds_map = _expect_mapping(
                body.get("datasources"), "datasources", at("environments", name, "datasources")
            )
            for uid, ds in ds_map.items():
                where = at("environments", name, "datasources", uid)
                ds = dict(_expect_mapping(ds, f"datasource {uid!r}", where))
                password_env = ds.pop("password_env", None)
                basic_password_env = ds.pop("basic_auth_password_env", None)
                settings = DatasourceSettings(
                    url=str(ds.pop("url")),
                    tenant=_opt_str(ds.pop("tenant", None)),
                    user=_opt_str(ds.pop("user", None)),
                    database=_opt_str(ds.pop("database", None)),
                    password=Secret(password_env) if password_env else None,
                    basic_auth_user=_opt_str(ds.pop("basic_auth_user", None)),
                    basic_auth_password=Secret(basic_password_env) if basic_password_env else None,
                    location=SourceLocation.parse(where),
                )
                if ds:
                    raise DefinitionError(f"unknown key(s) {', '.join(sorted(ds))}", where)
                datasources[str(uid)] = settings
        except KeyError as missing:
            raise DefinitionError(
                f"environment {name!r} is missing {missing.args[0]!r}", at("environments", name)
            ) from None
        except (TypeError, ValueError) as err:
            raise DefinitionError(f"environment {name!r}: {err}", at("environments", name)) from None
        result[str(name)] = Environment(
            name=str(name),
            grafana=grafana,
            mimir=mimir,
            datasources=datasources,
            location=SourceLocation.parse(at("environments", name)),
            loki=loki,
        )
    return result


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


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
        url=env_vars.get("GRAFANA_URL") or g.url,
        org_id=int(env_vars.get("GRAFANA_ORG_ID") or g.org_id),
        folder=g.folder,
        token_env=g.token_env,
        user_env=g.user_env,
        password_env=g.password_env,
        token=env_vars.get(g.token_env) or env_vars.get("GRAFANA_TOKEN") or None,
        user=env_vars.get(g.user_env) or None,
        password=env_vars.get(g.password_env) or None,
    )
    mimir = MimirTarget(
        address=env_vars.get("MIMIR_ADDRESS") or m.address,
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
    address = env_vars.get("LOKI_ADDRESS") or (loki.address if loki else "")
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
