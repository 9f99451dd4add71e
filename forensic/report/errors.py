"""Errors of ``forensic report``; messages live under ``report_error.<key>``."""

from __future__ import annotations

from forensic.errors import OperationalError, UsageError


class ReportError(OperationalError):
    """The report could not be built, signed or written."""

    catalogue = "report_error."


class ReportUsageError(UsageError):
    """Bad options: unknown item, missing certificate, unusable logo."""

    catalogue = "report_error."
