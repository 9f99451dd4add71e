"""``init`` and ``recover``: a new case for an examiner, and the repair of an interrupted run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from forensic._internal.clock import DEFAULT_TIMEZONE, check_zone
from forensic.case.case import Case, RecoveryReport
from forensic.custody.log import CustodyEntry
from forensic.errors import CaseError, KeyringError
from forensic.i18n import message
from forensic.service.opening import open_for_writing, recovery_dict
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.store.crypt import Encryption

#: zxcvbn's score (0-4) a passphrase needs to protect encrypted evidence: 3 is "safely
#: unguessable" (about 10^8 guesses and more, an offline attack on the wrapped case key).
MIN_ENCRYPTED_SCORE = 3
#: zxcvbn's estimate is quadratic in the length; it reads at most this many characters.
_ZXCVBN_MAX_CHARS = 72
#: zxcvbn's dictionaries, grouped into the generic reasons the catalogues translate.
_DICTIONARY_HINTS = MappingProxyType({"passwords": "common", "user_inputs": "personal"})
_PATTERN_HINTS = MappingProxyType(
    {
        "spatial": "keyboard",
        "repeat": "repeat",
        "sequence": "sequence",
        "date": "date",
        "regex": "date",
    }
)


@dataclass(frozen=True)
class PassphraseStrength:
    """zxcvbn's estimate of a new passphrase, with why it is weak as generic reason codes
    (zxcvbn's own feedback is English only; the catalogues word the codes in each language)."""

    score: int
    """0 (guessed at once) to 4 (very hard to guess)."""
    reasons: tuple[str, ...]

    @property
    def weak(self) -> bool:
        return self.score < MIN_ENCRYPTED_SCORE

    def describe(self, lang: str) -> str:
        """The reasons, worded in ``lang`` and joined (at least one)."""
        parts = [message(f"guide.weak_{code}", lang) for code in self.reasons]
        return message("guide.reason_separator", lang).join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "weak": self.weak, "reasons": list(self.reasons)}


def passphrase_strength(passphrase: str, context: tuple[str, ...] = ()) -> PassphraseStrength:
    """How hard ``passphrase`` is to guess; ``context`` (names, case number) counts as known."""
    from zxcvbn import zxcvbn

    inputs = [word for text in context for word in text.split() if word]
    result = zxcvbn(passphrase[:_ZXCVBN_MAX_CHARS], user_inputs=inputs)
    score = int(result["score"])
    reasons: dict[str, None] = {}
    for match in result.get("sequence", []):
        pattern = str(match.get("pattern", ""))
        if pattern == "dictionary":
            name = str(match.get("dictionary_name", ""))
            reasons[_DICTIONARY_HINTS.get(name, "words")] = None
        elif pattern in _PATTERN_HINTS:
            reasons[_PATTERN_HINTS[pattern]] = None
    if score < MIN_ENCRYPTED_SCORE and len(passphrase) < 12:
        reasons["short"] = None
    if not reasons:
        reasons["guessable"] = None
    return PassphraseStrength(score, tuple(reasons))


class WeakPassphraseError(KeyringError):
    """A passphrase too easy to guess for encrypted evidence; nothing was created."""

    def __init__(
        self, strength: PassphraseStrength, *, existing: bool, switching: bool = False
    ) -> None:
        self.strength = strength
        key = "passphrase_weak_existing" if existing else "passphrase_weak"
        if switching:  # ``forensic encrypt`` of a plain case: nothing was changed
            key = "passphrase_weak_encrypting"
        super().__init__(key, score=strength.score, needed=MIN_ENCRYPTED_SCORE)

    def diagnostics(self, lang: str = "en") -> str:
        return message(
            f"error.{self.key}",
            lang,
            score=self.strength.score,
            needed=MIN_ENCRYPTED_SCORE,
            reasons=self.strength.describe(lang),
        )


@dataclass(frozen=True)
class InitResult:
    case: Case
    entry: CustodyEntry
    key_created: bool
    """A new examiner key was made in the session's home for this case (back it up)."""
    key_fingerprint: str
    recipient: str | None
    """The case's own age recipient when its evidence is stored encrypted."""
    passphrase: PassphraseStrength | None = None
    """The strength of the passphrase chosen for a key created here (a plain case accepts a
    weak one and says so; an encrypted case refused it before anything was made)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case": self.case.info.as_dict(),
            "path": str(self.case.root),
            "key_created": self.key_created,
            "entry": self.entry.as_dict(),
            "encrypted": self.recipient is not None,
            "passphrase": self.passphrase.as_dict() if self.passphrase is not None else None,
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
    timezone: str = DEFAULT_TIMEZONE,
) -> InitResult:
    """Create the case folder and its signed ``init`` entry.

    The one use case (with the ``key`` verbs) that creates an examiner key when the session's
    home has none; an existing folder is refused first, so no key is made for a failed init.
    The passphrase of an encrypted case also wraps its case key, kept in the case folder: one
    too easy to guess is refused (a new key's before the key is made), a plain case's is only
    reported in the result.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CaseError("case_exists", path=str(directory))
    check_zone(timezone)  # before a key is made for an init that would fail
    from forensic.verify.script import verify_script

    context = tuple(t for t in (case_id, title, examiner, organisation) if t)
    key, created = session.unlock_or_create(
        _refuse_weak(context, existing=False) if encrypt else None
    )
    if encrypt and not created:
        assert session.passphrase is not None  # the key was just unlocked with it
        _refuse_weak(context, existing=True)(session.passphrase)
    strength = None
    if created and session.passphrase is not None:
        strength = passphrase_strength(session.passphrase, context)
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
        timezone=timezone,
    )
    recipient = encryption.recipients[0] if encryption is not None else None
    return InitResult(case, entry, created, key.fingerprint, recipient, strength)


def _refuse_weak(context: tuple[str, ...], *, existing: bool) -> Callable[[str], None]:
    """The encrypted-case policy: a passphrase scored below ``MIN_ENCRYPTED_SCORE`` is refused."""

    def check(passphrase: str) -> None:
        strength = passphrase_strength(passphrase, context)
        if strength.weak:
            raise WeakPassphraseError(strength, existing=existing)

    return check


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
