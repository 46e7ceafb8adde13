"""Where the two sides of a diff come from: a git ref built in a scratch tree, or the live instance."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path

from ..artifacts import Artifacts, build_hint
from ..clients.http import RetryPolicy
from ..errors import DefinitionError, UsageError


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("`--base` needs git, which is not installed") from None


def git_output(cwd: Path, *args: str) -> str:
    return git(cwd, *args).stdout.decode().strip()


def export_ref(project: Path, ref: str, dest: Path) -> Path:
    """Extract the tree of `ref` into `dest` and return the project's directory inside it.

    `git archive` reads the object store only: unlike a worktree, nothing in .git changes and there is
    nothing to clean up there if the run is interrupted.
    """
    toplevel = git_output(project, "rev-parse", "--show-toplevel")
    if not toplevel:
        raise UsageError(f"`--base` needs a git repository, and {project} is not in one")
    commit = git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise UsageError(f"unknown git ref {ref!r} (try a branch, tag or commit of this repository)")
    archive = git(Path(toplevel), "archive", "--format=tar", commit.stdout.decode().strip())
    if archive.returncode != 0:
        raise UsageError(f"cannot read {ref!r}: {archive.stderr.decode().strip().splitlines()[-1:]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / project.resolve().relative_to(Path(toplevel).resolve())


_BASE_TOOLKIT_ONLY = (
    "import sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path "
    "if not (getattr(f, '__module__', '') or type(f).__module__).startswith('__editable__')]; "
    "from lgtm_dash.cli import main; sys.exit(main(sys.argv[1:]))"
)


def build_ref(project: Path, ref: str, env_name: str | None, scratch: Path, out_dir: Path) -> None:
    """Build `ref`'s artifacts with that ref's own definitions (and its own toolkit when it holds one).

    The build runs in a separate process so the two trees' definition modules never share an import cache.
    """
    tree = scratch / "tree"
    base_project = export_ref(project, ref, tree)
    env = dict(os.environ)
    entry = ["-m", "lgtm_dash.cli"]
    if (tree / "lgtm_dash").is_dir():  # the toolkit as it was at that ref: its output is what ref built
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
        # An editable install would otherwise supply the modules that ref's toolkit lacks from this one.
        entry = ["-c", _BASE_TOOLKIT_ONLY]
    command = [
        sys.executable,
        *entry,
        "--project",
        str(base_project),
        "build",
        "--out",
        str(out_dir),
    ]
    if env_name:
        command += ["--env", env_name]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit {result.returncode}"
        raise DefinitionError(f"cannot build the base {ref!r}: {reason.removeprefix('error: ')}")


def live_and_desired(
    project: Path,
    env_name: str | None,
    out_dir: Path,
    scratch: Path,
    secrets: Mapping[str, str],
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
) -> tuple[Artifacts, Artifacts]:
    """(live state, out/) both in the out/ layout and normalised the way the publish plan compares them.

    `retry` carries the run's time limit (`--timeout`); `timeout` bounds each request.
    """
    from ..artifacts import read_artifacts
    from ..environments import resolve_environment

    try:
        from ..publish import export_desired, export_live
    except ImportError:
        raise UsageError("`--live` needs lgtm_dash.publish, which this installation lacks") from None
    desired = read_artifacts(out_dir)
    if env_name and desired.env and desired.env != env_name:
        raise UsageError(
            f"{out_dir} was built for environment {desired.env!r}, not {env_name!r}: "
            f"run `{build_hint(env_name)}` and pass that directory as --out"
        )
    env = resolve_environment(project, env_name or desired.env)
    export_live(env, scratch / "live", artifacts=desired, secrets=secrets, retry=retry, timeout=timeout)
    export_desired(desired, scratch / "desired")
    live, normalised = read_artifacts(scratch / "live"), read_artifacts(scratch / "desired")
    normalised.sourcemap = desired.sourcemap  # so every change still points at its Python line
    return live, normalised
