"""Errors of the media area (messages in the ``[media]`` i18n table)."""

from __future__ import annotations

from forensic.errors import UsageError
from forensic.i18n import message


class MediaUsageError(UsageError):
    def diagnostics(self, lang: str = "en") -> str:
        return message(f"media.{self.key}", lang, **self.params)
