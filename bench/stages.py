"""The measured stages of `make bench`. run.py runs each in a fresh interpreter (clean caches, its own peak RSS).

Every stage returns a flat dict of figures (seconds, counts, `peak_rss_mb` of that process and its children).
The stages drive the real code paths: `lgtm_dash.compile.build`, `lgtm_dash.lint.engine.lint`, the `publish`
command against the API emulators, grafanalib's `generate-dashboards` and grafana-client.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# Real Mimir limits rule groups per tenant (the emulator defaults to Mimir's 70); the workload needs more,
# and its environments.yaml says so.
from bench.workload import MAX_RULE_GROUPS

ENV = "dev"
LATENCY_S = 0.02  # injected per request, before the emulator answers
TOKEN = "glsa_bench-publisher-token"
BENCH_SECRETS = {
    "QGX_MYSQL_PASSWORD": "bench-mysql-password",
    "SLACK_WEBHOOK_URL": "https://hooks.invalid/bench",
}
# Every publish runs with the command's defaults (4 writes and 32 reads in flight), as `make publish` does.
PUBLISH_PHASES = ("first", "noop", "one_change")
NOOP_RUNS = 3


def peak_rss_mb() -> float:
    """The peak resident set of this process or of its largest child, in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


# --- compile + lint -------------------------------------------------------------------------------------


def _cli(project: Path, *args: str) -> tuple[float, int, str]:
    """One `lgtm-dash` command through the CLI entry point: (seconds, exit code, what it printed)."""
    from lgtm_dash.cli import main

    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--project", str(project), *args])
    return time.perf_counter() - started, code, output.getvalue()


def _make_build(project: Path, out: Path) -> dict[str, Any]:
    """What `make build` runs: `lgtm-dash build` into out/, then `lgtm-dash lint` of it (JSON findings)."""
    _import_commands()
    compile_s, code, _ = _cli(project, "build", "--env", ENV, "--out", str(out))
    if code != 0:
        raise RuntimeError(f"lgtm-dash build exited {code}")
    lint_s, code, printed = _cli(project, "lint", "--format", "json", str(out))
    if code not in (0, 1):
        raise RuntimeError(f"lgtm-dash lint exited {code}")
    findings = json.loads(printed)
    return {
        "compile_s": compile_s,
        "lint_s": lint_s,
        "lint_errors": sum(1 for f in findings if f["severity"] == "error"),
        "lint_warnings": sum(1 for f in findings if f["severity"] == "warning"),
    }


def _import_commands() -> None:
    """Import what the two commands use before the clock starts (a run's figures are the work, not Python
    compiling the toolkit: this environment keeps no bytecode cache)."""
    import lgtm_dash.compile
    import lgtm_dash.lint.cli
    import lgtm_dash.lint.engine  # noqa: F401


def compile_and_lint(project: str, out: str) -> dict[str, Any]:
    """`lgtm-dash build` then `lgtm-dash lint` of a project never built before (an empty cache): the figure
    of a first `make build`. Peak RSS counts the forked workers."""
    root, out_dir = Path(project), Path(out)
    figures = _make_build(root, out_dir)
    figures["dashboards"] = sum(1 for _ in (out_dir / "grafana" / "dashboards").glob("*/*.json"))
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def rebuild_one_change(project: str, out: str, module: str) -> dict[str, Any]:
    """`make build` again after one line of one dashboard module changed (a panel title), the cache of the
    previous `make build` in place: what it recompiles and relints, and how long that takes."""
    root, out_dir = Path(project), Path(out)
    path = root / "dashboards" / f"{module}.py"
    text = path.read_text(encoding="utf-8")
    title = next(
        line for line in text.splitlines() if line.strip().startswith("'") and line.strip().endswith("',")
    )
    path.write_text(text.replace(title, title.replace("',", " (changed)',"), 1), encoding="utf-8")
    before = {p: p.stat().st_mtime_ns for p in out_dir.rglob("*") if p.is_file()}
    figures = _make_build(root, out_dir)
    figures["rewritten"] = sum(
        1 for p, mtime in before.items() if p.exists() and p.stat().st_mtime_ns != mtime
    )
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def lint_languages(project: str, out: str) -> dict[str, Any]:
    """The linter again in one process, each query language's checks timed, and the parsers alone."""
    from lgtm_dash.lint.context import Catalog
    from lgtm_dash.lint.engine import lint
    from lgtm_dash.lint.inputs import read_paths
    from lgtm_dash.lint.registry import all_checks

    root, out_dir = Path(project), Path(out)
    catalog = Catalog.load(root / "catalog.yaml")
    seconds: dict[str, float] = defaultdict(float)
    queries: dict[str, set[int]] = defaultdict(set)
    checks = all_checks()
    for check in checks:
        if check.languages:
            check.check_query = _timed(check.check_query, seconds, queries)  # type: ignore[method-assign]
    lint_input = read_paths([out_dir])
    lint(lint_input, catalog=catalog, checks=checks, project=root, jobs=1)
    figures: dict[str, Any] = {}
    for language in sorted(seconds):
        figures[f"lint_{language}_s"] = seconds[language]
        figures[f"lint_{language}_queries"] = len(queries[language])
    figures.update(_parser_throughput(lint_input, catalog))
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def _timed(check_query, seconds: dict[str, float], queries: dict[str, set[int]]):
    """Wrap a check's query hook: the time it takes (findings included) counts against the query's language."""

    def timed(query, ctx):
        started = time.perf_counter()
        found = list(check_query(query, ctx))
        seconds[query.language] += time.perf_counter() - started
        queries[query.language].add(id(query))
        return found

    return timed


def _parser_throughput(lint_input, catalog) -> dict[str, float]:
    """The parsers alone (no checks) on every distinct interpolated query, caches cleared: queries per second."""
    import promql_parser

    from lgtm_dash.lint import logql
    from lgtm_dash.lint.context import LintContext

    texts: dict[str, set[str]] = defaultdict(set)
    for query in LintContext(lint_input, catalog=catalog).queries:
        if (
            query.language in ("promql", "logql") and query.origin != "variable"
        ):  # label_values() is no PromQL
            texts[query.language].add(query.interpolated())
    figures: dict[str, float] = {}
    logql._parse_cached.cache_clear()  # the parser's own memo would otherwise answer repeats
    for language, parse in (("promql", promql_parser.parse), ("logql", logql.parse_logql)):
        started = time.perf_counter()
        for text in texts[language]:
            parse(text)
        elapsed = time.perf_counter() - started
        figures[f"{language}_parse_queries"] = len(texts[language])
        figures[f"{language}_parse_per_s"] = len(texts[language]) / elapsed if elapsed else 0.0
    return figures


# --- grafanalib baseline ---------------------------------------------------------------------------------


def grafanalib_generate(paths: list[str]) -> dict[str, Any]:
    """grafanalib's own `generate-dashboards` (one process, as its docs run it) on the same dashboards."""
    script = Path(sys.executable).with_name("generate-dashboards")
    started = time.perf_counter()
    subprocess.run([str(script), *paths], check=True)
    elapsed = time.perf_counter() - started
    written = sum(1 for p in paths if Path(p.removesuffix(".dashboard.py") + ".json").is_file())
    return {"generate_s": elapsed, "dashboards": written, "peak_rss_mb": peak_rss_mb()}


# --- publishing ------------------------------------------------------------------------------------------


def _serve_emulators(connection: Any) -> None:
    """The Grafana and Mimir emulators in their own process, as real servers would be: their CPU time is not
    the publisher's. Answers commands from the benchmark over `connection` until told to stop."""
    import gc

    from lgtm_dash.testing import GrafanaEmulator, MimirEmulator

    # The emulators stand in for Go servers: keep Python's cycle collector from pausing them mid-request
    # while they hold 1,000 dashboards (it would be charged to the publisher being measured).
    gc.set_threshold(100_000, 50, 50)

    with (
        GrafanaEmulator(tokens={TOKEN}) as grafana,
        MimirEmulator(max_rule_groups_per_tenant=MAX_RULE_GROUPS) as mimir,
    ):
        grafana.faults.latency = LATENCY_S
        mimir.faults.latency = LATENCY_S
        connection.send({"grafana": grafana.url, "mimir": mimir.url})
        while (command := connection.recv()) != "stop":
            if command == "requests":  # (all requests, writes) since the last time asked
                emulators = (grafana, mimir)
                counts = (sum(len(e.requests) for e in emulators), sum(e.write_count() for e in emulators))
                for emulator in emulators:
                    emulator.clear_log()
                connection.send(counts)
            elif command == "dashboards":
                connection.send(len(grafana.dashboards))


class _Emulators:
    """Client side of `_serve_emulators`, with the environment `publish` reads while it is open."""

    def __enter__(self) -> _Emulators:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve_emulators, args=(child,), daemon=True)
        self._process.start()
        urls = self._connection.recv()
        self.grafana_url = urls["grafana"]
        self._saved = dict(os.environ)
        os.environ.update(
            {
                "GRAFANA_URL": urls["grafana"],
                "GRAFANA_TOKEN": TOKEN,
                "MIMIR_ADDRESS": urls["mimir"],
                **BENCH_SECRETS,
            }
        )
        for name in (
            "MIMIR_TENANT_ID",
            "MIMIR_API_USER",
            "MIMIR_API_KEY",
            "GRAFANA_USER",
            "GRAFANA_PASSWORD",
        ):
            os.environ.pop(name, None)
        return self

    def ask(self, command: str) -> Any:
        self._connection.send(command)
        return self._connection.recv()

    def __exit__(self, *exc: object) -> None:
        os.environ.clear()
        os.environ.update(self._saved)
        self._connection.send("stop")
        self._process.join(timeout=10)


def _publish(project: Path, out: Path) -> tuple[float, int]:
    """One `lgtm-dash publish` through the CLI entry point, its output discarded: (seconds, exit code)."""
    from lgtm_dash.cli import main

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--project", str(project), "publish", "--env", ENV, "--out", str(out)])
    return time.perf_counter() - started, code


def publish_and_naive(project: str, out: str, changed_dashboard: str) -> dict[str, Any]:
    """First publish, no-op republish and one-dashboard republish with lgtm-dash, then the naive publisher."""
    root, out_dir = Path(project), Path(out)
    figures: dict[str, Any] = {}
    with _Emulators() as emulators:
        for phase in PUBLISH_PHASES:
            if phase == "one_change":
                _change_title(out_dir, changed_dashboard)
            # A no-op changes nothing, so it can be repeated: report the median of a few runs, as CPU
            # contention with the emulator process on a 2-core machine makes single runs noisy.
            runs = []
            for _ in range(NOOP_RUNS if phase == "noop" else 1):
                seconds, code = _publish(root, out_dir)
                if code != 0:
                    raise RuntimeError(f"publish ({phase}) exited {code}")
                total, writes = emulators.ask("requests")
                runs.append(seconds)
            figures.update(
                {f"{phase}_s": statistics.median(runs), f"{phase}_requests": total, f"{phase}_writes": writes}
            )
            if len(runs) > 1:
                figures[f"{phase}_runs_s"] = runs
        figures["dashboards_live"] = emulators.ask("dashboards")
        figures.update(_naive_publish(emulators.grafana_url, out_dir))
        figures["naive_requests"], figures["naive_writes"] = emulators.ask("requests")
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def _change_title(out: Path, uid: str) -> None:
    """Edit one compiled dashboard (a panel title), as a one-line change in its module would."""
    path = next(out.glob(f"grafana/dashboards/*/{uid}.json"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["panels"][1]["title"] += " (changed)"
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def _naive_publish(grafana_url: str, out: Path) -> dict[str, Any]:
    """What a team without a planner writes: for each dashboard, GET it, then POST it with overwrite."""
    from grafana_client import GrafanaApi

    from lgtm_dash.artifacts import read_artifacts

    api = GrafanaApi.from_url(grafana_url, credential=TOKEN)
    arts = read_artifacts(out)
    started = time.perf_counter()
    for art in arts.dashboards:
        api.dashboard.get_dashboard(art.uid)
        api.dashboard.update_dashboard(
            {
                "dashboard": art.data,
                "folderUid": art.folder_uid,
                "overwrite": True,
                "message": "naive publish",
            }
        )
    return {"naive_s": time.perf_counter() - started, "naive_dashboards": len(arts.dashboards)}


# --- live lint -----------------------------------------------------------------------------------------


def live_lint(project: str, out: str, workdir: str) -> dict[str, Any]:
    """`lint --live` of the compiled workload against Prometheus (behind Mimir's and Thanos' shapes), Loki
    and MariaDB, every HTTP server answering after LATENCY_S, as the command runs it (default concurrency)."""
    from lgtm_dash.environments import resolve_environment
    from lgtm_dash.lint.context import Catalog, LintContext
    from lgtm_dash.lint.engine import lint_context
    from lgtm_dash.lint.inputs import read_paths
    from lgtm_dash.lint.registry import all_checks
    from lgtm_dash.live.run import LiveOptions, live_answers
    from lgtm_dash.testing.query_proxies import MimirQueryProxy
    from tests.live_world import LiveWorld
    from tests.mariadb import MariaDB

    root, scratch = Path(project), Path(workdir)
    db = MariaDB.start(scratch / "mariadb")
    world = None
    try:
        db.execute("CREATE DATABASE qgx")
        db.execute((root / "datasources" / "mysql_schema.sql").read_text(), database="qgx")
        db.execute(f"CREATE USER 'grafana_ro'@'localhost' IDENTIFIED BY '{BENCH_SECRETS['QGX_MYSQL_PASSWORD']}';"
                   "GRANT SELECT ON qgx.* TO 'grafana_ro'@'localhost';")  # fmt: skip
        (scratch / "world").mkdir()
        world = LiveWorld(scratch / "world", mariadb_socket=db.socket)
        with MimirQueryProxy(world.prometheus.url, prefix="", require_tenant=False) as thanos:
            text = world.environments().replace(f"url: {world.prometheus.url}", f"url: {thanos.url}")
            (root / "environments.yaml").write_text(text)
            for server in (world.mimir, world.loki, thanos):
                server.faults.latency = LATENCY_S
            ctx = LintContext(read_paths([Path(out)]), Catalog.load(root / "catalog.yaml"), root)
            env = resolve_environment(root, ENV)
            started = time.perf_counter()
            report = ctx.live = live_answers(ctx, LiveOptions(env=env, environ=BENCH_SECRETS))
            findings = lint_context(ctx, checks=[c for c in all_checks() if c.live])  # the live rules' part
            seconds = time.perf_counter() - started
            asked = len(world.mimir.request_log) + len(world.loki.request_log) + len(thanos.request_log)
    finally:
        if world is not None:
            world.stop()
        db.stop()
    selectors = sum(1 for q in ctx.queries if q.language in ("promql", "logql"))
    return {
        "live_s": seconds,
        "live_requests": report.requests,
        "live_http_requests_received": asked,
        "live_queries": report.queries,
        "live_promql_logql_queries": selectors,
        "live_findings": len(findings),
        "live_servers": len(report.servers),
        "peak_rss_mb": peak_rss_mb(),
    }
