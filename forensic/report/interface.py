"""How a report section plugs in.

A :class:`ReportSection` is one numbered chapter of the report (cover, inventory, methodology...).
An :class:`ItemPart` is one block of the per-item chapter (preview, acquisition, metadata,
analysis findings...). Later work adds sections or parts by subclassing and calling
:func:`register_section` / :func:`register_item_part`; a part whose data is absent returns False
from ``applies`` and the report leaves it out cleanly.
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


SECTIONS: list[ReportSection] = []
ITEM_PARTS: list[ItemPart] = []


def register_section(section: ReportSection, *, before: str | None = None) -> None:
    """Add a section (at the end, or before the section with id ``before``)."""
    if before is not None:
        for n, existing in enumerate(SECTIONS):
            if existing.id == before:
                SECTIONS.insert(n, section)
                return
    SECTIONS.append(section)


def register_item_part(part: ItemPart, *, before: str | None = None) -> None:
    if before is not None:
        for n, existing in enumerate(ITEM_PARTS):
            if existing.id == before:
                ITEM_PARTS.insert(n, part)
                return
    ITEM_PARTS.append(part)
