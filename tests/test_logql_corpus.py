"""Corpus test for the LogQL parser: queries extracted from Loki's own parser tests.

The corpus lives outside the repository (see its SOURCE.md).  Without it the
tests are skipped, except in CI (``CI=true``) where a missing corpus fails.
"""

from __future__ import annotations

import json

from lgtm_dash.lint.logql import LogQLSyntaxError, parse_logql
from tests.helpers import corpus

# Floors equal the measured rates (323/323 and 17/17): any regression fails.
MIN_VALID_ACCEPTED = 1.0
MIN_SYNTAX_INVALID_REJECTED = 1.0


def _load(name: str) -> list[dict]:
    path = corpus(f"logql/{name}")  # skips locally, fails under CI=true when absent
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _query_text(record: dict) -> str:
    # One record holds invalid UTF-8: JSON can only carry it as U+FFFD, the real
    # bytes are in query_hex.  surrogateescape keeps the bad bytes visible.
    if "query_hex" in record:
        return bytes.fromhex(record["query_hex"]).decode("utf-8", "surrogateescape")
    return record["query"]


def _outcome(query: str) -> str | None:
    """None if the query parses, else the error message."""
    try:
        parse_logql(query)
    except LogQLSyntaxError as exc:
        return exc.message
    return None


def _report(title: str, failures: list[tuple[str, str]]) -> str:
    lines = [title]
    for query, detail in failures:
        lines.append(f"  {query!r}\n      -> {detail}")
    return "\n".join(lines)


def test_valid_queries_parse() -> None:
    records = [r for r in _load("queries.jsonl") if r["valid"]]
    assert records, "corpus has no valid records"
    failures = []
    for record in records:
        query = _query_text(record)
        error = _outcome(query)
        if error is not None:
            failures.append((query, error))
    rate = 1 - len(failures) / len(records)
    summary = f"valid queries accepted: {len(records) - len(failures)}/{len(records)} = {rate:.2%}"
    print(summary)
    assert rate >= MIN_VALID_ACCEPTED, _report(summary + "; rejected:", failures)


def test_invalid_syntax_queries_are_rejected() -> None:
    records = [
        r for r in _load("queries.jsonl") if not r["valid"] and r.get("error_class_heuristic") == "syntax"
    ]
    assert records, "corpus has no invalid syntax records"
    failures = []
    for record in records:
        query = _query_text(record)
        if _outcome(query) is None:
            failures.append((query, f"accepted; Loki says {record.get('expected_error')}"))
    rate = 1 - len(failures) / len(records)
    summary = f"invalid (syntax) queries rejected: {len(records) - len(failures)}/{len(records)} = {rate:.2%}"
    print(summary)
    assert rate >= MIN_SYNTAX_INVALID_REJECTED, _report(summary + "; accepted:", failures)


def test_invalid_semantic_queries_report() -> None:
    """Loki's post-parse checks are optional for us: report the rate, assert nothing strict."""
    records = [
        r for r in _load("queries.jsonl") if not r["valid"] and r.get("error_class_heuristic") != "syntax"
    ]
    rejected = sum(_outcome(_query_text(r)) is not None for r in records)
    print(f"invalid (semantic) queries rejected: {rejected}/{len(records)}")
    # Each record either parses or fails cleanly (checked by _outcome not raising).


def test_lezer_corpus_never_breaks_the_parser() -> None:
    """A different (error-tolerant editor) grammar: only check that nothing but
    LogQLSyntaxError escapes, and that every error is a clean one-liner."""
    records = _load("extra_lezer_logql.jsonl")
    assert records
    accepted = 0
    for record in records:
        query = record["query"]
        try:
            parse_logql(query)
        except LogQLSyntaxError as exc:
            assert "\n" not in exc.message, (query, exc.message)
            assert exc.line >= 1 and exc.column >= 1, (query, exc.line, exc.column)
        else:
            accepted += 1
    print(f"lezer corpus: {accepted}/{len(records)} accepted")


def test_lezer_error_cases_are_rejected() -> None:
    """The lezer cases marked as errors (unterminated strings, `| regexp` without a
    pattern, trailing commas, bare durations/byte sizes) are invalid LogQL too."""
    records = [r for r in _load("extra_lezer_logql.jsonl") if r["lezer_error"]]
    accepted = [r["query"] for r in records if _outcome(r["query"]) is None]
    assert not accepted, _report("lezer error cases accepted:", [(q, "accepted") for q in accepted])
