"""The pluggable describer interface: one describer per kind of metadata.

A describer says whether it applies to an item (by the media type sniffed from magic bytes and
the first bytes of the file, never by the file name) and describes the file as a JSON-safe
dictionary. It must never raise for bad input: what it could not read becomes a line in
``warnings``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any


class MediaDescriber(ABC):
    """Extracts one kind of metadata from a media file."""

    #: short stable identifier, the key of this describer's section in the record
    name: str = ""
    #: version of the describer's own logic (bump when its output changes)
    version: str = "1"

    @abstractmethod
    def accepts(self, media_type: str, head: bytes) -> bool:
        """True when this describer applies to a file of ``media_type`` starting with ``head``."""

    @abstractmethod
    def describe(self, path: Path) -> dict[str, Any]:
        """A JSON-safe dictionary with at least ``warnings: list[str]``; never raises for
        malformed input."""

    def libraries(self) -> dict[str, str]:
        """Third-party library versions this describer relies on (recorded with its output)."""
        return {}
