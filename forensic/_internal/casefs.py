"""Case-relative file access that never follows a link and never leaves the case.

A case folder may have been handled by someone else (a copy, a shared workstation): any path
inside it can be a symbolic link, a hard link to a file elsewhere, a fifo or a device. Every
read of evidence, and every write, rename, delete and lock in a case goes through here:

* :func:`open_in_case` walks the path one component at a time from the case folder with
  directory descriptors and ``O_NOFOLLOW``: a link anywhere on the way is refused, never
  followed (no check-then-use race on the folders);
* :func:`case_path` checks an existing path the same way (``lstat`` of every component) before
  a rename or delete;
* :func:`make_private_dirs` creates folders 0700 whatever the umask, refusing links;
* :func:`entry_flaw` names what is wrong with one directory entry (``verify`` reports it).

Modes are set explicitly, never left to the umask: folders 0700, files 0600 while written and
0400 once sealed, the case's ``verify.sh`` 0500.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from forensic._internal.fsio import open_beneath
from forensic.errors import EXIT_INTEGRITY, ForensicError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SEALED_FILE = 0o400
SEALED_SCRIPT = 0o500
SHARED_BITS = 0o077
"""Group and other bits: none of them is set on anything a case or an export holds."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class CaseLinkError(ForensicError):
    """A link or special file where a case file or folder must be (an integrity problem)."""

    exit_code = EXIT_INTEGRITY

    def diagnostics(self, lang: str = "en") -> str:
        from forensic.i18n import message

        return message(f"error.files.{self.key}", lang, **self.params)


def entry_flaw(st: os.stat_result) -> str | None:
    """What is wrong with a directory entry (from ``lstat``): ``symlink``, ``special_file``
    (fifo, device, socket), ``hard_link`` (a regular file with another name somewhere), or None."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        return "special_file"
    if st.st_nlink > 1:
        return "hard_link"
    return None


def relative(root: Path, path: Path | str) -> str:
    """``path`` as a clean case-relative path; refuses one that leaves the case."""
    if isinstance(path, str) and path and path[0] != "/" and ".." not in path.split("/"):
        return path.strip("/")  # the common case, without pathlib (per object on verify)
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            p = Path(os.path.abspath(p)).relative_to(Path(os.path.abspath(root)))
    parts = p.parts
    if ".." in parts or p.is_absolute():
        raise CaseLinkError("outside", path=str(path))
    return p.as_posix() if parts else ""


def _refuse(rel: str, flaw: str) -> CaseLinkError:
    return CaseLinkError(flaw, path=rel)


def _open_dir_chain(root: Path, parts: tuple[str, ...], rel: str) -> int:
    """A descriptor of the folder ``root/parts...``, reached without following any link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts):
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if _is_link_error(exc, fd, part):
                    raise _refuse("/".join(parts[: i + 1]) or rel, "symlink") from exc
                raise
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link_error(exc: OSError, dir_fd: int, name: str) -> bool:
    import errno

    if exc.errno == errno.ELOOP:
        return True
    if exc.errno == errno.ENOTDIR:
        with contextlib.suppress(OSError):
            return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    return False


def open_in_case(
    root: Path, path: Path | str, flags: int = os.O_RDONLY, mode: int = PRIVATE_FILE
) -> int:
    """Open a case file by its path relative to ``root``, never through a link.

    Anything but a regular file with one name is refused (a fifo is opened non-blocking, so it
    cannot hang, then refused). One ``openat2`` with ``RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH``
    where the kernel has it, else a walk through folder descriptors with ``O_NOFOLLOW``.
    Raises :class:`CaseLinkError` for a link or special file, ``OSError``
    (``FileNotFoundError``…) otherwise."""
    rel = relative(root, path)
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    fd = _open_fast(root, rel, flags, mode)
    if fd is None:
        *folders, name = rel.split("/")
        dir_fd = _open_dir_chain(root, tuple(folders), rel)
        try:
            try:
                fd = os.open(name, flags, mode, dir_fd=dir_fd)
            except OSError as exc:
                if _is_link_error(exc, dir_fd, name):
                    raise _refuse(rel, "symlink") from exc
                raise
        finally:
            os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", rel)
        flaw = entry_flaw(st)
        if flaw is not None:
            raise _refuse(rel, flaw)
        # O_NONBLOCK stays: a regular file ignores it, and it kept a fifo from blocking
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_fast(root: Path, rel: str, flags: int, mode: int) -> int | None:
    """One ``openat2`` for the whole path; None when it is not available or refused a link
    (the walk then names the component that is one)."""
    import errno

    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return open_beneath(root_fd, rel, flags, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EXDEV, errno.ENOTDIR):
            return None
        raise
    finally:
        os.close(root_fd)


def read_case_bytes(root: Path, path: Path | str) -> bytes:
    """A whole case file's bytes, read without following a link."""
    fd = open_in_case(root, path)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def case_path(root: Path, path: Path | str, *, may_be_missing: bool = True) -> Path:
    """The absolute path of a case entry after checking that no component of it, from the
    case folder down, is a link, and that it is a folder or a regular file with one name.

    For renames, deletes and ``os.walk``: where a descriptor cannot be used."""
    rel = relative(root, path)
    parts = rel.split("/") if rel else []
    cur = root
    for i, part in enumerate(parts):
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            if may_be_missing:
                return root / rel
            raise
        flaw = entry_flaw(st)
        if flaw is None and i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            flaw = "special_file"
        if flaw is not None:
            raise _refuse("/".join(parts[: i + 1]), flaw)
    return root / rel


def make_private_dirs(root: Path, path: Path | str) -> Path:
    """Create the folder ``path`` inside the case and any missing parents, each 0700 whatever
    the umask; a link on the way is refused."""
    rel = relative(root, path)
    cur = root
    for part in rel.split("/") if rel else ():
        cur = cur / part
        try:
            os.mkdir(cur, PRIVATE_DIR)
        except FileExistsError:
            st = os.lstat(cur)
            if not stat.S_ISDIR(st.st_mode):
                raise _refuse(relative(root, cur), entry_flaw(st) or "special_file") from None
            continue
        os.chmod(cur, PRIVATE_DIR)
    return cur


def make_private_dir(path: Path) -> Path:
    """One folder outside a case (an export's staging folder): 0700 whatever the umask."""
    os.mkdir(path, PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def remove_entry(root: Path, path: Path | str) -> bool:
    """Delete a case file, or a folder and what is in it, never through a link (a link on the
    way raises :class:`CaseLinkError`; a link *as* the entry is removed itself, its target left
    alone). False when nothing was there."""
    import shutil

    rel = relative(root, path)
    parent, _, name = rel.rpartition("/")
    target = (case_path(root, parent) if parent else root) / name
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(target)  # fd-based on Linux: it never follows a link inside
    else:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                os.chmod(target, PRIVATE_FILE)
        os.unlink(target)
    return True


def remove_outside(path: Path) -> bool:
    """Delete a file or folder this tool made outside any case (a partial export, a report's
    work folder), without following a link: a link itself is unlinked, never its target."""
    import shutil

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return True


def seal_tree(path: Path) -> None:
    """Make what this tool wrote under ``path`` private: folders 0700, files 0400 (scripts
    that were executable 0500). For trees another library wrote, whatever the umask was."""
    for dirpath, _dirs, names in os.walk(path):
        os.chmod(dirpath, PRIVATE_DIR)
        for name in names:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                os.chmod(full, SEALED_SCRIPT if st.st_mode & stat.S_IXUSR else SEALED_FILE)


def keep_private(root: Path) -> None:
    """Close a case folder to other accounts (0700), also one an older version left 0755."""
    st = os.stat(root)
    if st.st_mode & SHARED_BITS and st.st_uid == os.geteuid():
        os.chmod(root, PRIVATE_DIR)
