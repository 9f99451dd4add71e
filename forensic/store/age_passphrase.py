"""age v1 passphrase (scrypt) files, written and read with ``cryptography``.

The case identity is wrapped in such a file so that anyone holding the passphrase can unwrap it
with the reference tool (``age -d case-identity.age``). pyrage's own passphrase mode fixes the
scrypt work factor and is several times slower than OpenSSL's scrypt on the same machine, so the
format (https://age-encryption.org/v1, "scrypt recipient stanza") is implemented here; it is
small and fully specified.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import struct
import unicodedata

INTRO = b"age-encryption.org/v1\n"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
CHUNK = 64 * 1024
DEFAULT_LOG_N = 18
"""age's own default work factor (2^18, 256 MiB, about 1 s)."""
MIN_LOG_N = 10
MAX_LOG_N = 22
WORK_FACTOR_ENV = "FORENSIC_AGE_WORK_FACTOR"


class AgeFormatError(ValueError):
    """Not an age passphrase file, or a wrong passphrase (age cannot tell them apart)."""


def work_factor() -> int:
    """log2 of the scrypt N for new files: ``FORENSIC_AGE_WORK_FACTOR`` (10..22), else 18."""
    raw = os.environ.get(WORK_FACTOR_ENV)
    if raw:
        try:
            value = int(raw)
        except ValueError:
            return DEFAULT_LOG_N
        if MIN_LOG_N <= value <= MAX_LOG_N:
            return value
    return DEFAULT_LOG_N


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    if not re.fullmatch(rb"[A-Za-z0-9+/]*", text):
        raise AgeFormatError("bad base64 in header")
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    if _b64(data) != text:
        raise AgeFormatError("non-canonical base64 in header")
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt or None, info).derive(ikm)


def _scrypt_key(passphrase: str, salt: bytes, log_n: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << log_n, r=8, p=1).derive(secret)


def _nonce(counter: int, last: bool) -> bytes:
    return struct.pack(">Q", counter).rjust(11, b"\x00") + (b"\x01" if last else b"\x00")


def encrypt(data: bytes, passphrase: str, log_n: int | None = None) -> bytes:
    """``data`` as an age file decryptable with ``passphrase`` (small data: read in memory)."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    log_n = work_factor() if log_n is None else log_n
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrap = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).encrypt(
        b"\x00" * 12, file_key, None
    )
    header = INTRO + b"-> scrypt " + _b64(salt) + b" %d\n" % log_n + _b64(wrap) + b"\n---"
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, "sha256").digest()
    nonce = os.urandom(16)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    body = b"".join(
        aead.encrypt(_nonce(n, n == len(chunks) - 1), chunk, None) for n, chunk in enumerate(chunks)
    )
    return header + b" " + _b64(mac) + b"\n" + nonce + body


def decrypt(blob: bytes, passphrase: str) -> bytes:
    """The plaintext of an age passphrase file; :class:`AgeFormatError` on any failure."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if not blob.startswith(INTRO):
        raise AgeFormatError("not an age v1 file")
    end = blob.find(b"\n---")
    if end < 0:
        raise AgeFormatError("no header end")
    mac_end = blob.find(b"\n", end + 4)
    if mac_end < 0:
        raise AgeFormatError("no header MAC")
    lines = blob[len(INTRO) : end].split(b"\n")
    if len(lines) != 2 or not lines[0].startswith(b"-> scrypt "):
        raise AgeFormatError("not a passphrase-encrypted age file")
    args = lines[0].split(b" ")[2:]
    if len(args) != 2 or not re.fullmatch(rb"[1-9][0-9]?", args[1]):
        raise AgeFormatError("malformed scrypt stanza")
    salt, log_n = _unb64(args[0]), int(args[1])
    if len(salt) != 16 or not MIN_LOG_N <= log_n <= MAX_LOG_N:
        raise AgeFormatError("scrypt parameters out of range")
    try:
        file_key = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).decrypt(
            b"\x00" * 12, _unb64(lines[1]), None
        )
    except InvalidTag as exc:
        raise AgeFormatError("wrong passphrase") from exc
    header = blob[: end + 4]
    mac = _unb64(blob[end + 5 : mac_end])
    if not hmac.compare_digest(
        mac, hmac.new(_hkdf(file_key, b"", b"header"), header, "sha256").digest()
    ):
        raise AgeFormatError("header MAC does not match")
    payload = blob[mac_end + 1 :]
    nonce, body = payload[:16], payload[16:]
    if len(nonce) != 16 or not body:
        raise AgeFormatError("truncated payload")
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    size = CHUNK + 16
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    out = []
    try:
        for n, piece in enumerate(pieces):
            out.append(aead.decrypt(_nonce(n, n == len(pieces) - 1), piece, None))
    except InvalidTag as exc:
        raise AgeFormatError("payload damaged or truncated") from exc
    return b"".join(out)
