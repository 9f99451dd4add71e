"""Chat screenshots into the case: each recognised screenshot's messages as a transcript.

The transcript of screenshot item ``<sha256>`` is ``transcripts/shot-<sha256>.json`` in the
transcript format (docs/transcript-format.md), one chat, message ids ``S1``, ``S2``, … top to
bottom; its ``transcript`` log entry (subject ``shot-<first 16 hex digits>``) vouches for it
and names the OCR engine and model. So ``search``, ``chat show``, ``mark`` and the report read
screenshot messages as they read an export's, and cite them as ``shot-…/0/S3`` with the
screenshot item and the message's box on it. Every reading is marked ``derived_by: ocr``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.capture.chatshot import CAVEAT, recognise
from forensic.capture.chatshot_layout import ShotMessage, ShotReading, read_chat
from forensic.capture.chatshot_ocr import read_words
from forensic.capture.ocr import IMAGE_TYPES, tesseract_info
from forensic.capture.transcript import time_record
from forensic.case.case import file_sha256, host_name, tool_record
from forensic.custody.log import PendingEntry
from forensic.errors import ForensicError
from forensic.media.safe import ImageRefused, open_image
from forensic.progress import SILENT, ProgressReporter

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.keys import ExaminerKey

SHOT_PREFIX = "shot-"
TEXT_TOLERANCE = 0.8
"""How alike (difflib ratio, blanks ignored) a screenshot's text and an export message's must
be, besides the same sender and minute, to be linked."""


def shot_group(item_id: str) -> str:
    return SHOT_PREFIX + item_id[:16]


@dataclass(frozen=True)
class ShotRecord:
    """What became of one image: read as a chat (``app``, ``messages``) or not."""

    item_id: str
    app: str | None
    theme: str | None
    messages: int
    group: str | None
    linked: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_screenshots(
    case: Case,
    key: ExaminerKey,
    item_ids: Sequence[str],
    progress: ProgressReporter = SILENT,
) -> list[ShotRecord]:
    """Recognise chat screenshots among ``item_ids`` and store what each says."""
    entries = case.entries()
    items = case.items(entries)
    done = {
        e.details.get("screenshot", {}).get("item") for e in entries if e.action == "transcript"
    }
    todo = [
        items[i]  # type: ignore[index]
        for i in dict.fromkeys(item_ids)
        if i in items and items[i].media_type in IMAGE_TYPES and i not in done  # type: ignore[index]
    ]
    if not todo:
        return []
    readings: list[tuple[Any, ShotReading]] = []
    records: list[ShotRecord] = []
    tess: dict[str, str] | None = None
    for item in todo:
        with case.store.plaintext_path(item.item_id) as obj:
            data = obj.read_bytes()
            intact = file_sha256(obj) == item.item_id
        try:
            im, _ = open_image(data)
            with im:
                im.load()
                rec = recognise(im)
                if rec is None or not intact:
                    continue
                tess = tess or tesseract_info()
                words = read_words(tess["path"], im, rec, item.item_id)
                readings.append((item, read_chat(im, rec, words)))
        except (ImageRefused, ForensicError, OSError) as exc:
            records.append(ShotRecord(item.item_id, None, None, 0, None, error=str(exc)))
    if not readings:
        return records
    assert tess is not None
    links = _export_links(case, entries, [r for _, r in readings], _zone(case))
    with case.writing(key):
        for item, reading in readings:
            records.append(_store(case, key, item, reading, tess, links))
            progress.advance(1)
    return records


def _zone(case: Case) -> tuple[str, str]:
    zone = getattr(case.info, "timezone", None)
    return (str(zone), "case") if zone else ("Asia/Seoul", "default")


def _local(m: ShotMessage) -> datetime | None:
    if m.day is None or m.hour_minute is None:
        return None
    try:
        return datetime(*m.day, *m.hour_minute)
    except ValueError:
        return None


def engine_record(tess: dict[str, str]) -> dict[str, Any]:
    """The OCR engine and the model files it read (by SHA-256: a model is named by value)."""
    from forensic.capture.chatshot import __file__ as reader

    models = {}
    for lang in ("kor", "eng"):
        for folder in ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tessdata"):
            path = Path(folder) / f"{lang}.traineddata"
            if path.is_file():
                models[lang] = {"path": str(path), "sha256": file_sha256(path)}
                break
    layout = hashlib.sha256(Path(reader).read_bytes()).hexdigest()
    return {"name": "tesseract", **tess, "langs": "kor+eng", "psm": 4, "output": "tsv",
            "models": models, "layout_reader": {"module": "forensic.capture.chatshot",
                                                "sha256": layout}}  # fmt: skip


def _message_record(
    n: int, m: ShotMessage, zone: tuple[str, str], links: dict[tuple[Any, ...], list[str]]
) -> dict[str, Any]:
    local = _local(m)
    date = time_record(m.time or "", local, zone[0], zone[1])
    if m.day_as_written:
        date["day_as_written"] = m.day_as_written
    own = m.side == "own"
    record: dict[str, Any] = {
        "id": f"S{n}",
        "kind": "message",
        "date": date,
        "sender": {"name": m.sender, "id": None, **({"is_exporter": True} if own else {})},
        "text": m.text,
        "side": m.side,
        "shot_kind": m.kind,
        "reply_header": m.reply_to,
        "box": list(m.box),
        "confidence": round(m.confidence, 3),
        "derived_by": "ocr",
        "media": [{"role": "photo", "status": "shown_in_screenshot"}] if m.kind == "photo" else [],
    }
    found = links.get(_link_key(m, local))
    if found:
        record["same_as"] = found
    return record


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def transcript_bytes(
    item: Any, reading: ShotReading, zone: tuple[str, str], links: dict[tuple[Any, ...], list[str]]
) -> tuple[bytes, int]:
    """The transcript of one screenshot, in the line layout readers stream."""
    rec = reading.recognition
    header = {
        "format": "forensic-transcript",
        "v": 2,
        "group": shot_group(item.item_id),
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "tool": tool_record(),
        "timezone": {"name": zone[0], "from": zone[1]},
        "app": rec.app,
        "source_format": f"{rec.app}-screenshot",
        "derived_by": "ocr",
        "caveat": CAVEAT,
        "screenshot": {"item": item.item_id, **rec.as_dict()},
        "parsed_files": [
            {"relpath": Path(item.acquisitions[0].source_path).name, "sha256": item.item_id}
        ],
    }
    chat = {"name": reading.title, "type": "screenshot", "dividers": list(reading.dividers)}
    lines = [_dumps(header)[:-1] + ",", '"chats": [',
             '{"index": 0, "chat": ' + _dumps(chat) + ', "messages": [']  # fmt: skip
    msgs = [
        _dumps({"chat": 0, **_message_record(n, m, zone, links)})
        for n, m in enumerate(reading.messages, start=1)
    ]
    lines.append(",\n".join(msgs))
    trailer = {"message_total": len(msgs), "complete": True, "error": None}
    lines.append(f'], "message_count": {len(msgs)}}}')
    lines.append("],\n" + _dumps(trailer)[1:])
    return ("\n".join(lines) + "\n").encode("utf-8"), len(msgs)


def _store(
    case: Case,
    key: ExaminerKey,
    item: Any,
    reading: ShotReading,
    tess: dict[str, str],
    links: dict[tuple[Any, ...], list[str]],
) -> ShotRecord:
    zone = _zone(case)
    body, count = transcript_bytes(item, reading, zone, links)
    group = shot_group(item.item_id)
    linked = sum(1 for m in reading.messages if links.get(_link_key(m, _local(m))))
    rec = reading.recognition
    with case.step(key, "transcript") as step:
        file = step.stage_file(f"transcripts/shot-{item.item_id}.json", body)
        details = {
            "files": [file],
            "group": group,
            "app": rec.app,
            "source_format": f"{rec.app}-screenshot",
            "messages": count,
            "chats": 1,
            "derived_by": "ocr",
            "engine": engine_record(tess),
            "screenshot": {"item": item.item_id, **rec.as_dict()},
            "linked_to_export": linked,
            "media_links": [],
            "examiner": case.examiner_name,
            "host": host_name(),
            "tool": tool_record(),
            "run": step.run,
        }
        step.record([PendingEntry("transcript", group, details)])
    return ShotRecord(item.item_id, rec.app, rec.theme, count, group, linked)


def _squeeze(text: str | None) -> str:
    return "".join((text or "").casefold().split())


def _link_key(m: ShotMessage, local: datetime | None) -> tuple[Any, ...]:
    return (_squeeze(m.sender), local.isoformat() if local else None, _squeeze(m.text))


def _export_links(
    case: Case, entries: list[Any], readings: list[ShotReading], zone: tuple[str, str]
) -> dict[tuple[Any, ...], list[str]]:
    """Screenshot message -> refs of the export messages with the same sender and minute and
    a text alike within :data:`TEXT_TOLERANCE` (one pass over each export transcript)."""
    from forensic.chat.citation import cite
    from forensic.chat.transcripts import stored_messages, stored_transcripts

    wanted: dict[str, list[tuple[tuple[Any, ...], str, str]]] = {}
    for reading in readings:
        for m in reading.messages:
            local = _local(m)
            if local is not None and m.sender and m.text:
                key = _link_key(m, local)
                wanted.setdefault(local.isoformat(), []).append((key, key[0], key[2]))
    out: dict[tuple[Any, ...], list[str]] = {}
    if not wanted:
        return out
    for stored in stored_transcripts(case, entries):
        if stored.group.startswith(SHOT_PREFIX) or not stored.intact(case):
            continue
        for transcript, chat, record in stored_messages(case, stored):
            minute = str((record.get("date") or {}).get("local") or "")[:16]
            for key, sender, text in wanted.get(minute + ":00", []):
                cited = cite(transcript, chat, record)
                if _squeeze(cited.sender_name) != sender:
                    continue
                ratio = difflib.SequenceMatcher(None, _squeeze(cited.text), text).ratio()
                if ratio >= TEXT_TOLERANCE:
                    out.setdefault(key, []).append(cited.ref.text)
    return out
