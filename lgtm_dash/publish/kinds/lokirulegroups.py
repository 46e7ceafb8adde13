"""Loki rule groups: `loki/rules/<namespace>.yaml` sent group by group to Loki's ruler API (`clients.loki`).

Everything of `RuleGroups` holds (planning per namespace, the tenant's limit, delete + create at it), with Loki's
side of the contract: compared as Loki stores them (`normalize.normalize_loki_rule_group`: canonical durations;
`keep_firing_for`, `query_offset`, group labels dropped; row L-RULES-ROUNDTRIP), so a republish of unchanged
rules writes nothing. Owned as for Mimir: each group carries lgtm-dash's `#` comment mark at the end of its first
rule's expression (Loki stores the expression verbatim and its LogQL lexer skips the comment: row
L-RULES-EXPR-VERBATIM); `--prune` deletes, inside a namespace out/ has, only a group out/ no longer defines whose
mark names it, never a namespace out/ does not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...environments import Environment
from ...normalize import dropped_loki_group_fields, normalize_loki_rule_group
from .rulegroups import RuleGroups


class LokiRuleGroups(RuleGroups):
    name: ClassVar[str] = "loki-rule-group"
    service: ClassVar[str] = "loki"
    server: ClassVar[str] = "Loki"

    def namespaces(self, arts: Artifacts) -> dict[str, list[dict[str, Any]]]:
        return arts.loki_rule_namespaces

    def limit(self, env: Environment) -> int:
        return env.loki.max_rule_groups if env.loki is not None else 0

    def normalize(self, group: Mapping[str, Any]) -> dict[str, Any]:
        return normalize_loki_rule_group(group)

    def dropped(self, group: dict[str, Any]) -> list[str]:
        return dropped_loki_group_fields(group)
