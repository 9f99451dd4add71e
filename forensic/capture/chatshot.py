"""Chat screenshots: recognising a phone screenshot of KakaoTalk or Telegram, and reading it
as a chat (bubbles, own/other side, sender, time, date dividers, room title, replies, links,
photo placeholders), each message with its box on the image and a confidence.

Recognition looks at the picture only: a phone screen's shape, no camera EXIF, and the
colours of each app's chat background, header and bubbles (light and dark themes). A camera
photo has none of those large flat areas, so it is never taken for a chat. Reading takes the
word boxes of tesseract (TSV, Korean and English) and places them on the bubbles the colours
show. Everything read is machine reading: the screenshot is the evidence.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from PIL import Image

from forensic._internal.child_env import child_environment
from forensic.capture.web import WebError

Rgb = tuple[int, int, int]
Box = tuple[int, int, int, int]

#: Each app's colours per theme: chat background, others' bubble, own bubble, divider pill.
PALETTES: Mapping[tuple[str, str], Mapping[str, Rgb]] = MappingProxyType({
    ("kakaotalk", "light"): {"bg": (186, 206, 224), "other": (255, 255, 255),
                             "own": (254, 229, 0), "pill": (160, 178, 196)},
    ("kakaotalk", "dark"): {"bg": (33, 33, 36), "other": (58, 58, 62), "own": (254, 229, 0),
                            "pill": (60, 60, 64)},
    ("telegram", "light"): {"bg": (207, 225, 186), "other": (255, 255, 255),
                            "own": (239, 253, 222), "pill": (150, 175, 130)},
    ("telegram", "dark"): {"bg": (14, 22, 33), "other": (24, 37, 51), "own": (43, 82, 120),
                           "pill": (30, 44, 58)},
})  # fmt: skip
COLOUR_TOLERANCE = 14
#: the share of the chat area the app's background must cover (a photo has no such flat area)
MIN_BACKGROUND = 0.35
MIN_BUBBLES = 0.02
CAMERA_TAGS = (0x010F, 0x0110, 0x829A, 0x829D, 0x8827, 0x920A)  # Make, Model, exposure, …
TIME = re.compile(
    r"(오전|오후)\s*(\d{1,2})\s*[:;.]\s*(\d{2})|(\d{1,2})\s*[:;.]\s*(\d{2})\s*([AaPp][Mm])?"
)
DIVIDER_KO = re.compile(r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DIVIDER_EN = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})")
URL = re.compile(r"(https?://|www\.|t\.me/|open\.kakao)", re.IGNORECASE)
CAVEAT = "derived by OCR from the screenshot; may contain errors"


@dataclass(frozen=True)
class Recognition:
    """What a screenshot was recognised as, and the findings that say so."""

    app: str
    theme: str
    background_share: float
    bubble_share: float
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "theme": self.theme,
            "background_share": round(self.background_share, 3),
            "bubble_share": round(self.bubble_share, 3),
            "width": self.width,
            "height": self.height,
        }


def _near(pixels: np.ndarray, colour: Rgb, tol: int = COLOUR_TOLERANCE) -> np.ndarray:
    diff = np.abs(pixels.astype(np.int16) - np.array(colour, dtype=np.int16))
    result: np.ndarray = diff.max(axis=-1) <= tol
    return result


def _has_camera_exif(im: Image.Image) -> bool:
    try:
        exif = im.getexif()
        tags = set(exif) | set(exif.get_ifd(0x8769))
    except (AttributeError, ValueError, OSError):
        return False
    return any(t in tags for t in CAMERA_TAGS)


def phone_shaped(width: int, height: int) -> bool:
    """Portrait, a phone screen's aspect (16:9 to 21:9) and size."""
    return 600 <= width <= 1600 and 1.6 <= height / max(width, 1) <= 2.45


def recognise(im: Image.Image) -> Recognition | None:
    """The app and theme of a chat screenshot, or ``None`` (not a chat screenshot)."""
    width, height = im.size
    if not phone_shaped(width, height) or _has_camera_exif(im):
        return None
    small = np.asarray(im.convert("RGB").resize((width // 4, height // 4), Image.Resampling.BOX))
    band = small[int(small.shape[0] * 0.15) : int(small.shape[0] * 0.85)]
    best: Recognition | None = None
    for (app, theme), colours in PALETTES.items():
        share = float(_near(band, colours["bg"]).mean())
        bubbles = float((_near(band, colours["other"]) | _near(band, colours["own"])).mean())
        if share < MIN_BACKGROUND or bubbles < MIN_BUBBLES:
            continue
        if best is None or share > best.background_share:
            best = Recognition(app, theme, share, bubbles, width, height)
    return best


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    conf: float
    line: tuple[int, int, int]


def tesseract_words(exe: str, png: bytes, scale: float, item: str, psm: str = "4") -> list[Word]:
    """Word boxes of tesseract's TSV output (kor+eng), in the original image's pixels."""
    try:
        done = subprocess.run(
            [exe, "stdin", "stdout", "-l", "kor+eng", "--psm", psm, "tsv"],
            input=png, capture_output=True, timeout=300, check=False, env=child_environment(),
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise WebError("ocr_failed", item=item[:12], reason="timeout 300s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WebError("ocr_failed", item=item[:12], reason=reason[-1] if reason else "?")
    words: list[Word] = []
    for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip() or cols[0] != "5":
            continue
        x, y, w, h = (round(int(v) / scale) for v in cols[6:10])
        text = unicodedata.normalize("NFC", cols[11].strip())
        line = (int(cols[2]), int(cols[3]), int(cols[4]))
        words.append(Word(text, (x, y, x + w, y + h), float(cols[10]), line))
    return words


@dataclass(frozen=True)
class Region:
    box: Box
    kind: str  # "other", "own", "pill", "photo"


def _components(mask: np.ndarray) -> list[Box]:
    """Bounding boxes (in mask cells) of the 4-connected components of ``mask``."""
    seen = np.zeros(mask.shape, dtype=bool)
    boxes: list[Box] = []
    rows, cols = mask.shape
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if seen[y0, x0]:
            continue
        stack = [(int(y0), int(x0))]
        seen[y0, x0] = True
        x1 = x2 = int(x0)
        y1 = y2 = int(y0)
        while stack:
            y, x = stack.pop()
            x1, x2, y1, y2 = min(x1, x), max(x2, x), min(y1, y), max(y2, y)
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < rows and 0 <= nx < cols and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        boxes.append((x1, y1, x2 + 1, y2 + 1))
    return boxes


def find_regions(im: Image.Image, rec: Recognition) -> list[Region]:
    """Bubbles, divider pills and photos of the chat area, top to bottom."""
    colours = PALETTES[(rec.app, rec.theme)]
    f = 4
    px = np.asarray(im.convert("RGB").resize((im.width // f, im.height // f), Image.Resampling.BOX))
    s = im.width / 1080
    regions: list[Region] = []
    own_mask = _near(px, colours["own"])
    other_mask = _near(px, colours["other"]) | _near(px, colours["pill"])
    not_bg = ~_near(px, colours["bg"], 40) & ~own_mask & ~other_mask
    for kind, mask in (("own", own_mask), ("other", other_mask), ("photo", not_bg)):
        for x1, y1, x2, y2 in _components(mask):
            box = (x1 * f, y1 * f, x2 * f, y2 * f)
            w, h = box[2] - box[0], box[3] - box[1]
            if kind == "photo":
                if w < 300 * s or h < 200 * s:
                    continue
            elif w < 60 * s or h < 40 * s or h > 0.5 * im.height:
                continue
            regions.append(Region(box, _kind(kind, box, im.width)))
    return _inside_chat(regions, im.height)


def _kind(kind: str, box: Box, width: int) -> str:
    """A pill is centred; another bubble is as wide as the screen allows only when centred."""
    centre = (box[0] + box[2]) / 2
    short = box[3] - box[1] < 0.065 * width
    if kind == "other" and abs(centre - width / 2) < 0.03 * width and short:
        return "pill"
    return kind


def _inside_chat(regions: list[Region], height: int) -> list[Region]:
    """Regions below the header and above the input bar, without ones inside others."""
    kept = [r for r in regions if r.box[1] > 0.06 * height and r.box[3] < 0.97 * height]
    out = [
        r
        for r in kept
        if not any(o is not r and _contains(o.box, r.box) for o in kept)
        and not (
            r.kind == "photo" and any(_overlap(r.box, o.box) > 0.5 for o in kept if o is not r)
        )
    ]
    return sorted(out, key=lambda r: (r.box[1], r.box[0]))


def _contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[2] >= inner[2]
        and outer[3] >= inner[3]
    )


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = (a[2] - a[0]) * (a[3] - a[1])
    return 0.0 if w <= 0 or h <= 0 or area <= 0 else w * h / area


def _centre_in(word: Word, box: Box, margin: int = 0) -> bool:
    cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
    return box[0] - margin <= cx <= box[2] + margin and box[1] - margin <= cy <= box[3] + margin


def lines_of(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into lines by vertical position, each left to right."""
    out: list[list[Word]] = []
    for w in sorted(words, key=lambda w: ((w.box[1] + w.box[3]) / 2, w.box[0])):
        cy = (w.box[1] + w.box[3]) / 2
        if out:
            last = out[-1]
            ly = sum((x.box[1] + x.box[3]) / 2 for x in last) / len(last)
            height = max(x.box[3] - x.box[1] for x in last)
            if abs(cy - ly) < max(8, 0.5 * height):
                last.append(w)
                continue
        out.append([w])
    return [sorted(line, key=lambda w: w.box[0]) for line in out]


def join_words(words: Sequence[Word]) -> str:
    """The words of a line; a blank only where the gap is one (tesseract's Korean model boxes
    syllables of one word apart)."""
    out = ""
    last: Word | None = None
    for w in words:
        if last is not None:
            height = max(last.box[3] - last.box[1], w.box[3] - w.box[1], 1)
            out += " " if w.box[0] - last.box[2] > 0.3 * min(height, 45) else ""
        out += w.text
        last = w
    return out


def parse_time(text: str) -> tuple[str, int, int] | None:
    """(the time as read, hour 0-23, minute) of ``오후 8:21`` / ``8:21 PM`` / ``20:21``."""
    m = TIME.search(text)
    if m is None or (m.group(1) is None and m.group(6) is None and _merged(text)):
        return _merged(text)
    if m.group(1):
        hour, minute = int(m.group(2)), int(m.group(3))
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if m.group(1) == "오후" else 0)
        return f"{m.group(1)} {m.group(2)}:{m.group(3)}", hour, minute
    hour, minute, half = int(m.group(4)), int(m.group(5)), (m.group(6) or "").upper()
    if minute > 59 or hour > 23 or (half and not 1 <= hour <= 12):
        return None
    if half:
        hour = hour % 12 + (12 if half == "PM" else 0)
        return f"{m.group(4)}:{m.group(5)} {half}", hour, minute
    return f"{m.group(4)}:{m.group(5)}", hour, minute


MERGED = re.compile(r"(오전|오후)\s*(\d{4,5})\b|\b(\d{4,5})\s*([AaPp][Mm])\b")


def _merged(text: str) -> tuple[str, int, int] | None:
    """A 12-hour time whose colon the OCR read as a digit (``오후 8150`` for ``오후 8:50``)."""
    m = MERGED.search(text)
    if m is None:
        return None
    digits, half = (m.group(2), m.group(1)) if m.group(1) else (m.group(3), m.group(4).upper())
    hour, minute = int(digits[: len(digits) - 3]), int(digits[-2:])
    if not 1 <= hour <= 12 or minute > 59:
        return None
    pm = half in ("오후", "PM")
    korean = half in ("오전", "오후")
    shown = f"{half} {hour}:{minute:02d}" if korean else f"{hour}:{minute:02d} {half}"
    return shown, hour % 12 + (12 if pm else 0), minute


def parse_divider(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a date divider in Korean or English."""
    m = DIVIDER_KO.search(text)
    if m is not None:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = DIVIDER_EN.search(text)
    if m is not None and m.group(1).lower()[:3] in MONTHS:
        return int(m.group(3)), MONTHS.index(m.group(1).lower()[:3]) + 1, int(m.group(2))
    return None
