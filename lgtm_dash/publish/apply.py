"""Apply a plan: only what changed, in dependency order, a few objects at a time.

Stages come from the kinds (`publish.kinds`): each kind's early stages in kind order (datasources,
folders by depth, dashboards, rule groups, Alertmanager), then their late stages (deletions) in reverse;
objects within a stage run concurrently. A failed object does not stop the others, but whatever depends
on it (a dashboard on its folder, a folder deletion on its dashboards' deletion) is skipped.

Only an `AuthError` (401, or 403 on a read) stops everything: no later request can succeed with that
credential. A 403 on a write is that object's refusal (`Refused`, with the server's reason): it fails
alone. A 409/412 is a conflict: the object changed since it was read; so is a deletion a kind refuses
at the last moment (`UnsafeToApply`: a folder that is no longer empty).

Ctrl-C stops it too: nothing new starts, what is in flight gets a few seconds to finish, and the result
says what was applied (`interrupted`), so publish can still write its report.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ..clients.http import AuthError, Refused, VersionConflict, abandon_requests
from ..errors import LgtmError
from .kinds import KINDS, ApplyContext, UnsafeToApply, kind_of
from .plan import Change, Clients, Plan

# After Ctrl-C, how long requests already sent may take to answer (their outcome is then known).
INTERRUPT_GRACE_SECONDS = 5.0

STATUS_FOR_ACTION = {"create": "created", "update": "updated", "delete": "deleted"}


@dataclass
class Outcome:
    change: Change
    status: str  # created | updated | deleted | unchanged | conflict | failed | skipped | interrupted
    error: str = ""  # why it failed or conflicted; for a done change, what the server answered
    refused: bool = False  # failed because the server answered 403 to the write


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    auth_error: AuthError | None = None
    interrupted: bool = False  # Ctrl-C: what is listed was done; the rest was not started

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("created", "updated", "deleted", "unchanged")]
        parts += [
            f"{self.count(s)} {s}" for s in ("conflict", "failed", "skipped", "interrupted") if self.count(s)
        ]
        return ", ".join(parts)

    def refused_services(self) -> list[str]:
        """Services that refused every write attempted with 403 (a credential without write rights)."""
        tried: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            if o.status in ("created", "updated", "deleted", "failed"):
                tried.setdefault(kind_of(o.change.kind).service, []).append(o)
        return sorted(service for service, done in tried.items() if all(o.refused for o in done))


def stages(plan: Plan) -> list[list[Change]]:
    """The pending changes grouped into stages that must run in order."""
    pending = plan.pending
    early: list[list[Change]] = []
    late: list[list[Change]] = []
    for kind in KINDS:
        first, last = kind.stages([c for c in pending if c.kind == kind.name])
        early += first
        late = last + late
    return [stage for stage in early + late if stage]


def apply_plan(
    plan: Plan,
    clients: Clients,
    *,
    message: str,
    force: bool = False,
    concurrency: int = 4,
    on_done: Callable[[Outcome], None] | None = None,
) -> ApplyResult:
    result = ApplyResult(
        outcomes=[
            Outcome(c, c.action, c.reason if c.action == "conflict" else "")
            for c in plan.changes
            if c.action in ("unchanged", "conflict")
        ]
    )
    blocked: set[str] = {c.ref for c in plan.changes if c.action == "conflict"}
    context = ApplyContext(clients=clients, message=message, force=force)
    lock = threading.Lock()
    stop = threading.Event()
    why_stopped = ["stopped after an authentication failure"]

    def run(change: Change) -> Outcome:
        if stop.is_set():
            return Outcome(change, "skipped", why_stopped[0])
        failed_deps = [d for d in change.depends_on if d in blocked]
        if failed_deps:
            return Outcome(change, "skipped", f"depends on {', '.join(failed_deps)}, which was not applied")
        try:
            detail = kind_of(change.kind).apply(change, context)
            return Outcome(change, STATUS_FOR_ACTION[change.action], detail)
        except AuthError as err:
            stop.set()
            with lock:
                result.auth_error = result.auth_error or err
            return Outcome(change, "failed", str(err))
        except VersionConflict as err:
            return Outcome(change, "conflict", f"changed while publishing ({err}); run publish again")
        except UnsafeToApply as err:
            return Outcome(change, "conflict", str(err))
        except Refused as err:
            return Outcome(change, "failed", str(err), refused=True)
        except LgtmError as err:
            return Outcome(change, "failed", str(err))

    def record(outcome: Outcome) -> None:
        if outcome.status in ("failed", "skipped", "conflict", "interrupted"):
            blocked.add(outcome.change.ref)
        result.outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)

    for stage in stages(plan):
        if result.interrupted:
            for change in stage:
                record(Outcome(change, "skipped", "not started: publish was interrupted"))
            continue
        pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(stage))))
        futures = [(change, pool.submit(run, change)) for change in stage]
        done = 0
        try:
            for _change, future in futures:
                outcome = future.result()
                done += 1
                record(outcome)
        except KeyboardInterrupt:
            result.interrupted = True
            why_stopped[0] = "not started: publish was interrupted"
            stop.set()
            for outcome in _settle(futures[done:]):
                record(outcome)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return result


def _settle(futures: list[tuple[Change, Future[Outcome]]]) -> list[Outcome]:
    """After Ctrl-C: the queued changes are not started; those in flight get a few seconds to answer."""
    in_flight = [future for _change, future in futures if not future.cancel()]
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop waiting
        wait(in_flight, timeout=INTERRUPT_GRACE_SECONDS)
    abandon_requests()  # what still waits for an answer stops now, so the process can exit
    outcomes = []
    for change, future in futures:
        if future.cancelled():
            outcomes.append(Outcome(change, "skipped", "not started: publish was interrupted"))
        elif future.done():
            outcomes.append(future.result())
        else:
            outcomes.append(
                Outcome(change, "interrupted", "was being applied when publish was interrupted: check it")
            )
    return outcomes
