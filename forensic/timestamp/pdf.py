"""Trusted time inside a signed PDF report: the TSA asked through a checking stamper, a
document time-stamp added to a stored report (PAdES-B-T by incremental update), and the check
of the examiner signature and its time-stamps.

A report signed while no TSA answered is PAdES-B-B; ``forensic timestamp`` later appends a
document time-stamp (``/DocTimeStamp``, RFC 3161 over the whole file so far) in a new
revision. The earlier revision stays byte for byte the start of the new file, so the signed
B-B version the log recorded is still provable from the B-T file.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forensic.timestamp.authority import TimestampAuthority
from forensic.timestamp.errors import TimestampError
from forensic.timestamp.token import (
    TimestampRequest,
    VerifiedToken,
    classify_failure,
    in_process_stamper,
    verify_response,
)

if TYPE_CHECKING:
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import TimeStamper

DOCUMENT_TIMESTAMP_FIELD = "DocumentTimestamp"


def checked_stamper(tsa: TimestampAuthority, timeout: float) -> TimeStamper:
    """A pyHanko time-stamper for ``tsa`` that keeps every answer, so the token pyHanko embeds
    can be fully verified (:func:`verified_answer`) once pyHanko's event loop has ended."""
    from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

    class CheckedStamper(TimeStamper):
        def __init__(self) -> None:
            super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
            self.answers: list[tuple[bytes, bytes]] = []
            self.failure: TimestampError | None = None

        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            inner = in_process_stamper(tsa) or HTTPTimeStamper(
                tsa.url, timeout=int(max(1, timeout))
            )
            try:
                resp = await inner.async_request_tsa_response(req)
            except Exception as exc:  # pyHanko wraps aiohttp and OS errors in its own
                self.failure = classify_failure(exc, tsa, timeout)
                raise
            self.answers.append((req.dump(), resp.dump()))
            return resp

    return CheckedStamper()


def stamper_failure(stamper: TimeStamper) -> TimestampError | None:
    """Why the TSA behind a :func:`checked_stamper` could not answer (None: it did)."""
    failure = getattr(stamper, "failure", None)
    return failure if isinstance(failure, TimestampError) else None


def verified_answer(stamper: TimeStamper, tsa: TimestampAuthority) -> VerifiedToken:
    """The last token the TSA gave, verified as a log-head token is (signer, EKU, ESSCertIDv2,
    nonce, chain to the TSA's trusted roots at genTime); raises :class:`TimestampError`."""
    from asn1crypto import tsp

    answers: list[tuple[bytes, bytes]] = getattr(stamper, "answers", [])
    if not answers:
        raise TimestampError("garbage", tsa=tsa.name, url=tsa.url, reason="no answer kept")
    req_der, resp_der = answers[-1]
    req = tsp.TimeStampReq.load(req_der)
    imprint = bytes(req["message_imprint"]["hashed_message"].native).hex()
    request = TimestampRequest(-1, imprint, int(req["nonce"].native), req_der)
    return verify_response(resp_der, request, tsa)


def add_document_timestamp(
    pdf: bytes, tsa: TimestampAuthority, timeout: float
) -> tuple[bytes, VerifiedToken]:
    """``pdf`` with a document time-stamp appended (incremental update) and the verified token.

    The bytes of ``pdf`` are the unchanged start of the result. A TSA that does not answer, or
    whose token does not verify, raises :class:`TimestampError` (the request stays queued).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper

    stamper = checked_stamper(tsa, timeout)
    out = io.BytesIO()
    try:
        taken = {
            s.field_name for s in PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        }
        name, n = DOCUMENT_TIMESTAMP_FIELD, 1
        while name in taken:
            n += 1
            name = f"{DOCUMENT_TIMESTAMP_FIELD}{n}"
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        PdfTimeStamper(stamper, field_name=name).timestamp_pdf(writer, "sha256", output=out)
    except Exception as exc:  # pyHanko raises many kinds for a TSA or PDF failure
        failure = stamper_failure(stamper)
        if failure is not None:
            raise failure from exc
        raise TimestampError(
            "garbage", tsa=tsa.name, url=tsa.url, reason=f"PDF: {str(exc)[:200]}"
        ) from exc
    stamped = out.getvalue()
    if not stamped.startswith(pdf):
        raise TimestampError(
            "garbage", tsa=tsa.name, url=tsa.url, reason="not an incremental update"
        )
    return stamped, verified_answer(stamper, tsa)


# -- checking a stored report ----------------------------------------------------------------
@dataclass(frozen=True)
class TimestampSeen:
    """One RFC 3161 time-stamp inside the PDF (the signature's own, or a document one)."""

    kind: str
    """``signature`` (in the examiner signature) or ``document`` (a ``/DocTimeStamp``)."""
    gen_time: str
    valid: bool
    trusted: bool
    """Its chain reaches one of the roots given (the ones the log recorded for it)."""
    whole_file: bool
    """A document time-stamp covering every byte of the file (the last revision)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "gen_time": self.gen_time,
            "valid": self.valid,
            "trusted": self.trusted,
            "whole_file": self.whole_file,
        }


@dataclass(frozen=True)
class PdfSignatureCheck:
    signed: bool
    """An examiner signature is present, intact and cryptographically valid."""
    signer_sha256: str | None
    """SHA-256 of the signing certificate (compare with the one the log recorded)."""
    timestamps: tuple[TimestampSeen, ...]
    problem: str | None = None

    @property
    def level(self) -> str:
        """``B-T`` when a valid time-stamp fixes the signature in time, else ``B-B``."""
        return "B-T" if any(t.valid for t in self.timestamps) else "B-B"


def _cert_sha256(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def _iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z")) if moment is not None else ""


def check_signed_pdf(pdf: bytes, ts_roots: list[asn1_x509.Certificate]) -> PdfSignatureCheck:
    """Validate the examiner signature (intact, valid; its certificate is trusted only by the
    fingerprint the caller compares) and every time-stamp (against ``ts_roots``)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    def context(roots: list[Any]) -> ValidationContext:
        return ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
        )

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        regular = list(reader.embedded_regular_signatures)
        documents = list(reader.embedded_timestamp_signatures)
    except Exception as exc:  # a damaged PDF: pyHanko raises many kinds
        return PdfSignatureCheck(False, None, (), f"unreadable PDF: {str(exc)[:200]}")
    if len(regular) != 1:
        return PdfSignatureCheck(False, None, (), f"{len(regular)} examiner signatures, not 1")
    seen: list[TimestampSeen] = []
    try:
        signer = regular[0].signer_cert
        status = validate_pdf_signature(
            regular[0], context([signer]), ts_validation_context=context(ts_roots)
        )
        ts = status.timestamp_validity
        if ts is not None:
            seen.append(
                TimestampSeen(
                    "signature",
                    _iso(ts.timestamp),
                    bool(ts.intact and ts.valid),
                    bool(ts.trusted),
                    False,
                )
            )
        for doc in documents:
            doc_status = validate_pdf_timestamp(doc, validation_context=context(ts_roots))
            whole = doc.coverage is not None and doc.coverage.name == "ENTIRE_FILE"
            seen.append(
                TimestampSeen(
                    "document",
                    _iso(doc_status.timestamp),
                    bool(doc_status.intact and doc_status.valid),
                    bool(doc_status.trusted),
                    whole,
                )
            )
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        return PdfSignatureCheck(False, None, tuple(seen), f"signature: {str(exc)[:200]}")
    ok = bool(status.intact and status.valid)
    return PdfSignatureCheck(
        ok, _cert_sha256(signer), tuple(seen), None if ok else "examiner signature does not verify"
    )
