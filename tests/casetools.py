"""Helpers shared by the CLI tests: odd evidence trees, the log on disk, verify.sh."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

ODD_NAMES: tuple[bytes, ...] = (
    b"with space.txt",
    b"  leading and trailing spaces  ",
    b'double"quote.txt',
    b"single'quote.txt",
    b"back\\slash.txt",
    b"new\nline.txt",
    b"tab\there.txt",
    "피해자_증거_사진.jpg".encode(),
    "보고서 최종(수정).pdf".encode(),
    "evil\u202egpj.exe".encode(),
    "emoji_\U0001f4f7.png".encode(),
    b"caf\xe9.bin",  # Latin-1, not valid UTF-8
    b"\xff\xfe raw bytes",
    b"-dash-first",
    b"*star?.txt",
    b"$(not a command)",
)


def make_tree(root: Path) -> dict[bytes, bytes]:
    """A tree of >= 50 files with odd names, nesting, duplicates and empty files.

    Returns {absolute path bytes: content}.
    """
    files: dict[bytes, bytes] = {}
    base = os.fsencode(root)
    folders = [b"", b"nested", b"nested/deeper/deepest", "한글 폴더".encode(), b"dir \xe9"]
    for folder in folders:
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    n = 0
    for folder in folders:
        for name in ODD_NAMES[:10] if folder else ODD_NAMES:
            n += 1
            content = f"evidence {n} in {folder!r}/{name!r}\n".encode() * (n % 7 + 1)
            files[os.path.join(base, folder, name)] = content
    # Duplicates: the same bytes under different names and folders.
    dup = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    for p in (b"dup-a.png", b"nested/dup-b.png", "한글 폴더/복사본.png".encode()):
        files[os.path.join(base, p)] = dup
    # Empty files (two, so that the empty object is also a duplicate).
    files[os.path.join(base, b"empty.txt")] = b""
    files[os.path.join(base, b"nested/deeper/also empty")] = b""
    # One larger file over several read chunks.
    files[os.path.join(base, b"nested/big.bin")] = os.urandom(3 * (1 << 20) + 123)
    for path, content in files.items():
        with open(path, "wb") as fh:
            fh.write(content)
    return files


def snapshot(files: dict[bytes, bytes]) -> dict[bytes, tuple[str, int]]:
    """SHA-256 and mtime_ns of every original (to prove capture left them alone)."""
    out = {}
    for path in files:
        st = os.stat(path)
        with open(path, "rb") as fh:
            out[path] = (hashlib.sha256(fh.read()).hexdigest(), st.st_mtime_ns)
    return out


def coreutils_hash(tool: str, path: bytes) -> str:
    """The digest that the real coreutils tool prints for one file."""
    with open(path, "rb") as fh:
        res = subprocess.run([tool], stdin=fh, capture_output=True, check=True)
    return res.stdout.split()[0].decode("ascii")


def log_lines(case: Path) -> list[bytes]:
    return (case / "custody" / "log.jsonl").read_bytes().split(b"\n")[:-1]


def log_entries(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log_lines(case)]


def b64path(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["path_b64"])


def run_verify_sh(case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(case / "verify.sh")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def make_writable(path: Path) -> None:
    """Objects and case files are read-only; tamper tests need to write them."""
    os.chmod(path, 0o644)
