"""Marks: the messages an examiner cites, as the custody log records them.

``mark`` entries (subject ``msg:<group>/<chat>/<message>``; details ``group``, ``chat``,
``message``, ``note``, ``context``, ``item_sha256``) and ``unmark`` entries (same subject;
``group``, ``chat``, ``message``). A mark is active while no later ``unmark`` of its subject
follows; marking again replaces the note and context.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forensic.chat.refs import MessageRef

if TYPE_CHECKING:
    from forensic.custody.log import CustodyEntry

DEFAULT_CONTEXT = 3


@dataclass(frozen=True)
class MessageMark:
    ref: MessageRef
    note: str | None
    context: int
    item_sha256: str
    seq: int
    time: str
    actor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref.text,
            "group": self.ref.group,
            "chat": self.ref.chat,
            "message": self.ref.message,
            "note": self.note,
            "context": self.context,
            "item_sha256": self.item_sha256,
            "seq": self.seq,
            "time": self.time,
        }


def mark_details(
    ref: MessageRef, note: str | None, context: int, item_sha256: str
) -> dict[str, Any]:
    return {
        "group": ref.group,
        "chat": ref.chat,
        "message": ref.message,
        "note": note,
        "context": context,
        "item_sha256": item_sha256,
    }


def unmark_details(ref: MessageRef) -> dict[str, Any]:
    return {"group": ref.group, "chat": ref.chat, "message": ref.message}


def _ref(details: dict[str, Any]) -> MessageRef | None:
    try:
        return MessageRef(str(details["group"]), int(details["chat"]), str(details["message"]))
    except (KeyError, TypeError, ValueError):
        return None


def active_marks(entries: Iterable[CustodyEntry]) -> list[MessageMark]:
    """The marks no later ``unmark`` undid, in the order they were (last) made."""
    active: dict[str, MessageMark] = {}
    for entry in entries:
        if entry.action not in ("mark", "unmark") or not entry.subject.startswith("msg:"):
            continue
        ref = _ref(entry.details)
        if ref is None or ref.subject != entry.subject:
            continue  # a subject and details that disagree: not a mark this tool made
        active.pop(entry.subject, None)
        if entry.action == "mark":
            context = entry.details.get("context")
            note = entry.details.get("note")
            active[entry.subject] = MessageMark(
                ref=ref,
                note=note if isinstance(note, str) else None,
                context=context if isinstance(context, int) and context >= 0 else DEFAULT_CONTEXT,
                item_sha256=str(entry.details.get("item_sha256") or ""),
                seq=entry.seq,
                time=entry.time,
                actor=entry.actor,
            )
    return list(active.values())
