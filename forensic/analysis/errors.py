"""Errors of the analysis area (messages in the ``[analysis]`` i18n table)."""

from __future__ import annotations

from forensic.errors import UsageError
from forensic.i18n import message


class AnalysisUsageError(UsageError):
    def diagnostics(self, lang: str = "en") -> str:
        return message(f"analysis.{self.key}", lang, **self.params)
