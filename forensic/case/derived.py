"""Derived case files (metadata records, thumbnails, analysis figures and findings, OCR text,
chat transcripts, reports): written and read through one pair of primitives.

In a plain case they are ordinary files, exactly as before. In an encrypted case they are age
ciphertext to the case's recipients under the same name (no suffix): an ELA map or a video
thumbnail shows the picture, so it must not lie on disk in the clear. The custody log vouches
for the bytes on disk (the ciphertext, checkable without a key) and, for ciphertext, also
records ``plaintext_sha256``/``plaintext_size`` so ``verify --decrypt`` can check the content.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyrage  # type: ignore[import-untyped]

from forensic._internal.casefs import (
    SEALED_FILE,
    case_path,
    make_private_dirs,
    open_in_case,
    read_case_bytes,
)
from forensic._internal.fsio import atomic_write
from forensic.case.layout import AGE_HEADER, DERIVED_AREAS, is_ciphertext, is_derived
from forensic.case.records import file_record
from forensic.errors import EXIT_INTEGRITY
from forensic.store import crypt

if TYPE_CHECKING:
    from forensic.case.case import Case

__all__ = [
    "AGE_HEADER",
    "DERIVED_AREAS",
    "DerivedFileError",
    "EncryptingWriter",
    "decrypt_case_bytes",
    "is_ciphertext",
    "is_derived",
    "open_case_file",
    "plaintext_digest",
    "plaintext_fields",
    "read_case_file",
    "write_case_file",
]
_ITEM_IN_PATH = re.compile(r"^(?:media|analysis)/([0-9a-f]{64})/|^ocr/([0-9a-f]{64})\.json$")


class DerivedFileError(crypt.CryptError):
    """A derived file that cannot be read or re-encrypted; messages: ``[derived]`` table."""

    catalogue = "derived.error_"


def _item_of(rel: str) -> str | None:
    """The item a derived file shows (for the access log), when its path names one."""
    m = _ITEM_IN_PATH.match(rel)
    return (m.group(1) or m.group(2)) if m else None


def _relative(case: Case, path: Path) -> str:
    return path.resolve().relative_to(case.root).as_posix() if path.is_absolute() else str(path)


def _absolute(case: Case, path: Path) -> Path:
    return path if path.is_absolute() else case.root / path


def write_case_file(case: Case, path: Path, data: bytes, mode: int = SEALED_FILE) -> dict[str, Any]:
    """Write a derived file atomically in place; in an encrypted case as age ciphertext.

    Returns the log's file record: path, SHA-256 and size of the bytes on disk (re-read), and
    for ciphertext the plaintext's SHA-256 and size. A step writes through
    :meth:`forensic.case.step.Step.stage_file` instead (nothing lies at its final path before
    its entry); this is for files no entry is about to vouch for."""
    target = case_path(case.root, _absolute(case, path))  # never written through a link
    make_private_dirs(case.root, target.parent)
    crypto = case.store.crypto
    if crypto is None:
        atomic_write(target, data, mode=mode)
        return file_record(case.root, target)
    atomic_write(target, pyrage.encrypt(data, crypto.recipients), mode=mode)
    return {
        **file_record(case.root, target),
        "plaintext_sha256": hashlib.sha256(data).hexdigest(),
        "plaintext_size": len(data),
    }


def plaintext_fields(case: Case, sha256: str, size: int) -> dict[str, Any]:
    """The plaintext fields of a file record for a file written as a stream (transcripts)."""
    if case.store.crypto is None or not sha256:
        return {}
    return {"plaintext_sha256": sha256, "plaintext_size": size}


def decrypt_case_bytes(case: Case, data: bytes, rel: str) -> bytes:
    """The plaintext of a derived file's bytes (as read from disk).

    Bytes that are not age ciphertext are returned as they are: plain cases, and derived
    files an encrypted case wrote before they were encrypted (``share`` converts them). The
    custody log's SHA-256, not encryption, is what says a derived file is unaltered."""
    crypto = case.store.crypto
    if crypto is None or not is_ciphertext(data):
        return data
    try:
        plain: bytes = pyrage.decrypt(data, [crypto.identity()])
    except pyrage.DecryptError as exc:
        raise DerivedFileError("decrypt_failed", exit_code=EXIT_INTEGRITY, path=rel) from exc
    item = _item_of(rel)
    if item is not None:
        case.session.note_decrypted(case.root, item)
    return plain


def read_case_file(case: Case, path: Path) -> bytes:
    """A derived file's content: decrypted in an encrypted case (needs the case identity)."""
    target = _absolute(case, path)
    return decrypt_case_bytes(case, read_case_bytes(case.root, target), _relative(case, target))


@contextlib.contextmanager
def open_case_file(case: Case, path: Path) -> Iterator[BinaryIO]:
    """A derived file as a binary file to stream (large transcripts): the file itself, or its
    decryption in an anonymous in-memory file (``memfd``), never on disk."""
    target = _absolute(case, path)
    crypto = case.store.crypto
    with os.fdopen(open_in_case(case.root, target), "rb") as fh:
        head = fh.read(len(AGE_HEADER))
        fh.seek(0)
        if crypto is None or not is_ciphertext(head):
            yield fh
            return
        rel = _relative(case, target)
        with crypt.memfd("derived") as fd:
            out = crypt.HashingWriter(fd)
            try:
                crypto.decrypt_stream(fh, out)
            except crypt.CryptError as exc:
                raise DerivedFileError(
                    "decrypt_failed", exit_code=EXIT_INTEGRITY, path=rel
                ) from exc
            item = _item_of(rel)
            if item is not None:
                case.session.note_decrypted(case.root, item)
            os.lseek(fd, 0, os.SEEK_SET)
            with os.fdopen(os.dup(fd), "rb") as plain:
                yield plain


class EncryptingWriter:
    """A file-like writer that streams what is written as age ciphertext into ``out``.

    pyrage encrypts from a reader, so a thread runs the encrypter on the read end of a pipe
    while the caller writes to its write end: flat memory, no plaintext on disk."""

    def __init__(self, out: BinaryIO, recipients: list[Any]) -> None:
        read_fd, write_fd = os.pipe()
        self._pipe_in = os.fdopen(write_fd, "wb")
        self._pipe_out = os.fdopen(read_fd, "rb")
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(out, recipients), name="forensic-encrypt", daemon=True
        )
        self._thread.start()

    def _run(self, out: BinaryIO, recipients: list[Any]) -> None:
        try:
            pyrage.encrypt_io(self._pipe_out, out, recipients)
        except BaseException as exc:  # handed to the writing thread by close()
            self._error = exc
        finally:
            self._pipe_out.close()

    def write(self, data: bytes) -> int:
        try:
            self._pipe_in.write(data)
        except BrokenPipeError as exc:
            self._thread.join()
            raise OSError(f"age encryption stopped: {self._error}") from exc
        return len(data)

    def close(self) -> None:
        """End of plaintext: the encrypter writes its last chunk; errors surface here."""
        with contextlib.suppress(BrokenPipeError):
            self._pipe_in.close()
        self._thread.join()
        if self._error is not None:
            raise OSError(f"age encryption failed: {self._error}") from self._error

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe_in.close()
        self._thread.join()


def plaintext_digest(case: Case, path: Path) -> tuple[str, int]:
    """SHA-256 and size of a derived file's plaintext (``verify --decrypt``)."""
    with open_case_file(case, path) as fh:
        h = hashlib.sha256()
        total = 0
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            total += len(chunk)
    return h.hexdigest(), total
