"""What the SQL rules share (the work itself is in `lgtm_dash.lint.sql`).

Every query is rendered once per run as Grafana would send it (variables, then macros) and analysed once per
distinct rendered text; each `sql/...` rule reports the problems of its own rule id.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import ClassVar

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check
from ...sql import (
    RenderedSql,
    Schema,
    SqlProblem,
    SqlRenderer,
    analyse_sql,
    has_time_filter,
    load_schema,
    render_target,
)

# Per lint run: the renderer of each dashboard and the problems of each query (shared by the checks below).
_RUNS: weakref.WeakKeyDictionary[LintContext, _RunState] = weakref.WeakKeyDictionary()


class _RunState:
    def __init__(self, ctx: LintContext):
        self.schema = _schema_of(ctx)
        # Of the dashboard being checked (its queries come one after the other): memory stays flat.
        self.dashboard: object = None
        self.renderers: dict[int, SqlRenderer] = {}
        self.problems: dict[tuple[int, str, str, str], tuple[SqlProblem, ...]] = {}

    def about(self, query: Query) -> _RunState:
        if query.dashboard is not self.dashboard:
            self.dashboard = query.dashboard
            self.renderers.clear()
            self.problems.clear()
        return self


def _schema_of(ctx: LintContext) -> Schema | None:
    """The schema named by the catalog (`mysql: {schema: path}`, relative to the project), if any."""
    catalog = ctx.catalog
    relative = (
        catalog.mysql.get("schema") if catalog is not None and isinstance(catalog.mysql, Mapping) else None
    )
    if not isinstance(relative, str) or not relative or ctx.project is None:
        return None
    return load_schema(ctx.project / relative)


def target_format(query: Query) -> str:
    """The `format` of the panel target a query came from ("table" when unset, as in current Grafana)."""
    if query.origin != "panel" or query.panel is None:
        return "table"
    for target in query.panel.data.get("targets") or []:
        if isinstance(target, Mapping) and str(target.get("refId") or "") == query.ref:
            return str(target.get("format") or "table")
    return "table"


def _state(ctx: LintContext) -> _RunState:
    state = _RUNS.get(ctx)
    if state is None:
        state = _RUNS[ctx] = _RunState(ctx)
    return state


def rendered_sql(query: Query, ctx: LintContext) -> RenderedSql:
    """A query as MySQL would receive it (variables, then macros), rendered as every SQL check sees it."""
    state = _state(ctx).about(query)
    dashboard_key = id(query.dashboard)
    renderer = state.renderers.get(dashboard_key)
    if renderer is None:
        templating = query.dashboard.templating if query.dashboard is not None else []
        renderer = state.renderers[dashboard_key] = SqlRenderer.for_templating(templating)
    return render_target(query.text, renderer)


def sql_problems(query: Query, ctx: LintContext) -> tuple[SqlProblem, ...]:
    """All SQL problems of one query, computed once per run whichever check asks first.

    A query whose language was only guessed from its `rawSql` field (unknown datasource) may be PostgreSQL or
    MSSQL: MySQL rules would be false alarms there, so it is left alone.
    """
    if not query.certain:
        return ()
    state = _state(ctx).about(query)
    fmt = target_format(query)
    key = (id(query.dashboard), query.origin, fmt, query.text)
    cached = state.problems.get(key)
    if cached is not None:
        return cached
    rendered = rendered_sql(query, ctx)
    problems: tuple[SqlProblem, ...]
    if rendered.problem is not None or rendered.text is None:
        problems = (rendered.problem,) if rendered.problem else ()
    else:
        problems = analyse_sql(rendered.text, schema=state.schema, fmt=fmt)
        if fmt == "time_series" and not has_time_filter(query.text):
            problems += (
                SqlProblem(
                    "sql/time-filter",
                    Severity.WARNING,
                    "a time_series query without $__timeFilter(col) (or $__unixEpochFilter) reads the whole table",
                ),
            )
    state.problems[key] = problems
    return problems


class SqlCheck(Check):
    languages: ClassVar[frozenset[str]] = frozenset({"sql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        for problem in sql_problems(query, ctx):
            if problem.rule == self.id:
                message = f"{query.label}: {problem.message}: `{one_line(query.text)}`"
                yield self.report(ctx, message, severity=problem.severity, query=query)
