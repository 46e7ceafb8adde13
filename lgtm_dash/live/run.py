"""One live lint run: route every query to its server, gather the answers, apply the rules.

`live_answers(ctx, options)` returns `LiveAnswers`: what each query asked which server, what the servers
answered, and how many requests it took. The lint engine then runs the `live/...` rules over it like any
other rule (lgtm_dash/lint/checks/live/), and `LintContext.metric_type` reads its metadata.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..clients.prometheus_api import Window
from ..clients.query import Deadline, RetryPolicy
from ..durations import parse_duration_ms
from ..environments import Environment
from ..errors import DefinitionError, UsageError
from ..lint.context import LintContext, Query
from ..lint.sql import SqlRenderer, render_target
from ..source import SourceLocation
from .gather import Gatherer, ServerState
from .selectors import (
    LokiSelector,
    PromSelector,
    expanded,
    interpolators_by_dashboard,
    loki_selectors,
    prom_selectors,
)
from .targets import KIND_OF_LANGUAGE, LOKI_RULER, RULER, datasource_uid, direct_target, grafana_target

DEFAULT_SINCE = "7d"
DEFAULT_CONCURRENCY = 8
DEFAULT_TIME_BUDGET_S = 120.0
# Metadata types a type-based rule can judge by (a `histogram` family may be a native histogram: rate() takes it).
JUDGED_TYPES = frozenset({"counter", "gauge", "info", "stateset"})


@dataclass(frozen=True)
class LiveOptions:
    env: Environment
    since: str = DEFAULT_SINCE
    via_grafana: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    retry: RetryPolicy | None = None
    environ: Mapping[str, str] | None = None
    now: float | None = None  # Unix seconds; tests pin it
    strict: bool = False  # live findings are errors, not warnings (`lint --strict`)

    def window(self) -> Window:
        ms = parse_duration_ms(self.since)
        if not ms or ms <= 0:
            raise UsageError(f"--since: not a duration: {self.since!r} (e.g. 7d, 24h, 90m)")
        end = int(self.now if self.now is not None else time.time())
        return Window(start=end - ms // 1000, end=end, text=self.since)


@dataclass(frozen=True)
class QueryUse:
    """What one query asks one server: its PromQL or LogQL selectors, or its rendered SQL."""

    state: ServerState
    prom: tuple[PromSelector, ...] = ()
    loki: tuple[LokiSelector, ...] = ()
    sql: str | None = None

    @property
    def server(self) -> str:
        """The datasource as findings name it."""
        return _server_name(self.state)


@dataclass(frozen=True)
class DatasourceState:
    """One datasource of the run as the `live/unreachable` and `live/incomplete` rules report it."""

    name: str
    location: SourceLocation
    failed: str | None  # unreachable, refused the credentials, or not configured: nothing was checked
    problems: tuple[str, ...] = ()  # questions that got no answer


@dataclass
class LiveAnswers:
    """What the servers of one environment answered for the queries of one lint run. The `live/...` rules
    (lgtm_dash/lint/checks/live/) judge it; `LintContext.metric_type` reads its metadata."""

    options: LiveOptions
    window: Window
    uses: dict[int, list[QueryUse]] = field(default_factory=dict)  # id(query) -> what it asks
    servers: list[ServerState] = field(default_factory=list)
    unconfigured: dict[str, str] = field(default_factory=dict)  # datasource uid -> why it has no server
    requests: int = 0
    seconds: float = 0.0
    queries: int = 0  # queries routed to a server

    @property
    def strict(self) -> bool:
        return self.options.strict

    @property
    def nothing_checked(self) -> bool:
        return bool(self.servers) and not any(s.checked for s in self.servers)

    def uses_of(self, query: Query) -> list[QueryUse]:
        """What a query asked of servers that answered."""
        return [use for use in self.uses.get(id(query), ()) if use.state.checked]

    def where(self, server: str | None = None) -> str:
        """What every live finding says it asked: environment, datasource, window."""
        asked = f", {server}" if server else ""
        return f"[env {self.options.env.name}{asked}, last {self.window.text}]"

    @cached_property
    def _metric_types(self) -> dict[str, str | None]:
        types: dict[str, set[str]] = {}
        for state in self.servers:
            if state.checked and state.target.kind == "prometheus":
                for name in state.metric_names or ():
                    kind = state.metric_type(name)
                    if kind in JUDGED_TYPES:
                        types.setdefault(name, set()).add(kind)
        return {name: kinds.pop() if len(kinds) == 1 else None for name, kinds in types.items()}

    def metric_type(self, name: str) -> str | None:
        """The type the servers' metadata gives a metric, when the servers that know it agree.

        Only counters and gauge-like types: a `histogram` family can be a native histogram, which rate() takes.
        """
        return self._metric_types.get(name)

    def datasources(self) -> list[DatasourceState]:
        """Every datasource asked (or that could not be), by name."""
        found = []
        for state in self.servers:
            for uid in sorted(state.uids):
                if uid == RULER and len(state.uids) > 1:
                    continue  # the ruler's tenant is one of the datasources: reported under its name
                name = _server_name(state) if uid in (RULER, LOKI_RULER) else uid
                problems = list(state.failures)
                if state.not_asked:
                    problems.append(
                        f"{state.not_asked} question(s) not asked: the time budget of "
                        f"{self.options.time_budget_s:g} s was spent"
                    )
                found.append(
                    DatasourceState(name, _location(self.options.env, uid), state.failed, tuple(problems))
                )
        for uid, reason in sorted(self.unconfigured.items()):
            found.append(DatasourceState(uid, self.options.env.location, reason))
        return found


def live_answers(
    ctx: LintContext, options: LiveOptions, make_gatherer: Callable[..., Gatherer] = Gatherer
) -> LiveAnswers:
    """Route every query of `ctx` to its server and ask the servers (`make_gatherer`: how; the examples of
    the rules' docs answer from what they say the servers hold)."""
    started = time.perf_counter()
    window = options.window()
    gatherer = make_gatherer(
        window,
        concurrency=options.concurrency,
        deadline=Deadline.after(options.time_budget_s),
        retry=options.retry,
    )
    answers = LiveAnswers(options, window)
    sql_renderers: dict[int, SqlRenderer] = {}
    environ = os.environ if options.environ is None else options.environ
    for query, interpolator in interpolators_by_dashboard(list(ctx.queries)):
        uid = datasource_uid(query, ctx)
        if uid is None or uid in answers.unconfigured or (query.language == "sql" and not query.certain):
            continue
        kind = KIND_OF_LANGUAGE[query.language]
        try:
            if options.via_grafana:
                target = grafana_target(uid, kind, options.env, ctx)
            else:
                target = direct_target(uid, kind, options.env, environ)
        except DefinitionError as err:
            answers.unconfigured[uid] = err.message
            continue
        state = gatherer.server(target, uid)
        if query.language == "sql":
            rendered = _rendered_sql(query, sql_renderers)
            use = QueryUse(state, sql=_sql_shape(rendered) if rendered else None)
        else:
            text = expanded(query, interpolator)
            if text is None:
                continue
            if query.language == "promql":
                use = QueryUse(state, prom=tuple(prom_selectors(text, query.origin)))
                for selector in use.prom:
                    gatherer.want_prom(state, selector)
            else:
                use = QueryUse(state, loki=tuple(loki_selectors(text)))
                for stream in use.loki:
                    gatherer.want_loki(state, stream)
        answers.uses.setdefault(id(query), []).append(use)
    answers.queries = len(answers.uses)
    gatherer.run()
    answers.servers = list(gatherer.servers.values())
    answers.requests = gatherer.requests_made
    answers.seconds = time.perf_counter() - started
    return answers


def _server_name(state: ServerState) -> str:
    name = state.target.name
    return f"{name} via Grafana" if state.target.via == "grafana" else name


def _location(env: Environment, uid: str) -> SourceLocation:
    settings = env.datasources.get(uid)
    return settings.location if settings is not None and settings.location else env.location


_SQL_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'")


def _sql_shape(sql: str) -> str:
    """The query with every '...' literal emptied: tables and columns do not depend on literals, and
    queries that differ only in them are then analysed once (analyse_sql caches per text)."""
    return _SQL_STRING.sub("''", sql)


def _rendered_sql(query: Query, renderers: dict[int, SqlRenderer]) -> str | None:
    renderer = renderers.get(id(query.dashboard))
    if renderer is None:
        templating = query.dashboard.templating if query.dashboard is not None else []
        renderer = renderers[id(query.dashboard)] = SqlRenderer.for_templating(templating)
    return render_target(query.text, renderer).text
