"""Reading a recognised chat screenshot as messages: the word boxes of the OCR placed on the
bubbles, pills and photos that the colours show (:mod:`forensic.capture.chatshot`).

Rules per app: KakaoTalk writes the sender's name above a run of others' bubbles and the time
outside the bubble (right of another's, left of one's own); Telegram writes the name (in
colour) and the time inside the bubble. Both centre date dividers in a pill; a reply shows a
vertical bar beside the quoted sender and text at the top of the bubble.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from forensic.capture.chatshot import (
    PALETTES,
    URL,
    Box,
    Recognition,
    Region,
    Word,
    find_regions,
    join_words,
    lines_of,
    parse_divider,
    parse_time,
)

#: ``https://`` as tesseract misreads it (``httos://``, ``htips://``); a scheme is a closed set
SCHEME = re.compile(r"^ht[tif][a-z0-9]{1,2}://", re.IGNORECASE)
LONE_BAR = re.compile(r"(?<![^\s])\|(?=\s+[A-Za-z])")


@dataclass(frozen=True)
class ShotMessage:
    """One message read from a screenshot, with where it is and how sure the reading is."""

    side: str  # "own" or "other"
    sender: str | None
    time: str | None
    hour_minute: tuple[int, int] | None
    day: tuple[int, int, int] | None
    day_as_written: str | None
    text: str
    kind: str  # "text", "link", "photo"
    reply_to: dict[str, str] | None
    box: Box
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "sender": self.sender,
            "time": self.time,
            "text": self.text,
            "kind": self.kind,
            "reply_to": self.reply_to,
            "box": list(self.box),
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class ShotReading:
    recognition: Recognition
    title: str | None
    dividers: tuple[str, ...]
    messages: tuple[ShotMessage, ...]


@dataclass
class _Run:
    """What carries over from one bubble to the next: the day and the sender of the run."""

    day: tuple[int, int, int] | None = None
    day_text: str | None = None
    sender: str | None = None
    dividers: list[str] = field(default_factory=list)


def read_chat(im: Image.Image, rec: Recognition, words: list[Word]) -> ShotReading:
    """The messages of a recognised screenshot, top to bottom."""
    regions = find_regions(im, rec)
    rgb = np.asarray(im.convert("RGB"))
    s = im.width / 1080
    used: set[int] = set()
    run = _Run()
    out: list[ShotMessage] = []
    for region in regions:
        inside = [w for w in words if _within(w, region.box, round(4 * s))]
        inside = [w for w in inside if not _edge_speck(w, region.box, s)]
        used.update(id(w) for w in inside)
        if region.kind == "pill":
            text = " ".join(join_words(line) for line in lines_of(inside))
            run.day, run.day_text, run.sender = parse_divider(text), text, None
            run.dividers.append(text)
            continue
        outside = [w for w in words if id(w) not in used and not _in_any(w, regions)]
        message = _message(rgb, rec, region, inside, outside, run, s)
        if message is not None:
            out.append(message)
    title = _title(words, regions, im)
    return ShotReading(rec, title, tuple(run.dividers), tuple(out))


def _within(word: Word, box: Box, margin: int) -> bool:
    cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
    return box[0] - margin <= cx <= box[2] + margin and box[1] - margin <= cy <= box[3] + margin


def _edge_speck(word: Word, box: Box, s: float) -> bool:
    """A rounded corner's edge read as ``|`` or ``'``: no letter, at the bubble's side."""
    if any(c.isalnum() for c in word.text):
        return False
    return word.box[0] - box[0] < 20 * s or box[2] - word.box[2] < 20 * s


def _in_any(word: Word, regions: list[Region]) -> bool:
    return any(_within(word, r.box, 2) for r in regions)


def _title(words: list[Word], regions: list[Region], im: Image.Image) -> str | None:
    """The room's name: the largest words of the header, above the first region."""
    top = min((r.box[1] for r in regions), default=round(0.15 * im.height))
    header = [w for w in words if w.box[3] < top and w.box[1] > 0.025 * im.height]
    header = [w for w in header if w.text not in ("<", "く", "‹") and parse_time(w.text) is None]
    if not header:
        return None
    tallest = max(w.box[3] - w.box[1] for w in header)
    big = [w for w in header if w.box[3] - w.box[1] >= 0.6 * tallest]
    return join_words(lines_of(big)[0]) or None


def _side(region: Region, width: int) -> str:
    if region.kind in ("own", "other"):
        return region.kind
    return "own" if region.box[2] > 0.9 * width and region.box[0] > 0.25 * width else "other"


def _message(
    rgb: np.ndarray,
    rec: Recognition,
    region: Region,
    inside: list[Word],
    outside: list[Word],
    run: _Run,
    s: float,
) -> ShotMessage | None:
    side = _side(region, rgb.shape[1])
    lines = lines_of(inside)
    time_words, lines = _time_inside(lines) if rec.app == "telegram" else ([], lines)
    if rec.app == "kakaotalk":
        time_words = _time_beside(region.box, outside, side, s)
    if side == "own":
        run.sender = None
    elif rec.app == "kakaotalk":
        run.sender = _name_above(region.box, outside, s) or run.sender
    elif lines and _is_name(rgb, rec, region, lines[0]):
        run.sender = clean_name(lines.pop(0)) or run.sender
    reply, lines = _reply(rgb, rec, region, lines, s)
    if region.kind == "photo":
        lines = []
    text = "\n".join(join_words(line) for line in lines)
    if not text and region.kind != "photo":
        return None
    read_time = parse_time(join_words(time_words)) if time_words else None
    words = [w for line in lines for w in line] + time_words
    confidence = sum(max(w.conf, 0) for w in words) / (100 * len(words)) if words else 0.5
    kind = "photo" if region.kind == "photo" else "link" if URL.search(text) else "text"
    return ShotMessage(
        side=side,
        sender=None if side == "own" else run.sender,
        time=read_time[0] if read_time else None,
        hour_minute=(read_time[1], read_time[2]) if read_time else None,
        day=run.day,
        day_as_written=run.day_text,
        text=_tidy(text, kind),
        kind=kind,
        reply_to=reply,
        box=region.box,
        confidence=confidence,
    )


def _tidy(text: str, kind: str) -> str:
    """A link is read without the blanks the OCR puts inside it; a lone ``|`` between Latin
    words is the pronoun ``I`` (tesseract's usual misreading)."""
    if kind == "link":
        squeezed = "".join(text.split()).lstrip("“‘\"'|([")
        m = SCHEME.match(squeezed)
        if m and m.group(0).lower() not in ("http://", "https://"):
            squeezed = "https://" + squeezed[m.end() :]
        return squeezed
    return LONE_BAR.sub("I", text)


def _time_inside(lines: list[list[Word]]) -> tuple[list[Word], list[list[Word]]]:
    """Telegram: the time at the right end of the bubble's last line."""
    if not lines:
        return [], lines
    last = lines[-1]
    for start in range(len(last)):
        if parse_time(join_words(last[start:])) is not None:
            rest = last[:start]
            return last[start:], lines[:-1] + ([rest] if rest else [])
    return [], lines


def _time_beside(box: Box, outside: list[Word], side: str, s: float) -> list[Word]:
    """KakaoTalk: the words level with the bubble's bottom, just beside it (the nearest one
    within a few pixels of the bubble)."""
    near = []
    for w in outside:
        cy = (w.box[1] + w.box[3]) / 2
        if not box[3] - 70 * s <= cy <= box[3] + 6 * s:
            continue
        gap = w.box[0] - box[2] if side == "other" else box[0] - w.box[2]
        if 0 <= gap <= 260 * s:
            near.append((gap, w))
    if not near or min(g for g, _ in near) > 60 * s:
        return []
    return sorted((w for _, w in near), key=lambda w: w.box[0])


def _name_above(box: Box, outside: list[Word], s: float) -> str | None:
    """KakaoTalk: the line just above the first bubble of a run of others' messages."""
    above = [
        w
        for w in outside
        if box[1] - 70 * s <= w.box[3] <= box[1] + 4 * s and box[0] - 12 * s <= w.box[0] < box[2]
    ]
    if not above:
        return None
    text = clean_name(lines_of(above)[-1])
    if parse_time(text) is not None or not any(c.isalnum() for c in text):
        return None
    if text.upper() in ("오전", "오후", "AM", "PM"):
        return None
    return text


#: what is never part of a name: marks and lone jamo the OCR makes of specks and edges
NAME_NOISE = "=~|-_.,:;!?'\"`‘’“”()[]{}<>" + "".join(chr(c) for c in range(0x3131, 0x318F))


def clean_name(line: list[Word]) -> str:
    """A sender's name: the line's first run of words (a wide gap ends it), without the
    marks and lone jamo around it."""
    kept: list[Word] = []
    for w in line:
        height = max(w.box[3] - w.box[1], 1)
        if kept and w.box[0] - kept[-1].box[2] > 0.8 * height:
            break
        kept.append(w)
    return join_words(kept).strip(NAME_NOISE + " ")


def _ink(rgb: np.ndarray, box: Box, paper: tuple[int, int, int]) -> tuple[float, float]:
    """Mean saturation and share of the pixels in ``box`` that are not the bubble's colour."""
    crop = rgb[max(box[1], 0) : box[3], max(box[0], 0) : box[2]].astype(np.int16)
    if crop.size == 0:
        return 0.0, 0.0
    far = np.abs(crop - np.array(paper, dtype=np.int16)).max(axis=-1) > 70
    if not far.any():
        return 0.0, 0.0
    ink = crop[far]
    return float((ink.max(axis=-1) - ink.min(axis=-1)).mean()), float(far.mean())


def _paper(rec: Recognition, region: Region) -> tuple[int, int, int]:
    return PALETTES[(rec.app, rec.theme)]["own" if region.kind == "own" else "other"]


def _is_name(rgb: np.ndarray, rec: Recognition, region: Region, line: list[Word]) -> bool:
    """Telegram: the first line is the sender's name when written in colour (not a link)."""
    text = join_words(line)
    if URL.search(text) or region.kind != "other":
        return False
    box = (min(w.box[0] for w in line), min(w.box[1] for w in line),
           max(w.box[2] for w in line), max(w.box[3] for w in line))  # fmt: skip
    saturation, _ = _ink(rgb, box, _paper(rec, region))
    return saturation > 35


def _reply(
    rgb: np.ndarray, rec: Recognition, region: Region, lines: list[list[Word]], s: float
) -> tuple[dict[str, str] | None, list[list[Word]]]:
    """A reply header: a vertical bar taller than any letter near the bubble's left edge; the
    lines beside it are the quoted sender and text."""
    x0, y0, x1, y1 = region.box
    if region.kind == "photo" or x1 - x0 < 80 * s:
        return None, lines
    strip = rgb[y0:y1, x0 + round(18 * s) : x0 + round(44 * s)].astype(np.int16)
    paper = np.array(_paper(rec, region), dtype=np.int16)
    dark = np.abs(strip - paper).max(axis=-1) > 60
    column = dark.sum(axis=1) >= max(2, round(3 * s))
    best, start, longest = None, None, 0
    for i, on in enumerate([*column.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start > longest:
                best, longest = (start, i), i - start
            start = None
    if best is None or longest < 60 * s:
        return None, lines
    top, bottom = y0 + best[0], y0 + best[1]
    quoted = [ln for ln in lines if top - 4 <= (ln[0].box[1] + ln[0].box[3]) / 2 <= bottom + 4]
    rest = [ln for ln in lines if ln not in quoted]
    if not quoted:
        return None, lines
    reply = {"sender": join_words(quoted[0]), "text": " ".join(join_words(q) for q in quoted[1:])}
    return reply, rest
