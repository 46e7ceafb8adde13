"""`lgtm-dash diff`: a semantic diff of dashboards, rules, Alertmanager routing and datasources.

Sides: `OLD_DIR NEW_DIR` (any two out/ trees), `--base REF` (that git ref built in a scratch tree vs a
fresh build of the working tree), or `--live --env ENV` (the live instance vs out/). Exit 0 when nothing
changed, 1 when something did.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from ..artifacts import read_artifacts
from ..clients.options import add_time_limits, retry_policy
from ..errors import EXIT_FINDINGS, EXIT_OK, UsageError
from .engine import diff_artifacts
from .report import Detail, DiffReport, ObjectChange

__all__ = ["Detail", "DiffReport", "ObjectChange", "configure", "diff_artifacts", "run"]

FORMATS = ("text", "markdown", "json")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dirs", nargs="*", type=Path, metavar="DIR", help="OLD_DIR NEW_DIR: compare two out/ trees"
    )
    parser.add_argument(
        "--base", metavar="REF", help="compare the artifacts of this git ref with the working tree"
    )
    parser.add_argument("--live", action="store_true", help="compare the live Grafana and Mimir with out/")
    parser.add_argument("--env", default=None, help="environment from environments.yaml (default: dev)")
    parser.add_argument(
        "--out", type=Path, default=None, help="the out/ compared with --live (default: <project>/out)"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--output", type=Path, default=None, help="write the diff to this file instead of stdout"
    )
    add_time_limits(parser)  # for --live


def compute(args: argparse.Namespace, scratch: Path, secrets: dict[str, str]) -> DiffReport:
    from ..compile import build

    chosen = sum([bool(args.dirs), bool(args.base), bool(args.live)])
    if chosen != 1:
        raise UsageError("give exactly one of: OLD_DIR NEW_DIR, --base REF, --live")
    if args.dirs:
        if len(args.dirs) != 2:
            raise UsageError("give two directories: OLD_DIR NEW_DIR")
        return diff_artifacts(read_artifacts(args.dirs[0]), read_artifacts(args.dirs[1]))
    if args.base:
        from .sources import build_ref

        build_ref(args.project, args.base, args.env, scratch, scratch / "base")
        # The working tree is built fresh (not read from out/) so uncommitted edits show too.
        build(args.project, args.env, scratch / "head")
        return diff_artifacts(read_artifacts(scratch / "base"), read_artifacts(scratch / "head"))
    from .sources import live_and_desired

    live, desired = live_and_desired(
        args.project,
        args.env,
        args.out or args.project / "out",
        scratch,
        secrets,
        retry=retry_policy(args),
        timeout=args.request_timeout,
    )
    return diff_artifacts(live, desired)


def known_secrets(project: Path, env_name: str | None) -> dict[str, str]:
    """Values of the secret variables set in this process: redacted from the output as a last guard."""
    from ..environments import resolve_environment
    from ..errors import LgtmError

    names = {"GRAFANA_TOKEN", "GRAFANA_PASSWORD", "MIMIR_API_KEY", "SLACK_WEBHOOK_URL"}
    with contextlib.suppress(LgtmError):  # OLD_DIR NEW_DIR works without a project
        names |= resolve_environment(project, env_name, environ={}).secret_variables()
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def run(args: argparse.Namespace) -> int:
    from ..secrets import redact
    from ..ui import console
    from .render import render_json, render_markdown, render_text

    secrets = known_secrets(args.project, args.env)
    with tempfile.TemporaryDirectory(prefix="lgtm-dash-diff-") as tmp:
        report = compute(args, Path(tmp), secrets)
    if args.format == "text" and args.output is None:
        text = render_text(report)
        if redact(text.plain, secrets) != text.plain:  # rare: lose the colours rather than show a secret
            text = type(text)(redact(text.plain, secrets))
        console.print(text, end="")
    else:
        rendered = {
            "text": lambda: render_text(report).plain,
            "markdown": lambda: render_markdown(report),
            "json": lambda: render_json(report),
        }[args.format]()
        rendered = redact(rendered, secrets)
        if args.output is None:
            print(rendered, end="")
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(rendered, encoding="utf-8")
            console.print(f"diff written to {args.output}: {report.summary_line()}")
    return EXIT_FINDINGS if report.changed else EXIT_OK
