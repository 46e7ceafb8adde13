"""`make bench`: compile, lint and publish a generated project at 100 and 1,000 dashboards, beside baselines.

Generates the workload (bench/workload.py) into a temporary directory, runs every measured stage in a fresh
interpreter (bench/stages.py), prints a table and writes bench/results.json. A benchmark, not a test: the
figures depend on the machine; the targets (issues 9 and 19) are marked met or missed, and the run always exits 0
unless a stage fails.

    .venv/bin/python bench/run.py [--sizes 100,1000] [--results bench/results.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import stages, workload  # noqa: E402  (needs the repository on sys.path)

RESULTS = REPO / "bench" / "results.json"
TARGET_SIZE = 1000
CHANGED_DASHBOARD_INDEX = 1
TABLE_WIDTH = 140


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    baseline: float | None = None
    ratio: str = ""


def _stage_main(connection: Any, function: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> None:
    try:
        connection.send(("ok", function(*args)))
    except BaseException as err:
        connection.send(("failed", f"{type(err).__name__}: {err}"))
        raise


def in_fresh_process(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one stage in a new interpreter: cold caches, its own peak RSS, nothing left over from the last.

    A plain (non-daemon) process rather than a pool worker: the publish stage starts the emulators in a
    process of their own.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_stage_main, args=(sender, function, args))
    process.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "failed", "the stage process died without an answer"
    process.join()
    if status != "ok":
        raise SystemExit(f"bench: stage {function.__name__} failed: {value}")
    return value


def measure(sizes: list[int], scratch: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    peaks: list[float] = []
    for size in sizes:
        say(f"{size} dashboards: generating the workload")
        load = workload.write_project(scratch / f"project-{size}", size)
        baseline_paths = workload.write_grafanalib_project(scratch / f"grafanalib-{size}", load.dashboards)
        out = scratch / f"out-{size}"

        say(f"{size} dashboards: compile + lint (`make build` of a project never built: empty cache)")
        built = in_fresh_process(stages.compile_and_lint, str(load.root), str(out))
        if built["dashboards"] != size or built["lint_errors"]:
            raise SystemExit(f"bench: the workload did not build cleanly: {built}")
        results[f"compile_{size}_s"] = built["compile_s"]
        results[f"lint_{size}_s"] = built["lint_s"]
        results[f"compile_lint_{size}_s"] = built["compile_s"] + built["lint_s"]
        results[f"compile_lint_{size}_peak_rss_mb"] = built["peak_rss_mb"]
        results[f"rule_groups_{size}"] = load.rule_groups
        peaks.append(built["peak_rss_mb"])

        say(f"{size} dashboards: lint per query language (one process)")
        by_language = in_fresh_process(stages.lint_languages, str(load.root), str(out))
        for language in ("promql", "logql", "sql"):
            count = by_language.get(f"lint_{language}_queries", 0)
            seconds = by_language.get(f"lint_{language}_s", 0.0)
            results[f"lint_{language}_{size}_s"] = seconds
            results[f"lint_{language}_{size}_queries"] = count
            if size == max(sizes):
                results[f"{language}_lint_queries_per_s"] = count / seconds if seconds else 0.0
        if size == max(sizes):
            # `<language>_queries_per_s`: the parser alone, which is what the "LogQL parsing" target names.
            for language in ("promql", "logql"):
                results[f"{language}_queries_per_s"] = by_language[f"{language}_parse_per_s"]
        peaks.append(by_language["peak_rss_mb"])

        say(f"{size} dashboards: grafanalib generate-dashboards")
        generated = in_fresh_process(stages.grafanalib_generate, [str(p) for p in baseline_paths])
        if generated["dashboards"] != size:
            raise SystemExit(
                f"bench: generate-dashboards wrote {generated['dashboards']} of {size} dashboards"
            )
        results[f"grafanalib_generate_{size}_s"] = generated["generate_s"]
        peaks.append(generated["peak_rss_mb"])

        say(f"{size} dashboards: `make build` again after one dashboard module changed (cache in place)")
        module = load.dashboards[CHANGED_DASHBOARD_INDEX - 1].module
        rebuilt = in_fresh_process(stages.rebuild_one_change, str(load.root), str(out), module)
        if rebuilt["lint_errors"]:
            raise SystemExit(f"bench: the changed workload did not lint cleanly: {rebuilt}")
        results[f"rebuild_one_change_{size}_s"] = rebuilt["compile_s"] + rebuilt["lint_s"]
        results[f"rebuild_one_change_{size}_build_s"] = rebuilt["compile_s"]
        results[f"rebuild_one_change_{size}_lint_s"] = rebuilt["lint_s"]
        results[f"rebuild_one_change_{size}_files_rewritten"] = rebuilt["rewritten"]
        peaks.append(rebuilt["peak_rss_mb"])

        say(f"{size} dashboards: publish (first, no-op, one change) and the naive publisher")
        changed = load.dashboards[CHANGED_DASHBOARD_INDEX - 1].uid
        published = in_fresh_process(stages.publish_and_naive, str(load.root), str(out), changed)
        if published["dashboards_live"] != size or published["naive_dashboards"] != size:
            raise SystemExit(f"bench: publishing did not reach every dashboard: {published}")
        for phase in stages.PUBLISH_PHASES:
            for what in ("s", "requests", "writes"):
                results[f"publish_{phase}_{size}_{what}"] = published[f"{phase}_{what}"]
        results[f"publish_noop_{size}_runs_s"] = published["noop_runs_s"]
        results[f"naive_noop_{size}_s"] = published["naive_s"]
        results[f"naive_noop_{size}_requests"] = published["naive_requests"]
        peaks.append(published["peak_rss_mb"])
        if size == max(sizes):
            peaks.append(measure_live(results, load.root, out, size, scratch))
    results["peak_rss_mb"] = max(peaks)
    return results


def measure_live(results: dict[str, Any], project: Path, out: Path, size: int, scratch: Path) -> float:
    """`lint --live` of the compiled workload against servers with LATENCY_S per request; its peak RSS."""
    say(f"{size} dashboards: live lint (Prometheus, Loki, MariaDB; {stages.LATENCY_S * 1000:g} ms latency)")
    (scratch / "live").mkdir(exist_ok=True)
    live = in_fresh_process(stages.live_lint, str(project), str(out), str(scratch / "live"))
    for key in (
        "s",
        "requests",
        "http_requests_received",
        "queries",
        "promql_logql_queries",
        "findings",
        "servers",
    ):
        results[f"live_lint_{size}_{key}"] = live[f"live_{key}"]
    return live["peak_rss_mb"]


def measure_live_only(size: int, scratch: Path) -> dict[str, Any]:
    """Only the live lint stage (the workload is generated and compiled first, not measured)."""
    from lgtm_dash.compile import build

    load = workload.write_project(scratch / f"project-{size}", size)
    out = scratch / f"out-{size}"
    say(f"{size} dashboards: compiling the workload (not measured)")
    build(load.root, stages.ENV, out)
    results: dict[str, Any] = {}
    measure_live(results, load.root, out, size, scratch)
    return results


def rows(r: dict[str, Any], size: int) -> list[Row]:
    n = f"{size:,}"
    is_target = size == TARGET_SIZE
    both, grafanalib = r[f"compile_lint_{size}_s"], r[f"grafanalib_generate_{size}_s"]
    rebuild, rss = r[f"rebuild_one_change_{size}_s"], r[f"compile_lint_{size}_peak_rss_mb"]
    table = [
        Row(f"compile, {n} dashboards (`lgtm-dash build`, empty cache)", r[f"compile_{size}_s"], "s"),
        Row(f"lint, {n} dashboards (`lgtm-dash lint`, one worker per CPU)", r[f"lint_{size}_s"], "s"),
        Row(
            f"compile + lint, {n} dashboards",
            both,
            "s",
            target="≤ 1.5× grafanalib" if is_target else "",
            met=both <= 1.5 * grafanalib if is_target else None,
            baseline=grafanalib,
            ratio=f"{both / grafanalib:.2f}× grafanalib's time",
        ),
        Row(
            f"  peak RSS of compile + lint, {n} (workers included)",
            rss,
            "MiB",
            target="≤ 400 MiB" if is_target else "",
            met=rss <= 400 if is_target else None,
        ),
        Row(
            f"rebuild after one dashboard changed, {n} (build {r[f'rebuild_one_change_{size}_build_s']:.2f} s + "
            f"lint {r[f'rebuild_one_change_{size}_lint_s']:.2f} s, {r[f'rebuild_one_change_{size}_files_rewritten']} files rewritten)",
            rebuild,
            "s",
            target="≤ 10 % of compile + lint" if is_target else "",
            met=rebuild <= 0.1 * both if is_target else None,
            ratio=f"{100 * rebuild / both:.1f} % of compile + lint",
        ),
    ]  # fmt: skip
    for language in ("promql", "logql", "sql"):
        table.append(
            Row(
                f"  lint {language} ({r[f'lint_{language}_{size}_queries']:,} queries, one process)",
                r[f"lint_{language}_{size}_s"],
                "s",
            )
        )
    noop, naive = r[f"publish_noop_{size}_s"], r[f"naive_noop_{size}_s"]
    noop_writes = r[f"publish_noop_{size}_writes"]
    table += [
        Row(f"publish first, {n} ({r[f'publish_first_{size}_requests']:,} requests)", r[f"publish_first_{size}_s"], "s"),
        Row(
            f"publish no-op, {n} ({r[f'publish_noop_{size}_requests']:,} requests, {r[f'publish_noop_{size}_writes']} writes), median of {stages.NOOP_RUNS}",
            noop,
            "s",
            target="≥ 30× naive, 0 writes" if is_target else "",
            met=(naive / noop >= 30 and noop_writes == 0) if is_target else None,
            baseline=naive,
            ratio=f"{naive / noop:.1f}× faster than naive",
        ),
        Row(
            f"publish one change, {n} ({r[f'publish_one_change_{size}_requests']:,} requests, "
            f"{r[f'publish_one_change_{size}_writes']} writes)",
            r[f"publish_one_change_{size}_s"],
            "s",
        ),
        Row(f"naive no-op, {n} ({r[f'naive_noop_{size}_requests']:,} requests)", naive, "s"),
    ]  # fmt: skip
    table += live_rows(r, size)
    return table


def live_rows(r: dict[str, Any], size: int) -> list[Row]:
    if f"live_lint_{size}_s" not in r:
        return []
    return [
        Row(
            f"lint --live, {size:,} ({r[f'live_lint_{size}_queries']:,} queries → {r[f'live_lint_{size}_requests']:,} "
            f"requests after dedup, {stages.LATENCY_S * 1000:g} ms latency)",
            r[f"live_lint_{size}_s"],
            "s",
        )
    ]


def summary_rows(r: dict[str, Any]) -> list[Row]:
    return [
        Row("LogQL parsing", r["logql_queries_per_s"], "queries/s", "≥ 5,000", r["logql_queries_per_s"] >= 5000),
        Row("LogQL lint (parse + checks), one process", r["logql_lint_queries_per_s"], "queries/s"),
        Row("PromQL parsing", r["promql_queries_per_s"], "queries/s"),
        Row("PromQL lint (parse + checks), one process", r["promql_lint_queries_per_s"], "queries/s"),
        Row("SQL lint (parse + checks), one process", r["sql_lint_queries_per_s"], "queries/s"),
        Row("peak RSS (largest stage)", r["peak_rss_mb"], "MiB"),
    ]  # fmt: skip


def print_table(table: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    from lgtm_dash.ui import console

    view = Table(title="lgtm-dash benchmark", title_justify="left")
    for column in ("figure", "value", "target", "baseline", "ratio", "met?"):
        view.add_column(column, justify="right" if column in ("value", "baseline") else "left")
    for row in table:
        value = f"{row.value:,.0f} {row.unit}" if row.value >= 1000 else f"{row.value:.2f} {row.unit}"
        met = "" if row.met is None else ("[green]yes[/]" if row.met else "[red]no[/]")
        baseline = "" if row.baseline is None else f"{row.baseline:.2f} s"
        view.add_row(row.figure, value, row.target, baseline, row.ratio, met)
    # Pipes and CI logs report 80 columns, which would wrap every row: print the table at least 132 wide.
    (console if console.width >= TABLE_WIDTH else Console(width=TABLE_WIDTH, highlight=False)).print(view)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="dashboard counts to measure (default: 100,1000)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the figures (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects (path printed)")
    parser.add_argument(
        "--live-only", action="store_true",
        help="measure only `lint --live` at the largest size; other figures in --results are kept",
    )  # fmt: skip
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.live_only:
        return live_only(args, max(sizes))

    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="lgtm-bench-"))
    try:
        results = measure(sizes, scratch)
    finally:
        if args.keep:
            say(f"generated projects kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    results.update(
        {
            "total_s": time.perf_counter() - started,
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "latency_ms": stages.LATENCY_S * 1000,
            "publish_settings": "command defaults: --concurrency 4, --read-concurrency 32",
            "panels_per_dashboard": workload.PANELS_PER_DASHBOARD,
            "sizes": sizes,
        }
    )
    table = [row for size in sizes for row in rows(results, size)] + summary_rows(results)
    print_table(table)
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}
    args.results.write_text(json.dumps(rounded, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    say(f"figures written to {args.results} (whole run {results['total_s']:.0f} s)")
    return 0


def live_only(args: argparse.Namespace, size: int) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="lgtm-bench-live-"))
    try:
        figures = measure_live_only(size, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = json.loads(args.results.read_text(encoding="utf-8")) if args.results.is_file() else {}
    results.update({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()})
    print_table(live_rows(results, size))
    args.results.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    say(f"live lint figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
