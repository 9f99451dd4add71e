"""The words of a chat screenshot, read by tesseract from one sheet of the parts that carry
text: each bubble's inside, each pill, the header, and (KakaoTalk) the strips beside and above
bubbles where times and names are written.

Each part is cut out, turned into black ink on white by the app's own colours (what is near
the part's paper colour is paper), enlarged where its text is small, and laid on the sheet
apart from the others, so that one tesseract run reads every part as its own block and no
line of one bubble runs into another's. The word boxes are mapped back onto the screenshot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from forensic.capture.chatshot import (
    PALETTES,
    Box,
    Recognition,
    Region,
    Rgb,
    Word,
    _near,
    find_regions,
    tesseract_words,
)

GAP = 48
PAPER_TOLERANCE = 48
#: text smaller than a bubble's (times, names) is enlarged this much more
SMALL_TEXT = 1.6


@dataclass(frozen=True)
class Part:
    """One cut-out: where on the screenshot, its paper colours, how much it is enlarged."""

    box: Box
    paper: tuple[Rgb, ...]
    scale: float
    light_ink: bool = False
    """Ink is the light text (a time on a photo's dark label), not what differs from paper."""


def _clip(box: tuple[float, float, float, float], w: int, h: int) -> Box | None:
    x0, y0, x1, y1 = (
        max(0, round(box[0])),
        max(0, round(box[1])),
        min(w, round(box[2])),
        min(h, round(box[3])),
    )
    return (x0, y0, x1, y1) if x1 - x0 > 8 and y1 - y0 > 8 else None


def plan_parts(im: Image.Image, rec: Recognition, regions: list[Region]) -> list[Part]:
    """The parts to read, top to bottom."""
    colours = PALETTES[(rec.app, rec.theme)]
    w, h = im.size
    s = w / 1080
    base = 1080 / w
    rgb = np.asarray(im.convert("RGB"))
    header: Rgb = tuple(int(v) for v in np.median(rgb[int(0.05 * h)], axis=0))  # type: ignore[assignment]
    outside = (colours["bg"], colours["other"], colours["own"], colours["pill"])
    parts: list[Part] = []
    top = min((r.box[1] for r in regions), default=round(0.15 * h))
    head = _clip((0, 0.028 * h, w, top - 4 * s), w, h)
    if head:
        parts.append(Part(head, (header, colours["bg"]), base))
    for r in regions:
        x0, y0, x1, y1 = r.box
        if r.kind == "photo":
            if rec.app == "telegram":
                label = _clip((x1 - 260 * s, y1 - 70 * s, x1 - 6 * s, y1 - 6 * s), w, h)
                if label:
                    parts.append(Part(label, (), base * SMALL_TEXT, light_ink=True))
        elif rec.app == "telegram" and r.kind != "pill":  # the time line inside, enlarged
            edge = 12 * s
            body = (x0 + edge, y0 + 4 * s, x1 - edge, y1 - 40 * s)
            line = (x0 + edge, y1 - 50 * s, x1 - edge, y1 - 4 * s)
            cuts = [(body, 1.25), (line, SMALL_TEXT)]
            for cut, k in cuts:
                inner = _clip(cut, w, h)
                if inner:
                    parts.append(Part(inner, (colours[r.kind],), base * k))
        else:
            edge = 12 * s if r.kind != "pill" else 6 * s
            inner = _clip((x0 + edge, y0 + 4 * s, x1 - edge, y1 - 4 * s), w, h)
            scale = base * (SMALL_TEXT if r.kind == "pill" else 1)
            if inner:
                parts.append(Part(inner, (colours[r.kind],), scale))
        if rec.app != "kakaotalk" or r.kind == "pill":
            continue
        own = r.kind == "own" or (r.kind == "photo" and x1 > 0.9 * w and x0 > 0.25 * w)
        beside = (x0 - 260 * s, y1 - 70 * s, x0 - 2 * s, y1 + 6 * s) if own else (
            x1 + 2 * s, y1 - 70 * s, x1 + 260 * s, y1 + 6 * s)  # fmt: skip
        above = (x0 - 12 * s, y0 - 66 * s, x0 + 700 * s, y0 - 2 * s)
        for strip in (beside,) if own else (beside, above):
            clipped = _clip(strip, w, h)
            clipped = _free(clipped, r, regions, 24 * s) if clipped else None
            if clipped:
                parts.append(Part(clipped, outside, base * SMALL_TEXT))
    return parts


def _free(box: Box, own: Region, regions: list[Region], least: float) -> Box | None:
    """The strip without the regions above it (a name strip above a bubble that follows
    another reaches no higher than that one's bottom); ``None`` when too little is left or
    another region lies in it."""
    x0, y0, x1, y1 = box
    for r in regions:
        if r is own or r.box[2] <= x0 or r.box[0] >= x1:
            continue
        if r.box[3] <= own.box[1] + 2 and r.box[3] > y0:
            y0 = r.box[3] + 2
    if y1 - y0 < least:
        return None
    clear = all(
        r is own or r.box[2] <= x0 or r.box[0] >= x1 or r.box[3] <= y0 or r.box[1] >= y1
        for r in regions
    )
    return (x0, y0, x1, y1) if clear else None


def _ink(rgb: np.ndarray, part: Part) -> Image.Image:
    x0, y0, x1, y1 = part.box
    crop = rgb[y0:y1, x0:x1]
    if part.light_ink:
        paper = crop.min(axis=-1) < 200
    else:
        paper = np.zeros(crop.shape[:2], dtype=bool)
        for colour in part.paper:
            paper |= _near(crop, colour, PAPER_TOLERANCE)
    sheet = Image.fromarray(np.where(paper, 255, 0).astype(np.uint8), "L")
    if part.scale != 1.0:
        size = (max(1, round(sheet.width * part.scale)), max(1, round(sheet.height * part.scale)))
        sheet = sheet.resize(size, Image.Resampling.LANCZOS)
    return sheet


def read_words(exe: str, im: Image.Image, rec: Recognition, item: str) -> list[Word]:
    """Every word of the screenshot's text-bearing parts, in the screenshot's pixels."""
    regions = find_regions(im, rec)
    parts = plan_parts(im, rec, regions)
    if not parts:
        return []
    rgb = np.asarray(im.convert("RGB"))
    cuts = [_ink(rgb, p) for p in parts]
    width = max(c.width for c in cuts) + 2 * GAP
    height = sum(c.height + GAP for c in cuts) + GAP
    sheet = Image.new("L", (width, height), 255)
    places: list[tuple[int, Part, Image.Image]] = []
    y = GAP
    for part, cut in zip(parts, cuts, strict=True):
        sheet.paste(cut, (GAP, y))
        places.append((y, part, cut))
        y += cut.height + GAP
    buf = io.BytesIO()
    sheet.save(buf, "PNG", compress_level=1)
    words = tesseract_words(exe, buf.getvalue(), 1.0, item)
    return _dedupe([m for w in words if (m := _back(w, places)) is not None])


def _back(word: Word, places: list[tuple[int, Part, Image.Image]]) -> tuple[int, Word] | None:
    """The part a word was read in, and the word in the screenshot's pixels (``None``: it
    lies in a gap between parts)."""
    cy = (word.box[1] + word.box[3]) / 2
    for n, (top, part, cut) in enumerate(places):
        if top - GAP / 2 <= cy <= top + cut.height + GAP / 2:
            k = part.scale
            x0, y0 = part.box[0], part.box[1]
            box = (
                round(x0 + (word.box[0] - GAP) / k),
                round(y0 + (word.box[1] - top) / k),
                round(x0 + (word.box[2] - GAP) / k),
                round(y0 + (word.box[3] - top) / k),
            )
            return n, Word(word.text, box, word.conf, word.line)
    return None


def _dedupe(words: list[tuple[int, Word]]) -> list[Word]:
    """One word where two overlapping parts both read it (the more confident); the boxes of
    one part's words may overlap (tesseract's Korean syllables do), and all are kept."""
    kept: list[tuple[int, Word]] = []
    for n, w in sorted(words, key=lambda p: -p[1].conf):
        if not any(m != n and _same_place(w.box, k.box) for m, k in kept):
            kept.append((n, w))
    return sorted((w for _, w in kept), key=lambda w: (w.box[1], w.box[0]))


def _same_place(a: Box, b: Box) -> bool:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih > 0.6 * max(smaller, 1)
