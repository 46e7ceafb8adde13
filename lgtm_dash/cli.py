"""The `lgtm-dash` command line. Each subcommand lives in its own module with `configure()` and `run()`."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, LgtmError
from .source import set_project_root

# name -> (module, configure function, run function, help)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "build": ("lgtm_dash.compile", "configure", "run", "compile the definitions into out/"),
    "lint": (
        "lgtm_dash.lint.cli",
        "configure",
        "run",
        "lint queries, dashboards and rules in out/ or given files",
    ),
    "diff": (
        "lgtm_dash.diff",
        "configure",
        "run",
        "semantic diff against a git ref (--base) or the live instance (--live)",
    ),
    "plan": ("lgtm_dash.publish", "configure_plan", "run_plan", "show what publish would change"),
    "publish": ("lgtm_dash.publish", "configure_publish", "run_publish", "apply out/ to Grafana and Mimir"),
    "catalog": (
        "lgtm_dash.live.catalog",
        "configure",
        "run",
        "refresh catalog.yaml from the live servers' metadata and series (--live)",
    ),
    "preview": (
        "lgtm_dash.preview",
        "configure",
        "run",
        "draw the dashboards' layouts as Grafana does, as a static site (or --watch while editing)",
    ),
    "configmaps": (
        "lgtm_dash.k8s",
        "configure",
        "run",
        "render Kubernetes ConfigMaps for Helm-provisioned Grafana",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lgtm-dash", description=__doc__)
    parser.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        help="project root holding datasources/, dashboards/, alerts/",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, configure_name, run_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            cmd.set_defaults(handler=None)
            continue
        getattr(module, configure_name)(cmd)
        cmd.set_defaults(handler=getattr(module, run_name))
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()  # `--timeout` counts from here
    # A run builds and reads hundreds of thousands of small objects that live until it ends: collecting
    # cycles less often saves a large share of the CPU time on big projects (see README, Benchmark).
    gc.set_threshold(50_000, 20, 20)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    if args.handler is None:
        print(f"error: `{args.command}` is not available in this version", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.started = started
    args.project = args.project.resolve()
    set_project_root(args.project)
    try:
        return int(args.handler(args) or 0)
    except LgtmError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # an internal bug: one line unless asked for the traceback
        if os.environ.get("LGTM_DASH_DEBUG"):
            raise
        print(
            f"internal error: {type(err).__name__}: {err} (set LGTM_DASH_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
