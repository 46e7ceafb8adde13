"""What an incremental build may reuse: content fingerprints, the project's import graph, the cache on disk.

A definition module's cache key is the content of everything its output can depend on: its own source, the
source of every project module it imports (transitively: `dashboards/_common.py`, `datasources/*`, another
dashboard it links to, package `__init__`s), the other files of the definition folders (a template an alert
module reads), the environment (environments.yaml and its name), and the toolkit itself (its code and the
versions of the libraries that shape the output). Imports are read from the source (`import` and `from`
statements, wherever they stand), so a key never depends on what a previous run happened to execute.

The cache lives in `<project>/.lgtm-dash-cache/` (gitignored, safe to delete): one state file per output
directory and environment, replaced atomically. Files in out/ are recognised by their content digest; a stat
index (size, times, inode) spares reading those that did not change since the last run, as git's index does.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

CACHE_DIR = ".lgtm-dash-cache"
# Bumped when the layout of the state files changes: an older state is then simply not used.
STATE_FORMAT = 1
# State files kept per kind (`build`, `lint`): one per output directory and environment used.
STATES_KEPT = 8
TOOLKIT_DIR = Path(__file__).resolve().parent
TOOLKIT_SUFFIXES = (".py", ".lark", ".tmpl", ".yaml", ".j2", ".css")
# Libraries whose behaviour shapes compiled output or lint findings.
LIBRARIES = ("grafanalib", "attrs", "orjson", "PyYAML", "promql-parser", "sqlglot", "lark")
DEFINITION_PACKAGES = ("datasources", "dashboards", "alerts")


def digest(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def combine(parts: Iterable[str]) -> str:
    return digest("\0".join(parts))


@functools.cache
def toolkit_fingerprint() -> str:
    """The toolkit's own files and the versions of the libraries it builds and lints with."""
    parts = [sys.version]
    for library in LIBRARIES:
        try:
            parts.append(f"{library}=={metadata.version(library)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{library} absent")
    for path in sorted(TOOLKIT_DIR.rglob("*")):
        if path.suffix in TOOLKIT_SUFFIXES and "__pycache__" not in path.parts:
            parts.append(f"{path.relative_to(TOOLKIT_DIR).as_posix()}:{digest(path.read_bytes())}")
    return combine(parts)


# ------------------------------------------------------------------------------------------ imports


def imported_names(source: bytes, module: str, is_package: bool) -> list[str]:
    """Absolute names of every module an import statement of `source` may load (the module itself, and for
    `from x import y` both `x` and `x.y`, which may be a submodule), relative imports resolved."""
    names: list[str] = []
    for node in _import_nodes(source):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*anchor, *([base] if base else [])])
            if base:
                names.append(base)
            names.extend(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return sorted(set(names))


def _import_nodes(source: bytes) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of a module. Each `import` keyword is found by a plain search and its statement
    parsed on its own (far cheaper than parsing a module of hundreds of lines); when one cannot be placed
    with certainty (`x = 1; import y`, a continued line, the word in a docstring), the whole module is parsed."""
    nodes: list[ast.Import | ast.ImportFrom] = []
    at = source.find(b"import")
    while at >= 0:
        before = source[at - 1 : at] if at else b"\n"
        after = source[at + 6 : at + 7]
        if not (before.isalnum() or before == b"_" or after.isalnum() or after == b"_"):  # the keyword
            line_start = source.rfind(b"\n", 0, at) + 1
            head = source[line_start:at]
            start = _statement_start(source, line_start, head)
            if start is None:
                return _all_import_nodes(source)
            try:
                tree = ast.parse(_statement(source, start).strip())
            except SyntaxError:
                return _all_import_nodes(source)
            nodes.extend(node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))
        at = source.find(b"import", at + 6)
    return iter(nodes)


_FROM_HEAD = re.compile(rb"[ \t]*from[ \t]+[.\w]+[ \t]+$")


def _statement_start(source: bytes, line_start: int, head: bytes) -> int | None:
    """Where the statement holding an `import` keyword (preceded on its line by `head`) starts, when it is
    plainly an import statement on a line of its own."""
    if line_start >= 2 and source[line_start - 2 : line_start - 1] == b"\\":
        return None  # a continued line
    if not head.strip():
        return line_start + len(head)
    if _FROM_HEAD.match(head):
        return line_start + len(head) - len(head.lstrip())
    return None


def _all_import_nodes(source: bytes) -> Iterator[ast.Import | ast.ImportFrom]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return iter(())  # the import of the module fails anyway, and says where
    return (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def _statement(source: bytes, start: int) -> bytes:
    """The text from `start` to the end of its line, continued across an open parenthesis (import lists hold
    no nested ones) and backslash line ends. What follows on the line (`; x = 1`, a comment) parses too."""
    end = start
    while True:
        line_end = source.find(b"\n", end)
        line_end = len(source) if line_end < 0 else line_end
        line = source[end:line_end]
        opening = line.rfind(b"(")
        if opening >= 0 and b")" not in line[opening:]:
            close = source.find(b")", end + opening)
            end = len(source) if close < 0 else close
        elif line.endswith(b"\\") and line_end < len(source):
            end = line_end + 1
        else:
            return source[start:line_end].replace(b"\\\n", b" ")


class ProjectSources:
    """The project's Python files and what each imports, read once per run (imports cached by content)."""

    def __init__(self, root: Path, known_imports: dict[str, list[str]] | None = None):
        self.root = root
        self.imports_by_digest: dict[str, list[str]] = dict(known_imports or {})
        self._digests: dict[str, str | None] = {}
        self._modules: dict[str, str | None] = {}
        self._imports: dict[str, list[str]] = {}
        self._closures: dict[str, tuple[str, ...]] = {}

    def digest_of(self, rel: str) -> str | None:
        if rel not in self._digests:
            try:
                self._digests[rel] = digest((self.root / rel).read_bytes())
            except OSError:
                self._digests[rel] = None
        return self._digests[rel]

    def module_file(self, name: str) -> str | None:
        """The project file that module `name` is loaded from, or None when it is not the project's."""
        if name not in self._modules:
            parts = name.split(".")
            self._modules[name] = None
            if all(part.isidentifier() for part in parts):
                for rel in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
                    if self.digest_of(rel) is not None:
                        self._modules[name] = rel
                        break
        return self._modules[name]

    def imports_of(self, rel: str) -> list[str]:
        """Project files loaded when the module in `rel` runs its imports (their packages' `__init__` too)."""
        if rel not in self._imports:
            self._imports[rel] = self._resolve_imports(rel)
        return self._imports[rel]

    def _resolve_imports(self, rel: str) -> list[str]:
        known = self.digest_of(rel)
        if known is None:
            return []
        names = self.imports_by_digest.get(known)
        if names is None:
            is_package = rel.endswith("/__init__.py")
            module = rel.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
            names = self.imports_by_digest[known] = imported_names(
                (self.root / rel).read_bytes(), module, is_package
            )
        files: set[str] = set()
        for name in names:
            parts = name.split(".")
            for length in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                found = self.module_file(".".join(parts[:length]))
                if found is None:
                    break  # not the project's (nor, then, anything inside it)
                files.add(found)
        return sorted(files)

    def closure(self, rel: str) -> tuple[str, ...]:
        """`rel`, its packages and every project file it imports, directly or not (sorted)."""
        if rel not in self._closures:
            seen: set[str] = set()
            parts = rel.split("/")
            pending = [rel] + [
                "/".join(parts[:n]) + "/__init__.py"
                for n in range(1, len(parts))
                if self.digest_of("/".join(parts[:n]) + "/__init__.py") is not None
            ]
            while pending:
                current = pending.pop()
                if current not in seen:
                    seen.add(current)
                    pending.extend(self.imports_of(current))
            self._closures[rel] = tuple(sorted(seen))
        return self._closures[rel]

    def current_imports(self) -> dict[str, list[str]]:
        """The imports known for the files as they are now (what is worth keeping for the next run)."""
        current = set(self._digests.values())
        return {known: names for known, names in self.imports_by_digest.items() if known in current}

    def data_fingerprint(self) -> str:
        """The files of the definition folders that are not Python (templates, SQL schemas...): a module may
        read any of them, so they count for every module."""
        parts = []
        for package in DEFINITION_PACKAGES:
            folder = self.root / package
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    rel = path.relative_to(self.root)
                    if (
                        path.is_file()
                        and path.suffix not in (".py", ".pyc")
                        and "__pycache__" not in rel.parts
                    ):
                        parts.append(f"{rel.as_posix()}:{digest(path.read_bytes())}")
        return combine(parts)

    def key(self, salt: str, rel: str) -> str:
        """The cache key of definition module `rel`."""
        return combine([salt, rel, *(f"{dep}:{self.digest_of(dep)}" for dep in self.closure(rel))])


# --------------------------------------------------------------------------------------- out/ files


class OutIndex:
    """Content digests of the files of an output directory, with the stat that vouches for each."""

    def __init__(self, root: Path, entries: dict[str, list[Any]] | None = None):
        self.root = root
        self.entries: dict[str, list[Any]] = dict(entries or {})
        self._real_dirs: set[str] = set()

    @staticmethod
    def _stamp(found: os.stat_result) -> list[Any]:
        return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]

    def digest_of(self, rel: str) -> str | None:
        """The digest of out file `rel`; None when it is missing, not a regular file, or reached through a
        symbolic link (such a file is never taken as already in place)."""
        parent = rel.rpartition("/")[0]
        if parent and not self._real_dir(parent):
            return None
        try:
            found_stat = os.lstat(self.root / rel)
        except OSError:
            return None
        if not _is_regular(found_stat):
            return None
        stamp = self._stamp(found_stat)
        known = self.entries.get(rel)
        if known is not None and known[:4] == stamp:
            return known[4]
        try:
            found = digest((self.root / rel).read_bytes())
        except OSError:
            return None
        self.entries[rel] = [*stamp, found]
        return found

    def _real_dir(self, rel: str) -> bool:
        if rel in self._real_dirs:
            return True
        parent = rel.rpartition("/")[0]
        if parent and not self._real_dir(parent):
            return False
        try:
            found_stat = os.lstat(self.root / rel)
        except OSError:
            return False
        if not _is_dir(found_stat):
            return False
        self._real_dirs.add(rel)
        return True

    def written(self, rel: str, text_digest: str) -> None:
        """Record a file just written."""
        try:
            found_stat = os.lstat(self.root / rel)
        except OSError:
            self.entries.pop(rel, None)
            return
        self.entries[rel] = [*self._stamp(found_stat), text_digest]

    def keep_only(self, rels: Iterable[str]) -> None:
        wanted = set(rels)
        self.entries = {rel: entry for rel, entry in self.entries.items() if rel in wanted}


def _is_regular(found: os.stat_result) -> bool:
    return stat.S_ISREG(found.st_mode)


def _is_dir(found: os.stat_result) -> bool:
    return stat.S_ISDIR(found.st_mode)


# ------------------------------------------------------------------------------------------- storage


def state_path(project_root: Path, kind: str, *scope: str) -> Path:
    """Where the state of one kind of run (`build`, `lint`) for one scope (output directory, environment...) is kept."""
    return project_root / CACHE_DIR / f"{kind}-{combine(scope)[:16]}.json"


def read_state(path: Path) -> dict[str, Any]:
    """A state file, or {} when there is none or it cannot be used (a cache is never an error)."""
    try:
        state = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else {}


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace a state file atomically; a cache that cannot be written is only a slower next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# lgtm-dash's build and lint cache: safe to delete, never commit it\n*\n")
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(orjson.dumps({**state, "format": STATE_FORMAT}))
        os.replace(temporary, path)
        _forget_old_states(path)
    except OSError:
        pass


def _forget_old_states(path: Path) -> None:
    """Keep the cache small: the states of the output directories used least recently go first."""
    kind = path.name.split("-", 1)[0]
    states = sorted(path.parent.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[STATES_KEPT:]:
        old.unlink(missing_ok=True)
