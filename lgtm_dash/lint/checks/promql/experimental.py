from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check, register


@register
class PromQLExperimental(Check):
    """PromQL uses syntax that Prometheus 3.x runs only behind an experimental feature flag.

    ## What it does
    Reports queries that use duration expressions (`[5m * 2]`, `offset (1h + 5m)`, `step()`), the `anchored`
    and `smoothed` range modifiers, `fill()` binary operator modifiers, or an experimental function or
    aggregation (`info()`, `limitk`, `limit_ratio`, `sort_by_label()`, `mad_over_time()`,
    `double_exponential_smoothing()`, `first_over_time()`, `ts_of_*_over_time()`...). The rest of the query is
    still checked: this is a warning, never a syntax error.

    ## Why is this bad?
    The query works only where the feature is switched on (Prometheus `--enable-feature=promql-experimental-
    functions`, `promql-duration-expr`, `promql-extended-range-selectors`...; Mimir
    `-querier.promql-experimental-functions-enabled` and its equivalents). Elsewhere the panel shows a parse
    error and the rule group is refused; experimental syntax may also still change.

    ## Example
    ```promql
    sum by (job) (rate(http_requests_total[5m] anchored))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: uses anchored/smoothed range modifier, which Prometheus runs only with an experimental feature flag: `sum by (job) (rate(http_requests_total[5m] anchored))`
    ```

    ## Use instead
    ```promql
    sum by (job) (rate(http_requests_total[$__rate_interval]))
    ```
    """

    id = "promql/experimental"
    severity = Severity.WARNING
    languages = frozenset({"promql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        features = ctx.experimental_features(query)
        if features:
            yield self.report(
                ctx,
                f"{query.label}: uses {', '.join(features)}, which Prometheus runs only with an experimental "
                f"feature flag: `{one_line(query.text)}`",
                query=query,
            )
