"""In-process emulators of the Grafana, Mimir and Loki HTTP APIs, for tests and the benchmark.

Real Grafana, Mimir and Loki binaries are not available here, so the publisher is exercised against these
stateful emulators. They implement ``docs/server-contract.md``, where every behaviour is cited to the
servers' source (``tests/test_server_contract.py`` walks that table against them); the Grafana emulator
answers as Grafana 11, 12 or 13 (``version=``). All serve on an ephemeral port unless given ``port=``::

    with GrafanaEmulator(tokens={"good-token"}, version="12") as grafana, MimirEmulator() as mimir:
        publish(grafana_url=grafana.url, mimir_url=mimir.url, ...)
        assert grafana.write_count() == 3
"""

from .faults import Faults, HTTPEmulator, Request, RequestRecord, Response
from .grafana_emulator import GrafanaEmulator, StoredDashboard, StoredFolder
from .loki_emulator import LokiEmulator
from .mimir_emulator import MimirEmulator

__all__ = [
    "Faults",
    "GrafanaEmulator",
    "HTTPEmulator",
    "LokiEmulator",
    "MimirEmulator",
    "Request",
    "RequestRecord",
    "Response",
    "StoredDashboard",
    "StoredFolder",
]
