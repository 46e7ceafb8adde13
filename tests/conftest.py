from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A scratch copy of this repository's definitions, to plant bad input in."""
    root = tmp_path / "project"
    for name in ("datasources", "dashboards", "alerts"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "environments.yaml", root / "environments.yaml")
    return root
