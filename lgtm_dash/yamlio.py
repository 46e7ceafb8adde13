"""Deterministic, review-friendly YAML: insertion order kept, multi-line strings as `|` blocks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from .errors import DefinitionError


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: object, comments: Mapping[tuple[str | int, ...], str] | None = None) -> str:
    """`data` as YAML; `comments` puts a comment line above the sequence items at those paths
    (`("groups", 0, "rules", 2)`), indented like the item."""
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False
    )
    if not comments:
        return text
    root = yaml.compose(text, Loader=_FAST_LOADER)
    inserts: dict[int, str] = {}
    for path, comment in comments.items():
        node = root
        for step in path:
            node = (
                dict((k.value, v) for k, v in node.value)[step]
                if isinstance(node, yaml.MappingNode)
                else node.value[step]
            )
        inserts[node.start_mark.line] = " " * max(node.start_mark.column - 2, 0) + comment
    lines = text.splitlines(keepends=True)
    return "".join(f"{inserts[i]}\n{line}" if i in inserts else line for i, line in enumerate(lines))


# libyaml's parser when PyYAML was built with it: several times faster on large rule files.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """Parse YAML text (safe types only)."""
    return yaml.load(text, Loader=_FAST_LOADER)


def load_yaml_file(path: Path) -> object:
    """Parse a YAML file; a syntax error becomes a one-line `file:line` error."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        raise DefinitionError(f"invalid YAML: {err.problem or err}", f"{path}:{line}") from None
    except (OSError, yaml.YAMLError) as err:
        raise DefinitionError(f"cannot read YAML: {err}", path) from None


def key_lines(path: Path) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of every mapping key path in a YAML file, for pointing errors at lines."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                path_ = (*prefix, str(key.value))
                lines[path_] = key.start_mark.line + 1
                walk(value, path_)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*prefix, str(i))] = item.start_mark.line + 1
                walk(item, (*prefix, str(i)))

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
    except (OSError, yaml.YAMLError):
        return lines
    if root is not None:
        walk(root, ())
    return lines
