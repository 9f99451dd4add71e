"""The case as a timeline in Timesketch's import format (JSONL or CSV), streamed in flat memory.

Timesketch (and Plaso users who load its CSV/JSONL) needs three columns: ``message``,
``datetime`` (ISO 8601) and ``timestamp_desc``. Each row also has ``timestamp`` (integer
microseconds since the Unix epoch, the same instant as ``datetime``) and the columns that tie it
to the evidence: item SHA-256, custody-log seq and line hash, and for chat messages the
``message_ref`` ``<group-id>/<chat-index>/<message-id>``.

``datetime`` is written in UTC (``+00:00``): Timesketch's CSV importer turns ``datetime`` into
``timestamp`` with ``strftime("%s")``, which ignores a non-zero offset, so only UTC gives the
same instant on every server. The case zone's local time is beside it in ``datetime_local``.

Rows come in the order they are read (custody log first, then each transcript); Timesketch sorts
by ``timestamp``. See decision 0018 and docs/format.md §14.6.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from forensic._internal.clock import parse_utc
from forensic._internal.fsio import fsync_dir
from forensic.case.case import Case
from forensic.case.derived import open_case_file
from forensic.custody.log import CustodyEntry
from forensic.errors import EXIT_OPERATIONAL, EXIT_USAGE, ForensicError
from forensic.export.transcript_stream import (
    ChatMessage,
    TranscriptHeader,
    TranscriptSource,
    iter_messages,
    message_ref,
    read_chats,
    read_header,
    transcript_sources,
)

TIMELINE_FORMATS = ("jsonl", "csv")
COLUMNS = (
    "message",
    "datetime",
    "timestamp_desc",
    "timestamp",
    "datetime_local",
    "timezone",
    "data_type",
    "case_id",
    "custody_seq",
    "custody_action",
    "entry_hash",
    "item_sha256",
    "group",
    "app",
    "chat",
    "chat_index",
    "message_id",
    "message_ref",
    "sender",
    "sender_id",
    "time_as_written",
    "time_read_in",
    "forwarded_from",
    "media_sha256",
    "tsa",
    "trusted",
)
"""Every row has these columns (CSV header order); JSONL leaves out the empty ones."""
DESC_MESSAGE = "Message sent"
DESC_ACQUIRED = "Acquired"
DESC_SOURCE_MODIFIED = "Source file modified (as seen at acquisition)"
DESC_TOKEN = "Trusted timestamp (TSA genTime)"
DESC_CUSTODY = "Custody log entry"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimelineError(ForensicError):
    """A timeline that cannot be written as asked (messages in the ``[timeline]`` table)."""

    def __init__(self, key: str, /, *, exit_code: int = EXIT_USAGE, **params: object) -> None:
        self.exit_code = exit_code
        super().__init__(key, **params)

    catalogue = "timeline.error_"


@dataclass
class TimelineCounts:
    """What went into the file (``untimed``: chat lines the export gave no time for)."""

    rows: int = 0
    messages: int = 0
    untimed: int = 0
    acquisitions: int = 0
    tokens: int = 0
    custody: int = 0
    transcripts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineWritten:
    path: str
    format: str
    sha256: str
    size: int
    counts: TimelineCounts


def timeline_format(target: Path) -> str:
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in TIMELINE_FORMATS:
        raise TimelineError("format", path=str(target))
    return fmt


def microseconds(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (no float rounding)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


class _Rows:
    """Builds rows with the case's id and zone filled in."""

    def __init__(self, case: Case) -> None:
        self.case_id = case.info.case_id
        self.zone_name = case.info.timezone
        self.zone = ZoneInfo(case.info.timezone)

    def row(
        self, moment: datetime, text: str, desc: str, data_type: str, **fields: Any
    ) -> dict[str, Any]:
        instant = moment.astimezone(UTC)
        return {
            "message": text,
            "datetime": instant.isoformat(),
            "timestamp_desc": desc,
            "timestamp": microseconds(instant),
            "datetime_local": instant.astimezone(self.zone).isoformat(),
            "timezone": self.zone_name,
            "data_type": data_type,
            "case_id": self.case_id,
            **fields,
        }

    def entry_fields(self, entry: CustodyEntry) -> dict[str, Any]:
        return {"custody_seq": entry.seq, "custody_action": entry.action, "entry_hash": entry.hash}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        return None


def custody_rows(
    case: Case, entries: list[CustodyEntry], counts: TimelineCounts
) -> Iterator[dict[str, Any]]:
    """One row per log entry; captures as acquisitions (plus the source's recorded mtime) and
    each trusted timestamp token at its genTime."""
    rows = _Rows(case)
    for entry in entries:
        base = rows.entry_fields(entry)
        when = _moment(entry.time)
        if when is None:
            continue
        d = entry.details
        if entry.action == "capture":
            item = _dict(d.get("item"))
            source = _dict(d.get("source"))
            sha = str(item.get("sha256", ""))
            name = str(source.get("path", "?"))
            group = str(d.get("group") or "")
            acquired = _moment(d.get("acquired")) or when
            yield rows.row(
                acquired,
                f"Acquired {name} ({item.get('media_type', '?')}, {item.get('size', '?')} bytes)",
                DESC_ACQUIRED,
                "forensic:custody:acquisition",
                item_sha256=sha,
                group=group,
                **base,
            )
            counts.acquisitions += 1
            stat = _dict(source.get("stat"))
            mtime = _moment(stat.get("mtime"))
            if mtime is not None:
                yield rows.row(
                    mtime,
                    f"Source file {name} last modified (file system time, as recorded)",
                    DESC_SOURCE_MODIFIED,
                    "forensic:source:file_time",
                    item_sha256=sha,
                    group=group,
                    **base,
                )
            continue
        yield rows.row(
            when,
            f"Custody log: {entry.action} {entry.subject}",
            DESC_CUSTODY,
            f"forensic:custody:{entry.action}",
            **base,
        )
        counts.custody += 1
        if entry.action == "timestamp":
            yield from _token_rows(rows, entry, base, counts)


def _token_rows(
    rows: _Rows, entry: CustodyEntry, base: dict[str, Any], counts: TimelineCounts
) -> Iterator[dict[str, Any]]:
    for token in entry.details.get("tokens", []) or []:
        if not isinstance(token, dict):
            continue
        gen = _moment(token.get("gen_time"))
        if gen is None:
            continue
        trusted = bool(token.get("trusted")) and not token.get("demo")
        yield rows.row(
            gen,
            (
                f"RFC 3161 token from {token.get('tsa', '?')} (serial {token.get('serial', '?')})"
                f" over custody log line {token.get('head_seq', '?')}"
                f" {token.get('head_hash', '')}"
            ),
            DESC_TOKEN,
            "forensic:timestamp:token",
            tsa=str(token.get("tsa", "")),
            trusted="true" if trusted else "false",
            **base,
        )
        counts.tokens += 1


def _message_text(msg: dict[str, Any]) -> str:
    sender = _dict(msg.get("sender")).get("name") or "?"
    text = msg.get("text") if isinstance(msg.get("text"), str) else ""
    if not text and msg.get("action"):
        text = f"[{msg['action']}]"
    media = [m.get("role", "media") for m in msg.get("media") or [] if isinstance(m, dict)]
    if media:
        text = (text + " " if text else "") + "[" + ", ".join(str(r) for r in media) + "]"
    forwarded = msg.get("forwarded_from")
    prefix = f"(forwarded from {forwarded}) " if forwarded else ""
    return f"{sender}: {prefix}{text}"


def chat_rows(
    case: Case,
    source: TranscriptSource,
    header: TranscriptHeader,
    messages: Iterator[ChatMessage],
    counts: TimelineCounts,
) -> Iterator[dict[str, Any]]:
    """One row per chat message that has a time (its UTC as the transcript derived it)."""
    rows = _Rows(case)
    base = rows.entry_fields(source.entry)
    for found in messages:
        msg = found.message
        date = _dict(msg.get("date"))
        when = _moment(date.get("utc"))
        if when is None:
            counts.untimed += 1
            continue
        sender = _dict(msg.get("sender"))
        media = [
            str(m["sha256"])
            for m in msg.get("media") or []
            if isinstance(m, dict) and m.get("sha256")
        ]
        yield rows.row(
            when,
            _message_text(msg),
            DESC_MESSAGE,
            f"forensic:chat:{header.app or 'chat'}:{msg.get('kind') or 'message'}",
            item_sha256=header.export_file_sha256(found.chat),
            group=source.group,
            app=header.app,
            chat=str(found.chat.get("name") or ""),
            chat_index=found.chat_index,
            message_id=found.message_id,
            message_ref=message_ref(source.group, found.chat_index, found.message_id),
            sender=str(sender.get("name") or ""),
            sender_id=str(sender.get("id") or ""),
            time_as_written=str(date.get("as_written") or ""),
            time_read_in=f"{date.get('zone', '')} ({date.get('zone_from', '')}); "
            f"UTC from {date.get('utc_from', '')}",
            forwarded_from=str(msg.get("forwarded_from") or ""),
            media_sha256=";".join(media),
            **base,
        )
        counts.messages += 1


def timeline_rows(
    case: Case, entries: list[CustodyEntry], counts: TimelineCounts
) -> Iterator[dict[str, Any]]:
    """Every row of the timeline, custody log first, then each transcript in log order."""
    yield from custody_rows(case, entries, counts)
    for source in transcript_sources(case, entries):
        path = case.root / source.path

        def opener(path: Path = path) -> Any:
            return open_case_file(case, path)

        try:
            header = read_header(opener)
            chats = read_chats(opener, source)
        except OSError as exc:
            raise TimelineError(
                "read", exit_code=EXIT_OPERATIONAL, path=source.path, reason=exc.strerror
            ) from exc
        counts.transcripts.append(source.path)
        yield from chat_rows(case, source, header, iter_messages(opener, source, chats), counts)


class _RowWriter:
    """Serialises rows as JSONL lines or CSV records into a hashing binary sink."""

    def __init__(self, fh: IO[bytes], fmt: str) -> None:
        self.fh = fh
        self.fmt = fmt
        self.digest = hashlib.sha256()
        self.size = 0
        self.buf = io.StringIO()
        self.csv = csv.DictWriter(self.buf, fieldnames=COLUMNS, lineterminator="\n")
        if fmt == "csv":
            self.csv.writeheader()
            self._flush()

    def _emit(self, text: str) -> None:
        data = text.encode("utf-8")
        self.fh.write(data)
        self.digest.update(data)
        self.size += len(data)

    def _flush(self) -> None:
        self._emit(self.buf.getvalue())
        self.buf.seek(0)
        self.buf.truncate()

    def write(self, row: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            kept = {k: row[k] for k in COLUMNS if k in row and row[k] not in ("", None)}
            self._emit(json.dumps(kept, ensure_ascii=False) + "\n")
            return
        self.csv.writerow({k: row.get(k, "") for k in COLUMNS})
        if self.buf.tell() > 1 << 16:
            self._flush()

    def close(self) -> None:
        if self.fmt == "csv":
            self._flush()


def write_timeline(
    case: Case, entries: list[CustodyEntry], target: Path, fmt: str, *, force: bool = False
) -> TimelineWritten:
    """Stream the timeline to a hidden file beside ``target`` (mode 0600), sync, rename.

    A failure, including a transcript found altered at the end of its pass, leaves nothing at
    ``target``."""
    target = Path(os.path.abspath(target))
    root = case.root.resolve()
    resolved = target.parent.resolve() / target.name
    if resolved == root or root in resolved.parents:
        raise TimelineError("inside_case", path=str(target))
    if target.is_symlink() or target.is_dir():
        raise TimelineError("target_kind", path=str(target))
    if target.exists() and not force:
        raise TimelineError("exists", path=str(target))
    tmp = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
    counts = TimelineCounts()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise TimelineError(
            "write", exit_code=EXIT_OPERATIONAL, path=str(target), reason=exc.strerror
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = _RowWriter(fh, fmt)
            for row in timeline_rows(case, entries, counts):
                writer.write(row)
                counts.rows += 1
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise TimelineError(
                "write",
                exit_code=EXIT_OPERATIONAL,
                path=str(exc.filename or target),
                reason=exc.strerror or str(exc),
            ) from exc
        raise
    return TimelineWritten(str(target), fmt, writer.digest.hexdigest(), writer.size, counts)
