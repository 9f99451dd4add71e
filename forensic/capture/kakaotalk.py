"""KakaoTalk chat exports ('대화 내보내기'): mobile and PC text, Mac CSV, zip with attachments.

The export file is acquired as it is (one capture group); the transcript is parsed from the
stored copy, line by line. KakaoTalk writes local times without a zone: they are kept as written
and read in the zone the user states (``--timezone``, default Asia/Seoul), never silently as UTC.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import posixpath
import re
import stat
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from types import MappingProxyType
from typing import IO, Any

from forensic._internal.paths import path_record
from forensic.capture.interface import (
    AcquiredRef,
    CaptureGroup,
    DeriveContext,
    DeriveResult,
    DerivingSource,
    GroupId,
    PlannedItem,
    Source,
)
from forensic.capture.sources import NotThisSource, PathSource, SourceRegistry
from forensic.capture.transcript import MediaResolver, TranscriptWriter, time_record

EXTENSIONS = (b".txt", b".csv", b".zip")
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
#: month number by full English name and by its first three letters
_MONTHS = MappingProxyType(
    {name: i + 1 for i, full in enumerate(_MONTH_NAMES) for name in (full, full[:3])}
)

# (name, regex, field order) — tried in order; every message pattern has groups "sender", "text".
_HM = r"(?P<h>\d{1,2}):(?P<mi>\d{2})"
_D_KO = r"(?P<y>\d{4})년 (?P<mo>\d{1,2})월 (?P<d>\d{1,2})일 (?P<ap>오전|오후) " + _HM
_D_IOS_KO = r"(?P<y>\d{4})\. (?P<mo>\d{1,2})\. (?P<d>\d{1,2})\. (?P<ap>오전|오후) " + _HM
_D_EN_OLD = (
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?P<ap>am|pm), (?P<mon>[A-Z][a-z]+) (?P<d>\d{1,2}), (?P<y>\d{4})"
)
_D_EN = r"(?P<mon>[A-Z][a-z]+) (?P<d>\d{1,2}), (?P<y>\d{4}),? " + _HM + r" (?P<ap>AM|PM)"
_SENDER = r"(?P<sender>.+?) : (?P<text>.*)"

_MOBILE: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (name, re.compile(f"^{d}, {_SENDER}$"), re.compile(f"^{d}{sep}(?P<text>.+)$"))
    for name, d, sep in (
        ("android-ko", _D_KO, ", "),
        ("ios-ko", _D_IOS_KO, ": "),
        ("android-en-old", _D_EN_OLD, ", "),
        ("en", _D_EN, "(?::|,) "),
    )
)
_DATE_ONLY = (
    re.compile(f"^{_D_KO}$"),
    re.compile(r"^\d{4}년 \d{1,2}월 \d{1,2}일 [월화수목금토일]요일$"),
    re.compile(
        r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [A-Z][a-z]+ \d{1,2}, \d{4}$"
    ),
    re.compile(f"^{_D_EN}$"),
)
_PC_DIVIDER = re.compile(r"^-{5,} (?P<date>.+?) -{5,}$")
_PC_DATE_KO = re.compile(r"(?P<y>\d{4})년 (?P<mo>\d{1,2})월 (?P<d>\d{1,2})일")
_PC_DATE_EN = re.compile(r"(?P<mon>[A-Z][a-z]+) (?P<d>\d{1,2}), (?P<y>\d{4})")
_PC_MSG = (
    re.compile(
        r"^\[(?P<sender>.+?)\] \[(?P<time>(?P<ap>오전|오후) (?P<h>\d{1,2}):(?P<mi>\d{2}))\] "
        r"(?P<text>.*)$"
    ),
    re.compile(
        r"^\[(?P<sender>.+?)\] \[(?P<time>(?P<h>\d{1,2}):(?P<mi>\d{2}) (?P<ap>AM|PM))\] "
        r"(?P<text>.*)$"
    ),
    re.compile(r"^\[(?P<sender>.+?)\] \[(?P<time>(?P<h>\d{1,2}):(?P<mi>\d{2}))\] (?P<text>.*)$"),
)
#: a time in an attachment's file name (``20240703_130600.jpg``,
#: ``KakaoTalk_20240703_130600123.jpg``, ``2024-07-03-13-06-00.jpg``), in the chat's own zone
_FILE_TIME = re.compile(
    r"(?<!\d)(?P<y>20\d{2})(?P<s1>-?)(?P<mo>\d{2})(?P=s1)(?P<d>\d{2})[-_ ]?"
    r"(?P<h>\d{2})(?P<s2>-?)(?P<mi>\d{2})(?P=s2)(?P<sec>\d{2})(?:\d{3})?(?!\d)"
)
_PHOTO_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp")
_VIDEO_EXT = (".mp4", ".mov", ".m4v", ".3gp", ".avi", ".mkv")
_SYSTEM_PC = re.compile(
    r"(님이 들어왔습니다\.?|님이 나갔습니다\.?|님을 초대했습니다\.?|님을 내보냈습니다\.?|"
    r" joined this chatroom\.?| left this chatroom\.?| invited .+\.?)$"
)
_HEADERS = (
    re.compile(r"^(?P<name>.+?) 님과 카카오톡 대화$"),
    re.compile(r"^(?P<name>.+?) (?P<members>\d+) 카카오톡 대화$"),
    re.compile(r"^(?P<name>.+?) 카카오톡 대화$"),
    re.compile(r"^KakaoTalk Chats with (?P<name>.+)$"),
    re.compile(r"^(?P<name>.+?) with KakaoTalk Chats$"),
    re.compile(r"^Talk_.*\.txt$"),
)
_SAVED = re.compile(r"^(저장한 날짜|Date Saved) ?: ?(?P<saved>.+)$")
_MEDIA = (
    (re.compile(r"^사진( (?P<n>\d+)장)?$"), "photo"),
    (re.compile(r"^<?Photo>?$|^(?P<n>\d+) photos$", re.I), "photo"),
    (re.compile(r"^(동영상|<?Video>?)$", re.I), "video"),
    (re.compile(r"^(이모티콘|\(이모티콘\)|<?Emoticons?>?|\(Emoticon\))$", re.I), "emoticon"),
    (re.compile(r"^(음성메시지|<?Voice Note>?)$", re.I), "voice"),
    (re.compile(r"^(파일|File): ?(?P<file>.+)$"), "file"),
)
_OWN = frozenset({"회원님", "나", "you", "You", "Me"})

# Zip bombs: a real export is a few thousand members and compresses text about 10:1. Members
# past these bounds are not decompressed (they stay in the stored zip, hashed as a whole).
MAX_MEMBERS = 100_000
MAX_DECLARED_TOTAL = 16 << 30
MAX_RATIO = 200
RATIO_FLOOR = 16 << 20  # members smaller than this are read whatever their ratio
# What reading a damaged zip member can raise (beyond OSError): bad deflate data, a cut stream,
# an unsupported compression method, a bad CRC or password.
ZIP_ERRORS = (OSError, zipfile.BadZipFile, RuntimeError, zlib.error, EOFError, NotImplementedError)


class NotKakaoTalk(Exception):
    """The file is not a KakaoTalk export (or not text at all)."""


def _open_bin_file(path: os.PathLike[str] | bytes) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")


def detect_encoding(open_bin: Callable[[], IO[bytes]]) -> str:
    """UTF-8 with a BOM, UTF-8, else CP949 — decided by reading the whole stream (a BOM alone
    does not make the rest UTF-8)."""
    with open_bin() as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
    for encoding in ("utf-8-sig",) * bom + ("utf-8", "cp949"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open_bin() as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    if b"\x00" in chunk:
                        raise NotKakaoTalk("binary data (NUL bytes)")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise NotKakaoTalk("neither UTF-8 nor CP949 text")


def _head_lines(open_bin: Callable[[], IO[bytes]], encoding: str, n: int = 40) -> list[str]:
    with open_bin() as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline=None)
        return [line.rstrip("\n") for _, line in zip(range(n), text, strict=False)]


def recognise_text(open_bin: Callable[[], IO[bytes]]) -> tuple[str, str]:
    """(encoding, "text" or "csv") when the stream looks like a KakaoTalk export."""
    encoding = detect_encoding(open_bin)
    lines = _head_lines(open_bin, encoding)
    if lines and lines[0].strip().lstrip("\ufeff") == "Date,User,Message":
        return encoding, "csv"
    score = 0
    for line in lines:
        line = line.lstrip("\ufeff")
        if any(h.match(line) for h in _HEADERS) or _SAVED.match(line):
            score += 2
        elif (
            any(m.match(line) for _, m, _s in _MOBILE)
            or any(p.match(line) for p in _PC_MSG)
            or _PC_DIVIDER.match(line)
            or any(d.match(line) for d in _DATE_ONLY)
        ):
            score += 1
    if score >= 2:
        return encoding, "text"
    raise NotKakaoTalk("no KakaoTalk header, date or message line in its first 40 lines")


def _hour(h: int, ap: str | None) -> int:
    if ap in ("오후", "pm", "PM"):
        return h % 12 + 12
    if ap in ("오전", "am", "AM"):
        return h % 12
    return h


def _dt(g: dict[str, str | None], date: tuple[int, int, int] | None = None) -> datetime | None:
    try:
        if date is None:
            mon = g.get("mon")
            month = _MONTHS[mon.lower()] if mon else int(g["mo"] or 0)
            date = (int(g["y"] or 0), month, int(g["d"] or 0))
        return datetime(*date, _hour(int(g["h"] or 0), g.get("ap")), int(g["mi"] or 0))
    except (KeyError, ValueError, TypeError):
        return None


def _media(text: str) -> list[dict[str, Any]]:
    for pattern, role in _MEDIA:
        m = pattern.match(text.strip())
        if m:
            record: dict[str, Any] = {"role": role, "status": "not_in_export"}
            groups = m.groupdict()
            if groups.get("n"):
                record["count"] = int(groups["n"] or 1)
            if groups.get("file"):
                record["ref"] = groups["file"]
            return [record]
    return []


class _Chat:
    """Line-oriented parse of one KakaoTalk text export."""

    def __init__(self, ctx: DeriveContext, member: str) -> None:
        self.ctx = ctx
        self.member = member
        self.meta: dict[str, Any] = {"name": None, "type": None, "id": None, "file": member}
        self.variant: str | None = None
        self.pc_date: tuple[int, int, int] | None = None
        self.pc_day: str | None = None
        self.pattern: str | None = None
        """The first message pattern that matched (says the phone and the language)."""
        self.lang: str | None = None
        self.ios_header = False

    @property
    def device(self) -> str:
        """``android``, ``ios``, ``pc`` or ``mobile`` (a phone, which one the text does not say)."""
        if self.variant == "pc":
            return "pc"
        if self.ios_header or self.pattern == "ios-ko":
            return "ios"
        if self.pattern in ("android-ko", "android-en-old"):
            return "android"
        return "android" if self.pattern == "en" and self.meta.get("name") else "mobile"

    def _msg(self, lineno: int, kind: str, written: str, local: datetime | None) -> dict[str, Any]:
        return {
            "id": f"L{lineno}",
            "kind": kind,
            "line": lineno,
            "date": time_record(written, local, self.ctx.timezone, self.ctx.timezone_from),
            "sender": {"name": None, "id": None},
            "forwarded_from": None,
            "reply_to": None,
            "text": "",
            "media": [],
        }

    def parse(self, lines: Iterator[str]) -> Iterator[dict[str, Any]]:
        current: dict[str, Any] | None = None
        for lineno, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n").lstrip("\ufeff") if lineno == 1 else raw.rstrip("\r\n")
            start = self._start(lineno, line, current is None)
            if start is None:
                if current is not None:
                    current["text"] += "\n" + line
                continue
            if start == "skip":
                continue
            if current is not None:
                yield _finish(current)
            current = start if isinstance(start, dict) else None
        if current is not None:
            yield _finish(current)

    def _start(self, lineno: int, line: str, idle: bool) -> dict[str, Any] | str | None:
        if lineno <= 3:
            for h in _HEADERS:
                m = h.match(line)
                if m:
                    self.ios_header = self.ios_header or h is _HEADERS[-1]
                    self.meta["name"] = m.groupdict().get("name")
                    if m.groupdict().get("members"):
                        self.meta["type"] = "group"
                        self.meta["members"] = int(m.group("members"))
                    return "skip"
            m = _SAVED.match(line)
            if m:
                self.meta["saved"] = m.group("saved")
                return "skip"
        for name, msg_re, _sys in _MOBILE:
            m = msg_re.match(line)
            if m:
                self.variant = self.variant or name
                self.pattern = self.pattern or name
                self.lang = self.lang or ("ko" if name.endswith("-ko") else "en")
                out = self._msg(
                    lineno, "message", line[: m.start("sender") - 2], _dt(m.groupdict())
                )
                sender = m.group("sender")
                out["sender"]["name"] = sender
                if sender in _OWN:
                    out["sender"]["is_exporter"] = True
                out["text"] = m.group("text")
                return out
        for d in _DATE_ONLY:
            if d.match(line):
                self.variant = self.variant or "date-lines"
                return "skip"
        for _name, _msg_re, sys_re in _MOBILE:
            m = sys_re.match(line)
            if m:
                written = line[: m.start("text")].rstrip(":, ")
                out = self._msg(lineno, "system", written, _dt(m.groupdict()))
                out["text"] = m.group("text")
                return out
        m = _PC_DIVIDER.match(line)
        if m:
            self.variant = "pc"
            self.pc_day = m.group("date")
            self.lang = "ko" if _PC_DATE_KO.search(self.pc_day) else "en"
            dm = _PC_DATE_KO.search(m.group("date")) or _PC_DATE_EN.search(m.group("date"))
            if dm:
                g = dm.groupdict()
                mon = g.get("mon")
                month = _MONTHS.get(mon.lower(), 0) if mon else int(g["mo"] or 0)
                self.pc_date = (int(g["y"] or 0), month, int(g["d"] or 0))
            return "skip"
        if self.variant == "pc" or self.pc_date is not None:
            for pc in _PC_MSG:
                m = pc.match(line)
                if m:
                    local = _dt(m.groupdict(), self.pc_date) if self.pc_date else None
                    out = self._msg(lineno, "message", m.group("time"), local)
                    out["date"]["date_from"] = "divider line"
                    out["date"]["day_as_written"] = self.pc_day
                    out["sender"]["name"] = m.group("sender")
                    if m.group("sender") in _OWN:
                        out["sender"]["is_exporter"] = True
                    out["text"] = m.group("text")
                    return out
            if _SYSTEM_PC.search(line) and line:
                out = self._msg(lineno, "system", "", None)
                out["date"]["day"] = (
                    "{:04d}-{:02d}-{:02d}".format(*self.pc_date) if self.pc_date else None
                )
                out["text"] = line
                return out
        if idle and not line.strip():
            return "skip"
        return None


def _finish(msg: dict[str, Any]) -> dict[str, Any]:
    msg["text"] = msg["text"].rstrip("\n")
    if msg["kind"] == "message":
        msg["media"] = _media(msg["text"])
    return msg


def _csv_messages(ctx: DeriveContext, text: IO[str]) -> Iterator[dict[str, Any]]:
    reader = csv.reader(text)
    for index, row in enumerate(reader):
        if index == 0 or not row:
            continue
        written = row[0]
        try:
            local: datetime | None = datetime.strptime(written, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            local = None
        sender = row[1] if len(row) > 1 else None
        body = row[2] if len(row) > 2 else ""
        msg = {
            "id": f"R{index}",
            "kind": "message",
            "row": index,
            "date": time_record(written, local, ctx.timezone, ctx.timezone_from),
            "sender": {"name": sender, "id": None},
            "forwarded_from": None,
            "reply_to": None,
            "text": body,
            "media": _media(body),
        }
        yield msg


def _member_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: zf.open(info)


def _zip_limits(zf: zipfile.ZipFile) -> None:
    """NotKakaoTalk when the zip as a whole is past the bounds (too many members, too large)."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise NotKakaoTalk(f"the zip lists {len(infos)} members (limit {MAX_MEMBERS})")
    total = sum(i.file_size for i in infos)
    if total > MAX_DECLARED_TOTAL:
        raise NotKakaoTalk(
            f"the zip declares {total} bytes uncompressed (limit {MAX_DECLARED_TOTAL}): zip bomb?"
        )


def _member_refusal(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not read (a symlink entry, or a compression ratio only a bomb has)."""
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link entry (not followed)"
    ratio = info.file_size / max(1, info.compress_size)
    if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
        return (
            f"declares {info.file_size} bytes from {info.compress_size} compressed "
            f"(ratio {ratio:.0f}:1, limit {MAX_RATIO}:1): zip bomb?"
        )
    return None


def _safe_member(name: str) -> str | None:
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        return None
    norm = posixpath.normpath(raw)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


class KakaoTalkSource(DerivingSource):
    """A KakaoTalk export file: text (mobile or PC), Mac CSV, or the zip with attachments."""

    kind = "kakaotalk-export"

    def __init__(self, path: bytes) -> None:
        self.path = os.path.abspath(path)
        self.group_id = GroupId(f"group-{uuid.uuid4().hex}")

    @classmethod
    def detect(cls, path: bytes) -> bool:
        try:
            cls.recognise(path)
        except NotKakaoTalk:
            return False
        return True

    @classmethod
    def recognise(cls, path: bytes) -> str:
        """What the file is ("text", "csv", "zip"); NotKakaoTalk with the cause otherwise."""
        if os.path.islink(path) or not os.path.isfile(path):
            raise NotKakaoTalk("not a regular file")
        ext = os.path.splitext(path)[1].lower()
        try:
            if ext == b".zip" or zipfile.is_zipfile(path):
                with zipfile.ZipFile(os.fsdecode(path)) as zf:
                    _zip_limits(zf)
                    for info in zf.infolist():
                        if (
                            info.filename.lower().endswith((".txt", ".csv"))
                            and _safe_member(info.filename)
                            and _member_refusal(info) is None
                        ):
                            try:
                                recognise_text(_member_opener(zf, info))
                                return "zip"
                            except NotKakaoTalk:
                                continue
                raise NotKakaoTalk("the zip holds no KakaoTalk chat text")
            return recognise_text(_open_bin_file(path))[1]
        except ZIP_ERRORS as exc:
            raise NotKakaoTalk(str(exc)) from exc

    def groups(self) -> list[CaptureGroup]:
        return [
            CaptureGroup(
                self.group_id,
                self.kind,
                os.path.dirname(self.path),
                {"root": path_record(self.path), "app": "kakaotalk"},
            )
        ]

    def plan(self) -> Iterator[PlannedItem]:
        size = os.stat(self.path).st_size
        yield PlannedItem(self.path, "file", os.path.basename(self.path), self.group_id, size=size)

    def derive(self, ctx: DeriveContext) -> DeriveResult:
        name = os.path.basename(self.path)
        ref = ctx.acquired.get(name)
        result = DeriveResult()
        if ref is None:
            return result
        label = name.decode("utf-8", "replace")
        resolver = MediaResolver(ctx, label)
        writer = TranscriptWriter(
            ctx,
            {
                "app": "kakaotalk",
                "source_format": "kakaotalk",
                "parsed_files": [{"relpath": label, "sha256": ref.sha256}],
            },
        )
        error: str | None = None
        chats: list[tuple[str, str, str | None]] = []
        attachments: list[dict[str, Any]] = []
        try:
            try:
                if zipfile.is_zipfile(ref.object_path):
                    self._parse_zip(ctx, writer, resolver, ref, attachments, chats)
                else:
                    linker = _AttachmentLinker()
                    opener = _open_bin_file(ref.object_path)
                    chats.append(self._parse_one(ctx, writer, opener, label, linker))
            except (NotKakaoTalk, csv.Error, UnicodeDecodeError, *ZIP_ERRORS) as exc:
                error = f"{type(exc).__name__}: {exc}"
            formats = [c[0] for c in chats]
            source_format = "kakaotalk-" + ("+".join(dict.fromkeys(formats)) or "unknown")
            device, lang = (chats[0][1], chats[0][2]) if chats else ("unknown", None)
            recognised = writer.recognised("kakaotalk", source_format, device, lang)
            temp, sha, size = writer.close(
                {
                    "complete": error is None,
                    "error": error,
                    "kakaotalk_formats": formats,
                    "attachments": attachments,
                    "media": resolver.stats.as_dict(),
                    "recognised": recognised,
                }
            )
        except BaseException:
            writer.abort()
            raise
        from forensic.capture.telegram import _result

        out = _result(
            ctx,
            resolver,
            writer,
            temp,
            sha,
            size,
            source_format,
            error,
            label,
            app="kakaotalk",
            recognised=recognised,
        )
        out.artefacts[0].details["attachments"] = len(attachments)
        return out

    def _parse_zip(
        self,
        ctx: DeriveContext,
        writer: TranscriptWriter,
        resolver: MediaResolver,
        ref: AcquiredRef,
        attachments: list[dict[str, Any]],
        chats: list[tuple[str, str, str | None]],
    ) -> None:
        """Every member hashed (attachments listed), then each chat text member parsed."""
        with zipfile.ZipFile(ref.object_path) as zf:
            _zip_limits(zf)
            texts: list[zipfile.ZipInfo] = []
            for info in zf.infolist():
                if not info.filename or info.is_dir():  # is_dir() fails on ''
                    continue
                safe = _safe_member(info.filename)
                if safe is None:
                    resolver._refused({"ref": info.filename}, info.filename)
                    continue
                refusal = _member_refusal(info)
                if refusal is not None:
                    attachments.append(
                        {
                            "member": safe,
                            "status": "not_read",
                            "reason": refusal,
                            "size": info.file_size,
                            "container_sha256": ref.sha256,
                        }
                    )
                    continue
                digest = hashlib.sha256()
                with zf.open(info) as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(chunk)
                if safe.lower().endswith((".txt", ".csv")):
                    try:
                        recognise_text(_member_opener(zf, info))
                        texts.append(info)
                        continue
                    except NotKakaoTalk:
                        pass
                attachments.append(
                    {
                        "member": safe,
                        "sha256": digest.hexdigest(),
                        "size": info.file_size,
                        "container_sha256": ref.sha256,
                    }
                )
            linker = _AttachmentLinker(attachments)
            for info in texts:
                opener = _member_opener(zf, info)
                chats.append(self._parse_one(ctx, writer, opener, info.filename, linker))

    def _parse_one(
        self,
        ctx: DeriveContext,
        writer: TranscriptWriter,
        open_bin: Callable[[], IO[bytes]],
        member: str,
        linker: _AttachmentLinker,
    ) -> tuple[str, str, str | None]:
        """(variant, device, language) of one chat text, its messages written."""
        encoding, kind = recognise_text(open_bin)
        with open_bin() as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, newline="" if kind == "csv" else None)
            if kind == "csv":
                writer.begin_chat(
                    {"name": None, "type": None, "id": None, "file": member, "encoding": encoding}
                )
                for msg in _csv_messages(ctx, text):
                    linker.link(msg, writer.chat_index)
                    writer.message(msg)
                return "mac-csv", "mac", None
            chat = _Chat(ctx, member)
            began = False
            for msg in chat.parse(iter(text)):
                if not began:
                    writer.begin_chat({**chat.meta, "encoding": encoding})
                    began = True
                linker.link(msg, writer.chat_index)
                writer.message(msg)
            if not began:
                writer.begin_chat({**chat.meta, "encoding": encoding})
            return chat.variant or "text", chat.device, chat.lang


class _AttachmentLinker:
    """Links the media a message names to the zip's attachment members.

    A file message names its file (linked by name). A photo or video message names no file;
    its members are found by the time in their file names, within the message's minute
    (KakaoTalk writes message times to the minute), oldest first, each member linked once.
    Where that cannot be done the media says so (``not_linked`` with the reason); a plain
    text export holds no files at all (``not_in_export``)."""

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.in_zip = records is not None
        self.by_name: dict[str, dict[str, Any]] = {}
        self.timed: list[tuple[datetime, str, dict[str, Any]]] = []
        for record in records or ():
            if "sha256" not in record:
                continue
            name = posixpath.basename(record["member"])
            self.by_name.setdefault(name, record)
            record["linked_to"] = None
            kind = _member_kind(name)
            m = _FILE_TIME.search(name)
            if kind and m:
                try:
                    g = {k: int(v) for k, v in m.groupdict().items() if k[0] != "s" or k == "sec"}
                    moment = datetime(g["y"], g["mo"], g["d"], g["h"], g["mi"], g["sec"])
                except ValueError:
                    continue
                record["file_time"] = moment.isoformat()
                self.timed.append((moment, kind, record))
        self.timed.sort(key=lambda t: (t[0], t[2]["member"]))

    def link(self, msg: dict[str, Any], chat: int) -> None:
        media_out: list[dict[str, Any]] = []
        for media in msg["media"]:
            ref = media.get("ref")
            if ref and ref in self.by_name:
                media_out.append(self._linked(media, self.by_name[ref], msg, chat, "file name"))
            elif media.get("role") in ("photo", "video") and self.in_zip:
                media_out.extend(self._by_time(media, msg, chat))
            else:
                media_out.append(media)
        msg["media"] = media_out

    def _by_time(
        self, media: dict[str, Any], msg: dict[str, Any], chat: int
    ) -> list[dict[str, Any]]:
        wanted = int(media.get("count") or 1)
        local = msg["date"].get("local")
        found: list[dict[str, Any]] = []
        if local:
            start = datetime.fromisoformat(local).replace(second=0)
            for moment, kind, record in self.timed:
                if len(found) == wanted:
                    break
                same_minute = 0 <= (moment - start).total_seconds() < 60
                if kind == media["role"] and record["linked_to"] is None and same_minute:
                    found.append(self._linked({"role": kind}, record, msg, chat, "file-name time"))
        if len(found) < wanted:
            rest = {"role": media["role"], "status": "not_linked", "count": wanted - len(found)}
            rest["reason"] = (
                "no attachment whose file-name time is in the message's minute"
                if local
                else "the message has no time to match"
            )
            found.append(rest)
        return found

    @staticmethod
    def _linked(
        media: dict[str, Any], record: dict[str, Any], msg: dict[str, Any], chat: int, how: str
    ) -> dict[str, Any]:
        record["linked_to"] = [chat, msg["id"]]
        out = {k: v for k, v in media.items() if k != "count"}
        out.update(
            status="acquired_in_container",
            member=record["member"],
            sha256=record["sha256"],
            container_sha256=record["container_sha256"],
            linked_by=how,
        )
        return out


def _member_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(_PHOTO_EXT):
        return "photo"
    if lower.endswith(_VIDEO_EXT):
        return "video"
    return None


class KakaoTalkExport(PathSource):
    """``--source kakaotalk``: a KakaoTalk export file; detected only by a ``.txt``, ``.csv`` or
    ``.zip`` name (any name when ``--source`` says so)."""

    name = "kakaotalk"

    def claim(self, path: bytes, follow_symlinks: bool, named: bool) -> Source:
        if not named and os.path.splitext(path)[1].lower() not in (b".txt", b".csv", b".zip"):
            raise NotThisSource("chat.not_kakaotalk", reason="not a .txt, .csv or .zip name")
        if os.path.isdir(path) and not os.path.islink(path):
            raise NotThisSource("chat.not_kakaotalk", reason="a folder")
        try:
            KakaoTalkSource.recognise(path)
        except NotKakaoTalk as exc:
            raise NotThisSource("chat.not_kakaotalk", reason=str(exc)) from None
        return KakaoTalkSource(path)


def register(registry: SourceRegistry) -> None:
    registry.register(KakaoTalkExport())
