"""Keeping what media readers hand on bounded: JSON-safe text and values, and the one
decompression-bomb policy every consumer that decodes an image goes through."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

MAX_STRING = 64 * 1024
MAX_INT = 2**53 - 1


def clean_text(value: bytes | str, limit: int = MAX_STRING) -> str:
    """Text for a record: decoded leniently, NULs and control characters dropped, bounded."""
    if isinstance(value, bytes):
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            decoded = value.decode("latin-1")
    else:
        decoded = value
    text = "".join(ch for ch in decoded if ch in "\n\t" or ch >= " " or ch == "\r")
    text = text.replace("\x7f", "").rstrip("\x00").strip()
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    return text


def json_safe(value: Any, depth: int = 0) -> Any:
    """Convert to something RFC 8785 canonical JSON accepts (finite numbers, str keys)."""
    if depth > 40:
        return "[nested too deep]"
    if value is None or isinstance(value, bool | str):
        return clean_text(value) if isinstance(value, str) and len(value) > MAX_STRING else value
    if isinstance(value, int):
        return value if -MAX_INT <= value <= MAX_INT else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, Fraction):
        return json_safe(float(value)) if value.denominator else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return {"bytes": len(data), "hex": data[:64].hex() + ("…" if len(data) > 64 else "")}
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    return clean_text(str(value))


# -- the one decompression-bomb policy --------------------------------------------------------
#: Pixels decoded into memory at once (about 240 MB as RGB): an image whose header declares
#: more is decoded at a reduced size where its decoder can (JPEG: 1/2, 1/4, 1/8), else refused.
MAX_DECODED_PIXELS = 80_000_000
#: Pixels an image may declare at all (a 200-megapixel phone photo is 16320 x 12240): beyond
#: this nothing is decoded, not even at a reduced size.
MAX_DECLARED_PIXELS = 400_000_000
#: The reductions the JPEG decoder does while decoding (DCT scaling), smallest first.
JPEG_SCALES = (1, 2, 4, 8)


class ImageRefused(Exception):
    """An image is not decoded (too large by its header, or unreadable); ``reason(lang)``."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(self.reason("en"))

    def reason(self, lang: str = "en") -> str:
        from forensic.i18n import message

        return message(f"media_bounds.{self.key}", lang, **self.params)


@dataclass(frozen=True)
class Reduction:
    """An image decoded smaller than it is because of :data:`MAX_DECODED_PIXELS`."""

    full: tuple[int, int]
    decoded: tuple[int, int]

    def note(self, lang: str = "en") -> str:
        from forensic.i18n import message

        (fw, fh), (dw, dh) = self.full, self.decoded
        return message(
            "media_bounds.reduced", lang, width=dw, height=dh, full_width=fw, full_height=fh,
            limit=MAX_DECODED_PIXELS,
        )  # fmt: skip


def declared_refusal(width: int, height: int, fmt: str | None) -> ImageRefused | None:
    """Why an image of this declared size cannot be decoded, or None when it can (maybe
    reduced): the check made from the header alone, before any pixel is decoded."""
    pixels = width * height
    if width <= 0 or height <= 0:
        return ImageRefused("no_pixels", width=width, height=height)
    if pixels > MAX_DECLARED_PIXELS:
        return ImageRefused(
            "too_large", width=width, height=height, pixels=pixels, limit=MAX_DECLARED_PIXELS
        )
    if pixels > MAX_DECODED_PIXELS and _jpeg_scale(width, height, fmt) is None:
        return ImageRefused(
            "not_reducible", width=width, height=height, pixels=pixels,
            limit=MAX_DECODED_PIXELS, format=fmt or "?",
        )  # fmt: skip
    return None


def _jpeg_scale(width: int, height: int, fmt: str | None) -> int | None:
    """The least JPEG reduction that brings the image within the limit (None: none does)."""
    for scale in JPEG_SCALES if fmt in ("JPEG", "MPO") else (1,):
        if -(-width // scale) * -(-height // scale) <= MAX_DECODED_PIXELS:
            return scale
    return None


def _bomb_pixels(exc: Exception) -> int:
    """The pixel count Pillow's own refusal names (it refuses before giving the size)."""
    import re

    counts = [int(n) for n in re.findall(r"\((\d+) pixels\)", str(exc))]
    return counts[0] if counts else 0


def open_image(
    source: Any, *, full_size: bool = False, fit: tuple[int, int] | None = None
) -> tuple[Any, Reduction | None]:
    """Open an image (a path, bytes or a binary file) under the one decompression-bomb
    policy: its declared size is checked before a pixel is decoded; a JPEG too large to decode
    whole is set to decode reduced (``full_size``: refused instead, for analyses that need
    every pixel); ``fit``: a JPEG is decoded no larger than needed for this box. The caller
    closes the image. Raises :class:`ImageRefused`."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    # Pillow's own check (a process-wide setting) is set to the same limit: ours comes first.
    Image.MAX_IMAGE_PIXELS = MAX_DECLARED_PIXELS // 2
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise ImageRefused(
            "too_large_declared", pixels=_bomb_pixels(exc), limit=MAX_DECLARED_PIXELS
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused("not_an_image") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRefused("unreadable", reason=f"{type(exc).__name__}: {exc}") from exc
    width, height = im.size
    if full_size and width * height > MAX_DECODED_PIXELS:
        refusal: ImageRefused | None = ImageRefused(
            "too_large", width=width, height=height, pixels=width * height,
            limit=MAX_DECODED_PIXELS,
        )  # fmt: skip
    else:
        refusal = declared_refusal(width, height, im.format)
    if refusal is not None:
        im.close()
        raise refusal
    scale = _jpeg_scale(width, height, im.format) or 1
    reduction = None
    if im.format in ("JPEG", "MPO"):
        want = (-(-width // scale), -(-height // scale))
        if fit is not None:
            want = (min(want[0], fit[0]), min(want[1], fit[1]))
        if want != (width, height):
            im.draft(im.mode, want)
        if im.size[0] * im.size[1] > MAX_DECODED_PIXELS:  # a decoder that did not reduce
            im.close()
            raise ImageRefused(
                "not_reducible", width=width, height=height, pixels=width * height,
                limit=MAX_DECODED_PIXELS, format=im.format,
            )  # fmt: skip
        if scale > 1:
            reduction = Reduction((width, height), im.size)
    return im, reduction
