"""LogQL rule checks (Loki ruler) and stream selectors against the catalog.

Loki rule expressions are LogQL queries like any other (`logql/syntax` parses them); these checks add what only a
rule needs (a metric result, templates that use labels the result keeps) and what the catalog knows (the stream
labels Alloy sets). The rule checks of `rules.py` (syntax, `for`, severity, annotations, templates, names,
duplicates, dashboard links) run on Loki rules too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from ..context import LintContext, Query
from ..findings import Finding, Severity, one_line
from ..inputs import RuleDoc
from ..logql_labels import result_labels
from ..registry import Check, register

LOGQL = frozenset({"logql"})
# `$labels.name`, `.Labels.name` and `index $labels "name"` in a Go template.
LABEL_USE = re.compile(
    r"""(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)|index\s+(?:\$labels|\.Labels)\s+"([^"]+)\""""
)


@register
class RuleMetricQuery(Check):
    """A Loki alerting or recording rule's expression is a metric query, not a log query.

    ## What it does
    Reports a Loki rule whose expression parses as a log query (a stream selector with a pipeline) instead of a
    metric query (a range aggregation such as `count_over_time`, `rate`, and what is built on them).

    ## Why is this bad?
    Loki's ruler accepts the rule on upload (`syntax.ParseExpr` takes log queries too) and then fails every
    evaluation: the alert never fires and the recording rule never records, silently.

    ## Example
    ```yaml
    groups:
      - name: logs
        rules:
          - alert: Panics
            expr: '{app="api"} |= "panic"'
    ```

    ## Use instead
    ```yaml
    groups:
      - name: logs
        rules:
          - alert: Panics
            expr: 'sum by (app) (count_over_time({app="api"} |= "panic" [5m])) > 0'
    ```
    """

    id = "logql/rule-metric-query"
    severity = Severity.ERROR
    summary = "a Loki rule's expression is a metric query (a log query there fails every evaluation)"
    languages = LOGQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if query.origin != "rule":
            return
        parsed, _error = ctx.parse(query)
        if parsed is not None and parsed.kind == "log":
            yield self.report(
                ctx,
                f"{query.label}: a log query cannot be a rule expression (Loki stores it, then every evaluation "
                f"fails); aggregate it, e.g. `sum by (...) (count_over_time(... [5m]))`: `{one_line(query.text)}`",
                query=query,
            )


@register
class StreamLabel(Check):
    """Stream selectors use the Loki labels of the catalog.

    ## What it does
    Reports a label matcher in a LogQL stream selector (`{name="..."}`) whose label is not among `loki.labels` in
    `catalog.yaml` (the stream labels the collector sets). Labels a parser extracts (`| json`) are not stream
    labels and belong after the selector, as label filters.

    ## Why is this bad?
    A selector on a label no stream has selects nothing: the panel stays empty and the alert never fires, without
    an error. A field of the log line (`level`) used as a stream label is the usual cause.

    ## Example
    ```logql
    sum by (service) (rate({level="ERROR"} [5m]))
    ```

    ## Use instead
    ```logql
    sum by (service) (rate({service=~".+"} | json level | level="ERROR" [5m]))
    ```
    """

    id = "logql/stream-label"
    severity = Severity.WARNING
    summary = "LogQL stream selectors use the catalog's Loki labels (catalog.yaml `loki.labels`)"
    languages = LOGQL

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        known = _stream_labels(ctx)
        if not known:
            return
        parsed, _error = ctx.parse(query)
        if parsed is None:
            return
        reported: set[str] = set()
        for selector in parsed.selectors:
            for matcher in selector:
                if matcher.name not in known and matcher.name not in reported:
                    reported.add(matcher.name)
                    yield self.report(
                        ctx,
                        f"{query.label}: stream label {matcher.name!r} is not among the catalog's Loki labels "
                        f"({', '.join(sorted(known))}): `{one_line(query.text)}`",
                        query=query,
                    )


def _stream_labels(ctx: LintContext) -> frozenset[str]:
    loki = ctx.catalog.loki if ctx.catalog is not None else None
    labels = loki.get("labels") if isinstance(loki, Mapping) else None
    return frozenset(str(label) for label in labels or ())


@register
class LogQLTemplateLabel(Check):
    """Loki alert templates use only labels the LogQL result keeps.

    ## What it does
    Works out which labels a Loki alert expression's result can carry (`sum by (service)` keeps only `service`,
    `absent_over_time({a="b"}[5m])` only `a`, a pipeline's `json x` adds `x`, `label_format`, `drop` and `keep`
    change them) and reports `$labels.X` in annotations and labels for an `X` the result certainly lacks.

    ## Why is this bad?
    The template renders an empty string: "High error rate in " in Slack, with nothing after it, and a dashboard
    link whose filter is empty.

    ## Example
    ```yaml
    groups:
      - name: logs
        rules:
          - alert: Errors
            expr: 'sum by (service) (rate({service=~".+"} |= "ERROR" [5m])) > 1'
            annotations:
              summary: "{{ $labels.service }} in {{ $labels.namespace }} logs errors"
    ```

    ## Use instead
    ```yaml
    groups:
      - name: logs
        rules:
          - alert: Errors
            expr: 'sum by (namespace, service) (rate({service=~".+"} |= "ERROR" [5m])) > 1'
            annotations:
              summary: "{{ $labels.service }} in {{ $labels.namespace }} logs errors"
    ```
    """

    id = "logql/template-label"
    severity = Severity.ERROR
    summary = "Loki alert templates use only labels the LogQL expression's result keeps"

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        if rule.ruler != "loki" or not rule.is_alert or not isinstance(rule.data.get("expr"), str):
            return
        uses = list(_label_uses(rule))
        labels = result_labels(rule.data["expr"]) if uses else None
        if labels is None or (not labels.closed and not labels.names):
            return
        reported: set[str] = set()
        for key, name, label in uses:
            if label in reported or not labels.absent(label):
                continue
            reported.add(label)
            having = (
                (
                    f"has only the labels ({', '.join(sorted(labels.names))})"
                    if labels.names
                    else "has no labels"
                )
                if labels.closed
                else f"drops {label!r}"
            )
            yield self.report(
                ctx,
                f"{rule.label}: {key} {name!r} uses $labels.{label}, but the LogQL result {having}: "
                "it renders empty",
                rule_doc=rule,
            )


def _label_uses(rule: RuleDoc) -> Iterator[tuple[str, str, str]]:
    for key in ("annotations", "labels"):
        values = rule.data.get(key)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            if isinstance(value, str) and "{{" in value:
                for match in LABEL_USE.finditer(value):
                    yield key[:-1], str(name), match.group(1) or match.group(2)
