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
from forensic.case.derived import open_case_file, read_case_file, write_case_file
from forensic.case.step import Step

__all__ = [
    "CASE_FILE",
    "Acquisition",
    "Case",
    "CaseInfo",
    "Item",
    "RecoveryReport",
    "Step",
    "discover_case",
    "open_case_file",
    "read_case_file",
    "write_case_file",
]
