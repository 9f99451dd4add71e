"""Encryption at rest: age (X25519) ciphertext objects and the case's own age identity.

An encrypted case has one X25519 identity of its own. Its secret lives only in
``keys/case-identity.age``, an age passphrase file under the examiner's passphrase, so the
examiner (or anyone given the passphrase) can unwrap it with the reference ``age`` tool. Every
evidence object is age ciphertext to the case's recipient plus any recipient added with
``forensic share``. Plaintext never goes to a file: it is hashed while it streams through the
encrypter and, for readers, decrypted into an anonymous in-memory file (``memfd``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import pyrage  # type: ignore[import-untyped]
from pyrage import x25519

from forensic.errors import EXIT_INTEGRITY, EXIT_USAGE, ForensicError
from forensic.store import age_passphrase

if TYPE_CHECKING:
    from forensic.session import Session

SCHEME = "age-x25519"
ENCRYPTION_VERSION = 1
IDENTITY_FILE = "keys/case-identity.age"
RECIPIENTS_FILE = "keys/recipients.txt"


class CryptError(ForensicError):
    """Encryption problems; messages live in the ``[crypt]`` catalogue table."""

    def __init__(self, key: str, /, *, exit_code: int = EXIT_USAGE, **params: object) -> None:
        self.exit_code = exit_code
        super().__init__(key, **params)

    catalogue = "crypt.error_"


def parse_recipient(text: str) -> x25519.Recipient:
    """An ``age1…`` X25519 recipient, or a one-line error naming it."""
    value = text.strip()
    if not value.startswith("age1") or any(c.isspace() for c in value):
        raise CryptError("bad_recipient", recipient=text[:100], reason="not an age1… X25519 key")
    try:
        return x25519.Recipient.from_str(value)
    except (pyrage.RecipientError, ValueError) as exc:
        raise CryptError("bad_recipient", recipient=text[:100], reason=str(exc)[:100]) from exc


def identity_text(identity: x25519.Identity, created: str) -> bytes:
    """The identity as an age identity file (what ``age-keygen`` writes)."""
    return (f"# created: {created}\n# public key: {identity.to_public()}\n{identity}\n").encode(
        "ascii"
    )


def parse_identity(text: bytes) -> x25519.Identity:
    for line in text.decode("ascii", "replace").splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            return x25519.Identity.from_str(line.strip())
    raise ValueError("no AGE-SECRET-KEY line")


@dataclass(frozen=True)
class Encryption:
    """``case.json``'s ``encryption`` record."""

    recipients: tuple[str, ...]
    identity_file: str = IDENTITY_FILE

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": ENCRYPTION_VERSION,
            "scheme": SCHEME,
            "recipients": list(self.recipients),
            "identity_file": self.identity_file,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Encryption | None:
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("scheme") != SCHEME:
            raise ValueError(f"unsupported encryption record {data!r:.80}")
        recipients = data.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise ValueError("encryption.recipients is not a non-empty list")
        return cls(tuple(str(r) for r in recipients), str(data.get("identity_file", IDENTITY_FILE)))


def new_identity() -> x25519.Identity:
    return x25519.Identity.generate()


def wrap_identity(identity: x25519.Identity, passphrase: str, created: str) -> bytes:
    return age_passphrase.encrypt(identity_text(identity, created), passphrase)


class CaseCrypto:
    """Encrypts to a case's recipients; decrypts with its identity, unwrapped on first need."""

    def __init__(
        self,
        case_root: Path,
        encryption: Encryption,
        session: Session,
        identity: x25519.Identity | None = None,
    ) -> None:
        self.case_root = case_root
        self.encryption = encryption
        self.session = session
        self.recipients = [parse_recipient(r) for r in encryption.recipients]
        self._identity = identity

    @property
    def identity_path(self) -> Path:
        return self.case_root / self.encryption.identity_file

    def identity(self, passphrase: str | None = None) -> x25519.Identity:
        """The case identity; unwrapped with the session's passphrase (scrypt runs once)."""
        if self._identity is not None:
            return self._identity
        path = self.identity_path
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise CryptError(
                "identity_unreadable",
                exit_code=EXIT_INTEGRITY,
                path=str(path),
                reason=exc.strerror or str(exc),
            ) from exc
        cache_key = hashlib.sha256(blob).hexdigest()
        cached = self.session.cached_identity(cache_key)
        if cached is not None and passphrase is None:
            return cast(x25519.Identity, cached)
        secret = passphrase if passphrase is not None else self.session.decryption_passphrase()
        if secret is None:
            raise CryptError("locked", path=str(self.case_root))
        try:
            identity = parse_identity(age_passphrase.decrypt(blob, secret))
        except age_passphrase.AgeFormatError as exc:
            raise CryptError("wrong_passphrase", path=str(path), reason=str(exc)) from exc
        except ValueError as exc:
            raise CryptError(
                "identity_unreadable", exit_code=EXIT_INTEGRITY, path=str(path), reason=str(exc)
            ) from exc
        if str(identity.to_public()) != self.encryption.recipients[0]:
            raise CryptError(
                "identity_unreadable",
                exit_code=EXIT_INTEGRITY,
                path=str(path),
                reason="its public key is not the case recipient in case.json",
            )
        self.session.remember_identity(cache_key, identity)
        return identity

    def decrypt_stream(self, reader: BinaryIO, writer: io.RawIOBase | BinaryIO) -> None:
        identity = self.identity()
        try:
            pyrage.decrypt_io(reader, writer, [identity])
        except pyrage.DecryptError as exc:
            raise CryptError(
                "decrypt_failed", exit_code=EXIT_INTEGRITY, path=getattr(reader, "name", "?")
            ) from exc


class HashingReader(io.RawIOBase):
    """Reads an fd, hashing every byte and keeping the head (for media-type sniffing)."""

    def __init__(
        self,
        fd: int,
        hashers: dict[str, Any],
        head_bytes: int,
        on_bytes: Callable[[int], None] | None,
    ) -> None:
        super().__init__()
        self.fd = fd
        self.hashers = hashers
        self.head = b""
        self.head_bytes = head_bytes
        self.total = 0
        self.on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = os.readv(self.fd, [b])
        if n:
            chunk = memoryview(b)[:n]
            if self.total < self.head_bytes:
                self.head += bytes(chunk[: self.head_bytes - self.total])
            for h in self.hashers.values():
                h.update(chunk)
            self.total += n
            if self.on_bytes is not None:
                self.on_bytes(n)
        return n


class HashingWriter(io.RawIOBase):
    """Writes to an fd, hashing every byte (the ciphertext's SHA-256 names the object)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.sha256 = hashlib.sha256()
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        self.sha256.update(view)
        written = 0
        while written < len(view):
            written += os.write(self.fd, view[written:])
        self.total += len(view)
        return len(view)


class DigestSink(io.RawIOBase):
    """A writer that only hashes (decrypt-check without keeping the plaintext)."""

    def __init__(self) -> None:
        super().__init__()
        self.sha256 = hashlib.sha256()
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        self.sha256.update(view)
        self.total += len(view)
        return len(view)


@contextlib.contextmanager
def memfd(name: str) -> Iterator[int]:
    fd = os.memfd_create(f"forensic-{name}", getattr(os, "MFD_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def encrypt_to(
    reader: io.RawIOBase | BinaryIO, writer: io.RawIOBase | BinaryIO, recipients: list[Any]
) -> None:
    """Stream ``reader`` as age ciphertext for ``recipients`` into ``writer``."""
    pyrage.encrypt_io(reader, writer, recipients)
