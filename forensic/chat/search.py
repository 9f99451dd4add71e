"""Finding chat messages: Korean-aware matching and a streamed pass over every transcript.

Text is compared in NFC (a macOS export writes Hangul decomposed, NFD), case-folded, with all
blanks removed on both sides: ``보고 싶어`` finds ``보고싶어`` and the other way round. A regular
expression (``regex``) is matched against the NFC text as it is, blanks included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from forensic.chat.citation import CitedMessage, cite
from forensic.chat.refs import RefError
from forensic.chat.transcripts import stored_messages, stored_transcripts

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.log import CustodyEntry

SNIPPET_AROUND = 40


def _squeezed(text: str) -> str:
    return "".join(unicodedata.normalize("NFC", text).casefold().split())


class TextMatcher:
    """Finds a query in a text; :meth:`snippet` says where (``None``: not there)."""

    def __init__(self, query: str, regex: bool = False) -> None:
        self.query = query
        self.pattern: re.Pattern[str] | None = None
        if regex:
            try:
                self.pattern = re.compile(unicodedata.normalize("NFC", query), re.IGNORECASE)
            except re.error as exc:
                raise RefError("bad_regex", pattern=query, reason=str(exc)) from None
        self.want = _squeezed(query)
        if not regex and not self.want:
            raise RefError("empty_query")
        letters = [re.escape(c) for c in self.want]
        self.spaced = re.compile(r"\s*".join(letters))
        # In a transcript's JSON line a blank inside the text may be the escape \n, \r or \t;
        # a query with a quote, a backslash or a control character is never pre-filtered.
        plain = not any(c in '"\\' or ord(c) < 0x20 for c in self.want)
        self.in_line = re.compile(r"(?:\s|\\[nrt])*".join(letters)) if plain and not regex else None

    def may_be_in_line(self, line: str) -> bool:
        """Whether a message's JSON line may hold a match (``False``: it surely does not)."""
        if self.in_line is None:
            return True
        return self.in_line.search(unicodedata.normalize("NFC", line).casefold()) is not None

    def contains(self, text: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(unicodedata.normalize("NFC", text)) is not None
        return self.want in _squeezed(text)

    def snippet(self, text: str) -> str | None:
        """The words around the first match, blanks collapsed (``None``: no match)."""
        nfc = unicodedata.normalize("NFC", text)
        span = self._span(nfc)
        if span is None:
            return None
        start, end = span
        piece = nfc[max(0, start - SNIPPET_AROUND) : end + SNIPPET_AROUND]
        return " ".join(piece.split())

    def _span(self, nfc: str) -> tuple[int, int] | None:
        if self.pattern is not None:
            m = self.pattern.search(nfc)
            return None if m is None else (m.start(), max(m.end(), m.start() + 1))
        folded = nfc.casefold()
        if len(folded) == len(nfc):  # the usual case: one folded character for each
            m = self.spaced.search(folded)
            return None if m is None else (m.start(), m.end())
        kept: list[str] = []
        index: list[int] = []
        for i, ch in enumerate(nfc):
            if not ch.isspace():
                for folded in ch.casefold():
                    kept.append(folded)
                    index.append(i)
        pos = "".join(kept).find(self.want)
        if pos < 0:
            return None
        return index[pos], index[pos + len(self.want) - 1] + 1


@dataclass(frozen=True)
class ChatQuery:
    """Which messages a search keeps besides its text (every filter optional)."""

    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None
    """Part of the sender's name (compared like the text), or the sender id exactly."""
    chat: str | None = None
    """Part of the chat's name (or file name), or a prefix of the group id (4 hex digits or
    more, ``group-`` optional)."""

    def keeps_chat(self, group: str, chat: dict[str, Any]) -> bool:
        if self.chat is None:
            return True
        want = self.chat.lower().removeprefix("group-")
        looks_like_id = len(want) >= 4 and all(c in "0123456789abcdef" for c in want)
        if looks_like_id and group.lower().removeprefix("group-").startswith(want):
            return True
        return _squeezed(self.chat) in _squeezed(str(chat.get("name") or chat.get("file") or ""))

    def keeps(self, msg: CitedMessage) -> bool:
        if self.sender is not None:
            name = _squeezed(msg.sender_name or "")
            if _squeezed(self.sender) not in name and self.sender != msg.sender_id:
                return False
        if self.since is not None or self.until is not None:
            moment = msg.time.instant
            if moment is None:
                return False
            if self.since is not None and moment < self.since:
                return False
            if self.until is not None and moment > self.until:
                return False
        return True


@dataclass(frozen=True)
class MessageHit:
    message: CitedMessage
    snippet: str
    intact: bool = True


def search_chats(
    case: Case,
    matcher: TextMatcher,
    query: ChatQuery | None = None,
    entries: list[CustodyEntry] | None = None,
) -> Iterator[MessageHit]:
    """Messages of the case's intact transcripts that match, in file order (streamed).

    A transcript whose bytes no longer match its log entry is skipped: altered derived text is
    never cited (``verify`` names it)."""
    query = query or ChatQuery()
    for stored in stored_transcripts(case, entries):
        if not stored.intact(case):
            continue
        try:
            for transcript, chat, record in stored_messages(case, stored, matcher.may_be_in_line):
                text = record.get("text")
                if not isinstance(text, str) or not matcher.contains(text):
                    continue
                if not query.keeps_chat(stored.group, chat):
                    continue
                cited = cite(transcript, chat, record)
                if query.keeps(cited):
                    yield MessageHit(cited, matcher.snippet(text) or text[:80])
        except (OSError, ValueError):
            continue
