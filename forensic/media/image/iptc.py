"""IPTC IIM records (JPEG APP13 Photoshop 8BIM resource 0x0404; TIFF tag 33723)."""

from __future__ import annotations

import struct
from pathlib import Path
from types import MappingProxyType
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg
from forensic.media.safe import clean_text, json_safe
from forensic.media.warning_text import warning_text

DATASETS = MappingProxyType(
    {
        (1, 90): "CodedCharacterSet",
        (2, 0): "RecordVersion",
        (2, 5): "ObjectName",
        (2, 10): "Urgency",
        (2, 15): "Category",
        (2, 20): "SupplementalCategories",
        (2, 25): "Keywords",
        (2, 40): "SpecialInstructions",
        (2, 55): "DateCreated",
        (2, 60): "TimeCreated",
        (2, 62): "DigitalCreationDate",
        (2, 63): "DigitalCreationTime",
        (2, 65): "OriginatingProgram",
        (2, 70): "ProgramVersion",
        (2, 80): "By-line",
        (2, 85): "By-lineTitle",
        (2, 90): "City",
        (2, 92): "Sub-location",
        (2, 95): "Province-State",
        (2, 100): "Country-PrimaryLocationCode",
        (2, 101): "Country-PrimaryLocationName",
        (2, 103): "OriginalTransmissionReference",
        (2, 105): "Headline",
        (2, 110): "Credit",
        (2, 115): "Source",
        (2, 116): "CopyrightNotice",
        (2, 118): "Contact",
        (2, 120): "Caption-Abstract",
        (2, 122): "Writer-Editor",
    }
)


def parse_iim(data: bytes) -> tuple[dict[str, Any], list[str]]:
    records: dict[str, Any] = {}
    warnings: list[str] = []
    pos, utf8 = 0, False
    while pos + 5 <= len(data):
        if data[pos] != 0x1C:
            warnings.append(warning_text("iptc_bad_marker", pos=pos))
            break
        rec, num, length = (
            data[pos + 1],
            data[pos + 2],
            struct.unpack(">H", data[pos + 3 : pos + 5])[0],
        )
        if length & 0x8000:
            warnings.append(warning_text("iptc_extended_length"))
            break
        value = data[pos + 5 : pos + 5 + length]
        if len(value) < length:
            warnings.append(warning_text("iptc_dataset_truncated"))
        pos += 5 + length
        if (rec, num) == (1, 90):
            utf8 = b"\x1b%G" in value
        name = DATASETS.get((rec, num), f"{rec}:{num}")
        text = (
            value.decode("utf-8" if utf8 else "latin-1", "replace") if rec == 2 or rec == 1 else ""
        )
        entry: Any = clean_text(text, 8192) if text else value.hex()[:128]
        if name in records:
            prev = records[name]
            records[name] = [*(prev if isinstance(prev, list) else [prev]), entry]
        else:
            records[name] = entry
    return records, warnings


def photoshop_resources(data: bytes) -> tuple[dict[int, bytes], list[str]]:
    """8BIM image resources of a Photoshop APP13 block."""
    out: dict[int, bytes] = {}
    warnings: list[str] = []
    pos = data.find(b"8BIM")
    while pos >= 0 and pos + 12 <= len(data):
        if data[pos : pos + 4] != b"8BIM":
            break
        rid = struct.unpack(">H", data[pos + 4 : pos + 6])[0]
        nlen = data[pos + 6]
        npad = nlen + 1 + ((nlen + 1) & 1)
        p = pos + 6 + npad
        if p + 4 > len(data):
            warnings.append(warning_text("photoshop_block_truncated"))
            break
        size = struct.unpack(">I", data[p : p + 4])[0]
        body = data[p + 4 : p + 4 + size]
        if len(body) < size:
            warnings.append(warning_text("photoshop_resource_truncated", rid=f"{rid:04X}"))
        out[rid] = body
        pos = p + 4 + size + (size & 1)
    return out, warnings


class IptcDescriber(ImageDescriber):
    name = "iptc"
    version = "1"
    types = frozenset({"image/jpeg"})

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        records: dict[str, Any] = {}
        resources: list[str] = []
        try:
            jpeg = read_jpeg(path)
            data = b"".join(s.data[14:] for s in jpeg.app(0xED, b"Photoshop 3.0\x00"))
            if data:
                res, warns = photoshop_resources(data)
                warnings.extend(warns)
                resources = [f"0x{r:04X}" for r in sorted(res)]
                if 0x0404 in res:
                    records, warns = parse_iim(res[0x0404])
                    warnings.extend(warns)
        except OSError as exc:
            warnings.append(warning_text("iptc_unreadable", reason=exc.strerror or exc))
        return dict(
            json_safe(
                {
                    "present": bool(records),
                    "records": records,
                    "photoshop_resources": resources,
                    "warnings": warnings,
                }
            )
        )
