"""Every SQL query of the repository's dashboards runs on a real MariaDB loaded with the repository's schema.

The queries are taken from a fresh build of the repository and rendered exactly as the linter renders them
(variables, then Grafana's MySQL macros, for the linter's fixed time range); the server runs with MySQL 8's
default sql_mode. A planted query with a missing column is rejected by both the linter and the server.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lgtm_dash.compile import build
from lgtm_dash.lint.checks.sql._shared import rendered_sql, target_format
from lgtm_dash.lint.context import Catalog, LintContext, Query
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.inputs import DashboardDoc, read_out_tree
from lgtm_dash.lint.registry import all_checks
from lgtm_dash.lint.sql import (
    DEFAULT_FROM_MS,
    DEFAULT_TO_MS,
    TIME_COLUMNS,
    RenderedSql,
    SqlRenderer,
    render_target,
)
from tests.helpers import REPO, require_binary
from tests.mariadb import MariaDB, QueryFailed, seed

pytestmark = pytest.mark.tools

DATABASE = "qgx"
SQL_CHECKS = [c for c in all_checks() if c.id.startswith("sql/")]
ROWS_PER_TABLE = 60


def schema_path(project: Path) -> Path:
    return project / Catalog.load(project / "catalog.yaml").mysql["schema"]


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    require_binary("mariadbd")
    require_binary("mariadb-install-db")
    require_binary("mariadb")
    db = MariaDB.start(tmp_path_factory.mktemp("mariadb"))
    try:
        db.execute(f"CREATE DATABASE {DATABASE}")
        db.execute(schema_path(REPO).read_text(), database=DATABASE)
        seeded = seed(
            db,
            DATABASE,
            rows=ROWS_PER_TABLE,
            time_from_s=DEFAULT_FROM_MS // 1000,
            time_to_s=DEFAULT_TO_MS // 1000,
        )
        assert seeded, "the schema created no tables"
        yield db
    finally:
        db.stop()


def sql_queries(project: Path, out: Path) -> tuple[LintContext, list[Query]]:
    build(project, "dev", out)
    ctx = LintContext(read_out_tree(out), Catalog.load(project / "catalog.yaml"), project)
    return ctx, [q for q in ctx.queries if q.language == "sql"]


@pytest.fixture(scope="module")
def repository_queries(tmp_path_factory: pytest.TempPathFactory) -> tuple[LintContext, list[Query]]:
    return sql_queries(REPO, tmp_path_factory.mktemp("build") / "out")


def run_all(
    db: MariaDB, queries: list[Query], render: Callable[[Query], RenderedSql]
) -> tuple[list[str], dict[str, int]]:
    """Run every query: (failures naming dashboard, panel and query with the server's message,
    rows returned by each time_series query)."""
    failures: list[str] = []
    time_series_rows: dict[str, int] = {}
    for query in queries:
        rendered = render(query)
        if rendered.text is None:
            failures.append(f"{query.label}: cannot render: {rendered.problem}")
            continue
        try:
            result = db.query(rendered.text, database=DATABASE)
        except QueryFailed as err:
            failures.append(f"{query.label}: {err}\n    {rendered.text}")
            continue
        if target_format(query) == "time_series":
            if not TIME_COLUMNS & {c.lower() for c in result.columns}:
                failures.append(f"{query.label}: time_series query returned no time column: {result.columns}")
            time_series_rows[query.label] = len(result.rows)
    return failures, time_series_rows


def test_every_dashboard_sql_query_runs_on_mariadb(
    mariadb: MariaDB, repository_queries: tuple[LintContext, list[Query]]
) -> None:
    ctx, queries = repository_queries
    assert queries, "the repository's dashboards have no MySQL queries to run"
    failures, _ = run_all(mariadb, queries, lambda query: rendered_sql(query, ctx))
    assert not failures, f"{len(failures)} of {len(queries)} queries failed:\n" + "\n".join(failures)


def test_with_variable_values_from_the_server_the_time_series_see_the_data(
    mariadb: MariaDB, repository_queries: tuple[LintContext, list[Query]]
) -> None:
    """As in Grafana: each MySQL query variable offers what its query returns, "All" selects every value."""
    ctx, queries = repository_queries
    renderers: dict[int, SqlRenderer] = {}

    def render(query: Query) -> RenderedSql:
        dashboard = query.dashboard
        assert dashboard is not None
        if id(dashboard) not in renderers:
            renderers[id(dashboard)] = SqlRenderer.for_templating(
                server_values(mariadb, ctx, dashboard, queries)
            )
        return render_target(query.text, renderers[id(dashboard)])

    failures, time_series_rows = run_all(mariadb, queries, render)
    assert not failures, "\n".join(failures)
    # the generated rows lie in the rendered time range: the time filters and groupings select them
    assert time_series_rows and any(time_series_rows.values()), time_series_rows


def server_values(db: MariaDB, ctx: LintContext, dashboard: DashboardDoc, queries: list[Query]) -> list[Any]:
    """The dashboard's templating with each MySQL query variable set to every value its query returns."""
    by_name = {q.ref: q for q in queries if q.origin == "variable" and q.dashboard is dashboard}
    entries: list[Any] = []
    for entry in dashboard.templating:
        query = by_name.get(str(entry.get("name")))
        if query is not None and query.text:
            text = rendered_sql(query, ctx).text or ""
            values = [row[0] for row in db.query(text, database=DATABASE).rows]
            entry = {**entry, "current": {"value": values, "text": values}}
        entries.append(entry)
    return entries


def test_the_linter_agrees_that_the_repository_queries_are_clean(
    repository_queries: tuple[LintContext, list[Query]],
) -> None:
    ctx, _ = repository_queries
    findings = lint(ctx.input, ctx.catalog, checks=SQL_CHECKS, project=REPO)
    assert [f"{f.file}:{f.line}: {f.rule} {f.message}" for f in findings] == []


def test_a_planted_missing_column_is_rejected_by_linter_and_server(
    mariadb: MariaDB, project_copy: Path, tmp_path: Path
) -> None:
    shutil.copy(REPO / "catalog.yaml", project_copy / "catalog.yaml")
    module = project_copy / "dashboards" / "raw_message_status.py"
    source = module.read_text()
    first_sql = source.index("sql_target(")
    select = source.index("SELECT", first_sql)
    module.write_text(source[:select] + "SELECT no_such_column, " + source[select + len("SELECT") :])
    planted_line = source.count("\n", 0, select) + 1

    ctx, queries = sql_queries(project_copy, tmp_path / "out")
    planted = [q for q in queries if "no_such_column" in q.text]
    assert len(planted) == 1
    query = planted[0]

    findings = lint(ctx.input, ctx.catalog, checks=SQL_CHECKS, project=project_copy)
    assert [f.rule for f in findings] == ["sql/unknown-column"], findings
    finding = findings[0]
    assert finding.dashboard == "qgx-raw-message-status"
    assert finding.panel == query.panel.title
    assert finding.file == "dashboards/raw_message_status.py"
    # the finding points at the panel that holds the query: at or just above the planted SQL
    assert 0 < planted_line - finding.line < 25, (finding.line, planted_line)
    assert "'no_such_column'" in finding.message and query.panel.title in finding.message

    rendered = rendered_sql(query, ctx)
    with pytest.raises(QueryFailed, match=re.escape("Unknown column 'no_such_column'")):
        mariadb.query(rendered.text or "", database=DATABASE)
