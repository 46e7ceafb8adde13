"""Output directories (`build --out`, `configmaps --out`): which may be replaced, and replacing them safely.

A directory is written only when it is new, empty, or ours: ours carries `MARKER`, naming the command that
wrote it. Never `/`, the home directory or the project root, and never through a symbolic link. Files are
first written into a staging directory beside the output (`.<name>.build-*`, same filesystem, so renames are
atomic), under a lock on the parent directory; the next run removes what a killed run left there.

Swapping in:
- a new or empty output directory: one rename of the staged tree;
- a build output (out/): file by file, only those whose content changes (the others keep their modification
  time), files no longer built removed, with a commit file (build.json) taken away first and put back last.
  A run killed in between leaves the marker without build.json: every reader of out/ refuses that
  (`artifacts.read_artifacts`), so the build.json of one run never sits beside artifacts of another;
- a whole directory (configmaps): renamed away, and the staged tree renamed in.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import DefinitionError, UsageError

try:
    import fcntl
except ImportError:  # not POSIX: runs into the same directory are not serialised
    fcntl = None  # type: ignore[assignment]  # (mypy's idiom for an optional module)

MARKER = ".lgtm-dash"
STAGING_INFIX = ".build-"
# Tests kill a run at a named step of the swap (see tests/test_safety.py): `LGTM_DASH_TEST_KILL_AT=<step>`.
KILL_AT_VARIABLE = "LGTM_DASH_TEST_KILL_AT"


def marker_text(command: str) -> str:
    return f"lgtm-dash {command}: written by `lgtm-dash {command}`, which replaces what it wrote here on each run.\n"


def owner(directory: Path) -> str | None:
    """The lgtm-dash command whose marker `directory` carries, or None."""
    try:
        head = (directory / MARKER).read_text(encoding="utf-8").split(":", 1)[0]
    except (OSError, UnicodeDecodeError):
        return None
    return head.removeprefix("lgtm-dash ") if head.startswith("lgtm-dash ") else None


def checked_output_dir(
    path: Path, *, command: str, project_root: Path | None = None, legacy_owned: bool = False
) -> Path:
    """The absolute output directory (never a symlink's target), or a UsageError saying why it is refused.

    `legacy_owned`: the caller recognised the directory as its own output from before markers existed.
    """
    absolute = Path(os.path.abspath(path))
    if absolute.is_symlink():
        raise UsageError(
            f"--out {path} is a symbolic link: lgtm-dash never writes through one (give a real directory)"
        )
    target = absolute.parent.resolve() / absolute.name if absolute.name else absolute
    forbidden = {Path(absolute.anchor): "the filesystem root"}
    with suppress(RuntimeError, KeyError):  # no home directory known: nothing to refuse
        forbidden[Path.home().resolve()] = "your home directory"
    if project_root is not None:
        forbidden[project_root.resolve()] = "the project root"
    for place, what in forbidden.items():
        if target == place:
            raise UsageError(f"--out {path} is {what}: lgtm-dash never replaces it")
    if target.exists():
        if not target.is_dir():
            raise UsageError(f"--out {path} is not a directory")
        mark = owner(target)
        if mark != command and not (mark is None and legacy_owned) and any(target.iterdir()):
            why = (
                f"it was written by `lgtm-dash {mark}`"
                if mark
                else f"it holds files lgtm-dash did not write (it has no {MARKER} marker; if an older "
                "lgtm-dash wrote it, remove it once)"
            )
            raise UsageError(f"--out {path}: {why}; choose an empty or new directory")
    return target


def update_entries(
    files: Mapping[str, str],
    owned: Collection[str],
    target: Path,
    *,
    command: str,
    entries: Iterable[str],
    commit: str,
) -> None:
    """Bring the top-level `entries` of an output directory (already checked) to the files `owned`.

    `files` holds the new text of the owned files that are missing or differ; the other owned files are in
    place already and are not touched (their modification time stays). Files under `entries` that are not
    owned are removed; other entries (e.g. out/k8s of `configmaps`) are left alone. `commit` (owned) is the
    file readers take as the proof of a complete tree: when anything changes it goes first and comes back
    last, so no reader ever sees a mix of two builds.
    """
    if commit not in owned:
        raise ValueError(f"{commit} must be among the files written")
    entries = [entry for entry in entries if entry != commit]
    with _os_errors_reported(target), _staging(target) as staging:
        tree = staging / "tree"
        marker = marker_text(command)
        leftovers = [] if _fresh(target) else _leftovers(target, entries, owned)
        if not target.exists():
            _write_files(tree, {**{rel: _text(files, rel) for rel in owned}, MARKER: marker})
            _checkpoint("staged")
            tree.rename(target)
            _checkpoint("committed")
            return
        if not files and not leftovers:  # every file is in place: nothing to write
            if _read(target / MARKER) != marker:
                _write_files(tree, {MARKER: marker})
                os.replace(tree / MARKER, target / MARKER)
            return
        _write_files(tree, {**files, commit: _text(files, commit, target), MARKER: marker})
        _checkpoint("staged")
        retired = staging / "retired"
        retired.mkdir()
        if _read(target / MARKER) != marker:  # first: an output from before markers is now marked ours
            os.replace(tree / MARKER, target / MARKER)
        _checkpoint("marked")
        _move(target / commit, retired / commit)
        _checkpoint("uncommitted")
        for entry in entries:
            for rel in [rel for rel in leftovers if _entry_of(rel) == entry]:
                _move(target / rel, retired / rel.replace("/", "%"))
            for rel in sorted(rel for rel in files if _entry_of(rel) == entry and rel != commit):
                _make_room(target, rel, retired)
                os.replace(tree / rel, target / rel)
            _prune_empty(target / entry)
            _checkpoint(f"swapped-{entry}")
        os.replace(tree / commit, target / commit)
        _checkpoint("committed")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _entry_of(rel: str) -> str:
    return rel.split("/", 1)[0]


def _text(files: Mapping[str, str], rel: str, target: Path | None = None) -> str:
    """The new text of `rel`, or (when it is in place already) the text it has."""
    if rel in files:
        return files[rel]
    if target is None:
        raise ValueError(f"{rel} is not in place and has no text")
    return (target / rel).read_text(encoding="utf-8")


def _leftovers(target: Path, entries: Iterable[str], owned: Collection[str]) -> list[str]:
    """What lies under `entries` that is not owned: files, and symbolic links (never followed)."""
    owned = set(owned)
    found: list[str] = []
    for entry in entries:
        top = target / entry
        if top.is_symlink() or (top.exists() and not top.is_dir()):
            if entry not in owned:
                found.append(entry)
            continue
        for folder, dirs, names in os.walk(top):
            base = Path(folder).relative_to(target).as_posix()
            for name in [*names, *(d for d in dirs if (Path(folder) / d).is_symlink())]:
                rel = f"{base}/{name}"
                if rel not in owned:
                    found.append(rel)
    return sorted(found)


def _make_room(target: Path, rel: str, retired: Path) -> None:
    """Real directories down to `rel`: a symbolic link or a file in the way is moved aside, never followed;
    so is a directory standing where the file goes."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        path = target.joinpath(*parts[:depth])
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            _move(path, retired / f"{'%'.join(parts[:depth])}.in-the-way")
        if not path.exists():
            path.mkdir()
    final = target.joinpath(*parts)
    if final.is_dir() and not final.is_symlink():
        _move(final, retired / f"{rel.replace('/', '%')}.in-the-way")


def _prune_empty(top: Path) -> None:
    """Remove the directories under `top` (and `top`) left empty by removed files."""
    if top.is_symlink() or not top.is_dir():
        return
    for folder, _dirs, _names in sorted(os.walk(top), key=lambda item: -len(item[0])):
        with suppress(OSError):
            if not any(Path(folder).iterdir()):
                Path(folder).rmdir()


def replace_directory(files: Mapping[str, str], target: Path, *, command: str) -> None:
    """Replace an output directory (already checked) as a whole; a failure before the swap leaves it as it was."""
    with _os_errors_reported(target), _staging(target) as staging:
        tree = staging / "tree"
        _write_files(tree, {**files, MARKER: marker_text(command)})
        if _fresh(target):
            tree.rename(target)
            return
        old = staging / "retired"
        target.rename(old)
        try:
            tree.rename(target)
        except OSError:
            old.rename(target)
            raise


def _fresh(target: Path) -> bool:
    """True when nothing is there yet (an empty directory is removed, to be replaced by one rename)."""
    if not target.exists():
        return True
    if any(target.iterdir()):
        return False
    target.rmdir()
    return True


def _write_files(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        parts = Path(rel).parts
        if Path(rel).is_absolute() or not parts or ".." in parts:
            raise DefinitionError(f"refusing to write {rel!r}: it points outside the output directory")
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _move(source: Path, destination: Path) -> None:
    if source.exists() or source.is_symlink():  # a symlink is moved as a link: never followed
        source.rename(destination)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)  # removes links inside, never what they point to


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A new staging directory beside `target`, held under the parent's lock and removed afterwards."""
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}{STAGING_INFIX}"
    with _locked(target.parent):
        for stale in target.parent.glob(glob.escape(prefix) + "*"):  # left by a killed run: we hold the lock
            _remove(stale)
        staging = target.parent / f"{prefix}{os.getpid()}"
        staging.mkdir()
        try:
            yield staging
        finally:
            _remove(staging)


@contextmanager
def _os_errors_reported(target: Path) -> Iterator[None]:
    """A directory that cannot be written (permissions, a file in the way, a full disk) is the user's to fix."""
    try:
        yield
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        raise UsageError(f"cannot write --out {target}: {err.strerror or err}{where}") from None


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise runs writing beside each other; the kernel releases the lock of a killed run."""
    if fcntl is None:
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _checkpoint(step: str) -> None:
    if os.environ.get(KILL_AT_VARIABLE) == step:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
