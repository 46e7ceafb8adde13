from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import metric_name
from ...registry import Check, register


@register
class RecordingRuleDefined(Check):
    """A `level:metric:operations` series a query uses is recorded by a rule of the same build.

    ## What it does
    When a complete build is linted (an `out/` tree), reports metrics with a colon in their name (the recording
    rule naming convention) that no recording rule of the build records.

    ## Why is this bad?
    The series does not exist: the panel is empty and the alert built on it never fires. Usually the recording
    rule was renamed or lives in a namespace that is not deployed.

    ## Example
    ```promql
    sum(job:http_requests:rate5m)
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: 'job:http_requests:rate5m' is not defined by any recording rule: `sum(job:http_requests:rate5m)`
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - record: job:http_requests:rate5m
            expr: sum by (job) (rate(http_requests_total[5m]))
    ```
    ```promql
    sum(job:http_requests:rate5m)
    ```
    """

    id = "xref/recording-rule"
    severity = Severity.ERROR
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if not ctx.input.complete:
            return  # loose files: the recording rules may live elsewhere
        reported: set[str] = set()
        for selector, _ in ctx.nodes(query):
            if not isinstance(selector, pp.VectorSelector):
                continue
            name = metric_name(selector)
            if name and ":" in name and name not in ctx.recording_rules and name not in reported:
                reported.add(name)
                yield self.report(
                    ctx, f"{query.label}: {name!r} is not defined by any recording rule: `{one_line(query.text)}`",
                    query=query,
                )  # fmt: skip
