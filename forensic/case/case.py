"""A case folder and what can be derived from its custody log.

The log is the single source of truth: items, acquisitions and derived files are read from it;
``case.json`` and ``examiner.pub.pem`` are conveniences whose hashes the log records.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from forensic._internal.canonical import parse_json_line
from forensic._internal.casefs import (
    PRIVATE_DIR,
    SEALED_FILE,
    SEALED_SCRIPT,
    keep_private,
    make_private_dirs,
)
from forensic._internal.clock import DEFAULT_TIMEZONE, check_zone, utc_timestamp
from forensic._internal.fsio import atomic_write, fsync_dir
from forensic.case.layout import (
    CASE_DIRS,
    CASE_FILE,
    CASE_FORMAT_VERSION,
    PUBKEY_FILE,
    REKEY_ACTIONS,
)
from forensic.case.lock import case_lock
from forensic.case.records import file_record, file_sha256, host_name, tool_record
from forensic.case.step import NOTHING_RECOVERED, RecoveryReport, Step, recover
from forensic.custody.keys import ExaminerKey, load_public_pem
from forensic.custody.known_cases import (
    CaseHistoryError,
    HistoryConflict,
    KnownCase,
    conflict,
    load_known,
    party_conflict,
    remember,
)
from forensic.custody.log import CustodyEntry, CustodyLog, PendingEntry
from forensic.custody.parties import Party
from forensic.errors import CaseDamagedError, CaseError, ForensicError, KeyringError
from forensic.session import Session
from forensic.store import EvidenceStore, ItemId, StoredObject
from forensic.store.crypt import CaseCrypto, Encryption

__all__ = [
    "CASE_DIRS",
    "CASE_FILE",
    "CASE_FORMAT_VERSION",
    "PUBKEY_FILE",
    "REKEY_ACTIONS",
    "Acquisition",
    "Case",
    "CaseInfo",
    "Item",
    "RecoveryReport",
    "discover_case",
    "file_record",
    "file_sha256",
    "host_name",
    "tool_record",
]


@dataclass(frozen=True)
class CaseInfo:
    case_id: str
    title: str
    examiner: str
    organisation: str | None
    lang: str
    created: str
    public_key_pem: str
    public_key_fingerprint: str
    encryption: Encryption | None = None
    timezone: str = DEFAULT_TIMEZONE  # IANA zone every printed time is shown in, beside UTC

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "v": CASE_FORMAT_VERSION,
            "format": "forensic-case",
            "case_id": self.case_id,
            "title": self.title,
            "examiner": self.examiner,
            "organisation": self.organisation,
            "lang": self.lang,
            "created": self.created,
            "public_key_pem": self.public_key_pem,
            "public_key_fingerprint": self.public_key_fingerprint,
            "timezone": self.timezone,
        }
        if self.encryption is not None:
            doc["encryption"] = self.encryption.as_dict()
        return doc

    def case_json(self) -> bytes:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class Acquisition:
    """One time an item was acquired from a source."""

    seq: int
    time: str
    details: dict[str, Any]

    @property
    def source_path(self) -> str:
        return str(self.details.get("source", {}).get("path", ""))

    @property
    def acquired_utc(self) -> str:
        """When the acquisition began (``details.acquired``, UTC), else the entry's own time.

        The one instant every view prints as "acquired": the entry is written after hashing
        and the stored-copy check, a fraction of a second to minutes later."""
        acquired = self.details.get("acquired")
        return acquired if isinstance(acquired, str) and acquired else self.time


@dataclass(frozen=True)
class Item:
    item_id: ItemId
    size: int
    media_type: str
    hashes: dict[str, str]
    object_path: str
    acquisitions: tuple[Acquisition, ...] = field(default_factory=tuple)
    object_sha256: str = ""
    """SHA-256 of the stored object (ciphertext), when it is not the item's own bytes."""
    object_size: int | None = None
    replaced_at: int | None = None
    """Seq of the last entry that replaced the object with new ciphertext."""

    @property
    def encrypted(self) -> bool:
        return bool(self.object_sha256)

    @property
    def acquired_utc(self) -> str:
        """The first acquisition's instant (:attr:`Acquisition.acquired_utc`); ``list``, ``show``
        and the report all print this one."""
        return self.acquisitions[0].acquired_utc if self.acquisitions else ""

    @property
    def stored(self) -> StoredObject:
        return StoredObject(
            self.item_id,
            self.object_path,
            self.object_sha256 or self.item_id,
            self.object_size if self.encrypted else self.size,
            self.encrypted,
        )


def case_info_from(data: Any) -> CaseInfo:
    """The case record of ``case.json`` (or of a log entry's ``details.case``), checked."""
    info = CaseInfo(
        case_id=str(data["case_id"]),
        title=str(data["title"]),
        examiner=str(data["examiner"]),
        organisation=data.get("organisation"),
        lang=str(data.get("lang", "en")),
        created=str(data["created"]),
        public_key_pem=str(data["public_key_pem"]),
        public_key_fingerprint=str(data["public_key_fingerprint"]),
        encryption=Encryption.from_dict(data.get("encryption")),
        timezone=str(data.get("timezone", DEFAULT_TIMEZONE)),
    )
    check_zone(info.timezone)
    return info


def discover_case(explicit: Path | None = None) -> Path:
    """``--case``, else ``FORENSIC_CASE``, else the current folder or its parents (like git)."""
    if explicit is not None:
        if not (explicit / CASE_FILE).is_file():
            raise CaseError("not_a_case", path=str(explicit))
        return explicit
    env = os.environ.get("FORENSIC_CASE")
    if env:
        path = Path(env)
        if not (path / CASE_FILE).is_file():
            raise CaseError("not_a_case", path=str(path))
        return path
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CASE_FILE).is_file() and (candidate / "custody").is_dir():
            return candidate
    raise CaseError("no_case_found", path=str(here))


class Case:
    """An open case folder, read and written on behalf of one :class:`Session`."""

    def __init__(self, root: Path, info: CaseInfo, session: Session | None = None) -> None:
        self.root = root
        self.info = info
        self.session = session if session is not None else Session.default()
        self.session.attach(root, self)
        crypto = (
            CaseCrypto(root, info.encryption, self.session) if info.encryption is not None else None
        )
        self.store = EvidenceStore(root, crypto, self._locate)
        self.log = CustodyLog(root)
        self._items_cache: tuple[tuple[int, int], dict[ItemId, Item]] | None = None
        self._holding = False  # this object holds the case lock (inside :meth:`writing`)
        self._signer: ExaminerKey | None = None  # the key of the write in progress
        self._step: Step | None = None  # the open step, if any

    def _locate(self, item_id: str) -> StoredObject | None:
        """The item's current object per the committed log (cached while the log is unchanged)."""
        try:
            st = self.log.log_path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = (0, 0)
        if self._items_cache is None or self._items_cache[0] != stamp:
            self._items_cache = (stamp, self.items())
        item = self._items_cache[1].get(ItemId(item_id))
        return item.stored if item is not None else None

    # -- creation and opening --------------------------------------------------------------
    @classmethod
    def init(
        cls,
        root: Path,
        *,
        case_id: str,
        title: str,
        examiner: str,
        organisation: str | None,
        lang: str,
        key: ExaminerKey,
        extra_files: dict[str, bytes] | None = None,
        encryption: Encryption | None = None,
        session: Session | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> tuple[Case, CustodyEntry]:
        """Create the case; ``encryption`` with ``extra_files`` holding the wrapped identity
        and recipients file makes it an encrypted case from the start."""
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise CaseError("case_exists", path=str(root))
        if not case_id.strip() or not title.strip() or not examiner.strip():
            raise CaseError("case_fields_required")
        check_zone(timezone)
        root.mkdir(parents=True, exist_ok=True)
        root = root.resolve()
        os.chmod(root, PRIVATE_DIR)  # whatever the umask: no other account reads evidence
        for sub in CASE_DIRS:
            make_private_dirs(root, sub)
        info = CaseInfo(
            case_id=case_id,
            title=title,
            examiner=examiner,
            organisation=organisation,
            lang=lang,
            created=utc_timestamp(),
            public_key_pem=key.public_pem.decode("ascii"),
            public_key_fingerprint=key.fingerprint,
            encryption=encryption,
            timezone=timezone,
        )
        atomic_write(root / CASE_FILE, info.case_json(), mode=SEALED_FILE)
        atomic_write(root / PUBKEY_FILE, key.public_pem, mode=SEALED_FILE)
        files = [root / CASE_FILE, root / PUBKEY_FILE]
        for name, data in (extra_files or {}).items():
            make_private_dirs(root, (root / name).parent)
            mode = SEALED_SCRIPT if name.endswith(".sh") else SEALED_FILE
            atomic_write(root / name, data, mode=mode)
            files.append(root / name)
        fsync_dir(root)
        case = cls(root, info, session)
        details = {
            "case": info.as_dict(),
            "salt": secrets.token_hex(32),
            "tool": tool_record(),
            "host": host_name(),
            "files": [file_record(root, f) for f in files],
        }
        with case_lock(root, case.session.lock_timeout):
            [entry] = case.log.append(key, [PendingEntry("init", f"case:{case_id}", details)])
            case.remember_history()
        return case, entry

    @classmethod
    def open(cls, root: Path, session: Session | None = None) -> Case:
        try:
            info = case_info_from(json.loads((root / CASE_FILE).read_text("utf-8")))
        except FileNotFoundError as exc:
            raise CaseError("not_a_case", path=str(root)) from exc
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CaseDamagedError(
                "case_file_unreadable", path=str(root / CASE_FILE), reason=str(exc)
            ) from exc
        return cls(root.resolve(), info, session)

    @classmethod
    def open_from_log(cls, root: Path, session: Session | None = None) -> tuple[Case, int]:
        """The case as its signed log records it, for checking a case whose ``case.json`` is
        damaged: the newest committed entry carrying the case record (``init``, then
        ``encrypt``/``share``: ``details.case``), and its line number. The log, the key and
        ``examiner.pub.pem`` are checked as for any case; nothing here trusts the damaged file.
        Raises :class:`CaseDamagedError` when no committed line carries a usable record."""
        raw = CustodyLog(root).read_raw()
        found: tuple[CaseInfo, int] | None = None
        for number, line in enumerate(raw.lines[: len(raw.sigs)], start=1):
            try:
                obj = parse_json_line(line)
                if obj.get("action") not in ("init", *REKEY_ACTIONS):
                    continue
                found = (case_info_from(obj["details"]["case"]), number)
            except (ValueError, KeyError, TypeError, AttributeError, ForensicError):
                continue
        if found is None:
            raise CaseDamagedError(
                "case_file_unreadable",
                path=str(root / CASE_FILE),
                reason="and no committed log line carries the case record",
            )
        return cls(root.resolve(), found[0], session), found[1]

    # -- writing ---------------------------------------------------------------------------
    def parties(self) -> dict[str, Party]:
        """The parties of the committed log, fingerprint → party: the examiner of ``init``,
        then each ``party-add`` whose signer was a party and whose signature verifies."""
        from forensic.custody.parties import PARTY_ADD, case_parties, examiner_party

        raw = self.log.read_raw()
        entries = self.log.entries_of(PARTY_ADD, raw=raw)
        if not entries:
            return {self.info.public_key_fingerprint: examiner_party(self.info.as_dict())}
        return case_parties(entries, examiner_party(self.info.as_dict()), self.log.signatures(raw))

    def check_key(self, key: ExaminerKey, *, receiving: bool = False) -> None:
        """Only a party of the case signs its entries (the examiner, or a party added by a
        signed ``party-add``: a receiver of a hand-over), and a receiver only after the receipt
        (``receiving``: the receipt itself is being written)."""
        from forensic.custody.parties import HANDOVER, RECEIPT, handovers

        mine = key.fingerprint
        if mine != self.info.public_key_fingerprint and mine not in self.parties():
            raise KeyringError(
                "key_not_case_key",
                have=key.fingerprint[:16],
                want=self.info.public_key_fingerprint[:16],
            )
        if not receiving:
            given = handovers(self.log.entries_of(HANDOVER, RECEIPT))
            waiting = [h for h in given if h.receiver == mine]
            if waiting and not waiting[-1].received:
                raise KeyringError("custody.receive_first", seq=waiting[-1].seq)

    def examiner_of(self, key: ExaminerKey | None) -> str:
        """The name a signed entry gives its signer: the party's, else the case's examiner."""
        if key is None or key.fingerprint == self.info.public_key_fingerprint:
            return self.info.examiner
        party = self.parties().get(key.fingerprint)
        return party.name if party is not None else self.info.examiner

    @property
    def examiner_name(self) -> str:
        """The signer's name while a write is in progress (:meth:`examiner_of`)."""
        return self.examiner_of(self._signer)

    @property
    def holding(self) -> bool:
        """Whether this case object holds the case lock now (no network call may run)."""
        return self._holding

    @contextlib.contextmanager
    def writing(self, key: ExaminerKey, *, receiving: bool = False) -> Iterator[RecoveryReport]:
        """Hold the case lock; first repair and log whatever an interrupted run left behind.

        Re-entrant: inside an outer hold it yields an empty report (the outer one repaired).
        On leaving, the decryptions this session made are logged (``access``); ``receiving``:
        the receipt of a hand-over to ``key`` is what is written (:meth:`check_key`)."""
        self.check_key(key, receiving=receiving)
        if self._holding:
            yield NOTHING_RECOVERED
            return
        with case_lock(self.root, self.session.lock_timeout):
            self.log = CustodyLog(self.root)
            self.check_history()
            self._holding = True
            self._signer = key
            try:
                keep_private(self.root)
                yield recover(self, key)
            finally:
                # Decryptions made by this command are logged even when it failed; if that
                # append fails too they stay pending for the next write.
                with contextlib.suppress(OSError, ForensicError):
                    self.record_access(key, locked=True)
                self._holding = False
                self._signer = None
                self.remember_history()

    @contextlib.contextmanager
    def step(
        self,
        key: ExaminerKey,
        action: str,
        *,
        run: str | None = None,
        intent: dict[str, Any] | None = None,
        receiving: bool = False,
    ) -> Iterator[Step]:
        """The one write transaction (:mod:`forensic.case.step`): lock and recover (unless
        held already), stage, commit with :meth:`Step.record`, move into place."""
        if self._step is not None:
            raise RuntimeError(f"step {action!r} opened inside step {self._step.action!r}")
        with self.writing(key, receiving=receiving) as recovery:
            step = Step(self, key, action, run=run, intent=intent, recovery=recovery)
            self._step = step
            try:
                yield step
            except BaseException:
                step.roll_back()
                raise
            else:
                step.close()
            finally:
                self._step = None

    def record_access(
        self,
        key: ExaminerKey,
        *,
        verb: str | None = None,
        items: list[str] | None = None,
        decrypted: bool = True,
        locked: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> CustodyEntry | None:
        """Append an ``access`` entry: who (the signer), when, which items, which verb.

        Without ``items``: every item this session decrypted since the last access entry.
        The caller holds the case lock when ``locked``; otherwise it is taken here, and the
        entry is skipped (kept pending) when an interrupted append must first be recovered.
        """
        names = items if items is not None else self.session.take_decrypted(self.root)
        if not names:
            return None
        details: dict[str, Any] = {
            "verb": verb or self.session.verb,
            "items": sorted(dict.fromkeys(names)),
            "decrypted": decrypted,
            "examiner": self.examiner_of(key),
            "host": host_name(),
            "tool": tool_record(),
            **(extra or {}),
        }
        entry = PendingEntry("access", f"case:{self.info.case_id}", details)
        try:
            if locked or self._holding:
                [written] = self.log.append(key, [entry])
                return written
            with case_lock(self.root, self.session.lock_timeout):
                self.log = CustodyLog(self.root)
                raw = self.log.read_raw()
                if raw.fragment or len(raw.lines) != len(raw.sigs):
                    raise OSError("interrupted append pending recovery")
                self.check_history()
                [written] = self.log.append(key, [entry])
                self.remember_history()
                return written
        except (OSError, ForensicError):
            if items is None and decrypted:
                for name in names:  # still pending: the next write logs them
                    self.session.note_decrypted(self.root, name)
            raise

    # -- what this machine remembers of the case (forensic.custody.known_cases) -----------
    def history_known(self) -> KnownCase | None:
        """The session home's record of this case (None: never written or verified here)."""
        return load_known(self.session.home, self.info.case_id, self.info.created)

    def history_conflict(self, lines: list[bytes] | None = None) -> HistoryConflict | None:
        """How this case contradicts the session home's record of it (a changed key, a cut or
        rewritten log), or None."""
        lines = lines if lines is not None else self.log.committed_lines()
        known = self.history_known()
        found = conflict(known, self.info.public_key_fingerprint, lines, self.info.timezone)
        if found is None and known is not None and known.parties:
            found = party_conflict(known, set(self.parties()), self.info.timezone)
        return found

    def check_history(self) -> None:
        """Refuse to write a case that contradicts this machine's record: appending to a cut
        log would make the cut look like the case's own history."""
        found = self.history_conflict()
        if found is not None:
            raise CaseHistoryError(f"trust.{found.kind}", case_id=self.info.case_id, **found.params)

    def remember_history(
        self, lines: list[bytes] | None = None, pin: tuple[str, ...] = ()
    ) -> KnownCase | None:
        """Pin the key on first use and remember the newest committed head in the session
        home; ``pin``: party fingerprints to pin too (a receiver pins the sender's). An
        unwritable home is not the case's problem (None)."""
        lines = lines if lines is not None else self.log.committed_lines()
        try:
            return remember(
                self.session.home,
                self.info.case_id,
                self.info.created,
                self.info.public_key_fingerprint,
                lines,
                pin,
            )
        except OSError:
            return None

    def recover(self, key: ExaminerKey) -> RecoveryReport:
        """Quarantine and log what an interrupted run left behind (nothing else is written)."""
        with self.writing(key) as report:
            return report

    def record(self, key: ExaminerKey, entries: list[PendingEntry]) -> list[CustodyEntry]:
        """Commit entries that vouch for no staged file: through the open step, else as a step
        of their own (the caller holds :meth:`writing` or the case lock)."""
        if self._step is not None:
            return self._step.record(entries)
        if not entries:
            return []
        step = Step(self, key, entries[0].action)
        written = step.record(entries)
        step.close()
        return written

    # -- reading ---------------------------------------------------------------------------
    def entries(self) -> list[CustodyEntry]:
        return self.log.entries()

    def items(self, entries: list[CustodyEntry] | None = None) -> dict[ItemId, Item]:
        """Every acquired item with all its acquisitions, in capture order."""
        found: dict[ItemId, Item] = {}
        for entry in entries if entries is not None else self.entries():
            if entry.action in REKEY_ACTIONS:
                for rec in entry.details.get("objects", []) or []:
                    if not isinstance(rec, dict):
                        continue
                    old_item = found.get(ItemId(str(rec.get("item", ""))))
                    if old_item is not None and isinstance(rec.get("to"), str):
                        found[old_item.item_id] = replace(
                            old_item,
                            object_path=str(rec["to"]),
                            object_sha256=str(rec.get("sha256", "")),
                            object_size=rec.get("size")
                            if isinstance(rec.get("size"), int)
                            else None,
                            replaced_at=entry.seq,
                        )
                continue
            if entry.action != "capture":
                continue
            item = entry.details.get("item", {})
            item_id = ItemId(str(item.get("sha256", "")))
            acq = Acquisition(entry.seq, entry.time, entry.details)
            old = found.get(item_id)
            if old is None:
                enc = entry.details.get("encrypted")
                enc = enc if isinstance(enc, dict) else {}
                found[item_id] = Item(
                    item_id=item_id,
                    size=int(item.get("size", 0)),
                    media_type=str(item.get("media_type", "")),
                    hashes=dict(item.get("hashes", {})),
                    object_path=str(entry.details.get("object", "")),
                    acquisitions=(acq,),
                    object_sha256=str(enc.get("sha256", "")),
                    object_size=enc.get("size") if isinstance(enc.get("size"), int) else None,
                )
            else:
                hashes = {**old.hashes, **item.get("hashes", {})}
                found[item_id] = replace(old, hashes=hashes, acquisitions=(*old.acquisitions, acq))
        return found

    def recorded_objects(self, entries: list[CustodyEntry] | None = None) -> set[str]:
        """The objects items lie in now (not those replaced by new ciphertext)."""
        return {item.object_path for item in self.items(entries).values()}

    def superseded_objects(self, entries: list[CustodyEntry] | None = None) -> dict[str, int]:
        """Objects a committed entry replaced with new ciphertext: path → seq of that entry."""
        out: dict[str, int] = {}
        for entry in entries if entries is not None else self.entries():
            if entry.action in REKEY_ACTIONS:
                for rec in entry.details.get("objects", []) or []:
                    if isinstance(rec, dict) and isinstance(rec.get("from"), str):
                        out[rec["from"]] = entry.seq
        current = self.recorded_objects(entries)
        return {rel: seq for rel, seq in out.items() if rel not in current}

    def recorded_files(
        self, entries: list[CustodyEntry] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Case files vouched for by log entries (the latest record of each path wins)."""
        files: dict[str, dict[str, Any]] = {}
        for entry in entries if entries is not None else self.entries():
            for record in entry.details.get("files", []) or []:
                if isinstance(record, dict) and "path" in record:
                    files[str(record["path"])] = {**record, "seq": entry.seq}
        return files

    def resolve_item(self, given: str, entries: list[CustodyEntry] | None = None) -> Item:
        """An item by its number or by its SHA-256 (docs/json-output.md, "Naming an item").

        Numbers are the ones ``list`` and the report print: 1-based, in capture order (the log
        is append-only, so a number never changes). The rule, so no input is ever guessed:

        * ``#N`` is always the number N; ``sha256:…`` is always a hash;
        * only decimal digits, fewer than 6: the number (a hash prefix needs at least 6);
        * otherwise a hash prefix of at least 6 hex digits; a string of 6 or more decimal
          digits that is also a number in range and a prefix is refused as ambiguous.
        """
        text = given.strip()
        items = list(self.items(entries).values())
        if text.startswith("#"):
            return _item_by_number(items, text[1:], given)
        if text.isascii() and text.isdigit() and len(text) < 6:
            return _item_by_number(items, text, given)
        prefix = text.lower().removeprefix("sha256:")
        is_hex = len(prefix) >= 6 and all(c in "0123456789abcdef" for c in prefix)
        matches = [i for i in items if i.item_id.startswith(prefix)] if is_hex else []
        if len(matches) > 1:
            raise CaseError("ambiguous_item", item=given, count=len(matches))
        as_number = (
            int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= len(items) else 0
        )
        if as_number and matches:
            raise CaseError(
                "item_number_or_hash", item=given, number=as_number, sha256=matches[0].item_id[:12]
            )
        if as_number:
            return items[as_number - 1]
        if not matches:
            raise CaseError("item_not_found", item=given, count=len(items))
        return matches[0]

    def public_key(self) -> Any:
        return load_public_pem(self.info.public_key_pem.encode("ascii"))

    def party_public_keys(self) -> list[Any]:
        """The keys of every party of the committed log (the examiner's first): an outside
        intent signed by any of them is one this case's recovery acts on."""
        keys = [self.public_key()]
        try:
            parties = list(self.parties().values())
        except (OSError, ValueError, KeyError, TypeError):
            return keys  # a damaged log: the examiner's own intents only
        for party in parties:
            if party.fingerprint != self.info.public_key_fingerprint:
                keys.append(load_public_pem(party.public_key_pem.encode("ascii")))
        return keys


def _item_by_number(items: list[Item], digits: str, given: str) -> Item:
    """``items[N - 1]``, or an error that names the numbers this case has."""
    if not (digits.isascii() and digits.isdigit()):
        raise CaseError("item_not_found", item=given, count=len(items))
    number = int(digits)
    if not items:
        raise CaseError("item_number_no_items", number=number)
    if not 1 <= number <= len(items):
        raise CaseError("item_number_out_of_range", number=number, count=len(items))
    return items[number - 1]
