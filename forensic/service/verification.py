"""``verify``: re-hash every object, re-check the whole custody log, and the record policy.

The result is recorded as a signed ``verify`` entry when the session's examiner key is the
case's and the log itself verifies; a third party without the key still gets the full
verification, unrecorded, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from forensic.errors import ForensicError, KeyringError
from forensic.i18n import message
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case
from forensic.service.reading import NO_RECORD
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case
    from forensic.custody.keys import ExaminerKey
    from forensic.custody.known_cases import KnownCase
    from forensic.problem import Problem
    from forensic.verify import VerificationReport


@dataclass(frozen=True)
class Verification:
    report: VerificationReport
    recorded_seq: int | None
    """The ``verify`` entry this run appended, if any."""
    not_recorded: str | None
    """Why nothing was appended (``--no-record``, no usable key, a log that does not verify)."""
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Object path → the file name of the item stored there (to name it beside a problem)."""
    remembered: KnownCase | None = None
    """This machine's record of the case after the run (key pinned, newest head); None when
    the log or key did not verify (nothing pinned) or the home could not be written."""

    @property
    def pinned_now(self) -> bool:
        """The key was pinned on this machine by this run (first use)."""
        return self.report.known is None and self.remembered is not None

    @property
    def intact(self) -> bool:
        return self.report.intact

    def name_of(self, location: str) -> str | None:
        """The original file name of the item a problem's location holds, if it is one."""
        return self.names.get(location) or None

    def as_dict(self) -> dict[str, Any]:
        doc = self.report.as_dict()
        doc["ok"] = self.report.intact
        doc["recorded_seq"] = self.recorded_seq
        doc["remembered"] = self.remembered.as_dict() if self.remembered is not None else None
        doc["pinned_now"] = self.pinned_now
        for problem in doc["problems"]:
            name = self.name_of(problem["location"])
            if name is not None:
                problem["name"] = name
        return doc


def verify(
    session: Session,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
    *,
    expect_key: str | None = None,
    expect_head: str | None = None,
    no_record: bool = False,
    decrypt: bool = False,
) -> Verification:
    """Verify the case under its lock and, when allowed, log the result and the decryptions.

    Every key is unlocked before the lock is taken, so no passphrase prompt ever holds the case.
    ``decrypt`` needs the key and the case identity: a wrong passphrase stops here; an
    unreadable identity (an edited encryption record, a replaced key file) is left for the
    verification to name. ``expect_key`` and ``expect_head`` (``HASH`` or ``SEQ:HASH``) take at
    least 16 hex digits. A log and key that verify are remembered in the session home (the key
    pinned on first use, the newest head), also under ``no_record`` (that promises the case
    folder is left alone, not the home).
    """
    from forensic.case.lock import case_lock
    from forensic.custody.known_cases import ExpectedHead, parse_expected_key
    from forensic.verify import record_verification, verify_case
    from forensic.verify.case_check import LINK_KINDS

    key_prefix = parse_expected_key(expect_key) if expect_key is not None else None
    head = ExpectedHead.parse(expect_head) if expect_head is not None else None
    case, damage = _open_even_damaged(session, case_dir)
    key = _decryption_key(session, case) if decrypt else None
    not_recorded: str | None = None
    if no_record:
        key, not_recorded = None, NO_RECORD
    elif key is None:
        key, not_recorded = _recording_key(session, case)
    recorded: int | None = None
    with case_lock(case.root, session.lock_timeout):
        report = verify_case(
            case, progress, expect_key=key_prefix, expect_head=head, decrypt=decrypt
        )
        if damage is not None:
            report = replace(report, problems=(damage, *report.problems))
        if key is not None:
            if not report.log_intact or report.interrupted:
                not_recorded = message("error.log_not_intact", session.lang)
            elif any(p.kind in LINK_KINDS for p in report.problems):
                # nothing is written into a case holding links (a write could follow one)
                not_recorded = message("error.files.not_recorded", session.lang)
            else:
                recorded = record_verification(case, key, report).seq
                case.record_access(key, verb="verify", locked=True)
        remembered = case.remember_history() if report.log_intact else None
    return Verification(
        report,
        recorded,
        not_recorded,
        _object_names(case) if report.problems else MappingProxyType({}),
        remembered,
    )


def _open_even_damaged(session: Session, case_dir: Path | None) -> tuple[Case, Problem | None]:
    """The case, and a damaged ``case.json`` as the first problem: the case record is then
    taken from the signed log (its init entry, or the newest re-encryption), so that objects,
    log and tokens are still checked and the damage is an integrity finding (exit 1)."""
    from forensic.case import CASE_FILE, Case, discover_case
    from forensic.errors import CaseDamagedError
    from forensic.problem import Problem

    try:
        return open_case(session, case_dir), None
    except CaseDamagedError as exc:
        root = discover_case(case_dir)
        case, line = Case.open_from_log(root, session)
        reason = exc.params.get("reason", "")
        detail = f"not a readable case record ({reason}); checked with the one of log line {line}"
        return case, Problem("file", "case_file_unreadable", CASE_FILE, detail)


def _object_names(case: Case) -> Mapping[str, str]:
    """Each item's object path → its file name, as far as the log can still be read."""
    from forensic.service.reading import item_name

    try:
        items = case.items()
    except (ForensicError, OSError, ValueError):
        return MappingProxyType({})
    names = {item.object_path: item_name(item) for item in items.values()}
    return MappingProxyType(names)


def _decryption_key(session: Session, case: Case) -> ExaminerKey:
    """The case's key with its identity unwrapped (``--decrypt``)."""
    from forensic.store.crypt import CryptError

    key = session.unlock()
    case.check_key(key)
    if case.store.crypto is not None:
        try:
            case.store.crypto.identity()
        except CryptError as exc:
            if exc.key != "identity_unreadable":
                raise
    return key


def _recording_key(session: Session, case: Case) -> tuple[ExaminerKey | None, str | None]:
    """The key that signs the result, or ``None`` and why (a third party without it)."""
    try:
        key = session.unlock()
        case.check_key(key)
    except KeyringError as exc:
        return None, exc.diagnostics(session.lang)
    return key, None
