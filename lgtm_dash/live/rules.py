"""The live lint rules: one small class per `live/...` id, each judging one selector against what its server
answered (`gather.ServerState`). Each yields plain messages; `adapter` turns them into lint `Finding`s.

Every rule is a warning by default (an environment may legitimately lack a metric) and an error with
`--strict`. Docstrings follow ruff's rule pages (what it does, why is this bad, example, use instead).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import ClassVar

from .gather import ServerState
from .selectors import LabelMatcher, LokiSelector, PromSelector

HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
MAX_SHOWN = 8


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None  # RE2 syntax Python does not share: no judgement rather than a wrong one


def matches(matcher: LabelMatcher, value: str) -> bool | None:
    """Whether a label value satisfies a matcher (Prometheus anchors regexes at both ends); None: cannot tell."""
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    compiled = _regex(matcher.value)
    if compiled is None:
        return None
    found = compiled.fullmatch(value) is not None
    return found if matcher.op == "=~" else not found


def _shown(values: Iterable[str]) -> str:
    ordered = sorted(values)
    more = f", … {len(ordered) - MAX_SHOWN} more" if len(ordered) > MAX_SHOWN else ""
    return ", ".join(repr(v) for v in ordered[:MAX_SHOWN]) + more


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def metric_type(state: ServerState, name: str) -> str | None:
    """The metric's type from the server's metadata: a histogram's or summary's series are counters."""
    metadata = state.metadata or {}
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


class LiveRule:
    id: ClassVar[str]
    summary: ClassVar[str]

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        return iter(())

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        return iter(())

    def sql(self, problems: Iterable[tuple[str, str]]) -> Iterator[str]:
        return iter(())


def _known_metric(selector: PromSelector, state: ServerState) -> str | None:
    """The selector's metric when the server has it (so its labels can be judged)."""
    metric = selector.metric
    if metric is None or selector.metric_from_variable or state.metric_names is None:
        return None
    return metric if metric in state.metric_names else None


class MetricNeverSeen(LiveRule):
    """## What it does
    Checks that every metric a PromQL query selects has at least one series on the server the query's
    datasource points to, within the look-back window (`--since`, default 7 days).

    ## Why is this bad?
    A metric that does not exist makes a panel say "No data" and an alert never fire. It usually means the
    metric was renamed (an exporter or Alloy upgrade) or is spelled differently in this environment.

    ## Example
    ```promql
    sum(rate(http_requests_total[$__rate_interval]))
    ```

    ## Use instead
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    """

    id = "live/metric-never-seen"
    summary = "metrics selected by PromQL queries have series on the server"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = selector.metric
        if (
            metric is None
            or selector.metric_from_variable
            or state.metric_names is None
            or metric in recorded
        ):
            return
        if metric not in state.metric_names:
            yield f"metric {metric!r} has no series{_hint(metric, state.metric_names)}"


class RecordingRuleNoSeries(LiveRule):
    """## What it does
    Checks that every recording rule a query uses (a `record:` of this project) has series on the server.

    ## Why is this bad?
    The rule is not deployed yet, is deployed to another tenant, or its expression selects nothing: every
    panel and alert built on it is empty.

    ## Example
    ```promql
    namespace_service:qgx_http_requests:rate5m > 0   # the rule group was never published
    ```

    ## Use instead
    Publish the rule group (`make publish`), or fix the rule's expression until it produces series.
    """

    id = "live/recording-rule-no-series"
    summary = "recording rules used by queries produce series on the server"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = selector.metric
        if metric in recorded and state.metric_names is not None and metric not in state.metric_names:
            yield f"recording rule {metric!r} produces no series (not deployed, or its expression selects nothing)"


class LabelNeverSeen(LiveRule):
    """## What it does
    Checks that every label a matcher tests occurs on the selected metric's series on the server.

    ## Why is this bad?
    A matcher on a label the metric does not carry selects nothing (`service="api"`), or filters nothing
    (`service!="api"`). Labels differ between sources: `service_name` from OTLP, `service` from Alloy.

    ## Example
    ```promql
    qgx_http_requests_total{service_name="api"}
    ```

    ## Use instead
    ```promql
    qgx_http_requests_total{service="api"}
    ```
    """

    id = "live/label-never-seen"
    summary = "labels tested by matchers occur on the metric's series"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = _known_metric(selector, state)
        labels = state.labels.get(metric) if metric else None
        if metric is None or labels is None:
            return
        for matcher in selector.matchers:
            if matcher.name in labels:
                continue
            if matcher.op in ("=", "=~") and matches(matcher, "") is True:
                continue  # `label=""` selects the series without the label: meant
            shown = _shown(labels - {"__name__"})
            yield (
                f"label {matcher.name!r} of `{matcher}` never occurs on {metric!r}"
                f"{_hint(matcher.name, labels)} (its labels: {shown})"
            )


class ValueNeverSeen(LiveRule):
    """## What it does
    Checks that the fixed value of an `=` or `!=` matcher occurs in the label's values on the metric.

    ## Why is this bad?
    `status="5xx"` selects nothing when the label holds `500`, `502`…; `status!="5xx"` filters nothing.
    Values written in a template variable's options are checked as the variable sends them.

    ## Example
    ```promql
    sum(rate(qgx_http_requests_total{status="5xx"}[$__rate_interval]))
    ```

    ## Use instead
    ```promql
    sum(rate(qgx_http_requests_total{status=~"5.."}[$__rate_interval]))
    ```
    """

    id = "live/value-never-seen"
    summary = "fixed matcher values occur in the label's values"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = _known_metric(selector, state)
        if metric is None:
            return
        for matcher in selector.matchers:
            values = state.values.get((metric, matcher.name))
            if values is None or matcher.op not in ("=", "!=") or not matcher.value or matcher.from_variable:
                continue
            if matcher.value not in values:
                effect = "selects nothing" if matcher.op == "=" else "excludes nothing"
                yield (
                    f"`{matcher}` {effect}: {matcher.name!r} of {metric!r} never has the value "
                    f"{matcher.value!r}{_hint(matcher.value, values)} (values: {_shown(values)})"
                )


class RegexMatchesNothing(LiveRule):
    """## What it does
    Checks that the regex of an `=~` matcher matches at least one of the label's values on the metric
    (anchored at both ends, as Prometheus does).

    ## Why is this bad?
    A regex that matches no value selects nothing: a typo, a wrong case, or an anchor forgotten
    (`uri=~"/api"` does not match `/api/orders`).

    ## Example
    ```promql
    kube_pod_status_phase{phase=~"running|pending"}
    ```

    ## Use instead
    ```promql
    kube_pod_status_phase{phase=~"Running|Pending"}
    ```
    """

    id = "live/regex-matches-nothing"
    summary = "regex matchers match at least one of the label's values"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = _known_metric(selector, state)
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
                    f"(values: {_shown(values)})"
                )


class RateOfGauge(LiveRule):
    """## What it does
    Checks, from the server's metric metadata (`/api/v1/metadata`), that `rate()`, `irate()` and
    `increase()` are applied to counters only. It also covers metrics the catalog does not describe.

    ## Why is this bad?
    A gauge goes down as well as up; rate() reads every decrease as a counter reset and returns nonsense.

    ## Example
    ```promql
    rate(container_memory_working_set_bytes[$__rate_interval])
    ```

    ## Use instead
    ```promql
    deriv(container_memory_working_set_bytes[$__rate_interval])   # or the gauge itself
    ```
    """

    id = "live/rate-of-gauge"
    summary = "rate/irate/increase take counters (server metadata)"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = _known_metric(selector, state)
        if metric is None or selector.usage != "range":
            return
        kind = metric_type(state, metric)
        if kind in ("gauge", "info", "stateset"):
            yield f"{selector.function}() of {metric!r}, which the server's metadata says is a {kind}"


class CounterUsedRaw(LiveRule):
    """## What it does
    Checks, from the server's metric metadata, that a counter is wrapped in `rate()`, `irate()` or
    `increase()` (or counted, or tested with `absent()`), not shown or compared as it is.

    ## Why is this bad?
    A counter's raw value is the total since the process started: it resets on every restart and says
    nothing about the current traffic.

    ## Example
    ```promql
    sum(qgx_http_requests_total)
    ```

    ## Use instead
    ```promql
    sum(rate(qgx_http_requests_total[$__rate_interval]))
    ```
    """

    id = "live/counter-used-raw"
    summary = "counters are used through rate/irate/increase (server metadata)"

    def prom(self, selector: PromSelector, state: ServerState, recorded: frozenset[str]) -> Iterator[str]:
        metric = _known_metric(selector, state)
        if metric is not None and selector.usage == "raw" and metric_type(state, metric) == "counter":
            yield f"counter {metric!r} (server metadata) is used raw, not through rate(), irate() or increase()"


class LokiLabelNeverSeen(LiveRule):
    """## What it does
    Checks that every label of a LogQL stream selector is a stream label Loki has seen in the window.

    ## Why is this bad?
    A selector on a label no stream carries selects no logs. A JSON field (`level`) is not a stream label:
    it is filtered after a parser (`| json | level="ERROR"`).

    ## Example
    ```logql
    {app="backend", level="ERROR"}
    ```

    ## Use instead
    ```logql
    {app="backend"} | json | level="ERROR"
    ```
    """

    id = "live/loki-label-never-seen"
    summary = "stream selector labels are stream labels Loki has seen"

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
                f"{_hint(matcher.name, state.loki_labels)} (labels: {_shown(state.loki_labels)})"
            )


class LokiValueNeverSeen(LiveRule):
    """## What it does
    Checks that a stream matcher's fixed value occurs among the label's values in Loki, and that its regex
    matches at least one of them.

    ## Why is this bad?
    `{namespace="qgx-prod"}` in the dev environment, or `{app=~"Backend"}` when the value is `backend`,
    selects no logs.

    ## Example
    ```logql
    {namespace="qgx_dev"}
    ```

    ## Use instead
    ```logql
    {namespace="qgx-dev"}
    ```
    """

    id = "live/loki-value-never-seen"
    summary = "stream matcher values occur among the label's values in Loki"

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
                        f"{_hint(matcher.value, values)} (values: {_shown(values)})"
                    )
            elif matches(matcher, "") is False:
                verdicts = [matches(matcher, v) for v in values]
                if None not in verdicts and not any(verdicts):
                    yield f"`{matcher}` matches none of the values of {matcher.name!r} (values: {_shown(values)})"


class LokiSelectorMatchesNothing(LiveRule):
    """## What it does
    Checks that a stream selector as a whole matches at least one stream (`/loki/api/v1/series`), when
    each of its matchers alone is fine.

    ## Why is this bad?
    Every label and value exists, but never together: `{namespace="qgx-dev", app="payments"}` when the
    payments service runs in another namespace. The panel shows no logs.

    ## Example
    ```logql
    {namespace="qgx-dev", container="mysql"}
    ```

    ## Use instead
    A selector whose labels occur together, e.g. `{namespace="qgx-db", container="mysql"}`.
    """

    id = "live/loki-selector-matches-nothing"
    summary = "stream selectors match at least one stream"

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        streams = state.loki_streams.get(selector.text)
        if streams != 0:
            return
        if any(list(rule.loki(selector, state)) for rule in (LokiLabelNeverSeen(), LokiValueNeverSeen())):
            return  # a more precise finding already explains it
        yield f"stream selector `{selector.text}` matches no stream in Loki"


class SqlUnknownTable(LiveRule):
    """## What it does
    Checks that every table a MySQL query reads exists in the live database (`information_schema`).

    ## Why is this bad?
    The committed schema file and the live database drift apart (a migration not yet applied, a table
    renamed): the panel fails with "Table doesn't exist".

    ## Example
    ```sql
    SELECT COUNT(*) FROM raw_messages
    ```

    ## Use instead
    ```sql
    SELECT COUNT(*) FROM raw_message
    ```
    """

    id = "live/sql-unknown-table"
    summary = "tables read by MySQL queries exist in the live database"
    offline = "sql/unknown-table"

    def sql(self, problems: Iterable[tuple[str, str]]) -> Iterator[str]:
        for rule, message in problems:
            if rule == self.offline:
                yield message


class SqlUnknownColumn(SqlUnknownTable):
    """## What it does
    Checks that every column a MySQL query refers to exists in its table in the live database.

    ## Why is this bad?
    A column dropped or renamed by a migration makes the panel fail with "Unknown column".

    ## Example
    ```sql
    SELECT status, COUNT(*) FROM raw_message GROUP BY state
    ```

    ## Use instead
    ```sql
    SELECT status, COUNT(*) FROM raw_message GROUP BY status
    ```
    """

    id = "live/sql-unknown-column"
    summary = "columns used by MySQL queries exist in the live database"
    offline = "sql/unknown-column"


class Unreachable(LiveRule):
    """## What it does
    Reports, once per datasource, a server that could not be reached or refused the credentials, so none
    of its queries were checked. When no server at all could be checked, `lint --live` exits 3.

    ## Why is this bad?
    Nothing was verified against that datasource: a clean report would be a false comfort.

    ## Example
    `qgx-loki: cannot reach qgx-loki at http://loki-gateway.monitoring.svc: [Errno -2] Name or service not known`

    ## Use instead
    Run from where the servers are reachable, fix the URL in environments.yaml, set the credential variable
    it names, or use `--via-grafana` with a Grafana token.
    """

    id = "live/unreachable"
    summary = "every datasource's server could be reached and accepted the credentials"


class Incomplete(LiveRule):
    """## What it does
    Reports a datasource for which some questions got no answer: single requests that failed after their
    retries, or that were never made because the time budget (`--time-budget`) ran out.

    ## Why is this bad?
    The queries depending on those answers were not checked.

    ## Example
    `qgx-mimir: 12 questions were not asked: the time budget of 60 s was spent`

    ## Use instead
    Raise `--time-budget` or `--concurrency`, or check the server's health.
    """

    id = "live/incomplete"
    summary = "every question to a reachable server got an answer within the time budget"


PROM_RULES: tuple[LiveRule, ...] = (
    MetricNeverSeen(), RecordingRuleNoSeries(), LabelNeverSeen(), ValueNeverSeen(), RegexMatchesNothing(),
    RateOfGauge(), CounterUsedRaw(),
)  # fmt: skip
LOKI_RULES: tuple[LiveRule, ...] = (LokiLabelNeverSeen(), LokiValueNeverSeen(), LokiSelectorMatchesNothing())
SQL_RULES: tuple[LiveRule, ...] = (SqlUnknownTable(), SqlUnknownColumn())
ALL_RULES: tuple[type[LiveRule], ...] = (
    *(type(r) for r in (*PROM_RULES, *LOKI_RULES, *SQL_RULES)), Unreachable, Incomplete,
)  # fmt: skip
