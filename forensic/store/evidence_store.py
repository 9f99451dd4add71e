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
import stat
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from forensic._internal.fsio import drop_cache
from forensic.errors import StoreError

ItemId = NewType("ItemId", str)
"""SHA-256 of an item's content, lower-case hex."""

CHUNK_SIZE = 1 << 20
SUPPORTED_HASHES = ("md5", "sha1", "sha256", "sha512")
SNIFF_BYTES = 8192
PIPELINE_MIN = 16 << 20
"""Files at least this large are re-hashed with a read-ahead thread (see _hash_pipelined)."""
PIPELINE_CHUNK = 4 << 20
PIPELINE_BUFFERS = 3
_local = threading.local()


def _buffer() -> tuple[bytearray, memoryview]:
    """One reused chunk buffer per thread: no 1 MiB allocation per file."""
    buf: tuple[bytearray, memoryview] | None = getattr(_local, "buf", None)
    if buf is None:
        raw = bytearray(CHUNK_SIZE)
        buf = (raw, memoryview(raw))
        _local.buf = buf
    return buf


@dataclass(frozen=True)
class StagedObject:
    """Bytes copied into the case's temp area and hashed in the same pass."""

    temp: Path
    size: int
    hashes: dict[str, str]
    head: bytes

    @property
    def item_id(self) -> ItemId:
        return ItemId(self.hashes["sha256"])


@dataclass(frozen=True)
class ObjectCheck:
    """Result of re-hashing one stored object."""

    item_id: ItemId
    present: bool
    size: int | None
    sha256: str | None

    @property
    def intact(self) -> bool:
        return self.present and self.sha256 == self.item_id


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
    buf, view = _buffer()
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


class EvidenceStore:
    """The objects folder of one case."""

    def __init__(self, case_root: Path) -> None:
        self.case_root = case_root
        self.objects = case_root / "objects" / "sha256"
        self.tmp = case_root / "tmp"
        self._made_dirs: set[Path] = set()

    def object_path(self, item_id: str) -> Path:
        return self.objects / item_id[:2] / item_id

    def relative_path(self, item_id: str) -> str:
        return f"objects/sha256/{item_id[:2]}/{item_id}"

    def has(self, item_id: str) -> bool:
        return self.object_path(item_id).is_file()

    def stage_from_fd(
        self,
        src_fd: int,
        algorithms: tuple[str, ...],
        on_bytes: object = None,
    ) -> StagedObject:
        """Copy ``src_fd`` into a fresh temp file, hashing every chunk on its way through."""
        algos = tuple(dict.fromkeys(("sha256", *algorithms)))
        temp = self.tmp / f"{uuid.uuid4().hex}.part"
        hashers = _new_hashers(algos)
        buf, view = _buffer()
        head = b""
        total = 0
        try:
            try:
                out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileNotFoundError:
                self.tmp.mkdir(parents=True, exist_ok=True)
                out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise StoreError("store_write", path=str(temp), reason=exc.strerror) from exc
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
            os.fchmod(out, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        finally:
            os.close(out)
        return StagedObject(
            temp=temp,
            size=total,
            hashes={name: h.hexdigest() for name, h in hashers.items()},
            head=head,
        )

    def commit(self, staged: StagedObject) -> bool:
        """Move a staged (already durable) temp file to its content address.

        Returns True when the object is new, False when identical content was already stored.
        """
        final = self.object_path(staged.item_id)
        if os.path.lexists(final):
            os.unlink(staged.temp)
            return False
        parent = final.parent
        if parent not in self._made_dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(parent)
        os.rename(staged.temp, final)  # already read-only (stage_from_fd)
        return True

    def discard(self, staged: StagedObject) -> None:
        with contextlib.suppress(OSError):
            staged.temp.unlink()

    def verify_object(self, item_id: str, *, cold: bool = True) -> ObjectCheck:
        """Re-read and re-hash one object; ``cold`` asks the kernel to read it from disk."""
        path = self.object_path(item_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return ObjectCheck(ItemId(item_id), False, None, None)
        try:
            if cold:
                drop_cache(fd)
            size, digests = hash_stream(fd)
        finally:
            os.close(fd)
        return ObjectCheck(ItemId(item_id), True, size, digests["sha256"])

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """Every file under objects/, with the name it claims (its relative path)."""
        if not self.objects.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.objects):
            for name in files:
                full = Path(dirpath) / name
                yield full.relative_to(self.case_root).as_posix(), full
