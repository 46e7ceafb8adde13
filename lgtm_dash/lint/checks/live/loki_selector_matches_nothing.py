from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...registry import register
from ._common import LiveCheck
from .loki_label_never_seen import LokiLabelNeverSeen
from .loki_value_never_seen import LokiValueNeverSeen

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.selectors import LokiSelector


@register
class LokiSelectorMatchesNothing(LiveCheck):
    """Stream selectors match at least one stream.

    ## What it does
    Checks that a stream selector as a whole matches at least one stream (`/loki/api/v1/series`), when
    each of its matchers alone is fine (otherwise `live/loki-label-never-seen` or
    `live/loki-value-never-seen` says which one is not).

    ## Why is this bad?
    Every label and value exists, but never together: `{namespace="qgx-dev", app="payments"}` when the
    payments service runs in another namespace. The panel shows no logs.

    ## Example
    ```yaml server
    streams:
      - '{namespace="qgx-dev", container="backend"}'
      - '{namespace="qgx-db", container="mysql"}'
    ```
    ```logql
    {namespace="qgx-dev", container="mysql"}
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: stream selector `{namespace="qgx-dev", container="mysql"}` matches no stream in Loki [env dev, loki, last 7d]
    ```

    ## Use instead
    A selector whose labels occur together:
    ```yaml server
    streams:
      - '{namespace="qgx-dev", container="backend"}'
      - '{namespace="qgx-db", container="mysql"}'
    ```
    ```logql
    {namespace="qgx-db", container="mysql"}
    ```
    """

    id = "live/loki-selector-matches-nothing"
    languages = frozenset({"logql"})
    _precise = (LokiLabelNeverSeen(), LokiValueNeverSeen())

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        if state.loki_streams.get(selector.text) != 0:
            return
        if any(list(rule.loki(selector, state)) for rule in self._precise):
            return  # a more precise finding already explains it
        yield f"stream selector `{selector.text}` matches no stream in Loki"
