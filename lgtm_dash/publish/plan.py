"""Plan: desired state (out/) against live state (Grafana, Mimir, Loki), object by object.

Every object gets one action: create, update, unchanged, delete or conflict. Nothing here writes. Each
kind of object (datasources, folders, dashboards, rule groups, the Alertmanager config) plans and applies
itself in its own module under `publish.kinds`; this module holds what they share and runs them in
dependency order. Ownership and drift are decided from what the servers really keep and return
(docs/server-contract.md); see each kind's module docstring for its rules.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifacts import Artifacts, build_hint
from ..clients.grafana import Grafana
from ..clients.http import DEFAULT_TIMEOUT, RetryPolicy
from ..clients.loki import LokiRuler
from ..clients.mimir import Mimir
from ..environments import Environment
from ..errors import DefinitionError, UsageError
from ..normalize import canonical_json
from ..secrets import basic_credentials, expand, placeholders_in
from .foldertree import FolderTree, desired_tree

MESSAGE_PREFIX = "lgtm-dash publish"
ACTIONS = ("create", "update", "delete", "unchanged", "conflict")
MAX_DIFF_LINES = 80


@dataclass(frozen=True)
class Change:
    """One object's planned action. `body` is what apply sends; `ref` is `<kind>:<key>`."""

    kind: str
    key: str
    action: str
    reason: str = ""
    diff: str = ""
    body: Any = None
    live: Any = None
    live_version: int | None = None
    depends_on: tuple[str, ...] = ()
    source: str | None = None
    depth: int = 0  # folders: nesting level, so parents are created first and deleted last
    replace: bool = False  # apply as delete + create (a Mimir tenant at its rule-group limit)
    # Drift: the object was changed on the server since lgtm-dash last wrote it (by whom, when known).
    # Shown in the plan; apply still writes what out/ says.
    drift: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    force: bool = False
    update_secrets: bool = False
    concurrency: int = 4  # writes in flight (apply)
    # Reads in flight while planning: GETs are idempotent and cheap for the server, and reading back
    # every dashboard is what bounds a no-op publish.
    read_concurrency: int = 32


@dataclass
class Plan:
    env: Environment
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def pending(self) -> list[Change]:
        """What apply would do (conflicts are never applied)."""
        return [c for c in self.changes if c.action in ("create", "update", "delete")]

    def summary(self) -> str:
        line = (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('delete')} to delete, {self.count('unchanged')} unchanged"
        )
        conflicts = self.count("conflict")
        if conflicts:
            line += f", {conflicts} conflict{'s' if conflicts != 1 else ''}"
        return line


@dataclass
class Clients:
    """The live instances; each is None when out/ has nothing for it. Kinds find theirs by attribute."""

    grafana: Grafana | None
    mimir: Mimir | None
    loki: LokiRuler | None = None


@dataclass
class PlanContext:
    """What every kind's planner reads; `witnessed_folders` is filled by the dashboards kind."""

    env: Environment
    arts: Artifacts
    clients: Clients
    options: PlanOptions
    environ: Mapping[str, str]
    warnings: list[str]
    changes: list[Change] = field(default_factory=list)  # planned so far (earlier kinds first)
    witnessed_folders: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # for planning threads
    _folder_tree: FolderTree | None = field(default=None, repr=False)

    def folder_tree(self) -> FolderTree:
        """out/'s folders with their depths, computed once (DefinitionError for a cycle)."""
        if self._folder_tree is None:
            self._folder_tree = desired_tree(self.arts)
        return self._folder_tree

    def witness_folders(self, uids: Iterable[str]) -> None:
        """Record folders a published dashboard's marker names (called from planning threads)."""
        with self.lock:
            self.witnessed_folders.update(uids)

    def source(self, key: str) -> str | None:
        return self.arts.sourcemap.get(key)

    def parallel(self, items: Iterable[Any], work: Callable[[Any], Any]) -> list[Any]:
        return parallel(items, work, self.options.read_concurrency)


# --- desired state ------------------------------------------------------------------------------------


def check_environment(arts: Artifacts, env: Environment) -> None:
    if arts.env is None:
        raise DefinitionError(f"{arts.root} has no build.json: build it first with `{build_hint(env.name)}`")
    if arts.env != env.name:
        raise UsageError(
            f"{arts.root} was built for environment {arts.env!r}, not {env.name!r}: "
            f"run `{build_hint(env.name)}` and pass that directory as --out (or `make plan ENV={env.name}`)"
        )


def require_variables(arts: Artifacts, environ: Mapping[str, str]) -> None:
    """Fail (naming all of them at once) when variables the artifacts' `${VAR}` placeholders need are unset."""
    needed: dict[str, list[str]] = {}
    for entry in arts.datasources:
        for name in sorted(placeholders_in(entry)):
            needed.setdefault(name, []).append(f"datasource {entry.get('uid')}")
    if arts.alertmanager:
        for name in sorted(_braced_placeholders(arts.alertmanager)):
            needed.setdefault(name, []).append("the Alertmanager config")
    missing = [name for name in sorted(needed) if name not in environ]
    if missing:
        listed = "; ".join(f"{name} (needed by {', '.join(needed[name])})" for name in missing)
        raise UsageError(f"environment variable{'s' if len(missing) > 1 else ''} not set: {listed}")


def secret_values(env: Environment, arts: Artifacts, environ: Mapping[str, str]) -> dict[str, str]:
    """Every secret value this run may handle, by variable name, for redaction."""
    names = set(env.secret_variables())
    for entry in arts.datasources:
        names |= placeholders_in(entry.get("secureJsonData") or {})
    if arts.alertmanager:
        names |= _braced_placeholders(arts.alertmanager)
    values = {name: environ[name] for name in names if environ.get(name)}
    for label, value in (
        ("grafana token", env.grafana.token),
        ("grafana password", env.grafana.password),
        ("grafana basic auth", basic_credentials(env.grafana.user, env.grafana.password)),
        ("mimir key", env.mimir.key),
        ("mimir basic auth", basic_credentials(env.mimir.user or env.mimir.tenant, env.mimir.key)),
        ("loki key", env.loki.key if env.loki is not None else None),
        (
            "loki basic auth",
            basic_credentials(env.loki.user or env.loki.tenant, env.loki.key)
            if env.loki is not None
            else None,
        ),
    ):
        if value:
            values[label] = value
    return values


class _PlaceholderRecorder(Mapping[str, str]):
    """An environment that knows every variable and remembers which ones were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return ""

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self):  # pragma: no cover - Mapping protocol only
        return iter(self.asked)

    def __len__(self) -> int:  # pragma: no cover
        return len(self.asked)


def _braced_placeholders(value: object) -> set[str]:
    """`${VAR}` names in a Mimir artifact (Go templates' `$labels` are not placeholders there)."""
    recorder = _PlaceholderRecorder()
    expand(value, recorder, grafana_escapes=False)
    return recorder.asked


def commit_message(project: Path) -> str:
    """`lgtm-dash publish <short sha>[ (dirty)]`: stored with each dashboard version."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=project, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{MESSAGE_PREFIX} {sha}{' (dirty)' if dirty else ''}"


def make_clients(
    env: Environment,
    arts: Artifacts,
    options: PlanOptions,
    retry: RetryPolicy,
    secrets: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Clients:
    needs_grafana = bool(arts.datasources or arts.folders or arts.dashboards or options.prune)
    needs_mimir = bool(arts.rule_namespaces or arts.alertmanager)
    loki = None
    if arts.loki_rule_namespaces:
        if env.loki is None or not env.loki.tenant:
            raise UsageError(
                f"{arts.root} holds Loki rules, but environment {env.name!r} names no Loki ruler: add "
                f"environments.{env.name}.loki (address, tenant) to environments.yaml, or set LOKI_ADDRESS "
                "and LOKI_TENANT_ID"
            )
        loki = LokiRuler(env.loki, retry=retry, secrets=secrets, timeout=timeout)
    return Clients(
        grafana=Grafana(env.grafana, retry=retry, secrets=secrets, timeout=timeout)
        if needs_grafana
        else None,
        mimir=Mimir(env.mimir, retry=retry, secrets=secrets, timeout=timeout) if needs_mimir else None,
        loki=loki,
    )


# --- comparing ----------------------------------------------------------------------------------------


DRIFT_LABEL = "live (changed there since the last publish)"


def drift_diff(have: Any, want: Any, drift: str) -> str:
    """The diff of live against out/, its live side labelled as drift when the server changed it."""
    return text_diff(have, want, DRIFT_LABEL if drift else "live")


def text_diff(live: Any, desired: Any, live_name: str = "live", desired_name: str = "out/") -> str:
    lines = list(
        difflib.unified_diff(
            canonical_json(live).splitlines(),
            canonical_json(desired).splitlines(),
            live_name,
            desired_name,
            n=2,
            lineterm="",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def parallel(items: Iterable[Any], work: Callable[[Any], Any], concurrency: int) -> list[Any]:
    items = list(items)
    if len(items) <= 1 or concurrency <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(work, items))


# --- the plan -----------------------------------------------------------------------------------------


def _refuse_empty_prune(arts: Artifacts, changes: list[Change]) -> None:
    from .kinds import KINDS

    desired = {kind.name: kind.desired_count(arts) for kind in KINDS if kind.prunes}
    if not any(desired.values()):
        raise UsageError(
            f"--prune refuses to run: {arts.root} holds nothing to publish, so it would delete everything"
        )
    for kind, count in desired.items():
        doomed = [c for c in changes if c.kind == kind and c.action == "delete"]
        if count == 0 and doomed:
            raise UsageError(
                f"--prune refuses to delete every managed {kind} ({len(doomed)} in total): "
                f"{arts.root} defines none; delete them by hand if that is really intended"
            )


def compute_plan(
    env: Environment,
    arts: Artifacts,
    clients: Clients,
    options: PlanOptions,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    from .kinds import KINDS

    environ = os.environ if environ is None else environ
    check_environment(arts, env)
    require_variables(arts, environ)  # every missing secret is named, before any request
    plan = Plan(env=env)
    ctx = PlanContext(env, arts, clients, options, environ, plan.warnings)
    active = [kind for kind in KINDS if getattr(clients, kind.service) is not None]
    for kind in active:
        kind.check_desired(ctx)  # bad input (a missing secret, a folder cycle) fails before any request
    for kind in active:
        ctx.changes += kind.plan(ctx)
    for kind in active:
        ctx.changes += kind.plan_after(ctx)
    if options.prune:
        _refuse_empty_prune(arts, ctx.changes)
    order = [kind.name for kind in KINDS]
    plan.changes = sorted(ctx.changes, key=lambda c: (order.index(c.kind), c.key))
    return plan
