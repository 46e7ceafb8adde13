from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlSyntax(SqlCheck):
    """MySQL queries parse after Grafana's macros and variables are expanded.

    ## What it does
    Renders every query of a MySQL datasource as Grafana sends it (`$__interval`, template variables, then the
    macros such as `$__timeFilter(col)`, for a fixed time range) and parses it with sqlglot's MySQL dialect,
    including what sqlglot forgives but MySQL refuses (a dangling comma, `SELECT` without columns).

    ## Why is this bad?
    MySQL refuses the query: the panel shows the error instead of data.

    ## Example
    ```sql
    SELECT status, FROM raw_message
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: cannot parse: a comma before FROM: `SELECT status, FROM raw_message`
    ```

    ## Use instead
    ```sql
    SELECT status FROM raw_message
    ```
    """

    id = "sql/syntax"
    severity = Severity.ERROR
