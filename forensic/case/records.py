"""How a log entry vouches for what produced it and for the case files it wrote."""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from pathlib import Path
from typing import Any

from forensic import TOOL_NAME, __version__
from forensic._internal.casefs import open_in_case


def tool_record() -> dict[str, str]:
    """Every record says which versions produced it."""
    import cryptography

    return {
        "name": TOOL_NAME,
        "version": __version__,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
    }


def host_name() -> str:
    return socket.gethostname()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def case_file_digest(case_root: Path, path: Path | str) -> tuple[str, int]:
    """SHA-256 and size of a case file, read without following a link (a link, hard link or
    special file raises :class:`forensic._internal.casefs.CaseLinkError`)."""
    h = hashlib.sha256()
    size = 0
    with os.fdopen(open_in_case(case_root, path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def file_record(case_root: Path, path: Path) -> dict[str, Any]:
    """How a log entry vouches for a case file it wrote (reports, tokens, derived data)."""
    sha, size = case_file_digest(case_root, path)
    return {"path": path.relative_to(case_root).as_posix(), "sha256": sha, "size": size}
