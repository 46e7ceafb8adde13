"""Rule groups: `mimir/rules/<namespace>.yaml` sent group by group to a Prometheus-style ruler config API.

Compared: exactly what Mimir stores and returns (`normalize.normalize_rule_group`: canonical durations,
dropped keys; row M-RULES-ROUNDTRIP). Owned: a namespace is no proof (people add groups by hand to a
namespace out/ also uses), so every group publish writes carries a mark the ruler keeps: a `#` comment
line at the end of its first rule's expression, stored verbatim and never evaluated (rows
M-RULES-EXPR-VERBATIM, L-RULES-EXPR-VERBATIM; `normalize.mark_rule_group`). It names the group (namespace and name, hashed) and
a digest of its content. `--prune` deletes a group out/ no longer defines only in a namespace out/ has
and only when that mark names it; one changed since it was published (content no longer matching the
digest) is a conflict unless `--force`. A group without the mark is reported and left alone.

The mark changes nothing the ruler evaluates or sends (no label, no annotation: `promtool test rules` gives
the same alerts with it; Loki's LogQL lexer skips `#` comments too). A group out/ defines that lacks the mark (published before marks existed, or made
by hand under the same name) is written once to add it; after that an unchanged group is never
rewritten. A marked group whose content no longer matches its digest was changed in Mimir since the last
publish: the plan shows it as drift, then applies out/ as for any update.

The tenant's rule-group limit (row M-RULES-LIMIT): Mimir counts every group of the tenant plus one on
each write, the group being replaced included, and refuses the write with 400 above the limit. So the plan
counts before writing: creates that would pass the limit are conflicts, and when the tenant is at its
limit an update is applied as delete + create. Deletions of pruned groups run first, to make room.

The ruler API is the same for Loki's ruler; `LokiRuleGroups` (`lokirulegroups`) is this class with Loki's
client, artifacts, limit and normalisation (the mark's digest is of the group as that server stores it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...environments import Environment
from ...normalize import (
    dropped_group_fields,
    mark_rule_group,
    normalize_rule_group,
    owns_rule_group,
    rule_group_changed_since_publish,
    rule_group_mark,
)
from ..plan import Change, PlanContext, drift_diff
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

    def normalize(self, group: Mapping[str, Any]) -> dict[str, Any]:
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
                body = mark_rule_group(group, namespace, self.normalize)
                live = live_groups.get(name)
                if live is None:
                    changes.append(Change(self.name, key, "create", body=body, source=source))
                    continue
                have = self.normalize(live)
                owned = owns_rule_group(live, namespace)
                if have == want and owned:
                    changes.append(Change(self.name, key, "unchanged", source=source))
                    continue
                drift = ""
                if owned and rule_group_changed_since_publish(live, self.normalize):
                    drift = f"changed in {self.server} since the last publish"
                reason = ""
                if not owned:
                    reason = (
                        f"not marked as published by lgtm-dash: {'marks it' if have == want else 'replaced'}"
                    )
                changes.append(
                    Change(
                        self.name,
                        key,
                        "update",
                        reason=reason,
                        diff=drift_diff(have, want, drift),
                        body=body,
                        source=source,
                        drift=drift,
                    )
                )
            if ctx.options.prune:
                for name in sorted(set(live_groups) - desired_names):
                    changes += self._plan_delete(ctx, namespace, live_groups[name])
        live_count = sum(len(groups) for groups in live_rules.values())
        return self._fit_limit(changes, live_count, self.limit(ctx.env))

    def _plan_delete(self, ctx: PlanContext, namespace: str, live: dict[str, Any]) -> list[Change]:
        """A group out/ no longer defines: deleted only when its mark says lgtm-dash published it here."""
        key = f"{namespace}/{live.get('name')}"
        if not owns_rule_group(live, namespace):
            what = "a mark of another group" if rule_group_mark(live) else "no lgtm-dash mark"
            ctx.warnings.append(
                f"rule group {key} is not in out/ and carries {what}: not lgtm-dash's, never pruned "
                "(delete it by hand if it is stale)"
            )
            return []
        if rule_group_changed_since_publish(live, self.normalize) and not ctx.options.force:
            return [
                Change(
                    self.name,
                    key,
                    "conflict",
                    reason=f"no longer in out/, but changed in {self.server} since the last publish; "
                    "use --force to delete it",
                )
            ]
        return [Change(self.name, key, "delete", reason="no longer in out/")]

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
