"""Secrets are never written out: artifacts carry `${VAR}` placeholders, filled from the environment at publish.

Grafana's provisioning files expand `$VAR` and `${VAR}` themselves, so every literal `$` in a provisioning
file is written `$$`; `expand()` undoes exactly that when the same file is sent over the HTTP API.

`redact()` is the one place a server's words (or anything else about to be printed or written) lose their
secrets: every known value in every form a server may echo it in (as is, base64 as in an
`Authorization: Basic` header, percent-encoded, JSON-escaped), and any `Authorization:`-style header
text or `Bearer`/`Basic` credential, whether or not its value is known.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from .errors import DefinitionError, UsageError

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# `$$` (an escaped dollar) or `${VAR}` / `$VAR` (a placeholder), in one pass so `$${X}` stays literal.
_TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# Mimir artifacts (rules, Alertmanager config) hold Go templates full of `$labels`, `$value`: there only
# `${VAR}` is a placeholder and nothing is escaped.
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REDACTED = "<redacted>"
# Header text that carries a credential, however a server quotes it back: `Authorization: Basic …`,
# `"Authorization":["Bearer …"]` (Go's header map), `authorization=…`.
_CREDENTIAL_HEADER = re.compile(
    r"(?i)((?:proxy-)?authorization|cookie|x-api-key)(\W{0,3}\s*[:=]\s*\[?\s*[\"']?\s*)"
    r"(?:(basic|bearer|token|digest)\s+)?[^\s\"',;\]\}]+"
)
# A scheme followed by something that looks like a credential (a digit or a base64/token punctuation in it,
# so "Basic authentication" stays readable).
_CREDENTIAL = re.compile(r"(?i)\b(basic|bearer)\s+(?=[A-Za-z0-9+/=._~-]*[0-9+/=._~-])[A-Za-z0-9+/=._~-]{8,}")


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


def basic_credentials(user: str | None, password: str | None) -> str:
    """`user:password` as HTTP basic auth encodes it: redacting it also redacts its base64 form."""
    return f"{user or ''}:{password}" if password else ""


@functools.lru_cache(maxsize=4096)
def secret_forms(value: str) -> tuple[str, ...]:
    """`value` in every form a server may echo it in, longest first."""
    raw = value.encode("utf-8")
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("/", "\\/"),
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return tuple(sorted((f for f in forms if len(f) >= 4), key=len, reverse=True))


def redact(text: str, secrets: Mapping[str, str] | None = None) -> str:
    """`text` without any known secret value (in any of its `secret_forms`) or credential header text."""
    for value in (secrets or {}).values():
        if value and len(value) >= 4:
            for form in secret_forms(value):
                if form in text:
                    text = text.replace(form, REDACTED)
    text = _CREDENTIAL_HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] + ' ' if m[3] else ''}{REDACTED}", text)
    return _CREDENTIAL.sub(lambda m: f"{m[1]} {REDACTED}", text)
