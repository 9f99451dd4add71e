"""The examiner's Ed25519 signing key, kept in the user's config folder.

The 32-byte seed is wrapped with AES-256-GCM under a key derived from the passphrase with
Argon2id (RFC 9106 second recommended profile: 64 MiB, t=3, p=4). cryptography's PKCS#8
BestAvailableEncryption uses only 2048 PBKDF2 rounds, far too few for a key that signs evidence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forensic._internal.canonical import canonical_json
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import atomic_write
from forensic.errors import KeyringError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

PassphraseProvider = Callable[[bool], str]
"""Called with ``True`` when a new key is being created (ask twice), ``False`` to unlock."""

KEY_FILE = "examiner-key.json"
KEY_FORMAT_VERSION = 1


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4


KDF_MEMORY_ENV = "FORENSIC_ARGON2_MEMORY_KIB"
"""Test suites only: a cheaper Argon2id memory cost for keys they create (like the age work
factor hook); bounded below by RFC 9106's minimum for 4 lanes, never above the profile."""


def default_kdf_params() -> KdfParams:
    """RFC 9106's profile for a new key, unless ``FORENSIC_ARGON2_MEMORY_KIB`` lowers it."""
    raw = os.environ.get(KDF_MEMORY_ENV)
    profile = KdfParams()
    if raw:
        try:
            memory = int(raw)
        except ValueError:
            return profile
        if 8 * profile.lanes <= memory < profile.memory_kib:
            return KdfParams(memory_kib=memory)
    return profile


def config_home() -> Path:
    """``FORENSIC_HOME``, else ``$XDG_CONFIG_HOME/forensic``, else ``~/.config/forensic``."""
    env = os.environ.get("FORENSIC_HOME")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "forensic"


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo: ``openssl pkey -pubin -outform DER | sha256sum``."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise KeyringError("key_not_ed25519")
    return key


def verify_signature(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class ExaminerKey:
    """An unlocked signing key."""

    private: Ed25519PrivateKey
    created: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    @property
    def public_pem(self) -> bytes:
        return public_key_pem(self.public)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


_KDF_LOCK = threading.Lock()
"""One Argon2id derivation at a time in a process: OpenSSL's multi-lane Argon2 (through
cryptography) hangs or fails with MemoryError when two threads derive at once (two sessions
unlocking together); each derivation still uses its lanes. Process-wide because the resource
it guards (OpenSSL's thread pool) is; ``tests/test_architecture.py`` allows exactly this one."""


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    # NFC: the same Korean passphrase typed on macOS (NFD) and elsewhere (NFC) unlocks the key.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    with _KDF_LOCK:
        return kdf.derive(secret)


# Bounds on what a key file may ask of the KDF: a hostile or corrupted file must not make
# unlocking allocate terabytes or spin for hours (RFC 9106 profiles are far inside these).
MAX_MEMORY_KIB = 4 * 1024 * 1024
MAX_ITERATIONS = 64
MAX_LANES = 64


def _check_params(params: KdfParams, salt: bytes, nonce: bytes) -> None:
    if not 8 * params.lanes <= params.memory_kib <= MAX_MEMORY_KIB:
        raise ValueError(f"argon2id memory_kib {params.memory_kib} out of range")
    if not 1 <= params.iterations <= MAX_ITERATIONS:
        raise ValueError(f"argon2id iterations {params.iterations} out of range")
    if not 1 <= params.lanes <= MAX_LANES:
        raise ValueError(f"argon2id lanes {params.lanes} out of range")
    if len(salt) < 8:
        raise ValueError("salt shorter than 8 bytes")
    if len(nonce) != 12:
        raise ValueError("nonce is not 12 bytes")


def _header(pub_pem: bytes, params: KdfParams, salt: bytes, created: str) -> dict[str, object]:
    return {
        "v": KEY_FORMAT_VERSION,
        "kind": "forensic-examiner-key",
        "algorithm": "ed25519",
        "created": created,
        "public_key_pem": pub_pem.decode("ascii"),
        "kdf": {
            "name": "argon2id",
            "memory_kib": params.memory_kib,
            "iterations": params.iterations,
            "lanes": params.lanes,
            "salt": base64.b64encode(salt).decode("ascii"),
        },
        "cipher": {"name": "aes-256-gcm"},
    }


def create_key(home: Path, passphrase: str, params: KdfParams | None = None) -> ExaminerKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    params = params or default_kdf_params()
    if not passphrase:
        raise KeyringError("empty_passphrase")
    path = home / KEY_FILE
    if path.exists():
        raise KeyringError("key_exists", path=str(path))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    salt = os.urandom(16)
    nonce = os.urandom(12)
    created = utc_timestamp()
    header = _header(public_key_pem(private.public_key()), params, salt, created)
    # The header is bound as associated data: swapping the public key or KDF fails to unlock.
    ciphertext = AESGCM(_derive(passphrase, salt, params)).encrypt(
        nonce, seed, canonical_json(header)
    )
    record = dict(header)
    record["nonce"] = base64.b64encode(nonce).decode("ascii")
    record["ciphertext"] = base64.b64encode(ciphertext).decode("ascii")
    record["fingerprint"] = fingerprint(private.public_key())
    atomic_write(path, json.dumps(record, indent=2).encode("utf-8") + b"\n", mode=0o600)
    return ExaminerKey(private=private, created=created)


def key_exists(home: Path) -> bool:
    return (home / KEY_FILE).is_file()


def read_key_record(home: Path) -> dict[str, object]:
    path = home / KEY_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise KeyringError("no_key", path=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise KeyringError("key_unreadable", path=str(path), reason=str(exc)) from exc
    if not isinstance(data, dict) or data.get("kind") != "forensic-examiner-key":
        raise KeyringError("key_unreadable", path=str(path), reason="not a forensic key file")
    return data


def unlock_key(home: Path, passphrase: str) -> ExaminerKey:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    path = home / KEY_FILE
    record = read_key_record(home)
    try:
        kdf = record["kdf"]
        assert isinstance(kdf, dict)
        params = KdfParams(int(kdf["memory_kib"]), int(kdf["iterations"]), int(kdf["lanes"]))
        salt = base64.b64decode(str(kdf["salt"]))
        nonce = base64.b64decode(str(record["nonce"]))
        ciphertext = base64.b64decode(str(record["ciphertext"]))
        pub_pem = str(record["public_key_pem"]).encode("ascii")
        created = str(record["created"])
        _check_params(params, salt, nonce)
        header = _header(pub_pem, params, salt, created)
    except (KeyError, ValueError, AssertionError, TypeError) as exc:
        raise KeyringError("key_unreadable", path=str(path), reason=str(exc)[:200]) from exc
    try:
        seed = AESGCM(_derive(passphrase, salt, params)).decrypt(
            nonce, ciphertext, canonical_json(header)
        )
    except InvalidTag as exc:
        raise KeyringError("wrong_passphrase", path=str(path)) from exc
    except (ValueError, TypeError, OverflowError) as exc:
        raise KeyringError("key_unreadable", path=str(path), reason=str(exc)[:200]) from exc
    try:
        private = Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError as exc:
        raise KeyringError("key_unreadable", path=str(path), reason=str(exc)[:200]) from exc
    if public_key_pem(private.public_key()) != pub_pem or record.get("fingerprint") != fingerprint(
        private.public_key()
    ):
        raise KeyringError("key_unreadable", path=str(path), reason="public key mismatch")
    return ExaminerKey(private=private, created=created)


def load_or_create_key(
    home: Path, passphrase_provider: PassphraseProvider, params: KdfParams | None = None
) -> tuple[ExaminerKey, bool]:
    """Unlock the examiner key, creating it on first use. Returns (key, created)."""
    if key_exists(home):
        return unlock_key(home, passphrase_provider(False)), False
    return create_key(home, passphrase_provider(True), params), True


# -- other secrets under the examiner passphrase ------------------------------------------------
def wrap_secret(passphrase: str, secret: bytes, kind: str, public: dict[str, object]) -> bytes:
    """A key file for ``secret`` as strong as the examiner key's: Argon2id (the same profile)
    and AES-256-GCM, the header (``kind``, ``public``, KDF parameters) bound as associated
    data. Used for the report-signing key (``examiner-cert.key.json``)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise KeyringError("empty_passphrase")
    params = default_kdf_params()
    salt, nonce = os.urandom(16), os.urandom(12)
    header = _secret_header(kind, public, params, salt)
    ciphertext = AESGCM(_derive(passphrase, salt, params)).encrypt(
        nonce, secret, canonical_json(header)
    )
    record = dict(header)
    record["nonce"] = base64.b64encode(nonce).decode("ascii")
    record["ciphertext"] = base64.b64encode(ciphertext).decode("ascii")
    return json.dumps(record, indent=2).encode("utf-8") + b"\n"


def _secret_header(
    kind: str, public: dict[str, object], params: KdfParams, salt: bytes
) -> dict[str, object]:
    return {
        "v": KEY_FORMAT_VERSION,
        "kind": kind,
        **public,
        "kdf": {
            "name": "argon2id",
            "memory_kib": params.memory_kib,
            "iterations": params.iterations,
            "lanes": params.lanes,
            "salt": base64.b64encode(salt).decode("ascii"),
        },
        "cipher": {"name": "aes-256-gcm"},
    }


def unwrap_secret(data: bytes, passphrase: str, kind: str) -> bytes:
    """The secret of a :func:`wrap_secret` file. ``ValueError``: not such a file, or damaged;
    ``KeyringError("wrong_passphrase")``: the passphrase does not open it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    record = json.loads(data.decode("utf-8"))
    if not isinstance(record, dict) or record.get("kind") != kind:
        raise ValueError(f"not a {kind} file")
    try:
        kdf = record["kdf"]
        if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
            raise ValueError("not an argon2id key file")
        params = KdfParams(int(kdf["memory_kib"]), int(kdf["iterations"]), int(kdf["lanes"]))
        salt = base64.b64decode(str(kdf["salt"]))
        nonce = base64.b64decode(str(record["nonce"]))
        ciphertext = base64.b64decode(str(record["ciphertext"]))
        _check_params(params, salt, nonce)
    except (KeyError, TypeError) as exc:
        raise ValueError(str(exc)[:200]) from exc
    header = {k: v for k, v in record.items() if k not in ("nonce", "ciphertext")}
    try:
        secret: bytes = AESGCM(_derive(passphrase, salt, params)).decrypt(
            nonce, ciphertext, canonical_json(header)
        )
    except InvalidTag as exc:
        raise KeyringError("wrong_passphrase", path=kind) from exc
    return secret
