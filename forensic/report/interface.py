"""How a report section plugs in: the building blocks (:mod:`forensic.report.parts`) and the
built-in report's chapters and item blocks (``SECTIONS``, ``ITEM_PARTS`` of
:mod:`forensic.report.sections`, both tuples).

A section or part is one class and one entry in those tuples; nothing registers itself at import
time, so building one report never changes what another report in the same process contains.
"""

from __future__ import annotations

from forensic.report.parts import Flowables, ItemPart, ReportSection

__all__ = ["Flowables", "ItemPart", "ReportSection"]
