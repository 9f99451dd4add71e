"""The metadata record of an item: every accepting describer's output, stored and logged.

``media/<sha256>/metadata.json`` (RFC 8785 canonical JSON, written atomically, read-only) and
one ``metadata`` custody-log entry per item that vouches for it (``details.files``).
"""

from __future__ import annotations

import json
import time
import warnings as pywarnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from forensic._internal.canonical import canonical_json
from forensic._internal.clock import utc_timestamp
from forensic.case.case import Case, Item, tool_record
from forensic.case.derived import read_case_file
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.media.registry import describers
from forensic.media.safe import json_safe
from forensic.media.warning_text import warning_text
from forensic.mediatype import sniff
from forensic.progress import SILENT, ProgressReporter
from forensic.store import ItemId

MEDIA_DIR = "media"
RECORD_NAME = "metadata.json"
RECORD_FORMAT = "forensic-media-metadata"
RECORD_VERSION = 1
HEAD_BYTES = 8192
#: extensions by the media type they should hold (for "the extension lies" warnings)
EXTENSIONS = MappingProxyType(
    {
        "image/jpeg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
        "image/png": frozenset({".png"}),
        "image/gif": frozenset({".gif"}),
        "image/webp": frozenset({".webp"}),
        "image/tiff": frozenset({".tif", ".tiff", ".dng"}),
        "image/heic": frozenset({".heic", ".heif"}),
        "image/heif": frozenset({".heic", ".heif"}),
        "image/avif": frozenset({".avif"}),
        "video/mp4": frozenset({".mp4", ".m4v"}),
    }
)
KNOWN_EXTENSIONS = frozenset({e for exts in EXTENSIONS.values() for e in exts})


@dataclass(frozen=True)
class MediaRecord:
    item_id: str
    media_type: str
    doc: dict[str, Any]

    @property
    def warnings(self) -> list[str]:
        return list(self.doc.get("warnings", []))

    def as_dict(self) -> dict[str, Any]:
        return self.doc


def record_path(case: Case, item_id: str) -> Path:
    return case.root / MEDIA_DIR / item_id / RECORD_NAME


def _extension_warnings(item: Item, media_type: str) -> list[str]:
    out: list[str] = []
    for acq in item.acquisitions:
        name = PurePosixPath(acq.source_path.replace("\\", "/")).name
        ext = PurePosixPath(name).suffix.lower()
        expected = EXTENSIONS.get(media_type)
        if ext in KNOWN_EXTENSIONS and (expected is None or ext not in expected):
            out.append(warning_text("extension_lies", name=name, ext=ext, media_type=media_type))
    return sorted(set(out))


def describe_path(path: Path, media_type: str | None = None) -> dict[str, Any]:
    """Run every accepting describer on a file; one describer's failure is only a warning."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        return {
            "note": None,
            "media_type": media_type or "application/octet-stream",
            "describers": {},
            "sections": {},
            "warnings": [f"{path.name}: cannot be read: {exc.strerror or exc}"],
        }
    sniffed = sniff(head)
    media_type = media_type or sniffed
    sections: dict[str, Any] = {}
    used: dict[str, Any] = {}
    warnings: list[str] = []
    for describer in describers():
        try:
            if not describer.accepts(sniffed, head):
                continue
        except Exception as exc:
            warnings.append(f"{describer.name}: accepts() failed: {type(exc).__name__}: {exc}")
            continue
        started = time.perf_counter()
        with pywarnings.catch_warnings(record=True) as caught:
            pywarnings.simplefilter("always")
            try:
                section = dict(json_safe(describer.describe(path)))
            except Exception as exc:  # a bug or a library crash must not lose the capture
                section = {"warnings": [f"describer failed: {type(exc).__name__}: {exc}"]}
        section.setdefault("warnings", [])
        for w in caught[:20]:
            section["warnings"].append(f"{w.category.__name__}: {w.message}")
        try:
            libs = describer.libraries()
        except Exception:
            libs = {}
        used[describer.name] = {
            "version": describer.version,
            "libraries": libs,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        sections[describer.name] = section
        warnings.extend(f"{describer.name}: {w}" for w in section["warnings"])
    note = None
    if not head:
        warnings.append(warning_text("empty_file"))
    elif not sections:
        note = f"no metadata describer applies to {sniffed}"
    return {
        "note": note,
        "media_type": sniffed,
        "describers": used,
        "sections": sections,
        "warnings": warnings,
    }


def describe_item(case: Case, item: Item) -> MediaRecord:
    """The metadata record of an item (not yet stored)."""
    with case.store.plaintext_path(item.item_id) as path:
        described = describe_path(path)
    warnings = _extension_warnings(item, described["media_type"]) + described["warnings"]
    doc: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "v": RECORD_VERSION,
        "item": {"sha256": item.item_id, "size": item.size, "media_type": described["media_type"]},
        "created": utc_timestamp(),
        "tool": tool_record(),
        "describers": described["describers"],
        "note": described["note"],
        **described["sections"],
        "warnings": warnings,
    }
    return MediaRecord(item.item_id, described["media_type"], dict(json_safe(doc)))


def load_record(case: Case, item_id: str) -> dict[str, Any] | None:
    """The stored record, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(read_case_file(case, record_path(case, item_id)).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store_metadata(
    case: Case,
    key: ExaminerKey,
    item_ids: Sequence[str],
    progress: ProgressReporter = SILENT,
) -> list[tuple[MediaRecord, CustodyEntry]]:
    """Describe, write and log each item: one step each, under one hold of the case lock."""
    items = case.items()
    done: list[tuple[MediaRecord, CustodyEntry]] = []
    progress.start("metadata", len(item_ids))
    try:
        with case.writing(key):
            for item_id in item_ids:
                item = items[ItemId(item_id)]
                record = describe_item(case, item)
                with case.step(key, "metadata") as step:
                    file_rec = step.stage_file(
                        record_path(case, item.item_id), canonical_json(record.doc)
                    )
                    details = {
                        "item": item.item_id,
                        "media_type": record.media_type,
                        "describers": record.doc["describers"],
                        "warnings": len(record.warnings),
                        "tool": tool_record(),
                        "files": [file_rec],
                        "run": step.run,
                    }
                    [entry] = step.record(
                        [PendingEntry("metadata", f"sha256:{item.item_id}", details)]
                    )
                done.append((record, entry))
                progress.advance(1)
    finally:
        progress.finish()
    return done
