"""Court reports: a signed PDF/A-3b document built from the case (``forensic report``).

Sections plug in through :mod:`forensic.report.parts` (the built-in ones: ``report.sections``).
"""

from forensic.report.build import PREVIEW_MODES, ReportOptions, ReportResult, build_report
from forensic.report.parts import ItemPart, ReportSection

__all__ = [
    "PREVIEW_MODES",
    "ItemPart",
    "ReportOptions",
    "ReportResult",
    "ReportSection",
    "build_report",
]
