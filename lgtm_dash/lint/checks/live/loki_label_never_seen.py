from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck, hint, matches, shown

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import LokiSelector


@register
class LokiLabelNeverSeen(LiveCheck):
    """Stream selector labels are stream labels Loki has seen.

    ## What it does
    Checks that every label of a LogQL stream selector is a stream label Loki has seen in the window
    (`/loki/api/v1/labels`).

    ## Why is this bad?
    A selector on a label no stream carries selects no logs. A JSON field (`level`) is not a stream label:
    it is filtered after a parser (`| json | level="ERROR"`).

    ## Example
    ```yaml server
    streams:
      - '{app="backend", namespace="qgx-dev"}'
    ```
    ```logql
    {app="backend", level="ERROR"}
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: stream label 'level' of `level="ERROR"` was never seen by Loki (labels: 'app', 'namespace') [env dev, loki, last 7d]
    ```

    ## Use instead
    ```yaml server
    streams:
      - '{app="backend", namespace="qgx-dev"}'
    ```
    ```logql
    {app="backend"} | json | level="ERROR"
    ```
    """

    id = "live/loki-label-never-seen"
    languages = frozenset({"logql"})

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        if state.loki_labels is None:
            return
        for matcher in selector.matchers:
            if matcher.name in state.loki_labels:
                continue
            if matcher.op in ("=", "=~") and matches(matcher, "") is True:
                continue
            yield (
                f"stream label {matcher.name!r} of `{matcher}` was never seen by Loki"
                f"{hint(matcher.name, state.loki_labels)} (labels: {shown(state.loki_labels)})"
            )
