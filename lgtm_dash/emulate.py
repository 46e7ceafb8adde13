"""`lgtm-dash emulate`: the bundled Grafana and Mimir API emulators on this machine, to try `plan` and `publish`
without Docker.

They listen on the ports of the `local` environment (Grafana 3000, Mimir 9009 unless environments.yaml says
otherwise; `--grafana-port`/`--mimir-port` change them), keep their state in memory, and stop on Ctrl-C or
SIGTERM, which is how this command is meant to end (exit 0). They are the emulators the tests use
(lgtm_dash/testing/): the API subset lgtm-dash calls, not a Grafana UI.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

from .environments import ENVIRONMENTS_FILE, resolve_environment
from .errors import EXIT_OK, LgtmError, UsageError
from .ui import console

LOCAL_ENV = "local"
DEFAULT_PORTS = {"grafana": 3000, "mimir": 9009}
HOST = "127.0.0.1"
ADMIN = ("admin", "admin")  # the Grafana emulator's default basic-auth user (as a fresh Grafana)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        default=None,
        help=f"environment whose Grafana and Mimir ports to serve on (default: {LOCAL_ENV})",
    )
    parser.add_argument("--grafana-port", type=int, default=None, help="default: the environment's, or 3000")
    parser.add_argument("--mimir-port", type=int, default=None, help="default: the environment's, or 9009")


def _env_ports(args: argparse.Namespace) -> tuple[str, dict[str, int]]:
    """The environment's name and its Grafana/Mimir ports (the defaults where it names none)."""
    ports = dict(DEFAULT_PORTS)
    name = args.env or LOCAL_ENV
    if args.env is None and not (args.project / ENVIRONMENTS_FILE).is_file():
        return name, ports
    try:
        env = resolve_environment(args.project, name, environ={})
    except LgtmError:
        if args.env is not None:
            raise
        return name, ports  # no `local` environment: the usual ports
    for kind, url in (("grafana", env.grafana.url), ("mimir", env.mimir.address)):
        port = urlsplit(url).port
        if port:
            ports[kind] = port
    return name, ports


def _secret_names(args: argparse.Namespace, env_name: str) -> list[str]:
    """The secret variables publish will ask for (datasource passwords, the Slack webhook...), best effort."""
    from .compile import render_project

    try:
        files = render_project(args.project, env_name)
    except LgtmError:
        return []
    text = "".join(text for path, text in files.items() if path.endswith((".yaml", ".yml")))
    return sorted(set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)))


@contextmanager
def serving(grafana_port: int, mimir_port: int) -> Iterator[tuple[Any, Any]]:
    """Both emulators listening on HOST at the given ports (0: any free port) until the block ends."""
    from .testing import GrafanaEmulator, MimirEmulator

    with ExitStack() as stack:
        servers = []
        for emulator, port, flag in (
            (GrafanaEmulator(basic_auth={ADMIN}, port=grafana_port), grafana_port, "--grafana-port"),
            (MimirEmulator(port=mimir_port), mimir_port, "--mimir-port"),
        ):
            emulator.host = HOST
            try:
                emulator.start()
            except OSError as err:
                raise UsageError(
                    f"cannot listen on {HOST}:{port} ({err.strerror}): stop what uses it or choose {flag}"
                ) from None
            stack.callback(emulator.stop)
            servers.append(emulator)
        yield servers[0], servers[1]


def run(args: argparse.Namespace) -> int:
    env_name, ports = _env_ports(args)
    grafana_port = ports["grafana"] if args.grafana_port is None else args.grafana_port
    mimir_port = ports["mimir"] if args.mimir_port is None else args.mimir_port
    secrets = _secret_names(args, env_name)
    stop = threading.Event()
    # Ctrl-C and SIGTERM both mean "stop serving", even where a parent shell ignores SIGINT (`cmd &`).
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with serving(grafana_port, mimir_port) as (grafana, mimir):
            lines = [
                f"Grafana emulator on {grafana.url} (user {ADMIN[0]}, password {ADMIN[1]})",
                f"Mimir emulator on {mimir.url} (any tenant: ruler and Alertmanager configuration APIs)",
                "Their state lives in memory until they stop. In another shell, in this project:",
                "",
                f"  export GRAFANA_URL={grafana.url} GRAFANA_USER={ADMIN[0]} GRAFANA_PASSWORD={ADMIN[1]}",
                f"  export MIMIR_ADDRESS={mimir.url}",
            ]
            if secrets:
                values = " ".join(f"{name}={_dummy(name)}" for name in secrets)
                lines.append(f"  export {values}   # any value: nothing is delivered")
            lines += [
                f"  make plan ENV={env_name}",
                f"  make publish ENV={env_name}",
                "",
                "Press Ctrl-C to stop.",
            ]
            console.print("\n".join(lines), markup=False)
            console.file.flush()
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("Emulators stopped.", markup=False)
    return EXIT_OK


def _dummy(name: str) -> str:
    return f"https://example.invalid/{name.lower()}" if name.endswith("URL") else "local-only"
