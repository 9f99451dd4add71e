"""Durable file-system primitives: atomic writes, fsync of files and folders."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import uuid
from pathlib import Path

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _syncfs = _libc.syncfs
except (OSError, AttributeError):  # not Linux
    _libc = None


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


SYS_OPENAT2 = 437  # the same number on every Linux architecture (5.6 and later)
RESOLVE_NO_LINKS = 0x02 | 0x04 | 0x08
"""RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH."""


def open_beneath(dir_fd: int, rel: str, flags: int, mode: int = 0) -> int | None:
    """``openat2`` of ``rel`` below ``dir_fd`` refusing any symbolic link on the way (ELOOP)
    or a path that leaves it (EXDEV): one system call for a whole path. None where the
    kernel or the C library has no ``openat2``; the caller then walks the path itself."""
    if _libc is None:
        return None
    how = _OpenHow(flags, mode if flags & os.O_CREAT else 0, RESOLVE_NO_LINKS)
    fd = int(_libc.syscall(SYS_OPENAT2, dir_fd, os.fsencode(rel), ctypes.byref(how), 24))
    if fd >= 0:
        return fd
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EPERM, errno.EINVAL):  # old kernel, seccomp filter, flags
        return None
    raise OSError(err, os.strerror(err), rel)


def fsync_dir(path: Path) -> None:
    """Make a rename or create inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(path: Path, files: list[Path]) -> None:
    """Flush every pending write on the file system holding ``path``.

    One ``syncfs`` replaces thousands of per-file ``fsync`` calls (group commit); where it is not
    available each file is fsynced.
    """
    if _libc is not None:
        fd = os.open(path, os.O_RDONLY)
        try:
            if _syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    folders = {path}
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders.add(f.parent)  # the rename into objects/sha256/xx/ must be durable too
    for folder in folders:
        fsync_dir(folder)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half.

    ``mode`` is set explicitly (never left to the umask); the temporary name is created with
    ``O_EXCL | O_NOFOLLOW``, and the rename replaces a link at ``path`` rather than following it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def drop_cache(fd: int) -> None:
    """Ask the kernel to forget cached pages, so a re-read comes from the disk where it can."""
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
