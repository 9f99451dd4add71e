"""The normalised chat transcript: written as a stream (flat memory), read back for context.

See docs/transcript-format.md. A transcript is derived data: it is built from the stored copies
of an export's files, lives at ``transcripts/<group-id>.json`` and is vouched for by the
``transcript`` custody-log entry that wrote it.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import posixpath
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote

from forensic._internal.casefs import PRIVATE_DIR, PRIVATE_FILE, SEALED_FILE
from forensic.capture.interface import DeriveContext, PlannedItem
from forensic.case.case import file_sha256
from forensic.case.derived import EncryptingWriter, open_case_file
from forensic.errors import UsageError
from forensic.i18n import message

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.log import CustodyEntry

TRANSCRIPT_FORMAT = "forensic-transcript"
TRANSCRIPT_VERSION = 1
TRANSCRIPT_AREA = "transcripts"
DEFAULT_TIMEZONE = "Asia/Seoul"

_NOT_INCLUDED = re.compile(r"^\((File|Photo|Video)[^)]*(not included|exceeds)[^)]*\)?", re.I)
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


class ChatError(UsageError):
    """A chat-export option the tool cannot honour (its messages live in the [chat] table)."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"chat.{self.key}", lang, **self.params)


def library_versions() -> dict[str, str]:
    import ijson

    return {"ijson": str(getattr(ijson, "__version__", "?")), "ijson_backend": ijson.backend}


def check_timezone(name: str | None) -> tuple[str, str]:
    """The zone local chat times are read in, and who said so ("user" or "default")."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name:
        return DEFAULT_TIMEZONE, "default"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ChatError("unknown_timezone", zone=name) from None
    return name, "user"


def time_record(
    as_written: str, local: datetime | None, zone: str, zone_from: str
) -> dict[str, Any]:
    """A local time as the export wrote it, read in the stated zone; UTC only derived from it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    record: dict[str, Any] = {"as_written": as_written, "zone": zone, "zone_from": zone_from}
    if local is None:
        record["local"] = None
        record["utc"] = None
        return record
    record["local"] = local.isoformat()
    try:
        aware = local.replace(tzinfo=ZoneInfo(zone))
        record["utc"] = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["utc_from"] = "local time read in the stated zone"
    except (ZoneInfoNotFoundError, ValueError):
        record["utc"] = None
    return record


def unix_utc(value: str) -> str | None:
    try:
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return None


@dataclass
class MediaStats:
    linked: int = 0
    missing: int = 0
    not_included: int = 0
    not_acquired: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class MediaResolver:
    """Turns a media reference of an export into a status and, when stored, its SHA-256."""

    ctx: DeriveContext
    source_file: str
    problems: list[PlannedItem] = field(default_factory=list)
    stats: MediaStats = field(default_factory=MediaStats)

    def resolve(self, ref: str, base: str, role: str) -> dict[str, Any]:
        record: dict[str, Any] = {"role": role, "ref": ref}
        if _NOT_INCLUDED.match(ref):
            record["status"] = "not_included"
            self.stats.not_included += 1
            return record
        raw = ref.replace("\\", "/")
        if raw.startswith("/") or _WINDOWS_ABS.match(ref) or raw.lower().startswith("file:"):
            return self._refused(record, ref)
        norm = posixpath.normpath(posixpath.join(base, raw)) if raw else ""
        if not raw or norm == ".." or norm.startswith("../"):
            return self._refused(record, ref)
        for candidate in dict.fromkeys((norm, posixpath.normpath(unquote(norm)))):
            rel = candidate.encode("utf-8")
            found = self.ctx.acquired.get(rel)
            if found is not None:
                record.update(status="acquired", relpath=candidate, sha256=found.sha256)
                record["size"] = found.size
                self.stats.linked += 1
                return record
            if rel in self.ctx.not_acquired:
                record.update(status="not_acquired", relpath=candidate)
                record["reason"] = self.ctx.not_acquired[rel]
                self.stats.not_acquired += 1
                return record
        record.update(status="missing", relpath=norm)
        self.stats.missing += 1
        self.problems.append(
            PlannedItem(
                os.path.join(self.ctx.root, norm.encode("utf-8")),
                "skipped",
                norm.encode("utf-8"),
                self.ctx.group_id,
                reason="chat.media_missing",
                reason_params=(("file", self.source_file),),
            )
        )
        return record

    def _refused(self, record: dict[str, Any], ref: str) -> dict[str, Any]:
        record["status"] = "refused"
        record["reason"] = "path escapes the export folder"
        self.stats.refused += 1
        self.problems.append(
            PlannedItem(
                os.path.join(self.ctx.root, os.fsencode(self.source_file)),
                "failed",
                None,
                self.ctx.group_id,
                reason="chat.path_escapes",
                reason_params=(("ref", ref), ("file", self.source_file)),
            )
        )
        return record


class TranscriptWriter:
    """Writes a transcript as a stream of messages to a synced temp file in the case's tmp/."""

    def __init__(self, ctx: DeriveContext, header: dict[str, Any]) -> None:
        self.ctx = ctx
        if not ctx.scratch.is_dir():
            ctx.scratch.mkdir(parents=True, mode=PRIVATE_DIR)
            os.chmod(ctx.scratch, PRIVATE_DIR)
        self.temp = ctx.scratch / f"transcript-{uuid.uuid4().hex}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        self.fh: IO[bytes] = os.fdopen(os.open(self.temp, flags, PRIVATE_FILE), "wb")
        # Encrypted case: the transcript reaches the disk only as age ciphertext (streamed).
        self.sink: IO[bytes] | EncryptingWriter = self.fh
        if ctx.recipients:
            from forensic.store.crypt import parse_recipient

            recipients = [parse_recipient(r) for r in ctx.recipients]
            self.sink = EncryptingWriter(self.fh, recipients)
        self.digest = hashlib.sha256()
        self.size = 0
        self.chat_index = -1
        self.chat_messages = 0
        self.total = 0
        self.links: list[list[Any]] = []
        doc = {
            "format": TRANSCRIPT_FORMAT,
            "v": TRANSCRIPT_VERSION,
            "group": ctx.group_id,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "tool": {**ctx.tool, **library_versions()},
            "timezone": {"name": ctx.timezone, "from": ctx.timezone_from},
            **header,
        }
        self._write(_dumps(doc)[:-1] + ',\n"chats": [')

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.sink.write(data)
        self.digest.update(data)
        self.size += len(data)

    def begin_chat(self, chat: dict[str, Any]) -> None:
        if self.chat_index >= 0:
            self._end_chat()
            self._write(",")
        self.chat_index += 1
        self.chat_messages = 0
        self._write("\n{" + f'"index": {self.chat_index}, "chat": {_dumps(chat)}, "messages": [')

    def _end_chat(self) -> None:
        self._write(f'\n], "message_count": {self.chat_messages}}}')

    def message(self, msg: dict[str, Any]) -> None:
        msg = {"chat": self.chat_index, **msg}
        for media in msg.get("media", ()):
            if media.get("sha256"):
                self.links.append([self.chat_index, msg["id"], media["sha256"]])
        self._write(("\n" if self.chat_messages == 0 else ",\n") + _dumps(msg))
        self.chat_messages += 1
        self.total += 1

    def close(self, trailer: dict[str, Any]) -> tuple[Path, str, int]:
        if self.chat_index >= 0:
            self._end_chat()
        self._write("\n],\n" + _dumps({"message_total": self.total, **trailer})[1:] + "\n")
        if self.sink is not self.fh:
            self.sink.close()
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.chmod(self.temp, SEALED_FILE)
        return self.temp, self.digest.hexdigest(), self.size

    def abort(self) -> None:
        if isinstance(self.sink, EncryptingWriter):
            self.sink.abort()
        self.fh.close()
        self.temp.unlink(missing_ok=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- reading: the messages around a media item -------------------------------------------------
@dataclass(frozen=True)
class TranscriptContext:
    """One place a media item appears in a stored transcript, with the messages around it."""

    group: str
    app: str
    source_format: str
    chat: dict[str, Any]
    transcript: str
    intact: bool
    focus_ids: tuple[str, ...]
    messages: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "app": self.app,
            "source_format": self.source_format,
            "chat": self.chat,
            "transcript": self.transcript,
            "intact": self.intact,
            "focus": list(self.focus_ids),
            "messages": list(self.messages),
        }


def transcript_context(
    case: Case,
    item_id: str,
    around: int = 3,
    entries: list[CustodyEntry] | None = None,
) -> list[TranscriptContext]:
    """Messages around each place ``item_id`` is linked in the case's transcripts.

    Each entry names the chat, and each message keeps its sender, its time as written with the
    zone it was read in, and where it was forwarded from. ``intact`` is False when the transcript
    file no longer has the SHA-256 its log entry recorded (the messages are then not trusted).
    """
    found: list[TranscriptContext] = []
    for entry in entries if entries is not None else case.entries():
        if entry.action != "transcript":
            continue
        links = entry.details.get("media_links", [])
        wanted: dict[int, set[str]] = collections.defaultdict(set)
        for link in links:
            if isinstance(link, list) and len(link) == 3 and link[2] == item_id:
                wanted[int(link[0])].add(str(link[1]))
        if not wanted:
            continue
        records = entry.details.get("files", [])
        if not records:
            continue
        rel = str(records[0]["path"])
        path = case.root / rel
        try:
            intact = file_sha256(path) == records[0]["sha256"]
        except OSError:
            found.append(
                TranscriptContext(
                    entry.subject,
                    str(entry.details.get("app", "")),
                    str(entry.details.get("source_format", "")),
                    {},
                    rel,
                    False,
                    tuple(sorted(set().union(*wanted.values()))),
                    (),
                )
            )
            continue
        with open_case_file(case, path) as fh:  # encrypted case: decrypted in memory
            found.extend(
                _read_context(entry.details, entry.subject, rel, fh, wanted, intact, around)
            )
    return found


def _read_context(
    details: dict[str, Any],
    group: str,
    rel: str,
    fh: BinaryIO,
    wanted: dict[int, set[str]],
    intact: bool,
    around: int,
) -> list[TranscriptContext]:
    import ijson

    chats: dict[int, dict[str, Any]] = {}
    fh.seek(0)
    for index, chat in enumerate(ijson.items(fh, "chats.item.chat")):
        if index in wanted:
            chats[index] = chat
    out: list[TranscriptContext] = []
    for chat_index, ids in sorted(wanted.items()):
        window: collections.deque[dict[str, Any]] = collections.deque(maxlen=around)
        picked: list[dict[str, Any]] = []
        pending_after = 0
        focus: list[str] = []
        fh.seek(0)
        for msg in ijson.items(fh, "chats.item.messages.item", use_float=True):
            if msg.get("chat") != chat_index:
                continue
            if str(msg.get("id")) in ids:
                picked.extend(window)
                window.clear()
                picked.append({**msg, "focus": True})
                focus.append(str(msg.get("id")))
                pending_after = around
            elif pending_after > 0:
                picked.append(msg)
                pending_after -= 1
            else:
                window.append(msg)
        out.append(
            TranscriptContext(
                group,
                str(details.get("app", "")),
                str(details.get("source_format", "")),
                chats.get(chat_index, {}),
                rel,
                intact,
                tuple(focus),
                tuple(picked),
            )
        )
    return out


@dataclass(frozen=True)
class MessageHit:
    """A chat message whose text contains the searched words."""

    group: str
    app: str
    chat: str
    message_id: str
    sender: str
    date: str
    text: str
    media: tuple[str, ...]


def search_messages(case: Case, matches: Callable[[str], bool]) -> list[MessageHit]:
    """Messages in the case's intact transcripts whose text ``matches`` (streamed, flat memory).

    A transcript whose bytes no longer match its log entry is skipped: altered derived text is
    never trusted (``verify`` names it).
    """
    import ijson

    hits: list[MessageHit] = []
    for entry in case.entries():
        if entry.action != "transcript":
            continue
        records = entry.details.get("files", [])
        if not records:
            continue
        path = case.root / str(records[0]["path"])
        try:
            if file_sha256(path) != records[0]["sha256"]:
                continue
            chats: list[str] = []
            with open_case_file(case, path) as fh:  # encrypted case: decrypted in memory
                for chat in ijson.items(fh, "chats.item.chat"):
                    chats.append(str((chat or {}).get("name") or ""))
                fh.seek(0)
                for msg in ijson.items(fh, "chats.item.messages.item", use_float=True):
                    text = msg.get("text")
                    if not isinstance(text, str) or not matches(text):
                        continue
                    index = int(msg.get("chat") or 0)
                    hits.append(
                        MessageHit(
                            group=entry.subject,
                            app=str(entry.details.get("app", "")),
                            chat=chats[index] if index < len(chats) else "",
                            message_id=str(msg.get("id")),
                            sender=str((msg.get("sender") or {}).get("name") or "?"),
                            date=str((msg.get("date") or {}).get("as_written") or ""),
                            text=text,
                            media=tuple(
                                str(m["sha256"])
                                for m in msg.get("media") or []
                                if isinstance(m, dict) and m.get("sha256")
                            ),
                        )
                    )
        except (OSError, ValueError, ijson.JSONError):
            continue
    return hits
