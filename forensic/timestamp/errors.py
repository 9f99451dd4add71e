"""Errors of trusted timestamping; messages live under ``ts_error.<key>`` in the catalogues."""

from __future__ import annotations

from forensic.errors import OperationalError, UsageError
from forensic.i18n import message


class TimestampError(OperationalError):
    """A TSA could not be reached or its answer did not verify (the request stays queued)."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"ts_error.{self.key}", lang, **self.params)


class TimestampUsageError(UsageError):
    """A TSA, root certificate or examiner certificate given by the user is unusable."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"ts_error.{self.key}", lang, **self.params)
