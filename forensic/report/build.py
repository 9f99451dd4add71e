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
from dataclasses import dataclass
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
    methodology_text,
    select_items,
    sha256_bytes,
    tokens_from,
)
from forensic.timestamp import TimestampAuthority

REPORTS_DIR = "reports"
PREVIEW_MODES = ("blur", "none", "full")
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
            "seq": self.entry.seq,
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
    entries: int
    intact: bool
    problems: int


@dataclass(frozen=True)
class _Signed:
    pdf: Path
    pages: int


def _gather(case: Case, key: ExaminerKey, options: ReportOptions, progress: ProgressReporter
) -> _Gathered:  # fmt: skip
    from forensic.verify import verify_case

    with case.writing(key):
        entries = case.entries()
        chosen = select_items(list(case.items(entries).values()), list(options.items))
        progress.start("verify", None)
        verification = verify_case(case, cold=False)
        progress.finish()
        data = ReportData(
            case=case,
            report_id=new_report_id(),
            created=utc_timestamp(),
            lang=options.lang,
            preview=options.preview,
            items=item_data(case, chosen, entries),
            tokens=tokens_from(entries),
            entries=entries,
            verification=verification,
            methodology=methodology_text(),
            tool={**tool_record(), **library_versions()},
        )
    return _Gathered(
        data, manifest(data), len(entries), bool(verification.intact), len(verification.problems)
    )


def _render_and_sign(
    case: Case,
    gathered: _Gathered,
    options: ReportOptions,
    work: Path,
    signing: tuple[bytes, Any],
    logo: tuple[bytes, tuple[int, int]] | None,
    progress: ProgressReporter,
) -> _Signed:
    """The signed PDF/A-3b in ``work`` (no lock held: the TSA is asked over the network)."""
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
            title=text.get("doc.title", "").format(case_id=case.info.case_id),
            author=case.info.examiner,
            lang=options.lang,
        )
        raw.unlink()
        sign_pdf(
            pdfa,
            signed,
            cert_pem=signing[0],
            key=signing[1],
            tsa=options.tsa,
            timeout=options.timeout,
            reason=text.get("doc.sign_reason", "").format(report_id=report_id),
            location=options.location or case.info.organisation,
        )
        pdfa.unlink()
    except OSError as exc:
        raise _write_failed(exc, work) from exc
    return _Signed(signed, pages)


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
    data, tsa = gathered.data, options.tsa
    return {
        "report_id": data.report_id,
        "lang": options.lang,
        "preview": options.preview,
        "preview_full": options.preview == "full",
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
            "format": "PAdES-B-T" if tsa is not None else "PAdES-B-B",
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
            except OSError as exc:
                raise _write_failed(exc, case.store.tmp) from exc
            details["files"] = [record]
            details["run"] = step.run
            [entry] = step.record([PendingEntry("report", f"case:{case.info.case_id}", details)])
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
    )


def cert_sha256_hex(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()
