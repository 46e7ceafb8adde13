"""Which datasource a dashboard reference means, as Grafana resolves it when it loads a dashboard.

Grafana looks a bare string up by name, then by uid (`DatasourceIndex.Lookup`), returns the default
datasource for `null`/"default", and keeps an unknown string as `{"uid": <string>}`. The index here is the
project's datasources (including `external(...)` ones) plus Grafana's built-ins.
Source: grafana/grafana apps/dashboard/pkg/migration/schemaversion/datasource_utils.go
(`NewDatasourceIndex`, `MigrateDatasourceNameToRef`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Grafana's built-in datasources as dashboards refer to them.
BUILTINS = (
    {"uid": "-- Grafana --", "name": "-- Grafana --", "type": "grafana"},
    {"uid": "-- Mixed --", "name": "-- Mixed --", "type": "datasource"},
    {"uid": "-- Dashboard --", "name": "-- Dashboard --", "type": "datasource"},
    {"uid": "grafana", "name": "grafana", "type": "datasource"},
    {"uid": "__expr__", "name": "__expr__", "type": "__expr__"},
)
MIXED = "-- Mixed --"


@dataclass(frozen=True)
class KnownDatasource:
    uid: str
    name: str
    type: str
    default: bool = False
    builtin: bool = False


@dataclass
class DatasourceIndex:
    by_name: dict[str, KnownDatasource] = field(default_factory=dict)
    by_uid: dict[str, KnownDatasource] = field(default_factory=dict)
    default: KnownDatasource | None = None

    @classmethod
    def of(cls, datasources: Iterable[KnownDatasource]) -> DatasourceIndex:
        index = cls()
        for ds in [
            *datasources,
            *(KnownDatasource(b["uid"], b["name"], b["type"], builtin=True) for b in BUILTINS),
        ]:
            index.by_name.setdefault(ds.name, ds)
            index.by_uid.setdefault(ds.uid, ds)
            if ds.default and index.default is None:
                index.default = ds
        return index

    def lookup(self, name_or_uid: str) -> KnownDatasource | None:
        """By name first (what legacy dashboards hold), then by uid."""
        return self.by_name.get(name_or_uid) or self.by_uid.get(name_or_uid)

    def resolve(self, name: str) -> KnownDatasource | None:
        if name == "default" and self.default is not None:
            return self.default
        return self.lookup(name)


def ref_of(ds: KnownDatasource | None) -> dict[str, Any] | None:
    return None if ds is None else {"uid": ds.uid, "type": ds.type}


def is_ref(value: Any) -> bool:
    """A `{"uid"|"type": ...}` object with a non-empty uid or type (Grafana's `isDataSourceRef`)."""
    return isinstance(value, dict) and any(
        isinstance(value.get(k), str) and value.get(k) for k in ("uid", "type")
    )


def name_to_ref(value: Any, index: DatasourceIndex, *, default_as_null: bool) -> Any:
    """`MigrateDatasourceNameToRef`: a legacy datasource string (or null) as a `{uid, type}` reference."""
    if default_as_null and (value is None or value == "default"):
        return None
    if is_ref(value):
        return value
    if value is None:
        return ref_of(index.default)
    if not isinstance(value, str):
        return None
    if value == "":
        return {}
    found = index.resolve(value)
    return ref_of(found) if found is not None else {"uid": value}
