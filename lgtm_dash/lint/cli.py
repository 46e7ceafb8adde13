"""`lgtm-dash lint [PATH…] [--format text|json|github] [--strict] [--select/--ignore RULES] [--live --env ENV]`.

Lints <project>/out by default, or the dashboards, rule files, out/ trees and directories given. Exit 0 when
clean, 1 on errors (and on warnings with --strict), 2 when the run cannot start (a path that does not exist, a
bad `[tool.lgtm-dash.lint]` in pyproject.toml, a bad catalog).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_FINDINGS, EXIT_OK, EXIT_REMOTE, DefinitionError
from ..source import display_path
from .findings import Severity
from .report import FORMATS, print_text, summary, to_github, to_json

if TYPE_CHECKING:
    from .inputs import LintInput

CATALOG_FILE = "catalog.yaml"
PYPROJECT = "pyproject.toml"

DESCRIPTION = (
    "Lint queries (PromQL, LogQL, MySQL), dashboards and alert/recording rules in out/ or given files."
)
EPILOG = """\
rules:
  Every rule has an id (promql/syntax, dashboard/grid, rule/runbook-url...) documented with a bad and a good
  example in docs/lint-rules.md (`lgtm-dash lint --docs`; `--list-rules` shows which run here). Without
  configuration only correctness rules run; house rules (rule/runbook-url, rule/record-name,
  rule/dashboard-url, dashboard/panel-unit...) are opt-in. The live/... rules judge what the servers of an
  environment hold and run only with --live (warnings; errors with --strict); they are configured and
  suppressed like the others.

configuration (pyproject.toml of --project, like ruff):
  [tool.lgtm-dash.lint]
  select = ["ALL"]                         # replace the default rule set (ids or prefixes: "promql", "ALL")
  extend-select = ["rule/runbook-url"]     # add rules
  ignore = ["promql/rate-interval"]        # remove rules (the more specific of select/ignore wins)
  severity = { "dashboard/grid" = "error" }
  [tool.lgtm-dash.lint.per-file-ignores]
  "dashboards/legacy_*.py" = ["promql"]    # globs over the Python definition or the input file
  An unknown key or rule id is bad input (exit 2). --select starts a new selection (the configured lists no
  longer count); --extend-select and --ignore add to them. --isolated ignores the configuration.

suppressing a finding where it occurs:
  Python      timeseries(..., lint_ignore=("promql/rate-interval",)), Board(..., lint_ignore=...),
              Alert(..., lint_ignore=...), Record(..., lint_ignore=...)
  dashboard   "lintIgnore": ["dashboard/grid"] at the top level (the whole dashboard), or in a panel's
              "options": {"lintIgnore": [...]} (Grafana keeps panel options when the dashboard is saved)
  rule YAML   # lgtm-dash: ignore=rule/for,alert/comparison   (in or just above a rule or a group)
              # lgtm-dash: ignore-file=rule/record-name        (the whole file)

exit codes: 0 clean, 1 errors (or warnings with --strict), 2 the run cannot start.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
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
    for option, what in (("--select", "run only these rules (the configured selection no longer counts)"),
                         ("--extend-select", "also run these rules"), ("--ignore", "do not run these rules")):  # fmt: skip
        parser.add_argument(
            option,
            action="append",
            default=[],
            metavar="RULES",
            help=f"{what}; comma-separated ids or prefixes",
        )
    parser.add_argument(
        "--isolated", action="store_true", help=f"ignore the [tool.lgtm-dash.lint] of {PYPROJECT}"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="check every dashboard, reusing nothing from earlier runs (the cache is <project>/.lgtm-dash-cache/)",
    )
    parser.add_argument("--list-rules", action="store_true", help="list every rule and whether it runs here")
    parser.add_argument(
        "--docs", action="store_true", help="print docs/lint-rules.md (generated from the rules)"
    )

    from ..live.cli import add_arguments

    add_arguments(parser)


def _split(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def run(args: argparse.Namespace) -> int:
    from .config import LintConfig
    from .context import Catalog, LintContext
    from .engine import lint, lint_context
    from .inputs import is_out_tree, read_paths
    from .registry import all_checks

    if args.docs:
        from .docs import rules_markdown

        sys.stdout.write(rules_markdown())
        return EXIT_OK
    config = LintConfig() if args.isolated else LintConfig.load(args.project / PYPROJECT)
    config = config.with_options(_split(args.select) or None, _split(args.extend_select), _split(args.ignore))
    if args.list_rules:
        for check in all_checks():
            state = "on " if config.enabled(check) else "off"
            needs = " (with --live)" if check.live and not args.live else ""
            print(f"{state}  {check.id:36} {check.severity:8} {check.summary}{needs}")
        return EXIT_OK

    paths = list(args.paths) or [args.project / "out"]
    cache = None
    if not (args.no_cache or args.live) and len(paths) == 1 and paths[0].is_dir() and is_out_tree(paths[0]):
        from .cache import LintCache

        cache = LintCache(args.project, paths[0])  # live lint reads every query: it needs every dashboard
    lint_input = read_paths(paths, known=cache)
    _refuse_when_nothing_is_usable(lint_input)
    catalog = None
    if not args.no_catalog:
        if args.catalog is not None:
            catalog = Catalog.load(args.catalog)
        elif (args.project / CATALOG_FILE).is_file() and any(p.is_dir() and is_out_tree(p) for p in paths):
            catalog = Catalog.load(
                args.project / CATALOG_FILE
            )  # the catalog describes this project's metrics
    if args.live:
        from ..live.cli import run_live

        ctx = LintContext(lint_input, catalog, args.project)
        ctx.live = run_live(args, ctx)  # what the servers answered: the `live/...` rules judge it
        findings = lint_context(ctx, config=config)
    else:
        ctx = None
        findings = lint(lint_input, catalog=catalog, project=args.project, config=config, cache=cache)
    nothing_checked = ctx is not None and ctx.live is not None and ctx.live.nothing_checked

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


def _refuse_when_nothing_is_usable(lint_input: LintInput) -> None:
    """Every input was unusable (a broken file, a torn out/ tree, a hostile YAML): the run cannot start, so it
    is bad input (exit 2, one line). Among usable inputs, an unusable file is an `input/...` finding instead."""
    if lint_input.problems and not lint_input.dashboards and not lint_input.rule_groups:
        first = lint_input.problems[0]
        more = len(lint_input.problems) - 1
        message = first.message + (
            f" (and {more} other unusable input{'s' if more > 1 else ''})" if more else ""
        )
        raise DefinitionError(message, f"{first.file}:{first.line}" if first.line else first.file)
