"""The case's own ``verify.sh``: proof that needs only POSIX sh, sha256sum and openssl."""

from __future__ import annotations

from forensic.i18n import templates_dir


def verify_script() -> bytes:
    return (templates_dir() / "verify.sh").read_bytes()
