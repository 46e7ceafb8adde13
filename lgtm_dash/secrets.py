"""Secrets are never written out: artifacts carry `${VAR}` placeholders, filled from the environment at publish.

Grafana's provisioning files expand `$VAR` and `${VAR}` themselves, so every literal `$` in a provisioning
file is written `$$`; `expand()` undoes exactly that when the same file is sent over the HTTP API.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import DefinitionError, UsageError

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# `$$` (an escaped dollar) or `${VAR}` / `$VAR` (a placeholder), in one pass so `$${X}` stays literal.
_TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# Mimir artifacts (rules, Alertmanager config) hold Go templates full of `$labels`, `$value`: there only
# `${VAR}` is a placeholder and nothing is escaped.
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Secret:
    """A value that lives only in an environment variable."""

    env_var: str

    def __post_init__(self) -> None:
        if not _VAR_NAME.match(self.env_var):
            raise DefinitionError(f"invalid environment variable name for a secret: {self.env_var!r}")

    @property
    def placeholder(self) -> str:
        return "${" + self.env_var + "}"


def escape_dollars(text: str) -> str:
    """A literal string as it must appear in a Grafana provisioning file."""
    return text.replace("$", "$$")


def to_provisioning(value: object) -> object:
    """Render a structure for a provisioning file: literals escaped, secrets as placeholders."""
    if isinstance(value, Secret):
        return value.placeholder
    if isinstance(value, str):
        return escape_dollars(value)
    if isinstance(value, Mapping):
        return {k: to_provisioning(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_provisioning(v) for v in value]
    return value


def placeholders_in(value: object) -> set[str]:
    """Names of the environment variables a provisioning structure refers to."""
    found: set[str] = set()
    if isinstance(value, str):
        for m in _TOKEN.finditer(value):
            if m.group(0) != "$$":
                found.add(m.group(1) or m.group(2))
    elif isinstance(value, Mapping):
        for v in value.values():
            found |= placeholders_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= placeholders_in(v)
    return found


def expand(
    value: object,
    environ: Mapping[str, str] | None = None,
    *,
    context: str = "",
    grafana_escapes: bool = True,
) -> object:
    """Fill placeholders from the environment (for API calls).

    With `grafana_escapes` (Grafana provisioning files) `$$` becomes `$` and `$VAR` counts too; without it
    (Mimir rules and Alertmanager config, full of Go templates) only `${VAR}` is replaced.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def substitute(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name = m.group(1) or m.group(2)
            if name not in env:
                where = f" (needed by {context})" if context else ""
                raise UsageError(f"environment variable {name} is not set{where}")
            return env[name]

        return (_TOKEN if grafana_escapes else _BRACED).sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: expand(v, env, context=context, grafana_escapes=grafana_escapes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [expand(v, env, context=context, grafana_escapes=grafana_escapes) for v in value]
    return value


def basic_auth_value(user: str | None, password: str | None) -> str:
    """The `Authorization: Basic` value of a credential: as secret as the password (a server may echo it)."""
    if not password:
        return ""
    return base64.b64encode(f"{user or ''}:{password}".encode()).decode()


def redact(text: str, secrets: Mapping[str, str] | None = None) -> str:
    """Replace every known secret value in `text` (for logs and error messages)."""
    for value in (secrets or {}).values():
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text
