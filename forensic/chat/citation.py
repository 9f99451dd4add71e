"""One message as a lawyer cites it: where it is (item, export file, chat, id, line), who sent
it, when (as written, local with its offset, UTC, where the zone came from) and its ref."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forensic.chat.refs import MessageRef
from forensic.chat.transcripts import CitedTime, StoredTranscript, cited_time


@dataclass(frozen=True)
class MediaNote:
    """A medium a message carries: its role, status and (when stored) SHA-256."""

    role: str
    status: str
    sha256: str | None
    name: str | None

    @property
    def present(self) -> bool:
        return self.status in ("acquired", "acquired_in_container")

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "status": self.status,
            "present": self.present,
            "sha256": self.sha256,
            "name": self.name,
        }


@dataclass(frozen=True)
class CitedMessage:
    ref: MessageRef
    app: str
    item_sha256: str
    """The export file's item the message was parsed from (a zip: the zip)."""
    file: str
    """That file's name in the export (``result.json``, ``messages2.html``, ``Talk.zip``)."""
    member: str | None
    """The chat text inside a KakaoTalk zip (or the text file itself)."""
    chat_name: str | None
    kind: str
    line: int | None
    row: int | None
    sender_name: str | None
    sender_id: str | None
    time: CitedTime
    forwarded_from: str | None
    text: str
    media: tuple[MediaNote, ...]
    box: tuple[int, ...] | None = None
    """A screenshot message: its box on the screenshot (left, top, right, bottom pixels)."""
    confidence: float | None = None
    derived_by: str | None = None
    """``ocr``: read from a screenshot by OCR, may contain errors."""
    same_as: tuple[str, ...] = ()
    """Refs of export messages with the same sender, time and text."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref.text,
            "group": self.ref.group,
            "chat": {"index": self.ref.chat, "name": self.chat_name},
            "message": self.ref.message,
            "kind": self.kind,
            "app": self.app,
            "item_sha256": self.item_sha256,
            "file": self.file,
            "member": self.member,
            "line": self.line,
            "row": self.row,
            "sender": {"name": self.sender_name, "id": self.sender_id},
            "time": self.time.as_dict(),
            "forwarded_from": self.forwarded_from,
            "text": self.text,
            "media": [m.as_dict() for m in self.media],
            "screenshot": None
            if self.box is None
            else {
                "item_sha256": self.item_sha256,
                "box": list(self.box),
                "confidence": self.confidence,
                "derived_by": self.derived_by,
                "same_as": list(self.same_as),
            },
        }


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def cite(transcript: StoredTranscript, chat: dict[str, Any], msg: dict[str, Any]) -> CitedMessage:
    """The citation of message ``msg`` of ``chat`` in ``transcript``."""
    file, sha = transcript.item_for(_str(msg.get("file")))
    given = msg.get("sender")
    sender: dict[str, Any] = given if isinstance(given, dict) else {}
    media = tuple(
        MediaNote(
            role=str(m.get("role") or "media"),
            status=str(m.get("status") or "unknown"),
            sha256=_str(m.get("sha256")),
            name=_str(m.get("member") or m.get("relpath") or m.get("ref")),
        )
        for m in msg.get("media") or []
        if isinstance(m, dict)
    )
    return CitedMessage(
        ref=MessageRef(transcript.group, int(msg.get("chat") or 0), str(msg.get("id"))),
        app=transcript.app,
        item_sha256=sha,
        file=file,
        member=_str(chat.get("file")) if transcript.app == "kakaotalk" else _str(msg.get("file")),
        chat_name=_str(chat.get("name")),
        kind=str(msg.get("kind") or "message"),
        line=_int(msg.get("line")),
        row=_int(msg.get("row")),
        sender_name=_str(sender.get("name")),
        sender_id=_str(sender.get("id")),
        time=cited_time(msg.get("date")),
        forwarded_from=_str(msg.get("forwarded_from")),
        text=str(msg.get("text") or ""),
        media=media,
        **_screenshot_fields(msg),
    )


def _screenshot_fields(msg: dict[str, Any]) -> dict[str, Any]:
    box = msg.get("box")
    if not isinstance(box, list) or len(box) != 4 or not all(isinstance(v, int) for v in box):
        return {}
    conf = msg.get("confidence")
    return {
        "box": tuple(box),
        "confidence": float(conf) if isinstance(conf, int | float) else None,
        "derived_by": _str(msg.get("derived_by")),
        "same_as": tuple(str(r) for r in msg.get("same_as") or () if isinstance(r, str)),
    }
