"""What a kind of published object provides: how to plan it, apply it, and order it.

A kind is one module under `publish.kinds` with one `Kind` subclass; `publish.kinds.KINDS` lists them in
dependency order (what must exist first comes first). Adding a kind (say Loki rule groups, through a Loki
ruler client in `lgtm_dash.clients`) means writing one such class and listing it there: planning,
applying, staging, reporting and the `--prune` safety net pick it up from the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...artifacts import Artifacts
from ...errors import EXIT_FINDINGS, LgtmError
from ..plan import Change, Clients, PlanContext


class UnsafeToApply(LgtmError):
    """Raised by `Kind.apply` when a last check finds the change unsafe (a folder to delete is no longer
    empty, or what it holds cannot be checked). That object is a conflict; the others go on."""

    exit_code = EXIT_FINDINGS


@dataclass(frozen=True)
class ApplyContext:
    clients: Clients
    message: str  # stored with each dashboard version
    force: bool


class Kind:
    """One kind of object. Subclasses set the class attributes and implement `plan` and `apply`."""

    name: ClassVar[str]  # the `kind` of its changes ("dashboard")
    service: ClassVar[str]  # the attribute of `Clients` it talks to ("grafana")
    prunes: ClassVar[bool] = False  # whether `--prune` may delete objects of this kind

    def client(self, clients: Clients) -> Any:
        return getattr(clients, self.service)

    def check_desired(self, ctx: PlanContext) -> None:
        """Raise DefinitionError/UsageError for bad desired state, before any request."""

    def plan(self, ctx: PlanContext) -> list[Change]:
        raise NotImplementedError

    def plan_after(self, ctx: PlanContext) -> list[Change]:
        """Changes that need every kind's plan first (e.g. folder deletions wait for dashboards)."""
        return []

    def desired_count(self, arts: Artifacts) -> int:
        """How many objects of this kind out/ defines (`--prune` refuses to delete all of a kind)."""
        return 0

    def stages(self, pending: list[Change]) -> tuple[list[list[Change]], list[list[Change]]]:
        """(early, late): early stages run in kind order, late ones in reverse kind order after them."""
        upserts = [c for c in pending if c.action != "delete"]
        deletes = [c for c in pending if c.action == "delete"]
        return [upserts], [deletes]

    def apply(self, change: Change, ctx: ApplyContext) -> str:
        """Do one change; the text returned (may be empty) is shown beside the outcome."""
        raise NotImplementedError
