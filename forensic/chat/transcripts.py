"""Reading stored transcripts: which exist, whether intact, and their messages as a stream.

A transcript puts each message on its own line (docs/transcript-format.md), so it is read line
by line with the C JSON decoder: flat memory and fast on a 60,000-message export. A file whose
layout is not that one (never written by this tool) is read with ijson instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from forensic.case.case import file_sha256
from forensic.case.derived import open_case_file

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.log import CustodyEntry

_MESSAGES_TAIL = b', "messages": ['


@dataclass(frozen=True)
class StoredTranscript:
    """The latest transcript of one capture group, as its log entry vouches for it."""

    group: str
    seq: int
    app: str
    source_format: str
    path: str
    sha256: str
    parsed_files: tuple[tuple[str, str], ...]
    """(relpath in the export, item SHA-256) of each export file the messages were read from."""
    zone_check: dict[str, Any]

    def item_for(self, file: str | None) -> tuple[str, str]:
        """(export file name, item SHA-256) a message was parsed from (``file``: its page)."""
        for rel, sha in self.parsed_files:
            if rel == file:
                return rel, sha
        return self.parsed_files[0] if self.parsed_files else ("", "")

    def intact(self, case: Case) -> bool:
        try:
            return file_sha256(case.root / self.path) == self.sha256
        except OSError:
            return False


def stored_transcripts(
    case: Case, entries: list[CustodyEntry] | None = None
) -> list[StoredTranscript]:
    """Every group's latest ``transcript`` entry, in log order."""
    found: dict[str, StoredTranscript] = {}
    for entry in entries if entries is not None else case.entries():
        if entry.action != "transcript":
            continue
        records = entry.details.get("files") or []
        if not records:
            continue
        found[entry.subject] = StoredTranscript(
            group=entry.subject,
            seq=entry.seq,
            app=str(entry.details.get("app", "")),
            source_format=str(entry.details.get("source_format", "")),
            path=str(records[0]["path"]),
            sha256=str(records[0]["sha256"]),
            parsed_files=(),
            zone_check=dict(entry.details.get("zone_check") or {}),
        )
    return sorted(found.values(), key=lambda t: t.seq)


def read_records(
    case: Case, transcript: StoredTranscript, keep: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("header", doc) once, then ("chat", chat) and ("message", msg) in file order.

    The header holds what precedes the chats (``v``, ``timezone``, ``parsed_files``, …).
    ``keep``: a cheap test of a message's JSON line; the lines it refuses are not decoded (a
    search's pre-filter: it may keep too much, never too little)."""
    with open_case_file(case, case.root / transcript.path) as fh:
        try:
            yield from _by_line(fh, keep)
            return
        except _NotLineLayout:
            pass
        fh.seek(0)
        yield from _by_ijson(fh)


class _NotLineLayout(ValueError):
    pass


def _by_line(
    fh: IO[bytes], keep: Callable[[str], bool] | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    first, second = fh.readline().rstrip(), fh.readline().strip()
    if not first.startswith(b"{") or not first.endswith(b",") or second != b'"chats": [':
        raise _NotLineLayout
    yield "header", json.loads(first[:-1] + b"}")
    for raw in fh:
        line = raw.strip().strip(b",")
        if line.startswith(b'{"chat": '):
            text = line.decode("utf-8")
            if keep is None or keep(text):
                yield "message", json.loads(text)
        elif line.startswith(b'{"index": ') and line.endswith(_MESSAGES_TAIL):
            doc = json.loads(line[: -len(_MESSAGES_TAIL)] + b"}")
            yield "chat", {"index": doc.get("index"), **(doc.get("chat") or {})}


def _by_ijson(fh: IO[bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    import ijson

    header: dict[str, Any] = {}
    for key, value in ijson.kvitems(fh, "", use_float=True):
        if key != "chats":
            header[key] = value
    yield "header", header
    fh.seek(0)
    for index, chat in enumerate(ijson.items(fh, "chats.item.chat", use_float=True)):
        yield "chat", {"index": index, **(chat or {})}
    fh.seek(0)
    for msg in ijson.items(fh, "chats.item.messages.item", use_float=True):
        yield "message", msg


def with_parsed_files(transcript: StoredTranscript, header: dict[str, Any]) -> StoredTranscript:
    """The transcript with the export files its header names."""
    files = tuple(
        (str(p.get("relpath", "")), str(p.get("sha256", "")))
        for p in header.get("parsed_files") or []
        if isinstance(p, dict)
    )
    return StoredTranscript(**{**transcript.__dict__, "parsed_files": files})


@dataclass(frozen=True)
class CitedTime:
    """A message's time as a citation gives it: as written, local with its offset, UTC."""

    as_written: str
    local: str | None
    """ISO 8601 with the UTC offset the time was read at, e.g. ``2022-12-31T20:21:00+09:00``."""
    utc: str | None
    zone: str | None
    zone_from: str | None
    stated: dict[str, Any] | None = None
    """Telegram: the stated zone, when it disagrees with the derived offset."""

    @property
    def instant(self) -> datetime | None:
        if not self.utc:
            return None
        try:
            return datetime.fromisoformat(self.utc.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "as_written": self.as_written,
            "local": self.local,
            "utc": self.utc,
            "zone": self.zone,
            "zone_from": self.zone_from,
        }
        if self.stated:
            doc["stated"] = self.stated
        return doc


def stored_messages(
    case: Case, stored: StoredTranscript, keep: Callable[[str], bool] | None = None
) -> Iterator[tuple[StoredTranscript, dict[str, Any], dict[str, Any]]]:
    """(transcript with its files, chat, message) for every message, streamed: the one walk
    of a stored transcript that the chat view, search and the screenshot linker share.
    ``keep``: as for :func:`read_records`."""
    transcript = stored
    chats: dict[int, dict[str, Any]] = {}
    for kind, record in read_records(case, stored, keep):
        if kind == "header":
            transcript = with_parsed_files(stored, record)
        elif kind == "chat":
            chats[int(record.get("index") or 0)] = record
        else:
            yield transcript, chats.get(int(record.get("chat") or 0), {}), record


def cited_time(date: dict[str, Any] | None) -> CitedTime:
    """The time of a transcript's message record (version 1 or 2)."""
    from forensic.capture.transcript import offset_text

    date = date or {}
    local, utc = date.get("local"), date.get("utc")
    with_offset: str | None = None
    if local and utc:
        try:
            naive = datetime.fromisoformat(str(local))
            instant = datetime.fromisoformat(str(utc).replace("Z", "+00:00"))
            with_offset = naive.isoformat() + offset_text(
                naive - instant.astimezone(UTC).replace(tzinfo=None)
            )
        except ValueError:
            with_offset = None
    return CitedTime(
        as_written=str(date.get("as_written") or ""),
        local=with_offset,
        utc=str(utc) if utc else None,
        zone=date.get("zone"),
        zone_from=date.get("zone_from"),
        stated=date.get("stated"),
    )
