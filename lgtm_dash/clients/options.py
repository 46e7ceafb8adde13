"""Command-line options of the commands that talk to Grafana, Mimir and Loki (`plan`, `publish`, `diff --live`):
how long a run and each request may take, and how often to retry. They only configure `clients.http`.
"""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .http import DEFAULT_TIMEOUT, Deadline, RetryPolicy


def add_time_limits(parser: argparse.ArgumentParser) -> None:
    """`--timeout` (the whole run) and `--request-timeout` (each request, headers and body together)."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up the whole run after this long, retries included (exit 3; default: no limit)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up one request after this long, however slowly it answers (default: {DEFAULT_TIMEOUT:g})",
    )


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    """The retry policy and time limits the command line asked for (checked: UsageError when wrong)."""
    if getattr(args, "retries", 5) < 1:
        raise UsageError("--retries must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if args.request_timeout <= 0:
        raise UsageError("--request-timeout must be a positive number of seconds")
    return RetryPolicy(
        attempts=getattr(args, "retries", 5),
        base_delay=max(0.0, getattr(args, "retry_delay", 0.5)),
        # Counted from when the command started, so `--timeout 10` means about 10 s of the user's time.
        deadline=Deadline.after(args.timeout, start=getattr(args, "started", None)) if args.timeout else None,
    )
