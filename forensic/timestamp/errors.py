"""Errors of trusted timestamping; messages live under ``ts_error.<key>`` in the catalogues."""

from __future__ import annotations

from forensic.errors import OperationalError, UsageError
from forensic.i18n import message


class TimestampError(OperationalError):
    """A TSA could not be reached or its answer did not verify (the request stays queued)."""

    catalogue = "ts_error."

    def for_reader(self, lang: str = "en") -> str:
        """The terminal line: a network failure worded in ``lang``, not the OS's raw English.

        ``diagnostics`` (with the raw reason) stays the queue record's and ``--json``'s text.
        """
        cause = self.params.get("cause")
        if self.key == "unreachable" and isinstance(cause, str):
            return message(f"ts_error.unreachable_{cause}", lang, **self.params)
        return self.diagnostics(lang)


class TimestampUsageError(UsageError):
    """A TSA, root certificate or examiner certificate given by the user is unusable."""

    catalogue = "ts_error."
