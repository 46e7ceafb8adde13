from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlMacro(SqlCheck):
    """Grafana SQL macros exist and have the arguments they need.

    ## What it does
    Reports a `$__macro(...)` that Grafana's MySQL datasource does not know, or one called without the arguments
    it needs: a column; an interval such as `'5m'` or `$__interval` for `$__timeGroup`; a fill value `NULL`,
    `previous` or a number.

    ## Why is this bad?
    Grafana refuses to expand the macro and the panel shows an error.

    ## Example
    ```sql
    SELECT $__timeGroupAlias(created_at), count(*) FROM raw_message GROUP BY 1
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: macro $__timeGroupAlias needs a time column and an interval: `SELECT $__timeGroupAlias(created_at), count(*) FROM raw_message GROUP BY 1`
    ```

    ## Use instead
    ```sql
    SELECT $__timeGroupAlias(created_at, $__interval), count(*) FROM raw_message GROUP BY 1
    ```
    """

    id = "sql/macro"
    severity = Severity.ERROR
