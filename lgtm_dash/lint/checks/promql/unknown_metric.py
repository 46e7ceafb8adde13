from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pp

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...promql_ast import metric_name
from ...registry import Check, register


@register
class UnknownMetric(Check):
    """Metrics and label matchers are in the metric catalog, or recorded by a rule of the same build.

    ## What it does
    With a metric catalog (`catalog.yaml`, used by default when linting this project's out/), reports metrics
    that are neither in it nor recorded by a recording rule of the build, and label matchers on labels the
    catalog does not list for that metric (histograms imply `_bucket` with `le`, `_sum` and `_count`;
    `common_labels` apply to every metric). Without a catalog the rule does nothing.

    ## Why is this bad?
    A typo in a metric or label name is valid PromQL: the panel is silently empty and the alert never fires.

    ## Example
    ```yaml catalog
    metrics:
      http_requests_total: {type: counter, labels: [method]}
    ```
    ```promql
    sum(rate(http_requets_total[$__rate_interval]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: metric 'http_requets_total' is not in the catalog: `sum(rate(http_requets_total[$__rate_interval]))`
    ```

    ## Use instead
    ```yaml catalog
    metrics:
      http_requests_total: {type: counter, labels: [method]}
    ```
    ```promql
    sum(rate(http_requests_total{method="GET"}[$__rate_interval]))
    ```
    """

    id = "promql/unknown-metric"
    severity = Severity.WARNING
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        catalog = ctx.catalog
        if catalog is None:
            return
        for selector, _ in ctx.nodes(query):
            if not isinstance(selector, pp.VectorSelector):
                continue
            name = metric_name(selector)
            if not name or name in ctx.recording_rules:
                continue
            if name not in catalog.metrics:
                yield self.report(
                    ctx,
                    f"{query.label}: metric {name!r} is not in the catalog: `{one_line(query.text)}`",
                    query=query,
                )
                continue
            known = catalog.labels_of(name) | {"__name__"}
            for matcher in selector.matchers.matchers:
                if matcher.name not in known:
                    yield self.report(
                        ctx,
                        f"{query.label}: label {matcher.name!r} of {name!r} is not in the catalog: "
                        f"`{one_line(query.text)}`",
                        query=query,
                    )
