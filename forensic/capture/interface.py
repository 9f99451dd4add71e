"""One interface for every kind of capture source (files and folders now; chat exports, web
pages and the screen later): a source turns what the user named into a plan of items."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass(frozen=True)
class AcquiredRef:
    """One file of a group as it now lies in the store (what derived artefacts are built from)."""

    sha256: str
    size: int
    object_path: Path


@dataclass(frozen=True)
class DeriveContext:
    """What a source gets to build derived artefacts (a transcript) after its files are stored."""

    group_id: GroupId
    root: bytes
    acquired: Mapping[bytes, AcquiredRef]
    not_acquired: Mapping[bytes, str]
    scratch: Path
    timezone: str
    timezone_from: str
    tool: dict[str, str]
    recipients: tuple[str, ...] = ()
    """Encrypted case: age recipients the derived files are encrypted to (never plaintext)."""


@dataclass(frozen=True)
class DerivedArtefact:
    """A case file a source wrote (to ``temp``, synced) for the engine to move and vouch for."""

    action: str
    subject: str
    area: str
    name: str
    temp: Path
    details: dict[str, Any]


@dataclass
class DeriveResult:
    artefacts: list[DerivedArtefact] = field(default_factory=list)
    problems: list[PlannedItem] = field(default_factory=list)


class DerivingSource(Source):
    """A source whose stored files yield derived data (chat exports: a normalised transcript)."""

    @abstractmethod
    def derive(self, ctx: DeriveContext) -> DeriveResult:
        """Build derived artefacts from the stored copies (never from the originals)."""
