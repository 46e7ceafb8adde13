"""The `--live` options of `lgtm-dash lint`, and what they add to a lint run."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .run import DEFAULT_CONCURRENCY, DEFAULT_SINCE, DEFAULT_TIME_BUDGET_S

if TYPE_CHECKING:
    from ..lint.context import LintContext
    from .run import LiveAnswers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live lint (check queries against the environment's servers)")
    group.add_argument("--live", action="store_true", help="also check every query against the live servers")
    group.add_argument("--env", default=None, help="environment of environments.yaml to ask (default: dev)")
    group.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        help=f"look-back window for series and labels (default: {DEFAULT_SINCE})",
    )
    group.add_argument(
        "--via-grafana", action="store_true",
        help="reach Prometheus and Loki datasources through Grafana's datasource proxy (one Grafana token)",
    )  # fmt: skip
    group.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once (default: {DEFAULT_CONCURRENCY})",
    )  # fmt: skip
    group.add_argument(
        "--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S, metavar="SECONDS",
        help=f"stop asking after this long; the rest is reported as live/incomplete (default: {DEFAULT_TIME_BUDGET_S:g})",
    )  # fmt: skip


def run_live(args: argparse.Namespace, ctx: LintContext) -> LiveAnswers:
    """Ask the environment's servers what every query of `ctx` needs; the `live/...` rules judge the answers."""
    from ..environments import resolve_environment
    from ..errors import UsageError
    from .run import LiveOptions, live_answers

    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    env = resolve_environment(args.project, args.env)
    options = LiveOptions(
        env=env,
        since=args.since,
        via_grafana=args.via_grafana,
        concurrency=args.concurrency,
        time_budget_s=args.time_budget,
        strict=args.strict,
    )
    answers = live_answers(ctx, options)
    checked = sum(1 for s in answers.servers if s.checked)
    print(
        f"live: {answers.queries} queries, {answers.requests} requests to {checked} of {len(answers.servers)} "
        f"server(s) in {answers.seconds:.1f} s (env {env.name}, last {args.since}"
        f"{', via Grafana' if args.via_grafana else ''})",
        file=sys.stderr,
    )
    return answers
