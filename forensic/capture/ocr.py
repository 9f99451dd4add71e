"""Text of evidence items as derived data, and ``forensic search``.

Images (screenshots, photos) are read by tesseract with Korean and English models; HTML pages
(a web capture's ``rendered.html``) give their visible text directly. The text of item
``<sha256>`` is written to ``ocr/<sha256>.json`` next to the untouched original, and the ``ocr``
log entry that writes it vouches for the file (path, SHA-256, size), so ``verify`` catches any
later change. OCR is machine reading: the JSON says which engine, version and languages read it,
and the original image remains the evidence.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from forensic._internal.casefs import make_private_dirs
from forensic._internal.child_env import child_environment
from forensic._internal.clock import utc_timestamp
from forensic.capture.web import WebError
from forensic.case.case import Case, Item, file_sha256, host_name, tool_record
from forensic.case.derived import read_case_file
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import PendingEntry
from forensic.media.safe import ImageRefused, Reduction, open_image
from forensic.progress import SILENT, ProgressReporter
from forensic.store import ItemId

OCR_DIR = "ocr"
LANGS = ("kor", "eng")
OCR_TIMEOUT = 300
#: Page segmentation "single column of text of variable sizes": chat and page screenshots are
#: one column; the automatic mode (3) drops whole lines of Korean on sparse images.
PSM = "4"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp")
HTML_TYPES = ("text/html",)


@dataclass(frozen=True)
class OcrRecord:
    item_id: str
    method: str
    chars: int
    path: str | None
    skipped: str | None = None
    """The media type of an item not read."""
    why: ImageRefused | WebError | None = field(default=None, compare=False, repr=False)
    """Why an image was not read (refused by the decompression-bomb policy, tesseract failed):
    the rest of the run goes on."""
    working: Reduction | None = field(default=None, compare=False, repr=False)
    """The image was read at a reduced size (over the pixels decoded at once)."""

    def reason(self, lang: str = "en") -> str | None:
        if isinstance(self.why, ImageRefused):
            return self.why.reason(lang)
        return self.why.diagnostics(lang) if self.why is not None else None


@dataclass(frozen=True)
class SearchHit:
    item_id: str
    kind: str  # "ocr" (text read from the item), "message" (a chat message), or "metadata"
    field: str
    snippet: str
    media_type: str
    source: str


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self.skip += 1
        for name, value in attrs:
            if name in ("alt", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def html_text(data: bytes) -> str:
    parser = _TextOnly()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    return "\n".join(parser.parts)


def tesseract_info() -> dict[str, str]:
    exe = shutil.which("tesseract")
    if exe is None:
        raise WebError("no_tesseract", reason="not on PATH")
    try:
        version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=30, check=False,
            env=child_environment(),
        )  # fmt: skip
        langs = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False,
            env=child_environment(),
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WebError("no_tesseract", reason=str(exc)) from exc
    have = set((langs.stdout + langs.stderr).split())
    missing = [lang for lang in LANGS if lang not in have]
    if missing:
        raise WebError("tesseract_lang", langs="+".join(missing))
    first = (version.stdout or version.stderr).splitlines()
    return {"path": exe, "version": first[0] if first else "tesseract"}


def ocr_input(data: bytes) -> tuple[bytes, Reduction | None]:
    """What tesseract reads, under the one decompression-bomb policy (checked from the header
    before tesseract decodes anything): the stored bytes when the image decodes whole; a JPEG
    too large for that, decoded reduced and handed on as PNG. Raises :class:`ImageRefused`."""
    im, reduction = open_image(data)
    with im:
        if reduction is None:
            return data, None
        im.load()
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=1)
        return buf.getvalue(), reduction


def read_image(exe: str, data: bytes, item_id: str) -> str:
    """tesseract reading the image from stdin: no copy of the evidence is written anywhere;
    its environment is built from the allow-list (no passphrase reaches it)."""
    try:
        done = subprocess.run(
            [exe, "stdin", "stdout", "-l", "+".join(LANGS), "--psm", PSM],
            input=data,
            capture_output=True,
            timeout=OCR_TIMEOUT,
            check=False,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired as exc:
        raise WebError("ocr_failed", item=item_id[:12], reason=f"timeout {OCR_TIMEOUT}s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WebError("ocr_failed", item=item_id[:12], reason=reason[-1] if reason else "?")
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8", "replace")).strip()


def _read_picture(
    tess: dict[str, str], data: bytes, item_id: str
) -> tuple[str, dict[str, Any], Reduction | None]:
    """An image's text by tesseract, the engine record, and the reduced size it was read at."""
    data, working = ocr_input(data)
    text = read_image(tess["path"], data, item_id)
    engine: dict[str, Any] = {
        "name": "tesseract",
        **tess,
        "langs": "+".join(LANGS),
        "psm": int(PSM),
    }
    if working is not None:
        engine["read_at"] = {
            "width": working.decoded[0],
            "height": working.decoded[1],
            "of": {"width": working.full[0], "height": working.full[1]},
            "note": working.note("en"),
        }
    return text, engine, working


def ocr_items(
    case: Case,
    key: ExaminerKey,
    item_ids: list[str] | None = None,
    progress: ProgressReporter = SILENT,
) -> list[OcrRecord]:
    """Read the text of the named items (default: every image and HTML item not yet read)."""
    entries = case.entries()
    items = case.items(entries)
    done = _ocr_files(case)
    if item_ids:
        chosen: list[Item] = [case.resolve_item(i, entries) for i in item_ids]
    else:
        chosen = [i for i in items.values() if i.item_id not in done]
    records: list[OcrRecord] = []
    todo = []
    for item in chosen:
        if item.media_type in IMAGE_TYPES or item.media_type in HTML_TYPES:
            todo.append(item)
        else:
            records.append(OcrRecord(item.item_id, "", 0, None, skipped=item.media_type))
    if not todo:
        return records
    tess = tesseract_info() if any(i.media_type in IMAGE_TYPES for i in todo) else None
    case.check_key(key)
    with case.writing(key):
        out_dir = make_private_dirs(case.root, OCR_DIR)
        progress.start("ocr", len(todo))
        try:
            for item in todo:
                with case.store.plaintext_path(item.item_id) as obj:
                    data = obj.read_bytes()
                    check = file_sha256(obj)
                if check != item.item_id:
                    raise WebError(
                        "ocr_failed", item=item.item_id[:12], reason="stored copy altered"
                    )
                if item.media_type in HTML_TYPES:
                    text = unicodedata.normalize("NFC", html_text(data))
                    method = "html-text"
                    engine: dict[str, Any] = {"name": "python html.parser (visible text)"}
                    working: Reduction | None = None
                else:
                    assert tess is not None
                    try:
                        text, engine, working = _read_picture(tess, data, item.item_id)
                    except (ImageRefused, WebError) as exc:
                        # one bad image never stops the run: named, skipped, the rest goes on
                        records.append(
                            OcrRecord(item.item_id, "", 0, None, item.media_type, why=exc)
                        )
                        progress.advance(1)
                        continue
                    method = "tesseract"
                doc = {
                    "format": "forensic-ocr",
                    "v": 1,
                    "item": item.item_id,
                    "media_type": item.media_type,
                    "method": method,
                    "engine": engine,
                    "read": utc_timestamp(),
                    "tool": tool_record(),
                    "text": text,
                    "caveat": "machine-read text; the original item is the evidence",
                }
                path = out_dir / f"{item.item_id}.json"
                body = json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
                with case.step(key, "ocr") as step:
                    rec = step.stage_file(path, body)
                    details = {
                        "item": item.item_id,
                        "method": method,
                        "engine": engine,
                        "chars": len(text),
                        "examiner": case.examiner_name,
                        "host": host_name(),
                        "tool": tool_record(),
                        "files": [rec],
                        "run": step.run,
                    }
                    step.record([PendingEntry("ocr", f"sha256:{item.item_id}", details)])
                records.append(
                    OcrRecord(item.item_id, method, len(text), rec["path"], working=working)
                )
                progress.advance(1)
        finally:
            progress.finish()
    return records


def _ocr_files(case: Case) -> dict[str, str]:
    """item id -> vouched ocr file path (only files a log entry recorded)."""
    out: dict[str, str] = {}
    for rel in case.recorded_files():
        if rel.startswith(OCR_DIR + "/") and rel.endswith(".json"):
            out[rel[len(OCR_DIR) + 1 : -5]] = rel
    return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _squeeze(text: str) -> tuple[str, list[int]]:
    """Text without whitespace, and each kept character's index in the original."""
    kept, index = [], []
    for i, ch in enumerate(text):
        if not ch.isspace():
            kept.append(ch)
            index.append(i)
    return "".join(kept), index


def _find(haystack: str, needle: str) -> str | None:
    """A snippet around ``needle`` in ``haystack`` (case- and whitespace-insensitive)."""
    hay = _norm(haystack)
    squeezed, index = _squeeze(hay)
    want, _ = _squeeze(_norm(needle))
    pos = squeezed.find(want)
    if pos < 0:
        return None
    start, end = index[pos], index[pos + len(want) - 1] + 1
    snippet = haystack[max(0, start - 40) : end + 40]
    return re.sub(r"\s+", " ", snippet).strip()


def search(
    case: Case, text: str, find: Callable[[str], str | None] | None = None
) -> list[SearchHit]:
    """Items whose read text or acquisition metadata contains ``text`` (chat messages are
    searched by :mod:`forensic.chat.search`). ``find``: a snippet around the match, or
    ``None`` (default: blanks, case and Unicode form ignored)."""
    find = find or (lambda haystack: _find(haystack, text))
    if not text.strip():
        from forensic.capture.web_errors import WebUsageError

        raise WebUsageError("empty_search")
    entries = case.entries()
    items = case.items(entries)
    recorded = case.recorded_files(entries)
    hits: list[SearchHit] = []
    for item_id, rel in sorted(_ocr_files(case).items()):
        item = items.get(ItemId(item_id))
        if item is None:
            continue
        path = case.root / rel
        try:
            if file_sha256(path) != recorded[rel]["sha256"]:
                continue  # altered derived text is never trusted (verify reports it)
            doc = json.loads(read_case_file(case, path).decode("utf-8"))
        except (OSError, ValueError):
            continue
        snippet = find(str(doc.get("text", "")))
        if snippet is not None:
            hits.append(
                SearchHit(
                    item_id,
                    "ocr",
                    str(doc.get("method")),
                    snippet,
                    item.media_type,
                    item.acquisitions[0].source_path,
                )
            )
    found = {h.item_id for h in hits}
    for item in items.values():
        if item.item_id in found:
            continue
        for acq in item.acquisitions:
            d = acq.details
            fields = {
                "source": str(d.get("source", {}).get("path", "")),
                "url": str(d.get("source", {}).get("final_url") or d.get("source_url") or ""),
                "note": str(d.get("note") or ""),
            }
            hit = next(
                ((k, s) for k, v in fields.items() if v and (s := find(v)) is not None),
                None,
            )
            if hit is not None:
                hits.append(
                    SearchHit(
                        item.item_id, "metadata", hit[0], hit[1], item.media_type, acq.source_path
                    )
                )
                break
    return hits
