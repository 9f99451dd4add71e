"""``key show`` and ``key cert``: the examiner key of a session's home and its certificate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.session import Session

if TYPE_CHECKING:
    from forensic.timestamp.examiner_cert import ExaminerCert


@dataclass(frozen=True)
class KeyInfo:
    home: Path
    fingerprint: str | None
    created: str | None
    kdf: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "key": {
                "path": str(self.home),
                "fingerprint": self.fingerprint,
                "created": self.created,
                "kdf": self.kdf,
            },
        }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def show_key(session: Session) -> KeyInfo:
    """The public facts of the session's examiner key: read from its record, no passphrase."""
    from forensic.custody.keys import read_key_record

    record = read_key_record(session.home)
    kdf = record.get("kdf")
    return KeyInfo(
        home=session.home,
        fingerprint=_text(record.get("fingerprint")),
        created=_text(record.get("created")),
        kdf=_text(kdf.get("name")) if isinstance(kdf, dict) else None,
    )


@dataclass(frozen=True)
class CertResult:
    cert: ExaminerCert
    key_created: bool
    """The examiner key did not exist and was created to protect the certificate's key."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "certificate": {
                "path": str(self.cert.path),
                "key_path": str(self.cert.key_path),
                "subject": self.cert.subject,
                "not_after": self.cert.not_after,
                "sha256": self.cert.fingerprint_sha256,
                "imported": self.cert.imported,
            },
            "key_created": self.key_created,
        }


def _examiner_passphrase(session: Session) -> tuple[str, bool]:
    """The certificate's private key is stored under the examiner passphrase: check it by
    unlocking the examiner key first (a ``key`` verb may create that key)."""
    _key, created = session.unlock_or_create()
    passphrase = session.passphrase
    assert passphrase is not None  # the key was just unlocked or created with it
    return passphrase, created


def create_certificate(
    session: Session,
    *,
    name: str | None = None,
    organisation: str | None = None,
    email: str | None = None,
    force: bool = False,
) -> CertResult:
    """A self-signed ECDSA P-256 certificate for signing reports, in the session's home."""
    from forensic.timestamp.examiner_cert import create_self_signed

    passphrase, created = _examiner_passphrase(session)
    cert = create_self_signed(
        session.home,
        name=name or "forensic examiner",
        organisation=organisation,
        email=email,
        passphrase=passphrase,
        force=force,
    )
    return CertResult(cert, created)


def read_password_file(path: Path) -> str:
    """The password in ``path`` (its first line): never from the command line, where other
    users see it; a file that group or others may read is refused."""
    import stat

    from forensic.timestamp import TimestampUsageError

    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TimestampUsageError(
                "signing.key_password_file_open", path=str(path), mode=oct(mode & 0o777)[2:]
            )
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TimestampUsageError(
            "signing.key_password_file_unreadable", path=str(path), reason=reason
        ) from exc
    return text.splitlines()[0] if text else ""


def key_needs_password(key_path: Path) -> bool:
    """Whether a PEM key to import is encrypted (then its password must be given)."""
    try:
        return b"ENCRYPTED" in key_path.read_bytes()[:4096]
    except OSError:
        return False


def import_certificate(
    session: Session,
    cert_path: Path,
    key_path: Path,
    *,
    key_password: str | None = None,
    force: bool = False,
) -> CertResult:
    """A certificate and key issued by the examiner's organisation, stored in the home."""
    from forensic.timestamp.examiner_cert import import_cert

    passphrase, created = _examiner_passphrase(session)
    cert = import_cert(
        session.home,
        cert_path,
        key_path,
        passphrase=passphrase,
        key_password=key_password,
        force=force,
    )
    return CertResult(cert, created)
