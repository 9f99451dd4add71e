"""One person's working context: the explicit replacement for process-wide state.

A front end makes one :class:`Session` per person and passes it to every use case. It holds
what used to be module globals: the unlocked examiner key and the passphrase that unlocked it
(the same passphrase unwraps case identities), the cached case identities, the ledger of items
decrypted but not yet named in an ``access`` entry, and the acting verb. Two sessions in one
process (two examiners, two cases) share nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from forensic.errors import ForensicError, KeyringError

if TYPE_CHECKING:
    from forensic.custody.keys import ExaminerKey, KdfParams, PassphraseProvider


class AccessRecorder(Protocol):
    """What ``close`` needs of an open case (``forensic.case.Case``)."""

    def check_key(self, key: ExaminerKey) -> None: ...

    def record_access(self, key: ExaminerKey) -> object: ...


def _no_passphrase(new: bool) -> str:
    raise KeyringError("passphrase_needed")


@dataclass
class Session:
    """Explicit context for use cases; never shared between people or processes."""

    home: Path
    """The examiner home (where ``examiner-key.json`` lives)."""
    passphrase_provider: PassphraseProvider = _no_passphrase
    lock_timeout: float | None = None
    """Seconds a writer waits for a case lock (``None``: ``FORENSIC_LOCK_TIMEOUT`` or 5 s)."""
    lang: str = "en"
    verb: str = "api"
    """The use case being run, named in ``access`` entries."""
    kdf_params: KdfParams | None = None
    """Argon2id cost for a key created in this session (``None``: the RFC 9106 profile)."""

    _key: ExaminerKey | None = field(default=None, init=False, repr=False)
    _passphrase: str | None = field(default=None, init=False, repr=False)
    _identities: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _decrypted: dict[Path, dict[str, None]] = field(default_factory=dict, init=False, repr=False)
    _cases: dict[Path, AccessRecorder] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    @classmethod
    def default(cls, **kwargs: Any) -> Session:
        """A session on ``FORENSIC_HOME`` (else the user's config folder)."""
        from forensic.custody.keys import config_home

        return cls(home=config_home(), **kwargs)

    # -- the examiner key ------------------------------------------------------------------
    @property
    def key(self) -> ExaminerKey | None:
        """The key unlocked in this session, if any (never prompts)."""
        return self._key

    @property
    def passphrase(self) -> str | None:
        return self._passphrase

    def has_key(self) -> bool:
        from forensic.custody.keys import key_exists

        return key_exists(self.home)

    def unlock(self) -> ExaminerKey:
        """The examiner key, asking the provider once; never creates a key."""
        from forensic.custody.keys import unlock_key

        with self._lock:
            if self._key is not None:
                return self._key
            if not self.has_key():
                raise KeyringError("no_key", path=str(self.home))
            passphrase = self.passphrase_provider(False)
            self._key = unlock_key(self.home, passphrase)
            self._passphrase = passphrase
            return self._key

    def unlock_or_create(
        self, check_new: Callable[[str], None] | None = None
    ) -> tuple[ExaminerKey, bool]:
        """Only ``init`` and the ``key`` verbs may create a key: (key, created).

        ``check_new`` sees a new key's passphrase before the key is made and raises to refuse
        it (the use case's strength policy), so a refused passphrase leaves no key behind.
        """
        from forensic.custody.keys import create_key

        with self._lock:
            if self.has_key() or self._key is not None:
                return self.unlock(), False
            passphrase = self.passphrase_provider(True)
            if check_new is not None:
                check_new(passphrase)
            self._key = create_key(self.home, passphrase, self.kdf_params)
            self._passphrase = passphrase
            return self._key, True

    def try_unlock(self) -> tuple[ExaminerKey | None, str | None]:
        """The key, or ``None`` and the reason in the session's language (a reader without a
        key still gets everything that needs none)."""
        try:
            return self.unlock(), None
        except KeyringError as exc:
            return None, exc.diagnostics(self.lang)

    def decryption_passphrase(self) -> str | None:
        """The passphrase that unwraps case identities: the key's, unlocking it if needed;
        ``None`` when no passphrase can be had (the reader says what it could not show)."""
        with self._lock:
            if self._passphrase is None and self.has_key():
                try:
                    self.unlock()
                except KeyringError as exc:
                    if exc.key != "passphrase_needed":
                        raise
            return self._passphrase

    # -- case identities -------------------------------------------------------------------
    def cached_identity(self, digest: str) -> Any:
        with self._lock:
            return self._identities.get(digest)

    def remember_identity(self, digest: str, identity: Any) -> None:
        with self._lock:
            self._identities[digest] = identity

    # -- the access ledger -----------------------------------------------------------------
    def note_decrypted(self, case_root: Path, item_id: str) -> None:
        with self._lock:
            self._decrypted.setdefault(case_root, {})[item_id] = None

    def take_decrypted(self, case_root: Path) -> list[str]:
        """Items decrypted in this session since the last ``access`` entry of that case."""
        with self._lock:
            return list(self._decrypted.pop(case_root, {}))

    def pending_roots(self) -> list[Path]:
        with self._lock:
            return [root for root, items in self._decrypted.items() if items]

    def attach(self, case_root: Path, case: AccessRecorder) -> None:
        """A case opened for this session: where ``close`` logs what was decrypted in it."""
        with self._lock:
            self._cases.setdefault(case_root, case)

    def close(self) -> list[str]:
        """Write the pending ``access`` entries; returns one line per case it could not log."""
        failures: list[str] = []
        key = self._key
        for root in self.pending_roots():
            case = self._cases.get(root)
            if key is None or case is None:  # nothing decrypted without the key's passphrase
                continue
            try:
                case.check_key(key)
                case.record_access(key)
            except (ForensicError, OSError) as exc:
                failures.append(str(exc))
        return failures
