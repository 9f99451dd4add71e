"""``forensic report``: gather, lay out, make PDF/A-3b, sign (PAdES-B-T), store, log."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import atomic_write, fsync_dir
from forensic._internal.paths import display
from forensic.case import Case
from forensic.case.case import file_record, tool_record
from forensic.case.derived import read_case_file, write_case_file
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
def ram_folder() -> Iterator[Path]:
    """A private folder in RAM (tmpfs) for an encrypted case's PDF work files (the report
    shows the evidence; only its ciphertext may reach the case's disk)."""
    import tempfile

    base = next((p for p in RAM_FOLDERS if p.is_dir() and os.access(p, os.W_OK)), None)
    with tempfile.TemporaryDirectory(prefix="forensic-report-", dir=base) as folder:
        yield Path(folder)


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
    from forensic.report import context_parts as _context  # noqa: F401  (registers parts)
    from forensic.report.interface import SECTIONS
    from forensic.report.render import (
        LazyStory,
        NumberedCanvas,
        RenderContext,
        ReportDoc,
        make_styles,
        register_fonts,
        strings,
    )
    from forensic.report.sections import Deferred

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


def build_report(
    case: Case,
    key: ExaminerKey,
    options: ReportOptions,
    *,
    cert_pem: bytes,
    cert_key: Any,
    progress: ProgressReporter = SILENT,
) -> ReportResult:
    from forensic.report.pdfa import make_pdfa
    from forensic.report.redact import PreviewUnavailable, logo_png
    from forensic.report.sign import sign_pdf
    from forensic.verify import verify_case

    if options.preview not in PREVIEW_MODES:
        raise ReportUsageError("bad_preview", mode=options.preview)
    logo = None
    if options.logo is not None:
        try:
            logo = logo_png(options.logo)
        except PreviewUnavailable as exc:
            raise ReportUsageError("bad_logo", path=str(options.logo), reason=str(exc)) from exc
    with case.writing(key), contextlib.ExitStack() as scratch:
        entries = case.entries()
        all_items = list(case.items(entries).values())
        chosen = select_items(all_items, list(options.items))
        progress.start("verify", None)
        verification = verify_case(case, cold=False)
        progress.finish()
        report_id = new_report_id()
        data = ReportData(
            case=case,
            report_id=report_id,
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
        doc_manifest = manifest(data)
        tmp = case.root / "tmp"
        tmp.mkdir(exist_ok=True)
        if case.store.encrypted:  # the PDF shows the evidence: its work files stay in RAM
            tmp = scratch.enter_context(ram_folder())
        raw, pdfa, signed = (tmp / f"{report_id}.{s}.pdf" for s in ("raw", "pdfa", "signed"))
        try:
            progress.start("render", None)
            pages = render_pdf(data, raw, logo)
            progress.finish()
            from forensic.report.render import strings

            title = strings(options.lang).get("doc.title", "").format(case_id=case.info.case_id)
            make_pdfa(
                raw,
                pdfa,
                manifest=doc_manifest,
                title=title,
                author=case.info.examiner,
                lang=options.lang,
            )
            raw.unlink()
            sign_pdf(
                pdfa,
                signed,
                cert_pem=cert_pem,
                key=cert_key,
                tsa=options.tsa,
                timeout=options.timeout,
                reason=strings(options.lang).get("doc.sign_reason", "").format(report_id=report_id),
                location=options.location or case.info.organisation,
            )
            pdfa.unlink()
            folder = case.root / REPORTS_DIR
            folder.mkdir(exist_ok=True)
            final = folder / f"{report_id}.pdf"
            if case.store.encrypted:
                pdf_bytes = signed.read_bytes()
                record = write_case_file(case, final, pdf_bytes)
            else:
                with signed.open("rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(signed, final)
                os.chmod(final, 0o444)
                fsync_dir(folder)
                fsync_dir(tmp)
                record = file_record(case.root, final)
        except OSError as exc:
            # a writer may put its file object, not a path, into the error
            where = exc.filename if isinstance(exc.filename, (str, bytes, os.PathLike)) else tmp
            raise ReportError(
                "write_failed", path=display(os.fsdecode(where)), reason=exc.strerror or str(exc)
            ) from exc
        finally:
            for p in (raw, pdfa, signed):
                with contextlib.suppress(OSError):
                    p.unlink()
        copy: Path | None = None
        if options.out is not None:
            # Outside the case the copy is plaintext: the examiner asked for a readable PDF.
            try:
                atomic_write(options.out, read_case_file(case, final), mode=0o444)
            except OSError as exc:
                raise ReportError(
                    "write_failed", path=str(options.out), reason=exc.strerror or str(exc)
                ) from exc
            copy = options.out.resolve()
        tsa = options.tsa
        cert_fp = cert_sha256_hex(cert_pem)
        details: dict[str, Any] = {
            "report_id": report_id,
            "lang": options.lang,
            "preview": options.preview,
            "preview_full": options.preview == "full",
            "items": [d.sha256 for d in data.items],
            "item_selection": list(options.items),
            "pages": pages,
            "covers_log": {
                "entries": len(entries),
                "head_seq": data.head_seq,
                "head": data.head_hash,
            },
            "case_intact": bool(verification.intact),
            "problems": len(verification.problems),
            "pdfa": "PDF/A-3b",
            "manifest_sha256": sha256_bytes(
                json.dumps(doc_manifest, indent=2, ensure_ascii=False).encode("utf-8")
            ),
            "signature": {
                "format": "PAdES-B-T" if tsa is not None else "PAdES-B-B",
                "certificate_sha256": cert_fp,
                "tsa": tsa.name if tsa else None,
                "tsa_url": tsa.url if tsa else None,
                "tsa_demo": bool(tsa.demo) if tsa else None,
            },
            "copy": str(copy) if copy else None,
            "tool": data.tool,
            "files": [record],
        }
        [entry] = case.record(key, [PendingEntry("report", f"case:{case.info.case_id}", details)])
    return ReportResult(
        report_id=report_id,
        path=final,
        copy=copy,
        sha256=str(record["sha256"]),
        size=int(record["size"]),
        pages=pages,
        items=len(data.items),
        verified_intact=bool(verification.intact),
        tsa=tsa.name if tsa else None,
        demo_tsa=bool(tsa.demo) if tsa else False,
        entry=entry,
    )


def cert_sha256_hex(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()
