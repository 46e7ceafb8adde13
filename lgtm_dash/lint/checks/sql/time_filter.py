from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlTimeFilter(SqlCheck):
    """A `time_series` MySQL query reads only the dashboard's time range.

    ## What it does
    Reports a `time_series` target without `$__timeFilter(col)`, `$__unixEpochFilter(col)`,
    `$__timeFrom()`/`$__timeTo()` or `$__from`/`$__to`.

    ## Why is this bad?
    Every refresh reads the whole table, which grows without end: the panel gets slower every week and loads
    the database for every viewer.

    ## Example
    ```sql time_series
    SELECT $__timeGroupAlias(created_at, '5m'), COUNT(*) AS n FROM raw_message GROUP BY 1
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: a time_series query without $__timeFilter(col) (or $__unixEpochFilter) reads the whole table: `SELECT $__timeGroupAlias(created_at, '5m'), COUNT(*) AS n FROM raw_message GROUP BY 1`
    ```

    ## Use instead
    ```sql time_series
    SELECT $__timeGroupAlias(created_at, '5m'), COUNT(*) AS n FROM raw_message WHERE $__timeFilter(created_at) GROUP BY 1
    ```
    """

    id = "sql/time-filter"
    severity = Severity.WARNING
