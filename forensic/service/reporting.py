"""``report``: the signed PDF/A report of a case for court."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case
    from forensic.report import ReportResult
    from forensic.timestamp import TimestampAuthority

REPORT_LANGS = ("ko", "en")


@dataclass(frozen=True)
class ReportOutcome:
    report: ReportResult
    preview: str
    """``full`` puts unredacted images in the PDF: the front end must say so."""
    key_rewrapped: Path | None = None
    """The report-signing key file was PBKDF2 and is now Argon2id (said once)."""

    @property
    def intact(self) -> bool:
        """The case verified intact when the report was made (else the report says it was not)."""
        return self.report.verified_intact

    def as_dict(self) -> dict[str, Any]:
        rewrapped = str(self.key_rewrapped) if self.key_rewrapped else None
        return {
            "ok": self.intact,
            "report": self.report.as_dict(),
            "signing_key_rewrapped": rewrapped,
        }


def choose_tsa(
    session: Session,
    tsa: str | None = None,
    tsa_roots: Sequence[Path] = (),
    *,
    demo: bool = False,
) -> tuple[TimestampAuthority, float]:
    """The TSA for the signature's time stamp and the configured timeout: the offline demo TSA,
    else ``tsa`` (with ``tsa_roots``, or a configured TSA of that URL), else the first one
    configured in the session's ``forensic.toml``."""
    from forensic.report.errors import ReportUsageError
    from forensic.service.timestamping import choose_tsas
    from forensic.timestamp import demo_tsa as make_demo_tsa
    from forensic.timestamp import load_config

    config = load_config(session.home)
    chosen: TimestampAuthority | None
    if demo:
        chosen = make_demo_tsa()
    else:
        chosen = next(iter(choose_tsas(config, [tsa] if tsa else (), tsa_roots)), None)
    if chosen is None:
        raise ReportUsageError("no_tsa")
    return chosen, config.timeout


def create_report(
    session: Session,
    *,
    preview: str = "blur",
    items: Sequence[str] = (),
    out: Path | None = None,
    logo: Path | None = None,
    tsa: str | None = None,
    tsa_roots: Sequence[Path] = (),
    demo_tsa: bool = False,
    lang: str | None = None,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
    detail: str = "summary",
    hash_sheet: str = "auto",
    show_location: bool = False,
    foreign_references: bool = False,
) -> ReportOutcome:
    """Build, sign, time-stamp and store ``reports/<id>.pdf``, logged with its SHA-256.

    The signing certificate is the one in the session's examiner home, its key decrypted with
    the session's passphrase. ``lang`` (``None``: the case's language, else the session's)
    is the report's language; ``items`` limits it to some items, each named as
    :meth:`~forensic.case.Case.resolve_item` takes it (number, SHA-256 or unique prefix) and
    passed on as its full SHA-256. ``detail`` ``full`` adds an appendix of every finding and
    the whole log; ``hash_sheet`` picks the hash sheet's form (``auto``: from the log);
    ``show_location`` prints positions, serial numbers and owner names (recorded in the entry).
    """
    from forensic.report import PREVIEW_MODES, ReportOptions, build_report
    from forensic.report.build import DETAIL_MODES, HASH_SHEETS
    from forensic.report.errors import ReportUsageError
    from forensic.timestamp.examiner_cert import CERT_FILE, load_signing_key

    if preview not in PREVIEW_MODES:
        raise ReportUsageError("bad_preview", mode=preview)
    if detail not in DETAIL_MODES:
        raise ReportUsageError("layout.bad_detail", mode=detail)
    if hash_sheet not in HASH_SHEETS:
        raise ReportUsageError("layout.bad_hash_sheet", mode=hash_sheet)
    case = open_case(session, case_dir)
    chosen_items = _resolved(case, items)  # a mistyped item fails before any passphrase
    cert_file = session.home / CERT_FILE
    if not cert_file.is_file():
        raise ReportUsageError("no_cert", path=str(cert_file))
    authority, timeout = choose_tsa(session, tsa, tsa_roots, demo=demo_tsa)
    key = session.unlock()
    passphrase = session.passphrase
    assert passphrase is not None  # set by unlock()
    signing = load_signing_key(session.home, passphrase)
    if lang is None:
        lang = case.info.lang if case.info.lang in REPORT_LANGS else session.lang
    options = ReportOptions(
        lang=lang,
        preview=preview,
        items=chosen_items,
        out=out,
        logo=logo,
        tsa=authority,
        timeout=timeout,
        detail=detail,
        hash_sheet=hash_sheet,
        show_location=show_location,
        foreign_references=foreign_references,
    )
    result = build_report(
        case, key, options, cert_pem=signing.cert_pem, cert_key=signing.key, progress=progress
    )
    return ReportOutcome(result, preview, signing.rewrapped)


def _resolved(case: Case, items: Sequence[str]) -> tuple[str, ...]:
    """The named items as full SHA-256s, in the order given, without repeats (numbers and
    prefixes are resolved once, by the case, as every verb resolves them)."""
    entries = case.entries()
    chosen = (str(case.resolve_item(given, entries).item_id) for given in items)
    return tuple(dict.fromkeys(chosen))
