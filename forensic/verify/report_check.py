"""Stored reports: every version the log recorded, the examiner signature and its trusted time.

A report is logged by its ``report`` entry (the signed PDF, PAdES-B-B or B-T); a document
time-stamp added later (``report-timestamp``) is a new version of the same path whose first
bytes are, exactly, the version before it. Verify checks by value: each logged version is
the start of the stored file (SHA-256 of that many bytes), the signature verifies and its
certificate is the one the log recorded (fingerprint), and each time-stamp chains to the root
whose SHA-256 the log recorded for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forensic.errors import ForensicError
from forensic.problem import Problem

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

    from forensic.case import Case
    from forensic.custody.log import CustodyEntry

REPORT_STAMP_ACTION = "report-timestamp"


@dataclass(frozen=True)
class ReportCheck:
    """What ``verify`` found for one stored report."""

    report_id: str
    path: str
    level: str
    """``PAdES-B-B`` or ``PAdES-B-T`` (as found in the file; as logged when not checked)."""
    signature: str
    """``valid``, ``invalid`` or ``not_checked`` (an encrypted case without ``--decrypt``)."""
    timestamp: str
    """``valid`` (a time-stamp fixes the signature in time), ``pending`` (queued),
    ``none``, ``invalid`` or ``not_checked``."""
    gen_time: str | None = None
    tsa: str | None = None
    demo: bool = False
    trusted: bool = False
    """The valid time-stamp's root is one of this machine's trust anchors (by certificate)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "path": self.path,
            "level": self.level,
            "signature": self.signature,
            "timestamp": self.timestamp,
            "gen_time": self.gen_time,
            "tsa": self.tsa,
            "demo": self.demo,
            "trusted": self.trusted,
        }


@dataclass
class _Report:
    """One report as the log describes it."""

    report_id: str
    path: str
    certificate_sha256: str
    versions: list[tuple[int, str, int]]
    """(seq, plaintext SHA-256, plaintext size) of every version, oldest first."""
    stamps: list[dict[str, Any]]
    """The time-stamps the log recorded for it (signature's, then document ones)."""


def _digest(record: dict[str, Any]) -> tuple[str, int]:
    sha = record.get("plaintext_sha256", record.get("sha256"))
    size = record.get("plaintext_size", record.get("size"))
    return str(sha), int(size) if isinstance(size, int) else -1


def _reports(entries: list[CustodyEntry]) -> dict[str, _Report]:
    found: dict[str, _Report] = {}
    for entry in entries:
        details = entry.details
        if entry.action == "report":
            files = [f for f in details.get("files", []) or [] if isinstance(f, dict)]
            pdf = next((f for f in files if str(f.get("path", "")).endswith(".pdf")), None)
            signature = details.get("signature")
            if pdf is None or not isinstance(signature, dict):
                continue
            stamp = signature.get("timestamp")
            found[str(pdf["path"])] = _Report(
                str(details.get("report_id", "")),
                str(pdf["path"]),
                str(signature.get("certificate_sha256", "")),
                [(entry.seq, *_digest(pdf))],
                [stamp] if isinstance(stamp, dict) else [],
            )
        elif entry.action == REPORT_STAMP_ACTION:
            report = found.get(str(details.get("path", "")))
            files = [f for f in details.get("files", []) or [] if isinstance(f, dict)]
            pdf = next((f for f in files if f.get("path") == details.get("path")), None)
            stamp = details.get("document_timestamp")
            if report is None or pdf is None or not isinstance(stamp, dict):
                continue
            report.versions.append((entry.seq, *_digest(pdf)))
            report.stamps.append(stamp)
    return found


def _roots(case: Case, stamps: list[dict[str, Any]]) -> list[asn1_x509.Certificate]:
    """The roots the log recorded for the report's time-stamps (by SHA-256, from their chains)."""
    from forensic.timestamp.authority import load_certs
    from forensic.timestamp.token import cert_sha256

    roots: list[asn1_x509.Certificate] = []
    for stamp in stamps:
        rel = str(stamp.get("chain", ""))
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            continue
        try:
            chain = load_certs((case.root / rel).read_bytes(), source=rel)
        except (OSError, ForensicError):
            continue
        roots.extend(c for c in chain if cert_sha256(c) == stamp.get("root_sha256"))
    return roots


def _read(case: Case, rel: str, decrypt: bool) -> bytes | None:
    from forensic.case.derived import decrypt_case_bytes, is_ciphertext

    data = (case.root / rel).read_bytes()
    if not is_ciphertext(data):
        return data
    return decrypt_case_bytes(case, data, rel) if decrypt else None


def _check_one(
    case: Case,
    report: _Report,
    body: bytes,
    pending: set[str],
    problems: list[Problem],
    anchors: frozenset[str],
) -> ReportCheck:
    from forensic.timestamp.pdf import check_signed_pdf

    rel = report.path
    for seq, sha, size in report.versions[:-1]:
        if size < 0 or hashlib.sha256(body[:size]).hexdigest() != sha:
            problems.append(
                Problem(
                    "report",
                    "version_not_kept",
                    rel,
                    f"the version logged at seq {seq} is not the start of the file",
                )
            )
    check = check_signed_pdf(body, _roots(case, report.stamps))
    if not check.signed:
        problems.append(Problem("report", "signature_invalid", rel, check.problem or ""))
    elif check.signer_sha256 != report.certificate_sha256:
        problems.append(
            Problem(
                "report",
                "signer_changed",
                rel,
                f"signed by certificate {check.signer_sha256}, "
                f"the log recorded {report.certificate_sha256}",
            )
        )
    bad = [t for t in check.timestamps if not (t.valid and t.trusted)]
    for t in bad:
        problems.append(
            Problem(
                "report",
                "timestamp_invalid",
                rel,
                f"{t.kind} time-stamp {t.gen_time} does not verify against its recorded root",
            )
        )
    if len(check.timestamps) < len(report.stamps):
        problems.append(
            Problem(
                "report",
                "timestamp_missing",
                rel,
                f"{len(report.stamps)} time-stamps logged, {len(check.timestamps)} in the file",
            )
        )
    good = [t for t in check.timestamps if t.valid and t.trusted]
    last = report.stamps[-1] if report.stamps else {}
    if good:
        state = "valid"
    elif bad:
        state = "invalid"
    else:
        state = "pending" if report.report_id in pending else "none"
    demo = bool(last.get("demo")) if last else False
    # trusted by value: every root the log recorded for the report is a trust anchor here
    roots_trusted = all(s.get("root_sha256") in anchors for s in report.stamps)
    trusted = bool(good) and not demo and roots_trusted
    return ReportCheck(
        report.report_id,
        rel,
        f"PAdES-{check.level}",
        "valid" if check.signed else "invalid",
        state,
        good[0].gen_time if good else None,
        str(last.get("tsa")) if last else None,
        demo,
        trusted,
    )


def check_reports(
    case: Case, entries: list[CustodyEntry], *, decrypt: bool = False
) -> tuple[list[Problem], list[ReportCheck]]:
    """Problems with the stored reports, and each one's signature and time-stamp state."""
    from forensic.case.step import unfinished_paths
    from forensic.timestamp.authority import trust_anchors
    from forensic.timestamp.stamp import pending_queue

    reports = _reports(entries)
    if not reports:
        return [], []
    anchors = trust_anchors(case.session.home)
    pending = {str(q.get("report_id")) for q in pending_queue(case, entries) if q.get("kind")}
    # a committed step whose files are still staged: verify names them as interrupted; the
    # report is checked once recovery has moved them in
    staged = unfinished_paths(case, entries)
    problems: list[Problem] = []
    checks: list[ReportCheck] = []
    for rel, report in sorted(reports.items()):
        if rel.startswith("/") or ".." in rel.split("/"):
            continue  # named by the file checks
        if staged.intersection([rel, *(str(s.get("chain")) for s in report.stamps)]):
            continue
        try:
            body = _read(case, rel, decrypt)
        except (OSError, ForensicError):
            continue  # a missing or undecryptable file is named by the file checks
        if body is None:
            level = "PAdES-B-T" if report.stamps else "PAdES-B-B"
            checks.append(ReportCheck(report.report_id, rel, level, "not_checked", "not_checked"))
            continue
        checks.append(_check_one(case, report, body, pending, problems, anchors))
    return problems, checks
