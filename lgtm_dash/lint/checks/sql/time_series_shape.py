from __future__ import annotations

from ...findings import Severity
from ...registry import register
from ._shared import SqlCheck


@register
class SqlTimeSeriesShape(SqlCheck):
    """A `time_series` MySQL query returns a column named `time`.

    ## What it does
    Reports a target with `format: time_series` whose result has no column named `time` (or the legacy
    `time_sec`).

    ## Why is this bad?
    Grafana cannot tell which column holds the timestamps and the panel shows "Data does not have a time field".

    ## Example
    ```sql time_series
    SELECT created_at, COUNT(*) AS n FROM raw_message WHERE $__timeFilter(created_at) GROUP BY created_at
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: a time_series query needs a column named time (use $__timeGroupAlias(col, $__interval) or `AS time`), or set format to table: `SELECT created_at, COUNT(*) AS n FROM raw_message WHERE $__timeFilter(created_at) GROUP BY created_at`
    ```

    ## Use instead
    ```sql time_series
    SELECT $__timeGroupAlias(created_at, $__interval), COUNT(*) AS n FROM raw_message WHERE $__timeFilter(created_at) GROUP BY 1 ORDER BY 1
    ```
    """

    id = "sql/time-series-shape"
    severity = Severity.WARNING
