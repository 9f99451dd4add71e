"""Plaintext a step writes outside the evidence store: announced before, removed after.

An export (its staging folder, its zip being written, the bag it replaces) and a report (its
work folder in RAM, the temporary name of its ``--out`` copy) put readable evidence outside the
case. A SIGKILL there would leave it behind with no entry. So, before the first byte, the step
writes an *outside intent* ``tmp/<run>.outside.json`` naming every such path, signed with the
examiner key (a planted intent cannot make recovery delete anything), and holds an ``flock``
on it while it lives. Once done (its entry committed, its work files removed) it unlinks the
intent, then lets go of the lock.

Recovery (:func:`forensic.case.step.recover`, at ``forensic recover`` and at the start of every
writing verb) takes an intent whose lock it can get (its writer is dead), removes the paths
that are still there (never through a link) and logs them in its ``recover`` entry
(``plaintext_removed``). An output the step finished (the bag at ``--out``, the report copy) is
removed too when the step's entry was never committed, and only if it is still the very file
the step made (device and inode recorded in the intent): an export or report with no entry did
not happen. An intent whose lock is held belongs to a live run and is left alone.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensic._internal.canonical import canonical_json
from forensic._internal.casefs import (
    PRIVATE_FILE,
    CaseLinkError,
    make_private_dirs,
    open_in_case,
    read_case_bytes,
    remove_outside,
)
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import fsync_dir
from forensic.custody.keys import ExaminerKey, verify_signature

OUTSIDE_SUFFIX = ".outside.json"


def _signed(doc: dict[str, Any], key: ExaminerKey) -> bytes:
    body = {k: v for k, v in doc.items() if k != "sig"}
    sig = base64.b64encode(key.sign(canonical_json(body))).decode("ascii")
    return json.dumps({**body, "sig": sig}, ensure_ascii=False).encode("utf-8")


@dataclass
class OutsideIntent:
    """The live intent of one run (see the module doc); made by :func:`outside_plaintext`."""

    root: Path
    key: ExaminerKey
    action: str
    run: str
    paths: list[str]
    outputs: list[dict[str, Any]] = field(default_factory=list)
    started: str = field(default_factory=utc_timestamp)
    _fds: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.run}{OUTSIDE_SUFFIX}"

    def _doc(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "action": self.action,
            "started": self.started,
            "pid": os.getpid(),
            "paths": self.paths,
            "outputs": self.outputs,
        }

    def write(self) -> None:
        """Write (or rewrite) the intent durably, locked before it is visible under its name."""
        tmp = make_private_dirs(self.root, "tmp")
        part = f".{self.name}.{uuid.uuid4().hex}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        fd = open_in_case(self.root, f"tmp/{part}", flags, PRIVATE_FILE)
        self._fds.append(fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = _signed(self._doc(), self.key)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.replace(tmp / part, tmp / self.name)
        fsync_dir(tmp)

    def placed(self, path: Path) -> None:
        """A finished output (kept once the step's entry is committed, else removed)."""
        st = os.lstat(path)
        self.outputs.append({"path": str(path), "dev": st.st_dev, "ino": st.st_ino})
        self.write()

    def drop(self) -> None:
        """The run is over: the intent goes first, then its lock (no one acts on it between)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / "tmp" / self.name)
        with contextlib.suppress(OSError):
            fsync_dir(self.root / "tmp")
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()


@contextlib.contextmanager
def outside_plaintext(
    root: Path, key: ExaminerKey, action: str, paths: list[Path], *, run: str | None = None
) -> Iterator[OutsideIntent]:
    """Announce ``paths`` (not yet made) before any plaintext reaches them; the caller holds
    the case lock while the intent is written. On an error the paths still there are removed;
    in any case the intent is dropped at the end (a SIGKILL leaves it for recovery). The
    caller makes sure nothing fails once its entry is committed."""
    intent = OutsideIntent(
        root, key, action, run or f"run-{uuid.uuid4().hex}", [str(p) for p in paths]
    )
    intent.write()
    try:
        yield intent
    except BaseException:
        # the step failed before its entry: its work files and any output it made go
        for path in intent.paths:
            with contextlib.suppress(OSError):
                remove_outside(Path(path))
        for rec in intent.outputs:
            if _same_file(Path(rec["path"]), rec):
                with contextlib.suppress(OSError):
                    remove_outside(Path(rec["path"]))
        raise
    finally:
        intent.drop()


def _signed_intent(raw: bytes, publics: Sequence[Any]) -> dict[str, Any] | None:
    """The intent without its signature when one of the case's parties signed it (whoever ran
    the step); None for anything else (unreadable, unsigned, signed by another key)."""
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            return None
        sig = base64.b64decode(str(doc.pop("sig")), validate=True)
    except (ValueError, KeyError, TypeError):
        return None
    data = canonical_json(doc)
    return doc if any(verify_signature(public, sig, data) for public in publics) else None


def _dead_intent(
    root: Path, name: str, publics: Sequence[Any]
) -> tuple[int, dict[str, Any]] | None:
    """An intent whose writer is gone (its lock free), checked against the parties' keys; the
    descriptor stays open, and locked, until the recovery is over."""
    try:
        fd = open_in_case(root, f"tmp/{name}")
    except (OSError, CaseLinkError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None  # a live run
    try:
        with os.fdopen(os.dup(fd), "rb") as fh:
            doc = _signed_intent(fh.read(), publics)
    except OSError:
        doc = None
    if doc is None:
        os.close(fd)
        return None
    return fd, doc


def outside_intents(tmp: Path) -> list[str]:
    """Names of the outside intents in ``tmp/``."""
    try:
        return sorted(n for n in os.listdir(tmp) if n.endswith(OUTSIDE_SUFFIX))
    except (FileNotFoundError, NotADirectoryError):
        return []


def is_live(root: Path, name: str) -> bool:
    """Whether the run of this intent is still going (its lock is held)."""
    try:
        fd = open_in_case(root, f"tmp/{name}")
    except (OSError, CaseLinkError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def live_tmp_entries(root: Path, publics: Sequence[Any]) -> set[str]:
    """Names in ``tmp/`` that the signed intent of a live run names (a front end's upload
    folder): recovery at the start of another step leaves them to their run, and verify does
    not take them for an interrupted copy. An unsigned intent names nothing."""
    tmp = root / "tmp"
    names: set[str] = set()
    for name in outside_intents(tmp):
        if not is_live(root, name):
            continue
        try:
            doc = _signed_intent(read_case_bytes(root, f"tmp/{name}"), publics)
        except (OSError, CaseLinkError):
            continue
        if doc is None:
            continue
        for path in doc.get("paths") or []:
            if Path(str(path)).parent == tmp:
                names.add(Path(str(path)).name)
    return names


def _same_file(path: Path, rec: dict[str, Any]) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (rec.get("dev"), rec.get("ino"))


def remove_left_plaintext(
    root: Path, publics: Sequence[Any], committed_runs: set[str]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Remove what dead runs left outside the store; returns the records for the recover
    entry and the intents' locked descriptors (the caller unlinks the intents after its entry
    and then closes them). An unsigned or unreadable intent is left to the partial files."""
    records: list[dict[str, Any]] = []
    fds: list[int] = []
    for name in outside_intents(root / "tmp"):
        found = _dead_intent(root, name, publics)
        if found is None:
            continue
        fd, doc = found
        fds.append(fd)
        run = str(doc.get("run"))
        committed = run in committed_runs
        removed: list[str] = []
        for path in [str(p) for p in doc.get("paths") or []]:
            if remove_outside(Path(path)):
                removed.append(path)
        for rec in doc.get("outputs") or []:
            if isinstance(rec, dict) and not committed and _same_file(Path(rec["path"]), rec):
                remove_outside(Path(str(rec["path"])))
                removed.append(str(rec["path"]))
        records.append(
            {
                "intent": f"tmp/{name}",
                "run": run,
                "action": doc.get("action"),
                "started": doc.get("started"),
                "committed": committed,
                "removed": removed,
            }
        )
    return records, fds
