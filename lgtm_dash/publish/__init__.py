"""`lgtm-dash plan` and `lgtm-dash publish`: out/ to Grafana, Mimir and Loki, Terraform-style.

`plan` reads the live state, compares it with out/ after normalising both, and prints one summary line
and the details (exit 0: nothing to do, 1: something would change). `publish` does the same, then applies
exactly the pending changes (exit 0: done, 1: conflicts left, 3: a remote failure or `--timeout` reached,
130: interrupted, after the `--report` of what was applied is written).

Submodules: `plan` (what would change, and what the kinds share), `kinds` (one module per kind of
object: datasources, folders, dashboards, rule groups, Alertmanager), `apply` (doing it), `report`
(output), `export` (live state written in the out/ layout, for `diff --live`). The HTTP clients and their
retry policy live below, in `lgtm_dash.clients`. Heavy imports stay inside functions so the CLI starts
fast.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_REMOTE, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from ..artifacts import Artifacts
    from ..environments import Environment
    from .plan import Clients, Plan

__all__ = [
    "configure_plan",
    "configure_publish",
    "export_desired",
    "export_live",
    "run_plan",
    "run_publish",
]


def _configure_common(parser: argparse.ArgumentParser) -> None:
    from ..clients.options import add_time_limits
    from .plan import PlanOptions

    parser.add_argument("--env", default=None, help="environment from environments.yaml (default: dev)")
    parser.add_argument("--out", type=Path, default=None, help="built artifacts (default: <project>/out)")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="also delete objects lgtm-dash manages that are no longer in out/ (never anything else)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite dashboards changed in Grafana since the last publish"
    )
    parser.add_argument(
        "--update-secrets",
        action="store_true",
        help="re-send datasource secrets that are already set (they cannot be read back to compare)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="write requests in flight at once (default: 4)"
    )
    parser.add_argument(
        "--read-concurrency",
        type=int,
        default=PlanOptions.read_concurrency,
        help=f"read requests in flight while planning (default: {PlanOptions.read_concurrency})",
    )
    parser.add_argument("--report", type=Path, default=None, metavar="FILE", help="also write a JSON report")
    parser.add_argument(
        "--retries", type=int, default=5, help="attempts per request on 429/5xx/network errors"
    )
    parser.add_argument(
        "--retry-delay", type=float, default=0.5, metavar="SECONDS", help="first backoff delay (doubles)"
    )
    add_time_limits(parser)
    parser.add_argument("--verbose", "-v", action="store_true", help="list unchanged objects too")


def configure_plan(parser: argparse.ArgumentParser) -> None:
    _configure_common(parser)


def configure_publish(parser: argparse.ArgumentParser) -> None:
    _configure_common(parser)


def _prepare(args: argparse.Namespace) -> tuple[Plan, Clients, dict[str, str]]:
    from ..artifacts import cycle_collection_paused, read_artifacts
    from ..clients.options import retry_policy
    from ..environments import resolve_environment
    from .plan import PlanOptions, check_environment, compute_plan, make_clients, secret_values

    if args.concurrency < 1 or args.read_concurrency < 1:
        raise UsageError("--concurrency and --read-concurrency must be at least 1")
    retry = retry_policy(args)
    env = resolve_environment(args.project, args.env)
    arts = read_artifacts(args.out or args.project / "out")
    check_environment(arts, env)
    options = PlanOptions(
        prune=args.prune,
        force=args.force,
        update_secrets=args.update_secrets,
        concurrency=args.concurrency,
        read_concurrency=args.read_concurrency,
    )
    secrets = secret_values(env, arts, os.environ)
    clients = make_clients(env, arts, options, retry, secrets, timeout=args.request_timeout)
    with cycle_collection_paused():  # reading 1,000 dashboards back creates no cycles worth a collection
        plan = compute_plan(env, arts, clients, options)
    return plan, clients, secrets


def run_plan(args: argparse.Namespace) -> int:
    from .report import print_plan, write_report

    plan, _clients, secrets = _prepare(args)
    print_plan(plan, secrets, verbose=args.verbose)
    if args.report:
        write_report(args.report, plan, None, secrets)
    return EXIT_FINDINGS if plan.pending or plan.count("conflict") else EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    from ..ui import err_console
    from .apply import apply_plan
    from .plan import commit_message
    from .report import print_plan, print_result, write_report

    try:
        plan, clients, secrets = _prepare(args)
    except KeyboardInterrupt:
        err_console.print("Interrupted while planning: nothing was applied.")
        return EXIT_INTERRUPTED
    print_plan(plan, secrets, verbose=args.verbose)
    if not plan.pending:
        from ..ui import console

        console.print("Nothing to publish.")
        if args.report:
            write_report(args.report, plan, None, secrets)
        return EXIT_FINDINGS if plan.count("conflict") else EXIT_OK
    with _progress(len(plan.pending)) as advance:
        result = apply_plan(
            plan,
            clients,
            message=commit_message(args.project),
            force=args.force,
            concurrency=args.concurrency,
            on_done=advance,
        )
    print_result(result, secrets)
    if args.report:
        write_report(args.report, plan, result, secrets)
    if result.interrupted:
        where = f"; the report {args.report} lists what was" if args.report else ""
        err_console.print(
            f"Interrupted: {result.count('created') + result.count('updated') + result.count('deleted')} "
            f"change(s) applied before the interrupt{where}. Run publish again to finish."
        )
        return EXIT_INTERRUPTED
    if result.auth_error is not None:
        raise result.auth_error
    if result.count("failed"):
        return EXIT_REMOTE
    return EXIT_FINDINGS if result.count("conflict") or result.count("skipped") else EXIT_OK


class _progress:
    """A progress bar on stderr for interactive terminals; a no-op in CI and pipes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Progress | None = None

    def __enter__(self):
        from ..ui import err_console, interactive

        if not interactive():
            return lambda outcome: None
        from rich.progress import Progress

        bar = self._bar = Progress(console=err_console, transient=True)
        bar.start()
        task = bar.add_task("publishing", total=self.total)
        return lambda outcome: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def export_live(env: Environment, dest_dir: Path, **kwargs) -> None:
    """Write the live state in scope into `dest_dir` in the out/ layout, normalised like plan compares.

    Compare it with `export_desired(read_artifacts(out), other_dir)`, which writes out/ normalised the
    same way. Keyword arguments: see `lgtm_dash.publish.export.export_live`.
    """
    from .export import export_live as _export_live

    _export_live(env, dest_dir, **kwargs)


def export_desired(arts: Artifacts, dest_dir: Path) -> None:
    """Write out/ (already read) into `dest_dir` normalised exactly like `export_live` writes live state."""
    from .export import export_desired as _export_desired

    _export_desired(arts, dest_dir)
