"""Chat screenshots: how well and how fast they are read, on generated screenshots whose truth
is exact (tests/chatshots.py), and how often a real photo is taken for a chat (never, we want).

Per screenshot: recognition, OCR (tesseract TSV, kor+eng) and the layout reader, timed; then
each true message is paired with the read message whose box overlaps it most, and scored:
character error rate of the text (Korean and Latin apart; blanks collapsed, and without
blanks), sender, time as written, side; the room title and the date dividers. False
recognition: every image under ../shared/datasets is offered to the recogniser.

    PYTHONPATH=. python bench/bench_chatshots.py [--count 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from forensic.capture.chatshot import parse_divider, recognise  # noqa: E402
from forensic.capture.chatshot_layout import ShotMessage, read_chat  # noqa: E402
from forensic.capture.chatshot_ocr import read_words  # noqa: E402
from tests.chatshots import write_set  # noqa: E402

DATASETS = REPO.parent / "shared" / "datasets"


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _overlap(a: list[int], b: tuple[int, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def _squeezed(text: str | None) -> str:
    return "".join((text or "").split())


def is_korean(text: str) -> bool:
    return any("\uac00" <= c <= "\ud7a3" for c in text)


class Tally:
    def __init__(self, verbose: bool = False) -> None:
        self.n: dict[str, int] = {}
        self.verbose = verbose

    def add(self, key: str, value: int = 1) -> None:
        self.n[key] = self.n.get(key, 0) + value

    def rate(self, num: str, den: str) -> float:
        return self.n.get(num, 0) / max(self.n.get(den, 0), 1)


def score(truth: dict[str, Any], read: list[ShotMessage], tally: Tally) -> None:
    for want in truth["messages"]:
        tally.add("messages")
        best = max(read, key=lambda m: _overlap(want["box"], m.box), default=None)
        if best is None or _overlap(want["box"], best.box) < 0.5:
            tally.add("missed")
            if tally.verbose:
                print(f"  missed {want['side']} {want['sender']} {want['time']} {want['text']!r}")
            continue
        tally.add("found")
        tally.add("side_ok", best.side == want["side"])
        if tally.verbose and (
            best.side != want["side"]
            or best.sender != want["sender"]
            or best.time != want["time"]
            or " ".join(best.text.split()) != " ".join(want["text"].split())
        ):
            print(f"  want {want['side']} {want['sender']} {want['time']} {want['text']!r}")
            print(f"  read {best.side} {best.sender} {best.time} {best.text!r}")
        tally.add("sender_ok", (best.sender or None) == want["sender"])
        tally.add("time_ok", best.time == want["time"])
        if want["kind"] == "photo":
            tally.add("photo")
            tally.add("photo_ok", best.kind == "photo")
            continue
        script = "ko" if is_korean(want["text"]) else "latin"
        ref, got = " ".join(want["text"].split()), " ".join(best.text.split())
        tally.add(f"chars_{script}", len(ref))
        tally.add(f"errors_{script}", edit_distance(ref, got))
        tally.add(f"chars_{script}_nb", len(ref.replace(" ", "")))
        tally.add(f"errors_{script}_nb", edit_distance(ref.replace(" ", ""), got.replace(" ", "")))
        if want["reply_to"]:
            tally.add("replies")
            tally.add("reply_ok", best.reply_to is not None)


def read_set(count: int, folder: Path, tally: Tally) -> list[dict[str, Any]]:
    exe = shutil.which("tesseract")
    assert exe, "tesseract is needed"
    rows = []
    for path, truth in write_set(folder, count):
        if tally.verbose:
            print(path.name, truth["app"], truth["system"], truth["theme"], truth["size"])
        t0 = time.perf_counter()
        with Image.open(path) as im:
            im.load()
            rec = recognise(im)
            tally.add("shots")
            if rec is None:
                tally.add("shot_not_recognised")
                continue
            tally.add("app_ok", rec.app == truth["app"] and rec.theme == truth["theme"])
            words = read_words(exe, im, rec, path.name)
            t1 = time.perf_counter()
            reading = read_chat(im, rec, words)
        t2 = time.perf_counter()
        tally.add("title_ok", _squeezed(reading.title) == _squeezed(truth["title"]))
        tally.add("dividers", len(truth["dividers"]))
        read_days = {parse_divider(d) for d in reading.dividers}
        tally.add("dividers_ok", sum(parse_divider(d) in read_days for d in truth["dividers"]))
        score(truth, list(reading.messages), tally)
        rows.append({"file": path.name, "style": [truth["app"], truth["system"], truth["theme"]],
                     "size": truth["size"], "lang": truth["lang"], "ocr_s": round(t1 - t0, 2),
                     "layout_s": round(t2 - t1, 3)})  # fmt: skip
    return rows


def false_recognitions() -> tuple[int, int, list[str]]:
    """(images offered, taken for a chat, which) over every image of the shared datasets."""
    offered, taken = 0, []
    for path in sorted(DATASETS.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"):
            continue
        try:
            with Image.open(path) as im:
                im.load()
                offered += 1
                if recognise(im) is not None:
                    taken.append(str(path.relative_to(DATASETS)))
        except (OSError, ValueError, Image.DecompressionBombError):
            continue
    return offered, len(taken), taken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--verbose", action="store_true", help="print every misread message")
    args = parser.parse_args()
    tally = Tally(args.verbose)
    with tempfile.TemporaryDirectory() as tmp:
        rows = read_set(args.count, Path(tmp), tally)
    offered, taken, which = false_recognitions() if DATASETS.is_dir() else (0, 0, [])
    n = tally.n
    summary = {
        "cores": os.cpu_count(),
        "screenshots": n.get("shots", 0),
        "recognised": n.get("shots", 0) - n.get("shot_not_recognised", 0),
        "app_and_theme": tally.rate("app_ok", "shots"),
        "messages": n.get("messages", 0),
        "found": tally.rate("found", "messages"),
        "side": tally.rate("side_ok", "found"),
        "sender": tally.rate("sender_ok", "found"),
        "time": tally.rate("time_ok", "found"),
        "cer_korean": tally.rate("errors_ko", "chars_ko"),
        "cer_korean_without_blanks": tally.rate("errors_ko_nb", "chars_ko_nb"),
        "cer_latin": tally.rate("errors_latin", "chars_latin"),
        "cer_latin_without_blanks": tally.rate("errors_latin_nb", "chars_latin_nb"),
        "photos": tally.rate("photo_ok", "photo"),
        "replies": tally.rate("reply_ok", "replies"),
        "titles": tally.rate("title_ok", "shots"),
        "dividers": tally.rate("dividers_ok", "dividers"),
        "ocr_s_mean": sum(r["ocr_s"] for r in rows) / max(len(rows), 1),
        "layout_s_mean": sum(r["layout_s"] for r in rows) / max(len(rows), 1),
        "false_recognition": {"offered": offered, "taken": taken, "which": which},
    }
    for key, value in summary.items():
        print(f"{key:28} {value:.4f}" if isinstance(value, float) else f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
