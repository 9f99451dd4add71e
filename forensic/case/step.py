"""The one write transaction of a case: ``with case.step(key, action) as step: ...``.

Every change to a case goes through it, in this order:

1. lock the case (:func:`forensic.case.lock.case_lock`) and finish or roll back what an
   interrupted step left behind (:func:`recover`);
2. stage: files are written under ``tmp/`` (:meth:`Step.stage_file` and friends), objects are
   placed at their content address by the evidence store (:meth:`Step.place_objects`); an
   intent ``tmp/<run>.intent.json`` names every staged file and its final path;
3. commit: one signed entry, or one group commit of entries (:meth:`Step.record`); an entry
   vouches for a staged file by its final path and SHA-256 (``details.files``) and names the
   step (``details.run``);
4. move the staged files the commit vouches for into place, unlink what it replaced;
5. drop the intent; when the step took the lock itself, log the session's decryptions.

A cut before 3 leaves only ``tmp/`` files, the intent and unrecorded objects: ``verify`` names
them as interrupted, :func:`recover` removes the files and quarantines the objects its intent
named before placing them (rolled back; any other unrecorded object is foreign: left where it
is, never signed for, named by ``verify``). A cut after 3 leaves staged files a committed
entry vouches for: :func:`recover` moves them into place (finished). Nothing is ever written
at its final path before its entry.

A test hook, inert unless the variable is set: ``FORENSIC_TEST_KILL_AT=<point>`` or
``<action>:<point>`` makes the process SIGKILL itself at that boundary (``staged``: intent
written, entry not yet appended; ``logged``: entry committed, nothing moved; ``moved``: after
the first file moved; ``recovering``: recovery's repairs done, its entry not yet appended;
re-encryption also has ``objects_written`` and ``derived_staged``; export ``bag_written``
(the bag in its staging folder) and ``placed`` (the bag at ``--out``, no entry yet); report
``rendered`` (the signed PDF in its work folder) and ``copied`` (the ``--out`` copy placed)).
In process, tests replace :func:`fault_point` and :func:`place_file`.

Plaintext a step writes outside the store (an export, a report's work files) is announced by
an outside intent first: :mod:`forensic.case.outside`; :func:`recover` removes and logs what a
killed run left there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import stat
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from forensic._internal.casefs import (
    PRIVATE_FILE,
    SEALED_FILE,
    CaseLinkError,
    case_path,
    entry_flaw,
    make_private_dirs,
    read_case_bytes,
    relative,
    remove_entry,
)
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import atomic_write, fsync_dir
from forensic.case.layout import REKEY_ACTIONS, is_derived
from forensic.case.outside import (
    OUTSIDE_SUFFIX,
    is_live,
    live_tmp_entries,
    outside_intents,
    remove_left_plaintext,
)
from forensic.case.records import file_record, tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, CustodyLog, PendingEntry
from forensic.errors import StoreError
from forensic.store import EvidenceStore

KILL_ENV = "FORENSIC_TEST_KILL_AT"
INTENT_SUFFIX = ".intent.json"


def fault_point(action: str, point: str) -> None:
    """A boundary of a step: the test seam where failures are injected (see the module doc)."""
    target = os.environ.get(KILL_ENV)
    if target and target in (point, f"{action}:{point}"):
        os.kill(os.getpid(), signal.SIGKILL)


def place_file(source: Path, final: Path) -> None:
    """Move one staged file to its final path (a seam: tests make it fail)."""
    os.replace(source, final)


class _Identified(Protocol):
    @property
    def case_id(self) -> str: ...


class StepCase(Protocol):
    """What the transaction needs of a case (:class:`forensic.case.Case` has it)."""

    @property
    def root(self) -> Path: ...
    @property
    def info(self) -> _Identified: ...
    @property
    def store(self) -> EvidenceStore: ...
    @property
    def log(self) -> CustodyLog: ...
    def entries(self) -> list[CustodyEntry]: ...
    def party_public_keys(self) -> list[Any]: ...
    def recorded_objects(self, entries: list[CustodyEntry] | None = None) -> set[str]: ...
    def recorded_files(
        self, entries: list[CustodyEntry] | None = None
    ) -> dict[str, dict[str, Any]]: ...


@dataclass(frozen=True)
class RecoveryReport:
    """What an interrupted earlier run left behind and what was done about it."""

    torn_log_bytes: int
    partial_files: tuple[str, ...]
    quarantined_objects: tuple[str, ...]
    interrupted_runs: tuple[dict[str, Any], ...]
    finished_runs: tuple[dict[str, Any], ...] = ()
    """Steps whose entry was committed, completed by this recovery."""
    unlogged_files: tuple[str, ...] = ()
    """Files an interrupted recovery set aside (quarantine, a torn log tail) before its entry."""
    plaintext_removed: tuple[dict[str, Any], ...] = ()
    """Plaintext killed runs left outside the store (an export's staging, a report's work
    folder), removed by this recovery (:mod:`forensic.case.outside`)."""

    @property
    def empty(self) -> bool:
        return not (
            self.finished_runs
            or self.torn_log_bytes
            or self.partial_files
            or self.quarantined_objects
            or self.interrupted_runs
            or self.unlogged_files
            or self.plaintext_removed
        )


NOTHING_RECOVERED = RecoveryReport(0, (), (), ())


@dataclass
class _Staged:
    tmp: str
    path: str
    sha256: str
    committed: bool = False


def _file_records(details: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for rec in details.get("files", []) or []:
        if isinstance(rec, dict) and isinstance(rec.get("path"), str):
            yield str(rec["path"]), str(rec.get("sha256", ""))


def _store_error(exc: OSError, where: Path) -> StoreError:
    import errno

    if exc.errno == errno.ENOSPC:
        return StoreError("disk_full", path=str(where))
    return StoreError("store_write", path=str(where), reason=exc.strerror or str(exc))


def unlink_object(path: Path) -> bool:
    """Remove a read-only object file; False when it was not there. A link is unlinked itself:
    neither its target's mode nor its target is touched."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
        os.chmod(path, PRIVATE_FILE)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


WRITE_CHECKED = (
    "",
    "custody",
    "custody/interrupted",
    "objects",
    "objects/sha256",
    "tmp",
    "quarantine",
    "keys",
)
"""Folders whose every entry is checked before a step writes (a link there redirects writes)."""


def check_case_tree(root: Path) -> None:
    """Refuse to write or delete in a case holding a link or special file where the step
    writes: the case folder's own entries, the log's folder, ``tmp/``, ``quarantine/``,
    ``keys/`` and the object store's fan-out folders (:class:`CaseLinkError`, exit 1)."""
    for rel in WRITE_CHECKED:
        folder = case_path(root, rel) if rel else root
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            flaw = entry_flaw(os.lstat(folder / name))
            if flaw is not None:
                raise CaseLinkError(flaw, path=f"{rel}/{name}" if rel else name)


def _move_into_place(
    case: StepCase, staged: Iterable[tuple[str, str]], action: str | None = None
) -> list[str]:
    """Move staged files (name in ``tmp/``, final case path) into place; a file already moved
    is skipped. Each folder written to is fsynced once. Returns the case paths moved."""
    moved: list[str] = []
    for tmp_name, rel in staged:
        source = case.store.tmp / tmp_name
        if not source.is_file() or source.is_symlink():
            continue
        try:
            final = case_path(case.root, rel)
            make_private_dirs(case.root, final.parent)
            place_file(source, final)
        except OSError as exc:
            raise _store_error(exc, final) from exc
        moved.append(rel)
        if action is not None:
            fault_point(action, "moved")
    for folder in {(case.root / rel).parent for rel in moved}:
        fsync_dir(folder)
    return moved


class Step:
    """One write transaction; made by :meth:`forensic.case.Case.step`, which holds the lock.

    ``intent``: fields of an intent written at once and kept if the step fails, for steps that
    place objects before their entry (capture, re-encryption): recovery then logs the run as
    interrupted. Without it an intent is written only when files are staged.
    """

    def __init__(
        self,
        case: StepCase,
        key: ExaminerKey,
        action: str,
        *,
        run: str | None = None,
        intent: dict[str, Any] | None = None,
        recovery: RecoveryReport = NOTHING_RECOVERED,
    ) -> None:
        self.case = case
        self.key = key
        self.action = action
        self.run = run or f"run-{uuid.uuid4().hex}"
        self.recovery = recovery
        self._started = utc_timestamp()
        self._announced = intent
        self._files: dict[str, _Staged] = {}
        self._placed: list[Path] = []
        self._retired: list[Path] = []
        self._objects: list[str] = []
        self._intent_written = False
        if intent is not None:
            self._write_intent()

    @property
    def intent_path(self) -> Path:
        return self.case.store.tmp / f"{self.run}{INTENT_SUFFIX}"

    def checkpoint(self, point: str) -> None:
        """A named boundary of this step (the test seam; inert otherwise)."""
        fault_point(self.action, point)

    # -- staging ---------------------------------------------------------------------------
    def _relative(self, path: Path | str) -> str:
        return relative(self.case.root, path)

    def _add(self, rel: str, tmp_name: str, sha256: str) -> None:
        old = self._files.get(rel)
        if old is not None and not old.committed and old.tmp != tmp_name:
            with contextlib.suppress(OSError):
                (self.case.store.tmp / old.tmp).unlink()
        self._files[rel] = _Staged(tmp_name, rel, sha256)

    def _staged_name(self) -> str:
        make_private_dirs(self.case.root, "tmp")
        return f"{self.run}-{len(self._files):04d}-{secrets.token_hex(4)}.staged"

    def stage_exact(
        self,
        path: Path | str,
        body: bytes,
        mode: int = SEALED_FILE,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stage exactly these bytes for ``path``; returns the file record an entry carries."""
        rel = self._relative(path)
        name = self._staged_name()
        atomic_write(self.case.store.tmp / name, body, mode=mode)
        sha = hashlib.sha256(body).hexdigest()
        self._add(rel, name, sha)
        return {"path": rel, "sha256": sha, "size": len(body), **(extra or {})}

    def stage_file(self, path: Path | str, data: bytes, mode: int = SEALED_FILE) -> dict[str, Any]:
        """Stage a case file; a derived file of an encrypted case as age ciphertext (the record
        then also carries ``plaintext_sha256``/``plaintext_size``)."""
        rel = self._relative(path)
        crypto = self.case.store.crypto
        if crypto is None or not is_derived(rel):
            return self.stage_exact(rel, data, mode)
        import pyrage  # type: ignore[import-untyped]

        plain = {"plaintext_sha256": hashlib.sha256(data).hexdigest(), "plaintext_size": len(data)}
        return self.stage_exact(rel, pyrage.encrypt(data, crypto.recipients), mode, plain)

    def stage_copy(self, path: Path | str, source: Path, mode: int = SEALED_FILE) -> dict[str, Any]:
        """Stage a copy of a file made outside the case (the report's PDF, in a RAM folder)."""
        rel = self._relative(path)
        if self.case.store.crypto is not None and is_derived(rel):
            return self.stage_file(rel, source.read_bytes(), mode)
        name = self._staged_name()
        target = self.case.store.tmp / name
        h = hashlib.sha256()
        size = 0
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
            with source.open("rb") as fin, os.fdopen(fd, "wb") as fout:
                for chunk in iter(lambda: fin.read(1 << 20), b""):
                    fout.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
                fout.flush()
                os.fsync(fout.fileno())
            os.chmod(target, mode)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        fsync_dir(self.case.store.tmp)
        self._add(rel, name, h.hexdigest())
        return {"path": rel, "sha256": h.hexdigest(), "size": size}

    def adopt_file(
        self, path: Path | str, temp: Path, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A file already written and synced in ``tmp/`` (a chat transcript, streamed) becomes
        this step's staged file for ``path``."""
        if temp.parent.resolve() != self.case.store.tmp.resolve():
            raise ValueError(f"{temp} is not in the case's tmp/")
        rel = self._relative(path)
        record = file_record(self.case.store.tmp, temp)
        self._add(rel, temp.name, str(record["sha256"]))
        return {"path": rel, "sha256": record["sha256"], "size": record["size"], **(extra or {})}

    def announce_objects(self, paths: Iterable[Path]) -> None:
        """Objects this step is about to place at their content address, named in its intent
        before the first of them is written there: recovery quarantines only objects an
        intent names (anything else unrecorded in ``objects/`` is foreign, never signed for).
        Cleared at each commit: what was placed is then recorded."""
        for path in paths:
            rel = self._relative(path)
            if rel not in self._objects:
                self._objects.append(rel)
        self._write_intent()

    def place_objects(self, paths: Iterable[Path]) -> None:
        """Objects this step put at their content address ahead of the entry that records
        them (:meth:`abandon` removes them again)."""
        self._placed.extend(paths)

    def retire_objects(self, paths: Iterable[Path]) -> None:
        """Objects the next commit replaces: unlinked once it is committed."""
        self._retired.extend(paths)

    # -- committing ------------------------------------------------------------------------
    def _write_intent(self) -> None:
        doc: dict[str, Any] = {"run": self.run, "action": self.action, "started": self._started}
        doc.update(self._announced or {})
        if self._files:
            doc["staged"] = [{"tmp": f.tmp, "path": f.path} for f in self._files.values()]
        if self._objects:
            doc["objects"] = list(self._objects)
        make_private_dirs(self.case.root, "tmp")
        atomic_write(self.intent_path, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
        self._intent_written = True

    def record(self, entries: list[PendingEntry]) -> list[CustodyEntry]:
        """Commit: the intent names what is staged, the entries are appended as one group
        commit, then the staged files they vouch for are moved into place."""
        if not entries:
            return []
        pending = [f for f in self._files.values() if not f.committed]
        if pending or self._announced is not None or self._objects:
            self._write_intent()
        self.checkpoint("staged")
        written = self.case.log.append(self.key, entries)
        self._placed.clear()
        self._objects.clear()
        vouched = {rec for entry in written for rec in _file_records(entry.details)}
        ready = [f for f in pending if (f.path, f.sha256) in vouched]
        for f in ready:
            f.committed = True
        self.checkpoint("logged")
        _move_into_place(self.case, ((f.tmp, f.path) for f in ready), self.action)
        retired, self._retired = self._retired, []
        if any([unlink_object(p) for p in retired]):
            fsync_dir(self.case.store.objects)
        return written

    # -- ending ----------------------------------------------------------------------------
    def _unlink_uncommitted(self) -> None:
        for f in list(self._files.values()):
            if not f.committed:
                with contextlib.suppress(OSError):
                    (self.case.store.tmp / f.tmp).unlink()
                del self._files[f.path]

    def _drop_intent(self) -> None:
        if self._intent_written:
            self.intent_path.unlink(missing_ok=True)
            fsync_dir(self.case.store.tmp)
            self._intent_written = False

    def close(self) -> None:
        """The step ended normally: staged files no entry took are removed, the intent goes."""
        self._unlink_uncommitted()
        self._drop_intent()

    def roll_back(self) -> None:
        """The step failed. Staged files no entry vouches for are removed; the intent stays
        when a committed entry's files are still staged or objects may be unrecorded (recovery
        finishes or logs it), or when the step announced it."""
        with contextlib.suppress(OSError):
            self._unlink_uncommitted()
            unmoved = any((self.case.store.tmp / f.tmp).is_file() for f in self._files.values())
            if not (unmoved or self._placed or self._announced is not None):
                self._drop_intent()

    def abandon(self) -> None:
        """Undo everything this step did before its commit (a refused re-encryption): the
        staged files, the objects it placed, the intent. Nothing was recorded."""
        self._unlink_uncommitted()
        placed, self._placed = self._placed, []
        for path in placed:
            unlink_object(path)
        self._announced = None
        self._drop_intent()


# -- recovery ---------------------------------------------------------------------------------
def _intents(tmp: Path) -> list[tuple[Path, dict[str, Any]]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(tmp.glob(f"*{INTENT_SUFFIX}")):
        try:
            doc = json.loads(read_case_bytes(tmp.parent, f"tmp/{path.name}"))
        except (OSError, ValueError, CaseLinkError):
            continue
        if isinstance(doc, dict):
            found.append((path, doc))
    return found


def _safe_staged(tmp: Path, rec: Any, vouched: set[tuple[str, str]]) -> tuple[str, str] | None:
    """A staged file of an intent that a committed entry vouches for, byte for byte."""
    if not isinstance(rec, dict):
        return None
    name, rel = str(rec.get("tmp", "")), str(rec.get("path", ""))
    if not name or "/" in name or rel.startswith("/") or ".." in rel.split("/"):
        return None
    try:
        digest = hashlib.sha256(read_case_bytes(tmp.parent, f"tmp/{name}")).hexdigest()
    except (OSError, CaseLinkError):
        return None
    return (name, rel) if (rel, digest) in vouched else None


def unfinished_paths(case: StepCase, entries: list[CustodyEntry]) -> set[str]:
    """Case paths a committed step vouches for whose file is still staged in ``tmp/`` (not
    yet moved into place; recovery finishes it)."""
    committed = {r for e in entries if isinstance(r := e.details.get("run"), str)}
    tmp = case.store.tmp
    out: set[str] = set()
    for _path, doc in _intents(tmp) if tmp.is_dir() else []:
        if str(doc.get("run")) in committed:
            for rec in doc.get("staged") or []:
                if isinstance(rec, dict) and (tmp / str(rec.get("tmp"))).is_file():
                    out.add(str(rec.get("path")))
    return out


def finish_committed_runs(case: StepCase) -> list[dict[str, Any]]:
    """For recovery: complete the steps whose entry is committed but whose files were not all
    moved into place (or, re-encryptions, whose replaced objects were not all unlinked)."""
    tmp = case.store.tmp
    intents = _intents(tmp) if tmp.is_dir() else []
    if not intents:
        return []
    by_run: dict[str, list[CustodyEntry]] = {}
    for entry in case.entries():
        if isinstance(run := entry.details.get("run"), str):
            by_run.setdefault(run, []).append(entry)
    finished: list[dict[str, Any]] = []
    for path, doc in intents:
        entries = by_run.get(str(doc.get("run")), [])
        staged = doc.get("staged") or []
        rekeys = [e for e in entries if e.action in REKEY_ACTIONS]
        if not entries or not (staged or rekeys):
            continue  # not committed, or nothing to finish: recovery logs it as interrupted
        vouched = {rec for e in entries for rec in _file_records(e.details)}
        ready = [p for rec in staged if (p := _safe_staged(tmp, rec, vouched)) is not None]
        result: dict[str, Any] = {"run": doc.get("run"), "action": doc.get("action")}
        result["moved"] = _move_into_place(case, ready)
        if rekeys:
            removed = [
                str(rec["from"])
                for e in rekeys
                for rec in e.details.get("objects", []) or []
                if isinstance(rec, dict)
                and str(rec.get("from")) != str(rec.get("to"))
                and unlink_object(case.root / str(rec["from"]))
            ]
            if removed:
                fsync_dir(case.store.objects)
            result["removed"] = removed
        result["seq"] = entries[-1].seq
        path.unlink()
        finished.append(result)
    fsync_dir(tmp)
    return finished


def _unlogged_files(case: StepCase) -> list[dict[str, Any]]:
    """Files an interrupted recovery moved aside but did not get to log (its entry vouches for
    quarantined objects and saved log tails)."""
    folders = [case.root / "quarantine", case.root / "custody" / "interrupted"]
    folders = [f for f in folders if f.is_dir()]
    recorded = case.recorded_files() if folders else {}
    out: list[dict[str, Any]] = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                rel = path.relative_to(case.root).as_posix()
                if path.is_file() and rel not in recorded:
                    out.append(file_record(case.root, path))
    return out


def announced_objects(tmp: Path) -> set[str]:
    """Object paths the intents of unfinished steps say they were writing."""
    out: set[str] = set()
    for _path, doc in _intents(tmp) if tmp.is_dir() else []:
        objects = doc.get("objects")
        if isinstance(objects, list):
            out.update(rel for rel in objects if isinstance(rel, str))
    return out


def own_orphan(full: Path, rel: str, announced: set[str]) -> bool:
    """Whether an unrecorded object is one an interrupted step of this tool left: its intent
    named it, and its name is the SHA-256 of its bytes (a content address, as written)."""
    if rel not in announced or full.is_symlink() or not full.is_file():
        return False
    h = hashlib.sha256()
    with full.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest() == full.name


def _quarantine(case: StepCase, announced: set[str]) -> list[dict[str, Any]]:
    recorded = case.recorded_objects()
    orphans = [
        rel
        for rel, full in case.store.iter_objects()
        if rel not in recorded and own_orphan(full, rel, announced)
    ]
    quarantined: list[dict[str, Any]] = []
    if orphans:
        for rel in orphans:  # never move a link in: its target is not the case's
            flaw = entry_flaw(os.lstat(case_path(case.root, rel)))
            if flaw is not None:
                raise CaseLinkError(flaw, path=rel)
        qdir = make_private_dirs(case.root, "quarantine")
        for rel in orphans:
            src = case.root / rel
            dst = qdir / src.name
            if dst.exists():
                dst = qdir / f"{src.name}.{secrets.token_hex(4)}"
            os.replace(src, dst)
            quarantined.append({"from": rel, **file_record(case.root, dst)})
        fsync_dir(qdir)
    return quarantined


def recover(case: StepCase, key: ExaminerKey) -> RecoveryReport:
    """Finish or roll back what interrupted steps left behind and log it (the caller holds
    the case lock). Idempotent: a recovery cut off itself is completed by the next one.
    A link or special file where it would write or delete stops it (:func:`check_case_tree`)."""
    check_case_tree(case.root)
    # read first: finishing a committed run drops its intent
    announced = announced_objects(case.store.tmp)
    torn = case.log.cut_uncommitted_tail()
    unlogged = _unlogged_files(case)
    torn_record: dict[str, Any] | None = None
    if torn:
        interrupted_dir = make_private_dirs(case.root, "custody/interrupted")
        saved = interrupted_dir / f"log-tail-{utc_timestamp().replace(':', '')}.bin"
        atomic_write(saved, torn, mode=SEALED_FILE)
        torn_record = file_record(case.root, saved)
    finished = finish_committed_runs(case)
    plaintext, held = _left_plaintext(case, key)
    runs, partials = _scan_tmp(case, key, {r["intent"].removeprefix("tmp/") for r in plaintext})
    quarantined = _quarantine(case, announced)
    report = RecoveryReport(
        torn_log_bytes=len(torn),
        partial_files=tuple(partials),
        quarantined_objects=tuple(q["from"] for q in quarantined),
        interrupted_runs=tuple(runs),
        finished_runs=tuple(finished),
        unlogged_files=tuple(str(r["path"]) for r in unlogged),
        plaintext_removed=tuple(plaintext),
    )
    if report.empty:
        return report
    fault_point("recover", "recovering")
    details: dict[str, Any] = {
        "interrupted_runs": runs,
        "partial_files_removed": partials,
        "quarantined_objects": quarantined,
        "tool": tool_record(),
    }
    if finished:
        details["finished_runs"] = finished
    if plaintext:
        details["plaintext_removed"] = plaintext
    files = [{k: q[k] for k in ("path", "sha256", "size")} for q in quarantined]
    if torn_record is not None:
        details["torn_log_tail"] = torn_record
        files.append(torn_record)
    if unlogged:
        details["unlogged_files"] = unlogged
        files.extend(unlogged)
    details["files"] = files
    case.log.append(key, [PendingEntry("recover", f"case:{case.info.case_id}", details)])
    for name in partials:
        with contextlib.suppress(OSError):
            remove_entry(case.root, f"tmp/{name}")
    for path in list(case.store.tmp.iterdir()):
        if path.name.endswith(INTENT_SUFFIX):
            path.unlink()
    for rec in plaintext:  # the intent goes after the entry, then its lock
        with contextlib.suppress(FileNotFoundError):
            os.unlink(case.root / str(rec["intent"]))
    fsync_dir(case.store.tmp)
    for fd in held:
        os.close(fd)
    return report


def _left_plaintext(case: StepCase, key: ExaminerKey) -> tuple[list[dict[str, Any]], list[int]]:
    """Plaintext dead runs left outside the store, removed (:mod:`forensic.case.outside`)."""
    if not outside_intents(case.store.tmp):
        return [], []
    committed = {r for e in case.entries() if isinstance(r := e.details.get("run"), str)}
    return remove_left_plaintext(case.root, case.party_public_keys(), committed)


def _scan_tmp(
    case: StepCase, key: ExaminerKey, handled: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The intents of interrupted steps and the partial files in ``tmp/``; the outside intents
    recovery handled, and those of live runs, are neither."""
    runs: list[dict[str, Any]] = []
    partials: list[str] = []
    if not case.store.tmp.is_dir():
        return runs, partials
    handled = handled | live_tmp_entries(case.root, case.party_public_keys())
    for path in sorted(case.store.tmp.iterdir()):
        if path.name.endswith(INTENT_SUFFIX):
            try:
                runs.append(json.loads(read_case_bytes(case.root, f"tmp/{path.name}")))
            except (OSError, ValueError, CaseLinkError):
                runs.append({"intent": path.name, "unreadable": True})
        elif path.name in handled or (
            path.name.endswith(OUTSIDE_SUFFIX) and is_live(case.root, path.name)
        ):
            continue
        else:
            partials.append(path.name)
    return runs, partials
