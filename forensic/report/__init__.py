"""Court reports: a signed PDF/A-3b document built from the case (``forensic report``).

Sections plug in through :mod:`forensic.report.interface`.
"""

from forensic.report.build import PREVIEW_MODES, ReportOptions, ReportResult, build_report
from forensic.report.interface import ItemPart, ReportSection, register_item_part, register_section

__all__ = [
    "PREVIEW_MODES",
    "ItemPart",
    "ReportOptions",
    "ReportResult",
    "ReportSection",
    "build_report",
    "register_item_part",
    "register_section",
]
