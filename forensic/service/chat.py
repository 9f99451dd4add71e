"""``mark``, ``unmark`` and ``chat show``: the messages an examiner cites, and a chat to read.

A mark is a signed custody-log entry (docs/format.md, "mark and unmark"); it names the message
by its canonical reference and the export file it was parsed from, so that a report can quote
it with its context and a checker can find it again by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.case.case import RecoveryReport, tool_record
from forensic.chat.citation import CitedMessage
from forensic.chat.marks import (
    DEFAULT_CONTEXT,
    MessageMark,
    active_marks,
    mark_details,
    unmark_details,
)
from forensic.chat.refs import MessageRef, RefError, split_ref
from forensic.chat.view import (
    ChatWindow,
    ViewedMessage,
    chat_messages,
    find_message,
    find_transcript,
)
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.service.opening import open_case, open_for_writing, recovery_dict
from forensic.session import Session

MAX_CONTEXT = 1000


def _check_context(context: int) -> int:
    if not 0 <= context <= MAX_CONTEXT:
        raise RefError("bad_context", value=context, limit=MAX_CONTEXT)
    return context


@dataclass(frozen=True)
class MarkResult:
    entry: CustodyEntry
    message: CitedMessage
    recovery: RecoveryReport
    zone: str
    """The case's zone (the times a person is shown)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "recovered": recovery_dict(self.recovery),
            "ref": self.message.ref.text,
            "message": self.message.as_dict(),
            "entry": self.entry.as_dict(),
        }


def mark_message(
    session: Session,
    ref: str,
    note: str | None = None,
    context: int = DEFAULT_CONTEXT,
    case_dir: Path | None = None,
) -> MarkResult:
    """Record that the examiner cites the message ``ref`` names (any documented form)."""
    _check_context(context)
    case, key = open_for_writing(session, case_dir)
    found = find_message(case, split_ref(ref))
    details = {
        **mark_details(found.ref, note or None, context, found.item_sha256),
        "examiner": case.examiner_of(key),
        "tool": tool_record(),
    }
    with case.step(key, "mark") as step:
        [entry] = step.record([PendingEntry("mark", found.ref.subject, details)])
    return MarkResult(entry, found, step.recovery, case.info.timezone)


@dataclass(frozen=True)
class UnmarkResult:
    entry: CustodyEntry
    ref: MessageRef
    recovery: RecoveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "recovered": recovery_dict(self.recovery),
            "ref": self.ref.text,
            "entry": self.entry.as_dict(),
        }


def unmark_message(session: Session, ref: str, case_dir: Path | None = None) -> UnmarkResult:
    """Withdraw an active mark (the mark stays in the log; the ``unmark`` follows it)."""
    case, key = open_for_writing(session, case_dir)
    entries = case.entries()
    typed = split_ref(ref)
    marks = {m.ref: m for m in active_marks(entries)}
    prefix = typed.group.lower()
    prefix = prefix if prefix.startswith(("group-", "shot-")) else "group-" + prefix
    canonical = [
        r
        for r in marks
        if r.group.lower().startswith(prefix)
        and r.message == typed.message
        and (typed.chat is None or r.chat == typed.chat)
    ]
    target = canonical[0] if len(canonical) == 1 else find_message(case, typed, entries).ref
    if target not in marks:
        raise RefError("not_marked", ref=target.text)
    details = {**unmark_details(target), "examiner": case.examiner_of(key), "tool": tool_record()}
    with case.step(key, "unmark") as step:
        [entry] = step.record([PendingEntry("unmark", target.subject, details)])
    return UnmarkResult(entry, target, step.recovery)


@dataclass(frozen=True)
class MarksList:
    marks: tuple[MessageMark, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "marks": [m.as_dict() for m in self.marks]}


def list_marks(session: Session, case_dir: Path | None = None) -> MarksList:
    """The active marks of the case, in the order they were made."""
    case = open_case(session, case_dir)
    return MarksList(tuple(active_marks(case.entries())))


@dataclass(frozen=True)
class ChatView:
    """One group's messages as ``chat show`` prints them (times also in the case zone)."""

    group: str
    app: str
    source_format: str
    zone: str
    zone_check: dict[str, Any]
    around: MessageRef | None
    context: int
    messages: tuple[ViewedMessage, ...]
    marks: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "group": self.group,
            "app": self.app,
            "source_format": self.source_format,
            "zone": self.zone,
            "zone_check": self.zone_check,
            "zone_warning": bool(self.zone_check.get("disagreements")),
            "around": self.around.text if self.around is not None else None,
            "context": self.context,
            "marks": self.marks,
            "messages": [m.as_dict() for m in self.messages],
        }


def show_chat(
    session: Session,
    group: str,
    around: str | None = None,
    context: int = DEFAULT_CONTEXT,
    marked: bool = False,
    case_dir: Path | None = None,
) -> ChatView:
    """A group's messages: all of them, ``context`` around ``around``, or around each mark."""
    _check_context(context)
    case = open_case(session, case_dir)
    entries = case.entries()
    stored = find_transcript(case, group, entries)
    if not stored.intact(case):
        raise RefError("transcript_altered", group=stored.group, path=stored.path)
    marks = {m.ref: m for m in active_marks(entries) if m.ref.group == stored.group}
    focus: MessageRef | None = None
    if around is not None:
        typed = split_ref(around if "/" in around else f"{stored.group}/{around}")
        focus = find_message(case, typed, entries).ref
        if focus.group != stored.group:
            raise RefError("other_group", ref=around, group=stored.group)
        window = ChatWindow(frozenset({focus}), context, everything=False)
    elif marked:
        window = ChatWindow(frozenset(marks), context, everything=False)
    else:
        window = ChatWindow(frozenset(), context, everything=True)
    shown = chat_messages(case, stored, window, marks)
    return ChatView(
        stored.group,
        stored.app,
        stored.source_format,
        case.info.timezone,
        stored.zone_check,
        focus,
        context,
        tuple(shown),
        len(marks),
    )
