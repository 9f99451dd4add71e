"""Streaming hash paths of the store: the read-ahead pipeline and the plain loop agree."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from forensic.store import evidence_store as es


@pytest.mark.parametrize("size", [0, 1, es.CHUNK_SIZE + 7, es.PIPELINE_MIN + es.PIPELINE_CHUNK + 3])
def test_hash_stream_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        total, digests = es.hash_stream(fd, ("sha256", "md5"))
    finally:
        os.close(fd)
    assert total == size
    assert digests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def test_pipelined_read_error_propagates(tmp_path: Path) -> None:
    path = tmp_path / "d"
    path.mkdir()
    fd = os.open(path, os.O_RDONLY)  # reading a folder fails with EISDIR in the reader thread
    try:
        with pytest.raises(IsADirectoryError):
            es._hash_pipelined(fd, {"sha256": hashlib.sha256()})
    finally:
        os.close(fd)


def test_verify_object_detects_altered_big_object(tmp_path: Path) -> None:
    store = es.EvidenceStore(tmp_path)
    data = random.Random(3).randbytes(es.PIPELINE_MIN + 5)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    fd = os.open(src, os.O_RDONLY)
    try:
        staged = store.stage_from_fd(fd, ())
    finally:
        os.close(fd)
    assert store.commit(staged)
    assert store.verify_object(staged.item_id).intact
    obj = store.object_path(staged.item_id)
    os.chmod(obj, 0o600)
    with obj.open("r+b") as fh:
        fh.seek(es.PIPELINE_CHUNK + 1)
        fh.write(b"\x00" if data[es.PIPELINE_CHUNK + 1] else b"\x01")
    check = store.verify_object(staged.item_id)
    assert check.present and not check.intact and check.size == len(data)


@pytest.mark.parametrize("size", [0, 5000, es.PIPELINE_MIN + 11])
def test_staged_copy_is_the_source_with_its_hashes(tmp_path: Path, size: int) -> None:
    """Small and big files alike (a copy loop of 1 MiB chunks):
    the staged bytes, every hash and the sniffed head are the source's."""
    store = es.EvidenceStore(tmp_path)
    data = random.Random(size).randbytes(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    fd = os.open(src, os.O_RDONLY)
    try:
        staged = store.stage_from_fd(fd, ("md5", "sha1", "sha512"))
    finally:
        os.close(fd)
    assert staged.temp.read_bytes() == data
    assert staged.size == size and staged.head == data[: es.SNIFF_BYTES]
    assert staged.hashes == {n: hashlib.new(n, data).hexdigest() for n in staged.hashes}
    assert set(staged.hashes) == {"sha256", "md5", "sha1", "sha512"}
