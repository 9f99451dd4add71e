"""``match``: which captured items are near-duplicates of given photos, or of each other (PDQ)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic._internal.paths import display
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case, Item
    from forensic.custody.keys import ExaminerKey
    from forensic.custody.log import CustodyEntry
    from forensic.media.face_prints import FaceComparison, FaceQuery
    from forensic.media.matching import MatchReport, Query
    from forensic.media.perceptual import PerceptualRun

#: Largest PDQ distance reported as a near-duplicate: the value of
#: ``forensic.media.matching.DEFAULT_THRESHOLD`` (a test holds them equal), repeated here so a
#: front end can show the default without loading NumPy and PDQ.
DEFAULT_THRESHOLD = 56


@dataclass(frozen=True)
class UnreadableQuery:
    """A query photo that could not be read or decoded; the search goes on without it."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class MatchResult:
    threshold: int
    queries: tuple[Query, ...]
    unreadable: tuple[UnreadableQuery, ...]
    perceptual: PerceptualRun
    """Perceptual hashes computed (and logged) for items that had none."""
    found: MatchReport
    """Query photos against the case's items."""
    within: MatchReport | None
    """Items against each other (``None`` unless asked for)."""
    record_problems: tuple[str, ...]
    names: Mapping[str, str | None]
    """Item SHA-256 → the file name it was captured under (shown, never logged)."""
    entry: CustodyEntry
    """The ``match`` entry (queries named by SHA-256 only)."""

    def item_warnings(self) -> list[tuple[str, str]]:
        """(item, warning) for each warning of a perceptual record computed in this run."""
        return [
            (stored.item_id, str(warning))
            for stored in self.perceptual.stored
            for warning in stored.record.get("warnings", [])
        ]

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ok": True,
            "acquired": False,
            "threshold": self.threshold,
            "queries": [
                {"path": q.name, "sha256": q.sha256, "quality": q.quality} for q in self.queries
            ],
            "unreadable": [u.as_dict() for u in self.unreadable],
            "perceptual": {
                "computed": [s.item_id for s in self.perceptual.stored],
                "already": len(self.perceptual.already),
                "not_media": len(self.perceptual.not_media),
            },
            "compared": self.found.compared,
            "matches": [
                {**m.as_dict(), "name": self.names.get(m.item_id)} for m in self.found.matches
            ],
            "not_comparable": self.found.not_comparable,
            "record_problems": list(self.record_problems),
            "log_entry": self.entry.seq,
        }
        if self.within is not None:
            doc["within"] = {
                "compared": self.within.compared,
                "matches": [
                    {
                        **m.as_dict(),
                        "query_name": self.names.get(m.query),
                        "name": self.names.get(m.item_id),
                    }
                    for m in self.within.matches
                ],
                "not_comparable": self.within.not_comparable,
            }
        return doc


def find_matches(
    session: Session,
    photos: Sequence[Path] = (),
    *,
    within: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> MatchResult:
    """Hash the items that have no perceptual record yet, compare, and log one ``match`` entry.

    The photos are read and hashed here only: never acquired, never sent, never named in the log
    by their path. They are read first: a missing file or one that is not a readable image
    stops the search (``MediaAvUsageError`` naming it) before the case is opened, so nothing
    is hashed or logged for a mistyped name.
    """
    from forensic.media.matching import (
        MediaAvUsageError,
        load_candidates,
        match_queries,
        match_within,
    )
    from forensic.media.perceptual import store_perceptual

    if not photos and not within:
        raise MediaAvUsageError("no_query")
    if not 0 <= threshold <= 256:
        raise MediaAvUsageError("threshold_range", value=threshold)
    queries = _read_queries(photos)
    case, key = open_for_writing(session, case_dir)
    items = case.items()
    run = store_perceptual(case, key, list(items), progress)
    candidates, problems = load_candidates(case)
    found = match_queries(queries, candidates, threshold)
    inside = match_within(candidates, threshold) if within else None
    entry = _log_match(case, key, queries, 0, threshold, found, inside)
    return MatchResult(
        threshold=threshold,
        queries=tuple(queries),
        unreadable=(),
        perceptual=run,
        found=found,
        within=inside,
        record_problems=tuple(problems),
        names={str(i): _captured_name(it) for i, it in items.items()},
        entry=entry,
    )


def _read_queries(photos: Sequence[Path]) -> list[Query]:
    """Every query photo read and hashed, or the first that cannot be used, named."""
    from forensic.media.matching import MediaAvUsageError, read_query
    from forensic.media.perceptual import MediaReadError

    queries: list[Query] = []
    for photo in photos:
        if not photo.exists():
            raise MediaAvUsageError("query_missing", path=display(str(photo)))
        if not photo.is_file():
            raise MediaAvUsageError("query_not_file", path=display(str(photo)))
        try:
            photo.open("rb").close()  # readable by this account, before the case is opened
        except OSError as exc:
            raise MediaAvUsageError(
                "query_unreadable_file", path=display(str(photo)), reason=exc.strerror or str(exc)
            ) from exc
        try:
            queries.append(read_query(photo))
        except MediaReadError as exc:
            raise MediaAvUsageError("query_not_image", path=display(str(photo))) from exc
    return queries


def _log_match(
    case: Case,
    key: ExaminerKey,
    queries: list[Query],
    unreadable: int,
    threshold: int,
    found: MatchReport,
    inside: MatchReport | None,
) -> CustodyEntry:
    """The ``match`` entry: what was compared and found, the photos by SHA-256 only."""
    from forensic.case.case import tool_record
    from forensic.custody.log import PendingEntry
    from forensic.media.perceptual import library_versions

    by_name = {q.name: q.sha256 for q in queries}
    details: dict[str, Any] = {
        "queries": [
            {"sha256": q.sha256, "quality": q.quality, "variants": len(q.variants)} for q in queries
        ],
        "queries_unreadable": unreadable,
        "acquired": False,
        "threshold": threshold,
        "within": inside is not None,
        "compared": found.compared + (inside.compared if inside else 0),
        "matches": [{**m.as_dict(), "query": by_name.get(m.query, m.query)} for m in found.matches],
        "tool": {**tool_record(), "libraries": library_versions()},
    }
    if inside is not None:
        details["within_matches"] = [m.as_dict() for m in inside.matches]
    with case.writing(key):
        [entry] = case.record(key, [PendingEntry("match", f"case:{case.info.case_id}", details)])
    return entry


def _captured_name(item: Item) -> str | None:
    for acq in item.acquisitions:
        if acq.source_path:
            return str(acq.source_path).replace("\\", "/").rsplit("/", 1)[-1]
    return None


@dataclass(frozen=True)
class FaceMatchResult:
    """``match --face``: the items showing a face like the one in each query photo."""

    threshold: float
    queries: tuple[FaceQuery, ...]
    computed: tuple[tuple[str, int], ...]
    """(item, log entry) of each item whose faces were described in this run."""
    comparison: FaceComparison
    record_problems: tuple[str, ...]
    names: Mapping[str, str | None]
    entry: CustodyEntry

    def as_dict(self) -> dict[str, Any]:
        from forensic.media.face_prints import MEASURED

        return {
            "ok": True,
            "acquired": False,
            "mode": "face",
            "threshold": self.threshold,
            "measured": dict(MEASURED),
            "queries": [
                {"path": q.name, "sha256": q.sha256, "box": q.face.box.as_dict()}
                for q in self.queries
            ],
            "faces_computed": [{"item": i, "log_entry": s} for i, s in self.computed],
            "faces_in_case": self.comparison.faces_in_case,
            "undescribed_faces": self.comparison.undescribed,
            "compared": self.comparison.compared,
            "matches": [
                {**m.as_dict(), "name": self.names.get(m.item_id)} for m in self.comparison.matches
            ],
            "record_problems": list(self.record_problems),
            "log_entry": self.entry.seq,
        }


def find_face_matches(
    session: Session,
    photos: Sequence[Path],
    *,
    threshold: float | None = None,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
    lang: str = "en",
) -> FaceMatchResult:
    """Describe every face in the case's images (stored once, as derived files), compare them
    with the one face of each query photo, and log one ``match`` entry.

    The query photos are read first, here only: a photo that is missing, not an image, or that
    shows no face or more than one stops the search (:class:`FaceQueryError` naming it)
    before the case is opened. They are never acquired and the log names them by SHA-256.
    """
    from forensic.media.face_prints import (
        DEFAULT_THRESHOLD,
        FaceQueryError,
        compare_faces,
        load_face_records,
        read_face_query,
        store_faces,
    )

    thr = DEFAULT_THRESHOLD if threshold is None else threshold
    if not photos:
        raise FaceQueryError("no_query")
    if not 0.0 < thr <= 2.0:
        raise FaceQueryError("threshold_range", value=thr)
    queries = [read_face_query(p, lang) for p in photos]
    case, key = open_for_writing(session, case_dir)
    items = case.items()
    run = store_faces(case, key, progress)
    records, problems = load_face_records(case)
    comparison = compare_faces(queries, records, thr)
    entry = _log_face_match(case, key, queries, thr, comparison)
    return FaceMatchResult(
        threshold=thr,
        queries=tuple(queries),
        computed=tuple(run.stored),
        comparison=comparison,
        record_problems=tuple(problems),
        names={str(i): _captured_name(it) for i, it in items.items()},
        entry=entry,
    )


def _log_face_match(
    case: Case,
    key: ExaminerKey,
    queries: list[FaceQuery],
    threshold: float,
    comparison: FaceComparison,
) -> CustodyEntry:
    """The ``match`` entry of a face search: the photos by SHA-256 only, never a descriptor."""
    from forensic.case.case import tool_record
    from forensic.custody.log import PendingEntry
    from forensic.media.face_prints import MEASURED, library_versions

    by_name = {q.name: q.sha256 for q in queries}
    details: dict[str, Any] = {
        "mode": "face",
        "queries": [{"sha256": q.sha256, "box": q.face.box.as_dict()} for q in queries],
        "acquired": False,
        "threshold": threshold,
        "measured": dict(MEASURED),
        "compared": comparison.compared,
        "faces_in_case": comparison.faces_in_case,
        "matches": [
            {**m.as_dict(), "query": by_name.get(m.query, m.query)} for m in comparison.matches
        ],
        "tool": {**tool_record(), "libraries": library_versions()},
    }
    with case.writing(key):
        [entry] = case.record(key, [PendingEntry("match", f"case:{case.info.case_id}", details)])
    return entry
