"""Folder nesting, computed once per tree and cycle-safe.

Publish creates parents before children and deletes children before parents, so it needs each folder's
depth; dashboards record the lgtm-dash folders above them. A cycle through `parentUid` in out/'s
folders.yaml is bad input (exit 2, naming the file), never a recursion error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import artifacts as layout
from ..artifacts import Artifacts
from ..errors import DefinitionError


class FolderCycle(ValueError):
    """Folders whose parents loop; `cycle` lists the uids around the loop."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = cycle


@dataclass(frozen=True)
class FolderTree:
    """Folders by uid with their parent uid ("" for the top level); parents outside the tree are roots."""

    parents: Mapping[str, str]

    @classmethod
    def of(cls, folders: Iterable[Mapping[str, Any]]) -> FolderTree:
        return cls({str(f["uid"]): str(f.get("parentUid") or "") for f in folders})

    @cached_property
    def depths(self) -> dict[str, int]:
        """Nesting level of each folder (a top-level folder is 1); FolderCycle when parents loop."""
        depths: dict[str, int] = {}
        for start in self.parents:
            path: list[str] = []
            node = start
            while node in self.parents and node not in depths:
                if node in path:
                    raise FolderCycle([*path[path.index(node) :], node])
                path.append(node)
                node = self.parents[node]
            level = depths.get(node, 0)
            for uid in reversed(path):
                level += 1
                depths[uid] = level
        return depths

    def chain(self, uid: str) -> list[str]:
        """`uid` and its ancestors inside the tree, innermost first (empty when `uid` is not in it)."""
        self.depths  # noqa: B018 - a cycle raises here, before walking it
        found: list[str] = []
        while uid in self.parents:
            found.append(uid)
            uid = self.parents[uid]
        return found


def desired_tree(arts: Artifacts) -> FolderTree:
    """out/'s folders; a cycle among them is bad input naming the file."""
    tree = FolderTree.of(arts.folders)
    try:
        tree.depths  # noqa: B018
    except FolderCycle as err:
        raise DefinitionError(
            f"folders form a cycle through parentUid: {err}", str(arts.root / layout.FOLDERS)
        ) from None
    return tree
