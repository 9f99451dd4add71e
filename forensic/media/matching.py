"""Near-duplicate search with PDQ: the victim's original photo against captured items.

A re-upload is usually recompressed, rescaled, sometimes cropped, rotated or mirrored. Plain
PDQ tolerates recompression and rescaling but not cropping, so each *query* photo is hashed
several ways: its eight rotations/mirrors, and a grid of crop windows (each side trimmed by
0, 3, 6, 9 or 12 per cent). A candidate matches when the smallest Hamming distance between any
query variant and the candidate's stored PDQ (or any of a video's vPDQ frames) is at most
the threshold. Hashes of quality below :data:`MIN_QUALITY` are too flat to compare and are
reported as such, never as a match or a non-match. See docs/media-av.md for the measured
distance distributions that set :data:`DEFAULT_THRESHOLD`.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.errors import UsageError
from forensic.media.perceptual import (
    DIHEDRAL,
    MIN_QUALITY,
    MediaReadError,
    PerceptualRecordError,
    bits_to_hex,
    load_record,
    load_rgb,
    pdq_of_rgb,
    record_path,
)

if TYPE_CHECKING:
    import numpy as np

#: Largest PDQ distance reported as a near-duplicate (see docs/media-av.md for why).
DEFAULT_THRESHOLD = 56
#: Per-side crop fractions tried on a query photo.
CROP_STEPS = (0.0, 0.03, 0.06, 0.09, 0.12)
#: Query photos are scaled to this longest side before the crop windows are hashed.
QUERY_SIDE = 512


@dataclass(frozen=True)
class QueryVariant:
    transform: str
    hex: str


@dataclass(frozen=True)
class Query:
    name: str
    sha256: str
    quality: int
    variants: tuple[QueryVariant, ...]


def query_variants(rgb: np.ndarray[Any, Any]) -> tuple[int, tuple[QueryVariant, ...]]:
    """(quality of the whole photo, its hash variants: dihedral + crop windows)."""
    import numpy as np
    import pdqhash
    from PIL import Image

    dihedral, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb, dtype=np.uint8))
    variants = [
        QueryVariant(name, bits_to_hex(h)) for name, h in zip(DIHEDRAL, dihedral, strict=True)
    ]
    im = Image.fromarray(rgb)
    scale = QUERY_SIDE / max(im.size)
    if scale < 1:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
    w, h = im.size
    for left, top, right, bottom in itertools.product(CROP_STEPS, repeat=4):
        if not (left or top or right or bottom):
            continue
        box = (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            continue
        pdq = pdq_of_rgb(np.asarray(im.crop(box)))
        name = f"crop l{left:.0%} t{top:.0%} r{right:.0%} b{bottom:.0%}"
        variants.append(QueryVariant(name, pdq.hex))
    return int(quality), tuple(variants)


def _matrix(hexes: Sequence[str]) -> np.ndarray[Any, Any]:
    import numpy as np

    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8).reshape(-1, 32)


def distances(a: Sequence[str], b: Sequence[str]) -> np.ndarray[Any, Any]:
    """Hamming distances, shape (len(a), len(b))."""
    import numpy as np

    ma, mb = _matrix(a), _matrix(b)
    if not len(ma) or not len(mb):
        return np.zeros((len(ma), len(mb)), dtype=np.uint16)
    xor = ma[:, None, :] ^ mb[None, :, :]
    popcount = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)
    result: np.ndarray[Any, Any] = popcount[xor].sum(axis=2)
    return result


@dataclass(frozen=True)
class Candidate:
    """A case item's stored perceptual hashes (one PDQ for a photo; frames for a video)."""

    item_id: str
    media_type: str
    kind: str  # "image" | "video"
    hashes: tuple[tuple[str, int, float | None], ...]  # (hex, quality, seconds or None)


@dataclass
class Match:
    query: str
    item_id: str
    kind: str
    distance: int
    query_quality: int
    item_quality: int
    transform: str
    seconds: float | None = None
    frames_matched: int = 0
    frames_compared: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "query": self.query,
            "item": self.item_id,
            "kind": self.kind,
            "distance": self.distance,
            "query_quality": self.query_quality,
            "item_quality": self.item_quality,
            "transform": self.transform,
        }
        if self.kind == "video":
            out["seconds"] = self.seconds
            out["frames_matched"] = self.frames_matched
            out["frames_compared"] = self.frames_compared
        return out


@dataclass
class MatchReport:
    threshold: int
    matches: list[Match] = field(default_factory=list)
    not_comparable: list[dict[str, Any]] = field(default_factory=list)
    compared: int = 0


def match_queries(
    queries: Iterable[Query], candidates: Sequence[Candidate], threshold: int
) -> MatchReport:
    """Every (query, candidate) pair within ``threshold`` bits, closest first."""
    report = MatchReport(threshold)
    usable: list[Candidate] = []
    for cand in candidates:
        if any(q >= MIN_QUALITY for _h, q, _s in cand.hashes):
            usable.append(cand)
        else:
            report.not_comparable.append({"item": cand.item_id, "reason": "low_quality"})
    for query in queries:
        if query.quality < MIN_QUALITY:
            report.not_comparable.append({"query": query.name, "reason": "low_quality"})
            continue
        qhex = [v.hex for v in query.variants]
        for cand in usable:
            report.compared += 1
            good = [(h, q, s) for h, q, s in cand.hashes if q >= MIN_QUALITY]
            d = distances(qhex, [h for h, _q, _s in good])
            best_per_frame = d.min(axis=0)
            j = int(best_per_frame.argmin())
            best = int(best_per_frame[j])
            if best > threshold:
                continue
            i = int(d[:, j].argmin())
            report.matches.append(
                Match(
                    query=query.name,
                    item_id=cand.item_id,
                    kind=cand.kind,
                    distance=best,
                    query_quality=query.quality,
                    item_quality=good[j][1],
                    transform=query.variants[i].transform,
                    seconds=good[j][2],
                    frames_matched=int((best_per_frame <= threshold).sum()),
                    frames_compared=len(good),
                )
            )
    report.matches.sort(key=lambda m: (m.distance, m.query, m.item_id))
    return report


def match_within(candidates: Sequence[Candidate], threshold: int) -> MatchReport:
    """Near-duplicate pairs among the case's own items (plain PDQ, no crop search)."""
    import numpy as np

    report = MatchReport(threshold)
    usable = []
    for cand in candidates:
        good = tuple(x for x in cand.hashes if x[1] >= MIN_QUALITY)
        if good:
            usable.append(Candidate(cand.item_id, cand.media_type, cand.kind, good))
        else:
            report.not_comparable.append({"item": cand.item_id, "reason": "low_quality"})
    for a, b in itertools.combinations(usable, 2):
        report.compared += 1
        d = distances([h for h, _q, _s in a.hashes], [h for h, _q, _s in b.hashes])
        i, j = np.unravel_index(int(d.argmin()), d.shape)
        best = int(d[i, j])
        if best > threshold:
            continue
        video = a if a.kind == "video" else b if b.kind == "video" else None
        seconds = a.hashes[i][2] if video is a else b.hashes[j][2] if video is b else None
        report.matches.append(
            Match(
                query=a.item_id,
                item_id=b.item_id,
                kind="video" if video is not None else "image",
                distance=best,
                query_quality=a.hashes[i][1],
                item_quality=b.hashes[j][1],
                transform="original",
                seconds=seconds,
                frames_matched=int((d.min(axis=0) <= threshold).sum()),
                frames_compared=d.shape[1],
            )
        )
    report.matches.sort(key=lambda m: (m.distance, m.query, m.item_id))
    return report


# -- errors and case access ------------------------------------------------------------------
class MediaAvUsageError(UsageError):
    """A query or option of ``forensic match`` / ``export --hash-list`` that cannot be used."""

    catalogue = "media_av."


def load_candidates(case: Any) -> tuple[list[Candidate], list[str]]:
    """Every item with a stored perceptual record, and one line per record that is unusable."""
    recorded = case.recorded_files()
    candidates: list[Candidate] = []
    problems: list[str] = []
    for item_id, item in case.items().items():
        rel = record_path(case.root, item_id).relative_to(case.root).as_posix()
        if rel not in recorded:
            continue
        try:
            record = load_record(case, item_id, recorded)
        except PerceptualRecordError as exc:
            problems.append(str(exc))
            continue
        hashes: list[tuple[str, int, float | None]] = []
        if record.get("kind") == "image" and record.get("pdq"):
            hashes.append((record["pdq"]["hex"], int(record["pdq"]["quality"]), None))
        elif record.get("kind") == "video" and record.get("vpdq"):
            for f in record["vpdq"]["frames"]:
                hashes.append((f["hex"], int(f["quality"]), float(f["seconds"])))
        if hashes:
            candidates.append(
                Candidate(item_id, item.media_type, str(record["kind"]), tuple(hashes))
            )
    return candidates, problems


def read_query(path: Path) -> Query:
    """A photo given on the command line: read (never acquired, never modified) and hashed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MediaReadError(exc.strerror or str(exc)) from exc
    rgb = load_rgb(io.BytesIO(data))
    quality, variants = query_variants(rgb)
    return Query(str(path), hashlib.sha256(data).hexdigest(), quality, variants)
