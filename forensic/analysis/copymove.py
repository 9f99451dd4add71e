"""Copy-move: a part of the picture copied elsewhere in the same picture (to hide or
duplicate something), found by matching keypoints of the image against themselves.

Amerini, Ballan, Caldelli, Del Bimbo & Serra, 'A SIFT-based forensic method for copy-move
attack detection and transformation recovery', IEEE TIFS 2011: keypoints, generalised 2NN
matching within the same image, clustering by geometric consistency and an affine transform
estimated by RANSAC. Here the keypoints are ORB (Rublee et al., ICCV 2011) on a copy of about
``WORK_PIXELS`` pixels, to stay within a fraction of a second on a 12-megapixel photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from forensic.analysis.faces import blurred_preview
from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    error_rate,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, MIN_SIDE, NotAnalysable, decode, png_bytes

SIGNAL = "copy_move.keypoints"
#: keypoints are found on a copy of at most this many pixels (boxes mapped back)
WORK_PIXELS = 1_500_000
MAX_KEYPOINTS = 4000
#: keypoints are spread over TILES x TILES tiles before the strongest overall fill the rest
TILES = 16
#: ORB pyramid (OpenCV defaults, recorded)
ORB_SCALE_FACTOR = 1.2
ORB_LEVELS = 8
#: generalised 2NN: up to this many neighbours, ratio test d_i / d_(i+1) < G2NN_RATIO
G2NN_K = 8
G2NN_RATIO = 0.7
#: matched keypoints closer than this (fraction of the working copy's longer side) are the
#: same structure, not a copy
MIN_DISTANCE = 0.03
#: RANSAC inlier tolerance (pixels of the working copy) and rounds
RANSAC_PX = 3.0
RANSAC_ITERS = 2000
#: a transform scaling by more than this (or less than its inverse) is not a copy-move
MAX_SCALE = 3.0
#: at most this many transforms are reported (each removes its inliers)
MAX_TRANSFORMS = 3
#: matches are grouped by the cells of a CLUSTER_CELLS x CLUSTER_CELLS grid their ends lie in
CLUSTER_CELLS = 8
#: RANSAC is run in at most this many of the largest groups, of at least MIN_GROUP matches
MAX_GROUPS = 24
MIN_GROUP = 4
#: translation groups: displacements rounded to this fraction of the longer side
DISPLACEMENT_BIN = 0.01
#: provisional threshold (inliers) until bench/eval_detection.py measures one: the smallest t
#: with at most 1 % of the 119 decodable untouched reference photos above it (1 of 119 is: a
#: graphic with repeated lettering; docs/detection.md)
DEFAULT_THRESHOLD = 25
FIGURE_LINES = 60
REF = (
    "Amerini, Ballan, Caldelli, Del Bimbo & Serra, 'A SIFT-based forensic method for copy-move "
    "attack detection and transformation recovery', IEEE TIFS 2011; Rublee, Rabaud, Konolige "
    "& Bradski, 'ORB: an efficient alternative to SIFT or SURF', ICCV 2011"
)
LIMITS = (
    "Repetitive structure (windows, tiles, fences, text, patterned fabric) matches itself and "
    "can pass the threshold in an untouched photo; a copy of a flat or smooth region (sky, "
    "skin, a wall) has no keypoints and is not found; strong blur, heavy re-compression or "
    "down-scaling of the copy weaken the matches. Compare the matched regions in the figure "
    "with the picture before relying on it."
)


@dataclass(frozen=True)
class CopyMoveMatch:
    """The best geometrically consistent set of matched keypoint pairs (full-resolution
    pixel coordinates) and the affine transform from source to target."""

    source: NDArray[np.float64]  # n x 2
    target: NDArray[np.float64]  # n x 2
    affine: NDArray[np.float64]  # 2 x 3

    @property
    def inliers(self) -> int:
        return int(self.source.shape[0])


def threshold() -> tuple[float, bool]:
    rates = error_rate(SIGNAL)
    if rates and isinstance(rates.get("threshold"), (int, float)):
        return float(rates["threshold"]), True
    return float(DEFAULT_THRESHOLD), False


def _work_copy(luma: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    h, w = luma.shape
    scale = min(1.0, (WORK_PIXELS / float(h * w)) ** 0.5)
    if scale >= 1.0:
        return np.ascontiguousarray(luma), 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), dtype=np.uint8), scale


def _spread(keypoints: Any, shape: tuple[int, ...]) -> list[Any]:
    """At most MAX_KEYPOINTS keypoints, the strongest of each of TILES x TILES tiles first: a
    copied region in a quiet part of a busy picture keeps its keypoints."""
    h, w = shape[:2]
    per_tile = max(1, MAX_KEYPOINTS // (TILES * TILES))
    ranked = sorted(keypoints, key=lambda k: (-k.response, k.pt[1], k.pt[0], k.octave))
    taken: dict[tuple[int, int], int] = {}
    first: list[Any] = []
    later: list[Any] = []
    for k in ranked:
        tile = (min(TILES - 1, int(k.pt[1] * TILES / h)), min(TILES - 1, int(k.pt[0] * TILES / w)))
        taken[tile] = taken.get(tile, 0) + 1
        (first if taken[tile] <= per_tile else later).append(k)
    return (first + later)[:MAX_KEYPOINTS]


def matched_pairs(
    luma: NDArray[np.uint8],
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """g2NN self-matches of ORB keypoints: (points a, points b, scale of the working copy);
    each unordered pair once, pairs closer than ``MIN_DISTANCE`` dropped."""
    small, scale = _work_copy(luma)
    orb = cv2.ORB.create(
        nfeatures=MAX_KEYPOINTS * 4, scaleFactor=ORB_SCALE_FACTOR, nlevels=ORB_LEVELS
    )
    keypoints, desc = orb.compute(small, _spread(orb.detect(small, None), small.shape))
    empty = np.zeros((0, 2), dtype=np.float64)
    if desc is None or len(keypoints) < 3:
        return empty, empty, scale
    pts = np.asarray([kp.pt for kp in keypoints], dtype=np.float64)
    k = min(G2NN_K + 1, len(keypoints))
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, desc, k=k)
    min_dist = MIN_DISTANCE * max(small.shape)
    pairs: set[tuple[int, int]] = set()
    for row in knn:
        # the keypoint itself and its neighbours at almost the same place (the same structure
        # found at another pyramid level) are no copies: leave them out, then walk the ratios
        # d_i / d_(i+1) while they stay below G2NN_RATIO
        others = [
            m
            for m in row
            if m.trainIdx != m.queryIdx
            and np.hypot(*(pts[m.queryIdx] - pts[m.trainIdx])) >= min_dist
        ]
        # past the list, the next distance is at least the farthest neighbour retrieved
        farthest = max(m.distance for m in row)
        for i in range(len(others)):
            nxt = others[i + 1].distance if i + 1 < len(others) else farthest
            if others[i].distance >= G2NN_RATIO * max(nxt, 1e-6):
                break
            a, b = others[i].queryIdx, others[i].trainIdx
            pairs.add((min(a, b), max(a, b)))
    if not pairs:
        return empty, empty, scale
    idx = np.asarray(sorted(pairs), dtype=np.int64)
    return pts[idx[:, 0]], pts[idx[:, 1]], scale


def _plausible(affine: NDArray[np.float64]) -> bool:
    s = np.linalg.svd(affine[:, :2], compute_uv=False)
    return bool(s.min() > 1.0 / MAX_SCALE and s.max() < MAX_SCALE)


def _affine(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64] | None:
    affine, _mask = cv2.estimateAffine2D(
        src.astype(np.float32),
        dst.astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_PX,
        maxIters=RANSAC_ITERS,
        confidence=0.995,
        refineIters=10,
    )
    if affine is None:
        return None
    out = np.asarray(affine, dtype=np.float64)
    return out if _plausible(out) else None


def _apply(affine: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = pts @ affine[:, :2].T + affine[:, 2]
    return out


def find_copy_move(luma: NDArray[np.uint8]) -> list[CopyMoveMatch]:
    """Geometrically consistent groups of self-matches, largest first.

    As in Amerini et al., matches are first grouped by where they lie (here: the pair of
    ``CLUSTER_CELLS`` x ``CLUSTER_CELLS`` grid cells of their two ends), RANSAC estimates an
    affine transform within each group (a copied region's matches are a small share of all
    matches: RANSAC over all of them would fail), and each transform is then scored over all
    matches, in either direction. Deterministic: OpenCV's generator is seeded.
    """
    a, b, scale = matched_pairs(luma)
    if a.shape[0] < MIN_GROUP:
        return []
    cv2.setRNGSeed(0)
    side = max(float(a.max()), float(b.max()), 1.0) + 1.0
    cell_a = (a // (side / CLUSTER_CELLS)).astype(np.int64) @ np.array([CLUSTER_CELLS, 1])
    cell_b = (b // (side / CLUSTER_CELLS)).astype(np.int64) @ np.array([CLUSTER_CELLS, 1])
    swap = cell_a > cell_b
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    keys = np.minimum(cell_a, cell_b) * CLUSTER_CELLS**2 + np.maximum(cell_a, cell_b)
    # a second grouping for the common plain translation: the displacement (lo -> hi) rounded
    # to DISPLACEMENT_BIN of the side; groups of either kind seed RANSAC
    step = DISPLACEMENT_BIN * side
    disp = np.round((hi - lo) / step).astype(np.int64) @ np.array([4 * CLUSTER_CELLS**2, 1])
    candidates: list[NDArray[np.float64]] = []
    for group_keys in (keys, disp + 10 * CLUSTER_CELLS**4):
        uniq, counts = np.unique(group_keys, return_counts=True)
        for g in np.lexsort((uniq, -counts))[:MAX_GROUPS]:
            if counts[g] < MIN_GROUP:
                break
            sel = group_keys == uniq[g]
            t = _affine(lo[sel], hi[sel])
            if t is not None:
                candidates.append(t)
    found: list[CopyMoveMatch] = []
    alive = np.ones(a.shape[0], dtype=bool)
    for _ in range(MAX_TRANSFORMS):
        best: tuple[int, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]] | None = None
        for t in candidates:
            fwd = alive & (np.hypot(*(_apply(t, lo) - hi).T) < RANSAC_PX)
            bwd = alive & ~fwd & (np.hypot(*(_apply(t, hi) - lo).T) < RANSAC_PX)
            n = int(fwd.sum() + bwd.sum())
            if n >= MIN_GROUP and (best is None or n > best[0]):
                best = (n, fwd, bwd, t)
        if best is None:
            break
        _n, fwd, bwd, t = best
        src = np.concatenate([lo[fwd], hi[bwd]]) / scale
        dst = np.concatenate([hi[fwd], lo[bwd]]) / scale
        full = t.copy()
        full[:, 2] /= scale
        found.append(CopyMoveMatch(src, dst, full))
        alive &= ~(fwd | bwd)
    return found


def _hull_mask(
    points: NDArray[np.float64], shape: tuple[int, int], scale: float
) -> NDArray[np.uint8]:
    mask = np.zeros(shape, dtype=np.uint8)
    if points.shape[0] >= 3:
        hull = cv2.convexHull(np.round(points * scale).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1)
    return mask


def copy_move_heatmap(
    shape: tuple[int, int], match: CopyMoveMatch | None, thr: float, side: int = 512
) -> NDArray[np.float64]:
    """Convex hulls of the best transform's source and target inliers, weighted by its inlier
    count (1 at twice the threshold), on a map whose longer side is ``side``."""
    h, w = shape
    scale = min(1.0, side / max(h, w))
    small = (max(1, round(h * scale)), max(1, round(w * scale)))
    heat = np.zeros(small, dtype=np.float64)
    if match is not None:
        weight = min(1.0, match.inliers / (2.0 * thr))
        heat = np.maximum(heat, _hull_mask(match.source, small, scale) * weight)
        heat = np.maximum(heat, _hull_mask(match.target, small, scale) * weight)
    return heat


def copy_move_figure(rgb: NDArray[np.uint8], matches: list[CopyMoveMatch]) -> bytes:
    preview, scale = blurred_preview(rgb)
    canvas = Image.new("RGB", (preview.width, preview.height + 18), (255, 255, 255))
    canvas.paste(preview, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for n, (m, colour) in enumerate(
        zip(matches, ((255, 0, 0), (255, 160, 0), (0, 160, 255)), strict=False)
    ):
        for pts in (m.source, m.target):
            if pts.shape[0] >= 3:
                hull = cv2.convexHull(np.round(pts * scale).astype(np.int32)).reshape(-1, 2)
                draw.polygon([(int(x), int(y)) for x, y in hull], outline=colour, width=2)
        step = max(1, m.inliers // FIGURE_LINES)
        for (sx, sy), (tx, ty) in zip(m.source[::step], m.target[::step], strict=True):
            draw.line((sx * scale, sy * scale, tx * scale, ty * scale), fill=colour, width=1)
        draw.text((4 + 150 * n, preview.height + 3), f"{n + 1}: {m.inliers} inliers", fill=colour)
    if not matches:
        draw.text((4, preview.height + 3), "no consistent self-match", fill=(0, 0, 0))
    return png_bytes(np.asarray(canvas, dtype=np.uint8))


class CopyMoveDetector(Detector):
    name = "copy_move"
    version = "1"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {
            "keypoints": "ORB",
            "work_pixels": WORK_PIXELS,
            "max_keypoints": MAX_KEYPOINTS,
            "orb_detected": MAX_KEYPOINTS * 4,
            "tiles": TILES,
            "orb_scale_factor": ORB_SCALE_FACTOR,
            "orb_levels": ORB_LEVELS,
            "g2nn_k": G2NN_K,
            "g2nn_ratio": G2NN_RATIO,
            "min_distance_fraction": MIN_DISTANCE,
            "ransac_reprojection_px": RANSAC_PX,
            "ransac_iterations": RANSAC_ITERS,
            "ransac_seed": 0,
            "max_scale": MAX_SCALE,
            "max_transforms": MAX_TRANSFORMS,
            "cluster_cells": CLUSTER_CELLS,
            "max_groups": MAX_GROUPS,
            "min_group": MIN_GROUP,
            "displacement_bin_fraction": DISPLACEMENT_BIN,
            "threshold": threshold()[0],
            "threshold_measured": threshold()[1],
            "max_pixels": MAX_PIXELS,
            "min_side": MIN_SIDE,
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"numpy": np.__version__, "pillow": PIL.__version__, "opencv": str(cv2.__version__)}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode(item.path.read_bytes())
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("copy_move", exc.reason_en, exc.reason_ko)])
        luma = np.clip(np.rint(decoded.luma), 0, 255).astype(np.uint8)
        matches = find_copy_move(luma)
        best = matches[0] if matches else None
        value = best.inliers if best else 0
        thr, measured = threshold()
        fig = f"{self.name}-matches.png"
        figures = {fig: copy_move_figure(decoded.rgb, matches)}
        heat = copy_move_heatmap(luma.shape, best, thr)
        details: dict[str, Any] = {
            "transforms": [
                {
                    "inliers": m.inliers,
                    "affine": [[round(float(v), 4) for v in r] for r in m.affine],
                    "source_bbox": [round(float(v)) for v in (*m.source.min(0), *m.source.max(0))],
                    "target_bbox": [round(float(v)) for v in (*m.target.min(0), *m.target.max(0))],
                }
                for m in matches
            ],
            "threshold_measured": measured,
            **({"notes": decoded.notes} if decoded.notes else {}),
        }
        method = (
            "ORB keypoints matched against themselves (generalised 2NN), affine transform by "
            "RANSAC; value = inlier pairs of the best transform"
        )
        if value > thr and measured:
            status = STATUS_INDICATES
            en = (
                f"{value} keypoint pairs follow one geometric transform between two regions of "
                "the picture: indicates a copy-move (a region duplicated within the image) or "
                "repeated structure"
            )
            ko = (
                f"키포인트 {value}쌍이 이미지의 두 영역 사이에서 하나의 기하 변환을 따릅니다: "
                "복사-이동(이미지 안에서 영역 복제) 또는 반복 구조를 나타냅니다"
            )
        elif value > thr:
            status = STATUS_INFO
            en = (
                f"{value} keypoint pairs follow one geometric transform between two regions "
                f"(above the provisional threshold {thr:g}, not yet measured at <= 1 % false "
                "positives): consistent with a copy-move or with repeated structure; compare "
                "the regions in the figure"
            )
            ko = (
                f"키포인트 {value}쌍이 두 영역 사이에서 하나의 기하 변환을 따릅니다 (잠정 임계값 "
                f"{thr:g} 초과, 오탐률 1 % 이하로 아직 측정되지 않음): 복사-이동 또는 반복 "
                "구조와 일치합니다. 그림의 영역을 비교하십시오"
            )
        else:
            status = STATUS_NO_EVIDENCE
            en = (
                f"no evidence of a copy-move ({value} consistent pairs <= {thr:g}; this does "
                "not prove absence)"
            )
            ko = (
                f"복사-이동의 증거가 없습니다 (일관된 쌍 {value}개 <= {thr:g}; 부재의 증명은 "
                "아닙니다)"
            )
        return DetectorResult(
            [
                Finding(
                    SIGNAL,
                    status,
                    method,
                    REF,
                    value,
                    thr,
                    en,
                    ko,
                    LIMITS,
                    figures=[fig],
                    extra=details,
                )
            ],
            figures,
            {SIGNAL: heat},
        )
