"""The live MySQL schema: tables and columns from `information_schema`, read in a read-only session.

The datasource URL is `host:port` (port 3306 when left out) or, as Grafana's MySQL datasource also accepts,
the path of a Unix socket (`/run/mysqld/mysqld.sock`). Nothing but `information_schema` is read, and the
session is `READ ONLY` so even a mistaken statement could not write.
"""

from __future__ import annotations

from typing import Any

from .query import ApiTarget, AuthError, Deadline, QueryRefused, Unreachable

COLUMNS_QUERY = (
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = %s ORDER BY table_name, ordinal_position"
)
CONNECT_TIMEOUT = 10
# MySQL error codes that mean "these credentials are not accepted" (ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR).
ACCESS_DENIED = frozenset({1044, 1045})


def live_columns(target: ApiTarget, deadline: Deadline | None = None) -> dict[str, tuple[str, ...]]:
    """Every table of the target's database and its columns (lower case, as MySQL compares them), in order."""
    import pymysql

    if deadline is not None and deadline.passed:
        raise Unreachable(f"{target.name}: the time budget was spent before connecting")
    where = target.base_url
    options: dict[str, Any] = {
        "user": target.user or "",
        "password": target.password or "",
        "database": target.database,
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": CONNECT_TIMEOUT * 3,
        "autocommit": True,
    }
    if where.startswith("/"):
        options["unix_socket"] = where
    else:
        host, _, port = where.rpartition(":") if ":" in where else (where, "", "")
        options["host"] = host or where
        options["port"] = int(port) if port.isdigit() else 3306
    try:
        connection = pymysql.connect(**options)
    except pymysql.err.OperationalError as err:
        code = err.args[0] if err.args else 0
        message = str(err.args[1]) if len(err.args) > 1 else str(err)
        if code in ACCESS_DENIED:
            raise AuthError(
                f"{target.name} at {where} refused the credentials (MySQL error {code}); check {target.credential}"
            ) from None
        raise Unreachable(f"cannot reach {target.name} at {where}: {message}") from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute(COLUMNS_QUERY, (target.database,))
            rows = cursor.fetchall()
    except pymysql.err.MySQLError as err:
        raise QueryRefused(f"{target.name}: reading information_schema failed: {err}", 0) from None
    finally:
        connection.close()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(str(table), []).append(str(column).lower())
    return {table: tuple(columns) for table, columns in tables.items()}
