"""Each lint rule, the way pint tests its checks: the bad example of its docstring reports exactly the findings
written under it (rule, message, line), the good example none; every rule is documented and the generated
docs/lint-rules.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgtm_dash.lint.docs import rules_markdown
from lgtm_dash.lint.examples import examples, run_example
from lgtm_dash.lint.registry import DOC_SECTIONS, all_checks, check_class, doc_sections
from tests.helpers import REPO

RULE_IDS = [check.id for check in all_checks()]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_bad_example_reports_exactly_what_the_docs_show(rule_id: str, tmp_path: Path) -> None:
    check = check_class(rule_id)
    bad = next(e for e in examples(check) if e.bad)
    assert bad.expected, (
        f"{rule_id}: the ## Example section shows no finding (a `text` block of LINE: MESSAGE)"
    )
    findings = run_example(check, bad, tmp_path)
    assert all(f.rule == rule_id and f.severity for f in findings)
    got = sorted((f.line, f.message) for f in findings)
    assert got == sorted(bad.expected), f"{rule_id}: got {got}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_good_example_reports_nothing(rule_id: str, tmp_path: Path) -> None:
    check = check_class(rule_id)
    good = next(e for e in examples(check) if not e.bad)
    assert good.blocks, f"{rule_id}: the ## Use instead section has no input"
    assert run_example(check, good, tmp_path) == []


def test_every_rule_has_a_ruff_style_docstring_with_a_summary() -> None:
    for check in all_checks():
        sections = doc_sections(type(check))
        assert all(sections.get(name) for name in DOC_SECTIONS), check.id
        assert check.summary and len(check.summary) < 120, check.id


def test_docs_are_generated_from_the_rules_and_current() -> None:
    committed = (REPO / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "docs/lint-rules.md is stale: run `make docs`"
    for rule_id in RULE_IDS:
        assert f"### `{rule_id}`" in committed
