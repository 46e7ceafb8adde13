"""Print the findings of the labelled corpus set that tests/data/lint_corpus_labels.jsonl does not judge yet, as
records to complete (`verdict`: true or false, `reason`: one line), and the labels that no longer match.

    .venv/bin/python scripts/lint_corpus_labels.py            # unlabelled findings, as JSONL to judge
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_lint_corpus import LABELS, finding_keys, lint_corpus_set


def record(key: str, finding, verdict: bool | None = None, reason: str = "") -> dict:
    return {"key": key, "rule": finding.rule, "severity": str(finding.severity), "verdict": verdict,
            "reason": reason, "message": finding.message}  # fmt: skip


def main() -> int:
    labels = {}
    if LABELS.is_file():
        labels = {
            json.loads(x)["key"]: x for x in LABELS.read_text(encoding="utf-8").splitlines() if x.strip()
        }
    keyed = finding_keys(lint_corpus_set())
    for key, finding in keyed:
        if key not in labels:
            print(json.dumps(record(key, finding), ensure_ascii=False))
    for key in sorted(set(labels) - {k for k, _ in keyed}):
        print(f"# no longer reported: {key}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
