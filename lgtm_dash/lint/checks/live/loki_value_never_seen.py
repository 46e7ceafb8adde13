from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, hint, matches, shown

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import LokiSelector


@register
class LokiValueNeverSeen(LiveCheck):
    """Stream matcher values occur among the label's values in Loki.

    ## What it does
    Checks that a stream matcher's fixed value occurs among the label's values in Loki
    (`/loki/api/v1/label/<name>/values`), and that its regex matches at least one of them.

    ## Why is this bad?
    `{namespace="qgx-prod"}` in the dev environment, or `{app=~"Backend"}` when the value is `backend`,
    selects no logs.

    ## Example
    ```yaml server
    streams:
      - '{app="backend", namespace="qgx-dev"}'
    ```
    ```logql
    {namespace="qgx_dev"}
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: `namespace="qgx_dev"` selects no stream: Loki never saw namespace='qgx_dev' (did you mean 'qgx-dev'?) (values: 'qgx-dev') [env dev, loki, last 7d]
    ```

    ## Use instead
    ```yaml server
    streams:
      - '{app="backend", namespace="qgx-dev"}'
    ```
    ```logql
    {namespace="qgx-dev"}
    ```
    """

    id = "live/loki-value-never-seen"
    languages = frozenset({"logql"})

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        for matcher in selector.matchers:
            values = state.loki_values.get(matcher.name)
            if values is None or matcher.from_variable or matcher.op == "!~":
                continue
            if matcher.op in ("=", "!="):
                if matcher.value and matcher.value not in values:
                    effect = "selects no stream" if matcher.op == "=" else "excludes no stream"
                    yield (
                        f"`{matcher}` {effect}: Loki never saw {matcher.name}={matcher.value!r}"
                        f"{hint(matcher.value, values)} (values: {shown(values)})"
                    )
            elif matches(matcher, "") is False:
                verdicts = [matches(matcher, v) for v in values]
                if None not in verdicts and not any(verdicts):
                    yield f"`{matcher}` matches none of the values of {matcher.name!r} (values: {shown(values)})"
