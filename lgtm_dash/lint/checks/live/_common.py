"""What the `live/...` rules share: the base class that hands each rule what a query asked each server, and
small helpers for the messages.

A live rule is a `Check` with `live = True`. The engine runs it only when the run has live answers
(`ctx.live`, a `lgtm_dash.live.run.LiveAnswers`); offline it is skipped. Its findings are warnings (an
environment may legitimately lack a metric) and errors with `--strict`, unless `[tool.lgtm-dash.lint]`
gives the rule a severity; each message ends with the environment, datasource and window asked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ...findings import Finding, Severity
from ...registry import Check

if TYPE_CHECKING:
    from ....live.gather import ServerState
    from ....live.run import LiveAnswers, QueryUse
    from ....live.selectors import LabelMatcher, LokiSelector, PromSelector
    from ...context import LintContext, Query

MAX_SHOWN = 8


class LiveCheck(Check):
    live = True
    severity = Severity.WARNING

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        answers: LiveAnswers | None = ctx.live
        if answers is None:
            return
        for use in answers.uses_of(query):
            for message in self.judge(use, ctx):
                yield self.report(ctx, f"{query.label}: {message} {answers.where(use.server)}", query=query)

    def judge(self, use: QueryUse, ctx: LintContext) -> Iterator[str]:
        """The problems of one query's use of one server, as messages."""
        for selector in use.prom:
            yield from self.prom(selector, use.state, ctx)
        for loki_selector in use.loki:
            yield from self.loki(loki_selector, use.state)

    def prom(self, selector: PromSelector, state: ServerState, ctx: LintContext) -> Iterator[str]:
        return iter(())

    def loki(self, selector: LokiSelector, state: ServerState) -> Iterator[str]:
        return iter(())

    def report(
        self, ctx: LintContext, message: str, *, severity: Severity | None = None, **where: Any
    ) -> Finding:
        strict = ctx.live is not None and ctx.live.strict
        return super().report(
            ctx, message, severity=severity or (Severity.ERROR if strict else None), **where
        )


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


def shown(values: Iterable[str]) -> str:
    ordered = sorted(values)
    more = f", … {len(ordered) - MAX_SHOWN} more" if len(ordered) > MAX_SHOWN else ""
    return ", ".join(repr(v) for v in ordered[:MAX_SHOWN]) + more


def hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def known_metric(selector: PromSelector, state: ServerState) -> str | None:
    """The selector's metric when the server has it (so its labels can be judged)."""
    metric = selector.metric
    if metric is None or selector.metric_from_variable or state.metric_names is None:
        return None
    return metric if metric in state.metric_names else None


def known_elsewhere(metric: str, ctx: LintContext) -> str:
    """What the run knows of a metric's type besides this server, for a message about a disagreement."""
    catalogued = ctx.catalog.metric_type(metric) if ctx.catalog is not None else None
    if catalogued is not None:
        return f"the catalog says {catalogued}"
    return "another server's metadata disagrees"
