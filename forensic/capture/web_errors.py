"""Errors of web and screen captures, apart from the page loader so that the source registry
can name a usage error without importing the browser side (and its import cycle)."""

from __future__ import annotations

from forensic.errors import CaptureError, UsageError
from forensic.i18n import message


class WebError(CaptureError):
    """A page could not be captured (nothing was written)."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"web_error.{self.key}", lang, **self.params)


class WebUsageError(UsageError):
    """A web address or ``--screen`` asked for something that cannot be done as asked."""

    def diagnostics(self, lang: str = "en") -> str:
        return message(f"web_error.{self.key}", lang, **self.params)
