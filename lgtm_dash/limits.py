"""Bounds on what a YAML or JSON input may make the tool do: nesting depth and YAML alias expansion.

Every YAML read goes through `lgtm_dash.yamlio` and every JSON file through `artifacts.read_json_file`; both
check these bounds before anything walks the data, so a hostile file is bad input (exit 2 naming the file)
rather than a MemoryError or RecursionError. The bounds are far above what real files need: the deepest of
the public dashboards and rule files in the corpora nests 14 levels.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

# Containers inside containers. The code that walks documents recurses, and Python's default recursion limit
# is 1000 frames: 100 levels leave room for a few frames per level.
MAX_NESTING = 100
# A YAML alias makes a node appear again; an "alias bomb" (billion laughs) nests aliases of aliases so that 1 KB
# expands to billions of nodes. Without aliases a document has fewer nodes than bytes (times a small factor for
# empty values), so this bound only ever refuses expansion by aliases.
ALIAS_EXPANSION_BASE = 10_000
ALIAS_EXPANSION_PER_BYTE = 10


class YAMLLimitError(yaml.MarkedYAMLError):
    """A YAML document beyond a bound; a `YAMLError`, so every caller reports it like invalid YAML."""


def max_yaml_nodes(text_length: int) -> int:
    return ALIAS_EXPANSION_BASE + ALIAS_EXPANSION_PER_BYTE * text_length


def check_yaml_node(root: yaml.Node, budget: int) -> int:
    """Refuse a composed YAML document nested too deeply or expanding beyond `budget` nodes.

    Walks the node graph as the constructed data will be walked, an alias counting as a copy of what it
    names (a recursive alias therefore never ends and is refused too). Returns what is left of the budget,
    for the next document of the same file.
    """
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise YAMLLimitError(
                problem="YAML aliases expand this document beyond its size limit (an alias bomb?)",
                problem_mark=node.start_mark,
            )
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            continue
        if depth >= MAX_NESTING and children:
            raise YAMLLimitError(
                problem=f"nested deeper than {MAX_NESTING} levels", problem_mark=node.start_mark
            )
        stack.extend((child, depth + 1) for child in children)
    return budget


def nesting_exceeds(data: Any, limit: int = MAX_NESTING) -> bool:
    """True when parsed JSON-like data nests lists and mappings deeper than `limit`.

    orjson refuses to serialise nesting beyond a fixed depth of its own (`_ORJSON_DEPTH`, measured below):
    the data wrapped in that many lists less `limit` is refused exactly when it nests deeper than `limit`.
    That walk runs in C, at a third of the cost of `_nesting_walk` on dashboards (every out/ dashboard is
    checked whenever lint, diff or publish reads it). What orjson cannot serialise for another reason (an
    integer beyond 64 bits) is walked in Python.
    """
    if not isinstance(data, dict | list):
        return False
    wrappers = _ORJSON_DEPTH - limit
    if wrappers < 0:
        return _nesting_walk(data, limit)
    for _ in range(wrappers):
        data = [data]
    try:
        orjson.dumps(data)
    except orjson.JSONEncodeError as err:
        if "Recursion" in str(err):
            return True
        for _ in range(wrappers):
            data = data[0]
        return _nesting_walk(data, limit)
    return False


def _nesting_walk(data: Any, limit: int) -> bool:
    """`nesting_exceeds` in Python: level by level, without recursion."""
    level = [data] if isinstance(data, dict | list) else []
    depth = 1
    while level:
        if depth > limit:
            return True
        level = [
            child
            for value in level
            for child in (value.values() if type(value) is dict else value)
            if type(child) is dict or type(child) is list
        ]
        depth += 1
    return False


def _deepest_orjson_writes() -> int:
    """The deepest nesting of lists orjson serialises (254 in orjson 3.x), found rather than assumed."""
    low, high = 1, 4096  # low: written; high: refused (or beyond anything worth wrapping)
    while high - low > 1:
        middle = (low + high) // 2
        nested: list[Any] = []
        for _ in range(middle - 1):
            nested = [nested]
        try:
            orjson.dumps(nested)
            low = middle
        except orjson.JSONEncodeError:
            high = middle
    return low


_ORJSON_DEPTH = _deepest_orjson_writes()
