"""``encrypt`` and ``share``: encryption at rest (age, X25519), every object re-encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case.rekey import RekeyResult


@dataclass(frozen=True)
class ReencryptionResult:
    """One ``encrypt`` or ``share`` run; its JSON names the details after the verb."""

    rekey: RekeyResult

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, self.rekey.action: self.rekey.as_dict()}


def encrypt_evidence(
    session: Session, case_dir: Path | None = None, progress: ProgressReporter = SILENT
) -> ReencryptionResult:
    """Switch a plain case to age ciphertext under a new case identity.

    The identity is wrapped with the passphrase that unlocked the session's examiner key.
    """
    from forensic.case.rekey import encrypt_case
    from forensic.service.case_setup import WeakPassphraseError, passphrase_strength

    case, key = open_for_writing(session, case_dir)
    passphrase = session.passphrase
    assert passphrase is not None  # the key was just unlocked with it
    if case.info.encryption is None:  # an encrypted case gets its own refusal below
        # the same policy as ``init --encrypt``: this passphrase will wrap the case identity
        info = case.info
        context = tuple(
            t for t in (info.case_id, info.title, info.examiner, info.organisation) if t
        )
        strength = passphrase_strength(passphrase, context)
        if strength.weak:
            raise WeakPassphraseError(strength, existing=True, switching=True)
    return ReencryptionResult(encrypt_case(case, key, passphrase, progress))


def share_evidence(
    session: Session,
    recipients: Sequence[str],
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> ReencryptionResult:
    """Re-encrypt every object so that ``recipients`` (``age1…``) can decrypt it too."""
    from forensic.case.rekey import share_case
    from forensic.store.crypt import parse_recipient

    for recipient in recipients:  # a bad recipient fails before any passphrase prompt
        parse_recipient(recipient)
    case, key = open_for_writing(session, case_dir)
    return ReencryptionResult(share_case(case, key, list(recipients), progress))
