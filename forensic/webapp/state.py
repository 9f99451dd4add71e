"""What one running app holds: its session, its case folder, its jobs and what was revealed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from forensic.errors import KeyringError
from forensic.session import Session
from forensic.webapp.jobs import JobBoard
from forensic.webapp.security import Secrets


class PassphraseSlot:
    """The passphrase typed in the page, handed to the session once and then forgotten here
    (the session keeps it, server-side, for the rest of the run)."""

    def __init__(self) -> None:
        self._value: str | None = None
        self._lock = threading.Lock()

    def put(self, value: str) -> None:
        with self._lock:
            self._value = value

    def __call__(self, new: bool) -> str:
        with self._lock:
            value, self._value = self._value, None
        if value is None:
            raise KeyringError("passphrase_needed")
        return value


@dataclass
class AppState:
    session: Session
    slot: PassphraseSlot
    guard: Secrets
    case_dir: Path | None
    """The case this app works on (``None``: none chosen yet; the first page creates one)."""
    jobs: JobBoard
    revealed: dict[str, bytes] = field(default_factory=dict)
    """Pictures this person asked to see (each reveal logged), in server memory only;
    emptied by "hide everything"."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, session: Session, case_dir: Path | None) -> AppState:
        slot = PassphraseSlot()
        session.passphrase_provider = slot
        return cls(session, slot, Secrets(), case_dir, JobBoard(lambda: session.lang))

    @property
    def lang(self) -> str:
        return self.session.lang

    def has_case(self) -> bool:
        return self.case_dir is not None and (self.case_dir / "case.json").is_file()

    def reveal(self, item_id: str, picture: bytes) -> None:
        with self._lock:
            self.revealed[item_id] = picture

    def is_revealed(self, item_id: str) -> bool:
        with self._lock:
            return item_id in self.revealed

    def revealed_picture(self, item_id: str) -> bytes | None:
        with self._lock:
            return self.revealed.get(item_id)

    def hide_all(self) -> None:
        with self._lock:
            self.revealed.clear()
