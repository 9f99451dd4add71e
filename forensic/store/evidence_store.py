"""Content-addressed, write-once storage of evidence bytes.

Objects live at ``objects/sha256/<2 hex>/<64 hex>``, are made read-only, and are never rewritten:
identical content is stored once, each acquisition of it is recorded in the custody log.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
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


def hash_stream(fd: int, algorithms: tuple[str, ...] = ("sha256",)) -> tuple[int, dict[str, str]]:
    """Hash everything readable from ``fd`` in one pass with a reused buffer (flat memory)."""
    hashers = _new_hashers(algorithms)
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
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
        self.tmp.mkdir(parents=True, exist_ok=True)
        temp = self.tmp / f"{uuid.uuid4().hex}.part"
        hashers = _new_hashers(algos)
        buf = bytearray(CHUNK_SIZE)
        view = memoryview(buf)
        head = b""
        total = 0
        try:
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
        if final.exists():
            staged.temp.unlink()
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staged.temp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.rename(staged.temp, final)
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
