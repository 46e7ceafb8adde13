"""`lgtm-dash preview`: see each dashboard's layout, drawn the way Grafana lays it out, without a Grafana.

Reads artifacts like lint and diff: `<project>/out` by default, or the dashboard JSON files and out/ trees
given. `--base REF` writes before/ and after/ sites for a PR; `--watch` serves the site and rebuilds it from
the definitions whenever one is saved.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..errors import UsageError
from .site import (
    SiteInput,
    from_artifacts,
    from_files,
    merge,
    render_comparison,
    render_site,
    select,
    write_site,
)

DEFAULT_PORT = 8765


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dashboards",
        nargs="*",
        metavar="DASHBOARD",
        help="UIDs to draw (default: all), or dashboard JSON files / out/ trees to read instead of <project>/out",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="where the site is written (default: <project>/build/preview)"
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="write before/ (this git ref) and after/ (the working tree) sites and an index of what changed",
    )
    parser.add_argument("--env", default=None, help="environment from environments.yaml (default: dev)")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="serve the site on 127.0.0.1, rebuild it when a definition is saved and reload the open page",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port for --watch (default: {DEFAULT_PORT}; 0: any free)",
    )


def split_arguments(args: argparse.Namespace) -> tuple[list[Path], list[str]]:
    """(paths to read, UIDs to select): an argument naming an existing file or directory is a path."""
    paths = [Path(a) for a in args.dashboards if Path(a).exists()]
    uids = [a for a in args.dashboards if not Path(a).exists()]
    return paths, uids


def read_inputs(project: Path, paths: list[Path]) -> SiteInput:
    from ..artifacts import read_artifacts
    from ..lint.inputs import is_out_tree

    if not paths:
        return from_artifacts(read_artifacts(project / "out"))
    parts = []
    for path in paths:
        if path.is_dir() and is_out_tree(path):
            parts.append(from_artifacts(read_artifacts(path)))
        elif path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*.json")
                if not any(s.startswith(".") for s in p.relative_to(path).parts)
            )
            parts.append(from_files(found, strict=False))
        else:
            parts.append(from_files([path]))
    return merge(parts)


def run(args: argparse.Namespace) -> int:
    from ..ui import console

    out_dir = args.out or args.project / "build" / "preview"
    paths, uids = split_arguments(args)
    if args.watch:
        if args.base or paths:
            raise UsageError("--watch builds the definitions itself: give neither --base nor files")
        from .watch import watch

        return watch(args.project, args.env, uids, args.port)
    if args.base:
        if paths:
            raise UsageError("--base builds both sides from the definitions: give no files")
        before, after = build_sides(args.project, args.base, args.env)
        files = render_comparison(select(before, uids, after), select(after, uids, before), args.base)
        write_site(files, out_dir)
        console.print(f"preview of {args.base} and the working tree written to {out_dir / 'index.html'}")
        return 0
    site_input = select(read_inputs(args.project, paths), uids)
    files = render_site(site_input)
    write_site(files, out_dir)
    count = len(site_input.dashboards)
    console.print(
        f"preview of {count} dashboard{'' if count == 1 else 's'} written to {out_dir / 'index.html'}"
    )
    return 0


def build_sides(project: Path, base: str, env: str | None) -> tuple[SiteInput, SiteInput]:
    """(the artifacts of `base`, those of the working tree), built in a scratch directory like `diff --base`."""
    from ..artifacts import read_artifacts
    from ..compile import build
    from ..diff.sources import build_ref

    with tempfile.TemporaryDirectory(prefix="lgtm-dash-preview-") as tmp:
        scratch = Path(tmp)
        build_ref(project, base, env, scratch, scratch / "base")
        build(project, env, scratch / "head")
        return from_artifacts(read_artifacts(scratch / "base")), from_artifacts(
            read_artifacts(scratch / "head")
        )
