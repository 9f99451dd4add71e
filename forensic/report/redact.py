"""Previews that cannot be turned back into the original pixels.

``blur``: the image is reduced to at most :data:`CELLS` cells on its long side (box filter, so
each cell is the mean of thousands of pixels), blurred, and only then scaled up for display. What
goes into the PDF is computed from those few cells alone: the original pixels are not in it and
cannot be recovered from it.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from forensic.media.safe import ImageRefused, open_image

CELLS = 12
DISPLAY = 360
FULL_MAX = 1200


class PreviewUnavailable(Exception):
    """The file is not an image Pillow can read, or is refused by the decompression-bomb
    policy (the report says so instead, in its language: :meth:`reason`)."""

    def __init__(self, reason_en: str, refusal: ImageRefused | None = None) -> None:
        super().__init__(reason_en)
        self.refusal = refusal

    def reason(self, lang: str = "en") -> str:
        return self.refusal.reason(lang) if self.refusal is not None else str(self)


def _open(path: Path) -> Image.Image:
    """The image, flattened to RGB, decoded no larger than the report needs: the one
    decompression-bomb policy refuses it by its header, a JPEG decodes small (bounded memory),
    and anything else is shrunk to the preview size before any colour conversion."""
    try:
        img, _reduction = open_image(path, fit=(FULL_MAX, FULL_MAX))
    except ImageRefused as exc:
        raise PreviewUnavailable(str(exc), exc) from exc
    try:
        with img:
            img.thumbnail((FULL_MAX, FULL_MAX), Image.Resampling.LANCZOS)
            out = ImageOps.exif_transpose(img) or img
            out = out.convert("RGBA") if out.mode in ("P", "LA", "PA") else out
            if out.mode == "RGBA":
                bg = Image.new("RGB", out.size, (255, 255, 255))
                bg.paste(out, mask=out.getchannel("A"))
                out = bg
            out = out.convert("RGB")
            out.load()
            return out
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise PreviewUnavailable(str(exc) or type(exc).__name__) from exc


def redacted(img: Image.Image) -> Image.Image:
    w, h = img.size
    scale = CELLS / max(w, h)
    small = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    dw = max(1, round(w * DISPLAY / max(w, h)))
    dh = max(1, round(h * DISPLAY / max(w, h)))
    big = small.resize((dw, dh), Image.Resampling.NEAREST)
    return big.filter(ImageFilter.GaussianBlur(radius=DISPLAY / CELLS / 2))


def preview_image(path: Path, mode: str) -> tuple[bytes, tuple[int, int]]:
    """Image bytes for the PDF and the pixel size: ``blur`` as JPEG, ``full`` lossless (PNG)."""
    img = _open(path)
    if mode == "full":
        img.thumbnail((FULL_MAX, FULL_MAX), Image.Resampling.LANCZOS)
        out = img
    else:
        out = redacted(img)
    buf = io.BytesIO()
    if mode == "full":
        out.save(buf, "PNG")
    else:
        out.save(buf, "JPEG", quality=70)
    return buf.getvalue(), out.size


def logo_png(path: Path) -> tuple[bytes, tuple[int, int]]:
    """An organisation logo flattened on white (no transparency, for PDF/A)."""
    img = _open(path)
    img.thumbnail((600, 600), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue(), img.size
