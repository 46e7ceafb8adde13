"""Prometheus/Mimir rule groups as code: one `RuleNamespace` per Mimir ruler namespace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import DefinitionError
from ..source import SourceLocation, caller_location


class EnvironmentValue(Protocol):
    """A value known only per environment (e.g. a dashboard URL on that environment's Grafana)."""

    def render(self, env: Any) -> str: ...


def _render_value(value: str | EnvironmentValue, env: Any) -> str:
    return value if isinstance(value, str) else value.render(env)


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str | EnvironmentValue] = field(default_factory=dict)
    keep_firing_for: str | None = None
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_:
            data["for"] = self.for_
        if self.keep_firing_for:
            data["keep_firing_for"] = self.keep_firing_for
        if self.labels:
            data["labels"] = dict(self.labels)
        if self.annotations:
            data["annotations"] = {k: _render_value(v, env) for k, v in self.annotations.items()}
        return data


@dataclass(frozen=True)
class Record:
    name: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"record": self.name, "expr": self.expr}
        if self.labels:
            data["labels"] = dict(self.labels)
        return data


Rule = Alert | Record


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None
    # Mimir-only group fields (stripped before `promtool check rules`).
    query_offset: str | None = None
    source_tenants: tuple[str, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise DefinitionError("a rule group needs a name", self.location)
        if not self.rules:
            raise DefinitionError(f"rule group {self.name!r} has no rules", self.location)

    def to_dict(self, env: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.interval:
            data["interval"] = self.interval
        if self.query_offset:
            data["query_offset"] = self.query_offset
        if self.source_tenants:
            data["source_tenants"] = list(self.source_tenants)
        data["rules"] = [rule.to_dict(env) for rule in self.rules]
        return data


@dataclass(frozen=True)
class RuleNamespace:
    """A Mimir ruler namespace: compiled to out/mimir/rules/<name>.yaml (mimirtool's format)."""

    name: str
    groups: tuple[RuleGroup, ...]
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for group in self.groups:
            if group.name in seen:
                raise DefinitionError(
                    f"duplicate rule group {group.name!r} in namespace {self.name!r}", group.location
                )
            seen.add(group.name)

    def to_file(self, env: Any = None) -> dict[str, Any]:
        """mimirtool's file format; `env` renders environment-specific annotation values."""
        return {"namespace": self.name, "groups": [g.to_dict(env) for g in self.groups]}

    def source_map(self) -> dict[str, SourceLocation]:
        entries: dict[str, SourceLocation] = {f"namespace:{self.name}": self.location}
        for group in self.groups:
            entries[f"group:{self.name}/{group.name}"] = group.location
            for rule in group.rules:
                entries[f"rule:{self.name}/{group.name}/{rule.name}"] = rule.location
        return entries
