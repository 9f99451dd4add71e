"""Content-addressed, write-once storage of evidence bytes.

Objects live at ``objects/sha256/<2 hex>/<64 hex>``, are made read-only, and are never rewritten:
identical content is stored once, each acquisition of it is recorded in the custody log.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NewType

from forensic._internal.casefs import (
    PRIVATE_FILE,
    SEALED_FILE,
    case_path,
    make_private_dirs,
    open_in_case,
)
from forensic._internal.fsio import drop_cache
from forensic.errors import EXIT_INTEGRITY, StoreError
from forensic.store import crypt

ItemId = NewType("ItemId", str)
"""SHA-256 of an item's content, lower-case hex."""

CHUNK_SIZE = 1 << 20
SUPPORTED_HASHES = ("md5", "sha1", "sha256", "sha512")
SNIFF_BYTES = 8192
PIPELINE_MIN = 16 << 20
"""Files at least this large are re-hashed with a read-ahead thread (see _hash_pipelined)."""
PIPELINE_CHUNK = 4 << 20
PIPELINE_BUFFERS = 3


def _buffer(fd: int) -> tuple[bytearray, memoryview]:
    """A chunk buffer sized to the file (a small file does not pay for zeroing 1 MiB)."""
    try:
        size = os.fstat(fd).st_size
    except OSError:
        size = CHUNK_SIZE
    raw = bytearray(min(CHUNK_SIZE, max(64 << 10, size + 1)))
    return raw, memoryview(raw)


@dataclass(frozen=True)
class StagedObject:
    """Bytes copied into the case's temp area and hashed in the same pass."""

    temp: Path
    size: int
    hashes: dict[str, str]
    head: bytes
    object_sha256: str = ""
    """SHA-256 of the bytes in ``temp`` when they are ciphertext (empty: they are the item)."""
    object_size: int = 0
    recipients: tuple[str, ...] = ()

    @property
    def item_id(self) -> ItemId:
        return ItemId(self.hashes["sha256"])

    @property
    def encrypted(self) -> bool:
        return bool(self.object_sha256)

    @property
    def stored_sha256(self) -> str:
        """The content address: the ciphertext's SHA-256, else the item's."""
        return self.object_sha256 or self.item_id


@dataclass(frozen=True)
class StoredObject:
    """Where an item's bytes lie now: plaintext named by the item's SHA-256, or ciphertext."""

    item_id: str
    rel: str
    sha256: str
    size: int | None
    encrypted: bool


@dataclass(frozen=True)
class ObjectCheck:
    """Result of re-hashing one stored object."""

    item_id: ItemId
    present: bool
    size: int | None
    sha256: str | None
    expected_sha256: str | None = None
    """For ciphertext: the SHA-256 the stored bytes must have (their name)."""
    plaintext_sha256: str | None = None
    plaintext_size: int | None = None
    decrypt_error: str | None = None

    @property
    def intact(self) -> bool:
        if not self.present or self.sha256 != (self.expected_sha256 or self.item_id):
            return False
        if self.decrypt_error is not None:
            return False
        return self.plaintext_sha256 is None or self.plaintext_sha256 == self.item_id

    def record(self) -> dict[str, Any]:
        """How a capture entry records the re-read of its stored copy."""
        out: dict[str, Any] = {"sha256": self.sha256, "reread": "after-sync"}
        if self.plaintext_sha256 is not None:
            out["plaintext_sha256"] = self.plaintext_sha256
            out["decrypted"] = True
        return out


def _new_hashers(algorithms: tuple[str, ...]) -> dict[str, hashlib._Hash]:
    return {name: hashlib.new(name) for name in algorithms}


def _hash_pipelined(fd: int, hashers: dict[str, hashlib._Hash]) -> int:
    """Read ahead in a second thread while this one hashes (both release the GIL), so a large
    file's disk time and hashing time overlap instead of adding up. Memory stays flat: a few
    fixed chunk buffers cycle between the two threads."""
    free: queue.Queue[bytearray | None] = queue.Queue()
    full: queue.Queue[tuple[bytearray, int] | BaseException] = queue.Queue()
    for _ in range(PIPELINE_BUFFERS):
        free.put(bytearray(PIPELINE_CHUNK))

    def reader() -> None:
        try:
            while True:
                buf = free.get()
                if buf is None:  # the hashing side stopped early
                    return
                n = os.readv(fd, [buf])
                full.put((buf, n))
                if n == 0:
                    return
        except BaseException as exc:  # handed to the hashing thread, re-raised there
            full.put(exc)

    thread = threading.Thread(target=reader, name="forensic-readahead", daemon=True)
    thread.start()
    total = 0
    try:
        while True:
            got = full.get()
            if isinstance(got, BaseException):
                raise got
            buf, n = got
            if n == 0:
                break
            chunk = memoryview(buf)[:n]
            for h in hashers.values():
                h.update(chunk)
            total += n
            free.put(buf)
    finally:
        free.put(None)
        thread.join()
    return total


def hash_stream(fd: int, algorithms: tuple[str, ...] = ("sha256",)) -> tuple[int, dict[str, str]]:
    """Hash everything readable from ``fd`` in one pass with reused buffers (flat memory)."""
    hashers = _new_hashers(algorithms)
    try:
        size = os.fstat(fd).st_size
    except OSError:
        size = 0
    if size >= PIPELINE_MIN:
        total = _hash_pipelined(fd, hashers)
        return total, {name: h.hexdigest() for name, h in hashers.items()}
    buf, view = _buffer(fd)
    total = 0
    while True:
        n = os.readv(fd, [buf])
        if n == 0:
            break
        chunk = view[:n]
        for h in hashers.values():
            h.update(chunk)
        total += n
    return total, {name: h.hexdigest() for name, h in hashers.items()}


Locator = Callable[[str], StoredObject | None]


class EvidenceStore:
    """The objects folder of one case (plain, or age ciphertext when ``crypto`` is given)."""

    def __init__(
        self,
        case_root: Path,
        crypto: crypt.CaseCrypto | None = None,
        locate: Locator | None = None,
    ) -> None:
        self.case_root = case_root
        self.objects = case_root / "objects" / "sha256"
        self.tmp = case_root / "tmp"
        self.crypto = crypto
        self._locate = locate
        self._objects_str = os.fspath(self.objects)
        self._made_dirs: set[str] = set()
        self._current: dict[str, StoredObject] = {}

    @property
    def encrypted(self) -> bool:
        return self.crypto is not None

    def object_path(self, sha256: str) -> Path:
        """The content address of bytes with this SHA-256 (an item's own bytes or ciphertext)."""
        return Path(self._object_fspath(sha256))

    def _object_fspath(self, sha256: str) -> str:
        # Plain strings on the per-file path: pathlib parses and interns every component.
        return f"{self._objects_str}/{sha256[:2]}/{sha256}"

    def relative_path(self, sha256: str) -> str:
        return f"objects/sha256/{sha256[:2]}/{sha256}"

    def current(self, item_id: str) -> StoredObject | None:
        """Where the item's bytes are now (the custody log says; plain cases: its address)."""
        found = self._current.get(item_id)
        if found is not None:
            return found
        if self._locate is not None:
            found = self._locate(item_id)
            if found is not None:
                return found
        if self.crypto is None:
            return StoredObject(item_id, self.relative_path(item_id), item_id, None, False)
        return None

    # -- writing -----------------------------------------------------------------------------
    def _open_temp(self) -> tuple[Path, int]:
        temp = self.tmp / f"{uuid.uuid4().hex}.part"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            try:
                out = os.open(temp, flags, PRIVATE_FILE)
            except FileNotFoundError:
                make_private_dirs(self.case_root, "tmp")
                out = os.open(temp, flags, PRIVATE_FILE)
        except OSError as exc:
            raise StoreError("store_write", path=str(temp), reason=exc.strerror) from exc
        return temp, out

    def stage_from_fd(
        self,
        src_fd: int,
        algorithms: tuple[str, ...],
        on_bytes: object = None,
        recipients: list[Any] | None = None,
    ) -> StagedObject:
        """Copy ``src_fd`` into a fresh temp file, hashing every chunk on its way through.

        In an encrypted case (or with ``recipients``) the temp file receives age ciphertext;
        the plaintext is hashed as it streams into the encrypter and never written.
        """
        if self.crypto is not None or recipients is not None:
            return self._stage_encrypted(src_fd, algorithms, on_bytes, recipients)
        algos = tuple(dict.fromkeys(("sha256", *algorithms)))
        temp, out = self._open_temp()
        hashers = _new_hashers(algos)
        buf, view = _buffer(src_fd)
        head = b""
        total = 0
        try:
            while True:
                n = os.readv(src_fd, [buf])
                if n == 0:
                    break
                chunk = view[:n]
                if total < SNIFF_BYTES:
                    head += bytes(chunk[: SNIFF_BYTES - total])
                for h in hashers.values():
                    h.update(chunk)
                written = 0
                while written < n:
                    written += os.write(out, chunk[written:])
                total += n
                if callable(on_bytes):
                    on_bytes(n)
        except OSError as exc:
            os.close(out)
            with contextlib.suppress(OSError):
                temp.unlink()
            if exc.errno == errno.ENOSPC:
                raise StoreError("disk_full", path=str(self.case_root)) from exc
            raise
        try:
            os.fchmod(out, SEALED_FILE)
        finally:
            os.close(out)
        return StagedObject(
            temp=temp,
            size=total,
            hashes={name: h.hexdigest() for name, h in hashers.items()},
            head=head,
        )

    def _stage_encrypted(
        self,
        src_fd: int,
        algorithms: tuple[str, ...],
        on_bytes: object,
        recipients: list[Any] | None,
    ) -> StagedObject:
        algos = tuple(dict.fromkeys(("sha256", *algorithms)))
        hashers = _new_hashers(algos)
        reader = crypt.HashingReader(
            src_fd, hashers, SNIFF_BYTES, on_bytes if callable(on_bytes) else None
        )
        temp, out = self._open_temp()
        writer = crypt.HashingWriter(out)
        recips = recipients if recipients is not None else self.crypto.recipients  # type: ignore[union-attr]
        try:
            crypt.encrypt_to(reader, writer, recips)
        except OSError as exc:
            os.close(out)
            with contextlib.suppress(OSError):
                temp.unlink()
            if exc.errno == errno.ENOSPC:
                raise StoreError("disk_full", path=str(self.case_root)) from exc
            raise
        except BaseException:
            os.close(out)
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        try:
            os.fchmod(out, SEALED_FILE)
        finally:
            os.close(out)
        return StagedObject(
            temp=temp,
            size=reader.total,
            hashes={name: h.hexdigest() for name, h in hashers.items()},
            head=reader.head,
            object_sha256=writer.sha256.hexdigest(),
            object_size=writer.total,
            recipients=tuple(str(r) for r in recips),
        )

    def commit(self, staged: StagedObject, *, dedupe: bool = True) -> bool:
        """Move a staged (already durable) temp file to its content address.

        Returns True when the object is new, False when the item was already stored (for
        ciphertext: the same plaintext is already in the case, under its own ciphertext).
        """
        if staged.encrypted and dedupe:
            existing = self.current(staged.item_id)
            if existing is not None and (self.case_root / existing.rel).is_file():
                os.unlink(staged.temp)
                self._current[staged.item_id] = existing
                return False
        final = self._object_fspath(staged.stored_sha256)
        if staged.encrypted:
            self._current[staged.item_id] = StoredObject(
                staged.item_id,
                self.relative_path(staged.stored_sha256),
                staged.stored_sha256,
                staged.object_size,
                True,
            )
        if os.path.lexists(final):
            os.unlink(staged.temp)
            return False
        parent = os.path.dirname(final)
        if parent not in self._made_dirs:
            make_private_dirs(self.case_root, parent)  # 0700, and never through a link
            self._made_dirs.add(parent)
        os.rename(staged.temp, final)  # already read-only (stage_from_fd)
        return True

    def discard(self, staged: StagedObject) -> None:
        with contextlib.suppress(OSError):
            staged.temp.unlink()

    def stored(self, staged: StagedObject) -> StoredObject:
        """Where a committed staged object lies (for ciphertext: maybe an earlier object)."""
        if staged.encrypted:
            return self._current[staged.item_id]
        rel = self.relative_path(staged.item_id)
        return StoredObject(staged.item_id, rel, staged.item_id, staged.size, False)

    def stored_path(self, staged: StagedObject) -> Path:
        return self.case_root / self.stored(staged).rel

    def object_fields(self, staged: StagedObject) -> dict[str, Any]:
        """The ``object`` (and for ciphertext ``encrypted``) fields of a capture entry."""
        obj = self.stored(staged)
        fields: dict[str, Any] = {"object": obj.rel}
        if obj.encrypted:
            fields["encrypted"] = {
                "scheme": crypt.SCHEME,
                "sha256": obj.sha256,
                "size": obj.size,
                "plaintext_sha256": staged.item_id,
            }
        return fields

    def verify_staged(self, staged: StagedObject) -> ObjectCheck:
        """Cold re-read of a committed object; ciphertext is also decrypted and its plaintext
        re-hashed, and the plaintext size must be what was read from the source."""
        check = self.verify_stored(self.stored(staged), decrypt=True, note=False)
        if check.plaintext_size is not None and check.plaintext_size != staged.size:
            return ObjectCheck(
                check.item_id,
                check.present,
                check.size,
                check.sha256,
                check.expected_sha256,
                check.plaintext_sha256,
                check.plaintext_size,
                "plaintext size differs",
            )
        if not staged.encrypted and check.size != staged.size:
            return ObjectCheck(check.item_id, True, check.size, "size differs")
        return check

    # -- reading -----------------------------------------------------------------------------
    def verify_object(self, item_id: str, *, cold: bool = True) -> ObjectCheck:
        """Re-read and re-hash one plaintext object; ``cold`` asks the kernel to read it from
        disk."""
        try:
            fd = open_in_case(self.case_root, self.relative_path(item_id))
        except FileNotFoundError:
            return ObjectCheck(ItemId(item_id), False, None, None)
        try:
            if cold:
                drop_cache(fd)
            size, digests = hash_stream(fd)
        finally:
            os.close(fd)
        return ObjectCheck(ItemId(item_id), True, size, digests["sha256"])

    def verify_stored(
        self, obj: StoredObject, *, cold: bool = True, decrypt: bool = False, note: bool = True
    ) -> ObjectCheck:
        """Re-hash an object as stored; ciphertext is checked against its name without any
        key, and with ``decrypt`` its plaintext is re-hashed too (needs the case identity)."""
        if not obj.encrypted:
            return self.verify_object(obj.item_id, cold=cold)
        try:
            fd = open_in_case(self.case_root, obj.rel)
        except FileNotFoundError:
            return ObjectCheck(ItemId(obj.item_id), False, None, None, obj.sha256)
        try:
            if cold:
                drop_cache(fd)
            size, digests = hash_stream(fd)
        finally:
            os.close(fd)
        if not decrypt or digests["sha256"] != obj.sha256:
            return ObjectCheck(ItemId(obj.item_id), True, size, digests["sha256"], obj.sha256)
        sink = crypt.DigestSink()
        error: str | None = None
        try:
            with os.fdopen(open_in_case(self.case_root, obj.rel), "rb") as fh:
                self._crypto().decrypt_stream(fh, sink)
        except crypt.CryptError as exc:
            if exc.key != "decrypt_failed":
                raise
            error = "age decryption failed"
        if note:  # the write path's own decrypt-check is no access to the evidence
            self._crypto().session.note_decrypted(self.case_root, obj.item_id)
        return ObjectCheck(
            ItemId(obj.item_id),
            True,
            size,
            digests["sha256"],
            obj.sha256,
            None if error else sink.sha256.hexdigest(),
            None if error else sink.total,
            error,
        )

    def _crypto(self) -> crypt.CaseCrypto:
        if self.crypto is None:
            raise crypt.CryptError("not_encrypted", path=str(self.case_root))
        return self.crypto

    @contextlib.contextmanager
    def open_plaintext(self, item_id: str) -> Iterator[BinaryIO]:
        """The item's bytes as a binary file: the object itself, or (encrypted case) its
        decryption in an anonymous in-memory file, checked against the item's SHA-256.

        Every decryption is noted for the access log (``access`` entry)."""
        obj = self.current(item_id)
        if obj is None:
            raise crypt.CryptError("object_missing", exit_code=EXIT_INTEGRITY, path=item_id)
        if not obj.encrypted:
            with os.fdopen(open_in_case(self.case_root, obj.rel), "rb") as fh:
                yield fh
            return
        with self._decrypted_fd(obj) as fd, os.fdopen(os.dup(fd), "rb") as fh:
            yield fh

    @contextlib.contextmanager
    def plaintext_path(self, item_id: str) -> Iterator[Path]:
        """A path to read the item's bytes from: the object (plain case), or a
        ``/proc/self/fd/N`` memfd holding the checked decryption (encrypted case)."""
        obj = self.current(item_id)
        if obj is None:
            raise crypt.CryptError("object_missing", exit_code=EXIT_INTEGRITY, path=item_id)
        if not obj.encrypted:
            # a tool opens this path itself: it is checked for links first, to the last part
            yield case_path(self.case_root, obj.rel, may_be_missing=False)
            return
        with self._decrypted_fd(obj) as fd:
            # /proc/<pid>/fd/N, not /proc/self: child processes (ffmpeg, exiftool) can open it.
            yield Path(f"/proc/{os.getpid()}/fd/{fd}")

    @contextlib.contextmanager
    def _decrypted_fd(self, obj: StoredObject) -> Iterator[int]:
        crypto = self._crypto()
        with crypt.memfd(obj.item_id[:16]) as fd:
            writer = crypt.HashingWriter(fd)
            try:
                with os.fdopen(open_in_case(self.case_root, obj.rel), "rb") as fh:
                    crypto.decrypt_stream(fh, writer)
            except FileNotFoundError as exc:
                raise crypt.CryptError(
                    "object_missing", exit_code=EXIT_INTEGRITY, path=obj.rel
                ) from exc
            self._crypto().session.note_decrypted(self.case_root, obj.item_id)
            if writer.sha256.hexdigest() != obj.item_id:
                raise crypt.CryptError("plaintext_mismatch", exit_code=EXIT_INTEGRITY, path=obj.rel)
            os.lseek(fd, 0, os.SEEK_SET)
            yield fd

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """Every file under objects/, with the name it claims (its relative path)."""
        if not self.objects.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.objects):
            for name in files:
                full = Path(dirpath) / name
                yield full.relative_to(self.case_root).as_posix(), full
