"""Shared test helpers: where the corpora and the real tools are, and how a missing one is reported.

Locally a missing tool or corpus skips with the reason; under CI=true it fails (a skip would hide it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
LGTM = [sys.executable, "-m", "lgtm_dash.cli"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def require_binary(name: str) -> str:
    """Absolute path of a real tool (promtool, amtool, prometheus-alertmanager, mariadbd...)."""
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not path:
        missing(f"{name} is not installed: run `make tools` (as root on Debian)")
    return path


def corpus(relative: str) -> Path:
    path = CORPORA / relative
    if not path.exists():
        if os.environ.get("LGTM_DASH_NO_CORPORA") == "1":  # an explicit opt-out: CI outside this workplace
            pytest.skip(f"corpus {path} is not present (LGTM_DASH_NO_CORPORA=1)")
        missing(f"corpus {path} is not present")
    return path


def run_cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `lgtm-dash` as a user would (a separate process), capturing its output."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LGTM_DASH_DEBUG", None)
    return subprocess.run([*LGTM, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def point_at_emulators(monkeypatch: pytest.MonkeyPatch, grafana_url: str, mimir_url: str, token: str) -> None:
    """Make `lgtm-dash` talk to the Grafana and Mimir emulators with `token`, whatever the shell holds."""
    for name in ("MIMIR_TENANT_ID", "MIMIR_API_USER", "MIMIR_API_KEY", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRAFANA_URL", grafana_url)
    monkeypatch.setenv("GRAFANA_TOKEN", token)
    monkeypatch.setenv("MIMIR_ADDRESS", mimir_url)
