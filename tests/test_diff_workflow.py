"""The GitHub Actions workflow: it parses, tests every PR with `make test`, posts the diff, publishes main."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from lgtm_dash.cli import build_parser
from tests.helpers import REPO

WORKFLOW = REPO / ".github/workflows/ci.yaml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def runs(workflow: dict[str, Any], job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


def test_every_job_and_step_is_well_formed(workflow: dict[str, Any]) -> None:
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    for name, job in workflow["jobs"].items():
        assert job["runs-on"].startswith("ubuntu"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


def test_pull_requests_run_make_test_with_full_history(workflow: dict[str, Any]) -> None:
    checkout = next(s for s in steps(workflow, "test") if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there for `diff --base`
    commands = runs(workflow, "test")
    assert re.search(r"^make test$", commands, re.MULTILINE)
    assert "sudo" in commands and "scripts/install-tools.sh" in commands  # apt needs root


def test_diff_step_uses_real_options_and_feeds_the_comment(workflow: dict[str, Any]) -> None:
    diff_step = next(s for s in steps(workflow, "test") if "lgtm-dash diff" in s.get("run", ""))
    assert "pull_request" in diff_step["if"]
    line = next(ln for ln in diff_step["run"].splitlines() if "lgtm-dash diff" in ln)
    argv = shlex.split(line.split("||")[0].replace('"origin/$BASE_REF"', "origin/main"))[1:]
    args = build_parser().parse_args(argv)  # fails (SystemExit) if the workflow names an unknown option
    assert (args.base, args.format, str(args.output)) == ("origin/main", "markdown", "diff.md")
    assert '-le 1 ] || exit "$status"' in diff_step["run"]  # exit 1 (changes) is not a CI failure
    comment = next(s for s in steps(workflow, "test") if "sticky-pull-request-comment" in s.get("uses", ""))
    assert comment["with"]["path"] == "diff.md"
    assert workflow["jobs"]["test"]["permissions"]["pull-requests"] == "write"


def test_merge_to_main_publishes_prod_with_secrets_from_github(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["publish"]
    assert job["needs"] == "test" and "refs/heads/main" in job["if"] and "push" in job["if"]
    (publish,) = [s for s in job["steps"] if "make publish ENV=prod" in s.get("run", "")]
    for name in ("GRAFANA_TOKEN", "MIMIR_API_KEY", "QGX_MYSQL_PASSWORD", "SLACK_WEBHOOK_URL"):
        assert publish["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert job["concurrency"]["cancel-in-progress"] is False
