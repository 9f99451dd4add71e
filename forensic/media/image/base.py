"""Shared base of the image describers."""

from __future__ import annotations

from pathlib import Path

from forensic.media.interface import MediaDescriber
from forensic.mediatype import sniff

IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/heic",
        "image/heif",
        "image/avif",
        "image/webp",
        "image/tiff",
        "image/gif",
    }
)
SNIFF_BYTES = 8192


def head_of(path: Path, n: int = SNIFF_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


class ImageDescriber(MediaDescriber):
    """Applies to the image types named in :data:`IMAGE_TYPES` (by magic bytes)."""

    types: frozenset[str] = IMAGE_TYPES

    def accepts(self, media_type: str, head: bytes) -> bool:
        return media_type in self.types

    @staticmethod
    def media_type_of(path: Path) -> str:
        return sniff(head_of(path))
