"""``list``, ``log`` and ``show``: what a case holds, read from its custody log.

Reading needs no examiner key (the log and the item records are readable by anyone holding the
case); a ``show`` is logged as an ``access`` entry only when the session's key is the case's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from forensic.custody.parties import Handover, handovers
from forensic.errors import KeyringError, UsageError
from forensic.i18n import message
from forensic.service.opening import open_case
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.capture.transcript import TranscriptContext
    from forensic.case import Case, Item
    from forensic.custody.log import CustodyEntry

NO_RECORD = "--no-record"
"""The reason a view or a verification was not logged when the person asked for that."""


# -- list ------------------------------------------------------------------------------------
def item_name(item: Item) -> str:
    """The file name an item was first acquired under (a chat or page member's own name, else
    the last part of its source path, else the page's address); ``""`` when none was recorded."""
    first = item.acquisitions[0].details if item.acquisitions else {}
    source = first.get("source")
    source = source if isinstance(source, dict) else {}
    name = source.get("name")
    if isinstance(name, str) and name:
        return name
    path = source.get("path")
    if isinstance(path, str) and path.rstrip("/"):
        return path.rstrip("/").rsplit("/", 1)[-1]
    url = first.get("source_url")
    return url if isinstance(url, str) else ""


def acquired_time(item: Item) -> str:
    """When the item was first acquired (UTC): :attr:`Item.acquired_utc`, the instant the
    report prints too."""
    return item.acquired_utc


def shown_time(utc: str, zone: str) -> dict[str, str]:
    """``local`` (ISO 8601 with the zone's offset) and ``zone`` for a recorded UTC time, to
    sit beside it in a ``--json`` document (empty when it does not parse)."""
    from forensic._internal.clock import local_and_utc

    try:
        # the same instant exactly (to the microsecond), in the zone's own offset
        return {"local": local_and_utc(utc, zone).local.isoformat(), "zone": zone}
    except ValueError:
        return {}


def case_zone(case: Case, zone: str | None) -> str:
    """The zone times are shown in: ``--timezone``, else the case's (``init --timezone``)."""
    return display_zone(zone) if zone else case.info.timezone


def display_zone(zone: str | None) -> str:
    """The zone times are shown in: the one asked for, else Asia/Seoul (the zone chat times
    are read in by default); an unknown name is a usage error."""
    from forensic.capture.transcript import check_timezone

    return check_timezone(zone)[0]


def _parse_utc(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(utc: str, zone: str) -> str:
    """A recorded UTC time as ``YYYY-MM-DD HH:MM:SS`` in ``zone`` (unparsable: as recorded)."""
    from zoneinfo import ZoneInfo

    moment = _parse_utc(utc)
    if moment is None:
        return utc
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def zone_label(zone: str, utc_times: Sequence[str]) -> str:
    """The zone's abbreviation (``KST``) when every time shown has the same one, else its name."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    moments = [m for m in map(_parse_utc, utc_times) if m is not None] or [datetime.now(UTC)]
    names = {m.astimezone(tz).tzname() for m in moments}
    name = names.pop() if len(names) == 1 else None
    return name if name and name[:1] not in "+-" else zone


@dataclass(frozen=True)
class ItemList:
    case_id: str
    items: tuple[Item, ...]
    """In capture order; ``no`` in the document counts from 1."""
    zone: str = "Asia/Seoul"
    """The zone the front end shows times in (the document keeps them in UTC)."""
    handovers: tuple[Handover, ...] = ()
    """Every hand-over of the log, received or "not yet received"."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case_id": self.case_id,
            "zone": self.zone,
            "handovers": [h.as_dict() for h in self.handovers],
            "items": [
                {
                    "no": n,
                    "sha256": item.item_id,
                    "name": item_name(item),
                    "size": item.size,
                    "media_type": item.media_type,
                    "hashes": item.hashes,
                    "object": item.object_path,
                    "acquired": {
                        "utc": item.acquired_utc,
                        **shown_time(item.acquired_utc, self.zone),
                    },
                    "acquisitions": [
                        {
                            "seq": a.seq,
                            "time": a.time,
                            **shown_time(a.time, self.zone),
                            "acquired": a.acquired_utc,
                            "acquired_local": shown_time(a.acquired_utc, self.zone).get("local"),
                            "source": a.source_path,
                        }
                        for a in item.acquisitions
                    ],
                }
                for n, item in enumerate(self.items, start=1)
            ],
        }


def list_items(
    session: Session, case_dir: Path | None = None, *, zone: str | None = None
) -> ItemList:
    """Every acquired item with all its acquisitions; ``zone``: where times are shown (else
    the case's zone)."""
    case = open_case(session, case_dir)
    shown_in = case_zone(case, zone)
    entries = case.entries()
    return ItemList(
        case.info.case_id,
        tuple(case.items(entries).values()),
        shown_in,
        tuple(handovers(entries)),
    )


# -- log -------------------------------------------------------------------------------------
def is_access_entry(entry: CustodyEntry) -> bool:
    """An ``access`` entry, or another entry that records an access (``export``'s
    ``details.access``): who viewed, exported or decrypted what."""
    return entry.action == "access" or "access" in entry.details


def access_details(entry: CustodyEntry) -> dict[str, Any] | None:
    """The access record an entry carries (its details, or ``details.access``), if any."""
    found = entry.details if entry.action == "access" else entry.details.get("access")
    return found if isinstance(found, dict) else None


@dataclass(frozen=True)
class ItemLabel:
    """How a log line names an item: its number and file name."""

    no: int
    name: str


@dataclass(frozen=True)
class LogView:
    case_id: str
    entries: tuple[CustodyEntry, ...]
    """The entries the filters kept, in log order."""
    zone: str = "Asia/Seoul"
    labels: Mapping[str, ItemLabel] = field(default_factory=lambda: MappingProxyType({}))
    """Every item of the case by SHA-256 (to name items beside their hashes)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case_id": self.case_id,
            "zone": self.zone,
            "entries": [
                {**e.as_dict(), **shown_time(e.time, self.zone), "hash": e.hash}
                for e in self.entries
            ],
        }


@dataclass(frozen=True)
class LogFilter:
    """Which entries ``log`` lists; empty: all of them."""

    access_only: bool = False
    actions: tuple[str, ...] = ()
    item: str | None = None
    """An item as :meth:`~forensic.case.Case.resolve_item` takes it (number or prefix)."""
    since: str | None = None
    until: str | None = None
    """ISO dates or times, read in the display zone unless they carry an offset; a date alone
    covers its whole day."""


def read_log(
    session: Session,
    case_dir: Path | None = None,
    *,
    access_only: bool = False,
    where: LogFilter | None = None,
    zone: str | None = None,
) -> LogView:
    """The custody log, or the entries ``where`` keeps (``access_only``: only accesses)."""
    where = where or LogFilter()
    if zone:
        display_zone(zone)  # an unknown zone is refused before the case is read
    case = open_case(session, case_dir)
    shown_in = case_zone(case, zone)
    since = parse_moment(where.since, shown_in, "--since") if where.since else None
    until = parse_moment(where.until, shown_in, "--until", end=True) if where.until else None
    entries = case.entries()
    items = case.items(entries)
    wanted = case.resolve_item(where.item, entries).item_id if where.item is not None else None
    kept = [
        e
        for e in entries
        if (not (access_only or where.access_only) or is_access_entry(e))
        and (not where.actions or e.action in where.actions)
        and (wanted is None or names_item(e, wanted))
        and _within(e, since, until)
    ]
    labels = {
        str(item_id): ItemLabel(n, item_name(item))
        for n, (item_id, item) in enumerate(items.items(), start=1)
    }
    return LogView(case.info.case_id, tuple(kept), shown_in, MappingProxyType(labels))


def names_item(entry: CustodyEntry, item_id: str) -> bool:
    """Whether an entry is about the item: its subject, its access record, or its ``items``."""
    if entry.subject == f"sha256:{item_id}":
        return True
    for record in (access_details(entry), entry.details):
        named = record.get("items") if record is not None else None
        if isinstance(named, list) and item_id in named:
            return True
    return False


def parse_moment(text: str, zone: str, option: str, *, end: bool = False) -> datetime:
    """An ISO date or time; without an offset it is read in ``zone``. With ``end`` a date
    alone means the whole of that day (up to its last microsecond)."""
    from zoneinfo import ZoneInfo

    given = text.strip()
    try:
        moment = datetime.fromisoformat(given)
    except ValueError:
        raise UsageError("bad_log_time", option=option, value=text, zone=zone) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    if end and len(given) in (8, 10) and given.replace("-", "").isdigit():  # a date alone
        moment += timedelta(days=1, microseconds=-1)
    return moment


def _within(entry: CustodyEntry, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    moment = _parse_utc(entry.time)
    if moment is None:
        return False
    return (since is None or moment >= since) and (until is None or moment <= until)


# -- show ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemView:
    """Everything the case knows about one item, and whether this view was logged."""

    item: Item
    first_trusted_time: dict[str, Any] | None
    """The earliest time-stamp token covering the first acquisition (``None``: none yet)."""
    chat_context: tuple[TranscriptContext, ...]
    metadata: dict[str, Any] | None
    derived_not_shown: str | None
    """Why chat context and metadata are missing: an encrypted case read without its key."""
    access_seq: int | None
    access_not_logged: str | None
    """Why no access entry was written (``--no-record``, or the reason the key is not at hand)."""
    zone: str = "Asia/Seoul"
    """The case's zone (times are shown in it, UTC beside)."""
    handovers: tuple[Handover, ...] = ()
    """Every hand-over of the log, received or "not yet received"."""

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        trusted = self.first_trusted_time
        if trusted is not None:
            local = shown_time(str(trusted.get("gen_time")), self.zone).get("local")
            trusted = {**trusted, "gen_time_local": local, "zone": self.zone}
        doc: dict[str, Any] = {
            "sha256": item.item_id,
            "size": item.size,
            "media_type": item.media_type,
            "hashes": item.hashes,
            "object": item.object_path,
            "first_trusted_time": trusted,
            "chat_context": [c.as_dict() for c in self.chat_context],
            "metadata": self.metadata,
            "zone": self.zone,
            "acquisitions": [
                {
                    "seq": a.seq,
                    "time": a.time,
                    **a.details,
                    **shown_time(a.time, self.zone),
                    "acquired_local": shown_time(a.acquired_utc, self.zone).get("local"),
                }
                for a in item.acquisitions
            ],
            "encrypted": item.encrypted,
        }
        if self.derived_not_shown is not None:
            doc["derived_not_shown"] = self.derived_not_shown
        if item.encrypted:
            doc["encrypted_object"] = {"sha256": item.object_sha256, "size": item.object_size}
        return {
            "ok": True,
            "item": doc,
            "handovers": [h.as_dict() for h in self.handovers],
            "access_seq": self.access_seq,
            "access_not_logged": self.access_not_logged,
        }


def show_item(
    session: Session, item: str, case_dir: Path | None = None, *, no_record: bool = False
) -> ItemView:
    """One item by its SHA-256 or a unique prefix; logged as an access when the key is at hand.

    Anyone else still sees the record (the log is readable without a key) and is told why the
    view was not logged. Decryptions of derived files made for the view stay in the session's
    ledger under ``no_record`` (``session.close()`` logs them), else this view's entry names
    the item.
    """
    from forensic.store.crypt import CryptError
    from forensic.timestamp import first_covering_token

    case = open_case(session, case_dir)
    entries = case.entries()
    found = case.resolve_item(item, entries)
    access_seq, access_note = _record_view(session, case, found.item_id, no_record)
    contexts: tuple[TranscriptContext, ...] = ()
    record: dict[str, Any] | None = None
    derived_note: str | None = None
    try:  # encrypted case: derived files need the case key (the log does not)
        contexts, record = _derived_view(case, found.item_id, entries)
    except CryptError as exc:
        derived_note = message(
            "derived.not_shown", session.lang, reason=exc.diagnostics(session.lang)
        )
    if access_seq is not None:
        session.take_decrypted(case.root)  # this view's own access entry already names the item
    return ItemView(
        item=found,
        first_trusted_time=first_covering_token(case, entries, found.acquisitions[0].seq),
        chat_context=contexts,
        metadata=record,
        derived_not_shown=derived_note,
        access_seq=access_seq,
        access_not_logged=access_note,
        zone=case.info.timezone,
        handovers=tuple(handovers(entries)),
    )


def _derived_view(
    case: Case, item_id: str, entries: list[CustodyEntry]
) -> tuple[tuple[TranscriptContext, ...], dict[str, Any] | None]:
    """The chat context and the metadata record: derived files (ciphertext when encrypted)."""
    from forensic.capture.transcript import transcript_context
    from forensic.media import load_record

    contexts = tuple(transcript_context(case, item_id, entries=entries))
    return contexts, load_record(case, item_id)


def _record_view(
    session: Session, case: Case, item_id: str, no_record: bool
) -> tuple[int | None, str | None]:
    """(the access entry's seq, None) or (None, why it was not logged)."""
    if no_record:
        return None, NO_RECORD
    try:
        key = session.unlock()
        case.check_key(key)
    except KeyringError as exc:
        return None, exc.diagnostics(session.lang)
    entry = case.record_access(key, verb="show", items=[item_id], decrypted=False)
    return (entry.seq if entry is not None else None), None
