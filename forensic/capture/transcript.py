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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote

from forensic._internal.casefs import PRIVATE_DIR, PRIVATE_FILE, SEALED_FILE
from forensic.capture.interface import DeriveContext, PlannedItem
from forensic.case.case import file_sha256
from forensic.case.derived import EncryptingWriter, open_case_file
from forensic.errors import UsageError

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.log import CustodyEntry

TRANSCRIPT_FORMAT = "forensic-transcript"
TRANSCRIPT_VERSION = 2
"""2: times carry their UTC ``offset``; Telegram JSON zones derived from ``date_unixtime``;
KakaoTalk PC ``as_written`` is the time text alone; ``zone_check`` and ``recognised`` in the
trailer; KakaoTalk zip photos linked by their file-name times. Version 1 stays readable."""
TRANSCRIPT_AREA = "transcripts"
DEFAULT_TIMEZONE = "Asia/Seoul"

_NOT_INCLUDED = re.compile(r"^\((File|Photo|Video)[^)]*(not included|exceeds)[^)]*\)?", re.I)
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


class ChatError(UsageError):
    """A chat-export option the tool cannot honour (its messages live in the [chat] table)."""

    catalogue = "chat."


def library_versions() -> dict[str, str]:
    import ijson

    return {"ijson": str(getattr(ijson, "__version__", "?")), "ijson_backend": ijson.backend}


def check_timezone(name: str | None, case_zone: str | None = None) -> tuple[str, str]:
    """The zone local chat times are read in, and who said so: ``"user"`` (``--timezone``),
    ``"case"`` (the case's own zone) or ``"default"`` (Asia/Seoul)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name:
        return (case_zone, "case") if case_zone else (DEFAULT_TIMEZONE, "default")
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
        record["offset"] = offset_text(aware.utcoffset())
        record["utc"] = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["utc_from"] = "local time read in the stated zone"
    except (ZoneInfoNotFoundError, ValueError):
        record["utc"] = None
    return record


def offset_text(offset: timedelta | None) -> str:
    """``+09:00`` for nine hours east of UTC (ISO 8601)."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def derived_time(
    as_written: str, local: datetime | None, unixtime: str, stated: str, stated_from: str
) -> dict[str, Any]:
    """A local time written beside its UTC instant (Telegram ``date`` and ``date_unixtime``):
    the offset between the two is the exporting computer's zone at that moment, so it is taken
    per message (a DST change inside the export is followed). ``stated`` is the zone the user
    (or the case, or the default) said; a different offset is kept under ``stated`` so that
    nobody reads the time in the wrong zone without being told."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    utc = unix_utc(unixtime)
    if local is None or utc is None:
        fallback = time_record(as_written, local, stated, stated_from)
        if utc is not None:
            fallback.update(unixtime=unixtime, utc=utc, utc_from="date_unixtime")
        return fallback
    instant = datetime.fromtimestamp(int(unixtime), UTC)
    offset = local - instant.replace(tzinfo=None)
    record: dict[str, Any] = {
        "as_written": as_written,
        "local": local.isoformat(),
        "zone": f"UTC{offset_text(offset)}",
        "zone_from": "derived",
        "offset": offset_text(offset),
        "unixtime": unixtime,
        "utc": utc,
        "utc_from": "date_unixtime",
    }
    try:
        stated_offset = instant.astimezone(ZoneInfo(stated)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        stated_offset = None
    if stated_offset != offset:
        record["stated"] = {
            "zone": stated,
            "from": stated_from,
            "offset": offset_text(stated_offset) if stated_offset is not None else None,
        }
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
        self.tally: collections.Counter[str] = collections.Counter()
        """What the messages carry: media by status, photos linked, zones derived."""
        self.offsets: collections.Counter[str] = collections.Counter()
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
            self._count_media(media)
        date = msg.get("date") or {}
        if date.get("zone_from") == "derived":
            self.offsets[str(date.get("offset"))] += 1
            self.tally["zone_disagrees"] += "stated" in date
        self._write(("\n" if self.chat_messages == 0 else ",\n") + _dumps(msg))
        self.chat_messages += 1
        self.total += 1

    def _count_media(self, media: dict[str, Any]) -> None:
        status = str(media.get("status"))
        if status in ("acquired", "acquired_in_container"):
            self.tally["media_linked"] += 1
            self.tally["photos_linked"] += media.get("role") == "photo"
        elif status in ("missing", "not_included", "not_in_export", "not_linked"):
            self.tally["media_missing"] += int(media.get("count") or 1)

    def zone_check(self) -> dict[str, Any]:
        """Offsets derived from the export (Telegram JSON) against the zone stated for it."""
        return {
            "stated": {"zone": self.ctx.timezone, "from": self.ctx.timezone_from},
            "derived_offsets": dict(sorted(self.offsets.items())),
            "disagreements": self.tally["zone_disagrees"],
        }

    def recognised(
        self, app: str, source_format: str, device: str, lang: str | None
    ) -> dict[str, Any]:
        """What capture tells the user it found (the ``chats`` of ``capture --json``)."""
        return {
            "app": app,
            "source_format": source_format,
            "device": device,
            "language": lang,
            "chats": self.chat_index + 1,
            "messages": self.total,
            "photos_linked": self.tally["photos_linked"],
            "media_linked": self.tally["media_linked"],
            "media_missing": self.tally["media_missing"],
        }

    def close(self, trailer: dict[str, Any]) -> tuple[Path, str, int]:
        if self.chat_index >= 0:
            self._end_chat()
        trailer = {"message_total": self.total, **trailer, "zone_check": self.zone_check()}
        self._write("\n],\n" + _dumps(trailer)[1:] + "\n")
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
    zone_check: dict[str, Any] = field(default_factory=dict)
    """The export's derived zone against the stated one (``disagreements`` > 0: warn)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone_check": self.zone_check,
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
                dict(details.get("zone_check") or {}),
            )
        )
    return out
