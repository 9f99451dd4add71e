"""ICC colour profile: which profile (its description), class, colour space, creator."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg, read_png, read_riff
from forensic.media.safe import clean_text, json_safe
from forensic.media.warning_text import warning_text


def profile_bytes(path: Path, media_type: str) -> tuple[bytes | None, list[str]]:
    warnings: list[str] = []
    if media_type == "image/jpeg":
        jpeg = read_jpeg(path)
        parts = sorted(
            (
                (s.data[12], s.data[14:])
                for s in jpeg.app(0xE2, b"ICC_PROFILE\x00")
                if len(s.data) > 14
            ),
            key=lambda p: p[0],
        )
        return (b"".join(p[1] for p in parts) if parts else None), warnings
    if media_type == "image/png":
        for chunk in read_png(path).chunks:
            if chunk.kind == "iCCP":
                try:
                    _name, rest = chunk.data.split(b"\x00", 1)
                    return zlib.decompressobj().decompress(rest[1:], 16 << 20), warnings
                except (ValueError, zlib.error) as exc:
                    return None, [f"PNG iCCP chunk cannot be decompressed: {exc}"]
        return None, warnings
    if media_type == "image/webp":
        chunks, warns = read_riff(path, frozenset({"ICCP"}))
        return next((c.data for c in chunks if c.kind == "ICCP"), None), warns
    try:
        from forensic.media.safe import open_image

        im, _reduction = open_image(path)  # the header only: nothing is decoded here
        with im:
            icc = im.info.get("icc_profile")
            return (bytes(icc) if icc else None), warnings
    except Exception as exc:
        return None, [f"ICC profile could not be read: {type(exc).__name__}: {exc}"]


def parse_profile(icc: bytes) -> tuple[dict[str, Any], list[str]]:
    if len(icc) < 132:
        return {}, [f"ICC profile too short ({len(icc)} bytes)"]
    info: dict[str, Any] = {
        "size": len(icc),
        "cmm": clean_text(icc[4:8], 8),
        "version": f"{icc[8]}.{icc[9] >> 4}.{icc[9] & 15}",
        "class": clean_text(icc[12:16], 8),
        "colour_space": clean_text(icc[16:20], 8),
        "creator": clean_text(icc[80:84], 8),
    }
    (count,) = struct.unpack(">I", icc[128:132])
    for n in range(min(count, 200)):
        base = 132 + 12 * n
        if base + 12 > len(icc):
            return info, ["ICC tag table truncated"]
        sig, off, size = struct.unpack(">4sII", icc[base : base + 12])
        if sig not in (b"desc", b"cprt") or off + size > len(icc):
            continue
        data = icc[off : off + size]
        text = _text_tag(data)
        if text:
            info["description" if sig == b"desc" else "copyright"] = text
    return info, []


def _text_tag(data: bytes) -> str | None:
    kind = data[:4]
    if kind == b"desc" and len(data) >= 12:
        (n,) = struct.unpack(">I", data[8:12])
        return clean_text(data[12 : 12 + n].split(b"\x00")[0], 512)
    if kind == b"text":
        return clean_text(data[8:].split(b"\x00")[0], 512)
    if kind == b"mluc" and len(data) >= 28:
        (length, offset) = struct.unpack(">II", data[20:28])
        return clean_text(data[offset : offset + length].decode("utf-16-be", "replace"), 512)
    return None


class IccDescriber(ImageDescriber):
    name = "icc"
    version = "1"

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        info: dict[str, Any] = {}
        try:
            icc, warns = profile_bytes(path, self.media_type_of(path))
            warnings.extend(warns)
            if icc:
                info, warns = parse_profile(icc)
                warnings.extend(warns)
        except OSError as exc:
            warnings.append(warning_text("icc_unreadable", reason=exc.strerror or exc))
        return dict(json_safe({"present": bool(info), "profile": info, "warnings": warnings}))
