"""One live lint run: route every query to its server, gather the answers, apply the rules.

`live_lint(ctx, options)` returns a `LiveReport`: the rule results (each naming its query or datasource),
the servers asked and how many requests it took. `adapter.to_findings` makes lint findings of it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..durations import parse_duration_ms
from ..environments import Environment
from ..errors import DefinitionError, UsageError
from ..lint.context import LintContext, Query
from ..lint.sql import SqlRenderer, analyse_sql, render_target
from ..source import SourceLocation
from .gather import Gatherer, ServerState
from .prometheus import Window
from .rules import LOKI_RULES, PROM_RULES, SQL_RULES, Incomplete, Unreachable
from .selectors import expanded, interpolators_by_dashboard, loki_selectors, prom_selectors
from .targets import KIND_OF_LANGUAGE, LOKI_RULER, RULER, datasource_uid, direct_target, grafana_target
from .transport import Deadline, RetryPolicy

DEFAULT_SINCE = "7d"
DEFAULT_CONCURRENCY = 8
DEFAULT_TIME_BUDGET_S = 120.0


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

    def window(self) -> Window:
        ms = parse_duration_ms(self.since)
        if not ms or ms <= 0:
            raise UsageError(f"--since: not a duration: {self.since!r} (e.g. 7d, 24h, 90m)")
        end = int(self.now if self.now is not None else time.time())
        return Window(start=end - ms // 1000, end=end, text=self.since)


@dataclass(frozen=True)
class LiveResult:
    rule: str
    message: str
    server: str  # the datasource as findings name it
    query: Query | None = None
    location: SourceLocation | None = None  # for results about a datasource rather than a query


@dataclass
class LiveReport:
    results: list[LiveResult] = field(default_factory=list)
    servers: list[ServerState] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    queries: int = 0  # queries routed to a server
    window: Window | None = None

    @property
    def nothing_checked(self) -> bool:
        return bool(self.servers) and not any(s.checked for s in self.servers)


@dataclass
class _Use:
    query: Query
    state: ServerState
    prom: list = field(default_factory=list)
    loki: list = field(default_factory=list)
    sql: str | None = None


def live_lint(ctx: LintContext, options: LiveOptions) -> LiveReport:
    started = time.perf_counter()
    window = options.window()
    gatherer = Gatherer(
        window,
        concurrency=options.concurrency,
        deadline=Deadline.after(options.time_budget_s),
        retry=options.retry,
    )
    report = LiveReport(window=window)
    unconfigured: dict[str, str] = {}
    uses: list[_Use] = []
    sql_renderers: dict[int, SqlRenderer] = {}
    environ = os.environ if options.environ is None else options.environ
    for query, interpolator in interpolators_by_dashboard(list(ctx.queries)):
        uid = datasource_uid(query, ctx)
        if uid is None or uid in unconfigured or (query.language == "sql" and not query.certain):
            continue
        kind = KIND_OF_LANGUAGE[query.language]
        try:
            if options.via_grafana:
                target = grafana_target(uid, kind, options.env, ctx)
            else:
                target = direct_target(uid, kind, options.env, environ)
        except DefinitionError as err:
            unconfigured[uid] = err.message
            continue
        state = gatherer.server(target, uid)
        use = _Use(query, state)
        if query.language == "sql":
            use.sql = _rendered_sql(query, sql_renderers)
        else:
            text = expanded(query, interpolator)
            if text is None:
                continue
            if query.language == "promql":
                use.prom = prom_selectors(text, query.origin)
                for selector in use.prom:
                    gatherer.want_prom(state, selector)
            else:
                use.loki = loki_selectors(text)
                for selector in use.loki:
                    gatherer.want_loki(state, selector)
        uses.append(use)
    report.queries = len(uses)
    gatherer.run()

    recorded = frozenset(ctx.recording_rules)
    seen: set[tuple[int, str, str]] = set()
    for use in uses:
        if not use.state.checked:
            continue
        server = _server_name(use.state)
        produced: list[tuple[str, str]] = []
        for selector in use.prom:
            produced += [
                (rule.id, m) for rule in PROM_RULES for m in rule.prom(selector, use.state, recorded)
            ]
        for selector in use.loki:
            produced += [(rule.id, m) for rule in LOKI_RULES for m in rule.loki(selector, use.state)]
        if use.sql and use.state.schema is not None:
            problems = [
                (p.rule, p.message) for p in analyse_sql(_sql_shape(use.sql), schema=use.state.schema)
            ]
            produced += [(rule.id, m) for rule in SQL_RULES for m in rule.sql(problems)]
        for rule_id, message in produced:
            key = (id(use.query), rule_id, message)
            if key not in seen:
                seen.add(key)
                report.results.append(LiveResult(rule_id, message, server, query=use.query))

    for state in gatherer.servers.values():
        report.servers.append(state)
        for uid in sorted(state.uids):
            if uid == RULER and len(state.uids) > 1:
                continue  # the ruler's tenant is one of the datasources: reported under its name
            location = _location(options.env, uid)
            name = _server_name(state) if uid in (RULER, LOKI_RULER) else uid
            if state.failed:
                report.results.append(
                    LiveResult(
                        Unreachable.id, f"{name}: not checked: {state.failed}", name, location=location
                    )
                )
                continue
            problems = list(state.failures)
            if state.not_asked:
                problems.append(
                    f"{state.not_asked} question(s) not asked: the time budget of {options.time_budget_s:g} s "
                    "was spent"
                )
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                message = f"{name}: some queries were not fully checked: {problems[0]}{more}"
                report.results.append(LiveResult(Incomplete.id, message, name, location=location))
    for uid, reason in sorted(unconfigured.items()):
        report.results.append(
            LiveResult(Unreachable.id, f"{uid}: not checked: {reason}", uid, location=options.env.location)
        )
    report.requests = gatherer.requests_made
    report.seconds = time.perf_counter() - started
    return report


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
