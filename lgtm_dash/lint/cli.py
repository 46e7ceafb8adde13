"""`lgtm-dash lint [PATH…] [--format text|json|github] [--strict] [--live --env ENV ...]`.

Lints <project>/out by default, or the dashboards, rule files, out/ trees and directories given. Exit 0 when
clean, 1 on errors (and on warnings with --strict), 2 on unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import EXIT_FINDINGS, EXIT_OK, EXIT_REMOTE
from ..source import display_path
from .findings import Severity
from .report import FORMATS, print_text, summary, to_github, to_json

CATALOG_FILE = "catalog.yaml"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH",
        help="out/ trees, dashboard .json files, rule .yaml files or directories of them (default: <project>/out)",
    )  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--catalog", type=Path, default=None,
        help=f"metric catalog for promql/unknown-metric (default: <project>/{CATALOG_FILE} when linting out/)",
    )  # fmt: skip
    parser.add_argument("--no-catalog", action="store_true", help="skip the catalog checks")
    from ..live.cli import add_arguments

    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from .context import Catalog
    from .engine import lint
    from .inputs import is_out_tree, read_paths

    paths = list(args.paths) or [args.project / "out"]
    lint_input = read_paths(paths)
    catalog = None
    if not args.no_catalog:
        if args.catalog is not None:
            catalog = Catalog.load(args.catalog)
        elif (args.project / CATALOG_FILE).is_file() and any(p.is_dir() and is_out_tree(p) for p in paths):
            catalog = Catalog.load(
                args.project / CATALOG_FILE
            )  # the catalog describes this project's metrics
    findings = lint(lint_input, catalog=catalog, project=args.project)
    nothing_checked = False
    if args.live:
        from ..live.cli import run_live
        from .context import LintContext

        live_findings, nothing_checked = run_live(args, LintContext(lint_input, catalog, args.project))
        findings = sorted(set(findings) | set(live_findings))

    checked = ", ".join(display_path(p) for p in paths)
    if args.format == "json":
        sys.stdout.write(to_json(findings) + "\n")
    elif args.format == "github":
        if findings:
            sys.stdout.write(to_github(findings) + "\n")
        print(summary(findings, checked), file=sys.stderr)
    else:
        from ..ui import console

        print_text(findings, checked, console)
    if nothing_checked:
        return EXIT_REMOTE
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return EXIT_FINDINGS if any(f.severity in failing for f in findings) else EXIT_OK
