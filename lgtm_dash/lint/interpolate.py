"""Grafana template interpolation, done before any query is parsed.

Grafana replaces `$var`, `${var}`, `${var:format}`, `${var.field}` and the legacy `[[var]]` / `[[var:format]]`
in a query before sending it. A linter has to do the same, or every dashboard with variables would be a syntax
error. Each variable becomes its current value (from the dashboard's templating) or, when it has none, a
placeholder of the right kind: a duration where a duration is expected, else the variable's name (so the
query keeps its shape). Global variables (`$__rate_interval`, `$__from`, `$__user.id`...) get fixed values.

Options let each language keep what its own parser understands:
- `keep_range_macros`: leave `$__auto`, `$__interval`, `$__range`, `$__rate_interval` as written (the LogQL
  parser accepts them inside `[...]`);
- `keep_macros`: leave SQL macros such as `$__timeFilter(col)` intact (the SQL checks expand them).

Variables inside quoted strings are left alone unless the dashboard defines them (an unknown `$job` inside
`"..."` is still a valid string); defined ones get their value, never breaking the string's quoting.

Formats are Grafana's "advanced variable format options": csv, distributed, doublequote, glob, json, lucene,
percentencode, pipe, raw, regex, singlequote, sqlstring, text, queryparam, and date for `__from`/`__to`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ..durations import format_duration
from .querytext import string_spans

# Grafana's own variable pattern: $name | [[name(:format)]] | ${name(.fieldpath)(:format)}
VARIABLE_PATTERN = re.compile(
    r"\$(?P<plain>\w+)"
    r"|\[\[(?P<legacy>\w+?)(?::(?P<legacy_format>\w+))?\]\]"
    r"|\$\{(?P<braced>\w+)(?:\.(?P<fieldpath>[^:^}]+))?(?::(?P<format>[^}]+))?\}"
)
RANGE_MACROS = frozenset({"__auto", "__interval", "__range", "__rate_interval"})
# A duration no dashboard would pick by hand, so that a placeholder is recognisable in messages. It is
# grafana/dashboard-linter's 8869990787ms, spelt in units (102d15h53m10s787ms) because promql-parser wraps
# millisecond counts >= 2^32.
PLACEHOLDER_MS = 8_869_990_787
DURATION_PLACEHOLDER = format_duration(PLACEHOLDER_MS)
FROM_MS = 1594671549254
TO_MS = 1594675149254
ALL_VALUE = "$__all"

# Global variables that are not durations. `__from`/`__to` accept the `date` format.
GLOBAL_VALUES: dict[str, str] = {
    "__interval": DURATION_PLACEHOLDER,
    "__rate_interval": DURATION_PLACEHOLDER,
    "__range": DURATION_PLACEHOLDER,
    "__auto": DURATION_PLACEHOLDER,
    "__interval_ms": str(PLACEHOLDER_MS),
    "__rate_interval_ms": str(PLACEHOLDER_MS),
    "__range_ms": "3600000",
    "__range_s": "3600",
    "__from": str(FROM_MS),
    "__to": str(TO_MS),
    "__timezone": "utc",
    "__dashboard": "dashboard",
    "__name": "name",
    "__all": ".*",
}
GLOBAL_FIELDS: dict[str, dict[str, str]] = {
    "__user": {"id": "42", "login": "user", "email": "user@example.com", "name": "user"},
    "__org": {"id": "42", "name": "org"},
    "__dashboard": {"uid": "dashboard", "name": "dashboard"},
    "__url": {"path": "/d/dashboard", "params": "var-a=b"},
}
AUTO_INTERVAL_VALUE = "10s"
NAME_CHAR = re.compile(r"[A-Za-z0-9_:]")
NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_:]")


class InterpolationError(ValueError):
    """A variable expression Grafana itself would not understand (unknown format, unsupported date format)."""


@dataclass(frozen=True)
class Variable:
    """One template variable as far as interpolation needs it."""

    name: str
    values: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    kind: str = ""  # Grafana's variable type: query, custom, interval, datasource, constant, textbox...
    all_value: str | None = None

    @classmethod
    def from_templating(cls, entry: Mapping[str, Any]) -> Variable:
        """Build from one entry of a dashboard's `templating.list` (any Grafana version's shape)."""
        name = str(entry.get("name") or "")
        kind = str(entry.get("type") or "")
        current = entry.get("current")
        current = current if isinstance(current, Mapping) else {}
        values = _as_strings(current.get("value"))
        texts = _as_strings(current.get("text"))
        if not values:
            options = entry.get("options")
            options = options if isinstance(options, list) else []
            values = tuple(
                str(o.get("value"))
                for o in options[:1]
                if isinstance(o, Mapping) and o.get("value") is not None
            )
        if not values and kind in {"constant", "textbox", "interval", "custom"}:
            query = entry.get("query")
            if isinstance(query, str) and query.strip():
                first = query.split(",")[0].strip()
                values = (first,) if kind != "constant" and kind != "textbox" else (query,)
        all_value = entry.get("allValue") if isinstance(entry.get("allValue"), str) else None
        return cls(name=name, values=values, texts=texts or values, kind=kind, all_value=all_value or None)


def _as_strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    return (str(value),)


@dataclass(frozen=True)
class Interpolator:
    """Interpolates queries of one dashboard: build once per dashboard, call for every query."""

    variables: Mapping[str, Variable] = field(default_factory=dict)
    keep_range_macros: bool = False
    keep_macros: bool = False

    @classmethod
    def for_templating(cls, entries: Sequence[Any], **options: bool) -> Interpolator:
        variables = {}
        for entry in entries:
            if isinstance(entry, Mapping) and entry.get("name"):
                var = Variable.from_templating(entry)
                variables[var.name] = var
        return cls(variables=variables, **options)

    def __call__(self, text: str) -> str:
        return self.interpolate(text)

    def with_options(self, *, keep_range_macros: bool = False, keep_macros: bool = False) -> Interpolator:
        return replace(self, keep_range_macros=keep_range_macros, keep_macros=keep_macros)

    def interpolate(self, text: str, _expanding: frozenset[str] = frozenset()) -> str:
        """`text` with every variable replaced. Raises InterpolationError for an invalid expression."""
        if "$" not in text and "[[" not in text:
            return text
        strings = string_spans(text)
        out: list[str] = []
        pos = 0
        for match in VARIABLE_PATTERN.finditer(text):
            start, end = match.span()
            out.append(text[pos:start])
            pos = end
            quote_char = _enclosing_quote(strings, text, start)
            value = self._replacement(text, match, quote_char, _expanding)
            if quote_char is None and _inside_name(text, start, end):
                value = NOT_NAME_CHARS.sub("_", value)  # `vault_route_${mount}_sum` stays one metric name
            out.append(value)
        out.append(text[pos:])
        return "".join(out)

    def _replacement(
        self, text: str, match: re.Match[str], quote_char: str | None, expanding: frozenset[str]
    ) -> str:
        in_string = quote_char is not None
        original = match.group(0)
        name = match.group("plain") or match.group("legacy") or match.group("braced")
        fmt = match.group("legacy_format") or match.group("format")
        fieldpath = match.group("fieldpath")
        if (
            self.keep_macros
            and match.group("plain")
            and name.startswith("__")
            and text[match.end() :][:1] == "("
        ):
            return original  # a SQL macro such as $__timeFilter(col): expanded by the SQL checks
        if self.keep_range_macros and name in RANGE_MACROS and not fmt and not fieldpath:
            return original
        if fmt is not None and not _known_format(fmt):
            raise InterpolationError(
                f"unknown variable format: {original[2:-1] if original.startswith('${') else fmt}"
            )

        variable = self.variables.get(name)
        if name in expanding:  # a variable whose value refers to itself: stop at its name
            return name
        if variable is None:
            if in_string:
                return original
            return self._global(name, fieldpath, fmt, text, match.start())
        values = variable.values
        if ALL_VALUE in values:
            values = (variable.all_value,) if variable.all_value else (".*",)
        values = tuple(self._expand_value(v, expanding | {name}) for v in values)
        if not values or values == ("",):
            if in_string:
                return original
            return _placeholder(name, variable.kind, text, match.start(), fmt)
        texts = variable.texts if len(variable.texts) == len(values) else values
        if quote_char is not None:  # in_string
            joined = "|".join(values) if fmt is None else _format(fmt, name, values, texts)
            return joined.replace("\\", "").replace(quote_char, "")
        return _format(fmt, name, values, texts) if fmt else "|".join(values)

    def _expand_value(self, value: str, expanding: frozenset[str]) -> str:
        if value.startswith("$__auto_interval"):
            return AUTO_INTERVAL_VALUE
        return self.interpolate(value, expanding) if ("$" in value or "[[" in value) else value

    def _global(self, name: str, fieldpath: str | None, fmt: str | None, text: str, at: int) -> str:
        if name.startswith("__auto_interval"):
            return AUTO_INTERVAL_VALUE
        if fieldpath and name in GLOBAL_FIELDS:
            return GLOBAL_FIELDS[name].get(fieldpath.split(".")[0], fieldpath)
        if name in ("__from", "__to") and fmt:
            return _format_date(FROM_MS if name == "__from" else TO_MS, fmt)
        if name in GLOBAL_VALUES:
            value = GLOBAL_VALUES[name]
            return _format(fmt, name, (value,), (value,)) if fmt else value
        return _placeholder(name, "", text, at, fmt)


def _inside_name(text: str, start: int, end: int) -> bool:
    """Whether a variable is glued to a metric, label or table name (`a_$x`, `${x}_total`)."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return bool(before and NAME_CHAR.match(before)) or bool(after and NAME_CHAR.match(after))


def _placeholder(name: str, kind: str, text: str, at: int, fmt: str | None) -> str:
    """A stand-in for a variable without a value: a duration where one is expected, else its name."""
    if kind == "interval" or _in_duration_position(text, at):
        return "5m"
    if fmt:
        values = (name, name, name)  # a multi-value stand-in shows what the format produces
        return _format(fmt, name, values, values)
    return name


def _in_duration_position(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    if before.endswith("[") and not before.endswith("[["):
        return True
    if before.endswith(":"):
        opening, closing = before.rfind("["), before.rfind("]")
        return opening > closing
    return before.lower().endswith("offset")


# ----------------------------------------------------------------- formats


def _regex_escape(value: str) -> str:
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", value)


def _lucene_escape(value: str) -> str:
    return re.sub(r'([+\-&|!(){}\[\]^"~*?:\\/ ])', r"\\\1", value)


def _sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


FORMATS: dict[str, Callable[[str, tuple[str, ...], tuple[str, ...]], str]] = {
    "csv": lambda name, values, texts: ",".join(values),
    "raw": lambda name, values, texts: ",".join(values),
    "distributed": lambda name, values, texts: ",".join([values[0], *(f"{name}={v}" for v in values[1:])]),
    "doublequote": lambda name, values, texts: ",".join('"' + v.replace('"', '\\"') + '"' for v in values),
    "singlequote": lambda name, values, texts: ",".join("'" + v.replace("'", "\\'") + "'" for v in values),
    "sqlstring": lambda name, values, texts: ",".join(_sql_quote(v) for v in values),
    "glob": lambda name, values, texts: "{" + ",".join(values) + "}" if len(values) > 1 else values[0],
    "json": lambda name, values, texts: json.dumps(list(values), separators=(",", ":")),
    "lucene": lambda name, values, texts: (
        "(" + " OR ".join(f'"{v}"' for v in values) + ")" if len(values) > 1 else _lucene_escape(values[0])
    ),
    "percentencode": lambda name, values, texts: quote(",".join(values), safe="-_.~"),
    "pipe": lambda name, values, texts: "|".join(values),
    "regex": lambda name, values, texts: (
        "|".join(_regex_escape(v) for v in values) if len(values) > 1 else _regex_escape(values[0])
    ),
    "text": lambda name, values, texts: " + ".join(texts),
    "queryparam": lambda name, values, texts: "&".join(f"var-{name}={quote(v, safe='')}" for v in values),
}


def _known_format(fmt: str) -> bool:
    return fmt in FORMATS or fmt == "date" or fmt.startswith("date:")


def _format(fmt: str, name: str, values: tuple[str, ...], texts: tuple[str, ...]) -> str:
    if fmt == "date" or fmt.startswith("date:"):
        try:
            return _format_date(int(values[0]), fmt)
        except ValueError:
            return values[0]
    return FORMATS[fmt](name, values, texts)


def _format_date(epoch_ms: int, fmt: str) -> str:
    style = fmt.partition(":")[2] or "iso"
    if style == "iso":
        return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "seconds":
        return str(epoch_ms // 1000)
    raise InterpolationError(f"unsupported momentjs time format: {style}")


def _enclosing_quote(spans: list[tuple[int, int]], text: str, at: int) -> str | None:
    """The quote character of the string (or `#` of the comment) `at` lies in, or None."""
    for start, end in spans:
        if start < at < end:
            return text[start]
        if start > at:
            break
    return None


def variable_references(text: str) -> list[str]:
    """Names of the variables a text refers to (globals like `__interval` included), in order."""
    return [
        m.group("plain") or m.group("legacy") or m.group("braced")
        for m in VARIABLE_PATTERN.finditer(text or "")
    ]
