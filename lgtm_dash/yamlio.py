"""Deterministic, review-friendly YAML: insertion order kept, multi-line strings as `|` blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError


# libyaml's emitter when PyYAML was built with it: the same text, several times faster on large rule files.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: object) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False
    )


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


def load_documents(
    path: Path, shown: str | None = None, *, construct: bool = True
) -> list[tuple[yaml.Node, Any]]:
    """Every YAML document of a file as (node, value): nodes carry the lines errors point at.

    Without `construct` the values are None and the nodes are as written (constructing a value merges `<<:`
    keys into its node). Bad YAML or an unreadable file is a one-line `DefinitionError` naming `shown`
    (default: the path) and the line.
    """
    shown = shown or str(path)
    try:
        loader = _FAST_LOADER(path.read_text(encoding="utf-8"))
        documents: list[tuple[yaml.Node, Any]] = []
        try:
            while loader.check_node():
                node = loader.get_node()
                documents.append((node, loader.construct_document(node) if construct else None))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise DefinitionError(
            f"invalid YAML: {err.problem or err}", f"{shown}:{mark.line + 1 if mark else 0}"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise DefinitionError(f"cannot read: {' '.join(str(err).split())}", shown) from None
    return documents


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
