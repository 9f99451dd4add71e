"""Chat transcripts read back message by message (flat memory) for the timeline and CASE exports.

A transcript (docs/transcript-format.md) is derived data that a ``transcript`` entry vouches for.
The reader hashes exactly the bytes it parses and refuses the transcript at the end of the pass
when they are not the bytes the custody log recorded: an exporter that has already streamed some
messages out then throws its output away, so nothing from an altered transcript is handed over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO

from forensic.case.case import Case
from forensic.chat.refs import MessageRef
from forensic.custody.log import CustodyEntry
from forensic.errors import EXIT_INTEGRITY, ForensicError

Opener = Callable[[], AbstractContextManager[BinaryIO]]
_HEADER_KEYS = ("group", "app", "source_format", "timezone", "parsed_files")


class TranscriptReadError(ForensicError):
    """A vouched-for transcript that cannot be trusted or read (``[timeline]`` table)."""

    exit_code = EXIT_INTEGRITY

    catalogue = "timeline.error_"


@dataclass(frozen=True)
class TranscriptSource:
    """One transcript file of the case with the log entries that vouch for it."""

    path: str
    entry: CustodyEntry
    """The ``transcript`` entry that wrote it (its group, app and seq)."""
    digests: frozenset[str]
    """SHA-256 values the latest file record accepts: the bytes, and the plaintext of an
    encrypted case's ciphertext."""

    @property
    def group(self) -> str:
        return self.entry.subject


@dataclass(frozen=True)
class TranscriptHeader:
    group: str
    app: str
    source_format: str
    timezone: dict[str, Any]
    parsed_files: tuple[dict[str, Any], ...]

    def export_file_sha256(self, chat: dict[str, Any]) -> str:
        """The SHA-256 of the export file a chat was read from (``;``-joined when the export
        spreads one chat over several files, such as Telegram HTML pages)."""
        name = chat.get("file")
        for record in self.parsed_files:
            if name and record.get("relpath") == name:
                return str(record.get("sha256", ""))
        return ";".join(str(r.get("sha256", "")) for r in self.parsed_files)


@dataclass(frozen=True)
class ChatMessage:
    chat_index: int
    chat: dict[str, Any]
    message: dict[str, Any]

    @property
    def message_id(self) -> str:
        return str(self.message.get("id"))


def transcript_sources(case: Case, entries: list[CustodyEntry]) -> list[TranscriptSource]:
    """The case's transcripts in log order, each with the digests its latest record accepts."""
    files = case.recorded_files(entries)
    out: list[TranscriptSource] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.action != "transcript":
            continue
        for record in entry.details.get("files", []) or []:
            path = str(record.get("path", "")) if isinstance(record, dict) else ""
            latest = files.get(path)
            if not path or path in seen or latest is None:
                continue
            seen.add(path)
            digests = {str(latest.get("sha256", ""))}
            if isinstance(latest.get("plaintext_sha256"), str):
                digests.add(str(latest["plaintext_sha256"]))
            out.append(TranscriptSource(path, entry, frozenset(digests)))
    return out


class _HashingReader:
    """A binary reader that hashes what passes through it (ijson reads through ``read``)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data

    def finish(self) -> str:
        while self.read(1 << 20):
            pass
        return self.digest.hexdigest()


def read_header(open_file: Opener) -> TranscriptHeader:
    """The transcript's top-level fields before ``chats`` (only the head of the file is read)."""
    import ijson

    found: dict[str, Any] = {}
    builder: Any = None
    key = ""
    with open_file() as fh:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == key and event in ("end_map", "end_array"):
                    found[key], builder = builder.value, None
                continue
            if prefix == "" and event == "map_key":
                key = str(value)
                if key == "chats":
                    break
            elif prefix in _HEADER_KEYS and event in ("start_map", "start_array"):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            elif prefix in _HEADER_KEYS:
                found[prefix] = value
    files = found.get("parsed_files")
    zone = found.get("timezone")
    return TranscriptHeader(
        group=str(found.get("group") or ""),
        app=str(found.get("app") or ""),
        source_format=str(found.get("source_format") or ""),
        timezone=zone if isinstance(zone, dict) else {},
        parsed_files=tuple(f for f in files if isinstance(f, dict))
        if isinstance(files, list)
        else (),
    )


def read_chats(open_file: Opener, source: TranscriptSource) -> list[dict[str, Any]]:
    """Every chat's description (name, type, id), checked against the recorded digest."""
    import ijson

    with open_file() as raw:
        fh = _HashingReader(raw)
        try:
            chats = [c if isinstance(c, dict) else {} for c in ijson.items(fh, "chats.item.chat")]
        except ijson.JSONError as exc:
            raise TranscriptReadError("transcript_unreadable", path=source.path) from exc
        if fh.finish() not in source.digests:
            raise TranscriptReadError("transcript_altered", path=source.path)
    return chats


def iter_messages(
    open_file: Opener, source: TranscriptSource, chats: list[dict[str, Any]]
) -> Iterator[ChatMessage]:
    """The transcript's messages in file order; raises at the end when the bytes read are not
    the recorded ones (the caller discards what it wrote)."""
    import ijson

    with open_file() as raw:
        fh = _HashingReader(raw)
        try:
            for msg in ijson.items(fh, "chats.item.messages.item", use_float=True):
                if not isinstance(msg, dict):
                    continue
                index = msg.get("chat")
                index = index if isinstance(index, int) and 0 <= index < len(chats) else -1
                yield ChatMessage(index, chats[index] if index >= 0 else {}, msg)
        except ijson.JSONError as exc:
            raise TranscriptReadError("transcript_unreadable", path=source.path) from exc
        if fh.finish() not in source.digests:
            raise TranscriptReadError("transcript_altered", path=source.path)


def message_ref(group: str, chat_index: int, message_id: str) -> str:
    """How a message is cited: the one canonical form of :class:`forensic.chat.refs.MessageRef`."""
    return MessageRef(group, chat_index, message_id).text
