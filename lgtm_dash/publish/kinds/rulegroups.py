"""Rule groups: `mimir/rules/<namespace>.yaml` sent group by group to a Prometheus-style ruler config API.

Compared: exactly what Mimir stores and returns (`normalize.normalize_rule_group`: canonical durations,
dropped keys; row M-RULES-ROUNDTRIP). Owned: only the namespaces out/ has; `--prune` deletes groups
inside them that out/ no longer defines, never a namespace out/ does not name.

The tenant's rule-group limit (row M-RULES-LIMIT): Mimir counts every group of the tenant plus one on
each write, the group being replaced included, and refuses the write with 400 above the limit. So the plan
counts before writing: creates that would pass the limit are conflicts, and when the tenant is at its
limit an update is applied as delete + create. Deletions of pruned groups run first, to make room.

The ruler API is the same for Loki's ruler; `LokiRuleGroups` (`lokirulegroups`) is this class with Loki's
client, artifacts, limit and normalisation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...environments import Environment
from ...normalize import dropped_group_fields, normalize_rule_group
from ..plan import Change, PlanContext, text_diff
from .base import ApplyContext, Kind


class RuleGroups(Kind):
    name: ClassVar[str] = "rule-group"
    service: ClassVar[str] = "mimir"
    prunes: ClassVar[bool] = True
    server: ClassVar[str] = "Mimir"

    def namespaces(self, arts: Artifacts) -> dict[str, list[dict[str, Any]]]:
        return arts.rule_namespaces

    def limit(self, env: Environment) -> int:
        """The tenant's rule-group limit (0: none)."""
        return env.mimir.max_rule_groups

    def normalize(self, group: dict[str, Any]) -> dict[str, Any]:
        """A group as the server stores and returns it."""
        return normalize_rule_group(group)

    def dropped(self, group: dict[str, Any]) -> list[str]:
        """Fields of a desired group the server would silently drop."""
        return dropped_group_fields(group)

    def desired_count(self, arts: Artifacts) -> int:
        return sum(len(groups) for groups in self.namespaces(arts).values())

    def plan(self, ctx: PlanContext) -> list[Change]:
        namespaces = self.namespaces(ctx.arts)
        if not namespaces:
            return []
        live_rules = self.client(ctx.clients).list_rules()
        changes: list[Change] = []
        for namespace, groups in sorted(namespaces.items()):
            live_groups = {g.get("name"): g for g in live_rules.get(namespace, [])}
            desired_names = set()
            for group in groups:
                name = str(group.get("name"))
                desired_names.add(name)
                key = f"{namespace}/{name}"
                source = ctx.source(f"group:{key}")
                dropped = self.dropped(group)
                if dropped:
                    ctx.warnings.append(
                        f"rule group {key}: {self.server} does not store {', '.join(dropped)}; "
                        "it will be ignored"
                    )
                want = self.normalize(group)
                live = live_groups.get(name)
                if live is None:
                    changes.append(Change(self.name, key, "create", body=group, source=source))
                    continue
                have = self.normalize(live)
                if have == want:
                    changes.append(Change(self.name, key, "unchanged", source=source))
                else:
                    changes.append(
                        Change(
                            self.name, key, "update", diff=text_diff(have, want), body=group, source=source
                        )
                    )
            if ctx.options.prune:
                for name in sorted(set(live_groups) - desired_names):
                    changes.append(
                        Change(self.name, f"{namespace}/{name}", "delete", reason="no longer in out/")
                    )
        live_count = sum(len(groups) for groups in live_rules.values())
        return self._fit_limit(changes, live_count, self.limit(ctx.env))

    def _fit_limit(self, changes: list[Change], live_count: int, limit: int) -> list[Change]:
        """Creates past the limit become conflicts; at the limit, updates become delete + create."""
        if limit <= 0:
            return changes
        count = live_count - sum(1 for c in changes if c.action == "delete")
        room = limit - count
        fitted: list[Change] = []
        for change in changes:
            if change.action == "create":
                if room <= 0:
                    change = replace(
                        change,
                        action="conflict",
                        reason=f"the tenant is at its limit of {limit} rule groups ({count} after this "
                        f"publish's deletions): {self.server} would refuse a new one",
                    )
                room -= 1
            elif change.action == "update" and count > limit:
                change = replace(
                    change,
                    action="conflict",
                    reason=f"the tenant has {count} rule groups, more than its limit of {limit}: "
                    f"{self.server} refuses every write until some are deleted",
                )
            elif change.action == "update" and count == limit:
                change = replace(
                    change,
                    replace=True,
                    reason=f"the tenant is at its limit of {limit} rule groups, where {self.server} refuses "
                    "every write: replaced by delete + create",
                )
            fitted.append(change)
        return fitted

    def stages(self, pending: list[Change]) -> tuple[list[list[Change]], list[list[Change]]]:
        return [[c for c in pending if c.action == action] for action in ("delete", "update", "create")], []

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        ruler = self.client(ctx.clients)
        namespace, _, name = change.key.partition("/")
        if change.action == "delete" or change.replace:
            ruler.delete_rule_group(namespace, name)
        if change.action != "delete":
            ruler.set_rule_group(namespace, change.body)
        return ""
