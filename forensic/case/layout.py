"""What lies where in a case folder, and which log actions replace objects.

A neutral module: the case, its derived files, the re-encryption and the write transaction all
name these, and none of them has to import another for it.
"""

from __future__ import annotations

CASE_FILE = "case.json"
PUBKEY_FILE = "examiner.pub.pem"
CASE_FORMAT_VERSION = 1
CASE_DIRS = ("custody", "objects/sha256", "tmp")

REKEY_ACTIONS = ("encrypt", "share")
"""Entries that replace objects with new ciphertext (``details.objects``: from → to)."""

DERIVED_AREAS = ("media", "analysis", "ocr", "transcripts", "reports")
"""Top folders of the case that hold files derived from the evidence."""

AGE_HEADER = b"age-encryption.org/v1\n"


def is_derived(rel: str) -> bool:
    """Whether a case-relative path is a derived file (encrypted in an encrypted case)."""
    return rel.split("/", 1)[0] in DERIVED_AREAS and "/" in rel


def is_ciphertext(data: bytes) -> bool:
    return data.startswith(AGE_HEADER)
