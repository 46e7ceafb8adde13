"""SQL for Grafana's MySQL datasource: macro expansion, parsing with sqlglot, resolution against a schema.

A query goes through the same steps Grafana applies before MySQL sees it (`SqlRenderer.render`):

1. `$__interval` / `$__interval_ms` get the panel interval (Grafana's SQL backend does the same, and the
   generic interpolation would otherwise put its duration placeholder there);
2. template variables through `lgtm_dash.lint.interpolate` with the SQL datasource's quoting: a multi-value
   or include-All variable is written like `${var:sqlstring}` (`'a','b'`), a single value as is, and a
   variable without a value becomes a string literal naming it (so `status IN ($status)` keeps its shape);
3. the macros (`expand_sql_macros`): `$__timeFilter(col)`, `$__timeGroupAlias(col, '5m')`... exactly as
   Grafana's MySQL macro engine writes them, for a fixed time range.

`analyse_sql` then parses the result with sqlglot's MySQL dialect and resolves tables and columns against
the schema (`load_schema`: the CREATE TABLE / CREATE VIEW / ALTER TABLE statements of a .sql file). Both the
parsed schema and each analysed query text are cached, because a large workspace repeats the same queries.
The lint rules that turn these problems into findings live in `lgtm_dash/lint/checks/sql/`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ..durations import parse_duration_ms
from ..errors import DefinitionError
from ..source import SourceLocation, display_path
from . import interpolate
from .findings import Severity

DEFAULT_FROM_MS = interpolate.FROM_MS
DEFAULT_TO_MS = interpolate.TO_MS
DEFAULT_INTERVAL = "1m"

# Schemas MySQL always has: queries against them cannot be checked against the project's schema.
SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})
# Output columns Grafana accepts as the time of a time_series query.
TIME_COLUMNS = frozenset({"time", "time_sec"})
# Anything that limits a query to the dashboard's time range.
TIME_RANGE_REFERENCES = re.compile(
    r"\$(?:__timeFilter|__unixEpochFilter|__unixEpochNanoFilter|__timeFrom|__timeTo|__unixEpochFrom"
    r"|__unixEpochTo|__unixEpochNanoFrom|__unixEpochNanoTo)\s*\(|\$\{?__(?:from|to)\b"
)

_MACRO_CALL = re.compile(r"\$(__\w+)\(")
_INTERVAL_MS = re.compile(r"\$__interval_ms\b|\$\{__interval_ms\}")
_INTERVAL = re.compile(r"\$__interval\b|\$\{__interval\}")
_FROM = re.compile(r"\$__from\b")
_TO = re.compile(r"\$__to\b")


class SqlMacroError(ValueError):
    """A macro Grafana's MySQL datasource would refuse (unknown name, missing or bad argument)."""


# ------------------------------------------------------------------------------------------------ macros


def expand_sql_macros(
    sql: str,
    *,
    time_from: int = DEFAULT_FROM_MS,
    time_to: int = DEFAULT_TO_MS,
    interval: str = DEFAULT_INTERVAL,
) -> str:
    """`sql` with Grafana's MySQL macros and time variables replaced; times are epoch milliseconds.

    Raises SqlMacroError for an unknown macro, a missing argument, a bad interval or fill value.
    """
    interval_ms = _interval_ms(interval)
    text = _INTERVAL_MS.sub(str(interval_ms), sql)
    text = _INTERVAL.sub(interval, text)
    text = _FROM.sub(str(time_from), text)
    text = _TO.sub(str(time_to), text)
    return _expand_macros(text, _MacroContext(time_from, time_to))


@dataclass(frozen=True)
class _MacroContext:
    from_ms: int
    to_ms: int

    @property
    def from_s(self) -> int:
        return self.from_ms // 1000

    @property
    def to_s(self) -> int:
        return self.to_ms // 1000


def _expand_macros(text: str, context: _MacroContext) -> str:
    out: list[str] = []
    pos = 0
    while (match := _MACRO_CALL.search(text, pos)) is not None:
        out.append(text[pos : match.start()])
        close = _closing_parenthesis(text, match.end() - 1)
        if close is None:
            raise SqlMacroError(f"${match.group(1)}( has no closing parenthesis")
        # Arguments may themselves hold macros (rare, but Grafana allows it).
        inner = _expand_macros(text[match.end() : close], context)
        out.append(_evaluate_macro(match.group(1), _split_arguments(inner), context))
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)


def _closing_parenthesis(text: str, opening: int) -> int | None:
    """Index of the `)` matching the `(` at `opening`, skipping nested parentheses and quoted strings."""
    depth = 0
    index = opening
    while index < len(text):
        char = text[index]
        if char in "'\"`":
            end = _string_end(text, index)
            if end is None:
                return None
            index = end
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _string_end(text: str, start: int) -> int | None:
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\" and quote != "`":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return None


def _split_arguments(text: str) -> list[str]:
    """Split at top-level commas (not inside parentheses or strings), trimming each argument."""
    if not text.strip():
        return []
    arguments: list[str] = []
    depth = 0
    start = index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"`":
            index = _string_end(text, index) or len(text)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(text[start:index].strip())
            start = index + 1
        index += 1
    arguments.append(text[start:].strip())
    return arguments


def _interval_ms(text: str) -> int:
    ms = parse_duration_ms(text.strip().strip("'\"").strip())
    if ms is None or ms <= 0:
        raise SqlMacroError(f"error parsing interval {text!r}")
    return ms


def _interval_s(text: str) -> int:
    """Grafana groups by whole seconds (at least one)."""
    return max(_interval_ms(text) // 1000, 1)


def _check_fill(name: str, arguments: list[str]) -> None:
    if len(arguments) < 3:
        return
    fill = arguments[2].strip("'\"")
    if fill.upper() in ("NULL", "PREVIOUS"):
        return
    try:
        float(fill)
    except ValueError:
        raise SqlMacroError(f"${name}: error parsing fill value {arguments[2]!r}") from None


def _need(name: str, arguments: list[str], count: int, what: str) -> None:
    if len(arguments) < count or not all(arguments[:count]):
        raise SqlMacroError(f"macro ${name} needs {what}")


def _evaluate_macro(name: str, arguments: list[str], context: _MacroContext) -> str:
    """One macro as Grafana's MySQL macro engine writes it."""
    match name:
        case "__time" | "__timeEpoch":
            _need(name, arguments, 1, "a time column")
            return f"UNIX_TIMESTAMP({arguments[0]}) as time_sec"
        case "__timeFilter":
            _need(name, arguments, 1, "a time column")
            return f"{arguments[0]} BETWEEN FROM_UNIXTIME({context.from_s}) AND FROM_UNIXTIME({context.to_s})"
        case "__timeFrom":
            return f"FROM_UNIXTIME({context.from_s})"
        case "__timeTo":
            return f"FROM_UNIXTIME({context.to_s})"
        case "__timeGroup" | "__timeGroupAlias":
            _need(name, arguments, 2, "a time column and an interval")
            _check_fill(name, arguments)
            seconds = _interval_s(arguments[1])
            group = f"UNIX_TIMESTAMP({arguments[0]}) DIV {seconds} * {seconds}"
            return group + (' AS "time"' if name == "__timeGroupAlias" else "")
        case "__unixEpochFilter":
            _need(name, arguments, 1, "a time column")
            column = arguments[0]
            return f"{column} >= {context.from_s} AND {column} <= {context.to_s}"
        case "__unixEpochFrom":
            return str(context.from_s)
        case "__unixEpochTo":
            return str(context.to_s)
        case "__unixEpochNanoFilter":
            _need(name, arguments, 1, "a time column")
            column = arguments[0]
            return f"{column} >= {context.from_ms * 1_000_000} AND {column} <= {context.to_ms * 1_000_000}"
        case "__unixEpochNanoFrom":
            return str(context.from_ms * 1_000_000)
        case "__unixEpochNanoTo":
            return str(context.to_ms * 1_000_000)
        case "__unixEpochGroup" | "__unixEpochGroupAlias":
            _need(name, arguments, 2, "a time column and an interval")
            _check_fill(name, arguments)
            seconds = _interval_s(arguments[1])
            group = f"{arguments[0]} DIV {seconds} * {seconds}"
            return group + (' AS "time"' if name == "__unixEpochGroupAlias" else "")
    raise SqlMacroError(f"undefined macro: ${name}")


def has_time_filter(sql: str) -> bool:
    """Whether a query (as written, before expansion) limits itself to the dashboard's time range."""
    return TIME_RANGE_REFERENCES.search(sql) is not None


# ------------------------------------------------------------------------------------------- variables


@dataclass(frozen=True)
class SqlRenderer:
    """Renders the SQL queries of one dashboard as Grafana would send them: build once per dashboard."""

    interpolator: interpolate.Interpolator
    quoted_variables: frozenset[str] = frozenset()  # multi-value / include-All: quoted like sqlstring
    time_from: int = DEFAULT_FROM_MS
    time_to: int = DEFAULT_TO_MS
    interval: str = DEFAULT_INTERVAL

    @classmethod
    def for_templating(cls, entries: Sequence[Any] | None, **time: Any) -> SqlRenderer:
        base = interpolate.Interpolator.for_templating(list(entries or ()), keep_macros=True)
        quoted = frozenset(
            str(entry.get("name"))
            for entry in entries or ()
            if isinstance(entry, Mapping) and (entry.get("multi") or entry.get("includeAll"))
        )
        variables = {name: _with_sql_placeholder(var, name in quoted) for name, var in base.variables.items()}
        return cls(replace(base, variables=variables), quoted, **time)

    def render(self, sql: str) -> str:
        """The query MySQL would receive. Raises SqlMacroError or interpolate.InterpolationError."""
        text = _INTERVAL_MS.sub(str(_interval_ms(self.interval)), sql)
        text = _INTERVAL.sub(self.interval, text)
        if self.quoted_variables:
            text = interpolate.VARIABLE_PATTERN.sub(self._quote_reference, text)
        text = self.interpolator(text)
        return expand_sql_macros(text, time_from=self.time_from, time_to=self.time_to, interval=self.interval)

    def _quote_reference(self, match: re.Match[str]) -> str:
        name = match.group("plain") or match.group("legacy") or match.group("braced")
        explicit = match.group("legacy_format") or match.group("format") or match.group("fieldpath")
        if name in self.quoted_variables and not explicit:
            return "${" + name + ":sqlstring}"
        return match.group(0)


def _with_sql_placeholder(variable: interpolate.Variable, quoted: bool) -> interpolate.Variable:
    """A single-value variable without a value stands for a string, as a SQL literal naming it."""
    if (variable.values and variable.values != ("",)) or quoted or variable.kind == "interval":
        return variable
    literal = "'" + variable.name.replace("'", "''") + "'"
    return replace(variable, values=(literal,), texts=(literal,))


# ---------------------------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Schema:
    """Tables (case-sensitive, as on Linux MySQL) and their columns (lower case: MySQL ignores case).

    A table's columns are None when the schema does not spell them out (a view over `SELECT *`): queries on
    it are not checked column by column.
    """

    tables: tuple[tuple[str, tuple[str, ...] | None], ...]
    source: str = ""

    @property
    def columns(self) -> Mapping[str, tuple[str, ...] | None]:
        return _columns_of(self)

    @property
    def column_sets(self) -> Mapping[str, frozenset[str]]:
        return _column_sets(self)

    def for_sqlglot(self) -> Any:
        return _sqlglot_schema(self)


@cache
def _columns_of(schema: Schema) -> Mapping[str, tuple[str, ...] | None]:
    return dict(schema.tables)


@cache
def _column_sets(schema: Schema) -> Mapping[str, frozenset[str]]:
    return {table: frozenset(columns) for table, columns in schema.tables if columns is not None}


@cache
def _sqlglot_schema(schema: Schema) -> Any:
    """sqlglot's schema object, built once per run (from a plain dict, qualify would rebuild it per query)."""
    from sqlglot.schema import MappingSchema

    tables: dict[str, object] = {
        table: dict.fromkeys(columns, "TEXT") for table, columns in schema.tables if columns is not None
    }
    return MappingSchema(tables, dialect="mysql")


def load_schema(path: Path) -> Schema:
    """The schema in a .sql file; parsed once per file version. Bad SQL → DefinitionError naming file:line."""
    try:
        stat = path.stat()
    except OSError:
        raise DefinitionError(
            "the MySQL schema named in catalog.yaml (mysql.schema) does not exist", display_path(path)
        ) from None
    return _load_schema(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_schema(path: Path, _mtime_ns: int, _size: int) -> Schema:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read the MySQL schema: {err}", display_path(path)) from None
    return parse_schema(text, display_path(path))


def parse_schema(text: str, source: str = "<schema>") -> Schema:
    """Tables and columns from CREATE TABLE, CREATE VIEW and ALTER TABLE (ADD, DROP, RENAME, CHANGE COLUMN)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(text, read="mysql")
    except sqlglot.errors.ParseError as err:
        detail = err.errors[0] if err.errors else {}
        location = SourceLocation(source, int(detail.get("line") or 0))
        raise DefinitionError(
            f"cannot parse the MySQL schema: {detail.get('description', 'syntax error')}", location
        ) from None
    except sqlglot.errors.TokenError as err:
        raise DefinitionError(f"cannot parse the MySQL schema: {_first_line(str(err))}", source) from None

    tables: dict[str, list[str] | None] = {}
    for statement in statements:
        kind = str(statement.args.get("kind") or "").upper() if statement is not None else ""
        if isinstance(statement, exp.Create) and kind in ("TABLE", "VIEW"):
            target = statement.this
            if isinstance(target, exp.Schema):  # CREATE TABLE t (col ...) / CREATE VIEW v (col, ...) AS ...
                names = [
                    c.name.lower()
                    for c in target.expressions
                    if isinstance(c, exp.ColumnDef | exp.Identifier)
                ]
                tables[target.this.name] = names
            elif isinstance(target, exp.Table):  # CREATE TABLE t AS SELECT / CREATE VIEW v AS SELECT
                query = statement.expression
                tables[target.name] = _output_columns(query) if isinstance(query, exp.Query) else None
        elif isinstance(statement, exp.Alter) and statement.this is not None:
            columns = tables.get(statement.this.name)
            if columns is not None:
                for action in statement.args.get("actions") or ():
                    _alter_columns(columns, action)
    return Schema(
        tables=tuple((name, None if cols is None else tuple(cols)) for name, cols in tables.items()),
        source=source,
    )


def _alter_columns(columns: list[str], action: Any) -> None:
    """Apply one ALTER TABLE action to a table's column list, in place."""
    from sqlglot import exp

    if isinstance(action, exp.ColumnDef):
        columns.append(action.name.lower())
    elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
        for dropped in action.args.get("tables") or [action.this]:
            if dropped is not None and dropped.name.lower() in columns:
                columns.remove(dropped.name.lower())
    elif (
        isinstance(action, exp.RenameColumn) and action.this is not None and action.args.get("to") is not None
    ):
        old, new = action.this.name.lower(), action.args["to"].name.lower()
        columns[:] = [new if c == old else c for c in columns]
    elif isinstance(action, exp.ModifyColumn) and action.args.get("rename_from") is not None:
        old, new = action.args["rename_from"].name.lower(), action.this.name.lower()
        columns[:] = [new if c == old else c for c in columns]


def _output_columns(query: Any) -> list[str] | None:
    """Names of a query's output columns, None when a `*` hides them."""
    from sqlglot import exp

    select = query
    while isinstance(select, exp.SetOperation):
        select = select.left
    if not isinstance(select, exp.Select):
        return None
    names: list[str] = []
    for expression in select.expressions:
        if isinstance(expression, exp.Star) or (
            isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
        ):
            return None
        names.append(expression.alias_or_name.lower())
    return names


# -------------------------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class SqlProblem:
    """What is wrong with one rendered query; the lint checks add dashboard, panel and file:line."""

    rule: str
    severity: Severity
    message: str


def analyse_sql(sql: str, *, schema: Schema | None = None, fmt: str = "table") -> tuple[SqlProblem, ...]:
    """Problems of one rendered query: syntax, unknown tables and columns, a time_series without `time`."""
    if not sql.strip():
        return ()
    return _analyse(sql, schema, "time_series" if fmt == "time_series" else "table")


@lru_cache(maxsize=8192)
def _analyse(sql: str, schema: Schema | None, fmt: str) -> tuple[SqlProblem, ...]:
    import sqlglot
    from sqlglot import exp

    dialect = sqlglot.Dialect.get_or_raise("mysql")
    try:
        tokens = dialect.tokenize(sql)
        if (dangling := _trailing_comma(tokens)) is not None:
            return (SqlProblem("sql/syntax", Severity.ERROR, f"cannot parse: a comma before {dangling}"),)
        statements = [s for s in dialect.parser().parse(tokens, sql) if s is not None]
    except sqlglot.errors.ParseError as err:
        return (SqlProblem("sql/syntax", Severity.ERROR, _syntax_message(err, sql)),)
    except sqlglot.errors.TokenError as err:
        return (SqlProblem("sql/syntax", Severity.ERROR, f"cannot tokenize: {_first_line(str(err))}"),)
    except Exception as err:  # sqlglot has internal errors on odd input: still a finding, never a crash
        return (SqlProblem("sql/syntax", Severity.ERROR, f"cannot parse: {type(err).__name__}: {err}"),)

    problems: list[SqlProblem] = []
    for number, statement in enumerate(statements):
        if isinstance(statement, exp.Command):  # sqlglot's fallback for text it could not parse
            return (
                SqlProblem(
                    "sql/syntax", Severity.ERROR, f"cannot parse: {_first_line(statement.sql())[:60]}"
                ),
            )
        if not isinstance(statement, exp.Query):
            continue
        if any(not select.expressions for select in statement.find_all(exp.Select)):
            # sqlglot accepts `SELECT FROM t`; MySQL does not.
            problems.append(SqlProblem("sql/syntax", Severity.ERROR, "cannot parse: SELECT without columns"))
            continue
        resolved = None
        if schema is not None:
            table_problems = _unknown_tables(statement, schema)
            problems.extend(table_problems)
            if (
                not table_problems
                and not _uses_system_schema(statement)
                and _columns_known(statement, schema)
            ):
                if _resolves_plainly(statement, schema):
                    error, resolved = None, statement
                else:
                    error, resolved = _resolve_columns(statement, schema)
                if resolved is None:  # the resolver stopped half way through the statement: read it again
                    statement = [s for s in dialect.parser().parse(dialect.tokenize(sql), sql) if s][number]
                if error is not None:
                    problems.append(_column_problem(error, statement, schema))
        if fmt == "time_series" and number == 0:
            problems.extend(_time_series_shape(resolved or statement))
    return tuple(problems)


def _trailing_comma(tokens: Sequence[Any]) -> str | None:
    """What follows a dangling comma (`SELECT a, FROM t`): sqlglot forgives it, MySQL does not."""
    from sqlglot.tokens import TokenType

    closing = {TokenType.FROM, TokenType.R_PAREN, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY,
               TokenType.HAVING, TokenType.LIMIT, TokenType.SEMICOLON, TokenType.UNION}  # fmt: skip
    for current, following in zip(tokens, [*tokens[1:], None]):
        if current.token_type == TokenType.COMMA:
            if following is None:
                return "the end of the query"
            if following.token_type in closing:
                return following.text.upper()
    return None


_MISSING_PART = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def _syntax_message(err: Any, sql: str) -> str:
    detail = err.errors[0] if getattr(err, "errors", None) else {}
    description = detail.get("description") or _first_line(str(err))
    # sqlglot names its own classes ("... missing for <class 'sqlglot...Where'>"): say it in SQL terms
    description = _MISSING_PART.sub(lambda m: f"incomplete {m.group(1).upper()} expression", description)
    highlight = (detail.get("highlight") or "").strip()
    near = f" near {highlight!r}" if highlight else ""
    line, col = detail.get("line"), detail.get("col")
    where = f" (line {line}, col {col} of the expanded query)" if line and "\n" in sql.strip() else ""
    return f"cannot parse: {description}{near}{where}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "syntax error"


def _cte_names(statement: Any) -> set[str]:
    from sqlglot import exp

    return {cte.alias for cte in statement.find_all(exp.CTE)}


def _columns_known(statement: Any, schema: Schema) -> bool:
    from sqlglot import exp

    return all(schema.columns.get(t.name, ()) is not None for t in statement.find_all(exp.Table))


def _uses_system_schema(statement: Any) -> bool:
    from sqlglot import exp

    return any(table.db.lower() in SYSTEM_SCHEMAS for table in statement.find_all(exp.Table))


def _unknown_tables(statement: Any, schema: Schema) -> list[SqlProblem]:
    from sqlglot import exp

    ctes = _cte_names(statement)
    problems = []
    seen: set[str] = set()
    for table in statement.find_all(exp.Table):
        name = table.name
        if not name or name in ctes or name in seen or name.lower() == "dual":
            continue
        if table.db.lower() in SYSTEM_SCHEMAS or name in schema.columns:
            continue
        seen.add(name)
        hint = difflib.get_close_matches(name, list(schema.columns), n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        problems.append(
            SqlProblem(
                "sql/unknown-table",
                Severity.ERROR,
                f"table {name!r} is not in the MySQL schema {schema.source}{suggestion}",
            )
        )
    return problems


def _resolves_plainly(statement: Any, schema: Schema) -> bool:
    """Whether every column of a plain one-table SELECT (no join, subquery, CTE, `*` but COUNT(*), or set operation) is
    a column of its table, unqualified: what sqlglot's resolver would conclude, at a tenth of its cost (most
    dashboard queries are of this kind). Anything else goes through the resolver."""
    from sqlglot import exp

    if not isinstance(statement, exp.Select) or statement.args.get("joins"):
        return False
    tables = list(statement.find_all(exp.Table))
    if len(tables) != 1 or tables[0].args.get("db") or tables[0].args.get("catalog"):
        return False
    if statement.find(exp.Subquery, exp.CTE, exp.SetOperation, exp.Lateral, exp.Unnest, exp.Dot):
        return False
    if any(not isinstance(star.parent, exp.Count) for star in statement.find_all(exp.Star)):
        return False  # `SELECT *` is expanded by the resolver; COUNT(*) names no column
    if sum(1 for _ in statement.find_all(exp.Select)) != 1:
        return False
    columns = schema.column_sets.get(tables[0].name)
    if not columns:
        return False
    return all(
        not column.table and column.name.lower() in columns for column in statement.find_all(exp.Column)
    )


def _resolve_columns(statement: Any, schema: Schema) -> tuple[str | None, Any]:
    """Qualify every column against the schema, in place: (the resolver's error, the qualified query when it
    resolved). sqlglot rewrites the statement as it goes (stars expanded, aliases added), so after a failure
    it is no longer the query as written."""
    from sqlglot import exp
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    # MySQL column names and aliases ignore case; table names and table aliases do not (on Linux).
    for node in statement.find_all(exp.Column, exp.Alias):
        identifier = node.this if isinstance(node, exp.Column) else node.args.get("alias")
        if isinstance(identifier, exp.Identifier):
            identifier.set("this", identifier.this.lower())
    try:
        qualified = qualify(
            statement,
            schema=schema.for_sqlglot(),
            dialect="mysql",
            validate_qualify_columns=True,
            quote_identifiers=False,  # quoting changes no name: nothing here reads it
        )
    except OptimizeError as err:
        return str(err), None
    except Exception:  # the resolver gives up on constructs it does not model: no guess, no crash
        return None, None
    return None, qualified


_UNRESOLVED = re.compile(r"Column '([^']+)' could not be resolved|Unknown column: (\S+)")


def _column_problem(error: str, statement: Any, schema: Schema) -> SqlProblem:
    from sqlglot import exp

    match = _UNRESOLVED.search(error)
    if match is None:
        return SqlProblem(
            "sql/unknown-column", Severity.ERROR, f"cannot resolve the columns: {_first_line(error)}"
        )
    column = (match.group(1) or match.group(2)).lower()
    tables = sorted({t.name for t in statement.find_all(exp.Table) if t.name in schema.columns})
    holders = [t for t in tables if column in (schema.columns[t] or ())]
    if len(holders) > 1:
        message = f"column {column!r} is ambiguous: it is in {', '.join(holders)}; qualify it"
    else:
        known = sorted({c for t in tables for c in schema.columns[t] or ()})
        hint = difflib.get_close_matches(column, known, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        where = ", ".join(tables) if tables else "the query's tables"
        message = f"column {column!r} is not in {where} ({schema.source}){suggestion}"
    return SqlProblem("sql/unknown-column", Severity.ERROR, message)


def _time_series_shape(query: Any) -> list[SqlProblem]:
    names = _output_columns(query)
    if names is None or TIME_COLUMNS & set(names):
        return []
    return [
        SqlProblem(
            "sql/time-series-shape",
            Severity.WARNING,
            "a time_series query needs a column named time "
            "(use $__timeGroupAlias(col, $__interval) or `AS time`), or set format to table",
        )
    ]


# ------------------------------------------------------------------------------------------ one target


@dataclass(frozen=True)
class RenderedSql:
    """A target's SQL as MySQL would receive it, or why it could not be rendered."""

    raw: str
    text: str | None
    problem: SqlProblem | None = None


def render_target(raw_sql: str, renderer: SqlRenderer) -> RenderedSql:
    """Macro and variable expansion of one target, with a failure turned into a `sql/macro` problem."""
    try:
        return RenderedSql(raw_sql, renderer.render(raw_sql))
    except (SqlMacroError, interpolate.InterpolationError) as err:
        return RenderedSql(raw_sql, None, SqlProblem("sql/macro", Severity.ERROR, str(err)))
