"""In-process emulators of the Grafana and Mimir HTTP APIs, for tests and the benchmark.

Real Grafana and Mimir binaries are not available here, so the publisher is exercised against these
stateful emulators, written from ``../shared/reference/grafana-api.md`` and
``../shared/reference/mimir-rules-alerting.md``::

    with GrafanaEmulator(tokens={"good-token"}) as grafana, MimirEmulator() as mimir:
        publish(grafana_url=grafana.url, mimir_url=mimir.url, ...)
        assert grafana.write_count() == 3
"""

from .faults import Faults, HTTPEmulator, Request, RequestRecord, Response
from .grafana_emulator import GrafanaEmulator, StoredDashboard, StoredFolder
from .mimir_emulator import MimirEmulator

__all__ = [
    "Faults",
    "GrafanaEmulator",
    "HTTPEmulator",
    "MimirEmulator",
    "Request",
    "RequestRecord",
    "Response",
    "StoredDashboard",
    "StoredFolder",
]
