from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlUnknownColumn(SqlCheck):
    """MySQL queries refer only to columns of the tables they read.

    ## What it does
    With a MySQL schema named in the catalog, reports columns that none of the query's tables has (aliases, CTEs,
    subqueries, joins and `AS` output columns understood; case-insensitive, as in MySQL), and an unqualified
    column that two joined tables both have.

    ## Why is this bad?
    MySQL answers "Unknown column" (or "ambiguous") and the panel shows the error.

    ## Example
    ```sql schema
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16), last_error TEXT);
    ```
    ```sql
    SELECT id, error FROM raw_message
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: column 'error' is not in raw_message (schema.sql) (did you mean 'last_error'?): `SELECT id, error FROM raw_message`
    ```

    ## Use instead
    ```sql schema
    CREATE TABLE raw_message (id BIGINT PRIMARY KEY, status VARCHAR(16), last_error TEXT);
    ```
    ```sql
    SELECT m.id, m.last_error AS error FROM raw_message m ORDER BY error
    ```
    """

    id = "sql/unknown-column"
    severity = Severity.ERROR
