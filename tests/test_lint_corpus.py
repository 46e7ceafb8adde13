"""Lint precision on the world's dashboards and rule files (issue 14).

The labelled set (tests/data/lint_corpus_labels.jsonl) judges every error- and warning-level finding the default
rules report on the corpus set below: true when it is a real defect or risk a maintainer would want to know,
false otherwise, with a one-line reason. The test lints the corpora again, fails on any finding that is not
labelled (and on a labelled finding that is gone), so the figures cannot drift silently, and requires a
precision of at least 95 % on errors and 80 % on warnings. `python scripts/lint_corpus_labels.py` lists
unlabelled findings as records to judge.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from lgtm_dash.lint.engine import INTERNAL_ERROR, lint
from lgtm_dash.lint.findings import Finding, Severity
from lgtm_dash.lint.inputs import read_paths
from tests.helpers import REPO, corpus, run_cli

LABELS = REPO / "tests" / "data" / "lint_corpus_labels.jsonl"
# One lint run per entry, as a user would run `lgtm-dash lint <folder>`.
CORPUS_SET = (
    "dashboards/mimir-mixin",
    "dashboards/loki-mixin",
    "dashboards/kube-prometheus",
    "dashboards/mysql-grafana-devenv",
    "rules",
    "dashboard-linter/cases",
)
REQUIRED_PRECISION = {Severity.ERROR: 0.95, Severity.WARNING: 0.80}


def lint_corpus_set() -> list[Finding]:
    findings: list[Finding] = []
    for folder in CORPUS_SET:
        findings += lint(read_paths([corpus(folder)]))
    return findings


def finding_keys(findings: list[Finding]) -> list[tuple[str, Finding]]:
    """A stable key per finding: corpus file, rule, line, dashboard, panel, query; `#n` tells repeats apart."""
    seen: Counter[str] = Counter()
    keyed = []
    for finding in sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.message)):
        file = Path(finding.file)
        shown = file.relative_to(corpus("")).as_posix() if file.is_absolute() else finding.file
        base = "|".join([shown, finding.rule, str(finding.line), finding.dashboard or "", finding.panel or "",
                         finding.query or ""])  # fmt: skip
        seen[base] += 1
        keyed.append((f"{base}#{seen[base]}", finding))
    return keyed


def load_labels() -> dict[str, dict]:
    records = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = {r["key"]: r for r in records}
    assert len(labels) == len(records), "duplicate keys in the labelled set"
    assert all(isinstance(r["verdict"], bool) and r["reason"].strip() for r in records), (
        "every label needs both"
    )
    return labels


def test_precision_on_the_labelled_corpus_set(capsys) -> None:
    labels = load_labels()
    keyed = finding_keys(lint_corpus_set())
    assert [f for _, f in keyed if f.rule == INTERNAL_ERROR] == []
    unlabelled = [f"{key}: {f.message}" for key, f in keyed if key not in labels]
    assert not unlabelled, f"{len(unlabelled)} findings are not in {LABELS.name}:\n" + "\n".join(
        unlabelled[:20]
    )
    gone = sorted(set(labels) - {key for key, _ in keyed})
    assert not gone, f"{len(gone)} labelled findings are no longer reported:\n" + "\n".join(gone[:20])
    with capsys.disabled():
        print()
        for severity, required in REQUIRED_PRECISION.items():
            verdicts = [labels[key]["verdict"] for key, f in keyed if f.severity is severity]
            precision = sum(verdicts) / len(verdicts) if verdicts else 1.0
            print(f"lint precision on the corpora, {severity}s: {precision:.1%} "
                  f"({sum(verdicts)} true of {len(verdicts)}; required {required:.0%})")  # fmt: skip
            assert precision >= required, f"{severity} precision {precision:.1%} is below {required:.0%}"


def test_labels_record_what_they_judge() -> None:
    for record in load_labels().values():
        assert record["rule"] == record["key"].split("|")[1] and record["severity"] in ("error", "warning")
        assert record["message"], record["key"]


def test_all_corpus_rule_files_in_one_run_never_abort(tmp_path: Path) -> None:
    root = corpus("rules")
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
    empty = [
        p for p in files if not (p.read_text().strip().strip("{}").strip()) or p.read_text().strip() == "null"
    ]
    result = run_cli("--project", str(tmp_path), "lint", *map(str, files), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)
    assert not [f for f in findings if f["rule"] == INTERNAL_ERROR]
    reported = {Path(f["file"]).name for f in findings}
    # every file that is not a rule file (promtool test files) is one input/format finding, and nothing aborted
    not_rules = {Path(f["file"]).name for f in findings if f["rule"] == "input/format"}
    assert not_rules and all(name.endswith((".yml", ".yaml")) for name in not_rules)
    assert any(f["rule"] == "rule/template" for f in findings) and any(
        f["rule"] == "rule/duplicate" for f in findings
    )
    assert not (reported & {p.name for p in empty}), "an empty rule file is valid"
    assert "rules_large.yml" in reported  # the last files of the run were linted too


def test_runbook_url_is_never_an_error_without_configuration(tmp_path: Path) -> None:
    result = run_cli("--project", str(tmp_path), "lint", str(corpus("rules/loki-mixin")), "--format", "json")
    assert result.returncode in (0, 1)
    assert [
        f for f in json.loads(result.stdout) if "runbook" in f["rule"] or "runbook_url" in f["message"]
    ] == []
    house = run_cli("--project", str(tmp_path), "lint", str(corpus("rules/loki-mixin")), "--format", "json",
                    "--extend-select", "rule/runbook-url")  # fmt: skip
    assert any(f["rule"] == "rule/runbook-url" for f in json.loads(house.stdout))
