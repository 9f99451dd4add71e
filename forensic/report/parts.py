"""The two building blocks of a report: a chapter (:class:`ReportSection`) and a block of an
item's chapter (:class:`ItemPart`).

A part whose data is absent returns False from ``applies`` and the report leaves it out cleanly.
The built-in report is the fixed tuples ``SECTIONS`` and ``ITEM_PARTS`` of
:mod:`forensic.report.sections`: a new chapter or block is one class and one entry there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forensic.report.model import ItemData, ReportData
    from forensic.report.render import RenderContext

Flowables = list[Any]


class ReportSection(ABC):
    """One chapter: ``id`` (stable, for ``--sections`` and tests), ``title_key`` (strings)."""

    id: str
    title_key: str
    #: listed in the PDF outline and numbered in the table of headings
    outline: bool = True

    def applies(self, case: ReportData) -> bool:
        """Whether this section has anything to say for this case."""
        return True

    @abstractmethod
    def render(self, ctx: RenderContext) -> Flowables:
        """The section's flowables (heading included)."""


class ItemPart(ABC):
    """One block of an item's chapter."""

    id: str
    title_key: str

    def applies(self, item: ItemData) -> bool:
        return True

    @abstractmethod
    def render(self, ctx: RenderContext, item: ItemData) -> Flowables: ...
