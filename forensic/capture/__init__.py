"""Capture sources and the acquisition pipeline."""

from forensic.capture.acquire import (
    AcquiredItem,
    CaptureFailure,
    CaptureOptions,
    CaptureResult,
    capture_paths,
    parse_hash_list,
)
from forensic.capture.interface import CaptureGroup, GroupId, PlannedItem, Source

__all__ = [
    "AcquiredItem",
    "CaptureFailure",
    "CaptureGroup",
    "CaptureOptions",
    "CaptureResult",
    "GroupId",
    "PlannedItem",
    "Source",
    "capture_paths",
    "parse_hash_list",
]
