"""The error families of forensic.

One base class with a user-facing :meth:`ForensicError.diagnostics`; the CLI catches it once and
maps :attr:`exit_code` to the documented process exit status.
"""

from __future__ import annotations

from typing import ClassVar

from forensic.i18n import message

EXIT_OK = 0
EXIT_INTEGRITY = 1
EXIT_USAGE = 2
EXIT_OPERATIONAL = 3


class ForensicError(Exception):
    """Base of every error the tool reports to a user."""

    exit_code: int = EXIT_OPERATIONAL
    catalogue: ClassVar[str] = "error."
    """The catalogue prefix of this family's messages: a family names its table here instead
    of writing its own ``diagnostics``."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(self.diagnostics("en"))

    def diagnostics(self, lang: str = "en") -> str:
        """One line, in the user's language, naming what and why."""
        return message(f"{self.catalogue}{self.key}", lang, **self.params)


class UsageError(ForensicError):
    """The user asked for something that cannot be done as asked."""

    exit_code = EXIT_USAGE


class OperationalError(ForensicError):
    """I/O, a missing dependency, a lock held elsewhere, the network."""

    exit_code = EXIT_OPERATIONAL


class CaseError(UsageError):
    """No case, a case that already exists, an unreadable case file."""


class CaseDamagedError(ForensicError):
    """A case file is there but damaged (``case.json`` truncated, a byte appended): an
    integrity finding, never a usage error; ``verify`` still checks the rest of the case."""

    exit_code = EXIT_INTEGRITY


class KeyringError(ForensicError):
    """The examiner key is missing, locked or does not match the case."""

    exit_code = EXIT_USAGE


class LockError(OperationalError):
    """Another process holds the case."""


class StoreError(OperationalError):
    """Writing or reading the evidence store failed."""


class CaptureError(OperationalError):
    """One source could not be acquired (the batch goes on)."""
