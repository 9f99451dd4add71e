"""Errors of ``forensic report``; messages live under ``report_error.<key>``."""

from __future__ import annotations

from forensic.errors import OperationalError, UsageError
from forensic.i18n import message


class ReportError(OperationalError):
    """The report could not be built, signed or written."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"report_error.{self.key}", lang, **self.params)


class ReportUsageError(UsageError):
    """Bad options: unknown item, missing certificate, unusable logo."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"report_error.{self.key}", lang, **self.params)
