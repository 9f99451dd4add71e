"""A chat as a person reads it: one group's messages, all or around some, marks shown.

Also the one lookup every message reference goes through (:func:`find_message`): a mark of a
message the transcript does not hold is refused before anything is logged.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forensic.chat.citation import CitedMessage, cite
from forensic.chat.marks import MessageMark
from forensic.chat.refs import MessageRef, RefError, TypedRef, match_group
from forensic.chat.transcripts import StoredTranscript, stored_messages, stored_transcripts

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.log import CustodyEntry


def find_transcript(
    case: Case, group: str, entries: list[CustodyEntry] | None = None
) -> StoredTranscript:
    """The latest transcript of the group ``group`` names (a unique prefix of its id)."""
    stored = {t.group: t for t in stored_transcripts(case, entries)}
    return stored[match_group(group, list(stored))]


def find_message(
    case: Case, typed: TypedRef, entries: list[CustodyEntry] | None = None
) -> CitedMessage:
    """The one message ``typed`` names; a usage error naming the reference otherwise."""
    stored = find_transcript(case, typed.group, entries)
    if not stored.intact(case):
        raise RefError("transcript_altered", group=stored.group, path=stored.path)
    found: list[CitedMessage] = []
    for transcript, chat, msg in stored_messages(case, stored):
        if str(msg.get("id")) != typed.message:
            continue
        if typed.chat is not None and int(msg.get("chat") or 0) != typed.chat:
            continue
        found.append(cite(transcript, chat, msg))
    if not found:
        raise RefError("no_message", ref=typed.given, group=stored.group)
    if len(found) > 1:
        chats = ", ".join(str(m.ref.chat) for m in found)
        raise RefError("ambiguous_message", ref=typed.given, chats=chats)
    return found[0]


@dataclass(frozen=True)
class ViewedMessage:
    message: CitedMessage
    mark: MessageMark | None
    focus: bool
    """The message ``--around`` names."""
    gap_before: bool
    """Messages of the chat left out just before this one."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.message.as_dict(),
            "marked": self.mark is not None,
            "mark": self.mark.as_dict() if self.mark is not None else None,
            "focus": self.focus,
            "gap_before": self.gap_before,
        }


@dataclass(frozen=True)
class ChatWindow:
    """Which messages to show: all, or ``context`` before and after each of ``focus``."""

    focus: frozenset[MessageRef] = frozenset()
    context: int = 3
    everything: bool = True


def chat_messages(
    case: Case,
    stored: StoredTranscript,
    window: ChatWindow,
    marks: dict[MessageRef, MessageMark],
) -> list[ViewedMessage]:
    """The messages of ``stored`` the window keeps, in file order, marks attached."""
    shown: list[ViewedMessage] = []
    before: collections.deque[CitedMessage] = collections.deque(maxlen=max(0, window.context))
    after = 0
    skipped = False
    last_chat: int | None = None
    for transcript, chat, msg in stored_messages(case, stored):
        cited = cite(transcript, chat, msg)
        if cited.ref.chat != last_chat:  # a window never runs from one chat into the next
            before.clear()
            after, skipped, last_chat = 0, bool(shown), cited.ref.chat
        keep = window.everything or cited.ref in window.focus
        if keep or after > 0:
            gap = skipped and len(before) == 0
            for earlier in before:
                shown.append(ViewedMessage(earlier, marks.get(earlier.ref), False, skipped))
                skipped = False
            before.clear()
            focus = cited.ref in window.focus
            shown.append(ViewedMessage(cited, marks.get(cited.ref), focus, gap))
            skipped = False
            after = window.context if keep else after - 1
        else:
            if len(before) == before.maxlen:
                skipped = True
            before.append(cited)
            if window.context == 0:
                skipped = True
    return shown


@dataclass(frozen=True)
class MarkExcerpt:
    """One active mark and the messages quoted with it (its own ``context`` before and after)."""

    mark: MessageMark
    intact: bool
    """False: the transcript no longer has its recorded SHA-256 (nothing is quoted)."""
    messages: tuple[ViewedMessage, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mark": self.mark.as_dict(),
            "intact": self.intact,
            "messages": [m.as_dict() for m in self.messages],
        }


def mark_excerpts(case: Case, entries: list[CustodyEntry] | None = None) -> list[MarkExcerpt]:
    """Every active mark with its context, in the order the marks were made; one pass over
    each marked group's transcript (what a report's chat section quotes)."""
    from forensic.chat.marks import active_marks

    entries = entries if entries is not None else case.entries()
    marks = active_marks(entries)
    stored = {t.group: t for t in stored_transcripts(case, entries)}
    shown: dict[str, list[ViewedMessage] | None] = {}
    for group in dict.fromkeys(m.ref.group for m in marks):
        transcript = stored.get(group)
        if transcript is None or not transcript.intact(case):
            shown[group] = None
            continue
        in_group = {m.ref: m for m in marks if m.ref.group == group}
        widest = max(m.context for m in in_group.values())
        window = ChatWindow(frozenset(in_group), widest, everything=False)
        shown[group] = chat_messages(case, transcript, window, in_group)
    out: list[MarkExcerpt] = []
    for mark in marks:
        messages = shown.get(mark.ref.group)
        if messages is None:
            out.append(MarkExcerpt(mark, False, ()))
            continue
        out.append(MarkExcerpt(mark, True, _around(messages, mark.ref, mark.context)))
    return out


def _around(
    messages: list[ViewedMessage], ref: MessageRef, context: int
) -> tuple[ViewedMessage, ...]:
    """The ``context`` messages each side of ``ref`` in one unbroken run of the same chat."""
    at = next((i for i, m in enumerate(messages) if m.message.ref == ref), None)
    if at is None:
        return ()
    start = at
    while start > 0 and at - start < context and not messages[start].gap_before:
        if messages[start - 1].message.ref.chat != ref.chat:
            break
        start -= 1
    end = at
    while end + 1 < len(messages) and end - at < context:
        following = messages[end + 1]
        if following.gap_before or following.message.ref.chat != ref.chat:
            break
        end += 1
    return tuple(messages[start : end + 1])
