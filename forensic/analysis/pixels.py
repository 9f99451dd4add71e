"""Decode an image for pixel analysis, safely: a decompression-bomb limit, every mode to 8-bit
luminance/RGB, the first frame of animations. Failures become a reason, never a traceback."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis.interface import AnalysisInput
from forensic.media.safe import MAX_DECODED_PIXELS, ImageRefused, open_image

#: larger images are not decoded (a decompression bomb or a panorama; say so plainly): the one
#: policy's limit of pixels decoded at once (:mod:`forensic.media.safe`); analyses need every
#: pixel, so a reduced decode is never an option here
MAX_PIXELS = MAX_DECODED_PIXELS
#: smaller images carry too few 8x8 blocks for any statistic
MIN_SIDE = 32


@dataclass
class Decoded:
    rgb: NDArray[np.uint8]  # H x W x 3 (shared between detectors: never write to it)
    mode: str
    frames: int
    notes: list[str]

    @cached_property
    def luma(self) -> NDArray[np.float64]:
        """H x W, 0..255 (ITU-R BT.601 weights); computed on first use, 8 bytes a pixel."""
        return rgb_luma(self.rgb)


def rgb_luma(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """BT.601 luminance of (a crop of) an RGB array, in float64."""
    luma: NDArray[np.float64] = (
        0.299 * rgb[..., 0].astype(np.float64)
        + 0.587 * rgb[..., 1].astype(np.float64)
        + 0.114 * rgb[..., 2].astype(np.float64)
    )
    return luma


class NotAnalysable(Exception):
    """The pixels cannot be analysed; ``str(exc)`` is the reason (English)."""

    def __init__(self, reason_en: str, reason_ko: str) -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_ko = reason_ko


def open_bounded(data: bytes) -> Image.Image:
    """Open an image without decoding it, refusing a decompression bomb by its declared size
    before a single pixel is decoded (the one policy of :func:`forensic.media.safe.open_image`,
    at full size)."""
    try:
        im, _reduction = open_image(data, full_size=True)
    except ImageRefused as exc:
        raise NotAnalysable(exc.reason("en"), exc.reason("ko")) from exc
    return im  # type: ignore[no-any-return]


def decode(data: bytes) -> Decoded:
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im: Image.Image = open_bounded(data)
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                notes.append(f"animated image with {frames} frames: the first frame is analysed")
            im.seek(0)
            mode = im.mode
            im.load()
    except NotAnalysable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAnalysable(
            f"decompression-bomb limit: {exc}", f"압축 폭탄 한도 초과: {exc}"
        ) from exc
    except Exception as exc:
        raise NotAnalysable(
            f"the pixels cannot be decoded: {type(exc).__name__}: {exc}",
            f"화소를 디코딩할 수 없습니다: {type(exc).__name__}: {exc}",
        ) from exc
    if min(im.size) < MIN_SIDE:
        raise NotAnalysable(
            f"{im.size[0]}x{im.size[1]} pixels is too small for pixel statistics "
            f"(at least {MIN_SIDE}x{MIN_SIDE})",
            f"{im.size[0]}x{im.size[1]} 화소는 화소 통계에 너무 작습니다 "
            f"(최소 {MIN_SIDE}x{MIN_SIDE})",
        )
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr16 = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr16.max() > 255 else 255.0
        arr8 = np.clip(np.round(arr16 / top * 255.0), 0, 255).astype(np.uint8)
        im = Image.fromarray(arr8, "L")
        notes.append("16-bit samples scaled to 8 bits for analysis")
    elif mode == "CMYK":
        notes.append("CMYK converted to RGB (Pillow's naive conversion) for analysis")
    elif mode in ("L", "LA", "1"):
        notes.append("greyscale: colour statistics do not apply")
    rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"), dtype=np.uint8)
    rgb.flags.writeable = False  # shared by the detectors of one item
    return Decoded(rgb=rgb, mode=mode, frames=frames, notes=notes)


def decode_item(item: AnalysisInput) -> Decoded:
    """:func:`decode` of the item's file, done once per item and shared by its detectors."""
    return item.cache.get("pixels.decode", lambda: decode(item.read_bytes()))


def png_bytes(arr: NDArray[np.uint8]) -> bytes:
    """Deterministic PNG bytes (no time, no text chunks)."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
