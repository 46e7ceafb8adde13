"""Alertmanager configuration as code: routes, receivers (Slack), inhibit rules and templates.

Compiled to the body of Mimir's `POST /api/v1/alerts` (`template_files` + `alertmanager_config` as a string) and
to a mimir-distributed Helm values fragment (`alertmanager.fallbackConfig`). Checked at build the way Mimir's
API checks it (`mimir_config_errors`): no `*_file` secrets, plain template basenames, templates that parse.

Secrets: a `Secret` is written as its `${VAR}` placeholder (filled from the environment at publish); only the
Helm fallback, which is a file Mimir reads from disk, refers to it as a mounted file (`api_url_file`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DefinitionError
from ..gotemplate import (
    ALERTMANAGER_FUNCTIONS,
    ParsedTemplate,
    TemplateDefine,
    TemplateError,
    scan_template,
    template_calls,
)
from ..secrets import Secret
from ..source import SourceLocation, caller_location
from ..yamlio import dump_yaml

# --- Mimir's validation (pkg/alertmanager/api.go validateAlertmanagerConfig / validateUserConfig) --------

# Secret-file fields Mimir's API rejects wherever they appear (the server has no files of a tenant).
FORBIDDEN_FILE_FIELDS = frozenset(
    {
        "password_file",
        "bearer_token_file",
        "credentials_file",
        "smtp_auth_password_file",
        "auth_password_file",
        "client_secret_file",
        "api_url_file",
        "slack_api_url_file",
        "api_key_file",
        "victorops_api_key_file",
        "opsgenie_api_key_file",
        "service_key_file",
        "routing_key_file",
        "user_key_file",
        "token_file",
        "bot_token_file",
        "url_file",
        "webhook_url_file",
    }
)
FORBIDDEN_TLS_FIELDS = frozenset({"ca_file", "cert_file", "key_file", "ca", "cert", "key"})
FORBIDDEN_OAUTH2_FIELDS = frozenset({"proxy_url", "proxy_from_environment"})

_MATCHER = re.compile(r'^\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*$')


def _is_builtin_template(name: str) -> bool:
    """Templates Alertmanager's default.tmpl defines (`__subject`, `slack.default.title`...)."""
    return name.startswith("__") or ".default." in name


def parse_template(text: str, where: str = "template") -> ParsedTemplate:
    """Check Go template structure (`gotemplate.scan_template`) and list defines and calls.

    A structural check, not Go's full parser: unbalanced `{{ }}`, a stray `end`/`else`, an unclosed
    `if`/`range`/`with`/`define`/`block`, or a function Alertmanager does not define (Mimir's API parses
    template files with Alertmanager's functions and refuses the config) is a DefinitionError naming
    `where:line`.
    """
    try:
        return scan_template(text, functions=ALERTMANAGER_FUNCTIONS)
    except TemplateError as err:
        raise DefinitionError(err.message, f"{where}:{err.line}") from None


def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield (*path, str(key)), str(key)
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, str(i)))


def mimir_config_errors(config: Mapping[str, Any], template_files: Mapping[str, str]) -> list[str]:
    """What Mimir's `POST /api/v1/alerts` would reject in this config, one message per problem."""
    errors: list[str] = []
    for path, key in _walk(config):
        parent = path[-2] if len(path) > 1 else ""
        if (
            key in FORBIDDEN_FILE_FIELDS
            or (parent == "tls_config" and key in FORBIDDEN_TLS_FIELDS)
            or (parent == "oauth2" and key in FORBIDDEN_OAUTH2_FIELDS)
        ):
            errors.append(
                f"{'.'.join(path)}: Mimir does not allow {key!r} (use an inline value from the environment)"
            )
    listed = [str(t) for t in config.get("templates") or []]
    for name in [*listed, *template_files]:
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            errors.append(f'invalid template name "{name}": the template name cannot contain any path')
    for name in listed:
        if name not in template_files:
            errors.append(f"template {name!r} is listed under templates: but not given in template_files")
    defined: set[str] = set()
    called: set[str] = set()
    for name, text in sorted(template_files.items()):
        try:
            parsed = parse_template(text, name)
        except DefinitionError as err:
            errors.append(str(err))
            continue
        defined |= {d.name for d in parsed.defines}
        called |= parsed.calls
    called |= {m for _, text in _strings(config) for m in template_calls(text)}
    for name in sorted(called - defined):
        if not _is_builtin_template(name):
            errors.append(f'template "{name}" is used but no template file defines it')
    receivers = [r.get("name") for r in config.get("receivers") or []]
    duplicates = sorted({n for n in receivers if receivers.count(n) > 1})
    errors += [f"receiver {n!r} is defined more than once" for n in duplicates]
    for route_receiver in _route_receivers(config.get("route") or {}):
        if route_receiver not in receivers:
            errors.append(f"route refers to undefined receiver {route_receiver!r}")
    if not config.get("route", {}).get("receiver"):
        errors.append("the root route needs a receiver")
    return errors


def _strings(value: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield (), value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _route_receivers(route: Mapping[str, Any]) -> Iterator[str]:
    if route.get("receiver"):
        yield route["receiver"]
    for child in route.get("routes") or []:
        yield from _route_receivers(child)


# --- the model ---------------------------------------------------------------------------------------------


def _secret_or_text(value: Secret | str, secrets_dir: str | None) -> tuple[str, str]:
    """(key suffix, value): a placeholder for the API, a mounted file for the Helm fallback."""
    if isinstance(value, Secret):
        if secrets_dir is not None:
            return "_file", f"{secrets_dir.rstrip('/')}/{value.env_var}"
        return "", value.placeholder
    return "", value


@dataclass(frozen=True)
class SlackAction:
    """A Slack message button (Alertmanager `actions`)."""

    text: str
    url: str
    style: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"type": "button", "text": self.text, "url": self.url}
        if self.style:
            data["style"] = self.style
        return data


@dataclass(frozen=True)
class SlackConfig:
    """One `slack_configs` entry, limited to fields both Alertmanager 0.25 and Mimir's fork accept."""

    channel: str
    api_url: Secret | str
    title: str | None = None
    title_link: str | None = None
    text: str | None = None
    color: str | None = None
    fallback: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    actions: tuple[SlackAction, ...] = ()
    send_resolved: bool = True

    def to_dict(self, secrets_dir: str | None = None) -> dict[str, Any]:
        suffix, url = _secret_or_text(self.api_url, secrets_dir)
        data: dict[str, Any] = {
            "send_resolved": self.send_resolved,
            f"api_url{suffix}": url,
            "channel": self.channel,
        }
        for key in ("username", "icon_emoji", "color", "title", "title_link", "text", "fallback"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.actions:
            data["actions"] = [a.to_dict() for a in self.actions]
        return data


@dataclass(frozen=True)
class Receiver:
    """A named notification target; with no configs it silently drops what reaches it."""

    name: str
    slack_configs: tuple[SlackConfig, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def to_dict(self, secrets_dir: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.slack_configs:
            data["slack_configs"] = [c.to_dict(secrets_dir) for c in self.slack_configs]
        return data


TIMING_FIELDS = ("group_wait", "group_interval", "repeat_interval")


@dataclass(frozen=True)
class Route:
    """A routing node; `matchers` are Alertmanager matcher strings like `severity="critical"`."""

    receiver: str | None = None
    matchers: tuple[str, ...] = ()
    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool = False
    routes: tuple[Route, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        for matcher in self.matchers:
            if not _MATCHER.match(matcher):
                raise DefinitionError(
                    f'invalid matcher {matcher!r} (expected name="value", !=, =~ or !~)', self.location
                )

    @property
    def label(self) -> str:
        return "{" + ", ".join(self.matchers) + "}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.receiver:
            data["receiver"] = self.receiver
        if self.matchers:
            data["matchers"] = list(self.matchers)
        if self.group_by is not None:
            data["group_by"] = list(self.group_by)
        for key in TIMING_FIELDS:
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.continue_:
            data["continue"] = True
        if self.routes:
            data["routes"] = [r.to_dict() for r in self.routes]
        return data

    def walk(self, path: str = "root") -> Iterator[tuple[str, Route]]:
        """(path, route) for the whole tree; paths read `root > {severity="critical"}`."""
        yield path, self
        for child in self.routes:
            yield from child.walk(f"{path} > {child.label}")

    def with_timings(self, timings: Mapping[str, str], *, root: bool = True) -> Route:
        """This tree with other timings: set on the root, replaced wherever a child route sets its own."""
        changes: dict[str, Any] = {k: v for k, v in timings.items() if root or getattr(self, k)}
        return replace(
            self, **changes, routes=tuple(r.with_timings(timings, root=False) for r in self.routes)
        )


@dataclass(frozen=True)
class InhibitRule:
    source_matchers: tuple[str, ...]
    target_matchers: tuple[str, ...]
    equal: tuple[str, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        for matcher in (*self.source_matchers, *self.target_matchers):
            if not _MATCHER.match(matcher):
                raise DefinitionError(f"invalid matcher {matcher!r} in an inhibit rule", self.location)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source_matchers": list(self.source_matchers),
            "target_matchers": list(self.target_matchers),
        }
        if self.equal:
            data["equal"] = list(self.equal)
        return data


@dataclass(frozen=True)
class RoutingCase:
    """A routing unit test: an alert with these `labels` reaches exactly `receivers`, in order.

    Run with the real `amtool config routes test` by `lgtm-dash test`; `name` says why the case exists.
    """

    labels: Mapping[str, str]
    receivers: tuple[str, ...]
    name: str = ""
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.receivers, str):
            object.__setattr__(self, "receivers", (self.receivers,))
        if not self.receivers:
            raise DefinitionError("a routing case needs the receiver(s) it must reach", self.location)

    def title(self) -> str:
        labels = ", ".join(f'{k}="{v}"' for k, v in self.labels.items())
        return self.name or f"{{{labels}}}"


@dataclass(frozen=True)
class AlertmanagerConfig:
    """What `alerts/alertmanager.py` exposes as `alertmanager`.

    `templates` maps a template file's basename to its text (Mimir's `template_files`). `tests` are routing
    cases, not part of the compiled config.
    """

    route: Route
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    templates: Mapping[str, str] = field(default_factory=dict)
    resolve_timeout: str | None = None
    template_locations: Mapping[str, str] = field(default_factory=dict)  # basename -> file shown in errors
    tests: tuple[RoutingCase, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        if self.route.matchers:
            raise DefinitionError("the root route must not have matchers", self.route.location)
        names = {receiver.name for receiver in self.receivers}
        for case in self.tests:
            unknown = [name for name in case.receivers if name not in names]
            if unknown:
                raise DefinitionError(
                    f"routing case {case.title()} expects unknown receiver(s) {', '.join(unknown)} "
                    f"(defined: {', '.join(sorted(names))})",
                    case.location,
                )
        for name, text in self.templates.items():
            parse_template(text, self.template_locations.get(name, name))  # file:line of a broken template
        errors = mimir_config_errors(self.config(), self.templates)
        if errors:
            raise DefinitionError(f"Alertmanager config rejected: {errors[0]}", self._location_of(errors[0]))

    def _location_of(self, message: str) -> SourceLocation:
        for receiver in self.receivers:
            if repr(receiver.name) in message:
                return receiver.location
        return self.location

    def config(self, secrets_dir: str | None = None) -> dict[str, Any]:
        """The Alertmanager configuration as a dict (secrets as placeholders, or files under `secrets_dir`)."""
        data: dict[str, Any] = {}
        if self.resolve_timeout:
            data["global"] = {"resolve_timeout": self.resolve_timeout}
        data["route"] = self.route.to_dict()
        if self.inhibit_rules:
            data["inhibit_rules"] = [rule.to_dict() for rule in self.inhibit_rules]
        data["receivers"] = [receiver.to_dict(secrets_dir) for receiver in self.receivers]
        if self.templates:
            data["templates"] = sorted(self.templates)
        return data

    def to_api_body(self) -> dict[str, Any]:
        """The body of Mimir's `POST /api/v1/alerts`."""
        return {
            "template_files": dict(sorted(self.templates.items())),
            "alertmanager_config": dump_yaml(self.config()),
        }

    def with_timings(
        self,
        group_wait: str | None = None,
        group_interval: str | None = None,
        repeat_interval: str | None = None,
        resolve_timeout: str | None = None,
    ) -> AlertmanagerConfig:
        """The same config with other timings (e.g. seconds for an end-to-end test)."""
        given = {
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        }
        timings = {k: v for k, v in given.items() if v}
        return replace(
            self,
            route=self.route.with_timings(timings),
            resolve_timeout=resolve_timeout or self.resolve_timeout,
        )

    def fallback_config(self, secrets_dir: str) -> dict[str, Any]:
        """A standalone config for Alertmanager's config file: secrets read from files, templates inlined.

        Mimir serves the fallback to tenants without a stored config and has no template files for it, so
        each templated field carries the `define` blocks it uses.
        """
        defines: dict[str, TemplateDefine] = {}
        for text in self.templates.values():
            defines.update({d.name: d for d in parse_template(text).defines})

        def inline(value: Any) -> Any:
            if isinstance(value, str):
                needed = _closure(template_calls(value), defines)
                return "".join(defines[name].text for name in needed) + value
            if isinstance(value, Mapping):
                return {k: inline(v) for k, v in value.items()}
            if isinstance(value, list):
                return [inline(v) for v in value]
            return value

        data = self.config(secrets_dir)
        data.pop("templates", None)
        data["receivers"] = inline(data["receivers"])
        return data

    def helm_fallback_values(
        self, secret_name: str = "alertmanager-secrets", secrets_dir: str = "/etc/alertmanager/secrets"
    ) -> dict[str, Any]:
        """mimir-distributed values: `alertmanager.fallbackConfig` plus the mount of the Secret it reads.

        The Kubernetes Secret `secret_name` holds one key per secret environment variable (e.g.
        SLACK_WEBHOOK_URL); the webhook URL itself never appears in the values.
        """
        volume = "alertmanager-secrets"
        return {
            "alertmanager": {
                "fallbackConfig": dump_yaml(self.fallback_config(secrets_dir)),
                "extraVolumes": [{"name": volume, "secret": {"secretName": secret_name}}],
                "extraVolumeMounts": [{"name": volume, "mountPath": secrets_dir, "readOnly": True}],
            }
        }

    def source_map(self) -> dict[str, SourceLocation]:
        entries: dict[str, SourceLocation] = {}
        for path, route in self.route.walk():
            entries[f"route/{path}"] = route.location
        for receiver in self.receivers:
            entries[f"receiver/{receiver.name}"] = receiver.location
        for i, rule in enumerate(self.inhibit_rules):
            entries[f"inhibit_rule/{i}"] = rule.location
        for name, where in self.template_locations.items():
            entries[f"template/{name}"] = SourceLocation(where, 1)
        return entries


def _closure(names: frozenset[str], defines: Mapping[str, TemplateDefine]) -> list[str]:
    ordered: list[str] = []
    pending = sorted(names)
    while pending:
        name = pending.pop(0)
        if name in defines and name not in ordered:
            ordered.append(name)
            pending += sorted(defines[name].calls)
    return sorted(ordered)
