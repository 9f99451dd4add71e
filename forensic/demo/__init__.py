"""``forensic demo``: the whole pipeline on media it generates (never real people)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.analysis.store import analyze_items
from forensic.capture import CaptureOptions, CaptureResult, capture_paths
from forensic.case.lock import case_lock
from forensic.custody.keys import KdfParams
from forensic.errors import UsageError
from forensic.export.bag import ExportResult, export_case
from forensic.progress import SILENT, ProgressReporter
from forensic.report.build import ReportOptions, build_report
from forensic.service.case_setup import init_case
from forensic.service.keys import create_certificate
from forensic.service.note import add_note
from forensic.service.timestamping import timestamp_case
from forensic.session import Session
from forensic.timestamp import TimestampResult, demo_tsa
from forensic.timestamp.examiner_cert import load_signing_key
from forensic.verify import VerificationReport, record_verification, verify_case

DEMO_PASSPHRASE = "demo passphrase - not secret"


def encode_rgb_png(width: int, height: int, rows: bytes) -> bytes:
    """An 8-bit RGB PNG from filtered scanlines (a 0 filter byte, then the pixels, per row)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A synthetic RGB PNG (gradients and stripes): deterministic, no people, no library."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            r = (x * 255 // max(1, width - 1) + seed * 37) % 256
            g = (y * 255 // max(1, height - 1) + seed * 91) % 256
            b = 255 if ((x // 8 + y // 8 + seed) % 2) else 40
            rows += bytes((r, g, b))
    return encode_rgb_png(width, height, bytes(rows))


def generate_media(root: Path) -> Path:
    """A small evidence folder like one a victim would save from a group chat."""
    media = root / "media"
    chat = media / "chat-export" / "photos"
    chat.mkdir(parents=True)
    for n in range(1, 6):
        (chat / f"photo_{n:03d}.png").write_bytes(png_bytes(96 + 16 * n, 64 + 8 * n, n))
    (chat / "photo_003_copy.png").write_bytes((chat / "photo_003.png").read_bytes())
    (media / "chat-export" / "messages.txt").write_text(
        "2026-11-20 21:14 [user_a] (사진)\n2026-11-20 21:15 [user_b] 이거 누구야?\n", "utf-8"
    )
    (media / "screenshots").mkdir()
    (media / "screenshots" / "channel-page.png").write_bytes(png_bytes(160, 120, 9))
    (media / "empty-download.bin").write_bytes(b"")
    return media


@dataclass(frozen=True)
class DemoResult:
    case_root: Path
    capture: CaptureResult
    report: VerificationReport
    verify_seq: int | None
    timestamp: TimestampResult
    export: ExportResult
    report_path: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.report.intact,
            "case": str(self.case_root),
            "acquired": len(self.capture.acquired),
            "verify": self.report.as_dict(),
            "verify_seq": self.verify_seq,
            "timestamp": self.timestamp.as_dict(),
            "export": self.export.as_dict(),
            "report": str(self.report_path),
        }


def demo_session(out: Path, lang: str = "en") -> Session:
    """A throw-away examiner for the demo only: the user's own examiner key is never touched."""
    return Session(
        home=out / "demo-examiner-key",
        passphrase_provider=lambda _new: DEMO_PASSPHRASE,
        lang=lang,
        verb="demo",
        kdf_params=KdfParams(),
    )


def run_demo(out: Path, progress: ProgressReporter = SILENT, *, lang: str = "en") -> DemoResult:
    """Every step a case goes through, on generated media, under the demo's own session."""
    if out.exists():
        raise UsageError("demo_out_exists", path=str(out))
    out.mkdir(parents=True)
    media = generate_media(out)
    session = demo_session(out, lang)
    try:
        return _run_pipeline(session, out, media, progress)
    finally:
        session.close()


def _run_pipeline(
    session: Session, out: Path, media: Path, progress: ProgressReporter
) -> DemoResult:
    case = init_case(
        session,
        out / "case",
        case_id="DEMO-2026-0001",
        title="Demo case (generated media only)",
        examiner="Demo Examiner",
        organisation="forensic demo",
    ).case
    key = session.unlock()
    result = capture_paths(
        case,
        key,
        [bytes(media)],
        CaptureOptions(
            hashes=("md5", "sha1"), note="demo capture", source_url="https://example.invalid/chat"
        ),
        progress,
    )
    add_note(session, "Demo: media generated by forensic demo.", case.root)
    # Trusted time, offline: an in-process demo TSA whose tokens say DEMO - NOT TRUSTED.
    stamped = timestamp_case(session, case.root, tsas=[demo_tsa()], timeout=5).result
    # Detection signals on every image, each with its measured error rate (never a verdict).
    images = [i.item_id for i in case.items().values() if i.media_type.startswith("image/")]
    with case.writing(key):
        analyze_items(case, key, images, progress)
    # The court-ready report: PDF/A-3b, signed (PAdES-B-T) with a demo examiner certificate and
    # time-stamped by the demo TSA; previews are blurred as always by default.
    create_certificate(session, name="Demo Examiner", organisation="forensic demo")
    cert_pem, cert_key = load_signing_key(session.home, DEMO_PASSPHRASE)
    reported = build_report(
        case,
        key,
        ReportOptions(lang=session.lang, tsa=demo_tsa(), timeout=5),
        cert_pem=cert_pem,
        cert_key=cert_key,
        progress=progress,
    )
    # The sealed package a police officer or the defence can check without this tool.
    exported = export_case(case, key, out / "export" / "DEMO-2026-0001-bag", progress=progress)
    with case_lock(case.root, session.lock_timeout):
        report = verify_case(case, progress)
        seq = record_verification(case, key, report).seq if report.intact else None
    return DemoResult(case.root, result, report, seq, stamped, exported, reported.path)
