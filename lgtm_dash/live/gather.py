"""Ask each server once per distinct question, with bounded concurrency, a time budget and retries.

Questions are planned from every selector of the run and deduplicated per server (two datasources with the
same URL and tenant share their answers): per Prometheus-type server, its metric names and metadata, the
label names of each metric used, and the values of each label a matcher tests; per Loki, its label names,
the values of each label used, and the streams of each distinct selector; per MySQL, its columns. They are
asked in three rounds, each round's questions in parallel, because each round needs the previous answers
(there is no point asking for the labels of a metric that does not exist).

A server that cannot be reached, refuses the credentials or refuses the first question (its metric or label
names, which every other question needs) is marked failed and asked nothing more; a later failure, or the
time budget running out, leaves the answers incomplete and is said.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..clients.loki import LokiQueryApi
from ..clients.mysql import live_columns
from ..clients.prometheus_api import PrometheusApi, Window
from ..clients.query import (
    ApiTarget,
    Deadline,
    HttpApi,
    OutOfTime,
    RemoteError,
    RetryPolicy,
)
from ..lint.sql import Schema
from .selectors import LokiSelector, PromSelector

HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def metric_selector(metric: str) -> str:
    return '{__name__="' + metric.replace("\\", "\\\\").replace('"', '\\"') + '"}'


@dataclass
class ServerState:
    """What one server answered, and what went wrong."""

    target: ApiTarget
    uids: set[str] = field(default_factory=set)  # the datasources that are this server
    failed: str | None = None  # unreachable or credentials refused: nothing was checked
    failures: list[str] = field(default_factory=list)  # single questions that got no answer
    not_asked: int = 0  # questions left when the time budget ran out
    # Prometheus
    metric_names: set[str] | None = None
    metadata: dict[str, dict[str, str]] | None = None
    labels: dict[str, set[str]] = field(default_factory=dict)  # metric -> label names
    values: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (metric, label) -> values
    # Loki
    loki_labels: set[str] | None = None
    loki_values: dict[str, set[str]] = field(default_factory=dict)
    loki_streams: dict[str, int] = field(default_factory=dict)  # selector text -> streams found
    # MySQL
    schema: Schema | None = None
    # Planned questions
    metrics: set[str] = field(default_factory=set)
    value_labels: set[tuple[str, str]] = field(default_factory=set)
    wants_metadata: bool = False
    loki_label_names: set[str] = field(default_factory=set)
    loki_selectors: dict[str, LokiSelector] = field(default_factory=dict)
    http: HttpApi | None = None

    @property
    def checked(self) -> bool:
        return self.failed is None

    def metric_type(self, name: str) -> str | None:
        """The metric's type from this server's metadata: a histogram's or summary's series are counters."""
        metadata = self.metadata or {}
        if name in metadata:
            return metadata[name].get("type") or None
        if name.endswith("_total") and metadata.get(name[: -len("_total")], {}).get("type") == "counter":
            return "counter"  # OpenMetrics names a counter's family without `_total`
        for suffix in HISTOGRAM_SERIES:
            family = metadata.get(name.removesuffix(suffix), {}) if name.endswith(suffix) else {}
            if family.get("type") in ("histogram", "summary"):
                return "counter"
            if family.get("type") == "gaugehistogram":
                return "gauge"
        return None


class Gatherer:
    """Plans and asks the questions of one run. `servers` is keyed by `ApiTarget.key`."""

    def __init__(
        self,
        window: Window,
        *,
        concurrency: int = 8,
        deadline: Deadline | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.window = window
        self.concurrency = max(1, concurrency)
        self.deadline = deadline
        self.retry = retry or RetryPolicy(attempts=3)
        self.timeout = timeout
        self.servers: dict[tuple[Any, ...], ServerState] = {}

    # ------------------------------------------------------------------ planning

    def server(self, target: ApiTarget, uid: str) -> ServerState:
        state = self.servers.get(target.key)
        if state is None:
            state = self.servers[target.key] = ServerState(target)
            if target.kind != "mysql":
                state.http = HttpApi(target, retry=self.retry, timeout=self.timeout, deadline=self.deadline)
        state.uids.add(uid)
        return state

    def want_prom(self, state: ServerState, selector: PromSelector) -> None:
        if selector.metric is None or selector.metric_from_variable:
            return
        state.metrics.add(selector.metric)
        if selector.usage in ("range", "raw"):
            state.wants_metadata = True
        for matcher in selector.matchers:
            if not matcher.from_variable and matcher.op in ("=", "!=", "=~") and matcher.value:
                state.value_labels.add((selector.metric, matcher.name))

    def want_loki(self, state: ServerState, selector: LokiSelector) -> None:
        for matcher in selector.matchers:
            state.loki_label_names.add(matcher.name)
        if not any(m.from_variable for m in selector.matchers):
            state.loki_selectors[selector.text] = selector

    # ------------------------------------------------------------------ the clients (one place to swap them)

    def prometheus_api(self, state: ServerState) -> PrometheusApi:
        assert state.http is not None  # server() gives every non-MySQL server its client
        return PrometheusApi(state.http)

    def loki_api(self, state: ServerState) -> LokiQueryApi:
        assert state.http is not None  # server() gives every non-MySQL server its client
        return LokiQueryApi(state.http)

    def read_schema(self, state: ServerState) -> Schema:
        tables = live_columns(state.target, self.deadline)
        return Schema(tables=tuple(tables.items()), source=f"{state.target.name} (live)")

    # ------------------------------------------------------------------ asking

    @property
    def requests_made(self) -> int:
        return sum(s.http.requests_made for s in self.servers.values() if s.http is not None) + sum(
            1 for s in self.servers.values() if s.target.kind == "mysql" and (s.schema or s.failed)
        )

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="live") as pool:
            for round_ in (self._first_round, self._second_round, self._third_round):
                jobs: list[tuple[ServerState, str, Callable[[], None], bool]] = []
                for state in self.servers.values():
                    if state.checked:
                        jobs.extend(round_(state))
                futures = [(state, what, fatal, pool.submit(job)) for state, what, job, fatal in jobs]
                for state, what, fatal, future in futures:
                    try:
                        future.result()
                    except OutOfTime:
                        state.not_asked += 1
                    except RemoteError as err:  # unreachable, credentials refused, or the question refused
                        if fatal:  # the server's first answer, which every other question needs
                            state.failed = state.failed or str(err)
                        else:
                            state.failures.append(f"{what}: {err}")

    def _first_round(self, state: ServerState) -> list[tuple[ServerState, str, Callable[[], None], bool]]:
        kind, window = state.target.kind, self.window
        if kind == "prometheus":
            api = self.prometheus_api(state)

            def names() -> None:
                state.metric_names = api.metric_names(window)

            def metadata() -> None:
                state.metadata = api.metadata()

            jobs = [(state, "metric names", names, True)]
            if state.wants_metadata:
                jobs.append((state, "metadata", metadata, False))
            return jobs
        if kind == "loki":
            loki = self.loki_api(state)

            def labels() -> None:
                state.loki_labels = loki.label_names(window)

            return [(state, "label names", labels, True)]

        def schema() -> None:
            state.schema = self.read_schema(state)

        return [(state, "information_schema", schema, True)]

    def _second_round(self, state: ServerState) -> list[tuple[ServerState, str, Callable[[], None], bool]]:
        jobs: list[tuple[ServerState, str, Callable[[], None], bool]] = []
        if state.target.kind == "prometheus" and state.metric_names is not None:
            api = self.prometheus_api(state)
            for metric in sorted(state.metrics & state.metric_names):

                def labels(metric: str = metric) -> None:
                    state.labels[metric] = api.label_names(metric_selector(metric), self.window)

                jobs.append((state, f"labels of {metric}", labels, False))
        elif state.target.kind == "loki" and state.loki_labels is not None:
            loki = self.loki_api(state)
            for name in sorted(state.loki_label_names & state.loki_labels):

                def values(name: str = name) -> None:
                    state.loki_values[name] = loki.label_values(name, self.window)

                jobs.append((state, f"values of {name}", values, False))
        return jobs

    def _third_round(self, state: ServerState) -> list[tuple[ServerState, str, Callable[[], None], bool]]:
        jobs: list[tuple[ServerState, str, Callable[[], None], bool]] = []
        if state.target.kind == "prometheus":
            api = self.prometheus_api(state)
            for metric, label in sorted(state.value_labels):
                if label not in state.labels.get(metric, ()):
                    continue

                def values(metric: str = metric, label: str = label) -> None:
                    found = api.label_values(label, metric_selector(metric), self.window)
                    state.values[(metric, label)] = found

                jobs.append((state, f"values of {label} on {metric}", values, False))
        elif state.target.kind == "loki" and state.loki_labels is not None:
            loki = self.loki_api(state)
            for text, selector in sorted(state.loki_selectors.items()):
                if any(m.name not in state.loki_labels for m in selector.matchers):
                    continue  # a label the server never saw: live/loki-label-never-seen says so

                def streams(text: str = text) -> None:
                    state.loki_streams[text] = len(loki.series(text, self.window))

                jobs.append((state, f"streams of {text}", streams, False))
        return jobs
