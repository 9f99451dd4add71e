"""Generated media for the demo and the tests (never real people); the demo's pipeline is the
use case :func:`forensic.service.demo.run_demo`."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

DEMO_PASSPHRASE = "demo passphrase - not secret"


def encode_rgb_png(width: int, height: int, rows: bytes) -> bytes:
    """An 8-bit RGB PNG from filtered scanlines (a 0 filter byte, then the pixels, per row)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A synthetic RGB PNG (gradients and stripes): deterministic, no people, no library."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            r = (x * 255 // max(1, width - 1) + seed * 37) % 256
            g = (y * 255 // max(1, height - 1) + seed * 91) % 256
            b = 255 if ((x // 8 + y // 8 + seed) % 2) else 40
            rows += bytes((r, g, b))
    return encode_rgb_png(width, height, bytes(rows))


def generate_media(root: Path) -> Path:
    """A small evidence folder like one a victim would save from a group chat."""
    media = root / "media"
    chat = media / "chat-export" / "photos"
    chat.mkdir(parents=True)
    for n in range(1, 6):
        (chat / f"photo_{n:03d}.png").write_bytes(png_bytes(96 + 16 * n, 64 + 8 * n, n))
    (chat / "photo_003_copy.png").write_bytes((chat / "photo_003.png").read_bytes())
    (media / "chat-export" / "messages.txt").write_text(
        "2026-11-20 21:14 [user_a] (사진)\n2026-11-20 21:15 [user_b] 이거 누구야?\n", "utf-8"
    )
    (media / "screenshots").mkdir()
    (media / "screenshots" / "channel-page.png").write_bytes(png_bytes(160, 120, 9))
    (media / "empty-download.bin").write_bytes(b"")
    return media
