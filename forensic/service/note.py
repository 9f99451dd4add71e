"""``note``: an examiner's note in the custody log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.case.case import RecoveryReport, tool_record
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.service.opening import open_for_writing, recovery_dict
from forensic.session import Session


@dataclass(frozen=True)
class NoteResult:
    entry: CustodyEntry
    recovery: RecoveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "recovered": recovery_dict(self.recovery),
            "entry": self.entry.as_dict(),
        }


def add_note(session: Session, text: str, case_dir: Path | None = None) -> NoteResult:
    """Append one signed ``note`` entry naming the case's examiner."""
    case, key = open_for_writing(session, case_dir)
    details = {"text": text, "examiner": case.examiner_of(key), "tool": tool_record()}
    with case.step(key, "note") as step:
        [entry] = step.record([PendingEntry("note", f"case:{case.info.case_id}", details)])
    return NoteResult(entry, step.recovery)
