"""Message references: ``<group-id>/<chat-index>/<message-id>``, the text a citation names.

A message read from a chat screenshot has the same form with the screenshot's id in place of
the group's: ``shot-<16 hex digits of the item's SHA-256>/0/S<n>`` (``S1`` topmost).

A person may type a unique prefix of the group id (with or without ``group-``), and may leave
the chat index out (``GROUP/MESSAGE``) when the message id is in one chat of the group only.
Every form is resolved to the canonical text before it is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from forensic.errors import UsageError


class RefError(UsageError):
    """A message reference that names no message, or more than one (``[chat_ref]`` table)."""

    catalogue = "chat_ref."


@dataclass(frozen=True, order=True)
class MessageRef:
    group: str
    chat: int
    message: str

    @property
    def text(self) -> str:
        return f"{self.group}/{self.chat}/{self.message}"

    @property
    def from_screenshot(self) -> bool:
        """A message read from a screenshot by OCR (its text may contain errors)."""
        return self.group.startswith("shot-")

    @property
    def subject(self) -> str:
        """The custody-log subject of a mark or unmark of this message."""
        return f"msg:{self.text}"


@dataclass(frozen=True)
class TypedRef:
    """A reference as typed, split: the group prefix, the chat index if given, the message id."""

    given: str
    group: str
    chat: int | None
    message: str


def split_ref(given: str) -> TypedRef:
    """``GROUP/CHAT/MESSAGE`` or ``GROUP/MESSAGE``; anything else is a usage error."""
    text = given.strip().removeprefix("msg:")
    parts = text.split("/")
    if len(parts) == 3 and parts[0] and parts[2]:
        try:
            chat = int(parts[1])
        except ValueError:
            raise RefError("bad_ref", ref=given) from None
        if chat < 0:
            raise RefError("bad_ref", ref=given)
        return TypedRef(given, parts[0], chat, parts[2])
    if len(parts) == 2 and all(parts):
        return TypedRef(given, parts[0], None, parts[1])
    raise RefError("bad_ref", ref=given)


def match_group(typed: str, groups: list[str]) -> str:
    """The one group (or screenshot) id ``typed`` is a prefix of (``group-`` may be left out;
    a screenshot's ``shot-`` may not)."""
    want = typed.lower()
    if not want.startswith(("group-", "shot-")):
        want = "group-" + want
    found = [g for g in groups if g.lower().startswith(want)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise RefError("no_group", group=typed)
    raise RefError("ambiguous_group", group=typed, count=len(found))
