"""The one way YAML is read and written.

Written: deterministic and review-friendly (insertion order kept, multi-line strings as `|` blocks).
Read: safe types only, within `lgtm_dash.limits` (nesting depth, alias expansion), whatever the source:
environments.yaml, catalog.yaml, out/, rule files given to lint, a server's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError
from .limits import YAMLLimitError, check_yaml_node, max_yaml_nodes


# libyaml's emitter when PyYAML was built with it: the same text, several times faster on large rule files.
# (A base class chosen at run time, which mypy cannot check.)
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
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
    assert root is not None  # `text` is one dumped document
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
    """Parse one YAML document (safe types only); beyond the limits, a `yaml.YAMLError` like any bad YAML."""
    documents = load_yaml_documents(text)
    if len(documents) > 1:
        raise yaml.composer.ComposerError(
            "expected a single document in the stream",
            documents[0][0].start_mark,
            "but found another document",
            documents[1][0].start_mark,
        )
    return documents[0][1] if documents else None


def load_yaml_documents(text: str, *, construct: bool = True) -> list[tuple[yaml.Node, Any]]:
    """Every document of a YAML stream as (node, data): the nodes carry the line of each part.

    Without `construct` the data are None and the nodes are as written (constructing a value merges `<<:`
    keys into its node).
    """
    budget = max_yaml_nodes(len(text))
    loader = _FAST_LOADER(text)
    documents: list[tuple[yaml.Node, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said a document follows
            budget = check_yaml_node(node, budget)  # before anything builds or walks the data
            documents.append((node, loader.construct_document(node) if construct else None))
    except RecursionError:  # the pure-Python parser (PyYAML without libyaml) recurses per nesting level
        raise YAMLLimitError(problem="nested too deeply") from None
    finally:
        loader.dispose()
    return documents


def load_yaml_file(path: Path) -> object:
    """Parse a YAML file; a syntax error becomes a one-line `file:line` error."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        raise DefinitionError(f"invalid YAML: {err.problem or err}", f"{path}:{line}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise DefinitionError(f"cannot read YAML: {err}", path) from None


def load_documents(
    path: Path, shown: str | None = None, *, construct: bool = True
) -> list[tuple[yaml.Node, Any]]:
    """Every YAML document of a file as (node, value) (see `parse_documents`)."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read: {' '.join(str(err).split())}", shown) from None
    return parse_documents(text, shown, construct=construct)


def parse_documents(text: str, shown: str, *, construct: bool = True) -> list[tuple[yaml.Node, Any]]:
    """Every YAML document of `text` as (node, value); bad YAML, or YAML beyond the limits, is a one-line
    `DefinitionError` naming `shown` and the line."""
    try:
        return load_yaml_documents(text, construct=construct)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise DefinitionError(
            f"invalid YAML: {err.problem or err}", f"{shown}:{mark.line + 1 if mark else 0}"
        ) from None
    except yaml.YAMLError as err:
        raise DefinitionError(f"invalid YAML: {' '.join(str(err).split())}", shown) from None


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
        documents = load_yaml_documents(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return lines
    if documents:
        walk(documents[0][0], ())
    return lines
