"""The check interface and registry: one rule, one class, in one module under `lgtm_dash/lint/checks/<family>/`.

A check is a small class with a stable `id` (`family/name`), a default `severity`, whether it runs without
configuration (`default`: correctness rules do, house rules are opt-in), and one or more hooks the engine calls:

- `check_query(query, ctx)`    every query whose language is in `languages` (panel targets, template variable
                               queries, dashboard annotations, rule expressions; see `context.Query`);
- `check_dashboard(dash, ctx)` every dashboard;
- `check_rule(rule, ctx)`      every alerting or recording rule;
- `check_run(ctx)`             once, for checks across the whole input (duplicates, cross-references, input).

Each hook yields `Finding`s made with `self.report(ctx, message, ...)`.

A check with `live = True` (the `live/...` rules, like pint's online checks) judges what the servers of an
environment answered (`ctx.live`): the engine runs it only in `lint --live`, and skips it offline.

The class docstring is the rule's documentation, in ruff's layout: a one-line summary, then the sections
`## What it does`, `## Why is this bad?`, `## Example` and `## Use instead`. docs/lint-rules.md is generated
from it (`lgtm-dash lint --docs`), and the examples run as tests (`lgtm_dash.lint.examples`): fenced blocks of
`promql`, `logql`, `sql` (a panel query), `json` (a dashboard) or `yaml` (a rule file; `yaml catalog` is the
metric catalog, `yaml datasources` the provisioned datasources; for live rules `yaml server` and `sql server`
say what the servers hold, `yaml environments` the environment), and under `## Example` a `text` block with
the exact findings, one `LINE: MESSAGE` per line (line 0 when the input has no line, like dashboard JSON).

Adding a rule: one module under `lgtm_dash/lint/checks/<family>/` defining a `Check` subclass decorated with
`@register`, with that docstring; then regenerate the docs (`make docs`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from .findings import Finding, Severity

if TYPE_CHECKING:
    from .context import LintContext, Query
    from .inputs import DashboardDoc, RuleDoc

RULE_ID = re.compile(r"^[a-z]+/[a-z0-9-]+$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
ALL = "ALL"

_REGISTRY: dict[str, type[Check]] = {}


class Check:
    id: ClassVar[str]
    severity: ClassVar[Severity]
    # True: a correctness rule, on without configuration. False: a house rule, turned on by `select`.
    default: ClassVar[bool] = True
    languages: ClassVar[frozenset[str]] = frozenset()
    # True: judges what the servers of an environment answered (`live/...`): runs only with `lint --live`.
    live: ClassVar[bool] = False
    summary: ClassVar[str] = ""  # the docstring's first line (set by @register)

    @property
    def family(self) -> str:
        return self.id.split("/")[0]

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


def doc_sections(cls: type[Check]) -> dict[str, str]:
    """The docstring's sections by heading; the summary line under ""."""
    text = _dedent_doc(cls.__doc__ or "")
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        heading = re.match(r"^## (.+?)\s*$", line)
        if heading:
            current = heading.group(1)
            sections[current] = []
        else:
            sections[current].append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _dedent_doc(doc: str) -> str:
    lines = doc.expandtabs().splitlines()
    if not lines:
        return ""
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    margin = min(indents) if indents else 0
    return "\n".join([lines[0].strip(), *(line[margin:] for line in lines[1:])])


def register(cls: type[Check]) -> type[Check]:
    if not RULE_ID.match(cls.id):
        raise ValueError(f"lint rule id {cls.id!r} must look like family/name")
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"lint check id {cls.id!r} is registered twice")
    sections = doc_sections(cls)
    missing = [name for name in DOC_SECTIONS if not sections.get(name)]
    if not sections[""] or missing:
        raise ValueError(f"lint rule {cls.id}: the docstring needs a summary and the sections {missing}")
    cls.summary = sections[""].splitlines()[0].strip()
    _REGISTRY[cls.id] = cls
    return cls


_loaded = False


def _load_all() -> None:
    """Import every module under lgtm_dash/lint/checks/ (once): each registers its rule."""
    global _loaded
    if _loaded:
        return
    from . import checks

    for module in pkgutil.walk_packages(checks.__path__, f"{checks.__name__}."):
        importlib.import_module(module.name)
    _loaded = True


def all_checks() -> list[Check]:
    """One instance of every rule under lgtm_dash/lint/checks/, ordered by id."""
    _load_all()
    return [_REGISTRY[key]() for key in sorted(_REGISTRY)]


def rule_ids() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def check_class(rule_id: str) -> type[Check]:
    _load_all()
    return _REGISTRY[rule_id]


# ------------------------------------------------------------------ selectors (ids or prefixes)


def selector_matches(selector: str, rule_id: str) -> bool:
    """`ALL`, a family (`promql`, `promql/`), an id prefix (`promql/rate`) or an exact id."""
    if selector == ALL:
        return True
    if "/" not in selector:
        return rule_id.startswith(selector + "/")
    return rule_id.startswith(selector)


def specificity(selector: str) -> int:
    return 0 if selector == ALL else len(selector.rstrip("/")) + (1 if "/" in selector else 0)


def is_known_selector(selector: str, ids: Iterable[str] | None = None) -> bool:
    known = list(ids) if ids is not None else rule_ids()
    return any(selector_matches(selector, rule_id) for rule_id in known)


def ignored_by(rule_id: str, selectors: Iterable[str]) -> bool:
    """Whether a suppression list (`lint_ignore=`, `lintIgnore`, `# lgtm-dash: ignore=`) silences a rule."""
    return any(selector_matches(s, rule_id) for s in selectors)
