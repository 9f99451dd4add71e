"""Files and folders as capture sources, with byte-exact names and careful symlink handling."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator

from forensic._internal.paths import path_record
from forensic.capture.interface import CaptureGroup, GroupId, PlannedItem, Source
from forensic.capture.sources import PathSource, SourceRegistry


def _special_reason(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special"


def _inside(path: bytes, root: bytes) -> bool:
    root = root.rstrip(b"/") or b"/"
    return path == root or path.startswith(root + b"/") or root == b"/"


class FileSource(Source):
    """A single regular file (or a link to one)."""

    kind = "file"

    def __init__(self, path: bytes, follow_symlinks: bool) -> None:
        self.path = path
        self.follow_symlinks = follow_symlinks

    @classmethod
    def detect(cls, path: bytes) -> bool:
        return not os.path.isdir(path) or os.path.islink(path)

    def groups(self) -> list[CaptureGroup]:
        return []

    def plan(self) -> Iterator[PlannedItem]:
        yield classify(self.path, None, None, self.follow_symlinks, tree_root=None)


class FolderSource(Source):
    """A folder, walked recursively; its structure is kept as one capture group."""

    kind = "folder"

    def __init__(self, path: bytes, follow_symlinks: bool) -> None:
        self.root = os.path.abspath(path)
        self.follow_symlinks = follow_symlinks
        self.group_id = GroupId(f"group-{uuid.uuid4().hex}")

    @classmethod
    def detect(cls, path: bytes) -> bool:
        return os.path.isdir(path) and not os.path.islink(path)

    def groups(self) -> list[CaptureGroup]:
        return [CaptureGroup(self.group_id, "folder", self.root, {"root": path_record(self.root)})]

    def plan(self) -> Iterator[PlannedItem]:
        real_root = os.path.realpath(self.root)
        stack = [self.root]
        while stack:
            folder = stack.pop()
            # Only the names are kept (not one DirEntry per file, which holds its name, path
            # and stat): the listing of a 100,000-file folder lives while its files are
            # acquired. Popped from the end of a reversed sort, so it shrinks as it goes.
            names: list[bytes] = []
            subfolders: list[bytes] = []
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        if entry.is_dir(follow_symlinks=False):
                            subfolders.append(entry.path)
                        else:
                            names.append(entry.name)
            except OSError as exc:
                yield PlannedItem(
                    folder,
                    "failed",
                    os.path.relpath(folder, self.root),
                    self.group_id,
                    reason="unreadable",
                    reason_params=(("reason", exc.strerror or str(exc)),),
                )
                continue
            names.sort(reverse=True)
            subfolders.sort()
            rel_folder = os.path.relpath(folder, self.root)
            prefix = b"" if rel_folder == b"." else rel_folder + b"/"
            while names:
                name = names.pop()
                path = os.path.join(folder, name)
                yield classify(path, prefix + name, self.group_id, self.follow_symlinks, real_root)
            stack.extend(reversed(subfolders))


def classify(
    path: bytes,
    relpath: bytes | None,
    group: GroupId | None,
    follow: bool,
    tree_root: bytes | None,
) -> PlannedItem:
    """Decide what to do with one path without reading its content."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return PlannedItem(path, "failed", relpath, group, reason="missing")
    except OSError as exc:
        return PlannedItem(
            path,
            "failed",
            relpath,
            group,
            reason="unreadable",
            reason_params=(("reason", exc.strerror or str(exc)),),
        )
    if stat.S_ISREG(st.st_mode):
        return PlannedItem(path, "file", relpath, group, size=st.st_size)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        if not follow:
            return PlannedItem(path, "symlink", relpath, group, link_target=target)
        real = os.path.realpath(path)
        # A link the user named directly is followed; inside a folder, never out of the tree.
        if tree_root is not None and not _inside(real, tree_root):
            return PlannedItem(
                path,
                "symlink",
                relpath,
                group,
                link_target=target,
                reason="link_outside_tree",
            )
        try:
            target_st = os.stat(real)
        except OSError:
            return PlannedItem(
                path, "symlink", relpath, group, link_target=target, reason="link_dangling"
            )
        if not stat.S_ISREG(target_st.st_mode):
            return PlannedItem(
                path, "symlink", relpath, group, link_target=target, reason="link_not_file"
            )
        return PlannedItem(
            real,
            "file",
            relpath,
            group,
            size=target_st.st_size,
            link_target=target,
            followed_link=path,
        )
    return PlannedItem(path, "skipped", relpath, group, reason=_special_reason(st.st_mode))


class FilesAndFolders(PathSource):
    """``--source files``: any path as plain files and folders (what no export format claims)."""

    name = "files"
    catch_all = True

    def claim(self, path: bytes, follow_symlinks: bool, named: bool) -> Source:
        if FolderSource.detect(path):
            return FolderSource(path, follow_symlinks)
        return FileSource(path, follow_symlinks)


def register(registry: SourceRegistry) -> None:
    registry.register(FilesAndFolders())
