"""A live environment for `lint --live` tests: a real Prometheus (Debian's), Mimir's query API shape in front
of it, the Loki emulator and a real MariaDB, all holding series generated from the project's catalog.

* Series: every metric of catalog.yaml with its own and the common labels, values from `VALUES` (a few per
  label, assigned round-robin so series of different metrics share their label combinations). History is
  backfilled as TSDB blocks with `promtool tsdb create-blocks-from openmetrics`.
* Metadata: Prometheus answers `/api/v1/metadata` only from what its scrape targets expose (the TSDB keeps
  no metadata; checked on Prometheus 2.42: with blocks alone the answer is empty). So the world also runs a
  tiny exposition server with the same series and `# TYPE`/`# HELP`, scraped every second (`honor_labels`,
  so the scraped series are the generated ones).
* Recording rules: Prometheus evaluates the repository's compiled rule files, so every `record:` really
  produces series, as the Mimir ruler would.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from lgtm_dash.testing.loki_emulator import LokiEmulator
from lgtm_dash.testing.query_proxies import MimirQueryProxy
from tests.helpers import REPO, require_binary, stop_process

TENANT = "qgx-dev"
SERIES_PER_METRIC = 6
HISTORY_S = 3 * 24 * 3600  # backfilled history: the last three days...
HISTORY_GAP_S = 3 * 3600  # ...up to three hours ago (the head block holds what is scraped now)
STEP_S = 1800
BUCKETS = ("10", "100", "1000", "10000", "+Inf")
# A few values per label; round-robin over SERIES_PER_METRIC series, so every value occurs.
VALUES: dict[str, tuple[str, ...]] = {
    "cluster": ("dev-eu-1",),
    "namespace": ("qgx-dev", "monitoring"),
    "pod": ("backend-7d9f8-abcde", "alloy-x7k2p"),
    "container": ("backend", "alloy"),
    "job": ("integrations/alloy", "qgx/backend"),
    "instance": ("10.0.0.1:8080",),
    "service": ("backend", "gateway", "orders"),
    "method": ("GET", "POST"),
    "uri": ("/api/orders", "/health"),
    "status": ("200", "404", "503"),
    "type": ("order.created", "payment.failed"),
    "phase": ("Running", "Pending", "Failed"),
    "condition": ("true", "false"),
    "resource": ("cpu", "memory"),
    "unit": ("core", "byte"),
    "reason": ("OOMKilled", "CrashLoopBackOff", "Error"),
    "tenant": ("qgx-dev",),
    "app": ("backend",),
    "stream": ("stdout", "stderr"),
}
# A metric the backfilled history holds but nothing scrapes any more (renamed days ago).
HISTORY_ONLY = "qgx_http_requests_legacy_total"
PER_METRIC: dict[str, dict[str, tuple[str, ...]]] = {"qgx_events_total": {"status": ("success", "failed")}}


def values_of(metric: str, label: str) -> tuple[str, ...]:
    return PER_METRIC.get(metric, {}).get(label) or VALUES.get(label) or (f"{label}-a", f"{label}-b")


@dataclass(frozen=True)
class Family:
    name: str  # as exposed in the text format (counters keep `_total`)
    type: str
    help: str
    series: tuple[tuple[tuple[str, str], ...], ...]


def families_from_catalog(catalog: Path) -> list[Family]:
    data = yaml.safe_load(catalog.read_text())
    common = list(data.get("common_labels") or [])
    families = []
    for name, spec in sorted((data.get("metrics") or {}).items()):
        labels = list(dict.fromkeys([*(spec.get("labels") or []), *common]))
        series = tuple(
            tuple((label, values_of(name, label)[i % len(values_of(name, label))]) for label in labels)
            for i in range(SERIES_PER_METRIC)
        )
        families.append(Family(name, spec.get("type", "gauge"), str(spec.get("help") or name), series))
    return families


def _labels(pairs: tuple[tuple[str, str], ...], extra: str = "") -> str:
    body = ",".join(f'{k}="{v}"' for k, v in pairs)
    return "{" + ",".join(p for p in (body, extra) if p) + "}"


def _samples(family: Family, value: float, timestamp: str = "", openmetrics: bool = False) -> Iterator[str]:
    at = f" {timestamp}" if timestamp else ""
    for pairs in family.series:
        if family.type == "histogram":
            for i, bucket in enumerate(BUCKETS):
                le = 'le="' + bucket + '"'
                yield f"{family.name}_bucket{_labels(pairs, le)} {value * (i + 1)}{at}"
            yield f"{family.name}_sum{_labels(pairs)} {value * 100}{at}"
            yield f"{family.name}_count{_labels(pairs)} {value * len(BUCKETS)}{at}"
        else:
            yield f"{family.name}{_labels(pairs)} {value}{at}"


def exposition(families: list[Family], value: float) -> str:
    """The text exposition format (0.0.4) with TYPE and HELP, as a scrape target serves it."""
    lines = []
    for family in families:
        help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines += [f"# HELP {family.name} {help_text}", f"# TYPE {family.name} {family.type}"]
        lines += _samples(family, value)
    return "\n".join(lines) + "\n"


def openmetrics_history(families: list[Family], now: int) -> str:
    """OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: every series every STEP_S."""
    lines = []
    times = range(now - HISTORY_S, now - HISTORY_GAP_S, STEP_S)
    for family in families:
        om_name = family.name.removesuffix("_total") if family.type == "counter" else family.name
        help_text = family.help.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines += [f"# HELP {om_name} {help_text}", f"# TYPE {om_name} {family.type}"]
        for index, at in enumerate(times):
            lines += _samples(family, float(index + 1), str(at), openmetrics=True)
    return "\n".join(lines) + "\n# EOF\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExpositionServer:
    """Serves `/metrics` (the families' current values, growing every scrape) on an ephemeral port."""

    def __init__(self, families: list[Family]):
        self.families = families
        self.scrapes = 0
        world = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                world.scrapes += 1
                body = exposition(world.families, float(1000 + world.scrapes)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # Prometheus gave up on a slow scrape
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


class Prometheus:
    """Debian's Prometheus on a free port, with backfilled blocks, a scrape target and rule files."""

    def __init__(
        self, workdir: Path, families: list[Family], rule_files: list[Path], now: int, history: list[Family]
    ):
        prometheus, promtool = require_binary("prometheus"), require_binary("promtool")
        self.workdir = workdir
        data = workdir / "data"
        history_file = workdir / "history.om"
        history_file.write_text(openmetrics_history([*families, *history], now))
        done = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(history_file), str(data)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"promtool create-blocks-from openmetrics failed: {done.stderr[-2000:]}")
        self.exposition = ExpositionServer(families)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {
                    "job_name": "exposition",
                    "honor_labels": True,
                    "static_configs": [{"targets": [f"127.0.0.1:{self.exposition.port}"]}],
                }
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = workdir / "prometheus.log"
        for _attempt in range(3):  # a free port can be taken between choosing it and binding it
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with self.log.open("w") as log:
                self.process = subprocess.Popen(
                    [prometheus, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=30d"],
                    stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            if self._wait_ready():
                return
            self.process.kill()
            self.process.wait(timeout=10)
        self.exposition.stop()
        raise RuntimeError(f"prometheus did not start: {self.log.read_text()[-2000:]}")

    def _wait_ready(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=1)
                return True
            time.sleep(0.2)
        return False

    def wait_for(self, metadata: set[str], metrics: set[str], timeout: float = 60) -> None:
        """Until the scrape has delivered metadata and the rules have recorded their series."""
        deadline = time.monotonic() + timeout
        missing: set[str] = set()
        while time.monotonic() < deadline:
            have_metadata = set(_get_json(f"{self.url}/api/v1/metadata")["data"])
            have_metrics = set(_get_json(f"{self.url}/api/v1/label/__name__/values")["data"])
            missing = (metadata - have_metadata) | (metrics - have_metrics)
            if not missing:
                return
            time.sleep(0.5)
        raise RuntimeError(f"prometheus never had {sorted(missing)[:10]}: {self.log.read_text()[-1500:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.exposition.stop()


def prometheus_rule_files(out: Path, into: Path) -> tuple[list[Path], set[str]]:
    """The compiled Mimir rule namespaces as plain Prometheus rule files, and the names they record."""
    files, recorded = [], set()
    for path in sorted((out / "mimir" / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        target = into / path.name
        target.write_text(yaml.safe_dump({"groups": data["groups"]}))
        files.append(target)
        recorded |= {r["record"] for g in data["groups"] for r in g.get("rules", []) if "record" in r}
    return files, recorded


def loki_streams(loki: LokiEmulator, catalog: Path, now_ns: int) -> None:
    labels = list((yaml.safe_load(catalog.read_text()).get("loki") or {}).get("labels") or [])
    for i in range(SERIES_PER_METRIC):
        stream = {label: values_of("loki", label)[i % len(values_of("loki", label))] for label in labels}
        loki.add_stream(TENANT, stream, now_ns - 2 * 24 * 3600 * 10**9, now_ns)


class LiveWorld:
    """Everything `lint --live --env dev` asks, started once per test module (see module docstring)."""

    def __init__(self, workdir: Path, mariadb_socket: Path | None = None, mysql_password: str = ""):
        self.now = int(time.time())
        catalog = REPO / "catalog.yaml"
        families = families_from_catalog(catalog)
        rules_dir = workdir / "rules"
        rules_dir.mkdir()
        rule_files, recorded = prometheus_rule_files(REPO / "out", rules_dir)
        (workdir / "prometheus").mkdir()
        legacy = next(f for f in families if f.name == "qgx_http_requests_total")
        history = [Family(HISTORY_ONLY, legacy.type, legacy.help, legacy.series)]
        self.prometheus = Prometheus(workdir / "prometheus", families, rule_files, self.now, history)
        try:
            self.prometheus.wait_for({f.name for f in families}, recorded)
            self.mimir = MimirQueryProxy(self.prometheus.url).start()
            self.loki = LokiEmulator().start()
            loki_streams(self.loki, catalog, self.now * 10**9)
        except BaseException:
            self.prometheus.stop()
            raise
        self.mariadb_socket = mariadb_socket
        self.mysql_password = mysql_password
        self.recorded = recorded

    def environments(
        self,
        *,
        loki_url: str | None = None,
        mimir_url: str | None = None,
        grafana_url: str = "http://127.0.0.1:9",
    ) -> str:
        mimir = mimir_url or self.mimir.url
        dev = {
            "grafana": {"url": grafana_url, "org_id": 1, "folder": "qgx", "token_env": "GRAFANA_TOKEN"},
            "mimir": {"address": mimir, "tenant": TENANT, "ruler_prefix": "/prometheus"},
            "datasources": {
                "qgx-loki": {"url": loki_url or self.loki.url, "tenant": TENANT},
                "qgx-mimir": {"url": f"{mimir}/prometheus", "tenant": TENANT},
                "qgx-tempo": {"url": "http://127.0.0.1:9", "tenant": TENANT},
                "qgx-thanos": {"url": self.prometheus.url},
                "qgx-mysql": {
                    "url": str(self.mariadb_socket or "/nonexistent/mysqld.sock"),
                    "database": "qgx", "user": "grafana_ro", "password_env": "QGX_MYSQL_PASSWORD",
                },
            },
        }  # fmt: skip
        return yaml.safe_dump({"environments": {"dev": dev}}, sort_keys=False)

    def use_in(self, project: Path, **kwargs: str) -> None:
        (project / "environments.yaml").write_text(self.environments(**kwargs))
        if (REPO / "catalog.yaml").is_file():
            shutil.copy(REPO / "catalog.yaml", project / "catalog.yaml")

    def stop(self) -> None:
        for part in (getattr(self, "loki", None), getattr(self, "mimir", None)):
            if part is not None:
                part.stop()
        self.prometheus.stop()
