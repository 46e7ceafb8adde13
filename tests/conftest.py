from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import helpers
from tests.helpers import FIXTURE_PROJECT, REPO


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    helpers.current_test = item  # before any fixture: a module fixture may start a real tool


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    helpers.current_test = None


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A scratch copy of this repository's definitions, to plant bad input in."""
    root = tmp_path / "project"
    for name in ("datasources", "dashboards", "alerts"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "environments.yaml", root / "environments.yaml")
    return root


@pytest.fixture
def fixture_project(tmp_path: Path) -> Path:
    """A scratch copy of the toolkit's own small project (tests/fixtures/project)."""
    root = tmp_path / "demo"
    shutil.copytree(FIXTURE_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root
