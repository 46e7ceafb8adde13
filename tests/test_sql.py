"""SQL lint for the MySQL datasource: Grafana macro expansion, variables, sqlglot parsing, schema resolution,
and the `sql/*` checks (one failing and one passing case per rule)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lgtm_dash.errors import DefinitionError
from lgtm_dash.lint.checks.sql._shared import sql_problems
from lgtm_dash.lint.context import Catalog, LintContext
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.findings import Finding
from lgtm_dash.lint.inputs import LintInput, dashboard_doc
from lgtm_dash.lint.registry import all_checks
from lgtm_dash.lint.sql import (
    SqlMacroError,
    SqlRenderer,
    analyse_sql,
    expand_sql_macros,
    has_time_filter,
    parse_schema,
)
from tests.helpers import REPO, corpus, run_cli

SQL_CHECKS = [c for c in all_checks() if c.id.startswith("sql/")]
FROM_MS, TO_MS = 1_700_000_000_000, 1_700_003_600_000
SCHEMA_SQL = """
CREATE TABLE raw_message (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  message_type VARCHAR(64) NOT NULL,
  status ENUM('RECEIVED','PROCESSING','PROCESSED','FAILED') NOT NULL,
  trace_id CHAR(32) NULL,
  created_at DATETIME(3) NOT NULL,
  KEY idx_status_created (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE message_error (id BIGINT PRIMARY KEY, message_id BIGINT, error TEXT, created_at DATETIME);
CREATE VIEW failed_message AS SELECT id, trace_id AS trace FROM raw_message WHERE status = 'FAILED';
ALTER TABLE raw_message ADD COLUMN retries INT NOT NULL DEFAULT 0;
"""
SCHEMA = parse_schema(SCHEMA_SQL, "schema.sql")


def expand(sql: str, interval: str = "1m") -> str:
    return expand_sql_macros(sql, time_from=FROM_MS, time_to=TO_MS, interval=interval)


# ------------------------------------------------------------------------------------------------ macros


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("$__time(created_at)", "UNIX_TIMESTAMP(created_at) as time_sec"),
        ("$__timeEpoch(created_at)", "UNIX_TIMESTAMP(created_at) as time_sec"),
        (
            "$__timeFilter(created_at)",
            "created_at BETWEEN FROM_UNIXTIME(1700000000) AND FROM_UNIXTIME(1700003600)",
        ),
        ("$__timeFrom()", "FROM_UNIXTIME(1700000000)"),
        ("$__timeTo()", "FROM_UNIXTIME(1700003600)"),
        ("$__timeGroup(created_at, '5m')", "UNIX_TIMESTAMP(created_at) DIV 300 * 300"),
        ("$__timeGroup(created_at,'1h', 0)", "UNIX_TIMESTAMP(created_at) DIV 3600 * 3600"),
        ("$__timeGroup(created_at, '5m', previous)", "UNIX_TIMESTAMP(created_at) DIV 300 * 300"),
        ("$__timeGroupAlias(created_at, '5m', NULL)", 'UNIX_TIMESTAMP(created_at) DIV 300 * 300 AS "time"'),
        ("$__timeGroupAlias(created_at, $__interval)", 'UNIX_TIMESTAMP(created_at) DIV 60 * 60 AS "time"'),
        ("$__unixEpochFilter(ts)", "ts >= 1700000000 AND ts <= 1700003600"),
        ("$__unixEpochFrom()", "1700000000"),
        ("$__unixEpochTo()", "1700003600"),
        ("$__unixEpochNanoFilter(ns)", "ns >= 1700000000000000000 AND ns <= 1700003600000000000"),
        ("$__unixEpochNanoFrom()", "1700000000000000000"),
        ("$__unixEpochNanoTo()", "1700003600000000000"),
        ("$__unixEpochGroup(ts, '10m')", "ts DIV 600 * 600"),
        ("$__unixEpochGroupAlias(ts, '30s')", 'ts DIV 30 * 30 AS "time"'),
        ("$__interval_ms", "60000"),
        ("$__interval", "1m"),
        ("$__from", str(FROM_MS)),
        ("$__to", str(TO_MS)),
    ],
)
def test_macros_expand_as_grafana_writes_them(macro: str, expected: str) -> None:
    assert expand(f"SELECT {macro}") == f"SELECT {expected}"


def test_macro_arguments_may_hold_nested_parentheses_commas_and_strings() -> None:
    sql = "WHERE $__timeFilter(COALESCE(processed_at, created_at)) AND $__timeGroup(IF(a, b, c), '5m')"
    assert expand(sql) == (
        "WHERE COALESCE(processed_at, created_at) BETWEEN FROM_UNIXTIME(1700000000) AND FROM_UNIXTIME(1700003600)"
        " AND UNIX_TIMESTAMP(IF(a, b, c)) DIV 300 * 300"
    )
    assert expand("SELECT $__timeFilter(CONCAT(')', x))") == (
        "SELECT CONCAT(')', x) BETWEEN FROM_UNIXTIME(1700000000) AND FROM_UNIXTIME(1700003600)"
    )


def test_interval_macros_use_the_given_interval() -> None:
    assert expand("$__timeGroup(c, $__interval) / $__interval_ms", interval="15s") == (
        "UNIX_TIMESTAMP(c) DIV 15 * 15 / 15000"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT $__nope(created_at)", "undefined macro: $__nope"),
        ("SELECT $__timeGroup(created_at)", "needs a time column and an interval"),
        ("SELECT $__timeFilter()", "needs a time column"),
        ("SELECT $__timeGroup(created_at, 'soon')", "error parsing interval"),
        ("SELECT $__timeGroup(created_at, '5m', sometimes)", "error parsing fill value"),
        ("SELECT $__timeFilter(created_at", "no closing parenthesis"),
    ],
)
def test_bad_macros_raise_a_one_line_error(sql: str, message: str) -> None:
    with pytest.raises(SqlMacroError, match=r".*") as caught:
        expand(sql)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_time_filter_detection_looks_at_the_query_as_written() -> None:
    assert has_time_filter("SELECT 1 FROM t WHERE $__timeFilter(created_at)")
    assert has_time_filter("SELECT 1 FROM t WHERE ts > $__unixEpochFrom()")
    assert has_time_filter("SELECT 1 FROM t WHERE ts > ${__from:date:seconds}")
    assert not has_time_filter("SELECT 1 FROM t WHERE created_at > NOW() - INTERVAL 1 DAY")


# --------------------------------------------------------------------------------------------- variables


def renderer(*variables: Mapping[str, Any]) -> SqlRenderer:
    return SqlRenderer.for_templating(list(variables), time_from=FROM_MS, time_to=TO_MS)


def test_variables_render_with_the_sql_datasource_quoting() -> None:
    render = renderer(
        {"name": "status", "type": "custom", "multi": True, "current": {"value": ["FAILED", "O'Brien"]}},
        {"name": "type", "type": "query", "current": {"value": "order"}},
        {"name": "limit", "type": "custom", "query": "10,50"},
        {"name": "trace", "type": "textbox", "current": {"value": ""}},
    ).render
    assert render("WHERE status IN ($status)") == "WHERE status IN ('FAILED','O''Brien')"
    assert (
        render("WHERE status IN (${status:csv})") == "WHERE status IN (FAILED,O'Brien)"
    )  # explicit format wins
    assert render("WHERE message_type = '$type' LIMIT $limit") == "WHERE message_type = 'order' LIMIT 10"
    # no value: a string literal that keeps the query's shape, not an identifier that would look like a column
    assert render("WHERE trace_id = $trace") == "WHERE trace_id = 'trace'"


def test_variables_are_replaced_before_macros_and_inside_their_arguments() -> None:
    render = renderer({"name": "bucket", "type": "interval", "current": {"value": "10m"}}).render
    assert render("SELECT $__timeGroupAlias(created_at, $bucket)") == (
        'SELECT UNIX_TIMESTAMP(created_at) DIV 600 * 600 AS "time"'
    )
    assert render("SELECT $__timeGroupAlias(created_at, '$bucket')").endswith('DIV 600 * 600 AS "time"')


# ------------------------------------------------------------------------------------------------ schema


def test_schema_reads_tables_views_and_altered_columns() -> None:
    assert SCHEMA.columns["raw_message"] == (
        "id",
        "message_type",
        "status",
        "trace_id",
        "created_at",
        "retries",
    )
    assert SCHEMA.columns["failed_message"] == ("id", "trace")
    assert SCHEMA.columns["message_error"] == ("id", "message_id", "error", "created_at")


def test_schema_follows_alter_table_and_leaves_star_views_unchecked() -> None:
    schema = parse_schema(
        "CREATE TABLE t (a INT, b INT, c INT);"
        "ALTER TABLE t DROP COLUMN a, ADD COLUMN d INT;"
        "ALTER TABLE t RENAME COLUMN b TO b2;"
        "ALTER TABLE t CHANGE c c2 BIGINT;"
        "CREATE VIEW everything AS SELECT * FROM t;"
        "CREATE VIEW renamed (x, y) AS SELECT b2, c2 FROM t;"
    )
    assert schema.columns["t"] == ("b2", "c2", "d")
    assert schema.columns["renamed"] == ("x", "y")
    assert schema.columns["everything"] is None
    assert analyse_sql("SELECT whatever FROM everything", schema=schema) == ()
    assert [p.rule for p in analyse_sql("SELECT a FROM t", schema=schema)] == ["sql/unknown-column"]


def test_an_unparseable_schema_is_bad_input_naming_file_and_line() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_schema(
            "CREATE TABLE ok (id INT);\n\nCREATE TABLE broken (id INTT);\n", "datasources/mysql_schema.sql"
        )
    assert str(caught.value).startswith("datasources/mysql_schema.sql:3: cannot parse the MySQL schema")


# ---------------------------------------------------------------------------------------------- analysis


def rules(sql: str, fmt: str = "table") -> list[str]:
    return [p.rule for p in analyse_sql(sql, schema=SCHEMA, fmt=fmt)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT r.status AS state, COUNT(*) AS n FROM raw_message r GROUP BY state ORDER BY n DESC",
        "WITH recent AS (SELECT id, trace_id AS t FROM raw_message) SELECT t FROM recent",
        "SELECT x.n FROM (SELECT COUNT(*) AS n FROM raw_message) AS x",
        "SELECT STATUS, Trace_Id FROM raw_message",  # column names ignore case in MySQL
        "SELECT m.id, e.error FROM raw_message m LEFT JOIN message_error e ON e.message_id = m.id",
        "SELECT id FROM raw_message WHERE id IN (SELECT message_id FROM message_error WHERE message_id = raw_message.id)",
        "SELECT trace FROM failed_message",
        "SELECT COUNT(*) AS n FROM raw_message HAVING n > 1",
        "SELECT table_name FROM information_schema.tables",
        "SELECT NOW() AS now_, 1 + 1 AS two",
    ],
)
def test_resolution_understands_aliases_ctes_subqueries_and_joins(sql: str) -> None:
    assert rules(sql) == []


@pytest.mark.parametrize(
    ("sql", "rule", "fragment"),
    [
        ("SELECT status FROM raw_mesage", "sql/unknown-table", "did you mean 'raw_message'"),
        ("SELECT stauts FROM raw_message", "sql/unknown-column", "did you mean 'status'"),
        ("SELECT r.nope FROM raw_message r", "sql/unknown-column", "'nope'"),
        (
            "SELECT id FROM raw_message JOIN message_error USING (created_at)",
            "sql/unknown-column",
            "ambiguous",
        ),
        ("SELECT status FROM raw_message WHERE", "sql/syntax", "cannot parse"),
        ("SELECT FROM raw_message", "sql/syntax", "SELECT without columns"),
        ("SELECT status, FROM raw_message", "sql/syntax", "a comma before FROM"),
        ("SELECT id FROM raw_message WHERE id IN (1, 2,)", "sql/syntax", "a comma before )"),
        ("SELEC id FROM raw_message", "sql/syntax", "cannot parse"),
    ],
)
def test_resolution_reports_what_mysql_would_refuse(sql: str, rule: str, fragment: str) -> None:
    problems = analyse_sql(sql, schema=SCHEMA)
    assert [p.rule for p in problems] == [rule]
    assert fragment in problems[0].message
    assert "\n" not in problems[0].message


def test_without_a_schema_only_syntax_and_shape_are_checked() -> None:
    assert analyse_sql("SELECT whatever FROM anywhere", schema=None) == ()
    assert [p.rule for p in analyse_sql("SELECT 1 +", schema=None)] == ["sql/syntax"]


def test_time_series_shape_needs_a_time_column() -> None:
    assert (
        rules("SELECT created_at AS time, COUNT(*) AS n FROM raw_message GROUP BY created_at", "time_series")
        == []
    )
    assert (
        rules(expand("SELECT $__timeGroupAlias(created_at, '5m'), 1 AS n FROM raw_message"), "time_series")
        == []
    )
    assert rules("SELECT status, COUNT(*) AS n FROM raw_message GROUP BY status", "time_series") == [
        "sql/time-series-shape"
    ]
    assert rules("SELECT status, COUNT(*) AS n FROM raw_message GROUP BY status", "table") == []
    assert rules("SELECT * FROM raw_message", "time_series") == [
        "sql/time-series-shape"
    ]  # * expanded via schema


# ------------------------------------------------------------------------------------- the sql/* checks


def mysql_dashboard(*targets: Mapping[str, Any], templating: list[Any] | None = None) -> dict[str, Any]:
    return {
        "uid": "orders",
        "title": "Orders",
        "templating": {"list": templating or []},
        "panels": [
            {
                "id": 7,
                "type": "table",
                "title": "Recent messages",
                "datasource": {"type": "mysql", "uid": "db"},
                "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
                "targets": [{"refId": chr(ord("A") + i), **t} for i, t in enumerate(targets)],
            }
        ],
    }


def lint_sql(
    data: Mapping[str, Any], tmp_path: Path, *, sources: Mapping[str, str] | None = None
) -> list[Finding]:
    """The lint engine with every registered sql/* check, on one dashboard with SCHEMA_SQL as the schema."""
    (tmp_path / "schema.sql").write_text(SCHEMA_SQL)
    catalog = Catalog(metrics={}, common_labels=frozenset(), loki={}, mysql={"schema": "schema.sql"})
    doc = dashboard_doc(data, "orders.json", sources or {})
    ctx = LintContext(LintInput(dashboards=[doc]), catalog, tmp_path)
    checks = [c for c in all_checks() if c.id.startswith("sql/")]
    return [
        f for c in checks for q in ctx.queries if q.language in c.languages for f in c.check_query(q, ctx)
    ]


GOOD_TIME_SERIES = (
    "SELECT $__timeGroupAlias(created_at, $__interval), COUNT(*) AS messages FROM raw_message "
    "WHERE $__timeFilter(created_at) GROUP BY 1 ORDER BY 1"
)
RULE_CASES = {
    "sql/syntax": ("SELECT status, FROM raw_message", "SELECT status FROM raw_message"),
    "sql/macro": (
        "SELECT $__timeGroupAlias(created_at) FROM raw_message WHERE $__timeFilter(created_at)",
        "SELECT $__timeGroupAlias(created_at, '5m') FROM raw_message WHERE $__timeFilter(created_at)",
    ),
    "sql/unknown-table": ("SELECT id FROM raw_messages", "SELECT id FROM raw_message"),
    "sql/unknown-column": ("SELECT id, error FROM raw_message", "SELECT id, status FROM raw_message"),
    "sql/time-series-shape": (
        "SELECT created_at, COUNT(*) AS n FROM raw_message WHERE $__timeFilter(created_at) GROUP BY created_at",
        GOOD_TIME_SERIES,
    ),
    "sql/time-filter": (
        "SELECT $__timeGroupAlias(created_at, '5m'), COUNT(*) AS n FROM raw_message GROUP BY 1",
        GOOD_TIME_SERIES,
    ),
}


def test_every_registered_sql_rule_has_a_case() -> None:
    assert {c.id for c in SQL_CHECKS} == set(RULE_CASES)


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_each_rule_flags_the_bad_query_and_passes_the_good_one(rule: str, tmp_path: Path) -> None:
    bad, good = RULE_CASES[rule]
    fmt = "time_series" if rule.startswith("sql/time") else "table"
    bad_findings = lint_sql(mysql_dashboard({"rawSql": bad, "format": fmt, "rawQuery": True}), tmp_path)
    assert [f.rule for f in bad_findings] == [rule], bad_findings
    good_findings = lint_sql(mysql_dashboard({"rawSql": good, "format": fmt, "rawQuery": True}), tmp_path)
    assert good_findings == []


def test_a_finding_names_dashboard_panel_query_and_the_python_line(tmp_path: Path) -> None:
    data = mysql_dashboard(
        {"rawSql": "SELECT 1 AS ok", "format": "table"}, {"rawSql": "SELECT nope FROM raw_message"}
    )
    sources = {
        "dashboard:orders": "dashboards/orders.py:3",
        "dashboard:orders/panel:7": "dashboards/orders.py:21",
    }
    [finding] = lint_sql(data, tmp_path, sources=sources)
    assert (finding.rule, finding.severity, finding.file, finding.line) == (
        "sql/unknown-column",
        "error",
        "dashboards/orders.py",
        21,
    )
    assert (finding.dashboard, finding.panel, finding.query) == (
        "orders",
        "Recent messages",
        "SELECT nope FROM raw_message",
    )
    assert "dashboard 'orders'" in finding.message and "'Recent messages'" in finding.message
    assert "query B" in finding.message and "'nope'" in finding.message


def test_template_variable_queries_are_checked_too(tmp_path: Path) -> None:
    variable = {
        "name": "type",
        "type": "query",
        "datasource": {"type": "mysql", "uid": "db"},
        "query": "SELECT DISTINCT message_kind FROM raw_message",
    }
    findings = lint_sql(mysql_dashboard(templating=[variable]), tmp_path)
    assert [(f.rule, f.panel) for f in findings] == [("sql/unknown-column", None)]
    assert "variable 'type'" in findings[0].message


def test_a_missing_or_broken_schema_file_is_bad_input_not_a_finding(tmp_path: Path) -> None:
    doc = dashboard_doc(mysql_dashboard({"rawSql": "SELECT 1"}), "orders.json")
    catalog = Catalog(metrics={}, common_labels=frozenset(), loki={}, mysql={"schema": "schema.sql"})
    with pytest.raises(DefinitionError, match="does not exist"):
        lint(LintInput(dashboards=[doc]), catalog, checks=SQL_CHECKS, project=tmp_path)
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id INT);\nCREATE TABLE u (id INTEGRAL);\n")
    with pytest.raises(DefinitionError, match=r"schema.sql:2: cannot parse the MySQL schema"):
        lint(LintInput(dashboards=[doc]), catalog, checks=SQL_CHECKS, project=tmp_path)


# ------------------------------------------------------------------------ Grafana's own MySQL dashboards


def test_grafana_devenv_mysql_dashboards_expand_and_parse() -> None:
    """Every rawSql of Grafana's MySQL test dashboards expands and parses; no schema, so no resolution."""
    folder = corpus("dashboards/mysql-grafana-devenv")
    checked = 0
    unexpected: list[str] = []
    for path in sorted(folder.glob("*.json")):
        doc = dashboard_doc(json.loads(path.read_text()), path.name)
        ctx = LintContext(LintInput(dashboards=[doc]))
        for query in (q for q in ctx.queries if q.language == "sql"):
            checked += 1
            for problem in sql_problems(query, ctx):
                # the only finding these dashboards deserve: one time_series panel reads its whole table
                if problem.rule != "sql/time-filter":
                    unexpected.append(f"{path.name} {query.label}: {problem.rule} {problem.message}")
    assert checked >= 40, checked  # every SQL query of those dashboards, as measured
    assert unexpected == []


# ------------------------------------------------------------------------------------ through the CLI


def plant_in_repository_copy(project: Path, old: str, new: str) -> Path:
    """Replace the first `old` after the first sql_target( of the MySQL dashboard module in a project copy."""
    shutil.copy(REPO / "catalog.yaml", project / "catalog.yaml")
    module = project / "dashboards" / "raw_message_status.py"
    source = module.read_text()
    at = source.index(old, source.index("sql_target("))
    module.write_text(source[:at] + new + source[at + len(old) :])
    return module


def test_lint_cli_reports_a_planted_sql_error_at_the_python_line(project_copy: Path) -> None:
    plant_in_repository_copy(project_copy, "FROM raw_message", "FROM raw_messages")
    assert run_cli("--project", str(project_copy), "build").returncode == 0
    done = run_cli("--project", str(project_copy), "lint", "--format", "json")
    findings = [f for f in json.loads(done.stdout) if f["rule"].startswith("sql/")]
    assert done.returncode == 1
    assert [(f["rule"], f["file"], f["dashboard"]) for f in findings] == [
        ("sql/unknown-table", "dashboards/raw_message_status.py", "qgx-raw-message-status")
    ]
    assert findings[0]["line"] > 0 and "did you mean 'raw_message'" in findings[0]["message"]


def test_lint_cli_refuses_a_broken_schema_with_exit_2_and_one_line(project_copy: Path) -> None:
    shutil.copy(REPO / "catalog.yaml", project_copy / "catalog.yaml")
    assert run_cli("--project", str(project_copy), "build").returncode == 0
    schema = project_copy / "datasources" / "mysql_schema.sql"
    schema.write_text(schema.read_text() + "\nCREATE TABLE broken (id INTEGRAL);\n")
    done = run_cli("--project", str(project_copy), "lint")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    broken_line = len(schema.read_text().splitlines())  # the broken statement is the last line
    assert line.startswith(
        f"error: datasources/mysql_schema.sql:{broken_line}: cannot parse the MySQL schema"
    )
