from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from ...registry import register
from ...sql import analyse_sql
from ._common import LiveCheck

if TYPE_CHECKING:
    from ....live.run import QueryUse
    from ...context import LintContext


@register
class SqlUnknownTable(LiveCheck):
    """Tables read by MySQL queries exist in the live database.

    ## What it does
    Checks that every table a MySQL query reads exists in the live database, read from its
    `information_schema` in a read-only session (the offline rule `sql/unknown-table` checks the committed
    schema file instead).

    ## Why is this bad?
    The committed schema file and the live database drift apart (a migration not yet applied, a table
    renamed): the panel fails with "Table doesn't exist".

    ## Example
    ```sql server
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16));
    ```
    ```sql
    SELECT COUNT(*) FROM raw_messages
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: table 'raw_messages' is not in the MySQL schema mysql (live) (did you mean 'raw_message'?) [env dev, mysql, last 7d]
    ```

    ## Use instead
    ```sql server
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16));
    ```
    ```sql
    SELECT COUNT(*) FROM raw_message
    ```
    """

    id = "live/sql-unknown-table"
    languages = frozenset({"sql"})
    offline: ClassVar[str] = "sql/unknown-table"  # the offline rule whose analysis this one reuses

    def judge(self, use: QueryUse, ctx: LintContext) -> Iterator[str]:
        if use.sql and use.state.schema is not None:
            for problem in analyse_sql(use.sql, schema=use.state.schema):
                if problem.rule == self.offline:
                    yield problem.message
