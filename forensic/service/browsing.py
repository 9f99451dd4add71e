"""Looking at a case in a graphical front end: blurred previews, a deliberate reveal, chat lists.

A preview is computed on the server from the stored copy (the original pixels never reach the
page unless a person asks for them); the blurred one cannot be turned back into the picture
(:mod:`forensic.report.redact`). Revealing one item is logged as an ``access`` entry naming
it, like ``show``, before its pixels are sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.service.opening import open_case
from forensic.session import Session


@dataclass(frozen=True)
class ItemPreview:
    """The image bytes to show for one item (``None``: why not, in the session's language)."""

    item_id: str
    data: bytes | None
    media_type: str
    access_seq: int | None
    """The ``access`` entry that logged a reveal (``None`` for a blurred preview)."""
    unavailable: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.data is not None,
            "sha256": self.item_id,
            "media_type": self.media_type,
            "access_seq": self.access_seq,
            "unavailable": self.unavailable,
        }


def item_preview(
    session: Session, item: str, *, reveal: bool = False, case_dir: Path | None = None
) -> ItemPreview:
    """A blurred preview of an image item, or (``reveal``) its picture once the view is logged.

    A reveal needs the examiner key: the ``access`` entry naming the item is written first,
    and without it nothing but the blurred preview is given.
    """
    from forensic.i18n import message
    from forensic.report.redact import PreviewUnavailable, preview_image

    case = open_case(session, case_dir)
    found = case.resolve_item(item)
    if not found.media_type.startswith("image/"):
        return ItemPreview(
            found.item_id, None, "", None, message("app.items.not_image", session.lang)
        )
    access_seq = None
    if reveal:
        key = session.unlock()
        case.check_key(key)
        entry = case.record_access(key, verb="reveal", items=[found.item_id], decrypted=False)
        access_seq = entry.seq if entry is not None else None
    else:
        session.attach(case.root, case)  # a decryption for the preview is logged at close
    with case.store.plaintext_path(found.item_id) as path:
        try:
            data, _size = preview_image(path, "full" if reveal else "blur")
        except PreviewUnavailable as exc:
            return ItemPreview(found.item_id, None, "", access_seq, exc.reason(session.lang))
    if case.store.crypto is not None and not reveal:
        session.note_decrypted(case.root, found.item_id)
    media_type = "image/png" if reveal else "image/jpeg"
    return ItemPreview(found.item_id, data, media_type, access_seq)


@dataclass(frozen=True)
class ChatGroup:
    group: str
    app: str
    source_format: str


@dataclass(frozen=True)
class ChatGroups:
    """The chat exports of the case that have a transcript, in log order."""

    groups: tuple[ChatGroup, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "chats": [
                {"group": g.group, "app": g.app, "source_format": g.source_format}
                for g in self.groups
            ],
        }


def chat_groups(session: Session, case_dir: Path | None = None) -> ChatGroups:
    """Every capture group with a transcript (what ``chat show`` takes)."""
    from forensic.chat.transcripts import stored_transcripts

    case = open_case(session, case_dir)
    return ChatGroups(
        tuple(ChatGroup(t.group, t.app, t.source_format) for t in stored_transcripts(case))
    )


@dataclass(frozen=True)
class TrustedTimeStatus:
    """How much of the log trusted time covers: tokens held, requests still queued."""

    tokens: int
    pending: int
    configured: int
    """TSAs configured in the session's ``forensic.toml``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "tokens": self.tokens,
            "pending": self.pending,
            "configured": self.configured,
        }


def trusted_time_status(session: Session, case_dir: Path | None = None) -> TrustedTimeStatus:
    """The queue of time-stamp requests and the tokens the case holds (nothing is sent)."""
    from forensic.timestamp import load_config, pending_queue

    case = open_case(session, case_dir)
    entries = case.entries()
    tokens = sum(1 for e in entries if e.action == "timestamp")
    return TrustedTimeStatus(
        tokens, len(pending_queue(case, entries)), len(load_config(session.home).tsas)
    )
