"""Append-only custody log: one RFC 8785 canonical JSON object per line, hash-chained and signed.

``custody/log.jsonl`` holds the entries; ``custody/log.sig`` holds, per entry, ``<seq> <base64
Ed25519 signature over the exact line bytes, without the newline>``. An entry is committed once its
signature line is durable; anything after that point is an interrupted write, never evidence.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic._internal.canonical import canonical_json, parse_json_line
from forensic._internal.casefs import PRIVATE_FILE, make_private_dirs, open_in_case
from forensic._internal.clock import utc_timestamp
from forensic.custody.keys import ExaminerKey, verify_signature
from forensic.errors import StoreError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LOG_VERSION = 2
"""Version 2: any party of the case may sign a line (``party-add``, docs/format.md)."""
LOG_VERSIONS = (1, 2)
"""Versions a checker accepts: a version 1 log (one examiner) is a version 2 log with no
``party-add`` entry, so an old case verifies unchanged."""
GENESIS_PREV = "0" * 64
LOG_FILE = "custody/log.jsonl"
SIG_FILE = "custody/log.sig"


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


@dataclass(frozen=True)
class PendingEntry:
    """An entry about to be appended (the log fills in seq, prev, time and actor)."""

    action: str
    subject: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CustodyEntry:
    seq: int
    prev: str
    time: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    line: bytes

    @property
    def hash(self) -> str:
        return line_hash(self.line)

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": LOG_VERSION,
            "seq": self.seq,
            "prev": self.prev,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
        }


@dataclass(frozen=True)
class LogProblem:
    """One thing wrong with the log, located by line number (1-based) where it has one."""

    kind: str
    line: int | None
    detail: str
    interrupted: bool = False
    file: str = LOG_FILE  # the file ``line`` counts in (log.sig problems name log.sig)


@dataclass(frozen=True)
class RawLog:
    lines: list[bytes]
    fragment: bytes
    sigs: list[bytes]
    sig_fragment: bytes


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    parts = data.split(b"\n")
    return parts[:-1], parts[-1]


def _entry_from(line: bytes) -> CustodyEntry:
    return _entry_of(parse_json_line(line), line)


def _entry_of(obj: Any, line: bytes) -> CustodyEntry:
    return CustodyEntry(
        seq=int(obj["seq"]),
        prev=str(obj["prev"]),
        time=str(obj["time"]),
        actor=str(obj["actor"]),
        action=str(obj["action"]),
        subject=str(obj["subject"]),
        details=dict(obj.get("details") or {}),
        line=line,
    )


def _parse_sig(raw: bytes) -> tuple[int, bytes] | None:
    try:
        seq_text, b64 = raw.split(b" ", 1)
        signature = base64.b64decode(b64, validate=True)
        # Only the canonical encoding counts: unused bits before '=' padding would otherwise let
        # a signature line be edited without changing the signature it decodes to.
        if base64.b64encode(signature) != b64 or str(int(seq_text)).encode() != seq_text:
            return None
        return int(seq_text), signature
    except (ValueError, binascii.Error):
        return None


class CustodyLog:
    """The custody log of one case. Writers must hold the case lock."""

    def __init__(self, case_root: Path) -> None:
        self.case_root = case_root
        self.log_path = case_root / LOG_FILE
        self.sig_path = case_root / SIG_FILE
        self._head: tuple[int, str] | None = None

    # -- reading ---------------------------------------------------------------------------
    def read_raw(self) -> RawLog:
        try:
            lines, fragment = _split(self.log_path.read_bytes())
        except FileNotFoundError:
            lines, fragment = [], b""
        try:
            sigs, sig_fragment = _split(self.sig_path.read_bytes())
        except FileNotFoundError:
            sigs, sig_fragment = [], b""
        return RawLog(lines, fragment, sigs, sig_fragment)

    def committed_lines(self, raw: RawLog | None = None) -> list[bytes]:
        """Lines whose signature line is complete: the committed prefix of the log."""
        raw = raw or self.read_raw()
        return raw.lines[: len(raw.sigs)]

    def entries(self) -> list[CustodyEntry]:
        """Parse committed entries; for reading, not for proving (see :meth:`verify`)."""
        out = []
        for line in self.committed_lines():
            try:
                out.append(_entry_from(line))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def signatures(self, raw: RawLog | None = None) -> dict[int, bytes]:
        """seq → signature, from every readable line of ``log.sig`` (the first one per seq)."""
        raw = raw or self.read_raw()
        out: dict[int, bytes] = {}
        for sig_line in raw.sigs:
            parsed = _parse_sig(sig_line)
            if parsed is not None:
                out.setdefault(parsed[0], parsed[1])
        return out

    def entries_of(self, *actions: str, raw: RawLog | None = None) -> list[CustodyEntry]:
        """Committed entries of these actions only, found by the canonical line's start
        (``{"action":"…",``: keys are sorted) before any JSON is parsed: cheap on a long log."""
        starts = tuple(b'{"action":"%s",' % a.encode() for a in actions)
        out = []
        for line in self.committed_lines(raw):
            if line.startswith(starts):
                try:
                    out.append(_entry_from(line))
                except (ValueError, KeyError, TypeError):
                    continue
        return out

    def head(self) -> tuple[int, str]:
        """(next seq, hash of the last committed line)."""
        if self._head is None:
            lines = self.committed_lines()
            if not lines:
                self._head = (0, GENESIS_PREV)
            else:
                last = _entry_from(lines[-1])
                self._head = (last.seq + 1, line_hash(lines[-1]))
        return self._head

    # -- writing ---------------------------------------------------------------------------
    def append(self, key: ExaminerKey, pending: Iterable[PendingEntry]) -> list[CustodyEntry]:
        """Append entries as one group commit: all lines, fsync, all signatures, fsync."""
        seq, prev = self.head()
        actor = key.fingerprint
        written: list[CustodyEntry] = []
        lines: list[bytes] = []
        sigs: list[bytes] = []
        for item in pending:
            obj = {
                "v": LOG_VERSION,
                "seq": seq,
                "prev": prev,
                "time": utc_timestamp(),
                "actor": actor,
                "action": item.action,
                "subject": item.subject,
                "details": item.details,
            }
            line = canonical_json(obj)
            signature = key.sign(line)
            lines.append(line + b"\n")
            sigs.append(b"%d %s\n" % (seq, base64.b64encode(signature)))
            written.append(
                CustodyEntry(
                    seq,
                    prev,
                    str(obj["time"]),
                    actor,
                    item.action,
                    item.subject,
                    item.details,
                    line,
                )
            )
            prev = line_hash(line)
            seq += 1
        if not written:
            return []
        make_private_dirs(self.case_root, self.log_path.parent)
        log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
        sig_size = self.sig_path.stat().st_size if self.sig_path.exists() else 0
        try:
            _append_durable(self.log_path, b"".join(lines))
            _append_durable(self.sig_path, b"".join(sigs))
        except OSError as exc:
            # Disk full or I/O error: take back any partial bytes so the log stays well formed.
            for path, size in ((self.log_path, log_size), (self.sig_path, sig_size)):
                with contextlib.suppress(OSError):
                    if path.exists() and path.stat().st_size > size:
                        _truncate_durable(self.case_root, path, size)
            self._head = None
            raise StoreError("log_write", path=str(self.log_path), reason=exc.strerror) from exc
        self._head = (seq, prev)
        return written

    def cut_uncommitted_tail(self) -> bytes:
        """Remove an interrupted append (bytes after the committed prefix); returns them."""
        raw = self.read_raw()
        committed = raw.lines[: len(raw.sigs)]
        keep = b"".join(line + b"\n" for line in committed)
        data = self.log_path.read_bytes() if self.log_path.exists() else b""
        removed = data[len(keep) :]
        sig_keep = b"".join(s + b"\n" for s in raw.sigs[: len(committed)])
        sig_data = self.sig_path.read_bytes() if self.sig_path.exists() else b""
        removed_sig = sig_data[len(sig_keep) :]
        if removed:
            _truncate_durable(self.case_root, self.log_path, len(keep))
        if removed_sig:
            _truncate_durable(self.case_root, self.sig_path, len(sig_keep))
        self._head = None
        return removed + (b"\n--sig--\n" + removed_sig if removed_sig else b"")

    # -- proving ---------------------------------------------------------------------------
    def verify(self, public_key: Ed25519PublicKey, actor: str) -> list[LogProblem]:
        """Check every line's form, sequence, chain link, actor and signature: the actor must
        be a party at that line (``public_key``/``actor``: the examiner of ``init``; then each
        ``party-add`` by a party), and the line must verify with that party's key."""
        from forensic.custody.parties import Party, PartyChain

        examiner = Party(actor, "", "", None, "", 0)
        chain = PartyChain.starting(examiner, public_key)
        custody = _CustodyEvents()
        raw = self.read_raw()
        problems: list[LogProblem] = []
        if raw.lines and not self.sig_path.exists():
            problems.append(
                LogProblem("sig_file_missing", None, "no signature file", file=SIG_FILE)
            )
        if not self.log_path.exists():
            problems.append(LogProblem("log_file_missing", None, "no custody log"))
        sig_by_seq = _signatures_checked(raw, problems)
        last_signed = 0
        parsed_lines: list[Any] = []  # each line parsed once (None: not JSON)
        for n, line in enumerate(raw.lines, start=1):
            try:
                obj = parse_json_line(line)
            except (ValueError, UnicodeDecodeError):
                obj = None
            parsed_lines.append(obj)
            try:
                if int(obj["seq"]) in sig_by_seq:
                    last_signed = n
            except (ValueError, KeyError, TypeError):
                continue
        prev = GENESIS_PREV
        expected_seq = 0
        seen: set[int] = set()
        for n, line in enumerate(raw.lines, start=1):
            # An interrupted group commit leaves every line after the last signed one unsigned.
            uncommitted = n > len(raw.sigs) and n > last_signed
            obj = parsed_lines[n - 1]
            try:
                if obj is None:
                    raise ValueError("not JSON")
                entry = _entry_of(obj, line)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                problems.append(LogProblem("line_unparseable", n, "not a custody entry"))
                prev = line_hash(line)
                expected_seq += 1
                continue
            if canonical_json(obj) != line:
                problems.append(
                    LogProblem("line_not_canonical", n, "bytes differ from RFC 8785 form")
                )
            if obj.get("v") not in LOG_VERSIONS:
                problems.append(LogProblem("line_version", n, f"v={obj.get('v')!r}"))
            if entry.seq != expected_seq:
                problems.append(
                    LogProblem("seq_mismatch", n, f"expected seq {expected_seq}, found {entry.seq}")
                )
            if entry.seq in seen:
                problems.append(LogProblem("seq_duplicate", n, f"seq {entry.seq} appears twice"))
            seen.add(entry.seq)
            if entry.prev != prev:
                problems.append(
                    LogProblem("chain_broken", n, "prev does not match the line before")
                )
            signer = chain.key_of(entry.actor)
            if signer is None:
                kind = "party_by_non_party" if entry.action == "party-add" else "actor_unknown"
                problems.append(
                    LogProblem(kind, n, f"actor {entry.actor[:16]}… is not a party at this line")
                )
            sig = sig_by_seq.get(entry.seq)
            if sig is None:
                if uncommitted:
                    # Past the committed prefix: a group append cut off between its fsync of the
                    # lines and its fsync of their signatures (all lines of the batch, not only
                    # the last, are then unsigned). Never evidence; the next write cuts it.
                    problems.append(
                        LogProblem("append_interrupted", n, "entry has no signature", True)
                    )
                else:
                    problems.append(
                        LogProblem("sig_missing", n, f"no signature for seq {entry.seq}")
                    )
            elif signer is not None and not verify_signature(signer, sig, line):
                problems.append(LogProblem("sig_invalid", n, f"signature of seq {entry.seq} fails"))
            elif signer is not None:
                why = chain.admit(entry)
                if why is not None:
                    problems.append(LogProblem("party_invalid", n, why))
            problems.extend(custody.check(entry, n))
            prev = line_hash(line)
            expected_seq = entry.seq + 1
        extra = set(sig_by_seq) - seen
        for seq in sorted(extra):
            # Its line is missing: name the place where that line belongs (a deleted last line
            # leaves its signature behind; seq s is line s + 1 of an intact log).
            at = seq + 1 if 0 <= seq < 1 << 31 else None
            problems.append(
                LogProblem("sig_orphan", at, f"signature for seq {seq} has no line (deleted?)")
            )
        if raw.fragment:
            problems.append(
                LogProblem(
                    "line_torn",
                    len(raw.lines) + 1,
                    f"{len(raw.fragment)} bytes without newline",
                    True,
                )
            )
        if raw.sig_fragment:
            problems.append(
                LogProblem(
                    "sig_torn",
                    len(raw.sigs) + 1,
                    f"{len(raw.sig_fragment)} bytes without newline",
                    True,
                    file=SIG_FILE,
                )
            )
        return problems


def _signatures_checked(raw: RawLog, problems: list[LogProblem]) -> dict[int, bytes]:
    """seq → signature of every readable ``log.sig`` line; its flaws go to ``problems``."""
    sig_by_seq: dict[int, bytes] = {}
    for n, sig_line in enumerate(raw.sigs, start=1):
        parsed = _parse_sig(sig_line)
        if parsed is None:
            problems.append(
                LogProblem("sig_malformed", n, "log.sig line unreadable", file=SIG_FILE)
            )
            continue
        if parsed[0] != n - 1:
            # Signatures are appended in log order: line n of log.sig signs seq n - 1.
            problems.append(
                LogProblem(
                    "sig_out_of_order", n, f"holds seq {parsed[0]}, not {n - 1}", file=SIG_FILE
                )
            )
        if parsed[0] in sig_by_seq:
            problems.append(LogProblem("sig_duplicate", n, f"seq {parsed[0]}", file=SIG_FILE))
        sig_by_seq[parsed[0]] = parsed[1]
    return sig_by_seq


class _CustodyEvents:
    """Hand-overs seen so far: each receipt must countersign the hand-over it names, and a
    receiver signs nothing else before that receipt (custody passes when it is received)."""

    def __init__(self) -> None:
        from forensic.custody.parties import Handover

        self.found: dict[int, Handover] = {}

    def _waiting(self, actor: str) -> int | None:
        """The seq of a hand-over to ``actor`` still without a receipt, if any."""
        return next(
            (h.seq for h in self.found.values() if h.receiver == actor and not h.received), None
        )

    def check(self, entry: CustodyEntry, n: int) -> list[LogProblem]:
        from dataclasses import replace

        from forensic.custody.parties import HANDOVER, RECEIPT, handovers, receipt_flaw

        if entry.action == RECEIPT:
            why = receipt_flaw(entry, self.found)
            if why is not None:
                return [LogProblem("receipt_invalid", n, why)]
            seq = int(entry.details["handover"]["seq"])
            self.found[seq] = replace(self.found[seq], receipt_seq=entry.seq)
            return []
        waiting = self._waiting(entry.actor)
        problems = []
        if waiting is not None:
            problems.append(
                LogProblem(
                    "signed_before_receipt",
                    n,
                    f"signed by the receiver of the hand-over at seq {waiting} before its receipt",
                )
            )
        if entry.action == HANDOVER:
            given = handovers([entry])
            if not given:
                return [*problems, LogProblem("handover_malformed", n, "no head or receiver")]
            self.found[entry.seq] = given[0]
        return problems


def _append_durable(path: Path, data: bytes) -> None:
    # Never through a link (a planted symlink must not make us append to its target); the
    # folder itself is checked by the step's recovery (forensic.case.step.check_case_tree).
    fd = open_in_case(path.parent, path.name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # an older case's 0644 log: names of evidence stay private
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _truncate_durable(root: Path, path: Path, size: int) -> None:
    fd = open_in_case(root, path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)
