"""Errors of web and screen captures, apart from the page loader so that the source registry
can name a usage error without importing the browser side (and its import cycle)."""

from __future__ import annotations

from forensic.errors import CaptureError, UsageError


class WebError(CaptureError):
    """A page could not be captured (nothing was written)."""

    catalogue = "web_error."


class WebUsageError(UsageError):
    """A web address or ``--screen`` asked for something that cannot be done as asked."""

    catalogue = "web_error."
