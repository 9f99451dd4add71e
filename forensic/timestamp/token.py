"""RFC 3161 requests, transport and the full verification of a time-stamp token.

A token is accepted only if: the response is granted; the CMS signature over TSTInfo is valid;
the message imprint is SHA-256 over exactly the expected head hash; the nonce is ours; the
signed attributes carry an ESSCertIDv2 ``signingCertificateV2`` naming the signer; the signer
certificate has a *critical* extendedKeyUsage of timeStamping only; the signer certificate was
valid at genTime; and its chain reaches one of the TSA's trusted roots at genTime
(pyhanko-certvalidator with ``moment=genTime``, no network fetching, revocation soft-fail).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from forensic.timestamp.authority import TimestampAuthority, cert_pem
from forensic.timestamp.errors import TimestampError

if TYPE_CHECKING:
    # pyHanko (and aiohttp under it) costs about 0.4 s to import, asn1crypto and asyncio some
    # 30 ms: loaded where a token is requested or checked, never by a command that has none.
    from asn1crypto import cms, tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import TimeStamper
    from pyhanko_certvalidator import ValidationContext

HASH_ALGORITHM = "sha256"
#: Bytes of a TSA's answer read at most: a token is a few KB (a long chain some 20 KB); more is
#: refused without reading it, so a hostile or broken server cannot fill the memory.
MAX_RESPONSE_BYTES = 1 << 20
#: Bytes read from the connection at a time.
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class TimestampRequest:
    """One RFC 3161 request over a custody-log head hash."""

    head_seq: int
    head_hash: str
    nonce: int
    der: bytes

    @classmethod
    def new(cls, head_seq: int, head_hash: str) -> TimestampRequest:
        from pyhanko.sign.timestamps import TimeStamper

        stamper = TimeStamper(include_nonce=True)  # type: ignore[no-untyped-call]
        nonce, req = stamper.request_cms(  # type: ignore[no-untyped-call]
            bytes.fromhex(head_hash), HASH_ALGORITHM
        )
        return cls(head_seq, head_hash, int(nonce), req.dump())

    @classmethod
    def load(cls, head_seq: int, head_hash: str, der: bytes) -> TimestampRequest:
        from asn1crypto import tsp

        req = tsp.TimeStampReq.load(der)
        return cls(head_seq, head_hash, int(req["nonce"].native), der)


@dataclass(frozen=True)
class VerifiedToken:
    gen_time: datetime
    serial: int
    policy: str
    tsa_subject: str
    chain: tuple[asn1_x509.Certificate, ...]
    """Signer first, then intermediates, the trust root last."""

    @property
    def root(self) -> asn1_x509.Certificate:
        return self.chain[-1]

    def chain_pem(self) -> bytes:
        return "".join(cert_pem(c) for c in self.chain).encode("ascii")


# -- transport -----------------------------------------------------------------------------
def _classify(exc: BaseException, tsa: TimestampAuthority, timeout: float) -> TimestampError:
    import aiohttp
    from pyhanko.sign.timestamps import TimestampRequestError

    cause: BaseException | None = exc
    if isinstance(exc, TimestampRequestError) and exc.__cause__ is not None:
        cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return TimestampError("timeout", tsa=tsa.name, url=tsa.url, seconds=timeout)
        if isinstance(cause, aiohttp.ContentTypeError):
            return TimestampError(
                "garbage", tsa=tsa.name, url=tsa.url, reason="not application/timestamp-reply"
            )
        if isinstance(cause, aiohttp.ClientResponseError):
            return TimestampError("http_status", tsa=tsa.name, url=tsa.url, status=cause.status)
        if isinstance(cause, aiohttp.InvalidURL):
            break
        if isinstance(cause, aiohttp.ClientConnectionError | OSError):
            return TimestampError(
                "unreachable",
                tsa=tsa.name,
                url=tsa.url,
                reason=str(cause),
                cause=_network_cause(cause),
            )
        cause = cause.__cause__
    return TimestampError("unreachable", tsa=tsa.name, url=tsa.url, reason=str(exc), cause="other")


def classify_failure(exc: BaseException, tsa: TimestampAuthority, timeout: float) -> TimestampError:
    """What went wrong when pyHanko asked a TSA (for a PDF's signature or document time-stamp),
    as the error the queue records for a log-head request."""
    if isinstance(exc, TimestampError):
        return exc
    return _classify(exc, tsa, timeout)


def _network_cause(exc: BaseException) -> str:
    """Which common network failure ``exc`` is: the key of its wording in the catalogues.

    The raw text (English, from the OS or aiohttp) stays in the queue record and ``--json``;
    the terminal shows the worded cause in the user's language.
    """
    import socket
    import ssl

    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "dns"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "tls"
    inner = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(inner, socket.gaierror):
        return "dns"
    if isinstance(inner, ConnectionRefusedError):
        return "refused"
    if isinstance(inner, ConnectionResetError | aiohttp.ServerDisconnectedError):
        return "reset"
    return "other"


class ResponseTooLarge(Exception):
    """The TSA's answer is (or says it is) over :data:`MAX_RESPONSE_BYTES`."""


def bounded_stamper(url: str, timeout: float) -> Any:
    """pyHanko's HTTP time stamper, reading at most :data:`MAX_RESPONSE_BYTES` of the answer
    (its own reads the whole body into memory, however large): a declared ``Content-Length``
    over the cap is refused before a byte of the body is read, the content type is checked
    before reading, and the body is read in chunks until the cap."""
    import aiohttp
    from asn1crypto import tsp
    from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

    class BoundedTimeStamper(HTTPTimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            headers = await self.async_request_headers()
            try:
                async with (
                    self._acquire_session() as session,
                    session.post(
                        url=self.url,
                        headers=headers,
                        data=req.dump(),
                        raise_for_status=True,
                        timeout=aiohttp.ClientTimeout(total=self.timeout),
                    ) as response,
                ):
                    if (response.content_length or 0) > MAX_RESPONSE_BYTES:
                        raise ResponseTooLarge(response.content_length)
                    kind = response.headers.get("Content-Type")
                    if kind != "application/timestamp-reply":
                        raise aiohttp.ContentTypeError(
                            response.request_info,
                            response.history,
                            message=f"expected application/timestamp-reply, got {kind}",
                            headers=response.headers,
                        )
                    body = bytearray()
                    while chunk := await response.content.read(READ_CHUNK):
                        body += chunk
                        if len(body) > MAX_RESPONSE_BYTES:
                            raise ResponseTooLarge(len(body))
            except (aiohttp.ClientError, OSError) as exc:
                raise TimestampRequestError("Error while contacting timestamp service") from exc
            return tsp.TimeStampResp.load(bytes(body))

    return BoundedTimeStamper(url, timeout=timeout)


def send_request(tsa: TimestampAuthority, request: TimestampRequest, timeout: float) -> bytes:
    """POST the request; the raw DER response (not yet verified)."""
    import asyncio

    from asn1crypto import tsp
    from pyhanko.sign.timestamps import TimestampRequestError

    stamper = in_process_stamper(tsa)
    req = tsp.TimeStampReq.load(request.der)
    if stamper is not None:
        return bytes(asyncio.run(stamper.async_request_tsa_response(req)).dump())
    if not tsa.url.startswith(("http://", "https://")):
        raise TimestampError(
            "unreachable", tsa=tsa.name, url=tsa.url, reason="not an http URL", cause="bad_url"
        )
    client = bounded_stamper(tsa.url, timeout)

    async def post() -> bytes:
        # HTTPTimeStamper returns a lazily parsed TimeStampResp: keep its original bytes
        resp = await client.async_request_tsa_response(req)
        return bytes(resp.dump())

    try:
        return asyncio.run(asyncio.wait_for(post(), timeout + 1))
    except ResponseTooLarge as exc:
        raise TimestampError(
            "bounds.too_large", tsa=tsa.name, url=tsa.url, limit=MAX_RESPONSE_BYTES
        ) from exc
    except TimestampRequestError as exc:
        raise _classify(exc, tsa, timeout) from exc
    except TimeoutError as exc:
        raise TimestampError("timeout", tsa=tsa.name, url=tsa.url, seconds=timeout) from exc
    except (OSError, ValueError) as exc:
        raise _classify(exc, tsa, timeout) from exc


# -- verification --------------------------------------------------------------------------
def _signer_cert(signed_data: cms.SignedData) -> tuple[asn1_x509.Certificate, list[Any]]:
    from asn1crypto import cms

    certs = [c.chosen for c in (signed_data["certificates"] or []) if c.name == "certificate"]
    [signer_info] = list(signed_data["signer_infos"])
    sid = signer_info["sid"].chosen
    for cert in certs:
        if isinstance(sid, cms.IssuerAndSerialNumber):
            if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
                return cert, certs
        elif cert.key_identifier == sid.native:
            return cert, certs
    raise ValueError("signer certificate not in the token")


def _check_eku(cert: asn1_x509.Certificate) -> bool:
    for ext in cert["tbs_certificate"]["extensions"] or []:
        if ext["extn_id"].native == "extended_key_usage":
            return bool(ext["critical"].native) and list(ext["extn_value"].native) == [
                "time_stamping"
            ]
    return False


def parse_token(
    response_der: bytes, tsa: TimestampAuthority
) -> tuple[cms.ContentInfo, cms.SignedData, tsp.TSTInfo]:
    """Parse a TimeStampResp; refusals and garbage become errors."""
    from asn1crypto import core, tsp

    try:
        # asn1crypto requires timeStampToken, which a refusal lacks: read the status alone first
        outer = core.Sequence.load(response_der)
        status = tsp.PKIStatusInfo.load(outer[0].dump())
        state = status["status"].native
        fail_info = set(status["fail_info"].native or [])
        text = "; ".join(status["status_string"].native or [])
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TimestampError("garbage", tsa=tsa.name, url=tsa.url, reason=str(exc)[:200]) from exc
    if state not in ("granted", "granted_with_mods"):
        if "bad_alg" in fail_info:
            raise TimestampError("unsupported_hash", tsa=tsa.name, hash=HASH_ALGORITHM)
        raise TimestampError(
            "refused", tsa=tsa.name, status=state, reason=text or ", ".join(sorted(fail_info))
        )
    try:
        resp = tsp.TimeStampResp.load(response_der)
        token = resp["time_stamp_token"]
        signed_data = token["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        if not isinstance(tst_info, tsp.TSTInfo):
            raise ValueError("no TSTInfo in the token")
        tst_info.native  # noqa: B018 - force a full parse
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TimestampError("garbage", tsa=tsa.name, url=tsa.url, reason=str(exc)[:200]) from exc
    return token, signed_data, tst_info


def verify_response(
    response_der: bytes,
    request: TimestampRequest,
    tsa: TimestampAuthority,
    roots: Sequence[asn1_x509.Certificate] | None = None,
) -> VerifiedToken:
    """Fully verify a response to ``request``; raise a distinct error for each failure kind."""
    import asyncio

    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

    _token, signed_data, tst_info = parse_token(response_der, tsa)
    imprint = tst_info["message_imprint"]
    algo = imprint["hash_algorithm"]["algorithm"].native
    expected = bytes.fromhex(request.head_hash)
    if algo != HASH_ALGORITHM or imprint["hashed_message"].native != expected:
        raise TimestampError(
            "wrong_digest",
            tsa=tsa.name,
            got=f"{algo}:{bytes(imprint['hashed_message'].native).hex()[:16]}…",
            want=request.head_hash[:16],
        )
    if tst_info["nonce"].native != request.nonce:
        raise TimestampError(
            "wrong_nonce", tsa=tsa.name, got=str(tst_info["nonce"].native), want=str(request.nonce)
        )
    try:
        cert, certs = _signer_cert(signed_data)
        [signer_info] = list(signed_data["signer_infos"])
        attrs = signer_info["signed_attrs"]
        ess = [a for a in attrs if a["type"].native == "signing_certificate_v2"]
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError("bad_signature", tsa=tsa.name, reason=str(exc)[:200]) from exc
    try:
        # asn1crypto parses lazily: a damaged field deep in the signer's or another embedded
        # certificate only fails here, when it is first read
        context = _checked_context(cert, ess, tst_info, tsa, roots, certs)
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError("bad_signature", tsa=tsa.name, reason=str(exc)[:200]) from exc
    gen_time: datetime = tst_info["gen_time"].native

    def imprint_of(_algo: str) -> bytes:
        return expected

    try:
        status: dict[str, Any] = asyncio.run(
            validate_tst_signed_data(signed_data, context, imprint_of)
        )
    except Exception as exc:  # pyhanko raises its own hierarchy for malformed CMS
        raise TimestampError("bad_signature", tsa=tsa.name, reason=str(exc)[:200]) from exc
    if not status.get("valid") or not status.get("intact"):
        raise TimestampError("bad_signature", tsa=tsa.name, reason="CMS signature does not verify")
    if status.get("trust_problem_indic") is not None:
        raise TimestampError(
            "untrusted_root",
            tsa=tsa.name,
            issuer=cert.issuer.human_friendly,
            reason=str(status["trust_problem_indic"].name),
        )
    path = status["validation_path"]
    chain = _chain_of(path)
    return VerifiedToken(
        gen_time=gen_time,
        serial=int(tst_info["serial_number"].native),
        policy=str(tst_info["policy"].dotted),
        tsa_subject=cert.subject.human_friendly,
        chain=chain,
    )


def _checked_context(
    cert: Any, ess: list[Any], tst_info: Any, tsa: Any, roots: Any, certs: Any
) -> ValidationContext:
    """The ESSCertIDv2, EKU and validity checks of the signer, and the validation context of
    the embedded chain at genTime."""
    from pyhanko.sign.general import check_ess_certid
    from pyhanko_certvalidator import ValidationContext

    if len(ess) != 1 or not check_ess_certid(cert, ess[0]["values"][0]["certs"][0]):
        raise TimestampError("no_ess_cert_id", tsa=tsa.name)
    if not _check_eku(cert):
        raise TimestampError("eku", tsa=tsa.name, subject=cert.subject.human_friendly)
    gen_time: datetime = tst_info["gen_time"].native
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if not (not_before <= gen_time <= not_after):
        raise TimestampError(
            "cert_expired",
            tsa=tsa.name,
            subject=cert.subject.human_friendly,
            not_after=not_after.isoformat(),
            gen_time=gen_time.isoformat(),
        )
    trust = list(roots) if roots is not None else tsa.root_certs()
    context = ValidationContext(
        trust_roots=trust,
        other_certs=certs,
        moment=gen_time,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    return context


def _chain_of(path: Any) -> tuple[asn1_x509.Certificate, ...]:
    """Leaf first, root last, from a pyhanko-certvalidator ValidationPath."""
    certs: list[asn1_x509.Certificate] = list(path.iter_certs(include_root=True))
    certs.reverse()
    return tuple(certs)


def cert_sha256(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def in_process_stamper(tsa: TimestampAuthority) -> TimeStamper | None:
    """The TSA that answers ``tsa`` in this process (the demo TSA only), if any: for requests
    and for PDF signing."""
    from forensic.timestamp.demo import DEMO_URL

    if not (tsa.demo and tsa.url == DEMO_URL):
        return None
    from forensic.timestamp.demo_stamper import demo_stamper

    return demo_stamper()
