"""The repository as a team uses it: a dashboard and an alert namespace added following only the README pass the
content tests and `lgtm-dash test` without editing a test file (a wrong one fails naming its line); and
`make test` passes the way the GitHub workflow runs it, without ../shared."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lgtm_dash.load import definition_modules
from tests.helpers import REPO, SHARED, copy_repo, missing

BIN = Path(sys.executable).parent


def readme_modules() -> dict[str, str]:
    """The modules the README's daily-loop section shows, by path (`# dashboards/x.py` opens each block)."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n# ((?:dashboards|alerts)/\w+\.py)\n(.*?)```", readme, re.S)
    return dict(blocks)


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "LGTM_DASH_DEBUG"}
    return subprocess.run(
        list(command), cwd=cwd, env={**full_env, **(env or {})}, capture_output=True, text=True, timeout=900
    )


def lgtm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "lgtm_dash.cli", *args, cwd=cwd)


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this repository with the README's dashboard and alert namespace added.

    Where the team already added them (the README example adopted as it is, or changed), they are kept.
    """
    root = copy_repo(tmp_path_factory.mktemp("clone") / "repo")
    if SHARED.is_dir():  # the schema the content tests validate dashboards with
        (root.parent / "shared").symlink_to(SHARED)
    modules = readme_modules()
    assert sorted(modules) == ["alerts/http_errors.py", "dashboards/http_errors.py"]
    for rel, text in modules.items():
        if not (root / rel).exists():
            (root / rel).write_text(text)
    return root


@pytest.mark.tools
@pytest.mark.content
def test_a_dashboard_and_a_namespace_added_from_the_readme_pass_without_editing_a_test(grown: Path) -> None:
    new = list(readme_modules())
    for tool in ("check", "format --check"):
        result = run(str(BIN / "ruff"), *tool.split(), *new, cwd=grown)
        assert result.returncode == 0, f"ruff {tool}: {result.stdout}{result.stderr}"
    built = lgtm("build", cwd=grown)
    assert built.returncode == 0, built.stderr
    dashboards = len(definition_modules(grown, "dashboards"))
    namespaces = len([p for p in definition_modules(grown, "alerts") if p.name != "alertmanager.py"])
    counts = re.search(r"built (\d+) dashboards, (\d+) Mimir rule namespaces(?:, (\d+) Loki)?", built.stdout)
    assert counts, built.stdout
    assert int(counts[1]) == dashboards
    assert int(counts[2]) + int(counts[3] or 0) == namespaces
    assert lgtm("lint", cwd=grown).returncode == 0
    tested = lgtm("test", cwd=grown)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"^qgx-http-errors +ok +\d+ cases$", tested.stdout, re.M), tested.stdout
    content = run(sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "content",
                  "--ignore=tests/test_workflow.py", cwd=grown)  # fmt: skip
    assert content.returncode == 0, content.stdout[-3000:] + content.stderr[-2000:]
    assert " passed" in content.stdout and " failed" not in content.stdout


@pytest.mark.tools
@pytest.mark.content
def test_a_wrong_dashboard_or_expectation_fails_naming_its_line(grown: Path) -> None:
    modules = readme_modules()
    wrong = modules["dashboards/http_errors.py"].replace('uid="qgx-http-errors"', 'uid="qgx-wrong"')
    wrong = wrong.replace('title="HTTP Errors"', 'title="Wrong"')
    wrong = wrong.replace('prom_target(f"sum({ERRORS})")', 'prom_target(f"sum({ERRORS}) / $nope")')
    path = grown / "dashboards/wrong.py"
    path.write_text(wrong)
    line = next(i for i, row in enumerate(wrong.splitlines(), 1) if "$nope" in row)
    try:
        result = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     "tests/test_dashboards.py::test_every_variable_used_is_defined", cwd=grown)  # fmt: skip
        assert result.returncode == 1, result.stdout
        expected = f"dashboards/wrong.py:{line}: qgx-wrong: panel 'Errors per second': undefined variable(s) ['nope']"
        assert expected in result.stdout, result.stdout[-3000:]
    finally:
        path.unlink()

    # The README namespace under another name, with an expectation one word off.
    text = modules["alerts/http_errors.py"].replace('name="qgx-http-errors"', 'name="qgx-wrong"')
    wrong = text.replace(
        'summary="api in shop answers 2 errors/s"', 'summary="api in shop answers 3 errors/s"'
    )
    assert wrong != text
    path = grown / "alerts/wrong.py"
    path.write_text(wrong)
    try:
        check = next(i for i, row in enumerate(wrong.splitlines(), 1) if 'at="20m"' in row) - 2
        result = lgtm("test", "qgx-wrong", cwd=grown)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"alerts/wrong.py:{check}: qgx-wrong: alert QgxHttpErrorsPerSecond at 20m" in result.stdout
        assert (
            'annotation summary: expected "api in shop answers 3 errors/s", got "api in shop answers 2 errors/s"'
            in result.stdout
        )
    finally:
        path.unlink()


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef))]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }


def test_tests_reach_shared_only_through_the_helper() -> None:
    """What reads ../shared goes through tests/helpers.py `shared()`, which honours LGTM_DASH_NO_CORPORA."""
    for path in sorted((REPO / "tests").glob("*.py")):
        if path.name in ("helpers.py", "test_workflow.py"):  # this one only links ../shared into a copy
            continue
        tree = ast.parse(path.read_text())
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            direct = isinstance(node, ast.Name) and node.id in ("SHARED", "CORPORA")
            literal = (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and "../shared" in node.value
            )
            assert not (direct or literal), f"tests/{path.name}:{node.lineno} reads ../shared directly"


def shared_readers() -> list[str]:
    """Test ids whose outcome depends on ../shared: tests that call `corpus()`/`shared()`, directly, through a
    function of their module or through a fixture of their module (found in the source, not by name)."""
    ids = []
    for path in sorted((REPO / "tests").glob("test_*.py")):
        if path.name == "test_workflow.py":
            continue
        functions = {
            node.name: node for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)
        }
        uses = {
            name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            | {a.arg for a in node.args.args}  # fixtures it asks for
            for name, node in functions.items()
        }
        readers = {"corpus", "shared"}
        while True:  # functions of the module that reach a reader, to a fixed point
            more = {name for name, used in uses.items() if used & readers} - readers
            if not more:
                break
            readers |= more
        ids += [f"tests/{path.name}::{name}" for name in sorted(readers) if name.startswith("test_")]
    return ids


@pytest.mark.tools
def test_make_test_passes_as_the_github_workflow_runs_it(tmp_path: Path) -> None:
    """`make test` with CI=true and LGTM_DASH_NO_CORPORA=1 in a checkout without ../shared.

    ruff, `make check` and `lgtm-dash test` run as in the workflow; pytest runs the tests that read ../shared
    (the only ones whose outcome differs without it: `shared_readers`), which takes seconds where the whole
    suite again would take minutes.
    """
    venv = REPO / ".venv"
    if not (venv / "bin/lgtm-dash").is_file():
        missing("the Makefile's .venv is not installed: run `make build` first")
    root = copy_repo(tmp_path / "checkout")
    assert not (tmp_path / "shared").exists()
    # The installed .venv, seen through links: its scripts run this repository's interpreter. `.installed` is
    # the copy's own and newer than its pyproject.toml, so make never reinstalls (which would write into it).
    (root / ".venv").mkdir()
    for entry in venv.iterdir():
        if entry.name != ".installed":
            (root / ".venv" / entry.name).symlink_to(entry)
    (root / ".venv/.installed").touch()
    assert (root / ".venv/.installed").stat().st_mtime > (root / "pyproject.toml").stat().st_mtime
    readers = shared_readers()
    assert "tests/test_dashboards.py::test_compiled_dashboards_match_the_grafana_schema" in readers
    assert "tests/test_logql_corpus.py::test_valid_queries_parse" in readers
    pytest_args = f"-q -p no:cacheprovider {' '.join(readers)}"
    result = run(
        "make", "--no-print-directory", "test", f"PYTEST_ARGS={pytest_args}",
        cwd=root, env={"CI": "true", "LGTM_DASH_NO_CORPORA": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "is up to date" in result.stdout and "all passed" in result.stdout
    # every one of them skips, saying why; none fails and none reads a file it was told is absent
    assert re.search(r"^\d+ skipped in ", result.stdout, re.M), result.stdout[-2000:]
    assert "(LGTM_DASH_NO_CORPORA=1)" in result.stdout  # skipped, saying why
