"""One writer per case: an advisory lock on ``.lock`` that a second process waits for briefly."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from forensic._internal.casefs import PRIVATE_FILE, open_in_case
from forensic.errors import LockError

DEFAULT_TIMEOUT = 5.0


def lock_timeout() -> float:
    try:
        return float(os.environ.get("FORENSIC_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextlib.contextmanager
def case_lock(case_root: Path, timeout: float | None = None) -> Iterator[None]:
    timeout = lock_timeout() if timeout is None else timeout
    # Never through a link: a planted ``.lock`` symlink must not make us truncate its target.
    fd = open_in_case(case_root, ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError("case_locked", path=str(case_root), seconds=timeout) from None
                time.sleep(0.05)
        with contextlib.suppress(OSError):  # the holder's pid is a courtesy, not a requirement
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
