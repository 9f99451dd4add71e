"""One interface for every kind of capture source (files and folders now; chat exports, web
pages and the screen later): a source turns what the user named into a plan of items."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NewType

GroupId = NewType("GroupId", str)

ItemKind = Literal["file", "symlink", "skipped", "failed"]


@dataclass(frozen=True)
class PlannedItem:
    """One thing a source found: a file to acquire, a link to record, or a thing to skip."""

    path: bytes
    kind: ItemKind
    relpath: bytes | None = None
    group: GroupId | None = None
    size: int = 0
    link_target: bytes | None = None
    followed_link: bytes | None = None
    reason: str | None = None
    reason_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CaptureGroup:
    """Items captured together (a folder, a chat export, a web page, a screen)."""

    group_id: GroupId
    kind: str
    root: bytes
    details: dict[str, Any]


class Source(ABC):
    """A kind of capture source."""

    kind: str

    @classmethod
    @abstractmethod
    def detect(cls, path: bytes) -> bool:
        """Whether this source understands ``path``."""

    @abstractmethod
    def groups(self) -> list[CaptureGroup]:
        """Capture groups this source opens (recorded before its items)."""

    @abstractmethod
    def plan(self) -> Iterator[PlannedItem]:
        """The items to acquire, skip or record, in a stable order."""
