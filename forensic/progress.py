"""Progress reporting injected into long operations; the CLI renders it as rich progress bars."""

from __future__ import annotations


class ProgressReporter:
    """Default reporter: silent. Subclass and inject to show progress."""

    def start(self, label: str, total: int | None) -> None:
        """A new phase begins; ``total`` in units (bytes or items) when known."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units are done."""

    def finish(self) -> None:
        """The current phase ended."""


SILENT = ProgressReporter()
