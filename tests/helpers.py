"""Shared test helpers: where the corpora and the real tools are, and how a missing one is reported.

Locally a missing tool or corpus skips with the reason; under CI=true it fails (a skip would hide it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURE_PROJECT = REPO / "tests/fixtures/project"
# What a copy of the repository leaves out: tool caches, the virtualenv, builds of other environments.
NOT_COPIED = (
    ".git",
    ".venv",
    "build",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "*.egg-info",
)
LGTM = [sys.executable, "-m", "lgtm_dash.cli"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


# The test being run (set by conftest.py), so that `require_binary` can insist on the `tools` marker.
current_test: pytest.Item | None = None


def require_binary(name: str) -> str:
    """Absolute path of a real tool (promtool, amtool, prometheus-alertmanager, mariadbd...).

    A test that needs one must carry `@pytest.mark.tools` (`-m "not tools"` must deselect it): one without
    the marker fails here.
    """
    if current_test is not None and current_test.get_closest_marker("tools") is None:
        pytest.fail(f"{current_test.nodeid} runs {name} but is not marked @pytest.mark.tools")
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not path:
        missing(f"{name} is not installed: run `make tools` (as root on Debian)")
    return path


def shared(relative: str) -> Path:
    """A file of ../shared (corpora, schemas): the one way tests reach outside the repository.

    Absent, it skips locally and fails under CI=true, unless LGTM_DASH_NO_CORPORA=1 says that ../shared
    is deliberately not there (the GitHub workflow): then it skips, saying so.
    """
    path = SHARED / relative
    if not path.exists():
        if os.environ.get("LGTM_DASH_NO_CORPORA") == "1":  # an explicit opt-out: CI outside this workplace
            pytest.skip(f"{path} is not present (LGTM_DASH_NO_CORPORA=1)")
        missing(f"{path} is not present")
    return path


def corpus(relative: str) -> Path:
    """A real-world corpus under ../shared/corpora (see `shared`)."""
    return shared(f"corpora/{relative}")


def run_cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `lgtm-dash` as a user would (a separate process), capturing its output."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LGTM_DASH_DEBUG", None)
    return subprocess.run([*LGTM, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server process, bounded: SIGTERM, then SIGKILL after 20 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def copy_repo(dest: Path) -> Path:
    """This repository as a fresh clone has it (mtimes kept, so make sees nothing to rebuild)."""
    shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    return dest


def free_port() -> int:
    """A TCP port nothing listens on right now (bound, then released: never a fixed port in a test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def point_at_emulators(monkeypatch: pytest.MonkeyPatch, grafana_url: str, mimir_url: str, token: str) -> None:
    """Make `lgtm-dash` talk to the Grafana and Mimir emulators with `token`, whatever the shell holds."""
    for name in ("MIMIR_TENANT_ID", "MIMIR_API_USER", "MIMIR_API_KEY", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRAFANA_URL", grafana_url)
    monkeypatch.setenv("GRAFANA_TOKEN", token)
    monkeypatch.setenv("MIMIR_ADDRESS", mimir_url)
