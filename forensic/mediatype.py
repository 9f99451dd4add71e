"""Type by magic bytes, never by the file name's extension (shared by capture and media)."""

from __future__ import annotations

import filetype

DETECTOR = f"magic bytes (filetype {getattr(filetype, '__version__', '?')})"

_EXTRA_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)


def sniff(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    for magic, mime in _EXTRA_MAGIC:
        if head.startswith(magic):
            return mime
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the sniff boundary is still text.
            if exc.start >= len(head) - 3:
                return "text/plain"
    return "application/octet-stream"
