"""Run the detectors on items and store their findings in the case.

``analysis/<sha256>/<detector>.json`` (RFC 8785 canonical JSON, read-only) and figures
``analysis/<sha256>/<detector>-<what>.png``; one ``analysis`` custody-log entry per item vouches
for every file it wrote (``details.files``) and records each detector's version and parameters.
The files hold no time stamp: the same input and versions give byte-identical files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic._internal.canonical import canonical_json
from forensic.analysis.interface import (
    STATUS_FAILED,
    AnalysisInput,
    Detector,
    DetectorResult,
    detector_failed,
    held_back_gate,
)
from forensic.analysis.registry import DetectorRegistry, default_registry
from forensic.case.case import Case, Item, tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.media.record import describe_item, load_record
from forensic.media.safe import json_safe
from forensic.progress import SILENT, ProgressReporter
from forensic.store import ItemId

ANALYSIS_DIR = "analysis"
DOC_FORMAT = "forensic-analysis"
DOC_VERSION = 1
#: detectors of one item run on this many threads (NumPy, Pillow and OpenCV release the GIL);
#: results are collected in registry order, so the output does not depend on scheduling
DETECTOR_THREADS = 2


@dataclass
class ItemAnalysis:
    item_id: str
    media_type: str
    docs: dict[str, dict[str, Any]]  # detector name -> stored document
    not_applicable: list[str]  # detectors that do not apply to this media type
    files: list[dict[str, Any]]

    @property
    def failed(self) -> list[str]:
        """Detectors that raised on this item (a fault of the tool, recorded as ``failed``)."""
        return [
            name
            for name, doc in self.docs.items()
            if any(f.get("status") == STATUS_FAILED for f in doc.get("findings", []))
        ]


def run_detector(detector: Detector, item: AnalysisInput) -> DetectorResult:
    """The detector's result; an exception it raises (its own bug, or an input it does not
    handle) becomes one ``failed`` finding naming the error, so the batch goes on and nobody
    mistakes the crash for "does not apply"."""
    try:
        return detector.analyze(item)
    except Exception as exc:
        return DetectorResult([detector_failed(detector.name, exc)])


def detector_record(detector: Detector) -> dict[str, Any]:
    return {
        "name": detector.name,
        "version": detector.version,
        "parameters": detector.parameters(),
        "media_types": list(detector.media_types),
        "libraries": detector.libraries(),
    }


def analyze_path(
    path: Path,
    media_type: str,
    metadata: dict[str, Any] | None,
    metadata_source: str,
    registry: DetectorRegistry | None = None,
) -> tuple[dict[str, tuple[dict[str, Any], dict[str, bytes]]], list[str]]:
    """Every applicable detector's document and figures (nothing written)."""
    item = AnalysisInput(path=path, media_type=media_type, metadata=metadata)
    out: dict[str, tuple[dict[str, Any], dict[str, bytes]]] = {}
    every = (registry or default_registry()).detectors()
    applicable = [d for d in every if d.accepts(media_type)]
    skipped = [d.name for d in every if not d.accepts(media_type)]
    with ThreadPoolExecutor(DETECTOR_THREADS, thread_name_prefix="detector") as pool:
        results = list(pool.map(lambda d: run_detector(d, item), applicable))
    for detector, result in zip(applicable, results, strict=True):
        result.findings = [held_back_gate(f) for f in result.findings]
        doc = {
            "format": DOC_FORMAT,
            "v": DOC_VERSION,
            "detector": detector_record(detector),
            "tool": tool_record(),
            "metadata_source": metadata_source,
            "findings": [f.as_dict() for f in result.findings],
            "figures": [
                {"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                for n, b in sorted(result.figures.items())
            ],
        }
        out[detector.name] = (doc, result.figures)
    return out, skipped


def analyze_items(
    case: Case,
    key: ExaminerKey,
    item_ids: Sequence[str],
    progress: ProgressReporter = SILENT,
    registry: DetectorRegistry | None = None,
) -> list[tuple[ItemAnalysis, CustodyEntry]]:
    """Analyse, write and log each item with ``registry``'s detectors (the built-in ones by
    default): one step each, under one hold of the case lock."""
    registry = registry or default_registry()
    items = case.items()
    done: list[tuple[ItemAnalysis, CustodyEntry]] = []
    progress.start("analysis", len(item_ids))
    try:
        with case.writing(key):
            for item_id in item_ids:
                done.append(_analyze_one(case, key, items[ItemId(item_id)], registry))
                progress.advance(1)
    finally:
        progress.finish()
    return done


def item_metadata(case: Case, item: Item) -> tuple[dict[str, Any], str, str]:
    """The metadata the detectors get (the stored record, else one computed now), where it
    came from, and the item's media type: the coordinator's part of planning an item."""
    metadata = load_record(case, item.item_id)
    source = "stored record media/<sha256>/metadata.json"
    if metadata is None:
        metadata = describe_item(case, item).as_dict()
        source = "computed for this analysis (not stored; 'analyze --metadata' stores it)"
    media_type = str((metadata.get("item") or {}).get("media_type") or item.media_type)
    return metadata, source, media_type


def _analyze_one(
    case: Case, key: ExaminerKey, item: Item, registry: DetectorRegistry
) -> tuple[ItemAnalysis, CustodyEntry]:
    """Run the detectors on one item, then stage, log and place their documents and figures."""
    metadata, source, media_type = item_metadata(case, item)
    with case.store.plaintext_path(item.item_id) as path:
        results, skipped = analyze_path(path, media_type, metadata, source, registry)
    return commit_item(case, key, item.item_id, media_type, results, skipped)


def commit_item(
    case: Case,
    key: ExaminerKey,
    item_id: str,
    media_type: str,
    results: dict[str, tuple[dict[str, Any], dict[str, bytes]]],
    skipped: list[str],
    computed_by: dict[str, Any] | None = None,
) -> tuple[ItemAnalysis, CustodyEntry]:
    """Stage, log and place one item's documents and figures: one step, one entry.

    ``computed_by`` (work done on another machine) names who computed the item; it goes in
    the entry, never in the files, so the files are the same whoever computed them."""
    folder = case.root / ANALYSIS_DIR / item_id
    with case.step(key, "analysis") as step:
        files: list[dict[str, Any]] = []
        docs: dict[str, dict[str, Any]] = {}
        for name, (doc, figures) in results.items():
            doc = {"item": {"sha256": item_id, "media_type": media_type}, **doc}
            doc = dict(json_safe(doc))
            for fig_name, data in sorted(figures.items()):
                files.append(step.stage_file(folder / fig_name, data))
            files.append(step.stage_file(folder / f"{name}.json", canonical_json(doc)))
            docs[name] = doc
        details = {
            "item": item_id,
            "media_type": media_type,
            "detectors": {n: d["detector"] for n, d in docs.items()},
            "not_applicable": skipped,
            "findings": {
                n: {f["signal"]: f["status"] for f in d["findings"]} for n, d in docs.items()
            },
            "tool": tool_record(),
            "files": files,
            "run": step.run,
        }
        if computed_by:
            details["computed_by"] = computed_by
        [entry] = step.record([PendingEntry("analysis", f"sha256:{item_id}", details)])
    return ItemAnalysis(item_id, media_type, docs, skipped, files), entry
