"""Telegram Desktop exports (JSON ``result.json`` or HTML ``messages*.html``) as one capture group.

Every file of the export folder is acquired as it is; the transcript is then parsed from the
stored copies (streamed: a multi-gigabyte ``result.json`` is read in constant memory).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

from forensic._internal.paths import path_record
from forensic.capture.filesystem import FolderSource
from forensic.capture.interface import (
    CaptureGroup,
    DeriveContext,
    DerivedArtefact,
    DeriveResult,
    DerivingSource,
    PlannedItem,
    Source,
)
from forensic.capture.sources import NotThisSource, PathSource, SourceRegistry
from forensic.capture.transcript import (
    TRANSCRIPT_AREA,
    MediaResolver,
    TranscriptWriter,
    derived_time,
    time_record,
    unix_utc,
)

_PAGE = re.compile(r"^messages(\d*)\.html$")
_MEDIA_KEYS = ("photo", "file", "thumbnail")
_MEDIA_INFO = (
    "media_type",
    "mime_type",
    "width",
    "height",
    "duration_seconds",
    "sticker_emoji",
    "photo_file_size",
    "file_size",
)
_KNOWN = frozenset(
    {
        "id",
        "type",
        "date",
        "date_unixtime",
        "edited",
        "edited_unixtime",
        "from",
        "from_id",
        "reply_to_message_id",
        "forwarded_from",
        "via_bot",
        "text",
        "text_entities",
        "actor",
        "actor_id",
        "action",
        *_MEDIA_KEYS,
        *_MEDIA_INFO,
    }
)
_CHAT_PREFIXES = ("", "chats.list.item.", "left_chats.list.item.")
_TITLE = re.compile(
    r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: UTC([+-])(\d{1,2}):?(\d{2}))?"
)


class TelegramSource(FolderSource, DerivingSource):
    """A Telegram Desktop export folder."""

    kind = "telegram-export"

    @classmethod
    def detect(cls, path: bytes) -> bool:
        if not FolderSource.detect(path):
            return False
        return any(
            os.path.isfile(os.path.join(path, name))
            for name in (b"result.json", b"messages.html", b"export_results.html")
        )

    def groups(self) -> list[CaptureGroup]:
        return [
            CaptureGroup(
                self.group_id,
                self.kind,
                self.root,
                {"root": path_record(self.root), "app": "telegram"},
            )
        ]

    def derive(self, ctx: DeriveContext) -> DeriveResult:
        if b"result.json" in ctx.acquired:
            return _derive_json(ctx)
        pages = _html_pages(ctx)
        if pages:
            return _derive_html(ctx, pages)
        result = DeriveResult()
        result.problems.append(
            PlannedItem(
                os.path.join(ctx.root, b"result.json"),
                "failed",
                b"result.json",
                ctx.group_id,
                reason="chat.no_chat_file",
            )
        )
        return result


# -- JSON ----------------------------------------------------------------------------------------
def _flatten_text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in text)
    return ""


def _parse_local(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _norm_json(m: dict[str, Any], ctx: DeriveContext, res: MediaResolver) -> dict[str, Any]:
    written = str(m.get("date", ""))
    local = _parse_local(m.get("date"))
    if m.get("date_unixtime") is not None:
        unixtime = str(m["date_unixtime"])
        date = derived_time(written, local, unixtime, ctx.timezone, ctx.timezone_from)
    else:  # older exports: no UTC beside the local time, read in the stated zone
        date = time_record(written, local, ctx.timezone, ctx.timezone_from)
    out: dict[str, Any] = {"id": str(m.get("id")), "kind": str(m.get("type", "message"))}
    out["date"] = date
    if out["kind"] == "service":
        out["sender"] = {"name": m.get("actor"), "id": _str_or_none(m.get("actor_id"))}
        out["action"] = m.get("action")
    else:
        out["sender"] = {"name": m.get("from"), "id": _str_or_none(m.get("from_id"))}
    out["forwarded_from"] = m.get("forwarded_from")
    out["reply_to"] = _str_or_none(m.get("reply_to_message_id"))
    if m.get("via_bot") is not None:
        out["via_bot"] = m["via_bot"]
    if m.get("edited") is not None:
        edited = {"as_written": str(m["edited"])}
        if m.get("edited_unixtime") is not None:
            edited["unixtime"] = str(m["edited_unixtime"])
            edited["utc"] = unix_utc(str(m["edited_unixtime"])) or ""
        out["edited"] = edited
    out["text"] = _flatten_text(m.get("text", ""))
    if isinstance(m.get("text"), list):
        out["text_pieces"] = m["text"]
    if m.get("text_entities") is not None:
        out["text_entities"] = m["text_entities"]
    media = []
    info = {k: m[k] for k in _MEDIA_INFO if k in m}
    for key in _MEDIA_KEYS:
        if isinstance(m.get(key), str):
            record = res.resolve(m[key], "", key)
            if key != "thumbnail":
                record.update(info)
            media.append(record)
    out["media"] = media
    extra = {k: v for k, v in m.items() if k not in _KNOWN}
    if extra:
        out["extra"] = extra
    return out


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_events(fh: Any) -> Iterator[tuple[str, Any]]:
    """("chat", meta) when a chat's messages start, then ("message", obj) for each message."""
    import ijson

    meta: dict[str, dict[str, Any]] = {p: {} for p in _CHAT_PREFIXES}
    builder: Any = None
    msg_prefix = ""
    for prefix, event, value in ijson.parse(fh, use_float=True):
        if builder is not None:
            builder.event(event, value)
            if prefix == msg_prefix and event == "end_map":
                yield "message", builder.value
                builder = None
            continue
        if event == "start_map" and prefix + "." in _CHAT_PREFIXES[1:]:
            meta[prefix + "."] = {}
        elif event == "start_array" and (prefix == "messages" or prefix.endswith(".messages")):
            chat_prefix = prefix[: -len("messages")]
            if chat_prefix in _CHAT_PREFIXES:
                yield "chat", {**meta[chat_prefix], "section": chat_prefix.split(".")[0] or None}
        elif event == "start_map" and prefix.endswith("messages.item"):
            if prefix[: -len("messages.item")] in _CHAT_PREFIXES:
                msg_prefix = prefix
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
        elif event in ("string", "number", "null", "boolean"):
            for p in _CHAT_PREFIXES:
                if prefix in (p + "name", p + "type", p + "id"):
                    meta[p][prefix[len(p) :]] = value


def _derive_json(ctx: DeriveContext) -> DeriveResult:
    import ijson

    ref = ctx.acquired[b"result.json"]
    resolver = MediaResolver(ctx, "result.json")
    writer = TranscriptWriter(
        ctx,
        {
            "app": "telegram",
            "source_format": "telegram-json",
            "parsed_files": [{"relpath": "result.json", "sha256": ref.sha256}],
        },
    )
    error: str | None = None
    try:
        with ref.object_path.open("rb") as fh:
            started = False
            try:
                for kind, value in _json_events(fh):
                    if kind == "chat":
                        writer.begin_chat(
                            {
                                "name": value.get("name"),
                                "type": value.get("type"),
                                "id": _str_or_none(value.get("id")),
                                "section": value.get("section"),
                            }
                        )
                        started = True
                    elif isinstance(value, dict):
                        if not started:
                            writer.begin_chat({"name": None, "type": None, "id": None})
                            started = True
                        writer.message(_norm_json(value, ctx, resolver))
            except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
                error = f"{type(exc).__name__}: {exc} (near byte {fh.tell()})"
        temp, sha, size = writer.close(
            {
                "complete": error is None,
                "error": error,
                "media": resolver.stats.as_dict(),
                "recognised": writer.recognised("telegram", "telegram-json", "desktop", None),
            }
        )
    except BaseException:
        writer.abort()
        raise
    return _result(ctx, resolver, writer, temp, sha, size, "telegram-json", error, "result.json")


def _result(
    ctx: DeriveContext,
    resolver: MediaResolver,
    writer: TranscriptWriter,
    temp: Any,
    sha: str,
    size: int,
    source_format: str,
    error: str | None,
    parsed: str,
    app: str = "telegram",
    recognised: dict[str, Any] | None = None,
) -> DeriveResult:
    result = DeriveResult(problems=list(resolver.problems))
    zone_check = writer.zone_check()  # a disagreement: warned of by capture and show
    if error is not None:
        result.problems.append(
            PlannedItem(
                os.path.join(ctx.root, os.fsencode(parsed)),
                "failed",
                os.fsencode(parsed),
                ctx.group_id,
                reason="chat.parse_failed",
                reason_params=(("reason", error), ("count", str(writer.total))),
            )
        )
    result.artefacts.append(
        DerivedArtefact(
            action="transcript",
            subject=ctx.group_id,
            area=TRANSCRIPT_AREA,
            name=f"{ctx.group_id}.json",
            temp=temp,
            details={
                "app": app,
                "source_format": source_format,
                "messages": writer.total,
                "chats": writer.chat_index + 1,
                "complete": error is None,
                "error": error,
                "media": resolver.stats.as_dict(),
                "media_links": writer.links,
                "zone_check": zone_check,
                "recognised": recognised or writer.recognised(app, source_format, "desktop", None),
                "transcript_sha256": sha,
                "transcript_size": size,
            },
        )
    )
    return result


# -- HTML ----------------------------------------------------------------------------------------
def _html_pages(ctx: DeriveContext) -> list[tuple[str, list[str]]]:
    """(folder, pages in order) for every folder holding messages*.html."""
    folders: dict[str, list[tuple[int, str]]] = {}
    for rel in ctx.acquired:
        text = rel.decode("utf-8", "replace")
        folder, name = posixpath.split(text)
        m = _PAGE.match(name)
        if m:
            folders.setdefault(folder, []).append((int(m.group(1) or 1), text))
    return [(f, [p for _, p in sorted(pages)]) for f, pages in sorted(folders.items())]


_VOID = frozenset(
    {"img", "br", "meta", "link", "input", "hr", "source", "wbr", "area", "col", "embed"}
)


class _Page(HTMLParser):
    def __init__(self, base: str, sink: _ChatState) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.sink = sink
        self.stack: list[tuple[str, set[str]]] = []
        self.msg: dict[str, Any] | None = None
        self.msg_depth = 0
        self.captures: list[tuple[int, str, list[str]]] = []
        self.in_forward = 0
        self.in_media = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        if tag == "br":
            if self.captures:
                self.captures[-1][2].append("\n")
            return
        if tag in _VOID:
            return
        self.stack.append((tag, classes))
        depth = len(self.stack)
        if tag == "div" and "message" in classes and ("default" in classes or "service" in classes):
            self._flush()
            ident = a.get("id", "").removeprefix("message")
            self.msg = {
                "id": ident,
                "service": "service" in classes,
                "joined": "joined" in classes,
                "media": [],
            }
            self.msg_depth = depth
            return
        if self.msg is None:
            if tag == "div" and "text" in classes and "bold" in classes:
                self.captures.append((depth, "chat_name", []))
            return
        if "forwarded" in classes:
            self.in_forward = depth
        if "media_wrap" in classes:
            self.in_media = depth
        if "date" in classes and "details" in classes and a.get("title"):
            key = "forwarded_date" if self.in_forward else "date"
            self.msg.setdefault(key, a["title"])
        if tag == "div" and "from_name" in classes:
            self.captures.append((depth, "forwarded_from" if self.in_forward else "from", []))
        elif tag == "span" and "date" in classes and self.captures:
            self.captures.append((depth, "_ignore", []))
        elif tag == "div" and "text" in classes:
            self.captures.append((depth, "text", []))
        elif tag == "div" and self.msg["service"] and "body" in classes:
            self.captures.append((depth, "service_text", []))
        elif tag == "div" and "reply_to" in classes:
            self.msg["_reply"] = True
        if tag == "a":
            href = a.get("href", "")
            if self.msg.get("_reply") and "go_to_message" in href and "reply_to" not in self.msg:
                self.msg["reply_to"] = href.rsplit("go_to_message", 1)[1]
            elif self.in_media and href and not href.startswith(("#", "http:", "https:", "tg:")):
                role = next((c for c in sorted(classes) if c.endswith("_wrap")), "media")
                self.msg["media"].append((href, role.removesuffix("_wrap")))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self.stack:
            depth = len(self.stack)
            open_tag, _ = self.stack.pop()
            self._closed(depth)
            if open_tag == tag:
                break

    def _closed(self, depth: int) -> None:
        while self.captures and self.captures[-1][0] == depth:
            _, key, parts = self.captures.pop()
            text = " ".join("".join(parts).split()) if key != "text" else "".join(parts).strip()
            if key == "chat_name":
                self.sink.chat_name = self.sink.chat_name or text
            elif key != "_ignore" and self.msg is not None:
                self.msg.setdefault(key, text)
        if self.in_forward == depth:
            self.in_forward = 0
        if self.in_media == depth:
            self.in_media = 0
        if self.msg is not None and depth == self.msg_depth:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.captures:
            self.captures[-1][2].append(data)

    def _flush(self) -> None:
        if self.msg is not None:
            self.sink.add(self.msg, self.base)
            self.msg = None


class _ChatState:
    def __init__(self, ctx: DeriveContext, writer: TranscriptWriter, res: MediaResolver) -> None:
        self.ctx = ctx
        self.writer = writer
        self.res = res
        self.chat_name: str | None = None
        self.last_sender: str | None = None
        self.pending: list[dict[str, Any]] = []

    def add(self, raw: dict[str, Any], base: str) -> None:
        out: dict[str, Any] = {"id": raw["id"], "kind": "service" if raw["service"] else "message"}
        out["date"] = _html_time(raw.get("date", ""), self.ctx)
        if raw["service"]:
            out["sender"] = {"name": None, "id": None}
            out["text"] = raw.get("service_text", "")
        else:
            name = raw.get("from") or (self.last_sender if raw["joined"] else None)
            self.last_sender = name
            out["sender"] = {"name": name, "id": None}
            out["joined"] = raw["joined"]
            out["text"] = raw.get("text", "")
        out["forwarded_from"] = raw.get("forwarded_from")
        if raw.get("forwarded_date"):
            out["forwarded_date"] = raw["forwarded_date"]
        out["reply_to"] = raw.get("reply_to")
        out["media"] = [self.res.resolve(href, base, role) for href, role in raw["media"]]
        out["file"] = self.res.source_file  # the page the message was read from
        self.pending.append(out)


def _html_time(title: str, ctx: DeriveContext) -> dict[str, Any]:
    m = _TITLE.search(title)
    if not m:
        return time_record(title, None, ctx.timezone, ctx.timezone_from)
    d, mo, y, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        local = datetime(y, mo, d, h, mi, s)
        if m.group(7):
            timezone(timedelta(hours=int(m.group(8)), minutes=int(m.group(9))))
    except ValueError:  # a title with day 31 of February, or an offset of 99 hours
        return time_record(title, None, ctx.timezone, ctx.timezone_from)
    if m.group(7):
        offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
        if m.group(7) == "-":
            offset = -offset
        zone = f"UTC{m.group(7)}{int(m.group(8)):02d}:{m.group(9)}"
        utc = (local.replace(tzinfo=timezone(offset))).astimezone(UTC)
        return {
            "as_written": title,
            "local": local.isoformat(),
            "zone": zone,
            "zone_from": "export",
            "offset": zone.removeprefix("UTC"),
            "utc": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "utc_from": "offset written in the export",
        }
    return time_record(title, local, ctx.timezone, ctx.timezone_from)


def _derive_html(ctx: DeriveContext, folders: list[tuple[str, list[str]]]) -> DeriveResult:
    parsed = [
        {"relpath": p, "sha256": ctx.acquired[p.encode("utf-8")].sha256}
        for _, pages in folders
        for p in pages
    ]
    resolver = MediaResolver(ctx, folders[0][1][0])
    writer = TranscriptWriter(
        ctx, {"app": "telegram", "source_format": "telegram-html", "parsed_files": parsed}
    )
    try:
        for folder, pages in folders:
            state = _ChatState(ctx, writer, resolver)
            began = False
            for page in pages:
                resolver.source_file = page
                parser = _Page(folder, state)
                with ctx.acquired[page.encode("utf-8")].object_path.open(
                    "r", encoding="utf-8", errors="replace"
                ) as fh:
                    for chunk in iter(lambda: fh.read(1 << 16), ""):
                        parser.feed(chunk)
                        began = _drain(state, writer, folder, began)
                parser.close()
                parser._flush()
                began = _drain(state, writer, folder, began)
            if not began:
                writer.begin_chat({"name": state.chat_name, "type": None, "id": None})
        temp, sha, size = writer.close(
            {
                "complete": True,
                "error": None,
                "media": resolver.stats.as_dict(),
                "recognised": writer.recognised("telegram", "telegram-html", "desktop", None),
            }
        )
    except BaseException:
        writer.abort()
        raise
    return _result(
        ctx, resolver, writer, temp, sha, size, "telegram-html", None, parsed[0]["relpath"]
    )


def _drain(state: _ChatState, writer: TranscriptWriter, folder: str, began: bool) -> bool:
    if state.pending and not began:
        writer.begin_chat({"name": state.chat_name, "type": None, "id": None, "folder": folder})
        began = True
    for msg in state.pending:
        writer.message(msg)
    state.pending.clear()
    return began


class TelegramExport(PathSource):
    """``--source telegram``: a Telegram Desktop export folder (detected by its chat file)."""

    name = "telegram"

    def claim(self, path: bytes, follow_symlinks: bool, named: bool) -> Source:
        if not TelegramSource.detect(path):
            raise NotThisSource("chat.not_telegram")
        return TelegramSource(path, follow_symlinks)


def register(registry: SourceRegistry) -> None:
    registry.register(TelegramExport())
