"""`lgtm-dash emulate`: the bundled Grafana, Mimir and Loki API emulators on this machine, to try `plan` and
`publish` without Docker.

They listen on the ports of the `local` environment (Grafana 3000, Mimir 9009, Loki 3100 unless
environments.yaml says otherwise; `--grafana-port`/`--mimir-port`/`--loki-port` change them), keep their state in memory, and stop on Ctrl-C or
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
DEFAULT_PORTS = {"grafana": 3000, "mimir": 9009, "loki": 3100}
HOST = "127.0.0.1"
ADMIN = ("admin", "admin")  # the Grafana emulator's default basic-auth user (as a fresh Grafana)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        default=None,
        help=f"environment whose Grafana, Mimir and Loki ports to serve on (default: {LOCAL_ENV})",
    )
    for kind, port in DEFAULT_PORTS.items():
        parser.add_argument(
            f"--{kind}-port", type=int, default=None, help=f"default: the environment's, or {port}"
        )


def _env_ports(args: argparse.Namespace) -> tuple[str, dict[str, int]]:
    """The environment's name and its Grafana/Mimir/Loki ports (the defaults where it names none)."""
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
    urls = [("grafana", env.grafana.url), ("mimir", env.mimir.address)]
    if env.loki is not None:
        urls.append(("loki", env.loki.address))
    for kind, url in urls:
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
def serving(ports: dict[str, int]) -> Iterator[dict[str, Any]]:
    """The emulators listening on HOST at the given ports (0: any free port) until the block ends."""
    from .testing import GrafanaEmulator, LokiEmulator, MimirEmulator

    makers = {
        "grafana": lambda port: GrafanaEmulator(basic_auth={ADMIN}, port=port),
        "mimir": lambda port: MimirEmulator(port=port),
        "loki": lambda port: LokiEmulator(port=port),
    }
    with ExitStack() as stack:
        servers = {}
        for kind, make in makers.items():
            emulator = make(ports[kind])
            emulator.host = HOST
            try:
                emulator.start()
            except OSError as err:
                raise UsageError(
                    f"cannot listen on {HOST}:{ports[kind]} ({err.strerror}): stop what uses it or choose "
                    f"--{kind}-port"
                ) from None
            stack.callback(emulator.stop)
            servers[kind] = emulator
        yield servers


def run(args: argparse.Namespace) -> int:
    env_name, ports = _env_ports(args)
    for kind in ports:
        chosen = getattr(args, f"{kind}_port")
        if chosen is not None:
            ports[kind] = chosen
    secrets = _secret_names(args, env_name)
    stop = threading.Event()
    # Ctrl-C and SIGTERM both mean "stop serving", even where a parent shell ignores SIGINT (`cmd &`).
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with serving(ports) as servers:
            grafana, mimir, loki = servers["grafana"], servers["mimir"], servers["loki"]
            lines = [
                f"Grafana emulator on {grafana.url} (user {ADMIN[0]}, password {ADMIN[1]})",
                f"Mimir emulator on {mimir.url} (any tenant: ruler and Alertmanager configuration APIs)",
                f"Loki emulator on {loki.url} (any tenant: ruler and label/series APIs)",
                "Their state lives in memory until they stop. In another shell, in this project:",
                "",
                f"  export GRAFANA_URL={grafana.url} GRAFANA_USER={ADMIN[0]} GRAFANA_PASSWORD={ADMIN[1]}",
                f"  export MIMIR_ADDRESS={mimir.url} LOKI_ADDRESS={loki.url}",
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
