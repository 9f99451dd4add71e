"""Errors of the analysis area (messages in the ``[analysis]`` i18n table)."""

from __future__ import annotations

from forensic.errors import UsageError


class AnalysisUsageError(UsageError):
    catalogue = "analysis."
