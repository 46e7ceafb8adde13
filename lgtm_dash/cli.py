"""The `lgtm-dash` command line. Each subcommand lives in its own module with `configure()` and `run()`.

Like git and ruff, the project root is found by walking up from the working directory to the first
directory holding `environments.yaml`; `--project DIR` names it explicitly, before or after the subcommand.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, LgtmError
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
    "test": (
        "lgtm_dash.alert_tests",
        "configure",
        "run",
        "run the alert unit tests (promtool) and the Alertmanager routing cases (amtool)",
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
    "emulate": (
        "lgtm_dash.emulate",
        "configure",
        "run",
        "serve the bundled Grafana and Mimir emulators locally, to try plan and publish without Docker",
    ),
    "init": (
        "lgtm_dash.init",
        "configure",
        "run",
        "create a new project (datasources, dashboards, alerts...)",
    ),
    "import": (
        "lgtm_dash.importer.cli",
        "configure",
        "run",
        "write existing dashboards and rule files (files or a live Grafana/Mimir) as Python modules",
    ),
}
# The file that marks a project root (every command that reads definitions needs it).
ROOT_MARKER = "environments.yaml"


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding environments.yaml; `start` itself if there is none."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / ROOT_MARKER).is_file():
            return directory
    return start


def toolkit_version() -> str:
    try:
        return version("lgtm-dash")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """Options every command accepts, before or after the subcommand name."""
    parser.add_argument(
        "--project",
        type=Path,
        default=default,
        metavar="DIR",
        help="project root holding environments.yaml, datasources/, dashboards/, alerts/ "
        f"(default: the nearest directory above the working directory with {ROOT_MARKER})",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only`, the other commands' modules are not imported (nor their options known):
    a run imports what it uses."""
    parser = argparse.ArgumentParser(prog="lgtm-dash", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--version", action="version", version=f"lgtm-dash {toolkit_version()}")
    _global_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, configure_name, run_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        # SUPPRESS: given after the subcommand it wins; absent there, the value given before it stays.
        _global_options(cmd, argparse.SUPPRESS)
        if only is not None and name != only:
            continue
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


def _command_in(argv: list[str]) -> str | None:
    """The command named on a command line (`--project DIR` may come first), or None when there is none."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--project":
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()  # `--timeout` counts from here
    # A run builds and reads hundreds of thousands of small objects that live until it ends: collecting
    # cycles less often saves a large share of the CPU time on big projects (see README, Benchmark).
    gc.set_threshold(50_000, 20, 20)
    parser = build_parser(_command_in(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    if args.handler is None:
        print(f"error: `{args.command}` is not available in this version", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.started = started
    args.project = (args.project or find_project_root(Path.cwd())).resolve()
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
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
