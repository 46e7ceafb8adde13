"""Servers that answer from what a lint rule's example says they hold, for the examples of the `live/...`
rules' docs (lgtm_dash/lint/examples.py runs them as tests).

Only the clients are replaced: the run plans its questions, the `Gatherer` asks them in its rounds and
classifies failures, and the rules judge the answers exactly as against real servers. What a server holds
is written the way a reader thinks of it (a `yaml server` block):

    series:                    # every Prometheus-type server: one series per line
      - qgx_http_requests_total{service="backend", status="200"}
    metadata:                  # /api/v1/metadata: the type of each metric family
      qgx_http_requests_total: counter
    streams:                   # Loki: one stream per line
      - '{app="backend", namespace="qgx-dev"}'
    unreachable: "cannot reach ..."   # every request fails so (the server is unreachable)
    errors:                    # one kind of request fails so: metric_names, metadata, label_names,
      metadata: "answered ..."          # label_values, series

and a `sql server` block holds the live MySQL database's tables (`CREATE TABLE` statements).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..clients.prometheus_api import Window
from ..clients.query import Unreachable
from ..lint.sql import Schema, parse_schema
from .gather import Gatherer, ServerState
from .selectors import loki_selectors, prom_selectors


class Held:
    """What the servers of an example hold."""

    def __init__(self, data: Mapping[str, Any] | None, schema: str | None = None):
        data = data or {}
        self.series: list[tuple[str, dict[str, str]]] = []
        for text in data.get("series") or []:
            (selector,) = prom_selectors(str(text), "panel")
            self.series.append((str(selector.metric), {m.name: m.value for m in selector.matchers}))
        self.metadata = {
            str(k): {"type": str(v), "help": ""} for k, v in (data.get("metadata") or {}).items()
        }
        self.streams: list[dict[str, str]] = []
        for text in data.get("streams") or []:
            (stream,) = loki_selectors(str(text))
            self.streams.append({m.name: m.value for m in stream.matchers})
        self.unreachable = data.get("unreachable")
        self.errors: dict[str, str] = dict(data.get("errors") or {})
        self.schema = parse_schema(schema, "the live database") if schema is not None else None

    def answer(self, question: str) -> None:
        """Fail the way the example says this kind of request fails."""
        failure = self.unreachable or self.errors.get(question)
        if failure:
            raise Unreachable(str(failure))


class HeldPrometheus:
    def __init__(self, held: Held):
        self.held = held

    def metric_names(self, window: Window) -> set[str]:
        self.held.answer("metric_names")
        return {metric for metric, _ in self.held.series}

    def _series(self, selector: str) -> list[dict[str, str]]:
        (wanted,) = prom_selectors(selector, "panel")
        return [labels for metric, labels in self.held.series if metric == wanted.metric]

    def label_names(self, selector: str, window: Window) -> set[str]:
        self.held.answer("label_names")
        return {"__name__", *(name for labels in self._series(selector) for name in labels)}

    def label_values(self, label: str, selector: str, window: Window) -> set[str]:
        self.held.answer("label_values")
        return {labels[label] for labels in self._series(selector) if label in labels}

    def metadata(self) -> dict[str, dict[str, str]]:
        self.held.answer("metadata")
        return dict(self.held.metadata)


class HeldLoki:
    def __init__(self, held: Held):
        self.held = held

    def label_names(self, window: Window) -> set[str]:
        self.held.answer("label_names")
        return {name for stream in self.held.streams for name in stream}

    def label_values(self, name: str, window: Window) -> set[str]:
        self.held.answer("label_values")
        return {stream[name] for stream in self.held.streams if name in stream}

    def series(self, selector: str, window: Window) -> list[dict[str, str]]:
        from ..lint.checks.live._common import matches

        self.held.answer("series")
        (wanted,) = loki_selectors(selector)
        return [s for s in self.held.streams if all(matches(m, s.get(m.name, "")) for m in wanted.matchers)]


class HeldGatherer(Gatherer):
    """A `Gatherer` whose servers answer from `held`."""

    def __init__(self, held: Held, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.held = held

    def prometheus_api(self, state: ServerState) -> Any:
        return HeldPrometheus(self.held)

    def loki_api(self, state: ServerState) -> Any:
        return HeldLoki(self.held)

    def read_schema(self, state: ServerState) -> Schema:
        self.held.answer("schema")
        if self.held.schema is None:
            raise Unreachable(f"{state.target.name}: the example holds no database")
        return replace(
            self.held.schema, source=f"{state.target.name} (live)"
        )  # as `Gatherer.read_schema` names it
