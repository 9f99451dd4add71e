"""Bounded walkers over JPEG segments, PNG chunks and RIFF (WebP) chunks.

They read a file's structure without decoding pixels and without ever trusting a length field
further than the file goes: a damaged structure ends the walk with a warning.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from forensic.media.warning_text import warning_text

#: metadata segments larger than this are not read in full
MAX_SEGMENT_READ = 16 * 1024 * 1024
MAX_SEGMENTS = 10_000

JPEG_MARKER_NAMES = MappingProxyType(
    {
        0xC0: "SOF0",
        0xC1: "SOF1",
        0xC2: "SOF2",
        0xC3: "SOF3",
        0xC4: "DHT",
        0xDB: "DQT",
        0xDD: "DRI",
        0xDA: "SOS",
        0xFE: "COM",
        0xD9: "EOI",
    }
)


@dataclass
class Segment:
    marker: int
    offset: int
    length: int
    data: bytes

    @property
    def name(self) -> str:
        if 0xE0 <= self.marker <= 0xEF:
            return f"APP{self.marker - 0xE0}"
        return JPEG_MARKER_NAMES.get(self.marker, f"0x{self.marker:02X}")


@dataclass
class JpegStructure:
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    has_eoi: bool = False
    trailing_bytes: int = 0
    file_size: int = 0

    def app(self, marker: int, prefix: bytes) -> list[Segment]:
        return [s for s in self.segments if s.marker == marker and s.data.startswith(prefix)]

    def first(self, marker: int) -> Segment | None:
        return next((s for s in self.segments if s.marker == marker), None)


def file_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino)


def read_jpeg(path: Path) -> JpegStructure:
    """:func:`parse_jpeg`, remembered for the last file (several describers read one file)."""
    return _parsed_jpeg(file_key(path))


@lru_cache(maxsize=1)
def _parsed_jpeg(key: tuple[str, int, int, int]) -> JpegStructure:
    return parse_jpeg(Path(key[0]))


def parse_jpeg(path: Path) -> JpegStructure:
    """Header segments up to the first scan, then where the image ends (EOI) and what follows."""
    out = JpegStructure()
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = out.file_size = fh.tell()
        fh.seek(0)
        if fh.read(2) != b"\xff\xd8":
            out.warnings.append(warning_text("jpeg_no_soi"))
            return out
        pos = 2
        scan_start = None
        while len(out.segments) < MAX_SEGMENTS:
            fh.seek(pos)
            b = fh.read(1)
            while b == b"\xff":  # fill bytes
                nxt = fh.read(1)
                if nxt != b"\xff":
                    b = b"\xff" + nxt
                    break
            if len(b) < 2 or b[0] != 0xFF:
                if pos >= size:
                    out.warnings.append(warning_text("jpeg_truncated_no_scan", pos=pos))
                else:
                    out.warnings.append(warning_text("jpeg_broken", pos=pos))
                return out
            marker = b[1]
            pos = fh.tell()
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                continue
            if marker == 0xD9:
                out.has_eoi = True
                out.trailing_bytes = size - pos
                return out
            raw = fh.read(2)
            if len(raw) < 2:
                out.warnings.append(
                    warning_text("jpeg_truncated_in_marker", marker=f"{marker:02X}", pos=pos)
                )
                return out
            (length,) = struct.unpack(">H", raw)
            if length < 2 or pos + length > size:
                out.warnings.append(
                    warning_text(
                        "jpeg_segment_past_end",
                        marker=f"{marker:02X}",
                        pos=pos - 2,
                        length=length,
                        size=size,
                    )
                )
                return out
            data = fh.read(min(length - 2, MAX_SEGMENT_READ))
            out.segments.append(Segment(marker, pos - 2, length, data))
            pos += length
            if marker == 0xDA:
                scan_start = pos
                break
        if scan_start is None:
            out.warnings.append(warning_text("jpeg_too_many_segments"))
            return out
        # Find the end of image: scan from the back for EOI (fast path), else say it is missing.
        tail_len = min(size - scan_start, 1 << 20)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        idx = tail.rfind(b"\xff\xd9")
        if idx < 0:
            out.warnings.append(warning_text("jpeg_no_eoi"))
            return out
        out.has_eoi = True
        out.trailing_bytes = tail_len - idx - 2
    return out


@dataclass
class Chunk:
    kind: str
    offset: int
    length: int
    data: bytes
    crc_ok: bool


@dataclass
class PngStructure:
    chunks: list[Chunk] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    has_iend: bool = False
    trailing_bytes: int = 0
    file_size: int = 0


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KEEP_DATA = frozenset({"tEXt", "zTXt", "iTXt", "eXIf", "iCCP", "IHDR", "tIME", "caBX", "acTL"})


def read_png(path: Path) -> PngStructure:
    """Every chunk's type, place and CRC; payloads only for metadata chunks."""
    out = PngStructure()
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = out.file_size = fh.tell()
        fh.seek(0)
        if size == 0:
            out.warnings.append(warning_text("png_empty"))
            return out
        if fh.read(8) != PNG_SIGNATURE:
            out.warnings.append(warning_text("png_no_signature"))
            return out
        pos = 8
        while len(out.chunks) < 100_000:
            if pos == size:
                out.warnings.append(warning_text("png_no_iend"))
                return out
            head = fh.read(8)
            if len(head) < 8:
                out.warnings.append(warning_text("png_truncated_header", pos=pos))
                return out
            length, kind_raw = struct.unpack(">I4s", head)
            kind = kind_raw.decode("latin-1")
            if not kind.isalpha():
                out.warnings.append(warning_text("png_bad_type", pos=pos, kind=repr(kind_raw)))
                return out
            if pos + 12 + length > size:
                out.warnings.append(
                    warning_text("png_chunk_past_end", kind=kind, pos=pos, length=length, size=size)
                )
                return out
            keep = kind in _KEEP_DATA and length <= MAX_SEGMENT_READ
            if keep:
                data = fh.read(length)
                crc = zlib.crc32(kind_raw + data) & 0xFFFFFFFF
            else:
                data = b""
                fh.seek(length, 1)
                crc = None
            (stored,) = struct.unpack(">I", fh.read(4))
            crc_ok = crc is None or crc == stored
            if not crc_ok:
                out.warnings.append(warning_text("png_crc", kind=kind, pos=pos))
            if kind in _KEEP_DATA and length > MAX_SEGMENT_READ:
                out.warnings.append(
                    warning_text("png_chunk_too_large", kind=kind, pos=pos, length=length)
                )
            out.chunks.append(Chunk(kind, pos, length, data, crc_ok))
            pos += 12 + length
            if kind == "IEND":
                out.has_iend = True
                out.trailing_bytes = size - pos
                return out
    out.warnings.append(warning_text("png_too_many_chunks"))
    return out


@dataclass
class RiffChunk:
    kind: str
    offset: int
    length: int
    data: bytes


def read_riff(path: Path, keep: frozenset[str]) -> tuple[list[RiffChunk], list[str]]:
    """Top-level chunks of a RIFF/WebP file; payloads only for chunk types in ``keep``."""
    chunks: list[RiffChunk] = []
    warnings: list[str] = []
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(0)
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF":
            return chunks, ["not a RIFF file"]
        pos = 12
        while pos + 8 <= size and len(chunks) < 10_000:
            fh.seek(pos)
            kind_raw, length = struct.unpack("<4sI", fh.read(8))
            kind = kind_raw.decode("latin-1")
            if pos + 8 + length > size:
                warnings.append(warning_text("riff_chunk_past_end", kind=repr(kind), pos=pos))
                break
            data = fh.read(length) if kind in keep and length <= MAX_SEGMENT_READ else b""
            chunks.append(RiffChunk(kind, pos, length, data))
            pos += 8 + length + (length & 1)
    return chunks, warnings
