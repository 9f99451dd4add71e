"""Phone screenshots of KakaoTalk and Telegram chats, rendered with PIL from a transcript.

The transcript (:class:`Conversation`) is written first and the picture drawn from it, so the
ground truth of every message (side, sender, time, text, its box on the image) is exact.
Layouts: KakaoTalk and Telegram, Android and iOS, light and dark, 1080×2340 and 750×1334,
NanumGothic (the report's font, shipped in the package) and an emoji font where one is
installed; the result is JPEG-compressed like a phone's screenshot, without camera EXIF.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from forensic.i18n import templates_dir

FONT = templates_dir() / "fonts" / "NanumGothic.ttf"
FONT_BOLD = templates_dir() / "fonts" / "NanumGothicBold.ttf"
EMOJI_FONTS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
)
SIZES = ((1080, 2340), (750, 1334))
WEEKDAYS_KO = "월화수목금토일"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip

#: (chat background, other bubble, own bubble, text, other text, time/name grey, header bg,
#: header text, divider pill, divider text)
THEMES: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {
    ("kakaotalk", "light"): {
        "bg": (186, 206, 224), "other": (255, 255, 255), "own": (254, 229, 0),
        "text": (25, 25, 25), "own_text": (25, 25, 25), "meta": (85, 95, 105),
        "header": (186, 206, 224), "title": (25, 25, 25), "pill": (160, 178, 196),
        "pill_text": (255, 255, 255), "reply": (120, 120, 120),
    },
    ("kakaotalk", "dark"): {
        "bg": (33, 33, 36), "other": (58, 58, 62), "own": (254, 229, 0),
        "text": (235, 235, 235), "own_text": (25, 25, 25), "meta": (150, 150, 155),
        "header": (33, 33, 36), "title": (240, 240, 240), "pill": (60, 60, 64),
        "pill_text": (210, 210, 210), "reply": (150, 150, 150),
    },
    ("telegram", "light"): {
        "bg": (207, 225, 186), "other": (255, 255, 255), "own": (239, 253, 222),
        "text": (20, 20, 20), "own_text": (20, 20, 20), "meta": (110, 130, 110),
        "header": (81, 125, 162), "title": (255, 255, 255), "pill": (150, 175, 130),
        "pill_text": (255, 255, 255), "reply": (58, 118, 178),
    },
    ("telegram", "dark"): {
        "bg": (14, 22, 33), "other": (24, 37, 51), "own": (43, 82, 120),
        "text": (240, 240, 240), "own_text": (240, 240, 240), "meta": (120, 140, 160),
        "header": (23, 33, 43), "title": (240, 240, 240), "pill": (30, 44, 58),
        "pill_text": (220, 220, 220), "reply": (100, 170, 230),
    },
}  # fmt: skip
NAME_COLOURS = ((210, 80, 80), (60, 140, 60), (50, 110, 190), (170, 90, 170))


@dataclass(frozen=True)
class Line:
    """One entry of the conversation: a message (``sender`` ``None``: the phone's owner) or a
    date divider (``divider`` set)."""

    sender: str | None = None
    time: str = ""
    text: str = ""
    kind: str = "text"  # text, link, photo, video
    reply_to: tuple[str, str] | None = None
    divider: str | None = None


@dataclass(frozen=True)
class Conversation:
    app: str
    title: str
    lang: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Style:
    app: str = "kakaotalk"
    system: str = "android"
    theme: str = "light"
    size: tuple[int, int] = (1080, 2340)
    quality: int = 88


@dataclass
class Rendered:
    jpeg: bytes
    truth: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)


def divider_text(year: int, month: int, day: int, lang: str) -> str:
    import datetime

    wd = datetime.date(year, month, day).weekday()
    if lang == "ko":
        return f"{year}년 {month}월 {day}일 {WEEKDAYS_KO[wd]}요일"
    return f"{WEEKDAYS_EN[wd]}, {MONTHS_EN[month - 1]} {day}, {year}"


def clock_text(hour: int, minute: int, lang: str) -> str:
    h12 = hour % 12 or 12
    if lang == "ko":
        return f"{'오전' if hour < 12 else '오후'} {h12}:{minute:02d}"
    return f"{h12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


KO_TEXTS = (
    "오늘 저녁에 시간 있어?", "그 사진 지워달라고 했잖아", "내일 학교 앞에서 보자",
    "알았어 내가 확인해볼게", "왜 답장을 안 해", "링크 보냈으니까 들어가봐",
    "그거 누가 올린 거야", "경찰에 신고할 거야", "단톡방에서 나가줘",
    "지금 바로 삭제해", "사진 다시 보내줘", "어디서 받은 거야",
)  # fmt: skip
EN_TEXTS = (
    "Are you free tonight?", "I told you to delete that photo", "See you at the station",
    "Ok I will check it", "Why are you not answering", "Open the link I sent",
    "Who posted that one", "I am going to the police", "Please leave the group",
    "Delete it right now", "Send the picture again", "Where did you get it",
)  # fmt: skip
KO_NAMES = ("김민준", "이서연", "박지호", "최유나")
EN_NAMES = ("Minjun Kim", "Alex Park", "Jiho Lee", "Sara Choi")


def make_conversation(app: str, lang: str, seed: int, count: int = 9) -> Conversation:
    """A conversation with a divider, runs of others' messages, own replies, a link, a photo
    and a reply header; deterministic for ``seed``."""
    rng = random.Random(seed)
    names = KO_NAMES if lang == "ko" else EN_NAMES
    texts = KO_TEXTS if lang == "ko" else EN_TEXTS
    day = rng.randint(1, 28)
    month = rng.randint(1, 12)
    lines: list[Line] = [Line(divider=divider_text(2024, month, day, lang))]
    hour, minute = rng.randint(9, 22), rng.randint(0, 50)
    sender: str | None = rng.choice(names)
    for n in range(count):
        if n and rng.random() < 0.45:
            sender = None if sender is not None else rng.choice(names)
        minute += rng.randint(0, 3)
        if minute > 59:
            hour, minute = min(hour + 1, 23), minute - 60
        clock = clock_text(hour, minute, lang)
        if n == 3:
            lines.append(Line(sender, clock, "", "photo"))
        elif n == 5:
            link = (
                "https://t.me/+3600AbCd68"
                if app == "telegram"
                else "https://open.kakao.com/o/gX2aB7c"
            )
            lines.append(Line(sender, clock, link, "link"))
        elif n == 6:
            quoted = lines[1]
            who = quoted.sender or ("나" if lang == "ko" else "You")
            lines.append(Line(sender, clock, rng.choice(texts), "text", (who, quoted.text)))
        else:
            lines.append(Line(sender, clock, rng.choice(texts)))
    title = (
        rng.choice(("우리반 단톡", "동창 모임", "김민준"))
        if lang == "ko"
        else rng.choice(("Class chat", "Old friends", "Minjun Kim"))
    )
    return Conversation(app, title, lang, tuple(lines))


class _Painter:
    def __init__(self, style: Style, conv: Conversation) -> None:
        self.style, self.conv = style, conv
        self.w, self.h = style.size
        self.s = self.w / 1080  # every measure below is for a 1080-wide screen
        self.c = THEMES[(style.app, style.theme)]
        self.im = Image.new("RGB", style.size, self.c["bg"])
        self.d = ImageDraw.Draw(self.im)
        self.font = ImageFont.truetype(str(FONT), round(40 * self.s))
        self.small = ImageFont.truetype(str(FONT), round(29 * self.s))
        self.bold = ImageFont.truetype(str(FONT_BOLD), round(46 * self.s))
        self.name_font = ImageFont.truetype(str(FONT_BOLD if style.app == "telegram" else FONT),
                                            round(33 * self.s))  # fmt: skip
        self.messages: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []

    def px(self, v: float) -> int:
        return round(v * self.s)

    def chrome(self) -> int:
        """Status bar and header; returns the y where the chat starts."""
        c, st = self.c, self.style
        status_h = self.px(90 if st.system == "ios" else 70)
        header_h = self.px(150 if st.system == "ios" else 160)
        self.d.rectangle((0, 0, self.w, status_h + header_h), fill=c["header"])
        self.d.text((self.px(40), self.px(18)), "9:41" if st.system == "ios" else "20:21",
                    font=self.small, fill=c["title"])  # fmt: skip
        self.d.rectangle((self.w - self.px(110), self.px(24), self.w - self.px(50), self.px(52)),
                         outline=c["title"], width=max(1, self.px(3)))  # fmt: skip
        y = status_h + (header_h - self.px(50)) // 2
        tw = self.d.textlength(self.conv.title, font=self.bold)
        x = (self.w - tw) / 2 if st.system == "ios" else self.px(150)
        self.d.text((x, y), self.conv.title, font=self.bold, fill=c["title"])
        self.d.text((self.px(40), y), "<", font=self.bold, fill=c["title"])
        return status_h + header_h + self.px(30)

    def wrap(self, text: str, width: int, font: ImageFont.FreeTypeFont) -> list[str]:
        out: list[str] = []
        line = ""
        for word in text.split(" "):
            trial = f"{line} {word}".strip()
            if self.d.textlength(trial, font=font) <= width or not line:
                line = trial
            else:
                out.append(line)
                line = word
        out.append(line)
        return out

    def divider(self, y: int, text: str) -> int:
        tw = self.d.textlength(text, font=self.small)
        pad = self.px(26)
        box = ((self.w - tw) / 2 - pad, y, (self.w + tw) / 2 + pad, y + self.px(56))
        self.d.rounded_rectangle(box, radius=self.px(28), fill=self.c["pill"])
        self.d.text(
            (box[0] + pad, y + self.px(12)), text, font=self.small, fill=self.c["pill_text"]
        )
        return y + self.px(90)

    def bubble(self, y: int, line: Line, first_of_run: bool) -> int:
        c, own, tg = self.c, line.sender is None, self.style.app == "telegram"
        fill = c["own"] if own else c["other"]
        ink = c["own_text"] if own else c["text"]
        left_x = self.px(170 if not tg else 40)
        if not own and not tg and first_of_run:
            self.d.ellipse((self.px(30), y, self.px(140), y + self.px(110)), fill=(150, 170, 120))
            self.d.text((left_x, y), line.sender or "", font=self.name_font, fill=c["meta"])
            y += self.px(50)
        maxw = self.px(620)
        pad = self.px(28)
        body = [] if line.kind == "photo" else self.wrap(line.text, maxw, self.font)
        lh = self.px(54)
        tw = max([self.d.textlength(t, font=self.font) for t in body] or [0])
        height = lh * len(body) + 2 * pad - self.px(10)
        name_in = tg and not own and first_of_run and self.conv.title not in (line.sender,)
        reply_h = self.px(100) if line.reply_to else 0
        tg_time_w = self.d.textlength(line.time, font=self.small) + self.px(20) if tg else 0
        width = max(tw, tg_time_w if not body else 0) + 2 * pad
        if name_in:
            width = max(width, self.d.textlength(line.sender or "", font=self.name_font) + 2 * pad)
            height += self.px(48)
        if line.reply_to:
            width = max(width, min(maxw, self.d.textlength(line.reply_to[1], font=self.small))
                        + 2 * pad + self.px(20))  # fmt: skip
            height += reply_h
        if tg:
            height += self.px(36)
        if line.kind == "photo":
            width, height = self.px(560), self.px(420)
        x0 = self.w - self.px(40) - width if own else left_x
        box = (x0, y, x0 + width, y + height)
        self.d.rounded_rectangle(box, radius=self.px(30), fill=fill)
        ty = y + pad - self.px(6)
        if line.kind == "photo":
            for i in range(0, int(height), 6):
                shade = 90 + int(120 * i / height)
                self.d.rectangle((x0, y + i, x0 + width, y + i + 6), fill=(shade, shade - 20, 140))
            self.d.rounded_rectangle(box, radius=self.px(30), outline=fill, width=self.px(6))
        if name_in:
            self.d.text((x0 + pad, ty), line.sender or "", font=self.name_font,
                        fill=NAME_COLOURS[hash(line.sender) % len(NAME_COLOURS)])  # fmt: skip
            ty += self.px(48)
        if line.reply_to:
            self.d.rectangle(
                (x0 + pad, ty, x0 + pad + self.px(6), ty + self.px(84)), fill=c["reply"]
            )
            self.d.text(
                (x0 + pad + self.px(20), ty), line.reply_to[0], font=self.small, fill=c["reply"]
            )
            quoted = line.reply_to[1]
            while quoted and self.d.textlength(quoted, font=self.small) > maxw - self.px(20):
                quoted = quoted[:-1]
            self.d.text((x0 + pad + self.px(20), ty + self.px(42)), quoted, font=self.small,
                        fill=c["meta"])  # fmt: skip
            ty += reply_h
        dark_link = self.style.theme == "dark" and not (own and not tg)
        link_ink = (110, 170, 240) if dark_link else (40, 100, 200)
        for t in body:
            self.d.text(
                (x0 + pad, ty), t, font=self.font, fill=link_ink if line.kind == "link" else ink
            )
            ty += lh
        self._time(line, box, own, tg)
        self.messages.append(
            {
                "side": "own" if own else "other",
                "sender": line.sender,
                "time": line.time,
                "text": line.text if line.kind != "photo" else "",
                "kind": line.kind,
                "reply_to": list(line.reply_to) if line.reply_to else None,
                "box": [int(v) for v in box],
            }
        )
        return int(box[3]) + self.px(22)

    def _time(self, line: Line, box: tuple[float, ...], own: bool, tg: bool) -> None:
        tw = self.d.textlength(line.time, font=self.small)
        if tg and line.kind == "photo":  # a dark label over the picture, white time
            x = box[2] - self.px(40) - tw - (self.px(40) if own else 0)
            label = (
                x - self.px(14),
                box[3] - self.px(58),
                box[2] - self.px(20),
                box[3] - self.px(14),
            )
            self.d.rounded_rectangle(label, radius=self.px(20), fill=(45, 45, 50))
            self.d.text((x, box[3] - self.px(52)), line.time, font=self.small, fill=(255, 255, 255))
            return
        if tg:
            x = box[2] - self.px(24) - tw - (self.px(40) if own else 0)
            self.d.text((x, box[3] - self.px(44)), line.time, font=self.small, fill=self.c["meta"])
            if own:
                for dx in (0, self.px(12)):  # the two ticks of a read message
                    x1, y1 = box[2] - self.px(58) + dx, box[3] - self.px(28)
                    self.d.line(
                        (
                            x1,
                            y1,
                            x1 + self.px(8),
                            y1 + self.px(8),
                            x1 + self.px(22),
                            y1 - self.px(10),
                        ),
                        fill=self.c["meta"],
                        width=max(1, self.px(3)),
                    )
            return
        x = box[0] - self.px(14) - tw if own else box[2] + self.px(14)
        self.d.text((x, box[3] - self.px(36)), line.time, font=self.small, fill=self.c["meta"])

    def input_bar(self) -> int:
        top = self.h - self.px(140)
        bar = (255, 255, 255) if self.style.theme == "light" else (28, 28, 30)
        self.d.rectangle((0, top, self.w, self.h), fill=bar)
        return top


def render(conv: Conversation, style: Style) -> Rendered:
    """The screenshot of as much of ``conv`` as fits, and the truth of what it shows."""
    p = _Painter(style, conv)
    y = p.chrome()
    bottom = p.input_bar()
    last_sender: object = object()
    dividers: list[str] = []
    for line in conv.lines:
        need = p.px(560) if line.kind == "photo" else p.px(330)
        if y + need > bottom:
            break
        if line.divider is not None:
            y = p.divider(y, line.divider)
            dividers.append(line.divider)
            last_sender = object()
            continue
        first = line.sender != last_sender
        if first and line is not conv.lines[1]:
            y += p.px(14)
        y = p.bubble(y, line, first)
        last_sender = line.sender
    buf = io.BytesIO()
    p.im.save(buf, "JPEG", quality=style.quality, subsampling=2)
    truth = {
        "app": style.app,
        "system": style.system,
        "theme": style.theme,
        "size": list(style.size),
        "title": conv.title,
        "lang": conv.lang,
        "dividers": dividers,
        "messages": p.messages,
    }
    return Rendered(buf.getvalue(), truth, p.messages)


def all_styles() -> list[Style]:
    return [
        Style(app, system, theme, size)
        for app in ("kakaotalk", "telegram")
        for system in ("android", "ios")
        for theme in ("light", "dark")
        for size in SIZES
    ]


def write_set(folder: Path, count: int, seed: int = 0) -> list[tuple[Path, dict[str, Any]]]:
    """``count`` screenshots cycling through every style and both languages into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    styles = all_styles()
    out = []
    for n in range(count):
        style = styles[n % len(styles)]
        lang = "ko" if (n // len(styles)) % 2 == 0 else "en"
        conv = make_conversation(style.app, lang, seed + n)
        shot = render(conv, style)
        path = folder / f"Screenshot_{n:03d}_{style.app}.jpg"
        path.write_bytes(shot.jpeg)
        out.append((path, shot.truth))
    return out
