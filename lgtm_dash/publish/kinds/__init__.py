"""The kinds of object publish manages, in dependency order: each is planned and applied on its own."""

from __future__ import annotations

from .alertmanager import AlertmanagerConfig
from .base import ApplyContext, Kind, UnsafeToApply
from .dashboards import Dashboards
from .datasources import Datasources
from .folders import Folders
from .lokirulegroups import LokiRuleGroups
from .rulegroups import RuleGroups

# What publish creates first comes first; deletions run in the reverse order.
KINDS: tuple[Kind, ...] = (
    Datasources(),
    Folders(),
    Dashboards(),
    RuleGroups(),
    LokiRuleGroups(),
    AlertmanagerConfig(),
)


def kind_of(change_kind: str) -> Kind:
    return next(kind for kind in KINDS if kind.name == change_kind)


__all__ = ["KINDS", "ApplyContext", "Kind", "UnsafeToApply", "kind_of"]
