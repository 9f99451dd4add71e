"""How a log entry vouches for what produced it and for the case files it wrote."""

from __future__ import annotations

import hashlib
import platform
import socket
from pathlib import Path
from typing import Any

from forensic import TOOL_NAME, __version__


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


def file_record(case_root: Path, path: Path) -> dict[str, Any]:
    """How a log entry vouches for a case file it wrote (reports, tokens, derived data)."""
    return {
        "path": path.relative_to(case_root).as_posix(),
        "sha256": file_sha256(path),
        "size": path.stat().st_size,
    }
