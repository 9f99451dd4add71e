"""PAdES: the examiner certificate signs the PDF; an RFC 3161 token stamps the signature (B-T),
or, when no TSA answers, the PDF is signed without one (B-B) and ``forensic timestamp`` later
adds a document time-stamp (:mod:`forensic.timestamp.pdf`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from forensic.report.errors import ReportError
from forensic.timestamp import TimestampAuthority
from forensic.timestamp.pdf import checked_stamper, stamper_failure, verified_answer
from forensic.timestamp.token import VerifiedToken

FIELD = "ExaminerSignature"


@dataclass(frozen=True)
class SignedPdf:
    token: VerifiedToken | None
    """The signature's verified time-stamp (B-T); None: signed without one (B-B)."""

    @property
    def level(self) -> str:
        return "B-T" if self.token is not None else "B-B"


def sign_pdf(
    src: Path,
    dst: Path,
    *,
    cert_pem: bytes,
    key: Any,
    tsa: TimestampAuthority | None,
    timeout: float,
    reason: str,
    location: str | None,
) -> SignedPdf:
    """Sign ``src`` into ``dst`` (incremental update, PAdES baseline, B-T when ``tsa``).

    A TSA that does not answer, or whose token does not verify against its trusted roots,
    raises :class:`~forensic.timestamp.TimestampError` (the caller signs B-B and queues);
    anything else that fails is a :class:`ReportError`.
    """
    cert = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    )
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs([cert]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    stamper = checked_stamper(tsa, timeout) if tsa is not None else None
    try:
        with src.open("rb") as inf, dst.open("wb") as outf:
            writer = IncrementalPdfFileWriter(inf, strict=False)
            fields.append_signature_field(
                writer, fields.SigFieldSpec(sig_field_name=FIELD, on_page=0)
            )
            signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(
                writer, output=outf
            )
    except Exception as exc:  # pyHanko and its TSA transport raise many kinds
        failure = stamper_failure(stamper) if stamper is not None else None
        if failure is not None:
            raise failure from exc
        name = tsa.name if tsa is not None else "-"
        raise ReportError(
            "sign_failed", tsa=name, reason=str(exc)[:300] or type(exc).__name__
        ) from exc
    if stamper is None or tsa is None:
        return SignedPdf(None)
    return SignedPdf(verified_answer(stamper, tsa))
