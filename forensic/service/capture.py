"""``capture``: files, folders, chat exports, web pages and the screen into a case.

The capture-source registry (:mod:`forensic.capture.sources`) says which source takes each
input; this use case opens the case for writing, lets the file pipeline or each fetched source
acquire, reads the text of fetched pages and screens, then asks for trusted time over the new
log head. A fetched source fetches with no case lock held and takes the lock only to commit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic._internal.paths import display
from forensic.capture.acquire import CaptureOptions, CaptureResult, capture_paths
from forensic.capture.chatshot_store import ShotRecord
from forensic.capture.sources import (
    SCREEN,
    CaptureInput,
    FetchedCapture,
    FetchedSource,
    FetchOptions,
    ReportLine,
    SourceRegistry,
    default_registry,
)
from forensic.errors import ForensicError
from forensic.i18n import message
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_for_writing, recovery_dict
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case.case import Case
    from forensic.custody.keys import ExaminerKey
    from forensic.timestamp import TimestampResult


@dataclass(frozen=True)
class CaptureSettings:
    """What the user asked, whichever source acquires (each takes what concerns it)."""

    hashes: tuple[str, ...] = ()
    """Extra hashes besides SHA-256 (files)."""
    follow_symlinks: bool = False
    note: str | None = None
    source_url: str | None = None
    """Where the files were found (files)."""
    participant: str | None = None
    """A person present at the acquisition (참여인, files); the report's hash sheet then takes
    the seizure form."""
    source: str | None = None
    """The path source ``--source`` names (``None``: each path's is detected)."""
    timezone: str | None = None
    """Zone of chat times written without one."""
    delay: float = 0.0
    """Seconds before a screen grab."""
    timeout: float = 30.0
    """Seconds a web page may take to load."""
    ocr: bool = True
    """Read the text of web and screen captures, and the messages of chat screenshots."""
    workers: int | None = None
    uploads: str | None = None
    """The case's ``tmp/upload-*`` folder a front end streamed uploaded files into."""

    def for_files(self) -> CaptureOptions:
        return CaptureOptions(
            hashes=self.hashes,
            follow_symlinks=self.follow_symlinks,
            note=self.note,
            source_url=self.source_url,
            participant=self.participant,
            workers=self.workers,
            source=self.source,
            timezone=self.timezone,
            uploads=self.uploads,
        )

    def for_fetching(self, lang: str) -> FetchOptions:
        return FetchOptions(note=self.note, timeout=self.timeout, delay=self.delay, lang=lang)


def capture_inputs(
    arguments: Iterable[str | bytes | os.PathLike[str]], screen: bool = False
) -> list[CaptureInput]:
    """The inputs a command line names: its arguments in order, then the screen."""
    inputs = [CaptureInput.of(a) for a in arguments]
    return [*inputs, SCREEN] if screen else inputs


class AcquiredJson(list[dict[str, Any]]):
    """The ``acquired`` array of ``capture --json``, made item by item while it is encoded.

    A list only to the JSON encoder (which with ``indent`` is the pure-Python one: it asks for
    the length, then iterates); it holds nothing itself, so 100,000 items are never all held.
    """

    def __init__(self, result: CaptureResult) -> None:
        super().__init__()
        self.result = result

    def __len__(self) -> int:
        return len(self.result.acquired)

    def __bool__(self) -> bool:
        return bool(self.result.acquired)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for a in self.result.acquired:
            yield {
                "sha256": a.item_id,
                "size": a.size,
                "media_type": a.media_type,
                "path": display(a.path),
                "new_object": a.new_object,
                "seq": a.seq,
                "hashes": a.hashes,
            }


@dataclass(frozen=True)
class FilesCaptured:
    """Paths acquired by the file pipeline in one run (files, folders, chat exports)."""

    result: CaptureResult
    stamped: TimestampResult | None = None
    timestamp_error: ForensicError | None = None
    """Trusted time could not be asked for (its configuration); the capture is committed."""
    lang: str = "en"
    screenshots: tuple[ShotRecord, ...] = ()
    """Images recognised as chat screenshots and read as messages (by OCR)."""

    @property
    def failed(self) -> bool:
        return bool(self.result.failed)

    def screenshot_lines(self) -> list[str]:
        """``Chat screenshot (KakaoTalk, dark): 7 message(s) read by OCR as shot-…``."""
        out = []
        for s in self.screenshots:
            if s.group is None:
                out.append(message("chat_shot.not_read", self.lang, item=s.item_id[:12],
                                   reason=s.error or "?"))  # fmt: skip
                continue
            app = message(f"chat_shot.app_{s.app}", self.lang)
            theme = message(f"chat_shot.theme_{s.theme}", self.lang)
            out.append(message("chat_shot.recognised", self.lang, app=app, theme=theme,
                               count=s.messages, group=s.group, linked=s.linked))  # fmt: skip
        return out

    def failures(self) -> list[dict[str, Any]]:
        return [
            {
                "path": display(f.path),
                "reason": f.reason,
                "message": message(f"reason.{f.reason}", self.lang, **f.params),
                "skipped": f.skipped,
            }
            for f in self.result.failures
        ]

    def chats(self) -> list[dict[str, Any]]:
        """What each chat export was recognised as, with the line a person is told."""
        return [
            {
                **chat,
                "summary": recognition_text(chat, self.lang),
                "zone_warning": zone_warning_text(chat, self.lang),
            }
            for chat in self.result.chats
        ]

    def as_dict(self) -> dict[str, Any]:
        """The document; its ``acquired`` array is read back item by item as it is encoded."""
        return {
            "ok": not self.failed,
            "run": self.result.run_id,
            "recovered": recovery_dict(self.result.recovery),
            "acquired": AcquiredJson(self.result),
            "links": [display(link.path) for link in self.result.links],
            "groups": [g.group_id for g in self.result.groups],
            "chats": self.chats(),
            "chat_screenshots": [
                {**s.as_dict(), "caveat": message("chat_shot.caveat", self.lang)}
                for s in self.screenshots
            ],
            "failures": self.failures(),
            "timestamp": self.stamped.as_dict() if self.stamped is not None else None,
        }


_DEVICES = frozenset({"android", "ios", "pc", "mac", "mobile"})


def recognition_text(chat: dict[str, Any], lang: str) -> str:
    """``KakaoTalk Android export (ko): 503 message(s) in 1 chat(s), 12 photo(s) linked, …``."""
    if chat.get("app") == "telegram":
        html = chat.get("source_format") == "telegram-html"
        kind = "kind_telegram_html" if html else "kind_telegram_json"
    else:
        device = chat.get("device")
        kind = f"kind_{device}" if device in _DEVICES else "kind_unknown"
    language = chat.get("language")
    return message(
        "chat_capture.recognised",
        lang,
        kind=message(f"chat_capture.{kind}", lang),
        lang=f" ({language})" if language else "",
        messages=chat.get("messages", 0),
        chats=chat.get("chats", 0),
        photos=chat.get("photos_linked", 0),
        missing=chat.get("media_missing", 0),
    )


def zone_warning_text(chat: dict[str, Any], lang: str) -> str | None:
    """The warning when the export's own zone disagrees with the one stated for it."""
    check = chat.get("zone_check") or {}
    if not check.get("disagreements"):
        return None
    stated = check.get("stated") or {}
    source = str(stated.get("from") or "default")
    return message(
        "chat_capture.zone_warning",
        lang,
        group=chat.get("group"),
        derived=", ".join(f"UTC{o}" for o in check.get("derived_offsets") or {}),
        zone=stated.get("zone"),
        zone_from=message(f"chat_capture.from_{source}", lang),
        count=check["disagreements"],
    )


@dataclass(frozen=True)
class FetchAttempt:
    """One web page or screen grab: committed (``capture``) or not (``error``)."""

    source: FetchedSource
    given: CaptureInput
    capture: FetchedCapture | None = None
    error: ForensicError | None = None
    ocr: list[dict[str, Any]] | None = None
    said: tuple[ReportLine, ...] = ()
    """What a person is told, in order (the OCR warning, then the source's lines)."""
    lang: str = "en"

    def entry(self) -> dict[str, Any]:
        assert self.capture is not None
        entry = dict(self.capture.entry)
        if "recovered" in entry:
            entry["recovered"] = recovery_dict(self.capture.recovery)
        if self.ocr is not None:
            entry["ocr"] = self.ocr
        return entry

    def failure(self) -> dict[str, Any]:
        assert self.error is not None
        return {
            **self.source.label(self.given),
            "reason": self.error.key,
            "message": self.error.diagnostics(self.lang),
        }


@dataclass(frozen=True)
class FetchedCaptured:
    """Web pages and screen grabs, each its own committed group, in the order given."""

    attempts: tuple[FetchAttempt, ...]
    members: tuple[tuple[str, bool], ...]
    """Every fetched source of the registry (name, single): each has its member."""
    stamped: TimestampResult | None = None
    timestamp_error: ForensicError | None = None

    @property
    def failed(self) -> bool:
        return any(a.error is not None for a in self.attempts)

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"ok": not self.failed}
        doc.update({name: None if single else [] for name, single in self.members})
        doc["failures"] = []
        for attempt in self.attempts:
            if attempt.error is not None:
                doc["failures"].append(attempt.failure())
            elif attempt.source.single:
                doc[attempt.source.name] = attempt.entry()
            else:
                doc[attempt.source.name].append(attempt.entry())
        doc["timestamp"] = self.stamped.as_dict() if self.stamped is not None else None
        return doc


CaptureOutcome = FilesCaptured | FetchedCaptured


def capture(
    session: Session,
    inputs: Sequence[CaptureInput],
    settings: CaptureSettings | None = None,
    progress: ProgressReporter = SILENT,
    *,
    case_dir: Path | None = None,
    registry: SourceRegistry | None = None,
) -> CaptureOutcome:
    """Capture ``inputs`` (see :func:`capture_inputs`) into the case, then stamp the new head.

    Paths go through one run of the file pipeline; a missing or unreadable one is a failure in
    the result and the rest goes on. Web pages and the screen are one group each, one failing
    page does not stop the others. Addresses mixed with paths are a usage error.
    """
    settings = settings or CaptureSettings()
    registry = registry or default_registry()
    routed = registry.route(inputs)
    for source, given in routed.fetched:
        source.check(given)  # a malformed address is refused before anything is fetched
    case, key = open_for_writing(session, case_dir)
    if routed.paths:
        result = capture_paths(
            case, key, routed.paths, settings.for_files(), progress, registry=registry
        )
        shots = _read_screenshots(case, key, result) if settings.ocr else ()
        stamped, problem = _stamp(case, key)
        return FilesCaptured(result, stamped, problem, session.lang, shots)
    attempts = tuple(
        _fetch(case, key, source, given, settings, session.lang, progress)
        for source, given in routed.fetched
    )
    stamped, problem = _stamp(case, key)
    members = tuple((s.name, s.single) for s in registry.fetched_sources())
    return FetchedCaptured(attempts, members, stamped, problem)


def _fetch(
    case: Case,
    key: ExaminerKey,
    source: FetchedSource,
    given: CaptureInput,
    settings: CaptureSettings,
    lang: str,
    progress: ProgressReporter,
) -> FetchAttempt:
    try:
        got = source.acquire(case, key, given, settings.for_fetching(lang), progress)
    except ForensicError as exc:
        return FetchAttempt(source, given, error=exc, lang=lang)
    ocr: list[dict[str, Any]] | None = None
    said = list(got.said)
    if settings.ocr:
        ocr, warning = _read_text(case, key, got.readable, lang)
        if warning is not None:
            said.insert(0, ("warn", warning))
    return FetchAttempt(source, given, got, ocr=ocr, said=tuple(said), lang=lang)


def _read_text(
    case: Case, key: ExaminerKey, item_ids: Sequence[str], lang: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Text of freshly captured items; a missing tesseract is a warning, not a failure."""
    from forensic.capture.ocr import ocr_items

    if not item_ids:
        return [], None
    try:
        records = ocr_items(case, key, list(item_ids))
    except ForensicError as exc:
        text = exc.diagnostics(lang)
        return [{"error": exc.key, "message": text}], text
    read = [
        {"sha256": r.item_id, "method": r.method, "chars": r.chars, "path": r.path}
        for r in records
        if r.skipped is None
    ]
    return read, None


def _read_screenshots(
    case: Case, key: ExaminerKey, result: CaptureResult
) -> tuple[ShotRecord, ...]:
    """The messages of the chat screenshots just captured; a missing tesseract leaves the
    capture as it is (``forensic ocr`` may read them later)."""
    from forensic.capture.chatshot_store import read_screenshots
    from forensic.capture.ocr import IMAGE_TYPES

    images = [a.item_id for a in result.acquired if a.media_type in IMAGE_TYPES]
    if not images:
        return ()
    try:
        return tuple(read_screenshots(case, key, images))
    except ForensicError as exc:
        return (ShotRecord("", None, None, 0, None, error=exc.diagnostics("en")),)


def _stamp(case: Case, key: ExaminerKey) -> tuple[TimestampResult | None, ForensicError | None]:
    """Trusted time for the new log head when TSAs are configured (TSA failures are queued);
    a configuration problem is reported beside the committed capture, never instead of it."""
    from forensic.timestamp import stamp_after_write

    try:
        return stamp_after_write(case, key), None
    except ForensicError as exc:
        return None, exc
