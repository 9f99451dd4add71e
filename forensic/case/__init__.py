"""Case folders: layout, discovery, the write lock and crash recovery."""

from forensic.case.case import (
    CASE_FILE,
    Acquisition,
    Case,
    CaseInfo,
    Item,
    RecoveryReport,
    discover_case,
)

__all__ = [
    "CASE_FILE",
    "Acquisition",
    "Case",
    "CaseInfo",
    "Item",
    "RecoveryReport",
    "discover_case",
]
