"""``init`` and ``recover``: a new case for an examiner, and the repair of an interrupted run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.case.case import Case, RecoveryReport
from forensic.custody.log import CustodyEntry
from forensic.errors import CaseError
from forensic.service.opening import open_for_writing, recovery_dict
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.store.crypt import Encryption


@dataclass(frozen=True)
class InitResult:
    case: Case
    entry: CustodyEntry
    key_created: bool
    """A new examiner key was made in the session's home for this case (back it up)."""
    key_fingerprint: str
    recipient: str | None
    """The case's own age recipient when its evidence is stored encrypted."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case": self.case.info.as_dict(),
            "path": str(self.case.root),
            "key_created": self.key_created,
            "entry": self.entry.as_dict(),
        }


def init_case(
    session: Session,
    directory: Path,
    *,
    case_id: str,
    title: str,
    examiner: str,
    organisation: str | None = None,
    encrypt: bool = False,
    lang: str | None = None,
) -> InitResult:
    """Create the case folder and its signed ``init`` entry.

    The one use case (with the ``key`` verbs) that creates an examiner key when the session's
    home has none; an existing folder is refused first, so no key is made for a failed init.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CaseError("case_exists", path=str(directory))
    from forensic.verify.script import verify_script

    key, created = session.unlock_or_create()
    extra = {"verify.sh": verify_script()}
    encryption = None
    if encrypt:
        encryption, key_files = _encryption_files(session, case_id)
        extra.update(key_files)
    case, entry = Case.init(
        directory,
        session=session,
        case_id=case_id,
        title=title,
        examiner=examiner,
        organisation=organisation,
        lang=lang or session.lang,
        key=key,
        extra_files=extra,
        encryption=encryption,
    )
    recipient = encryption.recipients[0] if encryption is not None else None
    return InitResult(case, entry, created, key.fingerprint, recipient)


def _encryption_files(session: Session, case_id: str) -> tuple[Encryption, dict[str, bytes]]:
    """A new case identity wrapped by the session's passphrase, and the recipients file."""
    from forensic._internal.clock import utc_timestamp
    from forensic.case.rekey import recipients_text
    from forensic.store import crypt

    passphrase = session.passphrase
    assert passphrase is not None  # the key was just unlocked or created with it
    identity = crypt.new_identity()
    recipient = str(identity.to_public())
    files = {
        crypt.IDENTITY_FILE: crypt.wrap_identity(identity, passphrase, utc_timestamp()),
        crypt.RECIPIENTS_FILE: recipients_text((recipient,), case_id),
    }
    return crypt.Encryption((recipient,)), files


@dataclass(frozen=True)
class RecoverResult:
    recovery: RecoveryReport

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "recovered": recovery_dict(self.recovery)}


def recover_case(session: Session, case_dir: Path | None = None) -> RecoverResult:
    """Finish or roll back what an interrupted run left, logged; nothing else is written."""
    case, key = open_for_writing(session, case_dir)
    return RecoverResult(case.recover(key))
