"""JPEG quantisation tables, estimated quality and what they say about the encoder.

Quality is estimated against the IJG (libjpeg) standard tables: when every table equals the
standard one scaled for some quality 1-100, the file was encoded by libjpeg or a program using
its tables (many editors, browsers, Pillow, and messengers that re-compress uploads); cameras
and some editors (Photoshop among them) use their own tables, reported as "custom".
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg
from forensic.media.safe import json_safe

STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
STD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
# Zig-zag order (tables are stored in zig-zag order in DQT segments).
ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip


def ijg_table(base: tuple[int, ...], quality: int) -> list[int]:
    scale = 5000 // quality if quality < 50 else 200 - quality * 2
    return [min(255, max(1, (q * scale + 50) // 100)) for q in base]


def parse_dqt(data: bytes) -> tuple[dict[int, list[int]], list[str]]:
    """Tables by id, in natural (row-major) order."""
    tables: dict[int, list[int]] = {}
    pos = 0
    while pos < len(data):
        pq, tq = data[pos] >> 4, data[pos] & 15
        width = 2 if pq else 1
        body = data[pos + 1 : pos + 1 + 64 * width]
        if len(body) < 64 * width:
            return tables, [f"DQT table {tq} truncated"]
        zz = list(struct.unpack(f">{64}{'H' if pq else 'B'}", body))
        natural = [0] * 64
        for i, v in enumerate(zz):
            natural[ZIGZAG[i]] = v
        tables[tq] = natural
        pos += 1 + 64 * width
    return tables, []


def estimate_quality(tables: dict[int, list[int]]) -> tuple[int | None, bool]:
    """(IJG quality giving the closest tables, whether they match exactly)."""
    if not tables:
        return None, False
    best, best_err = None, None
    for q in range(1, 101):
        err = 0
        for tid, table in tables.items():
            ref = ijg_table(STD_LUMA if tid == 0 else STD_CHROMA, q)
            err += sum(abs(a - b) for a, b in zip(table, ref, strict=True))
        if best_err is None or err < best_err:
            best, best_err = q, err
    return best, best_err == 0


class JpegQuantDescriber(ImageDescriber):
    name = "jpeg_quant"
    version = "1"
    types = frozenset({"image/jpeg"})

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        jpeg = read_jpeg(path)
        tables: dict[int, list[int]] = {}
        for seg in jpeg.segments:
            if seg.marker == 0xDB:
                found, warns = parse_dqt(seg.data)
                tables.update(found)
                warnings.extend(warns)
        sof = next(
            (
                s
                for s in jpeg.segments
                if 0xC0 <= s.marker <= 0xCF and s.marker not in (0xC4, 0xC8, 0xCC)
            ),
            None,
        )
        frame: dict[str, Any] = {}
        if sof is not None and len(sof.data) >= 6:
            comps = sof.data[5]
            sampling = [
                f"{sof.data[6 + 3 * i + 1] >> 4}x{sof.data[6 + 3 * i + 1] & 15}"
                for i in range(comps)
                if 6 + 3 * i + 2 < len(sof.data)
            ]
            frame = {
                "process": {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}.get(
                    sof.marker, f"SOF{sof.marker - 0xC0}"
                ),
                "height": struct.unpack(">H", sof.data[1:3])[0],
                "width": struct.unpack(">H", sof.data[3:5])[0],
                "components": comps,
                "sampling": sampling,
            }
        quality, exact = estimate_quality({k: v for k, v in tables.items() if k in (0, 1)})
        if not tables:
            family = None
        elif exact:
            family = "ijg_standard"
        else:
            family = "custom"
        notes = {
            "ijg_standard": (
                f"tables equal the IJG libjpeg standard tables at quality {quality}: encoded by "
                "libjpeg-based software (editors, browsers, Pillow, messenger re-compression); "
                "cameras rarely use these tables"
            ),
            "custom": (
                f"tables are not IJG standard tables (closest IJG quality {quality}): camera "
                "firmware, Photoshop or another encoder with its own tables"
            ),
        }
        result = {
            "tables": {str(k): v for k, v in sorted(tables.items())},
            "estimated_quality": quality,
            "ijg_exact": exact,
            "family": family,
            "family_note": notes.get(family or ""),
            "frame": frame,
            "adobe_app14": bool(jpeg.app(0xEE, b"Adobe")),
            "jfif": bool(jpeg.app(0xE0, b"JFIF\x00")),
            "warnings": warnings,
        }
        return dict(json_safe(result))
