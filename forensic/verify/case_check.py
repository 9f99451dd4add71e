"""Re-prove a whole case: every object's hash, every log line's form, chain link, sequence and
signature, the examiner key, and that nothing unrecorded was added or recorded went missing."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from forensic._internal.canonical import parse_json_line
from forensic._internal.casefs import CaseLinkError, entry_flaw, read_case_bytes
from forensic._internal.paths import display
from forensic.case.case import (
    CASE_FILE,
    PUBKEY_FILE,
    REKEY_ACTIONS,
    Case,
    Item,
    tool_record,
)
from forensic.case.derived import plaintext_digest
from forensic.case.outside import OUTSIDE_SUFFIX, is_live, live_tmp_entries
from forensic.case.records import case_file_digest
from forensic.case.step import announced_objects, own_orphan
from forensic.custody.keys import ExaminerKey, fingerprint, load_public_pem
from forensic.custody.known_cases import ExpectedHead, KnownCase
from forensic.custody.log import LOG_FILE, SIG_FILE, CustodyEntry, PendingEntry
from forensic.custody.parties import Handover, Party, handovers
from forensic.errors import ForensicError
from forensic.problem import Problem
from forensic.progress import SILENT, ProgressReporter
from forensic.store import ItemId
from forensic.timestamp.stamp import TokenCheck, token_status, verify_tokens
from forensic.verify.report_check import ReportCheck, check_reports

ALWAYS_PRESENT = frozenset({LOG_FILE, SIG_FILE, ".lock"})


@dataclass(frozen=True)
class VerificationReport:
    case_id: str
    key_fingerprint: str
    log_entries: int
    log_head: str | None
    items: int
    objects_checked: int
    bytes_checked: int
    files_checked: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    encrypted_objects: int = 0
    plaintext_checked: int = 0
    """Encrypted objects decrypted and re-hashed (``--decrypt``); 0 without the key."""
    derived_plaintext_checked: int = 0
    """Encrypted derived files decrypted and checked against ``plaintext_sha256``."""
    tokens: tuple[TokenCheck, ...] = ()
    """Every stored timestamp token as re-verified (``trusted`` by this machine's anchors)."""
    known: KnownCase | None = None
    """What this machine remembered of the case before this run (None: first seen here)."""
    reports: tuple[ReportCheck, ...] = ()
    """Each stored report's signature and trusted-time state."""
    zone: str = "Asia/Seoul"
    """The case's zone, for the times a front end prints."""
    parties: tuple[Party, ...] = ()
    """Who may sign the log (the examiner first), as the verified log adds them."""
    handovers: tuple[Handover, ...] = ()
    """Every hand-over, with its receipt or "not yet received"."""

    def _area_ok(self, *areas: str) -> bool:
        return not any(p.area in areas for p in self.problems)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def log_intact(self) -> bool:
        return self._area_ok("log", "key")

    @property
    def objects_intact(self) -> bool:
        return self._area_ok("object")

    @property
    def files_intact(self) -> bool:
        return self._area_ok("file")

    @property
    def timestamps_intact(self) -> bool:
        return self._area_ok("timestamp")

    @property
    def interrupted(self) -> bool:
        """Something an interrupted run left behind (the next write recovers and logs it)."""
        return not self._area_ok("interrupted")

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "case_id": self.case_id,
            "intact": self.intact,
            "log_intact": self.log_intact,
            "objects_intact": self.objects_intact,
            "files_intact": self.files_intact,
            "timestamps_intact": self.timestamps_intact,
            "interrupted": self.interrupted,
            "key_fingerprint": self.key_fingerprint,
            "log_entries": self.log_entries,
            "log_head": self.log_head,
            "items": self.items,
            "objects_checked": self.objects_checked,
            "bytes_checked": self.bytes_checked,
            "files_checked": self.files_checked,
            "encrypted_objects": self.encrypted_objects,
            "plaintext_checked": self.plaintext_checked,
            "derived_plaintext_checked": self.derived_plaintext_checked,
            "tokens_checked": len(self.tokens),
            "tokens_trusted": sum(1 for t in self.tokens if t.ok and t.trusted),
            "untrusted_tokens": [_untrusted_doc(t) for t in self.untrusted_tokens],
            "known_case": self.known.as_dict() if self.known is not None else None,
            "reports": [r.as_dict() for r in self.reports],
            "parties": [p.as_dict() for p in self.parties],
            "handovers": [h.as_dict() for h in self.handovers],
            "problems": [p.as_dict() for p in self.problems],
        }

    @property
    def untrusted_tokens(self) -> tuple[TokenCheck, ...]:
        """Tokens that verify but are no trusted time here: demo, or an unknown root."""
        return tuple(t for t in self.tokens if t.ok and not t.trusted)


def _untrusted_doc(check: TokenCheck) -> dict[str, Any]:
    return {
        "seq": check.seq,
        "tsa": str(check.token.get("tsa", "")),
        "tsr": str(check.token.get("tsr", "")),
        "gen_time": check.gen_time,
        "root_sha256": check.root_sha256,
        "demo": check.demo,
        "recorded_trusted": bool(check.token.get("trusted")),
    }


def _check_key(case: Case, entries: list[CustodyEntry], expect: str | None) -> list[Problem]:
    problems: list[Problem] = []
    try:
        pem = case.info.public_key_pem.encode("ascii")
        key = load_public_pem(pem)
    except (ValueError, ForensicError):
        return [Problem("key", "key_unreadable", CASE_FILE, "public key does not parse")]
    actual = fingerprint(key)
    if actual != case.info.public_key_fingerprint:
        problems.append(
            Problem(
                "key",
                "fingerprint_mismatch",
                CASE_FILE,
                "public_key_fingerprint does not match public_key_pem",
            )
        )
    pub_file = case.root / PUBKEY_FILE
    try:
        if pub_file.read_bytes() != pem:
            problems.append(
                Problem(
                    "key", "pubkey_file_differs", PUBKEY_FILE, "differs from the key in case.json"
                )
            )
    except FileNotFoundError:
        problems.append(Problem("key", "pubkey_file_missing", PUBKEY_FILE))
    init = entries[0] if entries and entries[0].action == "init" else None
    if init is None:
        problems.append(
            Problem(
                "log",
                "no_init_entry",
                f"{LOG_FILE}:1",
                "the first committed line is not the case's init entry",
            )
        )
    else:
        recorded = init.details.get("case", {}).get("public_key_pem")
        if recorded != case.info.public_key_pem:
            problems.append(
                Problem(
                    "key",
                    "key_swapped",
                    CASE_FILE,
                    "public key differs from the one recorded in log line 1",
                )
            )
    if expect and not actual.startswith(expect.lower().removeprefix("sha256:")):
        problems.append(
            Problem(
                "key",
                "unexpected_key",
                CASE_FILE,
                f"fingerprint {actual} is not the expected {expect}",
            )
        )
    return problems


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _capture_flaw(entry: CustodyEntry) -> str | None:
    """Why a signed capture entry cannot describe an item (None when it can).

    Signed lines are trusted for what they say, not for their shape: a buggy or future writer
    must not make verify crash or read outside the object store."""
    item = entry.details.get("item")
    if not isinstance(item, dict):
        return "details.item is not an object"
    sha = item.get("sha256")
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
        return "details.item.sha256 is not 64 lower-case hex digits"
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "details.item.size is not a non-negative integer"
    if not isinstance(item.get("hashes", {}), dict):
        return "details.item.hashes is not an object"
    enc = entry.details.get("encrypted")
    if enc is not None:
        # Ciphertext: the object is named by the SHA-256 of the ciphertext, not of the item.
        if not isinstance(enc, dict):
            return "details.encrypted is not an object"
        csha = enc.get("sha256")
        if not isinstance(csha, str) or not _HEX64.fullmatch(csha):
            return "details.encrypted.sha256 is not 64 lower-case hex digits"
        csize = enc.get("size")
        if not isinstance(csize, int) or isinstance(csize, bool) or csize < 0:
            return "details.encrypted.size is not a non-negative integer"
        sha = csha
    if entry.details.get("object") != f"objects/sha256/{sha[:2]}/{sha}":
        return "details.object is not the content address of the stored bytes' SHA-256"
    return None


def _rekey_flaw(entry: CustodyEntry) -> str | None:
    """Why an encrypt/share entry's object records cannot be trusted for paths."""
    objects = entry.details.get("objects", [])
    if not isinstance(objects, list):
        return "details.objects is not a list"
    for rec in objects:
        if not isinstance(rec, dict):
            return "a details.objects record is not an object"
        sha = rec.get("sha256")
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            return "a details.objects record has no 64-hex sha256"
        if rec.get("to") != f"objects/sha256/{sha[:2]}/{sha}":
            return "details.objects[].to is not the content address of its sha256"
        src = rec.get("from")
        if not isinstance(src, str) or not re.fullmatch(
            r"objects/sha256/[0-9a-f]{2}/[0-9a-f]{64}", src
        ):
            return "details.objects[].from is not an object path"
        if not isinstance(rec.get("size"), int):
            return "details.objects[].size is not an integer"
    return None


def _file_flaw(details: dict[str, Any]) -> str | None:
    files = details.get("files", [])
    if files is None or files == []:
        return None
    if not isinstance(files, list):
        return "details.files is not a list"
    for record in files:
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            return "a details.files record has no path"
        if not isinstance(record.get("sha256"), str) or not isinstance(record.get("size"), int):
            return "a details.files record lacks sha256 or size"
    return None


def _interrupted_detail(path: Path) -> str:
    try:
        data = json.loads(path.read_text("utf-8"))
        inputs = ", ".join(str(i.get("path")) for i in data.get("inputs", []))
        return (
            f"{data.get('action', 'run')} {data.get('run')} started {data.get('started')}: {inputs}"
        )
    except (OSError, ValueError, AttributeError):
        return "unreadable intent file"


def _unfinished_conversions(case: Case, entries: list[CustodyEntry]) -> dict[str, str]:
    """Case files a committed step (encrypt/share, analysis, ...) staged in tmp/ but did not yet
    move into place."""
    # a signed entry may carry anything: only a string run id names a run
    committed = {r: e.seq for e in entries if isinstance(r := e.details.get("run"), str)}
    out: dict[str, str] = {}
    if not case.store.tmp.is_dir():
        return out
    for path in case.store.tmp.glob("*.intent.json"):
        try:
            doc = json.loads(read_case_bytes(case.root, f"tmp/{path.name}"))
        except (OSError, ValueError, CaseLinkError):
            continue
        if not isinstance(doc, dict) or str(doc.get("run")) not in committed:
            continue
        for rec in doc.get("staged", []) or []:
            if isinstance(rec, dict) and (case.store.tmp / str(rec.get("tmp"))).is_file():
                out[str(rec.get("path"))] = (
                    f"{doc.get('action')} {doc.get('run')} committed at seq "
                    f"{committed[str(doc.get('run'))]}; 'forensic recover' finishes it"
                )
    return out


def _check_derived_plaintext(
    case: Case, path: Path, rel: str, record: dict[str, Any]
) -> Problem | None:
    """An encrypted derived file must decrypt to the plaintext SHA-256 its entry recorded."""
    from forensic.store.crypt import CryptError

    try:
        sha, size = plaintext_digest(case, path)
    except CryptError as exc:
        if exc.key != "decrypt_failed":
            raise
        return Problem("file", "decrypt_failed", rel, "age decryption failed")
    if sha != record["plaintext_sha256"] or size != record.get("plaintext_size", size):
        return Problem(
            "file",
            "plaintext_altered",
            rel,
            f"decrypts to SHA-256 {sha}, recorded {record['plaintext_sha256']} "
            f"at seq {record['seq']}",
        )
    return None


def _key_files_changed(case: Case, problems: list[Problem]) -> bool:
    """Whether case.json (its encryption record) or a key file is not what the log recorded."""
    from forensic.store.crypt import IDENTITY_FILE, RECIPIENTS_FILE

    names = {CASE_FILE, IDENTITY_FILE, RECIPIENTS_FILE}
    if case.store.crypto is not None:
        names.add(case.store.crypto.encryption.identity_file)
    return any(p.area in ("file", "key") and p.location in names for p in problems)


LINK_KINDS = frozenset({"symlink", "hard_link", "special_file"})
"""Problem kinds for an entry that is not a plain file or folder of the case (never followed)."""

_LINK_DETAIL = MappingProxyType(
    {
        "symlink": "a symbolic link: not followed, not the recorded file",
        "hard_link": "a hard link: the same file has another name, perhaps outside the case",
        "special_file": "a fifo, device or socket: not opened",
        "outside": "a path that leaves the case folder",
    }
)


def _area(rel: str) -> str:
    return "object" if rel.startswith("objects/") else "file"


def _link_problem(exc: CaseLinkError) -> Problem:
    rel = str(exc.params.get("path", ""))
    return Problem(_area(rel), exc.key, rel, _LINK_DETAIL.get(exc.key, exc.key))


def _check_recorded_files(
    case: Case,
    recorded_files: dict[str, dict[str, Any]],
    unfinished: dict[str, str],
    problems: list[Problem],
    decrypt: bool,
) -> tuple[int, list[tuple[Path, str, dict[str, Any]]]]:
    """Every file a log entry vouches for: present, a plain file read without following a
    link, with the recorded SHA-256 and size. Returns the count checked and, for ``decrypt``,
    the encrypted derived files whose plaintext is to be checked."""
    files_checked = 0
    to_decrypt: list[tuple[Path, str, dict[str, Any]]] = []
    for rel, record in sorted(recorded_files.items()):
        if rel.startswith("/") or ".." in rel.split("/"):
            # A signed record must never make verify read outside the case folder.
            problems.append(
                Problem("file", "file_path_invalid", rel, f"recorded at seq {record['seq']}")
            )
            continue
        if rel in unfinished:
            # A committed encrypt/share whose staged copy was not yet moved into place.
            problems.append(Problem("interrupted", "conversion_unfinished", rel, unfinished[rel]))
            continue
        try:
            sha, size = case_file_digest(case.root, rel)
        except CaseLinkError as exc:
            problems.append(_link_problem(exc))
            continue
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            problems.append(
                Problem("file", "file_missing", rel, f"recorded at seq {record['seq']}")
            )
            continue
        files_checked += 1
        if size != record.get("size", size) or sha != record.get("sha256"):
            problems.append(
                Problem("file", "file_altered", rel, f"SHA-256 differs from seq {record['seq']}")
            )
        elif decrypt and isinstance(record.get("plaintext_sha256"), str):
            to_decrypt.append((case.root / rel, rel, record))
    return files_checked, to_decrypt


def _check_tree(
    case: Case, known: frozenset[str] | set[str], superseded: dict[str, int], announced: set[str]
) -> list[Problem]:
    """Everything in the case folder: links, hard links and special files named (never
    followed or opened), and what no log entry recorded."""
    problems: list[Problem] = []
    live = {f"tmp/{name}" for name in _live_uploads(case)}
    for dirpath, dirs, names in os.walk(case.root):
        if Path(dirpath).relative_to(case.root).as_posix() == "tmp":
            dirs[:] = [d for d in dirs if f"tmp/{d}" not in live]
        for name in [*dirs, *names]:
            full = Path(dirpath) / name
            rel = full.relative_to(case.root).as_posix()
            st = os.lstat(full)
            flaw = entry_flaw(st)
            if flaw is not None:
                problems.append(Problem(_area(rel), flaw, rel, _LINK_DETAIL[flaw]))
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(case.root).as_posix()
            if rel in known or entry_flaw(os.lstat(full)) is not None:
                continue
            problems.extend(_unrecorded(full, rel, superseded, announced))
    return problems


def _live_uploads(case: Case) -> set[str]:
    """The ``tmp/`` folders a live run's signed intent names (none when a key is unreadable)."""
    try:
        publics = case.party_public_keys()
    except (ValueError, TypeError):
        return set()
    return live_tmp_entries(case.root, publics)


def _unrecorded(
    full: Path, rel: str, superseded: dict[str, int], announced: set[str]
) -> list[Problem]:
    """A plain file no log entry recorded: left by an interrupted run, or foreign."""
    if rel in superseded:
        return [
            Problem(
                "interrupted",
                "object_superseded",
                rel,
                f"replaced by new ciphertext at seq {superseded[rel]}; "
                "'forensic recover' removes it",
            )
        ]
    if rel.startswith("tmp/") and rel.endswith(OUTSIDE_SUFFIX):
        return _outside_problem(full, rel)
    return [_unknown_file(full, rel, announced)]


def _outside_problem(full: Path, rel: str) -> list[Problem]:
    """An outside intent: nothing while its run is alive, else the plaintext it may have left
    outside the case (recovery removes it)."""
    if is_live(full.parent.parent, full.name):
        return []
    try:
        doc = json.loads(full.read_bytes())
        paths = [str(p) for p in doc.get("paths") or []]
        paths += [str(r.get("path")) for r in doc.get("outputs") or [] if isinstance(r, dict)]
        detail = f"{doc.get('action')} {doc.get('run')} started {doc.get('started')}: "
        detail += ", ".join(display(p) for p in paths)
    except (OSError, ValueError, AttributeError):
        detail = "unreadable intent file"
    return [
        Problem(
            "interrupted",
            "plaintext_outside",
            rel,
            detail + "; 'forensic recover' removes what is left",
        )
    ]


def _unknown_file(full: Path, rel: str, announced: set[str]) -> Problem:
    """What a file no log entry records is: something an interrupted run left, or foreign."""
    if rel.startswith("tmp/"):
        if full.name.endswith(".intent.json"):
            return Problem("interrupted", "run_interrupted", rel, _interrupted_detail(full))
        size = full.stat().st_size
        return Problem("interrupted", "partial_file", rel, f"{size} bytes of an interrupted copy")
    if rel.startswith("objects/") and own_orphan(full, rel, announced):
        return Problem(
            "object",
            "object_unrecorded",
            rel,
            "not acquired by any log entry; an interrupted run's intent names it "
            "('forensic recover' quarantines it)",
        )
    if rel.startswith("objects/"):
        return Problem(
            "object",
            "object_foreign",
            rel,
            "foreign file: no log entry records it and no interrupted run of this tool was "
            "writing it (or its name is not the SHA-256 of its bytes); recovery leaves it "
            "where it is",
        )
    return Problem("file", "file_unrecorded", rel, "not written by any log entry")


def _usable_entries(entries: list[CustodyEntry]) -> tuple[list[CustodyEntry], list[Problem]]:
    """The entries whose details can be read, and a problem for each that cannot."""
    usable: list[CustodyEntry] = []
    malformed: list[Problem] = []
    for entry in entries:
        flaw = _capture_flaw(entry) if entry.action == "capture" else None
        if entry.action in REKEY_ACTIONS:
            flaw = _rekey_flaw(entry)
        flaw = flaw or _file_flaw(entry.details)
        if flaw is not None:
            malformed.append(Problem("log", "entry_malformed", f"{LOG_FILE}:{entry.seq + 1}", flaw))
            continue
        usable.append(entry)
    return usable, malformed


def _object_futures(
    case: Case,
    items: dict[ItemId, Item],
    pool: ThreadPoolExecutor,
    cold: bool,
    decrypt: bool,
    progress: ProgressReporter,
) -> list[Future[tuple[str, Any]]]:
    """Every object re-read and re-hashed in ``pool``, in item order."""

    def check(item_id: str) -> tuple[str, Any]:
        item = items[ItemId(item_id)]
        try:
            result: Any = case.store.verify_stored(item.stored, cold=cold, decrypt=decrypt)
        except CaseLinkError as exc:  # a link or fifo where the object must be: never read
            result = exc
        progress.advance(item.size)
        return item_id, result

    return [pool.submit(check, item_id) for item_id in sorted(items)]


def _object_problems(
    items: dict[ItemId, Item], results: list[tuple[str, Any]], problems: list[Problem]
) -> int:
    """Problems of the re-hashed objects, appended in item order; the bytes found intact."""
    checked_bytes = 0
    for item_id, result in results:
        item = items[item_id]  # type: ignore[index]
        rel = item.object_path
        if isinstance(result, CaseLinkError):
            problems.append(_link_problem(result))
        elif not result.present:
            problems.append(
                Problem(
                    "object",
                    "object_missing",
                    rel,
                    f"item acquired at seq {item.acquisitions[0].seq}",
                )
            )
        elif result.sha256 != item.stored.sha256 or result.size != item.stored.size:
            detail = f"SHA-256 now {result.sha256}"
            if result.size != item.stored.size:
                detail = f"size {result.size}, recorded {item.stored.size} (truncated?); " + detail
            if item.encrypted:
                detail = "ciphertext " + detail
            problems.append(Problem("object", "object_altered", rel, detail))
        elif result.decrypt_error is not None:
            problems.append(Problem("object", "decrypt_failed", rel, result.decrypt_error))
        elif result.plaintext_sha256 is not None and (
            result.plaintext_sha256 != item_id or result.plaintext_size != item.size
        ):
            problems.append(
                Problem(
                    "object",
                    "plaintext_altered",
                    rel,
                    f"decrypts to SHA-256 {result.plaintext_sha256}, recorded {item_id}",
                )
            )
        else:
            checked_bytes += result.size or 0
    return checked_bytes


def verify_case(
    case: Case,
    progress: ProgressReporter = SILENT,
    *,
    expect_key: str | None = None,
    expect_head: ExpectedHead | None = None,
    cold: bool = True,
    decrypt: bool = False,
) -> VerificationReport:
    """``decrypt``: also decrypt every ciphertext object and re-hash its plaintext (needs the
    case identity, i.e. the passphrase); without it ciphertext is checked against its name.

    The case is also checked against what this machine remembers of it (the session home:
    pinned key, newest head seen) and against ``expect_head`` from a third party."""
    raw = case.log.read_raw()
    committed = raw.lines[: len(raw.sigs)]
    entries: list[CustodyEntry] = []
    for line in committed:
        try:
            obj = parse_json_line(line)
            entries.append(
                CustodyEntry(
                    int(obj["seq"]),
                    str(obj["prev"]),
                    str(obj["time"]),
                    str(obj["actor"]),
                    str(obj["action"]),
                    str(obj["subject"]),
                    dict(obj.get("details") or {}),
                    line,
                )
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            continue
    problems = _check_key(case, entries, expect_key)
    usable, malformed = _usable_entries(entries)
    items = case.items(usable)
    pool = ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2)))
    try:
        early: list[Any] | None = None
        if not decrypt:
            # Plain checks need nothing the rest decides: the disk reads overlap the signature
            # checks below (CPU) instead of following them.
            progress.start("verify", sum(i.size for i in items.values()))
            early = _object_futures(case, items, pool, cold, False, progress)
        try:
            public = case.public_key()
            for lp in case.log.verify(public, case.info.public_key_fingerprint):
                where = f"{lp.file}:{lp.line}" if lp.line is not None else lp.file
                problems.append(
                    Problem("interrupted" if lp.interrupted else "log", lp.kind, where, lp.detail)
                )
        except (ValueError, ForensicError):
            pass  # already reported as key_unreadable

        problems.extend(_history_problems(case, committed, expect_head))
        tokens = token_status(case, entries)
        problems.extend(verify_tokens(case, entries, tokens))

        problems.extend(malformed)
        recorded_files = case.recorded_files(usable)
        superseded = case.superseded_objects(usable)
        unfinished = _unfinished_conversions(case, usable)
        derived_plaintext = 0
        files_checked, to_decrypt = _check_recorded_files(
            case, recorded_files, unfinished, problems, decrypt
        )
        if decrypt and _key_files_changed(case, problems):
            # Decrypt only with the encryption record and case key that the log vouches for: a
            # changed case.json or keys/ file is named above and must not steer decryption (another
            # identity file, no record at all) into one error that names something else.
            decrypt = False
            to_decrypt = []
        for path, rel, record in to_decrypt:
            problem = _check_derived_plaintext(case, path, rel, record)
            if problem is not None:
                problems.append(problem)
            else:
                derived_plaintext += 1

        report_problems, reports = check_reports(case, usable, decrypt=decrypt)
        problems.extend(report_problems)

        if early is None:
            progress.start("verify", sum(i.size for i in items.values()))
            if decrypt and case.store.crypto is not None:
                case.store.crypto.identity()  # unwrap once, before the threads (wrong passphrase)
            early = _object_futures(case, items, pool, cold, decrypt, progress)
        results = [f.result() for f in early]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    progress.finish()
    checked_bytes = _object_problems(items, results, problems)

    known = ALWAYS_PRESENT | set(recorded_files) | {i.object_path for i in items.values()}
    announced = announced_objects(case.store.tmp)
    problems.extend(_check_tree(case, known, superseded, announced))
    problems = list(dict.fromkeys(problems))  # a link is named once, by the walk or the read
    head = entries[-1].hash if entries else None
    return VerificationReport(
        case_id=case.info.case_id,
        key_fingerprint=case.info.public_key_fingerprint,
        log_entries=len(raw.lines),
        log_head=head,
        items=len(items),
        objects_checked=len(results),
        bytes_checked=checked_bytes,
        files_checked=files_checked,
        problems=tuple(problems),
        encrypted_objects=sum(1 for i in items.values() if i.encrypted),
        plaintext_checked=sum(
            1 for _i, r in results if not isinstance(r, CaseLinkError) and r.plaintext_sha256
        ),
        derived_plaintext_checked=derived_plaintext,
        tokens=tuple(tokens),
        known=case.history_known(),
        reports=tuple(reports),
        zone=case.info.timezone,
        parties=tuple(_parties(case)),
        handovers=tuple(handovers(entries)),
    )


def _parties(case: Case) -> list[Party]:
    try:
        return list(case.parties().values())
    except (ValueError, KeyError, TypeError, ForensicError):
        return []  # an unreadable key is reported above


def _history_problems(
    case: Case, committed: list[bytes], expect_head: ExpectedHead | None
) -> list[Problem]:
    """The case against this machine's record of it and against a third party's head."""
    problems: list[Problem] = []
    found = case.history_conflict(committed)
    if found is not None:
        area, where = ("key", CASE_FILE) if found.kind == "key_changed" else ("log", LOG_FILE)
        problems.append(Problem(area, found.kind, where, found.detail))
    if expect_head is not None:
        why = expect_head.missing_from(committed)
        if why is not None:
            problems.append(Problem("log", "unexpected_head", LOG_FILE, why))
    return problems


def record_verification(case: Case, key: ExaminerKey, report: VerificationReport) -> CustodyEntry:
    """Log the result (the caller holds the case lock and the log chain is intact)."""
    details = {
        "intact": report.intact,
        "items": report.items,
        "objects_checked": report.objects_checked,
        "bytes_checked": report.bytes_checked,
        "log_entries": report.log_entries,
        "log_head": report.log_head,
        "problems": [p.as_dict() for p in report.problems[:1000]],
        "problem_count": len(report.problems),
        "tool": tool_record(),
    }
    [entry] = case.record(key, [PendingEntry("verify", f"case:{case.info.case_id}", details)])
    return entry
