"""Opening a case for a use case: where it is, whose session reads it, who may write it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forensic.case import Case, RecoveryReport
    from forensic.custody.keys import ExaminerKey
    from forensic.session import Session


def open_case(session: Session, case_dir: Path | None = None) -> Case:
    """``case_dir``, else ``FORENSIC_CASE``, else this folder or a parent; read by ``session``."""
    from forensic.case import Case, discover_case

    return Case.open(discover_case(case_dir), session)


def open_for_writing(session: Session, case_dir: Path | None = None) -> tuple[Case, ExaminerKey]:
    """The case and the session's examiner key, checked to be the case's own key.

    The key is unlocked here, before any lock is taken, so no passphrase prompt ever holds
    the case; an empty examiner home is an error (only ``init`` and ``key`` create a key).
    """
    case = open_case(session, case_dir)
    key = session.unlock()
    case.check_key(key)
    return case, key


def recovery_dict(report: RecoveryReport) -> dict[str, Any] | None:
    """The ``recovered`` member of every writing use case's JSON (``None``: nothing to do)."""
    if report.empty:
        return None
    return {
        "torn_log_bytes": report.torn_log_bytes,
        "partial_files": list(report.partial_files),
        "quarantined_objects": list(report.quarantined_objects),
        "interrupted_runs": [r.get("run") for r in report.interrupted_runs],
        "finished_runs": list(report.finished_runs),
        "unlogged_files": list(report.unlogged_files),
        "plaintext_removed": [p for r in report.plaintext_removed for p in r.get("removed", [])],
    }
