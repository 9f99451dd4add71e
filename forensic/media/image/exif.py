"""EXIF: every tag via exifread, plus normalised key fields (checked against exiftool -n)."""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import exifread

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import file_key, read_jpeg, read_png, read_riff
from forensic.media.safe import clean_text, json_safe
from forensic.media.warning_text import warning_text

EXIFREAD_VERSION = str(getattr(exifread, "__version__", "?"))
MAX_TAG_TEXT = 4096
MAX_TIFF_CHECK = 64 * 1024 * 1024


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 50:
            self.messages.append(clean_text(record.getMessage(), 300))


@contextmanager
def _exifread_warnings() -> Iterator[_Collect]:
    logger = logging.getLogger("exifread")
    handler = _Collect()
    old_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate


@dataclass
class ExifData:
    tags: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def thumbnail(self) -> bytes | None:
        value = self.tags.get("JPEGThumbnail")
        return bytes(value) if isinstance(value, bytes | bytearray) and value else None


def _tiff_payload(path: Path, media_type: str) -> tuple[bytes | None, str | None, list[str]]:
    """The TIFF-structured EXIF block of a container, and where it was found."""
    if media_type == "image/jpeg":
        jpeg = read_jpeg(path)
        for seg in jpeg.app(0xE1, b"Exif\x00"):
            return seg.data[6:], f"JPEG APP1 at byte {seg.offset}", []
        return None, None, []
    if media_type == "image/png":
        png = read_png(path)
        for chunk in png.chunks:
            if chunk.kind == "eXIf":
                data = chunk.data
                return (data[6:] if data.startswith(b"Exif\x00") else data), "PNG eXIf", []
        return None, None, []
    if media_type == "image/webp":
        chunks, warnings = read_riff(path, frozenset({"EXIF"}))
        for c in chunks:
            if c.kind == "EXIF":
                data = c.data
                return (data[6:] if data.startswith(b"Exif\x00") else data), "WebP EXIF", warnings
        return None, None, warnings
    return None, None, []


def read_exif(path: Path, media_type: str) -> ExifData:
    """:func:`parse_exif`, remembered for the last file (several describers use it)."""
    return _parsed_exif(file_key(path), media_type)


@lru_cache(maxsize=1)
def _parsed_exif(key: tuple[str, int, int, int], media_type: str) -> ExifData:
    return parse_exif(Path(key[0]), media_type)


def parse_exif(path: Path, media_type: str) -> ExifData:
    """All EXIF tags (exifread's names); never raises for malformed input."""
    out = ExifData()
    try:
        payload, source, warns = _tiff_payload(path, media_type)
        out.warnings.extend(warns)
        with _exifread_warnings() as collected:
            if payload is not None:
                out.source = source
                if not payload.startswith((b"II*\x00", b"MM\x00*")):
                    out.warnings.append(warning_text("exif_no_tiff_header", source=source))
                    return out
                out.warnings.extend(check_tiff_structure(payload))
                tags = exifread.process_file(io.BytesIO(payload), details=True)
            elif media_type in ("image/tiff", "image/heic", "image/heif", "image/avif"):
                out.source = media_type.split("/")[1].upper()
                with path.open("rb") as fh:
                    if media_type == "image/tiff":
                        out.warnings.extend(check_tiff_structure(fh.read(MAX_TIFF_CHECK)))
                        fh.seek(0)
                    tags = exifread.process_file(fh, details=True)
            else:
                tags = {}
        out.tags = dict(tags or {})
        out.warnings.extend(f"exifread: {m}" for m in collected.messages)
    except Exception as exc:  # exifread raises many types on malformed input
        out.warnings.append(warning_text("exif_unreadable", reason=f"{type(exc).__name__}: {exc}"))
    return out


TYPE_SIZES = MappingProxyType(
    {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
)
SUB_IFDS = MappingProxyType(
    {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interoperability", 0x014A: "SubIFD"}
)
MAX_IFDS = 64


def check_tiff_structure(tiff: bytes) -> list[str]:
    """Structural problems of a TIFF/EXIF block: offsets past its end, IFD loops, bad headers.

    exifread skips such damage silently; the record must say what could not be read.
    """
    problems: list[str] = []
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return ["EXIF block has no valid TIFF header"]
    end = "<" if tiff[:2] == b"II" else ">"
    size = len(tiff)
    first = struct.unpack(end + "I", tiff[4:8])[0]
    queue: list[tuple[str, int]] = [("IFD0", first)]
    seen: set[int] = set()
    n = 0
    while queue and n < MAX_IFDS:
        name, off = queue.pop(0)
        n += 1
        if off == 0:
            continue
        if off in seen:
            problems.append(f"EXIF {name} at offset {off} was already read: IFD loop, not followed")
            continue
        seen.add(off)
        if off + 2 > size:
            problems.append(
                f"EXIF {name} offset {off} lies beyond the end of the EXIF block ({size} bytes)"
            )
            continue
        count = struct.unpack(end + "H", tiff[off : off + 2])[0]
        if off + 2 + 12 * count + 4 > size:
            problems.append(
                f"EXIF {name} at offset {off} claims {count} entries past the block end"
            )
            count = max(0, (size - off - 6) // 12)
        for i in range(count):
            base = off + 2 + 12 * i
            tag, typ, cnt, val = struct.unpack(end + "HHII", tiff[base : base + 12])
            length = TYPE_SIZES.get(typ, 1) * cnt
            if length > 4 and val + length > size:
                problems.append(
                    f"EXIF {name} tag 0x{tag:04X}: value at offset {val} ({length} bytes) lies "
                    f"beyond the end of the EXIF block ({size} bytes); not readable"
                )
            if tag in SUB_IFDS and typ in (4, 13) and cnt >= 1:
                queue.append((SUB_IFDS[tag], val))
        next_base = off + 2 + 12 * count
        if next_base + 4 <= size and name in ("IFD0", "IFD1"):
            nxt = struct.unpack(end + "I", tiff[next_base : next_base + 4])[0]
            if nxt:
                queue.append(("IFD1" if name == "IFD0" else "IFD2", nxt))
    if queue:
        problems.append(f"EXIF has more than {MAX_IFDS} IFDs; the rest was not read")
    return problems[:50]


def _values(tags: dict[str, Any], name: str) -> list[Any] | None:
    tag = tags.get(name)
    if tag is None:
        return None
    values = getattr(tag, "values", None)
    if isinstance(values, list | tuple):
        return list(values)
    return [values]


def _text(tags: dict[str, Any], name: str) -> str | None:
    tag = tags.get(name)
    if tag is None:
        return None
    values = getattr(tag, "values", None)
    if isinstance(values, str):
        text = values
    elif isinstance(values, bytes):
        text = values.decode("utf-8", "replace")
    else:
        text = str(getattr(tag, "printable", ""))
    text = clean_text(text.split("\x00")[0], 1024).strip()
    return text or None


def _number(value: Any) -> float | None:
    try:
        num, den = getattr(value, "num", None), getattr(value, "den", None)
        if num is not None and den is not None:
            return None if den == 0 else float(num) / float(den)
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _gps_coordinate(tags: dict[str, Any], axis: str) -> float | None:
    parts = _values(tags, f"GPS GPS{axis}")
    if not parts:
        return None
    nums = [_number(p) for p in parts[:3]]
    if any(n is None for n in nums):
        return None
    degrees = 0.0
    for n, scale in zip(nums, (1.0, 60.0, 3600.0), strict=False):
        assert n is not None
        degrees += n / scale
    ref = (_text(tags, f"GPS GPS{axis}Ref") or "").upper()[:1]
    if ref in ("S", "W"):
        degrees = -degrees
    return round(degrees, 8)


def user_comment(tags: dict[str, Any]) -> str | None:
    """EXIF UserComment decoded by its 8-byte character-code prefix."""
    values = _values(tags, "EXIF UserComment")
    if not values:
        return None
    try:
        raw = bytes(v & 0xFF if isinstance(v, int) else 0 for v in values)
    except TypeError:
        return _text(tags, "EXIF UserComment")
    code, body = raw[:8], raw[8:]
    if code.startswith(b"UNICODE"):
        enc = "utf-16-be" if body[:2] != b"\xff\xfe" and body[1:2] != b"\x00" else "utf-16-le"
        text = body.decode(enc, "replace")
    elif code.startswith(b"JIS"):
        text = body.decode("shift_jis", "replace")
    else:
        text = body.decode("utf-8", "replace")
    text = clean_text(text.replace("\x00", ""), 65536)
    return text or None


def normalise(tags: dict[str, Any]) -> dict[str, Any]:
    """Key fields, named and valued as ``exiftool -n`` reports them."""
    orientation = _values(tags, "Image Orientation")
    altitude = _values(tags, "GPS GPSAltitude")
    alt = _number(altitude[0]) if altitude else None
    alt_ref = _values(tags, "GPS GPSAltitudeRef")
    if alt is not None and alt_ref and alt_ref[0] == 1:
        alt = -alt
    fields = {
        "make": _text(tags, "Image Make"),
        "model": _text(tags, "Image Model"),
        "software": _text(tags, "Image Software"),
        "datetime_original": _text(tags, "EXIF DateTimeOriginal"),
        "offset_time_original": _text(tags, "EXIF OffsetTimeOriginal"),
        "datetime": _text(tags, "Image DateTime"),
        "gps_latitude": _gps_coordinate(tags, "Latitude"),
        "gps_longitude": _gps_coordinate(tags, "Longitude"),
        "gps_altitude": round(alt, 3) if alt is not None else None,
        "orientation": orientation[0] if orientation and isinstance(orientation[0], int) else None,
        "lens_make": _text(tags, "EXIF LensMake"),
        "lens_model": _text(tags, "EXIF LensModel"),
        "body_serial": _text(tags, "EXIF BodySerialNumber"),
        "artist": _text(tags, "Image Artist"),
        "copyright": _text(tags, "Image Copyright"),
        "image_description": _text(tags, "Image ImageDescription"),
        "user_comment": user_comment(tags),
    }
    stamp, offset = fields["datetime_original"], fields["offset_time_original"]
    if isinstance(stamp, str) and isinstance(offset, str):
        fields["datetime_original_iso"] = _iso(stamp, offset)
    return {k: v for k, v in fields.items() if v is not None}


def _iso(stamp: str, offset: str) -> str | None:
    """``2019:05:01 12:00:00`` + ``+09:00`` → ``2019-05-01T12:00:00+09:00``."""
    if len(stamp) < 19 or len(offset) != 6:
        return None
    return stamp[:10].replace(":", "-") + "T" + stamp[11:19] + offset


def all_tags(tags: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, tag in tags.items():
        if name in ("JPEGThumbnail", "TIFFThumbnail") or name == "EXIF MakerNote":
            continue
        if name == "EXIF UserComment":
            out[name] = user_comment(tags) or ""
            continue
        out[name] = clean_text(str(getattr(tag, "printable", tag)), MAX_TAG_TEXT)
    return out


class ExifDescriber(ImageDescriber):
    name = "exif"
    version = "1"

    def libraries(self) -> dict[str, str]:
        return {"exifread": EXIFREAD_VERSION}

    def describe(self, path: Path) -> dict[str, Any]:
        data = read_exif(path, self.media_type_of(path))
        result: dict[str, Any] = {
            "present": bool(data.tags),
            "source": data.source,
            "fields": normalise(data.tags),
            "tags": all_tags(data.tags),
            "maker_note": "EXIF MakerNote" in data.tags
            or any(k.startswith("MakerNote ") for k in data.tags),
            "warnings": data.warnings,
        }
        return dict(json_safe(result))
