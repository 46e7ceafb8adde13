"""`lgtm-dash emulate`: the bundled emulators on local ports, then `make plan ENV=local` and
`make publish ENV=local` against them exactly as the README says, and a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LGTM, REPO, free_port, missing, run_cli

READY = "Press Ctrl-C to stop."


class Emulate:
    """`lgtm-dash emulate` in its own process; what it printed until it was ready."""

    def __init__(self, *args: str, cwd: Path = REPO) -> None:
        env = {k: v for k, v in os.environ.items() if k != "LGTM_DASH_DEBUG"}
        self.process = subprocess.Popen(
            [*LGTM, "emulate", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = self._read_until(READY, timeout=60)

    def _read_until(self, marker: str, timeout: float) -> str:
        """Read the raw pipe (not a buffered line reader, which select() cannot see into) until `marker`."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and marker.encode() not in data:
                if selector.select(timeout=0.5):
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    data += chunk
        return data.decode()

    def exports(self) -> dict[str, str]:
        """The variables the output tells the user to export."""
        found: dict[str, str] = {}
        for line in self.output.splitlines():
            if line.strip().startswith("export "):
                command = line.split("#", 1)[0].strip().removeprefix("export ")
                found.update(pair.split("=", 1) for pair in command.split())
        return found

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=30)
        return self.process.returncode, rest

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


@pytest.fixture
def emulate() -> Iterator[Emulate]:
    running = Emulate(
        "--grafana-port", str(free_port()), "--mimir-port", str(free_port()), "--loki-port", str(free_port())
    )
    yield running
    running.kill()


def make(target: str, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make <target> ENV=local`, building into `out` rather than the repository's build/local."""
    if not (REPO / ".venv/bin/lgtm-dash").exists():
        missing("the Makefile's .venv is not installed: run `make build` first")
    # -o: use the installed .venv as it is (a test never reinstalls the package)
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", target, "ENV=local", f"ENV_OUT={out}"],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plan_and_publish_to_the_emulators_as_the_readme_says(emulate: Emulate, tmp_path: Path) -> None:
    assert emulate.process.poll() is None, emulate.output
    env = emulate.exports()
    assert {
        "GRAFANA_URL",
        "GRAFANA_USER",
        "GRAFANA_PASSWORD",
        "MIMIR_ADDRESS",
        "LOKI_ADDRESS",
    } <= env.keys(), emulate.output
    assert {"QGX_MYSQL_PASSWORD", "SLACK_WEBHOOK_URL"} <= env.keys()  # the secrets publish asks for
    assert "make plan ENV=local" in emulate.output and "make publish ENV=local" in emulate.output
    out = tmp_path / "local"

    plan = make("plan", out, env)
    assert plan.returncode == 0, plan.stdout + plan.stderr  # changes pending are no error for `make plan`
    assert re.search(
        r"Plan for local \(Grafana http://127\.0\.0\.1:\d+, .*\): [1-9]\d* to create", plan.stdout
    )

    publish = make("publish", out, env)
    assert publish.returncode == 0, publish.stdout + publish.stderr
    assert "Applied:" in publish.stdout and "0 failed" not in publish.stdout

    again = run_cli("plan", "--env", "local", "--out", str(out), env=env)
    assert again.returncode == 0, again.stdout + again.stderr  # what was published is what out/ says
    assert "0 to create, 0 to update, 0 to delete" in again.stdout

    code, rest = emulate.interrupt()
    assert code == 0, rest
    assert rest.strip().endswith("Emulators stopped.")


def test_a_port_in_use_is_bad_input(emulate: Emulate) -> None:
    grafana_port = re.search(r"Grafana emulator on http://127\.0\.0\.1:(\d+)", emulate.output).group(1)
    second = Emulate(
        "--grafana-port", grafana_port, "--mimir-port", str(free_port()), "--loki-port", str(free_port())
    )
    try:
        second.process.wait(timeout=60)
        assert second.process.returncode == 2
        line = second.output.strip()
        assert (
            line.startswith(f"error: cannot listen on 127.0.0.1:{grafana_port}") and "--grafana-port" in line
        )
        assert len(line.splitlines()) == 1
    finally:
        second.kill()


def test_sigterm_stops_it_cleanly_too(emulate: Emulate) -> None:
    emulate.process.send_signal(signal.SIGTERM)
    rest, _ = emulate.process.communicate(timeout=30)
    assert emulate.process.returncode == 0 and "Emulators stopped." in rest
