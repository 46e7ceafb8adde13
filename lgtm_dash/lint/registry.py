"""The check interface and registry.

A check is a small class with a stable `id` (`family/name`), a default `severity`, a one-line `summary`, and
one or more hooks the engine calls:

- `check_query(query, ctx)`   every query whose language is in `languages` (panel targets, template variable
                              queries, dashboard annotations, rule expressions; see `context.Query`);
- `check_dashboard(dash, ctx)` every dashboard;
- `check_rule(rule, ctx)`     every alerting or recording rule;
- `check_run(ctx)`            once, for checks across the whole input (duplicates, cross-references).

Each hook yields `Finding`s made with `self.report(ctx, message, ...)`.

Adding a check: drop a module into `lgtm_dash/lint/checks/` that defines a `Check` subclass decorated with
`@register`, document its id in docs/lint-rules.md (a test checks every registered id is documented), and add a
failing and a passing case to the tests. For example, SQL checks::

    @register
    class SqlSyntax(Check):
        id = "sql/syntax"
        severity = Severity.ERROR
        summary = "SQL queries of MySQL panels parse (after macro expansion)"
        languages = frozenset({"sql"})

        def check_query(self, query, ctx):
            text = query.interpolated()   # variables replaced, $__timeFilter(...) macros kept
            ...
            yield self.report(ctx, f"{query.label}: invalid SQL: ...", query=query)
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from .findings import Finding, Severity

if TYPE_CHECKING:
    from .context import LintContext, Query
    from .inputs import DashboardDoc, RuleDoc

_REGISTRY: dict[str, type[Check]] = {}


class Check:
    id: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    languages: ClassVar[frozenset[str]] = frozenset()

    def check_query(self, query: Query, ctx: LintContext) -> Iterable[Finding]:
        return ()

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        return ()

    def check_rule(self, rule: RuleDoc, ctx: LintContext) -> Iterable[Finding]:
        return ()

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        return ()

    def report(
        self, ctx: LintContext, message: str, *, severity: Severity | None = None, **where: Any
    ) -> Finding:
        return ctx.finding(self.id, severity or self.severity, message, **where)


def register(cls: type[Check]) -> type[Check]:
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"lint check id {cls.id!r} is registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def all_checks() -> list[Check]:
    """One instance of every check in lgtm_dash/lint/checks/, ordered by id."""
    from . import checks

    for module in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{module.name}")
    return [_REGISTRY[key]() for key in sorted(_REGISTRY)]
