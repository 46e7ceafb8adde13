from __future__ import annotations

from ...registry import register
from .sql_unknown_table import SqlUnknownTable


@register
class SqlUnknownColumn(SqlUnknownTable):
    """Columns used by MySQL queries exist in the live database.

    ## What it does
    Checks that every column a MySQL query refers to exists in its table in the live database, read from
    its `information_schema` (the offline rule `sql/unknown-column` checks the committed schema file).

    ## Why is this bad?
    A column dropped or renamed by a migration makes the panel fail with "Unknown column".

    ## Example
    ```sql server
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16));
    ```
    ```sql
    SELECT state, COUNT(*) FROM raw_message GROUP BY state
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: column 'state' is not in raw_message (mysql (live)) (did you mean 'status'?) [env dev, mysql, last 7d]
    ```

    ## Use instead
    ```sql server
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16));
    ```
    ```sql
    SELECT status, COUNT(*) FROM raw_message GROUP BY status
    ```
    """

    id = "live/sql-unknown-column"
    offline = "sql/unknown-column"
