"""``ocr`` and ``search``: the text read from evidence items, and finding items by it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.capture import ocr as reading
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case, open_for_writing
from forensic.session import Session


@dataclass(frozen=True)
class OcrOutcome:
    records: tuple[reading.OcrRecord, ...]
    named: bool
    """Items were named (so a skipped one is worth telling the user about)."""

    @property
    def read(self) -> list[reading.OcrRecord]:
        return [r for r in self.records if r.skipped is None]

    @property
    def skipped(self) -> list[reading.OcrRecord]:
        return [r for r in self.records if r.skipped is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "read": [
                {"sha256": r.item_id, "method": r.method, "chars": r.chars, "path": r.path}
                for r in self.read
            ],
            "skipped": [
                {"sha256": r.item_id, "media_type": r.skipped, "reason": r.reason("en")}
                for r in self.skipped
            ],
        }


def ocr(
    session: Session,
    items: Sequence[str] = (),
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> OcrOutcome:
    """Read the text of ``items`` (SHA-256 or prefix; none: every image and page not yet read)
    into ``ocr/<sha256>.json``, each vouched for by an ``ocr`` log entry."""
    case, key = open_for_writing(session, case_dir)
    records = reading.ocr_items(case, key, list(items), progress)
    return OcrOutcome(tuple(records), bool(items))


@dataclass(frozen=True)
class SearchOutcome:
    query: str
    hits: tuple[reading.SearchHit, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "query": self.query,
            "hits": [
                {
                    "sha256": h.item_id,
                    "kind": h.kind,
                    "field": h.field,
                    "snippet": h.snippet,
                    "media_type": h.media_type,
                    "source": h.source,
                }
                for h in self.hits
            ],
        }


def search(session: Session, text: str, case_dir: Path | None = None) -> SearchOutcome:
    """Items whose read text, chat messages or acquisition metadata contain ``text``."""
    case = open_case(session, case_dir)
    return SearchOutcome(text, tuple(reading.search(case, text)))
