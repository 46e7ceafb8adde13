"""Grafana folders (nested folders allowed through `parent`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DefinitionError
from ..source import SourceLocation, caller_location
from .uid import check_uid

RESERVED_UIDS = {"general"}


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str
    parent: Folder | None = None
    location: SourceLocation = field(default_factory=caller_location, compare=False)

    def __post_init__(self) -> None:
        check_uid(self.uid, f"folder {self.title!r}", self.location)
        if self.uid in RESERVED_UIDS:
            raise DefinitionError(f"folder uid {self.uid!r} is reserved by Grafana", self.location)
        if not self.title.strip():
            raise DefinitionError(f"folder {self.uid!r} needs a title", self.location)

    def lineage(self) -> list[Folder]:
        """This folder's ancestors and itself, root first."""
        chain: list[Folder] = []
        node: Folder | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def to_dict(self) -> dict[str, str]:
        data = {"uid": self.uid, "title": self.title}
        if self.parent:
            data["parentUid"] = self.parent.uid
        return data
