"""Where a definition object was written: the Python `file:line` behind every compiled object.

Toolkit constructors call `record()` so that lint findings and build errors can point at the line to edit.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

# Paths are shown relative to the project root being loaded (set by the loader).
_project_root: Path | None = None
# id(obj) -> (obj, location); the object is kept so that its id stays unique while the build runs.
_locations: dict[int, tuple[object, SourceLocation]] = {}
_TOOLKIT_DIR = Path(__file__).resolve().parent
_T = TypeVar("_T")


@dataclass(frozen=True, order=True)
class SourceLocation:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @classmethod
    def parse(cls, text: str) -> SourceLocation:
        file, _, line = text.rpartition(":")
        return cls(file, int(line)) if file and line.isdigit() else cls(text, 0)


def set_project_root(root: Path | None) -> None:
    global _project_root
    _project_root = root.resolve() if root else None
    _shown_by_code.clear()


def project_root() -> Path | None:
    return _project_root


def display_path(path: str | Path) -> str:
    """A path relative to the project root when it lies inside it, else as given."""
    resolved = Path(path).resolve()
    if _project_root is not None:
        try:
            return resolved.relative_to(_project_root).as_posix()
        except ValueError:
            pass
    return str(path)


@functools.lru_cache(maxsize=4096)
def _definition_file(code_filename: str, project_root: Path | None) -> str | None:
    """How a frame's file is shown, or None for toolkit and generated code.

    Cached per file and project root: resolving a path costs several system calls, and every panel,
    target and rule asks for its caller's location.
    """
    # Generated code is skipped too: a dataclass's __init__ runs in "<string>", importlib in "<frozen ...>".
    if code_filename.startswith("<"):
        return None
    filename = Path(code_filename).resolve()
    if _TOOLKIT_DIR in filename.parents:
        return None
    return display_path(filename)


# code object -> how its file is shown (None: toolkit or generated code), for the current project root.
_shown_by_code: dict[object, str | None] = {}


def caller_location() -> SourceLocation:
    """The first stack frame outside the toolkit: the definition line a user wrote."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        try:
            shown = _shown_by_code[code]
        except KeyError:
            shown = _shown_by_code[code] = _definition_file(code.co_filename, _project_root)
        if shown is not None:
            return SourceLocation(shown, frame.f_lineno)
        frame = frame.f_back
    return SourceLocation("<unknown>", 0)


def record(obj: _T, location: SourceLocation | None = None) -> _T:
    """Remember where `obj` was defined (default: the caller's definition line). Returns `obj`."""
    _locations[id(obj)] = (obj, location or caller_location())
    return obj


def location_of(obj: object) -> SourceLocation | None:
    entry = _locations.get(id(obj))
    return entry[1] if entry and entry[0] is obj else None


def clear() -> None:
    _locations.clear()
    _shown_by_code.clear()
