"""``forensic report``: gather, lay out, make PDF/A-3b, sign (PAdES-B-T), store, log.

Three phases, so the case lock is never held across the TSA's network call: gather and verify
under the lock (repaired first); render, convert and sign with no lock, in a private RAM folder
outside the case; then one write transaction (:mod:`forensic.case.step`) stages the PDF in
``tmp/``, logs the ``report`` entry and moves the PDF to ``reports/<id>.pdf``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from forensic._internal.casefs import PRIVATE_FILE, SEALED_FILE, make_private_dir, remove_outside
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import fsync_dir
from forensic._internal.paths import display
from forensic.case import Case
from forensic.case import step as case_step
from forensic.case.case import tool_record
from forensic.case.outside import OutsideIntent, outside_plaintext
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.progress import SILENT, ProgressReporter
from forensic.report.errors import ReportError, ReportUsageError
from forensic.report.model import (
    ReportData,
    item_data,
    manifest,
    select_items,
    sha256_bytes,
    tokens_from,
)
from forensic.timestamp import TimestampAuthority, TimestampError
from forensic.timestamp.token import VerifiedToken

REPORTS_DIR = "reports"
PREVIEW_MODES = ("blur", "none", "full")
DETAIL_MODES = ("summary", "full")
HASH_SHEETS = ("self", "seizure", "handover", "auto")
RAM_FOLDERS = (Path("/dev/shm"), Path(os.environ.get("XDG_RUNTIME_DIR") or "/nonexistent"))


@contextlib.contextmanager
def report_work(
    case: Case, key: ExaminerKey, out: Path | None
) -> Iterator[tuple[Path, OutsideIntent]]:
    """A private folder (0700) in RAM (tmpfs) for the PDF work files, announced first as an
    outside intent (:mod:`forensic.case.outside`) with the temporary name of the ``--out``
    copy: a killed report leaves no plaintext that recovery does not remove and log. RAM,
    because the report shows the evidence (in an encrypted case only its ciphertext may reach
    the case's disk); outside the case's ``tmp/``, which another writer's recovery may clear
    while no lock is held."""
    import tempfile

    base = next((p for p in RAM_FOLDERS if p.is_dir() and os.access(p, os.W_OK)), None)
    run = f"run-{uuid.uuid4().hex}"
    folder = Path(base or tempfile.gettempdir()) / f"forensic-report-{run[4:20]}"
    paths = [folder] + ([copy_temp(out, run)] if out is not None else [])
    with contextlib.ExitStack() as stack:
        with case.writing(key):
            intent = stack.enter_context(
                outside_plaintext(case.root, key, "report", paths, run=run)
            )
        make_private_dir(folder)
        stack.callback(remove_outside, folder)  # before the intent goes
        yield folder, intent


def copy_temp(out: Path, run: str) -> Path:
    return out.parent / f".{out.name}.{run}.tmp"


def write_copy(pdf: Path, out: Path, intent: OutsideIntent) -> Path:
    """The ``--out`` copy: plaintext outside the case (the examiner asked for a readable PDF),
    0400 whatever the umask, placed atomically under the name the intent announced."""
    temp = copy_temp(out, intent.run)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf.read_bytes())
        fh.flush()
        os.fchmod(fh.fileno(), SEALED_FILE)
        os.fsync(fh.fileno())
    os.replace(temp, out)
    fsync_dir(out.parent)
    intent.placed(out)
    return out.resolve()


@dataclass(frozen=True)
class ReportOptions:
    lang: str = "en"
    preview: str = "blur"
    items: tuple[str, ...] = ()
    out: Path | None = None
    logo: Path | None = None
    tsa: TimestampAuthority | None = None
    timeout: float = 10.0
    location: str | None = None
    detail: str = "summary"
    hash_sheet: str = "auto"
    show_location: bool = False
    foreign_references: bool = False


@dataclass(frozen=True)
class ReportResult:
    report_id: str
    path: Path
    copy: Path | None
    sha256: str
    size: int
    pages: int
    items: int
    verified_intact: bool
    tsa: str | None
    demo_tsa: bool
    entry: CustodyEntry
    hash_sheet: str = "self"
    detail: str = "summary"
    show_location: bool = False
    signature_level: str = "B-T"
    """``B-T``: the signature carries a TSA's time-stamp; ``B-B``: none (no TSA answered)."""
    timestamp_queued: bool = False
    """B-B: ``forensic timestamp`` will add a document time-stamp to the stored report."""
    tsa_failure: TimestampError | None = None
    """Why the TSA did not time-stamp the signature."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "path": str(self.path),
            "copy": str(self.copy) if self.copy else None,
            "sha256": self.sha256,
            "size": self.size,
            "pages": self.pages,
            "items": self.items,
            "case_intact": self.verified_intact,
            "tsa": self.tsa,
            "demo_tsa": self.demo_tsa,
            "hash_sheet": self.hash_sheet,
            "detail": self.detail,
            "show_location": self.show_location,
            "seq": self.entry.seq,
            "signature_level": f"PAdES-{self.signature_level}",
            "timestamp_queued": self.timestamp_queued,
            "tsa_error": self.tsa_failure.key if self.tsa_failure else None,
            "tsa_message": self.tsa_failure.diagnostics("en") if self.tsa_failure else None,
        }


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("reportlab", "pikepdf", "pyHanko", "Pillow"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name.lower()] = md.version(name)
    return out


def new_report_id() -> str:
    stamp = utc_timestamp()[:19].replace("-", "").replace(":", "")
    return f"R-{stamp}Z-{secrets.token_hex(3)}"


def render_pdf(data: ReportData, path: Path, logo: tuple[bytes, tuple[int, int]] | None) -> int:
    """Lay the report out with reportlab into ``path``; the page count."""
    from forensic.report.render import (
        LazyStory,
        NumberedCanvas,
        RenderContext,
        ReportDoc,
        make_styles,
        register_fonts,
        strings,
    )
    from forensic.report.sections import SECTIONS, Deferred

    register_fonts()
    ctx = RenderContext(
        data=data,
        lang=data.lang,
        styles=make_styles(data.lang),
        strings=strings(data.lang),
        preview=data.preview,
        logo=logo,
    )

    def expand(flowables: Iterable[Any]) -> Iterator[Any]:
        for f in flowables:
            if isinstance(f, Deferred):
                yield from expand(f.make())
            else:
                yield f

    def story() -> Iterator[Any]:
        for section in SECTIONS:
            if section.applies(data):
                yield from expand(section.render(ctx))

    label = ctx.t("footer.page")

    class Canvas(NumberedCanvas):
        page_label = label

    doc = ReportDoc(path, ctx)
    doc.build(LazyStory(story()), canvasmaker=Canvas)
    return int(doc.page)


@dataclass(frozen=True)
class _Gathered:
    """What the report shows, read under the case lock."""

    data: ReportData
    manifest: dict[str, Any]
    attachments: dict[str, bytes]
    entries: int
    intact: bool
    problems: int


@dataclass(frozen=True)
class _Signed:
    pdf: Path
    pages: int
    token: VerifiedToken | None
    """The signature's verified time-stamp (B-T); None: B-B."""
    failure: TimestampError | None
    """Why no TSA time-stamped the signature (the request is queued)."""
    gathered: _Gathered
    """What was laid out (its data says B-B when the TSA did not answer)."""

    @property
    def level(self) -> str:
        return "B-T" if self.token is not None else "B-B"


def hash_sheet_kind(asked: str, entries: list[CustodyEntry]) -> str:
    """``self``, ``seizure`` or ``handover``: ``auto`` is ``handover`` when the log records a
    hand-over (the newest is confirmed), else ``seizure`` only when the log records a participant
    (a ``participant`` or ``witness`` field in some entry's details), else ``self``: a victim or
    her counsel who collected alone must not sign a sheet that says someone watched."""
    if asked == "handover" and not any(e.action == "handover" for e in entries):
        return "self"  # nothing was handed over: the sheet of the collector
    if asked != "auto":
        return asked
    if any(e.action == "handover" for e in entries):
        return "handover"
    for e in entries:
        if any(e.details.get(k) for k in ("participant", "witness")):
            return "seizure"
    return "self"


def _token_trust(case: Case, entries: list[CustodyEntry]) -> dict[tuple[int, str], bool]:
    """Each token re-checked now: trusted only if it still verifies and its TSA is trusted."""
    from forensic.timestamp.stamp import token_status

    return {
        (c.seq, str(c.token.get("tsr", ""))): bool(c.ok and c.trusted and not c.demo)
        for c in token_status(case, entries)
    }


def _gather(case: Case, key: ExaminerKey, options: ReportOptions, progress: ProgressReporter
) -> _Gathered:  # fmt: skip
    from forensic.report.attachments import attachments
    from forensic.report.chat_excerpts import chat_excerpts
    from forensic.verify import verify_case

    with case.writing(key):
        entries = case.entries()
        chosen = select_items(list(case.items(entries).values()), list(options.items))
        progress.start("verify", None)
        verification = verify_case(case, cold=False)
        progress.finish()
        tokens = tokens_from(entries, _token_trust(case, entries))
        items = item_data(case, chosen, entries, tokens)
        chats = chat_excerpts(case, entries, {d.sha256 for d in items})
        for d in items:
            d.export_of = [c.group for c in chats if d.sha256 in {s for _, s in c.export_files}]
        data = ReportData(
            case=case,
            report_id=new_report_id(),
            created=utc_timestamp(),
            lang=options.lang,
            preview=options.preview,
            items=items,
            tokens=tokens,
            entries=entries,
            verification=verification,
            tool={**tool_record(), **library_versions()},
            chats=chats,
            detail=options.detail,
            hash_sheet=hash_sheet_kind(options.hash_sheet, entries),
            show_location=options.show_location,
            foreign_references=options.foreign_references,
            signing_demo=bool(options.tsa is not None and options.tsa.demo),
        )
        files = attachments(data)
    return _Gathered(
        data, manifest(data), files, len(entries), bool(verification.intact),
        len(verification.problems),
    )  # fmt: skip


def _probe(options: ReportOptions, gathered: _Gathered) -> TimestampError | None:
    """Whether the TSA answers now, asked before the report is laid out: the cover says
    whether the signature carries trusted time. Only the log head's hash is sent (as by
    ``forensic timestamp``); the answer is verified and dropped."""
    from forensic.timestamp.token import (
        TimestampRequest,
        in_process_stamper,
        send_request,
        verify_response,
    )

    tsa = options.tsa
    if tsa is None or in_process_stamper(tsa) is not None:
        return None
    data = gathered.data
    request = TimestampRequest.new(data.head_seq, data.head_hash)
    try:
        verify_response(send_request(tsa, request, options.timeout), request, tsa)
    except TimestampError as exc:
        return exc
    return None


def _at_level(gathered: _Gathered, offline: bool, tsa: TimestampAuthority | None) -> _Gathered:
    """The report as signed without a TSA (B-B; the time-stamp queued when a TSA is set)."""
    if not offline:
        return gathered
    data = replace(gathered.data, signature_level="B-B", timestamp_queued=tsa is not None)
    return replace(gathered, data=data, manifest=manifest(data))


def _render_and_sign(
    case: Case,
    gathered: _Gathered,
    options: ReportOptions,
    work: Path,
    signing: tuple[bytes, Any],
    logo: tuple[bytes, tuple[int, int]] | None,
    progress: ProgressReporter,
) -> _Signed:
    """The signed PDF/A-3b in ``work`` (no lock held: the TSA is asked over the network).

    The TSA is asked first (:func:`_probe`); when it does not answer, or fails between the
    probe and the signature, the report is laid out as B-B and signed without it. A report
    is never refused because the network is down."""
    failure = _probe(options, gathered)
    try:
        signed = _render_and_sign_at(case, _at_level(gathered, failure is not None, options.tsa),
                                     options, work, signing, logo, progress, failure)  # fmt: skip
    except TimestampError as exc:
        failure = exc
        offline = _at_level(gathered, True, options.tsa)
        signed = _render_and_sign_at(case, offline, options, work, signing, logo, progress, exc)
    return signed


def _render_and_sign_at(
    case: Case,
    gathered: _Gathered,
    options: ReportOptions,
    work: Path,
    signing: tuple[bytes, Any],
    logo: tuple[bytes, tuple[int, int]] | None,
    progress: ProgressReporter,
    failure: TimestampError | None,
) -> _Signed:
    from forensic.report.pdfa import make_pdfa
    from forensic.report.render import strings
    from forensic.report.sign import sign_pdf

    data, report_id = gathered.data, gathered.data.report_id
    raw, pdfa, signed = (work / f"{report_id}.{s}.pdf" for s in ("raw", "pdfa", "signed"))
    try:
        progress.start("render", None)
        pages = render_pdf(data, raw, logo)
        progress.finish()
        text = strings(options.lang)
        make_pdfa(
            raw,
            pdfa,
            manifest=gathered.manifest,
            attachments=gathered.attachments,
            title=text.get("doc.title", "").format(case_id=case.info.case_id),
            author=case.info.examiner,
            lang=options.lang,
        )
        raw.unlink()
        result = sign_pdf(
            pdfa,
            signed,
            cert_pem=signing[0],
            key=signing[1],
            tsa=options.tsa if failure is None else None,
            timeout=options.timeout,
            reason=text.get("doc.sign_reason", "").format(report_id=report_id),
            location=options.location or case.info.organisation,
        )
        pdfa.unlink()
    except OSError as exc:
        raise _write_failed(exc, work) from exc
    return _Signed(signed, pages, result.token, failure, gathered)


def _write_failed(exc: OSError, where: Path) -> ReportError:
    # a writer may put its file object, not a path, into the error
    path = exc.filename if isinstance(exc.filename, (str, bytes, os.PathLike)) else where
    return ReportError(
        "write_failed", path=display(os.fsdecode(path)), reason=exc.strerror or str(exc)
    )


def _logo(options: ReportOptions) -> tuple[bytes, tuple[int, int]] | None:
    """The report's logo as PNG and its size (``--logo``), or None."""
    from forensic.report.redact import PreviewUnavailable, logo_png

    if options.logo is None:
        return None
    try:
        return logo_png(options.logo)
    except PreviewUnavailable as exc:
        raise ReportUsageError("bad_logo", path=str(options.logo), reason=str(exc)) from exc


def _details(
    gathered: _Gathered, options: ReportOptions, signed: _Signed, cert_pem: bytes,
    copy: Path | None,
) -> dict[str, Any]:  # fmt: skip
    gathered = signed.gathered
    data, tsa = gathered.data, options.tsa
    return {
        "report_id": data.report_id,
        "lang": options.lang,
        "preview": options.preview,
        "preview_full": options.preview == "full",
        "detail": data.detail,
        "hash_sheet": data.hash_sheet,
        "show_location": data.show_location,
        "attachments": {
            name: sha256_bytes(body) for name, body in sorted(gathered.attachments.items())
        },
        "items": [d.sha256 for d in data.items],
        "item_selection": list(options.items),
        "pages": signed.pages,
        "covers_log": {
            "entries": gathered.entries,
            "head_seq": data.head_seq,
            "head": data.head_hash,
        },
        "case_intact": gathered.intact,
        "problems": gathered.problems,
        "pdfa": "PDF/A-3b",
        "manifest_sha256": sha256_bytes(
            json.dumps(gathered.manifest, indent=2, ensure_ascii=False).encode("utf-8")
        ),
        "signature": {
            "format": f"PAdES-{signed.level}",
            "level": signed.level,
            "timestamp_queued": data.timestamp_queued,
            "certificate_sha256": cert_sha256_hex(cert_pem),
            "tsa": tsa.name if tsa else None,
            "tsa_url": tsa.url if tsa else None,
            "tsa_demo": bool(tsa.demo) if tsa else None,
        },
        "copy": str(copy) if copy else None,
        "tool": data.tool,
    }


def build_report(
    case: Case,
    key: ExaminerKey,
    options: ReportOptions,
    *,
    cert_pem: bytes,
    cert_key: Any,
    progress: ProgressReporter = SILENT,
) -> ReportResult:
    """Build, sign, store and log one report (see the module doc for the three phases)."""
    if options.preview not in PREVIEW_MODES:
        raise ReportUsageError("bad_preview", mode=options.preview)
    if options.detail not in DETAIL_MODES:
        raise ReportUsageError("layout.bad_detail", mode=options.detail)
    if options.hash_sheet not in HASH_SHEETS:
        raise ReportUsageError("layout.bad_hash_sheet", mode=options.hash_sheet)
    logo = _logo(options)  # a bad logo is a usage error before any work
    if case.holding:
        raise RuntimeError("build_report asks a TSA: it must not run under the case lock")
    gathered = _gather(case, key, options, progress)
    report_id = gathered.data.report_id
    with report_work(case, key, options.out) as (work, intent):
        signing = (cert_pem, cert_key)
        signed = _render_and_sign(case, gathered, options, work, signing, logo, progress)
        case_step.fault_point("report", "rendered")
        copy: Path | None = None
        if options.out is not None:
            try:
                copy = write_copy(signed.pdf, options.out, intent)
                case_step.fault_point("report", "copied")
            except OSError as exc:
                raise ReportError(
                    "write_failed", path=str(options.out), reason=exc.strerror or str(exc)
                ) from exc
        details = _details(gathered, options, signed, cert_pem, copy)
        final = case.root / REPORTS_DIR / f"{report_id}.pdf"
        with case.step(key, "report", run=intent.run) as step:
            try:
                record = step.stage_copy(final, signed.pdf)
                pending = _signature_records(case, step, options, signed, details)
            except OSError as exc:
                raise _write_failed(exc, case.store.tmp) from exc
            details["files"] = [record, *details["files"]]
            details["run"] = step.run
            entry, *_queued = step.record(
                [PendingEntry("report", f"case:{case.info.case_id}", details), *pending]
            )
    tsa = options.tsa
    return ReportResult(
        report_id=report_id,
        path=final,
        copy=copy,
        sha256=str(record["sha256"]),
        size=int(record["size"]),
        pages=signed.pages,
        items=len(gathered.data.items),
        verified_intact=gathered.intact,
        tsa=tsa.name if tsa else None,
        demo_tsa=bool(tsa.demo) if tsa else False,
        entry=entry,
        hash_sheet=gathered.data.hash_sheet,
        detail=gathered.data.detail,
        show_location=gathered.data.show_location,
        signature_level=signed.level,
        timestamp_queued=signed.gathered.data.timestamp_queued,
        tsa_failure=signed.failure,
    )


def _signature_records(
    case: Case, step: Any, options: ReportOptions, signed: _Signed, details: dict[str, Any]
) -> list[PendingEntry]:
    """Stage what the signature's trusted time needs beside the PDF: the time-stamp's chain
    (B-T), or the queued request for a document time-stamp (B-B, a TSA set); the entries
    that go with the report entry (one group commit)."""
    from forensic.timestamp.stamp import queued_entry, stage_report_request, stage_token_chain

    tsa, report_id = options.tsa, signed.gathered.data.report_id
    details["files"] = []
    if signed.token is not None and tsa is not None:
        stamp, chain = stage_token_chain(case, step, tsa, signed.token, f"{report_id}-signature")
        details["signature"]["timestamp"] = stamp
        details["files"].append(chain)
        return []
    if tsa is None or signed.failure is None:
        return []
    rel = f"{REPORTS_DIR}/{report_id}.pdf"
    queued, record = stage_report_request(case, step, tsa, report_id, rel, signed.failure)
    details["signature"]["queue_id"] = queued.queue_id
    return [queued_entry(case, step, [queued], [record])]


def cert_sha256_hex(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()
