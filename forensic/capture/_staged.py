"""Acquire bytes this tool produced itself (a page screenshot, a screen grab, a WARC).

The bytes never touch a file outside the case: they sit in an anonymous in-memory file
(``memfd``) and are copied into the store exactly like a file source, in one write transaction
(:mod:`forensic.case.step`) with the same group commit as :mod:`forensic.capture.acquire`:
stage all, one sync, move to the content address, re-read and re-hash every stored copy, then
one ``capture`` log entry per item with the same details shape, so ``list``, ``show`` and
``verify`` treat them like any capture. Whatever the capture fetched over the network was
fetched before: the case lock is taken only here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from dataclasses import dataclass
from typing import Any

from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import sync_filesystem
from forensic._internal.paths import path_record
from forensic.capture.acquire import AcquiredItem, describe_new_media
from forensic.capture.interface import GroupId
from forensic.case.case import Case, RecoveryReport, host_name, tool_record
from forensic.case.step import Step
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import PendingEntry
from forensic.errors import StoreError
from forensic.mediatype import DETECTOR, sniff
from forensic.progress import SILENT, ProgressReporter
from forensic.store import StagedObject


@dataclass(frozen=True)
class Generated:
    """One file made by a capture, held in memory until it is in the store."""

    name: str
    data: bytes
    media_type: str | None
    created: str
    source: dict[str, Any]


@dataclass(frozen=True)
class GeneratedResult:
    run_id: str
    group_id: GroupId
    acquired: list[AcquiredItem]
    recovery: RecoveryReport


def _memfd(data: bytes, name: str) -> int:
    """An anonymous in-memory file holding ``data`` (Linux); a pipe-free fd for staging."""
    fd = os.memfd_create(f"forensic-{name}", getattr(os, "MFD_CLOEXEC", 0))
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def common_details(case: Case, run_id: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    details: dict[str, Any] = {
        "run": run_id,
        "examiner": case.examiner_name,
        "host": host_name(),
        "tool": tool_record(),
    }
    details.update(extra or {})
    return details


def acquire_generated(
    case: Case,
    key: ExaminerKey,
    kind: str,
    group_details: dict[str, Any],
    files: list[Generated],
    common: dict[str, Any] | None = None,
    progress: ProgressReporter = SILENT,
) -> GeneratedResult:
    """Record a capture group of kind ``kind`` and acquire ``files`` into it (one lock)."""
    run_id = f"run-{uuid.uuid4().hex}"
    group_id = GroupId(f"group-{uuid.uuid4().hex}")
    with case.writing(key) as recovery:
        with case.step(key, f"capture-{kind}", run=run_id, intent={}) as step:
            base = common_details(case, run_id, common)
            step.record(
                [PendingEntry("capture-group", group_id, {**base, "kind": kind, **group_details})]
            )
            staged = _stage_all(case, files, progress)
            # named in the intent before any is placed: recovery quarantines only what it names
            step.announce_objects(
                case.store.object_path(s.stored_sha256) for _f, s, _a, _b in staged
            )
            pending, kept = _capture_entries(case, kind, group_id, base, staged)
            entries = step.record(pending)
            acquired = [
                AcquiredItem(
                    s.item_id,
                    s.size,
                    media_type,
                    os.fsencode(f"{kind}:{f.name}"),
                    None,
                    new,
                    entry.seq,
                    s.hashes,
                )
                for (f, s, new, media_type), entry in zip(kept, entries, strict=True)
            ]
            step.record([_summary(step, base, kind, files, acquired, group_id)])
        describe_new_media(case, key, acquired)  # like every capture
    return GeneratedResult(run_id, group_id, acquired, recovery)


def _summary(
    step: Step,
    base: dict[str, Any],
    kind: str,
    files: list[Generated],
    acquired: list[AcquiredItem],
    group_id: GroupId,
) -> PendingEntry:
    summary = dict(base)
    summary.update(
        {
            "inputs": [path_record(f"{kind}:{f.name}") for f in files],
            "acquired": len(acquired),
            "new_objects": sum(1 for a in acquired if a.new_object),
            "links": 0,
            "failures": [],
            "hashes": ["sha256"],
            "groups": [group_id],
        }
    )
    return PendingEntry("capture-summary", step.run, summary)


_Done = tuple[Generated, StagedObject, str, str]


def _stage_all(case: Case, files: list[Generated], progress: ProgressReporter) -> list[_Done]:
    """Every file staged from memory, made durable and moved to its content address."""
    store = case.store
    staged: list[_Done] = []
    progress.start("capture", sum(len(f.data) for f in files))
    try:
        for f in files:
            started = utc_timestamp()
            fd = _memfd(f.data, f.name)
            try:
                s = store.stage_from_fd(fd, ("sha256",), progress.advance)
            except OSError as exc:
                for _f, done, _a, _b in staged:
                    store.discard(done)
                raise StoreError("store_write", path=str(store.tmp), reason=exc.strerror) from exc
            except StoreError:
                for _f, done, _a, _b in staged:
                    store.discard(done)
                raise
            finally:
                os.close(fd)
            staged.append((f, s, started, utc_timestamp()))
    finally:
        progress.finish()
    return staged


def _capture_entries(
    case: Case,
    kind: str,
    group_id: GroupId,
    base: dict[str, Any],
    staged: list[_Done],
) -> tuple[list[PendingEntry], list[tuple[Generated, StagedObject, bool, str]]]:
    """Commit the staged objects, prove each stored copy, and the ``capture`` entry of each."""
    store = case.store
    try:
        sync_filesystem(store.tmp, [s.temp for _f, s, _a, _b in staged])
        new_flags = [store.commit(s) for _f, s, _a, _b in staged]
        sync_filesystem(store.objects, [store.stored_path(s) for _f, s, _a, _b in staged])
    except OSError as exc:
        for _f, s, _a, _b in staged:
            store.discard(s)
        if exc.errno == errno.ENOSPC:
            raise StoreError("disk_full", path=str(case.root)) from exc
        raise StoreError("store_write", path=str(store.objects), reason=exc.strerror) from exc
    pending: list[PendingEntry] = []
    kept: list[tuple[Generated, StagedObject, bool, str]] = []
    for (f, s, started, finished), new in zip(staged, new_flags, strict=True):
        check = store.verify_staged(s)
        if not check.intact:
            if new:
                with contextlib.suppress(OSError):
                    os.chmod(store.stored_path(s), 0o600)
                    store.stored_path(s).unlink()
            raise StoreError(
                "store_write",
                path=str(store.stored_path(s)),
                reason="stored copy does not match",
            )
        media_type = f.media_type or sniff(s.head)
        details = dict(base)
        details.update(
            {
                "item": {
                    "sha256": s.item_id,
                    "size": s.size,
                    "media_type": media_type,
                    "media_type_by": DETECTOR if f.media_type is None else "producer",
                    "hashes": s.hashes,
                },
                **store.object_fields(s),
                "new_object": new,
                "source": {
                    **path_record(f"{kind}:{f.name}"),
                    "name": f.name,
                    "created": f.created,
                    **f.source,
                },
                "group": group_id,
                "acquired": started,
                "acquired_end": finished,
                "stored_copy_check": check.record(),
            }
        )
        pending.append(PendingEntry("capture", f"sha256:{s.item_id}", details))
        kept.append((f, s, new, media_type))
    return pending, kept
