"""``ocr`` and ``search``: the text read from evidence items, and finding items by it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.capture import ocr as reading
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case, open_for_writing
from forensic.session import Session
from forensic.store import ItemId

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.chat.search import ChatQuery, MessageHit, TextMatcher


@dataclass(frozen=True)
class OcrOutcome:
    records: tuple[reading.OcrRecord, ...]
    named: bool
    """Items were named (so a skipped one is worth telling the user about)."""

    @property
    def read(self) -> list[reading.OcrRecord]:
        return [r for r in self.records if r.skipped is None]

    @property
    def skipped(self) -> list[reading.OcrRecord]:
        return [r for r in self.records if r.skipped is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "read": [
                {"sha256": r.item_id, "method": r.method, "chars": r.chars, "path": r.path}
                for r in self.read
            ],
            "skipped": [
                {"sha256": r.item_id, "media_type": r.skipped, "reason": r.reason("en")}
                for r in self.skipped
            ],
        }


def ocr(
    session: Session,
    items: Sequence[str] = (),
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> OcrOutcome:
    """Read the text of ``items`` (SHA-256 or prefix; none: every image and page not yet read)
    into ``ocr/<sha256>.json``, each vouched for by an ``ocr`` log entry."""
    case, key = open_for_writing(session, case_dir)
    records = reading.ocr_items(case, key, list(items), progress)
    return OcrOutcome(tuple(records), bool(items))


@dataclass(frozen=True)
class SearchOptions:
    """What ``search`` keeps besides the text (docs/json-output.md, "search")."""

    since: str | None = None
    """ISO date or time; without an offset read in the case's zone."""
    until: str | None = None
    sender: str | None = None
    chat: str | None = None
    regex: bool = False
    by_time: bool = False
    """Oldest first (hits without a time last); else case order: transcripts in log order,
    messages in file order, then the items' text."""


@dataclass(frozen=True)
class TextHit:
    """Text read from an item (OCR) or its acquisition's source, URL or note, cited."""

    hit: reading.SearchHit
    group: str | None
    file: str
    time: dict[str, Any]

    @property
    def instant(self) -> str | None:
        return self.time.get("utc")

    @property
    def item_id(self) -> str:
        """The SHA-256 of the item the text was read from."""
        return self.hit.item_id

    def as_dict(self) -> dict[str, Any]:
        h = self.hit
        return {
            "kind": h.kind,
            "sha256": h.item_id,
            "item_sha256": h.item_id,
            "group": self.group,
            "file": self.file,
            "field": h.field,
            "snippet": h.snippet,
            "media_type": h.media_type,
            "source": h.source,
            "time": self.time,
        }


@dataclass(frozen=True)
class ChatHit:
    """A chat message that matched, with everything a citation names."""

    hit: MessageHit

    @property
    def instant(self) -> str | None:
        return self.hit.message.time.utc

    def as_dict(self) -> dict[str, Any]:
        m = self.hit.message
        chat = m.chat_name or m.member or m.file
        cited = m.as_dict()
        cited["message_kind"] = cited.pop("kind")  # message, service or system
        return {
            "kind": "message",
            "sha256": m.item_sha256,
            **cited,
            "field": f"{chat} #{m.ref.message}",
            "snippet": self.hit.snippet,
            "media_type": m.app,
            "source": m.file,
        }


@dataclass(frozen=True)
class SearchOutcome:
    query: str
    hits: tuple[TextHit | ChatHit, ...]
    options: SearchOptions = SearchOptions()
    zone: str = "Asia/Seoul"

    def as_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "ok": True,
            "query": self.query,
            "regex": o.regex,
            "filters": {"since": o.since, "until": o.until, "sender": o.sender, "chat": o.chat},
            "sort": "time" if o.by_time else "found",
            "zone": self.zone,
            "hits": [h.as_dict() for h in self.hits],
        }


def search(
    session: Session,
    text: str,
    case_dir: Path | None = None,
    options: SearchOptions | None = None,
) -> SearchOutcome:
    """Chat messages, read text and acquisition metadata that contain ``text``, each cited."""
    from forensic.chat.search import ChatQuery, TextMatcher, search_chats
    from forensic.service.reading import parse_moment

    options = options or SearchOptions()
    case = open_case(session, case_dir)
    zone = case.info.timezone
    matcher = TextMatcher(text, regex=options.regex)
    query = ChatQuery(
        since=parse_moment(options.since, zone, "--since") if options.since else None,
        until=parse_moment(options.until, zone, "--until", end=True) if options.until else None,
        sender=options.sender,
        chat=options.chat,
    )
    entries = case.entries()
    hits: list[TextHit | ChatHit] = [
        ChatHit(h) for h in search_chats(case, matcher, query, entries)
    ]
    if options.sender is None and options.chat is None:
        hits.extend(_text_hits(case, text, matcher, query, zone))
    if options.by_time:
        hits.sort(key=lambda h: (h.instant is None, _utc_key(h.instant)))
    return SearchOutcome(text, tuple(hits), options, zone)


def _utc_key(utc: str | None) -> str:
    """UTC texts compare in time order once written alike (``…Z`` to the second)."""
    from forensic._internal.clock import parse_utc

    if not utc:
        return ""
    try:
        return parse_utc(utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return utc


def _text_hits(
    case: Case, text: str, matcher: TextMatcher, query: ChatQuery, zone: str
) -> list[TextHit]:
    from forensic._internal.clock import local_and_utc
    from forensic.service.reading import acquired_time, item_name

    items = case.items()
    out: list[TextHit] = []
    for hit in reading.search(case, text, matcher.snippet):
        item = items.get(ItemId(hit.item_id))
        if item is None:
            continue
        shown = local_and_utc(acquired_time(item), zone)
        if (query.since is not None and shown.utc < query.since) or (
            query.until is not None and shown.utc > query.until
        ):
            continue
        time = {
            "as_written": None,
            "local": shown.local_iso,
            "utc": shown.utc_iso,
            "zone": zone,
            "zone_from": "case",
            "what": "acquired",
        }
        group = item.acquisitions[0].details.get("group") if item.acquisitions else None
        out.append(TextHit(hit, str(group) if group else None, item_name(item), time))
    return out
