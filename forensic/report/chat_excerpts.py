"""The chat evidence of a report: for each stored transcript, the messages around every media
item of the report linked to a message and around every message the examiner marked.

Marks are custody-log entries: action ``mark``, subject ``msg:<group>/<chat>/<message>``,
details ``{"group", "chat", "message", "note", "context", "item_sha256"}``; an ``unmark`` of
the same subject cancels it. A transcript whose bytes no longer match its log entry is named,
and none of its messages is quoted.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from forensic.case import Case
from forensic.case.case import file_sha256
from forensic.case.derived import open_case_file
from forensic.custody.log import CustodyEntry

DEFAULT_CONTEXT = 3
MAX_CONTEXT = 20
TEXT_LIMIT = 600
#: media statuses of a transcript that mean the file is named but not in the case
MISSING_STATUSES = ("missing", "not_included", "not_in_export", "not_acquired", "refused")


@dataclass(frozen=True)
class Mark:
    group: str
    chat: int
    message: str
    note: str | None
    context: int
    seq: int


@dataclass(frozen=True)
class ChatMessage:
    chat: int
    id: str
    sender: str | None
    as_written: str
    utc: str | None
    #: the zone the export's time was read in, and who said so (``derived``: Telegram's local
    #: time and unixtime of this very message)
    zone: str
    zone_from: str
    line: int | None
    text: str
    forwarded_from: str | None
    #: "media" (carries an item of the report), "mark" (marked by the examiner) or ""
    focus: str
    note: str | None
    media: tuple[str, ...]
    #: a screenshot message: its box on the screenshot and the OCR's confidence
    box: tuple[int, ...] | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class MissingMedia:
    chat: int
    message: str
    ref: str
    status: str
    role: str


@dataclass(frozen=True)
class ChatExcerpt:
    group: str
    app: str
    source_format: str
    transcript: str
    intact: bool
    zone: str
    zone_from: str
    export_files: tuple[tuple[str, str], ...]
    chats: tuple[str, ...]
    message_total: int
    messages: tuple[ChatMessage, ...]
    missing: tuple[MissingMedia, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "app": self.app,
            "source_format": self.source_format,
            "transcript": self.transcript,
            "intact": self.intact,
            "timezone": {"name": self.zone, "from": self.zone_from},
            "export_files": [{"path": p, "sha256": s} for p, s in self.export_files],
            "chats": list(self.chats),
            "message_total": self.message_total,
            "messages": [m.__dict__ for m in self.messages],
            "missing_media": [m.__dict__ for m in self.missing],
        }


def active_marks(entries: Iterable[CustodyEntry]) -> dict[str, Mark]:
    """Marks still in force, by subject: the ``forensic chat mark`` rule (a later ``unmark``
    cancels, a later ``mark`` replaces, a subject that disagrees with its details is none)."""
    from forensic.chat.marks import active_marks as marks_in_force

    return {
        m.ref.subject: Mark(
            m.ref.group,
            m.ref.chat,
            m.ref.message,
            m.note,
            max(0, min(m.context, MAX_CONTEXT)),
            m.seq,
        )
        for m in marks_in_force(entries)
    }


def chat_excerpts(case: Case, entries: list[CustodyEntry], item_ids: set[str]) -> list[ChatExcerpt]:
    """One excerpt per stored transcript whose export file or one of whose media is among
    ``item_ids`` (the report's items; see the module doc)."""
    marks = active_marks(entries)
    exports = _export_items(entries)
    out: list[ChatExcerpt] = []
    for entry in entries:
        if entry.action != "transcript" or not entry.details.get("files"):
            continue
        focus: dict[tuple[int, str], tuple[str, str | None, int]] = {}
        for link in entry.details.get("media_links", []) or []:
            if isinstance(link, list) and len(link) == 3 and str(link[2]) in item_ids:
                focus[(int(link[0]), str(link[1]))] = ("media", None, DEFAULT_CONTEXT)
        if not focus and not exports.get(entry.subject, set()) & item_ids:
            continue
        for mark in marks.values():
            if mark.group == entry.subject:
                focus[(mark.chat, mark.message)] = ("mark", mark.note, mark.context)
        out.append(_excerpt(case, entry, focus))
    return out


def _export_items(entries: list[CustodyEntry]) -> dict[str, set[str]]:
    """Capture group -> the items acquired in it (a transcript's subject is its group)."""
    groups: dict[str, set[str]] = {}
    for e in entries:
        if e.action == "capture" and e.details.get("group"):
            groups.setdefault(str(e.details["group"]), set()).add(e.subject.removeprefix("sha256:"))
        shot = e.details.get("screenshot") if e.action == "transcript" else None
        if isinstance(shot, dict) and shot.get("item"):
            groups.setdefault(e.subject, set()).add(str(shot["item"]))
    return groups


def _excerpt(
    case: Case, entry: CustodyEntry, focus: dict[tuple[int, str], tuple[str, str | None, int]]
) -> ChatExcerpt:
    record = entry.details["files"][0]
    rel = str(record["path"])
    path = case.root / rel
    base: dict[str, Any] = {
        "group": entry.subject,
        "app": str(entry.details.get("app", "")),
        "source_format": str(entry.details.get("source_format", "")),
        "transcript": rel,
        "message_total": int(entry.details.get("messages", 0) or 0),
    }
    try:
        intact = file_sha256(path) == record.get("sha256")
    except OSError:
        intact = False
    if not intact:
        return ChatExcerpt(**base, intact=False, zone="", zone_from="", export_files=(),
                           chats=(), messages=(), missing=())  # fmt: skip
    with open_case_file(case, path) as fh:  # an encrypted case: decrypted in memory
        header = _header(fh)
        messages, missing = _read(fh, focus)
    return ChatExcerpt(**base, intact=True, messages=tuple(messages), missing=tuple(missing),
                       **header)  # fmt: skip


def _header(fh: BinaryIO) -> dict[str, Any]:
    import ijson

    fh.seek(0)
    zone = next(ijson.items(fh, "timezone"), None) or {}
    fh.seek(0)
    files = next(ijson.items(fh, "parsed_files"), None) or []
    fh.seek(0)
    chats = [str(c.get("name") or c.get("id") or "?") for c in ijson.items(fh, "chats.item.chat")]
    return {
        "zone": str(zone.get("name") or ""),
        "zone_from": str(zone.get("from") or ""),
        "export_files": tuple(
            (str(f.get("relpath", "")), str(f.get("sha256", "")))
            for f in files
            if isinstance(f, dict)
        ),
        "chats": tuple(chats),
    }


def _message(msg: dict[str, Any], focus: tuple[str, str | None, int] | None) -> ChatMessage:
    date: dict[str, Any] = msg["date"] if isinstance(msg.get("date"), dict) else {}
    sender: dict[str, Any] = msg["sender"] if isinstance(msg.get("sender"), dict) else {}
    text = str(msg.get("text") or msg.get("action") or "")
    line = msg.get("line") if msg.get("line") is not None else msg.get("row")
    media = tuple(
        str(m.get("relpath") or m.get("ref") or m.get("member") or "")
        for m in msg.get("media", ()) or ()
        if isinstance(m, dict)
    )
    return ChatMessage(
        chat=int(msg.get("chat", 0)),
        id=str(msg.get("id")),
        sender=None if sender.get("name") is None else str(sender.get("name")),
        as_written=str(date.get("as_written") or ""),
        utc=None if date.get("utc") is None else str(date.get("utc")),
        zone=str(date.get("zone") or ""),
        zone_from=str(date.get("zone_from") or ""),
        line=int(line) if isinstance(line, int) else None,
        text=text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…",
        forwarded_from=None if not msg.get("forwarded_from") else str(msg["forwarded_from"]),
        focus=focus[0] if focus else "",
        note=focus[1] if focus else None,
        media=media,
        box=tuple(msg["box"]) if isinstance(msg.get("box"), list) else None,
        confidence=msg.get("confidence") if isinstance(msg.get("confidence"), float) else None,
    )


def _read(
    fh: BinaryIO, focus: dict[tuple[int, str], tuple[str, str | None, int]]
) -> tuple[list[ChatMessage], list[MissingMedia]]:
    """One streamed pass: the windows around the focused messages, and every missing media."""
    import ijson

    before = max((f[2] for f in focus.values()), default=0)
    window: dict[int, collections.deque[dict[str, Any]]] = collections.defaultdict(
        lambda: collections.deque(maxlen=max(before, 1))
    )
    after: dict[int, int] = collections.defaultdict(int)
    picked: list[ChatMessage] = []
    missing: list[MissingMedia] = []
    fh.seek(0)
    for msg in ijson.items(fh, "chats.item.messages.item", use_float=True):
        chat = int(msg.get("chat", 0))
        for m in msg.get("media", ()) or ():
            if isinstance(m, dict) and m.get("status") in MISSING_STATUSES:
                ref = str(m.get("ref") or m.get("relpath") or m.get("member") or "")
                missing.append(MissingMedia(chat, str(msg.get("id")), ref, str(m["status"]),
                                            str(m.get("role") or "")))  # fmt: skip
        hit = focus.get((chat, str(msg.get("id"))))
        if hit is not None:
            keep = list(window[chat])[-hit[2] :] if hit[2] else []
            picked.extend(_message(m, None) for m in keep)
            window[chat].clear()
            picked.append(_message(msg, hit))
            after[chat] = max(after[chat], hit[2])
        elif after[chat] > 0:
            picked.append(_message(msg, None))
            after[chat] -= 1
        elif before:
            window[chat].append(msg)
    return picked, missing
