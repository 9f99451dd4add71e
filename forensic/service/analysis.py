"""``analyze``: metadata records (``--metadata``) and detection findings (``--detect``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case, recovery_dict
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.analysis.executor import DetectorPlan, Executor, ItemTask
    from forensic.analysis.store import ItemAnalysis
    from forensic.case import Case, RecoveryReport
    from forensic.custody.keys import ExaminerKey
    from forensic.custody.log import CustodyEntry
    from forensic.media.record import MediaRecord


@dataclass(frozen=True)
class ItemSelection:
    """The items each kind of analysis will run on, in capture order, without repeats."""

    metadata: tuple[str, ...]
    detect: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.metadata and not self.detect


@dataclass(frozen=True)
class AnalyzeResult:
    metadata: tuple[tuple[MediaRecord, CustodyEntry], ...] | None
    """Stored records and their entries; ``None`` when metadata was not asked for."""
    analysis: tuple[tuple[ItemAnalysis, CustodyEntry], ...] | None
    """Stored findings and their entries; ``None`` when detection was not asked for."""
    recovery: RecoveryReport | None
    """What the write repaired first (``None``: nothing was written, the case was not locked)."""

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ok": True,
            "recovered": recovery_dict(self.recovery) if self.recovery is not None else None,
        }
        if self.metadata is not None:
            doc["metadata"] = [
                {"seq": entry.seq, "record": record.as_dict()} for record, entry in self.metadata
            ]
        if self.analysis is not None:
            doc["analysis"] = [
                {
                    "seq": entry.seq,
                    "item": a.item_id,
                    "media_type": a.media_type,
                    "not_applicable": a.not_applicable,
                    "failed": a.failed,
                    "detectors": a.docs,
                    "files": a.files,
                }
                for a, entry in self.analysis
            ]
        return doc


def select_items(
    case: Case,
    items: Sequence[str] = (),
    *,
    metadata: bool,
    detect: bool,
    all_items: bool = False,
) -> ItemSelection:
    """Named items (SHA-256 or unique prefix) always; else every item with ``all_items``; else
    the items that have no metadata record / no detection findings yet."""
    from forensic.analysis.store import ANALYSIS_DIR
    from forensic.media.record import load_record

    entries = case.entries()
    if items:
        chosen = [str(case.resolve_item(i, entries).item_id) for i in items]
    else:
        chosen = [str(i) for i in case.items(entries)]
    chosen = list(dict.fromkeys(chosen))
    every = bool(items) or all_items
    meta_ids = chosen if every else [i for i in chosen if load_record(case, i) is None]
    detect_ids = (
        chosen
        if every
        else [i for i in chosen if not (case.root / ANALYSIS_DIR / i / "provenance.json").is_file()]
    )
    return ItemSelection(
        tuple(meta_ids) if metadata else (),
        tuple(detect_ids) if detect else (),
    )


def analyze(
    session: Session,
    items: Sequence[str] = (),
    *,
    metadata: bool = False,
    detect: bool = False,
    all_items: bool = False,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
    executor: str = "local",
    certs: Path | None = None,
) -> AnalyzeResult:
    """Describe and/or run the detectors on the selected items; one signed entry per item.

    ``executor``: ``local`` (this process), ``local:N`` (N processes) or ``dask://HOST:PORT``
    (a Dask cluster over mutual TLS with the certificates in ``certs``); only this process
    ever writes the case."""
    from forensic.analysis.errors import AnalysisUsageError
    from forensic.analysis.executor import open_executor, parse_executor
    from forensic.analysis.store import analyze_items
    from forensic.media.record import store_metadata

    if not metadata and not detect:
        raise AnalysisUsageError("no_mode")
    parse_executor(executor, certs)  # a bad --executor is refused before any work
    case = open_case(session, case_dir)
    chosen = select_items(case, items, metadata=metadata, detect=detect, all_items=all_items)
    key = session.unlock()  # before any lock; the case checks it when it writes
    recovery = None
    done: list[tuple[MediaRecord, CustodyEntry]] = []
    analysed: list[tuple[ItemAnalysis, CustodyEntry]] = []
    remote = None
    if chosen.detect:
        remote = open_executor(executor, certs, off_disk=case.store.crypto is not None)
    try:
        if not chosen.empty:
            with case.writing(key) as recovery:
                if chosen.metadata:
                    done = store_metadata(case, key, chosen.metadata, progress)
                if chosen.detect and remote is not None:
                    analysed = analyze_items_on(case, key, chosen.detect, remote, progress)
                elif chosen.detect:
                    analysed = analyze_items(case, key, chosen.detect, progress)
    finally:
        if remote is not None:
            remote.close()
    return AnalyzeResult(
        tuple(done) if metadata else None,
        tuple(analysed) if detect else None,
        recovery,
    )


def plan_items(case: Case, item_ids: Sequence[str], plan: DetectorPlan) -> Iterator[ItemTask]:
    """The coordinator's plan, one item at a time (its bytes read, or decrypted in memory,
    only as the executor asks for the next one)."""
    from forensic.analysis.executor import ItemTask
    from forensic.analysis.store import item_metadata
    from forensic.store import ItemId

    items = case.items()
    off_disk = case.store.crypto is not None
    for item_id in item_ids:
        item = items[ItemId(item_id)]
        metadata, source, media_type = item_metadata(case, item)
        with case.store.plaintext_path(item.item_id) as path:
            data = path.read_bytes()
        detectors, skipped = plan.for_media_type(media_type)
        yield ItemTask(item_id, media_type, metadata, source, data, detectors, skipped, off_disk)


def analyze_items_on(
    case: Case,
    key: ExaminerKey,
    item_ids: Sequence[str],
    executor: Executor,
    progress: ProgressReporter = SILENT,
) -> list[tuple[ItemAnalysis, CustodyEntry]]:
    """Plan here, compute on ``executor``, check each answer and commit it here: one step
    per item, in plan order, under one hold of the case lock."""
    from forensic.analysis.executor import DetectorPlan, check_computed
    from forensic.analysis.store import commit_item

    plan = DetectorPlan.built_in()
    done: list[tuple[ItemAnalysis, CustodyEntry]] = []
    progress.start("analysis", len(item_ids))
    try:
        with case.writing(key):
            for task, computed in executor.run(plan_items(case, item_ids, plan)):
                computed_by = check_computed(task, computed, executor.ca_pem)
                done.append(
                    commit_item(
                        case, key, task.item_id, task.media_type, computed.results,
                        list(task.not_applicable), computed_by,
                    )
                )  # fmt: skip
                progress.advance(1)
    finally:
        progress.finish()
    return done
