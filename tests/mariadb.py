"""A private MariaDB server for tests: its own data directory and socket, no TCP port, always stopped.

`MariaDB.start(workdir)` initialises a data directory with `mariadb-install-db`, starts `mariadbd` on a
Unix socket (root-safe: `--user` is the current user) and waits, bounded, until it answers. Queries go
through Debian's `mariadb` command-line client, so the tests need no Python driver.

The server runs with MySQL 8's default sql_mode (ONLY_FULL_GROUP_BY and the strict modes), so a query that
MariaDB's laxer default would accept but production MySQL would refuse fails here too.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import require_binary, stop_process

MYSQL8_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)
START_TIMEOUT_S = 30
QUERY_TIMEOUT_S = 30


class QueryFailed(AssertionError):
    """MariaDB refused a statement; the message is the server's error."""


@dataclass(frozen=True)
class Result:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class MariaDB:
    def __init__(self, process: subprocess.Popen[bytes], datadir: Path, socket: Path, client: str, log: Path):
        self.process = process
        self.datadir = datadir
        self.socket = socket
        self.client = client
        self.log = log

    @classmethod
    def start(cls, workdir: Path) -> MariaDB:
        server = require_binary("mariadbd")
        install = require_binary("mariadb-install-db")
        client = require_binary("mariadb")
        datadir, socket, log = workdir / "data", workdir / "mysqld.sock", workdir / "mysqld.log"
        user = getpass.getuser()
        setup = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--user={user}",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if setup.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {setup.stderr.strip()[-2000:]}")
        process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={socket}",
                "--skip-networking",
                f"--pid-file={workdir / 'mysqld.pid'}",
                f"--log-error={log}",
                f"--user={user}",
                f"--sql-mode={MYSQL8_SQL_MODE}",
                "--default-time-zone=+00:00",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        db = cls(process, datadir, socket, client, log)
        try:
            db._wait_ready()
        except BaseException:
            db.stop()
            raise
        return db

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}: {self._log_tail()}")
            if self.socket.exists() and self._client("SELECT 1", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"mariadbd did not accept connections within {START_TIMEOUT_S}s: {self._log_tail()}"
        )

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else "(no log)"

    def stop(self) -> None:
        """Stop the server (bounded) and drop its data directory (about 100 MB); the log stays."""
        stop_process(self.process)
        shutil.rmtree(self.datadir, ignore_errors=True)

    def _client(
        self, sql: str, *, database: str | None = None, check: bool = True, extra: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        args = [
            self.client,
            "--no-defaults",
            f"--socket={self.socket}",
            "--user=root",
            "--batch",
            "--raw",
            *extra,
        ]
        if database:
            args.append(f"--database={database}")
        done = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
        if check and done.returncode != 0:
            raise QueryFailed(done.stderr.strip() or f"mariadb client exited with {done.returncode}")
        return done

    def execute(self, sql: str, *, database: str | None = None) -> None:
        """Run statements (a script); raises QueryFailed with the server's message."""
        self._client(sql, database=database)

    def query(self, sql: str, *, database: str | None = None) -> Result:
        """One query's column names and rows (as text)."""
        # --column-type-info makes the batch client print the header of an empty result too
        output = self._client(sql, database=database, extra=("--column-type-info",)).stdout
        lines = [line.split("\t") for line in output.splitlines()]
        if not lines:
            return Result((), ())
        return Result(tuple(lines[0]), tuple(tuple(row) for row in lines[1:]))


# --------------------------------------------------------------------------------------------- test data

_ENUM_VALUES = re.compile(r"'((?:[^']|'')*)'")


def seed(db: MariaDB, database: str, *, rows: int, time_from_s: int, time_to_s: int) -> dict[str, int]:
    """Fill every table of `database` with `rows` generated rows; {table: rows inserted}.

    Values follow each column's type so that any schema works: timestamps spread over [time_from_s,
    time_to_s] (the range the linter renders queries for), every ENUM value in turn, unique strings (unique
    keys stay satisfied), and generated or auto-increment columns left to the server.
    """
    columns = db.query(
        "SELECT table_name, column_name, data_type, column_type, character_maximum_length, extra "
        f"FROM information_schema.columns WHERE table_schema = '{database}' "
        "ORDER BY table_name, ordinal_position",
    ).rows
    by_table: dict[str, list[tuple[str, ...]]] = {}
    for column in columns:
        if "auto_increment" in column[5].lower() or "generated" in column[5].lower():
            continue
        by_table.setdefault(column[0], []).append(column)
    script = ["SET FOREIGN_KEY_CHECKS = 0;"]
    for table, table_columns in by_table.items():
        names = ", ".join(f"`{c[1]}`" for c in table_columns)
        values = ",\n".join(
            "(" + ", ".join(_value(c, i, rows, time_from_s, time_to_s) for c in table_columns) + ")"
            for i in range(rows)
        )
        script.append(f"INSERT INTO `{table}` ({names}) VALUES\n{values};")
    db.execute("\n".join(script), database=database)
    return {table: rows for table in by_table}


def _value(column: tuple[str, ...], i: int, rows: int, time_from_s: int, time_to_s: int) -> str:
    _, name, data_type, column_type, max_length, _ = column
    data_type = data_type.lower()
    at = time_from_s + (time_to_s - time_from_s) * i // max(rows - 1, 1)
    if data_type in ("datetime", "timestamp"):
        return f"FROM_UNIXTIME({at})"
    if data_type == "date":
        return f"DATE(FROM_UNIXTIME({at}))"
    if data_type == "time":
        return "'01:00:00'"
    if data_type == "year":
        return "2024"
    if data_type in ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bit"):
        return str(i % 100 + 1) if data_type != "bit" else "1"
    if data_type in ("decimal", "numeric", "float", "double", "real"):
        return f"{i % 100}.5"
    if data_type in ("enum", "set"):
        options = [v.replace("''", "'") for v in _ENUM_VALUES.findall(column_type)]
        return _quote(options[i % len(options)])
    if data_type == "json":
        return "'{}'"
    text = hashlib.sha256(f"{name}{i}".encode()).hexdigest()  # unique, and shaped like a trace id
    length = int(max_length) if max_length and max_length.isdigit() else 32
    return _quote(text[: max(min(length, 32), 1)])


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
