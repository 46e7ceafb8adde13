"""`lgtm-dash init DIR`: a new project that builds at once.

It holds `datasources/` (a Prometheus and a Loki datasource), `dashboards/` (a folder), `alerts/`,
`environments.yaml` (one `dev` environment: URLs, tenants and the *names* of credential variables),
`catalog.yaml`, a README, a Makefile, a pyproject.toml with the ruff settings, and the first `out/`.
The files come from the package's `templates/project/` (`*.tmpl`, `{name}` replaced by the directory name).
"""

from __future__ import annotations

import argparse
import importlib.resources
import shutil
import tempfile
from pathlib import Path

from .compile import build
from .errors import EXIT_OK, UsageError
from .source import set_project_root

TEMPLATE = "templates/project"
# Template files whose name cannot be the file's own (a dotfile).
RENAMED = {"gitignore": ".gitignore"}


def template_files() -> dict[str, str]:
    """{relative path in the new project: text}."""
    root = importlib.resources.files("lgtm_dash").joinpath(TEMPLATE)
    files: dict[str, str] = {}

    def walk(node: importlib.resources.abc.Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".tmpl"):
                name = child.name.removesuffix(".tmpl")
                files[prefix + RENAMED.get(name, name)] = child.read_text(encoding="utf-8")

    walk(root, "")
    return files


def init_project(directory: Path) -> list[str]:
    """Create the project in `directory` (absent or empty); returns the files written."""
    directory = directory.resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"{directory} exists and is not empty: `init` only creates new projects")
    name = directory.name
    files = {rel: text.replace("{name}", name) for rel, text in template_files().items()}
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.init-", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would otherwise become the project's mode
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        set_project_root(staging)
        build(staging, None, staging / "out")
        if directory.exists():
            directory.rmdir()
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    set_project_root(directory)
    return [*sorted(files), "out/"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", type=Path, metavar="DIR", help="the new project's directory (absent or empty)"
    )


def run(args: argparse.Namespace) -> int:
    written = init_project(args.directory)
    print(f"created {args.directory}: {', '.join(written)}")
    print(
        f"next: lgtm-dash import --project {args.directory} <dashboards.json> <rules.yaml>, then make build"
    )
    return EXIT_OK
