"""Python source for the generated modules: calls that can be both evaluated and written out.

The importer builds each module as a tree of `Call`s and `Name`s around plain values. Evaluating the tree
gives the objects the module will create, so the importer can check, before writing a line, that the code
builds exactly the dashboard it imports; rendering it gives the source. `ruff format` then lays it out like
the rest of the project (and `ruff check --select I --fix` orders the imports as the project's config says).
"""

from __future__ import annotations

import json
import keyword
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LgtmError

LINE_LENGTH = 110


@dataclass(frozen=True)
class Name:
    """A module-level name (a constant or an imported object) standing for `value`."""

    name: str
    value: Any


@dataclass(frozen=True)
class Attr:
    """`base.attr(*args)`: e.g. `prometheus.ref()` for an imported datasource object."""

    base: Name
    attr: str
    value: Any


@dataclass
class Call:
    """`fn(*args, **kwargs)`; `fn` is the real function, so the call can be evaluated."""

    fn: Callable[..., Any]
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None  # how the source spells `fn` (default: its __name__)

    @property
    def spelled(self) -> str:
        return self.name or self.fn.__name__


def evaluate(value: Any) -> Any:
    if isinstance(value, Call):
        return value.fn(
            *(evaluate(a) for a in value.args), **{k: evaluate(v) for k, v in value.kwargs.items()}
        )
    if isinstance(value, Name | Attr):
        return value.value
    if isinstance(value, list):
        return [evaluate(v) for v in value]
    if isinstance(value, tuple):
        return tuple(evaluate(v) for v in value)
    if isinstance(value, dict):
        return {k: evaluate(v) for k, v in value.items()}
    return value


def string(text: str) -> str:
    """A Python literal for `text`: a triple-quoted block for readable multi-line queries when that is exact."""
    if "\n" in text and _block_safe(text):
        return '"""' + text + '"""'
    return json.dumps(text, ensure_ascii=False)


def _block_safe(text: str) -> bool:
    """A triple-quoted block says `text` exactly and passes ruff (no trailing spaces, no tabs)."""
    if '"""' in text or "\\" in text or text.endswith('"') or text.startswith('"'):
        return False
    if any(line != line.rstrip(" \t\f\v") for line in text.split("\n")):
        return False
    return all(
        ch == "\n" or (ord(ch) >= 32 and ord(ch) != 127 and not 0x2028 <= ord(ch) <= 0x2029) for ch in text
    )


def is_identifier(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def render(value: Any) -> str:
    """One-line source of `value` (ruff format breaks it into lines afterwards)."""
    if isinstance(value, Call):
        parts = [render(a) for a in value.args]
        plain = {k: v for k, v in value.kwargs.items() if is_identifier(k)}
        odd = {k: v for k, v in value.kwargs.items() if not is_identifier(k)}
        parts += [f"{k}={render(v)}" for k, v in plain.items()]
        if odd:
            parts.append("**" + render(odd))
        return f"{value.spelled}({', '.join(parts)})"
    if isinstance(value, Name):
        return value.name
    if isinstance(value, Attr):
        return f"{value.base.name}.{value.attr}()"
    if isinstance(value, str):
        return string(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"cannot write {type(value).__name__} as Python source")


def imports_of(value: Any, found: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """`{module: {names}}` every Call in `value` needs."""
    found = {} if found is None else found
    if isinstance(value, Call):
        found.setdefault(value.fn.__module__, set()).add(value.spelled)
        for item in [*value.args, *value.kwargs.values()]:
            imports_of(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            imports_of(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            imports_of(item, found)
    return found


def ruff_command() -> list[str]:
    return [sys.executable, "-m", "ruff"]


def format_sources(sources: Mapping[Path, str], root: Path) -> dict[Path, str]:
    """The modules as the project's ruff lays them out: imports sorted, then `ruff format`.

    They are written to a scratch directory inside the project `root`, so ruff finds the project's
    configuration and tells its first-party packages (dashboards, datasources) from the toolkit; two ruff
    runs format them all.
    """
    if not sources:
        return {}
    scratch = Path(tempfile.mkdtemp(prefix=".lgtm-dash-import-", dir=root))
    try:
        staged: dict[Path, Path] = {}
        for index, (path, text) in enumerate(sources.items()):
            rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
            copy = scratch / str(index) / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(text, encoding="utf-8")
            staged[path] = copy
        files = [str(p) for p in staged.values()]
        first_party = "lint.isort.known-first-party = ['datasources', 'dashboards', 'alerts']"
        _ruff(["check", "--select", "I", "--fix-only", "--exit-zero", "--config", first_party, *files], root)
        _ruff(["format", *files], root)
        return {path: copy.read_text(encoding="utf-8") for path, copy in staged.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _ruff(args: list[str], root: Path) -> None:
    command = [*ruff_command(), *args[:1], "--line-length", str(LINE_LENGTH), *args[1:]]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise LgtmError(f"cannot run ruff to format the generated modules: {err}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise LgtmError(
            f"ruff could not format the generated modules: {detail[-1] if detail else result.returncode}"
        )
