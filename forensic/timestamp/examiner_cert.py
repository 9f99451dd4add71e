"""The examiner's X.509 certificate (ECDSA P-256), for signing PDF reports.

Self-signed by default, or an organisation-issued certificate imported with its key. Stored in
the config folder: ``examiner-cert.pem`` and ``examiner-cert.key.json``: the PKCS#8 key wrapped
like the examiner key (Argon2id, AES-256-GCM, :func:`forensic.custody.keys.wrap_secret`) under
the examiner passphrase. An older home's ``examiner-cert.key.pem`` (PKCS#8 with PBKDF2 at 2048
rounds: a guess costs 1 ms there, 370 ms against Argon2id) is re-wrapped and removed the next
time it is unlocked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forensic._internal.fsio import atomic_write
from forensic.timestamp.errors import TimestampUsageError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

CERT_FILE = "examiner-cert.pem"
KEY_FILE = "examiner-cert.key.json"
LEGACY_KEY_FILE = "examiner-cert.key.pem"
"""PKCS#8 with PBKDF2-SHA256 at 2048 rounds, as written before: re-wrapped on unlock."""
KEY_KIND = "forensic-report-signing-key"
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"  # id-kp-documentSigning (RFC 9336)
VALID_DAYS = 3 * 365


@dataclass(frozen=True)
class ExaminerCert:
    path: Path
    key_path: Path
    subject: str
    not_after: str
    fingerprint_sha256: str
    imported: bool


def _describe(cert: x509.Certificate, home: Path, imported: bool) -> ExaminerCert:
    from cryptography.hazmat.primitives import hashes

    return ExaminerCert(
        path=home / CERT_FILE,
        key_path=home / KEY_FILE,
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        imported=imported,
    )


def _store(home: Path, cert: x509.Certificate, key: object, passphrase: str, force: bool) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if (home / CERT_FILE).exists() and not force:
        raise TimestampUsageError("cert_exists", path=str(home / CERT_FILE))
    home.mkdir(parents=True, exist_ok=True)
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    _store_key(home, cert, key, passphrase)
    atomic_write(home / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _store_key(
    home: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    passphrase: str,
) -> None:  # fmt: skip
    """Write the key file (Argon2id + AES-GCM) and remove a PBKDF2 one left by older versions."""
    from cryptography.hazmat.primitives import hashes, serialization

    from forensic.custody.keys import wrap_secret

    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public: dict[str, object] = {"certificate_sha256": cert.fingerprint(hashes.SHA256()).hex()}
    atomic_write(home / KEY_FILE, wrap_secret(passphrase, der, KEY_KIND, public), mode=0o600)
    (home / LEGACY_KEY_FILE).unlink(missing_ok=True)


def create_self_signed(
    home: Path,
    *,
    name: str,
    organisation: str | None,
    email: str | None,
    passphrase: str,
    force: bool = False,
) -> ExaminerCert:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    subject = x509.Name(attrs)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ObjectIdentifier(DOCUMENT_SIGNING), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = builder.sign(key, hashes.SHA256())
    _store(home, cert, key, passphrase, force)
    return _describe(cert, home, imported=False)


def import_cert(
    home: Path,
    cert_path: Path,
    key_path: Path,
    *,
    passphrase: str,
    key_password: str | None = None,
    force: bool = False,
) -> ExaminerCert:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TimestampUsageError("cert_import", path=str(cert_path), reason=str(exc)) from exc
    try:
        password = key_password.encode("utf-8") if key_password else None
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=password)
    except TypeError as exc:
        if password is None:  # an encrypted key and no password given
            raise TimestampUsageError("signing.key_password_needed", path=str(key_path)) from exc
        raise TimestampUsageError("cert_import", path=str(key_path), reason=str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise TimestampUsageError("cert_import", path=str(key_path), reason=str(exc)) from exc
    if isinstance(key, ed25519.Ed25519PrivateKey) or not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise TimestampUsageError(
            "cert_import", path=str(key_path), reason="only ECDSA or RSA keys are supported"
        )
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise TimestampUsageError("cert_key_mismatch")
    _store(home, cert, key, passphrase, force)
    return _describe(cert, home, imported=True)


@dataclass(frozen=True)
class SigningKey:
    cert_pem: bytes
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    rewrapped: Path | None = None
    """The PBKDF2 key file this unlock re-wrapped with Argon2id and removed (say so once)."""


def _read_key(home: Path, passphrase: str) -> tuple[object, Path | None]:
    """The private key, from the Argon2id file, else from a legacy PBKDF2 PEM (then returned
    with its path, to be re-wrapped)."""
    from cryptography.hazmat.primitives import serialization

    from forensic.custody.keys import unwrap_secret
    from forensic.errors import KeyringError

    path, legacy = home / KEY_FILE, home / LEGACY_KEY_FILE
    try:
        if path.is_file():
            der = unwrap_secret(path.read_bytes(), passphrase, KEY_KIND)
            return serialization.load_der_private_key(der, password=None), None
        if legacy.is_file():
            pem = legacy.read_bytes()
            return serialization.load_pem_private_key(pem, password=passphrase.encode()), legacy
    except KeyringError as exc:
        raise TimestampUsageError("signing.signing_key_wrong_passphrase", path=str(path)) from exc
    except (OSError, ValueError, TypeError) as exc:
        where = path if path.is_file() else legacy
        raise TimestampUsageError(
            "signing.signing_key_unreadable", path=str(where), reason=str(exc)[:200]
        ) from exc
    raise TimestampUsageError("cert_import", path=str(path), reason="not found")


def load_signing_key(home: Path, passphrase: str) -> SigningKey:
    """The stored certificate (PEM) and its private key, unlocked with the examiner passphrase;
    a legacy PBKDF2 key file is re-wrapped with Argon2id here and removed."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert_path = home / CERT_FILE
    if not cert_path.is_file():
        raise TimestampUsageError("cert_import", path=str(cert_path), reason="not found")
    try:
        cert_pem = cert_path.read_bytes()
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (OSError, ValueError) as exc:
        raise TimestampUsageError("cert_import", path=str(cert_path), reason=str(exc)) from exc
    key, legacy = _read_key(home, passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TimestampUsageError(
            "cert_import", path=str(home / KEY_FILE), reason="unsupported key"
        )
    if legacy is not None:
        _store_key(home, cert, key, passphrase)
    return SigningKey(cert_pem, key, legacy)
