"""``export``: the case as a sealed BagIt bag, a takedown hash list of its items, or a timeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case
    from forensic.custody.keys import ExaminerKey
    from forensic.custody.log import CustodyEntry
    from forensic.export import ExportResult
    from forensic.timestamp import TimestampResult


@dataclass(frozen=True)
class BagExport:
    export: ExportResult
    case_id: str
    decrypted: bool
    """Plaintext copies were written: the bag must be handled as the evidence itself."""
    warnings: tuple[str, ...] = ()
    """What the receiver will miss (the bag is written anyway): ``no_recipient`` (encrypted,
    no key but the case's own opens it, no plaintext copies), ``no_trusted_timestamp``."""
    stamped: TimestampResult | None = None
    """With ``[timestamp] auto = true``: the tokens over the head after the ``export`` entry
    (which records the bag's head and manifests), or the requests queued."""
    timestamp_error: str | None = None
    """A timestamp configuration problem, said beside the export (the bag is written)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "export": self.export.as_dict(),
            "warnings": list(self.warnings),
            "timestamp": self.stamped.as_dict() if self.stamped is not None else None,
        }


@dataclass(frozen=True)
class HashListExport:
    path: str
    format: str
    items: int
    with_pdq: int
    with_vpdq: int
    sha256: str
    size: int
    problems: tuple[str, ...]
    """One line per stored perceptual record that could not be used (its item has no PDQ)."""
    entry: CustodyEntry
    """The ``export-hash-list`` entry."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "hash_list": {
                "path": self.path,
                "format": self.format,
                "items": self.items,
                "with_pdq": self.with_pdq,
                "with_vpdq": self.with_vpdq,
                "sha256": self.sha256,
                "size": self.size,
                "problems": list(self.problems),
                "log_entry": self.entry.seq,
            },
        }


@dataclass(frozen=True)
class TimelineExport:
    path: str
    format: str
    sha256: str
    size: int
    rows: int
    messages: int
    untimed_messages: int
    """Chat lines the export gave no time for (KakaoTalk PC join lines): not in the file."""
    acquisitions: int
    timestamp_tokens: int
    custody_entries: int
    transcripts: tuple[str, ...]
    log_head_seq: int
    entry: CustodyEntry
    """The ``export-timeline`` entry."""
    recovered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "timeline": {
                "path": self.path,
                "format": self.format,
                "sha256": self.sha256,
                "size": self.size,
                "rows": self.rows,
                "messages": self.messages,
                "untimed_messages": self.untimed_messages,
                "acquisitions": self.acquisitions,
                "timestamp_tokens": self.timestamp_tokens,
                "custody_entries": self.custody_entries,
                "transcripts": list(self.transcripts),
                "log_head_seq": self.log_head_seq,
                "log_entry": self.entry.seq,
            },
        }


def export_bag(
    session: Session,
    out: Path | None,
    *,
    force: bool = False,
    decrypt: bool = False,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> BagExport:
    """Write the sealed bag to ``out`` (a folder, or a zip when it ends in ``.zip``) and log it.

    With ``decrypt`` on an encrypted case the case identity is unwrapped first, so a wrong
    passphrase fails before anything is written.
    """
    from forensic.export import export_case
    from forensic.media.matching import MediaAvUsageError

    if out is None:
        raise MediaAvUsageError("out_required")
    case, key = open_for_writing(session, case_dir)
    if decrypt and case.store.crypto is not None:
        case.store.crypto.identity()
    from forensic.errors import ForensicError
    from forensic.timestamp import stamp_after_write

    result = export_case(case, key, out, force=force, progress=progress, decrypt=decrypt)
    stamped, stamp_error = None, None
    try:
        stamped = stamp_after_write(case, key)
    except ForensicError as exc:
        stamp_error = exc.diagnostics(session.lang)
    warnings = _bag_warnings(case, decrypt)
    return BagExport(result, case.info.case_id, decrypt, warnings, stamped, stamp_error)


def _bag_warnings(case: Case, decrypt: bool) -> tuple[str, ...]:
    """What the bag's receiver will miss: a key that opens encrypted evidence, a trusted time."""
    warnings: list[str] = []
    encryption = case.info.encryption
    # recipients[0] is the case's own (its identity is wrapped by the examiner's passphrase)
    if encryption is not None and not decrypt and len(encryption.recipients) < 2:
        warnings.append("no_recipient")
    from forensic.timestamp import token_status

    # by the root each token verifies to on this machine, never by the flag the case stores
    if not any(check.ok and check.trusted for check in token_status(case)):
        warnings.append("no_trusted_timestamp")
    return tuple(warnings)


def export_hash_list(
    session: Session,
    target: Path,
    *,
    force: bool = False,
    out: Path | None = None,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> HashListExport:
    """Write ``target`` (``.csv`` or ``.json``): hash values only, never pixels or file names.

    Items without perceptual hashes get them first (``perceptual`` entries); the list is then
    logged as one ``export-hash-list`` entry. ``out`` (a bag destination) is refused: one export
    is one kind of export.
    """
    from forensic.media.matching import MediaAvUsageError
    from forensic.media.perceptual import HASH_LIST_FORMATS, store_perceptual, write_hash_list

    if out is not None:
        raise MediaAvUsageError("hash_list_with_out")
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in HASH_LIST_FORMATS:
        raise MediaAvUsageError("hash_list_format", path=str(target))
    if target.exists() and not force:
        raise MediaAvUsageError("hash_list_exists", path=str(target))
    case, key = open_for_writing(session, case_dir)
    store_perceptual(case, key, list(case.items()), progress)
    written = write_hash_list(case, target, fmt)
    entry = _log_hash_list(case, key, written)
    return HashListExport(
        path=written["path"],
        format=written["format"],
        items=written["items"],
        with_pdq=written["with_pdq"],
        with_vpdq=written["with_vpdq"],
        sha256=written["sha256"],
        size=written["size"],
        problems=tuple(written["problems"]),
        entry=entry,
    )


def _log_hash_list(case: Case, key: ExaminerKey, written: dict[str, Any]) -> CustodyEntry:
    from forensic.case.case import tool_record
    from forensic.custody.log import PendingEntry
    from forensic.media.perceptual import library_versions

    details = {
        "hash_list": {k: written[k] for k in ("path", "format", "sha256", "size")},
        "items": written["items"],
        "with_pdq": written["with_pdq"],
        "with_vpdq": written["with_vpdq"],
        "record_problems": written["problems"],
        "tool": {**tool_record(), "libraries": library_versions()},
    }
    with case.writing(key):
        [entry] = case.record(
            key, [PendingEntry("export-hash-list", f"case:{case.info.case_id}", details)]
        )
    return entry


def export_timeline(
    session: Session,
    target: Path,
    *,
    force: bool = False,
    out: Path | None = None,
    case_dir: Path | None = None,
) -> TimelineExport:
    """Write ``target`` (``.jsonl`` or ``.csv``, Timesketch's import format) and log it.

    The file covers the custody log up to the entry before its own ``export-timeline`` entry,
    which records the file's SHA-256; it is written under the case lock (one write transaction)
    so no entry lands between the rows read and the entry that vouches for them.
    """
    from forensic.case.case import tool_record
    from forensic.custody.log import PendingEntry
    from forensic.export.timeline import TimelineError, timeline_format, write_timeline

    if out is not None:
        raise TimelineError("with_out")
    fmt = timeline_format(target)
    case, key = open_for_writing(session, case_dir)
    with case.writing(key) as recovery:
        entries = case.entries()
        written = write_timeline(case, entries, target, fmt, force=force)
        counts = written.counts
        head = entries[-1]
        details: dict[str, Any] = {
            "timeline": {
                "path": written.path,
                "format": fmt,
                "sha256": written.sha256,
                "size": written.size,
            },
            "rows": counts.rows,
            "messages": counts.messages,
            "untimed_messages": counts.untimed,
            "acquisitions": counts.acquisitions,
            "timestamp_tokens": counts.tokens,
            "custody_entries": counts.custody,
            "transcripts": counts.transcripts,
            "log_head": head.hash,
            "log_head_seq": head.seq,
            "timezone": case.info.timezone,
            "tool": tool_record(),
            # Message text, senders and file names leave the case: an access to the evidence.
            "access": {
                "verb": "export --timeline",
                "items": sorted(case.items(entries)),
                "decrypted": case.store.crypto is not None and bool(counts.transcripts),
            },
        }
        case.session.take_decrypted(case.root)
        [entry] = case.record(
            key, [PendingEntry("export-timeline", f"case:{case.info.case_id}", details)]
        )
    return TimelineExport(
        path=written.path,
        format=fmt,
        sha256=written.sha256,
        size=written.size,
        rows=counts.rows,
        messages=counts.messages,
        untimed_messages=counts.untimed,
        acquisitions=counts.acquisitions,
        timestamp_tokens=counts.tokens,
        custody_entries=counts.custody,
        transcripts=tuple(counts.transcripts),
        log_head_seq=head.seq,
        entry=entry,
        recovered=not recovery.empty,
    )
