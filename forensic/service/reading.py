"""``list``, ``log`` and ``show``: what a case holds, read from its custody log.

Reading needs no examiner key (the log and the item records are readable by anyone holding the
case); a ``show`` is logged as an ``access`` entry only when the session's key is the case's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.errors import KeyringError
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
@dataclass(frozen=True)
class ItemList:
    case_id: str
    items: tuple[Item, ...]
    """In capture order; ``no`` in the document counts from 1."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case_id": self.case_id,
            "items": [
                {
                    "no": n,
                    "sha256": item.item_id,
                    "size": item.size,
                    "media_type": item.media_type,
                    "hashes": item.hashes,
                    "object": item.object_path,
                    "acquisitions": [
                        {"seq": a.seq, "time": a.time, "source": a.source_path}
                        for a in item.acquisitions
                    ],
                }
                for n, item in enumerate(self.items, start=1)
            ],
        }


def list_items(session: Session, case_dir: Path | None = None) -> ItemList:
    """Every acquired item with all its acquisitions."""
    case = open_case(session, case_dir)
    return ItemList(case.info.case_id, tuple(case.items().values()))


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
class LogView:
    case_id: str
    entries: tuple[CustodyEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case_id": self.case_id,
            "entries": [{**e.as_dict(), "hash": e.hash} for e in self.entries],
        }


def read_log(
    session: Session, case_dir: Path | None = None, *, access_only: bool = False
) -> LogView:
    """The custody log; ``access_only``: only the entries that record an access."""
    case = open_case(session, case_dir)
    entries = case.entries()
    if access_only:
        entries = [e for e in entries if is_access_entry(e)]
    return LogView(case.info.case_id, tuple(entries))


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

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        doc: dict[str, Any] = {
            "sha256": item.item_id,
            "size": item.size,
            "media_type": item.media_type,
            "hashes": item.hashes,
            "object": item.object_path,
            "first_trusted_time": self.first_trusted_time,
            "chat_context": [c.as_dict() for c in self.chat_context],
            "metadata": self.metadata,
            "acquisitions": [
                {"seq": a.seq, "time": a.time, **a.details} for a in item.acquisitions
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
        first_trusted_time=first_covering_token(entries, found.acquisitions[0].seq),
        chat_context=contexts,
        metadata=record,
        derived_not_shown=derived_note,
        access_seq=access_seq,
        access_not_logged=access_note,
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
