"""Acquisition: copy each source into the store while hashing it, prove the stored copy, log it.

One capture run is one write transaction (:mod:`forensic.case.step`) with one group commit per
batch: stage every file (copy + all hashes in one streaming pass, files in parallel), make the
staged bytes durable with one file-system sync, move them to their content address, re-read and
re-hash every stored copy, and only then append the signed log entries. A crash before the log
entries are durable leaves unrecorded objects or temp files and the run's intent, which
``verify`` names and the next write quarantines and logs. Derived files (a chat transcript) are
staged and moved into place only once their entry is committed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from forensic._internal.clock import ns_to_utc, utc_timestamp
from forensic._internal.fsio import sync_filesystem
from forensic._internal.paths import path_record
from forensic.capture.filesystem import FolderSource
from forensic.capture.interface import (
    AcquiredRef,
    CaptureGroup,
    DeriveContext,
    DerivingSource,
    PlannedItem,
    Source,
)
from forensic.capture.sources import NotThisSource, SourceRegistry, default_registry
from forensic.capture.transcript import check_timezone, library_versions
from forensic.case.case import Case, RecoveryReport, host_name, tool_record
from forensic.case.derived import plaintext_fields
from forensic.case.step import Step
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import PendingEntry
from forensic.errors import StoreError, UsageError
from forensic.media import store_metadata
from forensic.mediatype import DETECTOR, sniff
from forensic.progress import SILENT, ProgressReporter
from forensic.store import SUPPORTED_HASHES, EvidenceStore, ItemId, StagedObject

BATCH_FILES = 256
BATCH_BYTES = 256 << 20


@dataclass(frozen=True)
class CaptureOptions:
    hashes: tuple[str, ...] = ()
    follow_symlinks: bool = False
    note: str | None = None
    source_url: str | None = None
    participant: str | None = None  # 참여인: a person present at the acquisition
    workers: int | None = None
    source: str | None = None  # "telegram" | "kakaotalk" | "files"; None: detected
    timezone: str | None = None  # zone of local chat times (default: the case's zone)
    uploads: str | None = None
    """A folder under the case's ``tmp/`` a front end streamed uploaded files into (the app):
    what lies under it came from outside the case and is not refused as ``inside_case``."""


@dataclass(frozen=True)
class AcquiredItem:
    item_id: ItemId
    size: int
    media_type: str
    path: bytes
    relpath: bytes | None
    new_object: bool
    seq: int
    hashes: dict[str, str]
    group: str | None = None


class AcquiredItems:
    """The items one run acquired, in log order, spooled one line each to an unnamed temp file.

    Why: holding every item (with its hash dict) made memory grow ~1 KiB per file; here only the
    counts a summary needs stay in memory. The file has no name (``O_TMPFILE``), so a crash
    leaves nothing behind; it sits in the case's own ``tmp/`` and holds only what the custody
    log already records in plain text (item hashes, sizes, media types, source paths).
    """

    _FLUSH_AT = 1 << 16

    def __init__(self, folder: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (closed by finalize)
        self._close = weakref.finalize(self, self._file.close)
        self._fd = self._file.fileno()
        self._pending = bytearray()
        self._written = 0
        self._count = 0
        self.new_objects = 0
        self.total_size = 0

    def append(self, item: AcquiredItem) -> None:
        record = [
            item.item_id,
            item.size,
            item.media_type,
            item.path.decode("latin-1"),  # any bytes, back exactly (json escapes \u00XX)
            None if item.relpath is None else item.relpath.decode("latin-1"),
            item.new_object,
            item.seq,
            item.hashes,
            item.group,
        ]
        self._pending += json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
        self._count += 1
        self.new_objects += item.new_object
        self.total_size += item.size
        if len(self._pending) >= self._FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        view = memoryview(self._pending)
        try:
            while view:
                n = os.pwrite(self._fd, view, self._written)
                self._written += n
                view = view[n:]
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise StoreError("disk_full", path=str(self._file.name)) from exc
            raise StoreError("store_write", path="tmp/", reason=exc.strerror) from exc
        finally:
            view.release()
        self._pending.clear()

    def close(self) -> None:
        self._close()

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __getitem__(self, index: int) -> AcquiredItem:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return next(islice(iter(self), index, None))

    def __iter__(self) -> Iterator[AcquiredItem]:
        self._flush()
        end, offset, rest = self._written, 0, b""
        while offset < end:
            block = os.pread(self._fd, min(1 << 20, end - offset), offset)
            if not block:
                break
            offset += len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield self._decode(line)

    @staticmethod
    def _decode(line: bytes) -> AcquiredItem:
        i, size, media, path, rel, new, seq, hashes, group = json.loads(line)
        return AcquiredItem(
            ItemId(i),
            size,
            media,
            path.encode("latin-1"),
            None if rel is None else rel.encode("latin-1"),
            new,
            seq,
            hashes,
            group,
        )


@dataclass(frozen=True)
class CaptureFailure:
    path: bytes
    reason: str
    params: dict[str, str] = field(default_factory=dict)
    skipped: bool = False


@dataclass(frozen=True)
class CaptureResult:
    run_id: str
    acquired: AcquiredItems
    links: list[PlannedItem]
    failures: list[CaptureFailure]
    groups: list[CaptureGroup]
    recovery: RecoveryReport
    chats: tuple[dict[str, Any], ...] = ()
    """What each chat export was recognised as (its transcript entry's ``recognised``)."""

    @property
    def failed(self) -> list[CaptureFailure]:
        return [f for f in self.failures if not f.skipped]

    @property
    def skipped(self) -> list[CaptureFailure]:
        return [f for f in self.failures if f.skipped]


@dataclass(frozen=True)
class _Staged:
    item: PlannedItem
    staged: StagedObject
    stat_before: os.stat_result
    started: str
    finished: str
    media_type: str
    source: dict[str, Any]


class _Failed(Exception):
    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.reason = code
        self.params = params


def parse_hash_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    for name in names:
        if name not in SUPPORTED_HASHES:
            raise UsageError("unknown_hash", name=name, supported=", ".join(SUPPORTED_HASHES))
    return names


def _stat_record(st: os.stat_result) -> dict[str, Any]:
    return {
        "size": st.st_size,
        "mode": stat.filemode(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        # RFC 8785 numbers are IEEE doubles: values that may exceed 2**53 are decimal strings.
        "inode": str(st.st_ino),
        "device": str(st.st_dev),
        "nlink": st.st_nlink,
        "mtime_ns": str(st.st_mtime_ns),
        "atime_ns": str(st.st_atime_ns),
        "ctime_ns": str(st.st_ctime_ns),
        "mtime": ns_to_utc(st.st_mtime_ns),
        "atime": ns_to_utc(st.st_atime_ns),
        "ctime": ns_to_utc(st.st_ctime_ns),
    }


def _open_source(path: bytes) -> int:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:
            pass  # O_NOATIME needs ownership; the atime as seen was recorded before reading
    return os.open(path, flags)


def _errno_failure(exc: OSError, path: bytes) -> _Failed:
    if exc.errno == errno.ENOENT:
        return _Failed("vanished")
    if exc.errno == errno.ELOOP:
        return _Failed("became_link")
    return _Failed("unreadable", reason=exc.strerror or str(exc))


def _stage_one(
    case: Case,
    item: PlannedItem,
    algorithms: tuple[str, ...],
    on_bytes: Callable[[int], None],
    describe: Callable[[PlannedItem], dict[str, Any]],
) -> _Staged:
    """Stage one file (in a worker thread): copy, hash, and prepare its log record's parts."""
    started = utc_timestamp()
    try:
        fd = _open_source(item.path)
    except OSError as exc:
        raise _errno_failure(exc, item.path) from exc
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise _Failed("not_regular")
        staged = case.store.stage_from_fd(fd, algorithms, on_bytes)
        after = os.fstat(fd)
    except OSError as exc:
        raise _errno_failure(exc, item.path) from exc
    finally:
        os.close(fd)
    finished = utc_timestamp()
    changed = (
        after.st_size != before.st_size
        or after.st_mtime_ns != before.st_mtime_ns
        or staged.size != before.st_size
    )
    if not changed:
        try:
            now_st = os.stat(item.path, follow_symlinks=False)
            changed = now_st.st_ino != before.st_ino or now_st.st_size != before.st_size
        except FileNotFoundError:
            case.store.discard(staged)
            raise _Failed("vanished") from None
    if changed:
        case.store.discard(staged)
        raise _Failed(
            "changed_during_read",
            before=str(before.st_size),
            after=str(after.st_size),
        )
    source = {**describe(item), "stat": _stat_record(before)}
    return _Staged(item, staged, before, started, finished, sniff(staged.head), source)


def uploads_folder(case: Case, uploads: str | None) -> bytes | None:
    """The real path of the uploads folder, only when it lies directly in the case's ``tmp/``."""
    if uploads is None:
        return None
    real = os.fsencode(os.path.realpath(uploads))
    tmp = os.fsencode(os.path.realpath(case.root / "tmp"))
    if os.path.dirname(real) != tmp or not os.path.basename(real).startswith(b"upload-"):
        return None
    return real


def _in_case(real: bytes, case_real: bytes, uploads: bytes | None) -> bool:
    """Whether a real path lies in the case (the uploads folder's files do not count)."""
    if uploads is not None and real.startswith(uploads + b"/"):
        return False
    return real == case_real or real.startswith(case_real + b"/")


def _plan_sources(
    case: Case,
    paths: Iterable[bytes],
    follow: bool,
    failures: list[CaptureFailure],
    forced: str | None = None,
    registry: SourceRegistry | None = None,
    uploads: bytes | None = None,
) -> list[Source]:
    """A planner for each path from the source that claims it (``forced``: ``--source``)."""
    registry = registry or default_registry()
    case_real = os.fsencode(os.path.realpath(case.root))
    sources: list[Source] = []
    for raw in paths:
        path = os.path.abspath(raw)
        if not os.path.lexists(path):
            failures.append(CaptureFailure(path, "missing"))
            continue
        real = os.path.realpath(path)
        if _in_case(real, case_real, uploads):
            failures.append(CaptureFailure(path, "inside_case"))
            continue
        if FolderSource.detect(path) and case_real.startswith(real.rstrip(b"/") + b"/"):
            failures.append(CaptureFailure(path, "contains_case"))
            continue
        try:
            sources.append(registry.claim_path(path, follow, forced))
        except NotThisSource as exc:
            failures.append(CaptureFailure(path, exc.reason, exc.params))
    return sources


def _batches(items: Iterable[PlannedItem]) -> Iterator[list[PlannedItem]]:
    batch: list[PlannedItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += item.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _Run:
    """One capture run: shared state of the batches."""

    def __init__(
        self, case: Case, step: Step, options: CaptureOptions, progress: ProgressReporter
    ) -> None:
        self.case = case
        self.step = step
        self.options = options
        self.progress = progress
        self.run_id = step.run
        self.acquired = AcquiredItems(case.store.tmp)
        self.failures: list[CaptureFailure] = []
        self.links: list[PlannedItem] = []
        self.groups: list[CaptureGroup] = []
        self.chats: list[dict[str, Any]] = []
        self.tool = tool_record()
        self.host = host_name()
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        workers = options.workers or cores or os.cpu_count() or 2
        self.pool = ThreadPoolExecutor(max_workers=max(2, min(8, workers)))

    def common(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "run": self.run_id,
            "examiner": self.case.examiner_name,
            "host": self.host,
            "tool": self.tool,
        }
        if self.options.note:
            details["note"] = self.options.note
        if self.options.source_url:
            details["source_url"] = self.options.source_url
        if self.options.participant:
            details["participant"] = self.options.participant
        return details

    def summary(self, paths: list[bytes]) -> dict[str, Any]:
        """The details of the run's closing ``capture-summary`` entry."""
        details = self.common()
        details.update(
            {
                "inputs": [path_record(p) for p in paths],
                "acquired": len(self.acquired),
                "new_objects": self.acquired.new_objects,
                "links": len(self.links),
                "failures": [
                    {
                        **path_record(f.path),
                        "reason": f.reason,
                        "skipped": f.skipped,
                        **({"params": f.params} if f.params else {}),
                    }
                    for f in self.failures
                ],
                "hashes": ["sha256", *[h for h in self.options.hashes if h != "sha256"]],
                "groups": [g.group_id for g in self.groups],
            }
        )
        return details

    def source_record(self, item: PlannedItem) -> dict[str, Any]:
        record: dict[str, Any] = path_record(item.followed_link or item.path)
        if item.relpath is not None:
            rel = path_record(item.relpath)
            record["relpath"] = rel["path"]
            record["relpath_b64"] = rel["path_b64"]
        if item.link_target is not None:
            record["link_target"] = path_record(item.link_target)
        if item.followed_link is not None:
            record["followed_to"] = path_record(item.path)
        return record

    def run_batch(self, batch: list[PlannedItem]) -> None:
        algorithms = self.options.hashes
        futures = [
            (
                item,
                self.pool.submit(
                    _stage_one,
                    self.case,
                    item,
                    algorithms,
                    self.progress.advance,
                    self.source_record,
                ),
            )
            for item in batch
        ]
        staged: list[_Staged] = []
        disk_full: StoreError | None = None
        for item, fut in futures:
            try:
                staged.append(fut.result())
            except _Failed as exc:
                self.failures.append(CaptureFailure(item.path, exc.reason, exc.params))
            except StoreError as exc:
                if exc.key == "disk_full":
                    disk_full = exc
                else:
                    self.failures.append(
                        CaptureFailure(item.path, "store_failed", {"reason": exc.diagnostics()})
                    )
        if disk_full is not None:
            for s in staged:
                self.case.store.discard(s.staged)
            raise disk_full
        if not staged:
            return
        store = self.case.store
        # named in the intent before any is placed: recovery quarantines only what it names
        self.step.announce_objects(store.object_path(s.staged.stored_sha256) for s in staged)
        try:
            sync_filesystem(store.tmp, [s.staged.temp for s in staged])
            new_flags = [store.commit(s.staged) for s in staged]
            sync_filesystem(store.objects, [store.stored_path(s.staged) for s in staged])
        except OSError as exc:
            for s in staged:
                store.discard(s.staged)
            if exc.errno == errno.ENOSPC:
                raise StoreError("disk_full", path=str(self.case.root)) from exc
            raise StoreError("store_write", path=str(store.objects), reason=exc.strerror) from exc
        checks = list(self.pool.map(lambda s: store.verify_staged(s.staged), staged))
        pending: list[PendingEntry] = []
        kept: list[tuple[_Staged, bool, str]] = []
        for s, new, check in zip(staged, new_flags, checks, strict=True):
            if not check.intact:
                if new:
                    with contextlib.suppress(OSError):
                        os.chmod(store.stored_path(s.staged), 0o600)
                        store.stored_path(s.staged).unlink()
                self.failures.append(CaptureFailure(s.item.path, "stored_copy_mismatch"))
                continue
            media_type = s.media_type
            details = self.common()
            details.update(
                {
                    "item": {
                        "sha256": s.staged.item_id,
                        "size": s.staged.size,
                        "media_type": media_type,
                        "media_type_by": DETECTOR,
                        "hashes": s.staged.hashes,
                    },
                    **store.object_fields(s.staged),
                    "new_object": new,
                    "source": s.source,
                    "group": s.item.group,
                    "acquired": s.started,
                    "acquired_end": s.finished,
                    "stored_copy_check": check.record(),
                }
            )
            pending.append(PendingEntry("capture", f"sha256:{s.staged.item_id}", details))
            kept.append((s, new, media_type))
        self._log_batch(pending, kept)

    def _log_batch(
        self, pending: list[PendingEntry], kept: list[tuple[_Staged, bool, str]]
    ) -> None:
        entries = self.step.record(pending)
        for (s, new, media_type), entry in zip(kept, entries, strict=True):
            self.acquired.append(
                AcquiredItem(
                    s.staged.item_id,
                    s.staged.size,
                    media_type,
                    s.item.path,
                    s.item.relpath,
                    new,
                    entry.seq,
                    s.staged.hashes,
                    s.item.group,
                )
            )

    def derive(self, source: DerivingSource, group: CaptureGroup, zone: tuple[str, str]) -> None:
        """Derived artefacts (a chat transcript) from the stored copies of one group's files."""
        store = self.case.store
        plain = contextlib.ExitStack()
        acquired = {
            a.relpath: AcquiredRef(a.item_id, a.size, _readable_path(store, plain, a))
            for a in self.acquired
            if a.group == group.group_id and a.relpath is not None
        }
        root = group.root.rstrip(b"/") + b"/"
        not_acquired = {
            os.path.relpath(f.path, group.root): f.reason
            for f in self.failures
            if f.path.startswith(root)
        }
        ctx = DeriveContext(
            group.group_id,
            group.root,
            acquired,
            not_acquired,
            store.tmp,
            zone[0],
            zone[1],
            {**self.tool, **library_versions()},
            self.case.info.encryption.recipients if self.case.info.encryption else (),
        )
        with plain:
            result = source.derive(ctx)
        for problem in result.problems:
            self.failures.append(
                CaptureFailure(
                    problem.path,
                    problem.reason or problem.kind,
                    dict(problem.reason_params),
                    skipped=problem.kind == "skipped",
                )
            )
        pending: list[PendingEntry] = []
        for art in result.artefacts:
            fields = plaintext_fields(
                self.case,
                str(art.details.get("transcript_sha256", "")),
                int(art.details.get("transcript_size", 0)),
            )
            details = self.common()
            details.update(art.details)
            details["group"] = group.group_id
            if art.action == "transcript" and isinstance(art.details.get("recognised"), dict):
                check = art.details.get("zone_check")
                self.chats.append(
                    {"group": group.group_id, **art.details["recognised"], "zone_check": check}
                )
            # staged where the source wrote it; in place once the entry is committed
            details["files"] = [self.step.adopt_file(f"{art.area}/{art.name}", art.temp, fields)]
            pending.append(PendingEntry(art.action, art.subject, details))
        if pending:
            self.step.record(pending)

    def record_links(self, links: list[PlannedItem]) -> None:
        pending = []
        for item in links:
            details = self.common()
            details.update({"source": self.source_record(item), "group": item.group})
            if item.reason:
                details["not_followed"] = item.reason
            pending.append(
                PendingEntry("capture-link", "link:" + path_record(item.path)["path"], details)
            )
        self.step.record(pending)
        self.links.extend(links)


_PARSED_SUFFIXES = (b".json", b".html", b".htm", b".txt", b".csv", b".zip")


def _readable_path(
    store: EvidenceStore, stack: contextlib.ExitStack[bool | None], acquired: AcquiredItem
) -> Path:
    """The path a chat parser reads a stored file from. Encrypted case: a decrypted memfd for
    the files parsers open (text, HTML, JSON, zip); media files are never parsed, only named
    by SHA-256, so they are not decrypted."""
    if not store.encrypted:
        return store.object_path(acquired.item_id)
    if acquired.relpath is not None and acquired.relpath.lower().endswith(_PARSED_SUFFIXES):
        return stack.enter_context(store.plaintext_path(acquired.item_id))
    return Path(os.devnull)


def describe_new_media(
    case: Case,
    key: ExaminerKey,
    acquired: Iterable[AcquiredItem],
    progress: ProgressReporter = SILENT,
) -> None:
    """Record what each newly stored image or video says about itself, at capture time.

    Called once the run's intent is gone (the holder has the case lock): the acquisition is
    complete whatever happens here, and describers turn bad media into warnings, never errors.
    """
    media_ids = list(
        dict.fromkeys(
            a.item_id
            for a in acquired
            if a.new_object and a.media_type.startswith(("image/", "video/"))
        )
    )
    if media_ids:
        store_metadata(case, key, media_ids, progress)


def capture_paths(
    case: Case,
    key: ExaminerKey,
    paths: Iterable[bytes],
    options: CaptureOptions | None = None,
    progress: ProgressReporter = SILENT,
    registry: SourceRegistry | None = None,
) -> CaptureResult:
    """Acquire files and folders into the case. One bad file never stops the batch.

    ``registry``: the path sources that may claim the paths (default: the built-in ones).
    """
    options = options or CaptureOptions()
    paths = list(paths)
    registry = registry or default_registry()
    if options.source is not None:
        registry.path_source(options.source)  # an unknown --source is refused before any lock
    zone = check_timezone(options.timezone, case.info.timezone)
    inputs = {"inputs": [path_record(p) for p in paths]}
    with case.writing(key) as recovery:
        with case.step(key, "capture", intent=inputs) as step:
            run = _Run(case, step, options, progress)
            try:
                _capture_run(case, run, paths, zone, registry)
            finally:
                run.pool.shutdown(wait=True)
        describe_new_media(case, key, run.acquired, progress)
    return CaptureResult(
        run.run_id, run.acquired, run.links, run.failures, run.groups, recovery, tuple(run.chats)
    )


def _capture_run(
    case: Case, run: _Run, paths: list[bytes], zone: tuple[str, str], registry: SourceRegistry
) -> None:
    """The body of one capture run (inside its step): plan, acquire in batches, derive, sum up."""
    options, progress = run.options, run.progress
    uploads = uploads_folder(case, options.uploads)
    sources = _plan_sources(
        case, paths, options.follow_symlinks, run.failures, options.source, registry, uploads
    )
    groups = run.groups = [g for src in sources for g in src.groups()]
    if groups:
        run.step.record(
            [
                PendingEntry(
                    "capture-group",
                    g.group_id,
                    {**run.common(), "kind": g.kind, **g.details},
                )
                for g in groups
            ],
        )
    links: list[PlannedItem] = []
    # The plan's failures go where they always went: after the inputs', before the
    # acquisition's (the summary lists them in that order).
    plan_failures: list[CaptureFailure] = []
    plan_failures_at = len(run.failures)

    # The total is unknown until the walk ends: the bar shows bytes and rate, no ETA.
    progress.start("capture", None)
    try:
        planned = _planned_files(case, sources, links, plan_failures, uploads)
        for batch in _batches(planned):
            # Links met while planning this batch are logged before its files.
            if links:
                run.record_links(links)
                links.clear()
            run.run_batch(batch)
        if links:
            run.record_links(links)
            links.clear()
    finally:
        progress.finish()
        run.failures[plan_failures_at:plan_failures_at] = plan_failures
    for src in sources:
        if isinstance(src, DerivingSource):
            for group in src.groups():
                run.derive(src, group, zone)
    run.step.record([PendingEntry("capture-summary", run.run_id, run.summary(paths))])


def _planned_files(
    case: Case,
    sources: list[Source],
    links: list[PlannedItem],
    failures: list[CaptureFailure],
    uploads: bytes | None = None,
) -> Iterator[PlannedItem]:
    """The plan, item by item, straight into the batches (never held whole): links and
    failures are set aside as they come, files go on to be acquired."""
    case_real = os.fsencode(os.path.realpath(case.root))
    real_dirs: dict[bytes, bytes] = {}

    def realpath(item: PlannedItem) -> bytes:
        # A planned file that is no link itself resolves to its folder's real path plus
        # its name: resolve each folder once, not every file's whole path.
        if item.followed_link is not None:
            return os.path.realpath(item.path)
        parent, name = os.path.split(item.path)
        real = real_dirs.get(parent)
        if real is None:
            real = real_dirs[parent] = os.path.realpath(parent)
        return os.path.join(real, name)

    for src in sources:
        for item in src.plan():
            if item.kind == "file":
                if _in_case(realpath(item), case_real, uploads):
                    failures.append(CaptureFailure(item.path, "inside_case"))
                else:
                    yield item
                if item.followed_link is None:
                    continue
            if item.kind == "symlink" or item.followed_link is not None:
                if item.kind == "symlink":
                    links.append(item)
                if item.reason:
                    failures.append(
                        CaptureFailure(
                            item.path,
                            item.reason,
                            dict(item.reason_params),
                            skipped=True,
                        )
                    )
            elif item.kind in ("skipped", "failed"):
                failures.append(
                    CaptureFailure(
                        item.path,
                        item.reason or item.kind,
                        dict(item.reason_params),
                        skipped=item.kind == "skipped",
                    )
                )
