from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlUnknownTable(SqlCheck):
    """MySQL queries read only tables of the schema.

    ## What it does
    With a MySQL schema named in the catalog (`mysql: {schema: datasources/mysql_schema.sql}`), reports tables a
    query reads that the schema does not define. CTE names and MySQL's own schemas (`information_schema`...) are
    fine. Without a schema the rule does nothing.

    ## Why is this bad?
    MySQL answers "Table doesn't exist" and the panel shows the error: usually a typo or a renamed table.

    ## Example
    ```sql schema
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16), created_at DATETIME);
    ```
    ```sql
    SELECT status FROM raw_messages
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: table 'raw_messages' is not in the MySQL schema schema.sql (did you mean 'raw_message'?): `SELECT status FROM raw_messages`
    ```

    ## Use instead
    ```sql schema
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16), created_at DATETIME);
    ```
    ```sql
    SELECT status FROM raw_message
    ```
    """

    id = "sql/unknown-table"
    severity = Severity.ERROR
