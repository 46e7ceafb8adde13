from __future__ import annotations

import re
from collections.abc import Iterable

from ...context import LintContext, Query
from ...findings import Finding, Severity, one_line
from ...inputs import DashboardDoc
from ...interpolate import variable_references
from ...registry import Check, register

# `label="..."` or `label!="..."`: not `=~`, `!~`, `==`, `>=`, `<=`, nor LogQL's `|=` line filter.
EQUALITY_MATCHER = re.compile(
    r"""([A-Za-z_][A-Za-z0-9_]*)\s*(?<![=!<>~|])(!=|=)(?![=~])\s*("(?:[^"\\]|\\.)*"|`[^`]*`)"""
)
# LogQL stages whose `name="..."` is an assignment or an extraction, not a filter.
ASSIGNING_STAGES = (
    "label_format",
    "line_format",
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "keep",
    "drop",
)


@register
class MultiValueMatcher(Check):
    r"""A multi-value or include-All variable is matched with `=~`/`!~`, not `=`/`!=`.

    ## What it does
    Reports PromQL and LogQL label matchers (and LogQL label filters) that compare a label with `=` or `!=` to a
    value holding a dashboard variable with *Multi-value* or *Include All option* set. In a panel (or row)
    repeated over the variable each copy gets one value, so `=` is right there.

    ## Why is this bad?
    With several values picked (or *All*), Grafana substitutes a regular expression such as `(api|web)`; `=`
    compares it literally, no series has that value, and the panel goes empty exactly when someone widens the
    selection.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP",
     "templating": {"list": [{"name": "job", "type": "query", "multi": true, "includeAll": true,
                              "query": "label_values(up, job)"}]},
     "panels": [{"id": 1, "type": "timeseries", "title": "Requests",
       "datasource": {"type": "prometheus", "uid": "prom"},
       "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{job=\"$job\"}[$__rate_interval]))"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Requests', query A: job="$job" compares with multi-value variable $job: use =~ (or !~), or several values match nothing: `sum(rate(http_requests_total{job="$job"}[$__rate_interval]))`
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP",
     "templating": {"list": [{"name": "job", "type": "query", "multi": true, "includeAll": true,
                              "query": "label_values(up, job)"}]},
     "panels": [{"id": 1, "type": "timeseries", "title": "Requests",
       "datasource": {"type": "prometheus", "uid": "prom"},
       "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{job=~\"$job\"}[$__rate_interval]))"}]}]}
    ```
    """

    id = "dashboard/multi-value-matcher"
    severity = Severity.ERROR
    languages = frozenset({"promql", "logql"})

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        if query.dashboard is None or ("$" not in query.text and "[[" not in query.text):
            return
        multi = {
            name: kind for name, kind in self._multi_value_variables(query.dashboard) if name in query.text
        }
        for name in query.panel.repeats if query.panel is not None else ():
            multi.pop(name, None)  # each copy of a repeated panel or row gets one value
        if not multi:
            return
        for match in EQUALITY_MATCHER.finditer(query.text):
            if query.language == "logql" and _in_assigning_stage(query.text, match.start()):
                continue
            label, op, value = match.groups()
            names = [n for n in variable_references(value) if n in multi]
            if names:
                yield self.report(
                    ctx,
                    f"{query.label}: {label}{op}{value} compares with {multi[names[0]]} variable ${names[0]}: use "
                    f"{'=~' if op == '=' else '!~'} (or {'!~' if op == '=' else '=~'}), or several values match "
                    f"nothing: `{one_line(query.text)}`",
                    query=query,
                )
                return

    def _multi_value_variables(self, dash: DashboardDoc) -> tuple[tuple[str, str], ...]:
        """(name, kind) of the dashboard's multi-value and include-All variables, worked out once per dashboard."""
        cache: dict[int, tuple[DashboardDoc, tuple[tuple[str, str], ...]]] = self.__dict__.setdefault(
            "_cache", {}
        )
        known = cache.get(id(dash))
        if known is None or known[0] is not dash:
            variables = tuple(
                (str(v.get("name")), "multi-value" if v.get("multi") is True else "include-All")
                for v in dash.templating
                if v.get("multi") is True or v.get("includeAll") is True
            )
            known = cache[id(dash)] = (dash, variables)
        return known[1]


def _in_assigning_stage(text: str, at: int) -> bool:
    pipe = text.rfind("|", 0, at)
    if pipe < 0:
        return False
    stage = text[pipe + 1 : at].lstrip()
    return stage.startswith(ASSIGNING_STAGES)
