"""Helpers for the media tests: capture + analyze through the CLI, generated bad inputs."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from tests.conftest import Cli


def capture(cli: Cli, case_dir: Path, *paths: Path) -> dict[str, str]:
    """Capture through the CLI; returns {source path: sha256}."""
    res = cli("capture", "--case", case_dir, "--json", *paths)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    return {a["path"]: a["sha256"] for a in doc["acquired"]}


def analyze(cli: Cli, case_dir: Path, *args: str) -> dict[str, dict[str, Any]]:
    """``analyze --metadata --json``; returns {sha256: record}.

    Capture already describes new images and videos, so without named items every item is
    described again (``--all``): the records must come out the same.
    """
    res = cli("analyze", "--metadata", "--case", case_dir, "--json", *(args or ("--all",)))
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["ok"] is True
    return {m["record"]["item"]["sha256"]: m["record"] for m in doc["metadata"]}


def jpeg_bytes(
    size: tuple[int, int] = (48, 32), quality: int = 90, colour: Any = (90, 120, 200)
) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """A JPEG with one more APPn segment right after SOI."""
    return (
        jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]
    )


def ifd(entries: list[tuple[int, int, int, int]], next_off: int) -> bytes:
    out = struct.pack("<H", len(entries))
    for tag, typ, cnt, val in entries:
        out += struct.pack("<HHII", tag, typ, cnt, val)
    return out + struct.pack("<I", next_off)


def exif_loop_jpeg() -> bytes:
    make = b"LoopCam\x00"
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += ifd([(0x010F, 2, len(make), 8 + 2 + 24 + 4), (0x8769, 4, 1, 8)], 8) + make
    return with_segment(jpeg_bytes(), 0xE1, b"Exif\x00\x00" + tiff)


def exif_absurd_jpeg() -> bytes:
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += ifd([(0x010F, 2, 200, 0x7FFFFFF0), (0x8769, 4, 1, 0xFFFFFF00)], 0xFFFFFFF0)
    return with_segment(jpeg_bytes(), 0xE1, b"Exif\x00\x00" + tiff)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(texts: dict[str, str] | None = None, itxt: dict[str, bytes] | None = None) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (texts or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG", pnginfo=info)
    data = buf.getvalue()
    for k, v in (itxt or {}).items():
        chunk = png_chunk(b"iTXt", k.encode() + b"\x00\x00\x00\x00\x00" + v)
        data = data[:33] + chunk + data[33:]  # right after IHDR
    return data


def xmp_packet(body: str) -> bytes:
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'{body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def face_composite(
    face_photo: Path,
    box: tuple[int, int, int, int],
    background: Path,
    at: tuple[int, int],
    scale: float,
    dest: Path,
    quality: int = 85,
) -> Path:
    """A real face pasted into another real photo: the face box grown by half on every side,
    rescaled by ``scale``, pasted at ``at``, the whole saved as JPEG (a generated
    face-swap-like composite of two real photos)."""
    from PIL import Image, ImageOps

    with Image.open(face_photo) as im:
        src = (ImageOps.exif_transpose(im) or im).convert("RGB")
    x, y, w, h = box
    g = w // 2
    part = src.crop((max(0, x - g), max(0, y - g), x + w + g, y + h + g))
    part = part.resize((round(part.width * scale), round(part.height * scale)))
    with Image.open(background) as im:
        canvas = im.convert("RGB")
    canvas.paste(part, at)
    canvas.save(dest, "JPEG", quality=quality)
    return dest
