from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, known_metric, matches, shown

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import PromSelector
    from ...context import LintContext


@register
class RegexMatchesNothing(LiveCheck):
    """Regex matchers match at least one of the label's values.

    ## What it does
    Checks that the regex of an `=~` matcher matches at least one of the label's values on the metric
    (anchored at both ends, as Prometheus does). A regex that also matches the empty value, or that Python
    cannot read the way Go's RE2 does, is not judged.

    ## Why is this bad?
    A regex that matches no value selects nothing: a typo, a wrong case, or an anchor forgotten
    (`uri=~"/api"` does not match `/api/orders`).

    ## Example
    ```yaml server
    series:
      - kube_pod_status_phase{pod="backend-1", phase="Running"}
      - kube_pod_status_phase{pod="backend-2", phase="Pending"}
    ```
    ```promql
    sum(kube_pod_status_phase{phase=~"running|pending"})
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: `phase=~"running|pending"` matches none of the values of 'phase' on 'kube_pod_status_phase' (values: 'Pending', 'Running') [env dev, prometheus, last 7d]
    ```

    ## Use instead
    ```yaml server
    series:
      - kube_pod_status_phase{pod="backend-1", phase="Running"}
      - kube_pod_status_phase{pod="backend-2", phase="Pending"}
    ```
    ```promql
    sum(kube_pod_status_phase{phase=~"Running|Pending"})
    ```
    """

    id = "live/regex-matches-nothing"
    languages = frozenset({"promql"})

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        metric = known_metric(selector, state)
        if metric is None:
            return
        for matcher in selector.matchers:
            values = state.values.get((metric, matcher.name))
            if (
                values is None
                or matcher.op != "=~"
                or matcher.from_variable
                or matches(matcher, "") is not False
            ):
                continue
            verdicts = [matches(matcher, v) for v in values]
            if None not in verdicts and not any(verdicts):
                yield (
                    f"`{matcher}` matches none of the values of {matcher.name!r} on {metric!r} "
                    f"(values: {shown(values)})"
                )
