from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...registry import Check, register


@register
class StreamLabel(Check):
    """LogQL stream selectors use the catalog's Loki labels.

    ## What it does
    Reports a matcher of a LogQL stream selector (`{name="..."}`) whose label is not among `loki.labels` in
    `catalog.yaml`: the stream labels the collector sets. Fields of the line that a parser extracts (`| json`) are
    not stream labels; they belong after the selector, as label filters. Runs when a catalog is given.

    ## Why is this bad?
    A selector on a label no stream has selects nothing: the panel stays empty and the alert never fires, without
    an error. A field of the log line (`level`) written as a stream label is the usual cause.

    ## Example
    ```yaml catalog
    loki:
      labels: [app, namespace, service]
    ```
    ```logql
    sum by (service) (rate({level="ERROR"} [$__auto]))
    ```
    ```text
    0: dashboard 'example', panel 'Example', query A: stream label 'level' is not among the catalog's Loki labels (app, namespace, service): `sum by (service) (rate({level="ERROR"} [$__auto]))`
    ```

    ## Use instead
    ```yaml catalog
    loki:
      labels: [app, namespace, service]
    ```
    ```logql
    sum by (service) (rate({service=~".+"} | json level | level="ERROR" [$__auto]))
    ```
    """

    id = "logql/stream-label"
    severity = Severity.WARNING
    languages = frozenset({"logql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        known = _stream_labels(ctx)
        if not known:
            return
        parsed, _error = ctx.parse(query)
        if parsed is None or not hasattr(parsed, "selectors"):
            return
        reported: set[str] = set()
        for selector in parsed.selectors:
            for matcher in selector:
                if matcher.name in known or matcher.name in reported:
                    continue
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
