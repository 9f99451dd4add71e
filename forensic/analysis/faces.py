"""Faces: locate frontal faces (OpenCV Haar cascades, confirmed by a second cascade).

:func:`detect_faces` is the public face locator (the face signals and the video detector use
it). Viola & Jones, 'Rapid object detection using a boosted cascade of simple features', CVPR
2001; Lienhart & Maydt, 'An extended set of Haar-like features for rapid object detection',
ICIP 2002 (the cascades OpenCV ships).

Plain Haar cascades fire on tree bark, lettering and textures. A candidate of the
``frontalface_alt2`` cascade needs ``MIN_VOTES`` overlapping raw detections and is kept only
when the independently trained ``frontalface_default`` cascade also finds a face of similar
size at the same place (intersection over union >= ``CONFIRM_IOU``, again ``MIN_VOTES``
votes). Eyes (``haarcascade_eye`` in the upper half of the face) are counted and reported but
not required: at the sizes faces have in ordinary photos the eye cascade misses most real eyes.

Measured on all 119 decodable reference photos in ``shared/datasets`` (exif-samples, pdq,
c2pa), boxes checked by eye: 0 false detections (the candidate cascade alone, 2 votes, gave
27 boxes, 18 of them false: trees, lettering, a car, a pumpkin); 7 real faces located in 6
photos, while about 8 more real faces in those photos (small, turned, dim) were missed.
``WORK_SIDE`` 640 keeps a 12-megapixel image at 0.14-0.23 s of one CPU core. Limits: only
frontal, upright faces of at least ``MIN_FACE_FRACTION`` of the longer image side are
searched (profiles, rotated or small faces are missed); heavy make-up, masks, sunglasses and
strong blur make misses likelier; a face-like texture that fools both cascades is still
reported as a face.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    STATUS_NOT_APPLICABLE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    error_rate,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, MIN_SIDE, NotAnalysable, decode, png_bytes

#: the locator works on a copy whose longer side is at most this (speed; boxes mapped back)
WORK_SIDE = 640
#: the smallest face searched, in pixels of the working copy (24 is the cascades' window)
MIN_FACE = 24
MIN_FACE_FRACTION = MIN_FACE / WORK_SIDE
SCALE_FACTOR = 1.1
#: the confirming cascade searches the candidate's surroundings more finely
CONFIRM_SCALE_FACTOR = 1.05
#: a face needs at least this many overlapping raw detections (OpenCV's "neighbours") from
#: each cascade; lower counts are what textures produce (measured: see docs/detection.md)
MIN_VOTES = 8
#: the confirming cascade's box must overlap the candidate at least this much
CONFIRM_IOU = 0.5
#: overlapping confirmed boxes above this IoU are one face (the larger one is kept)
NMS_IOU = 0.3
#: faces are re-sampled to this size for the eye count
EYE_FACE_SIDE = 128
CANDIDATE_CASCADE = "haarcascade_frontalface_alt2.xml"
CONFIRM_CASCADE = "haarcascade_frontalface_default.xml"
EYE_CASCADE = "haarcascade_eye.xml"
CASCADES = (CANDIDATE_CASCADE, CONFIRM_CASCADE, EYE_CASCADE)


@dataclass(frozen=True)
class FaceBox:
    """A located face in pixels of the analysed image, and the eyes counted inside it."""

    x: int
    y: int
    w: int
    h: int
    eyes: int

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "eyes": self.eyes}


def cascade_path(name: str) -> Path:
    # cv2.data is a runtime sub-package that the 4.14 type stubs do not declare
    return Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]


@cache
def _cascade(name: str) -> Any:
    clf = cv2.CascadeClassifier(str(cascade_path(name)))
    if clf.empty():  # a broken OpenCV install; the detector reports it as not applicable
        raise RuntimeError(f"OpenCV cascade {name} cannot be loaded")
    return clf


@cache
def cascade_digests() -> dict[str, str]:
    """SHA-256 of every cascade file used (recorded with each result)."""
    out: dict[str, str] = {}
    for name in CASCADES:
        try:
            out[name] = hashlib.sha256(cascade_path(name).read_bytes()).hexdigest()
        except OSError:
            out[name] = "missing"
    return out


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _boxes(found: Any) -> list[tuple[int, int, int, int]]:
    return sorted(
        (int(x), int(y), int(w), int(h)) for x, y, w, h in np.asarray(found).reshape(-1, 4)
    )


def _votes(found: Any) -> list[tuple[tuple[int, int, int, int], int]]:
    boxes, counts = found
    rows = np.asarray(boxes).reshape(-1, 4)
    votes = np.asarray(counts).ravel()
    return sorted(
        ((int(x), int(y), int(w), int(h)), int(n))
        for (x, y, w, h), n in zip(rows, votes, strict=True)
    )


def _confirmed(small: NDArray[np.uint8], box: tuple[int, int, int, int]) -> bool:
    """Does the second cascade find a face of similar size at the same place, with at least
    ``MIN_VOTES`` votes?"""
    x, y, w, h = box
    m = w // 2
    x0, y0 = max(0, x - m), max(0, y - m)
    x1, y1 = min(small.shape[1], x + w + m), min(small.shape[0], y + h + m)
    roi = np.ascontiguousarray(small[y0:y1, x0:x1])
    lo, hi = max(MIN_FACE, int(w * 0.7)), int(w * 1.45) + 1
    found = _cascade(CONFIRM_CASCADE).detectMultiScale2(
        roi, scaleFactor=CONFIRM_SCALE_FACTOR, minNeighbors=1, minSize=(lo, lo), maxSize=(hi, hi)
    )
    return any(
        n >= MIN_VOTES and _iou((bx + x0, by + y0, bw, bh), box) >= CONFIRM_IOU
        for (bx, by, bw, bh), n in _votes(found)
    )


def _eyes(luma: NDArray[np.uint8], x: int, y: int, w: int, h: int) -> int:
    face = luma[y : y + h, x : x + w]
    if face.size == 0:
        return 0
    face = np.asarray(
        cv2.resize(face, (EYE_FACE_SIDE, EYE_FACE_SIDE), interpolation=cv2.INTER_AREA),
        dtype=np.uint8,
    )
    upper = np.ascontiguousarray(face[: EYE_FACE_SIDE * 55 // 100])
    found = _cascade(EYE_CASCADE).detectMultiScale(
        upper, scaleFactor=SCALE_FACTOR, minNeighbors=3, minSize=(12, 12), maxSize=(48, 48)
    )
    return min(2, len(_boxes(found)))


def detect_faces(luma: NDArray[np.uint8]) -> tuple[FaceBox, ...]:
    """Frontal faces in an 8-bit luminance image, sorted top-left first; deterministic.

    Works on a copy whose longer side is at most ``WORK_SIDE`` (histogram-equalised), maps the
    boxes back to ``luma``'s pixels. Empty for images too small to hold a ``MIN_FACE`` face.
    """
    if luma.ndim != 2 or min(luma.shape) < MIN_FACE:
        return ()
    luma = np.ascontiguousarray(luma, dtype=np.uint8)
    h, w = luma.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = luma
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    small = np.asarray(cv2.equalizeHist(small), dtype=np.uint8)
    found = _cascade(CANDIDATE_CASCADE).detectMultiScale2(
        small, scaleFactor=SCALE_FACTOR, minNeighbors=2, minSize=(MIN_FACE, MIN_FACE)
    )
    kept = [b for b, n in _votes(found) if n >= MIN_VOTES and _confirmed(small, b)]
    kept.sort(key=lambda b: (-b[2] * b[3], b))
    chosen: list[tuple[int, int, int, int]] = []
    for b in kept:
        if all(_iou(b, c) <= NMS_IOU for c in chosen):
            chosen.append(b)
    faces = []
    for bx, by, bw, bh in chosen:
        x, y = int(bx / scale), int(by / scale)
        fw, fh = min(w - x, round(bw / scale)), min(h - y, round(bh / scale))
        faces.append(FaceBox(x, y, fw, fh, _eyes(luma, x, y, fw, fh)))
    return tuple(sorted(faces, key=lambda f: (f.y, f.x)))


# ---------------------------------------------------------------------------------------------
# Face signals: does a located face carry the same traces as the rest of the picture?

#: statistics are gathered per 8x8 block (aligned with the JPEG grid), then per region
BLOCK = 8
#: faces smaller than this (pixels, full resolution) hold too few blocks for statistics
MIN_STAT_FACE = 48
#: the ring around a face: the box grown by this fraction of its size on every side
RING_GROW = 0.5
#: the face region: an ellipse inscribed in the box, shrunk by this factor
FACE_ELLIPSE = 0.9
#: provisional thresholds (|log2 ratio|), used until bench/eval_detection.py measures them
#: (the 99th percentile over 146 random face-sized regions of 73 untouched reference photos
#: re-saved at JPEG quality 90; docs/detection.md)
DEFAULT_THRESHOLDS = MappingProxyType({"noise": 1.75, "sharpness": 0.3, "colour": 2.5, "grid": 0.8})
STATS = ("noise", "sharpness", "colour", "grid")
SIGNAL = MappingProxyType({s: f"faces.{s}_mismatch" for s in STATS})
FIGURE_SIDE = 480
FIGURE_BLUR = 8.0
EPS = 1e-3
FACE_REF = (
    "Li & Lyu, 'Exposing DeepFake videos by detecting face warping artifacts', CVPR Workshops "
    "2019; Shiohara & Yamasaki, 'Detecting deepfakes with self-blended images', CVPR 2022"
)
REFERENCES = MappingProxyType(
    {
        "noise": "Mahdian & Saic, 'Using noise inconsistencies for blind image forensics', Image "
        "and Vision Computing 2009; " + FACE_REF,
        "sharpness": "Pertuz, Puig & Garcia, 'Analysis of focus measure operators for "
        "shape-from-focus', Pattern Recognition 2013 (Laplacian focus measure); " + FACE_REF,
        "colour": "Shiohara & Yamasaki, CVPR 2022 (colour and blending statistics of a "
        "blended face); Gallagher & Chen, 'Image authentication by detecting traces of "
        "demosaicing', CVPR Workshops 2008 (chroma noise structure)",
        "grid": "Fan & de Queiroz, IEEE TIP 2003 (blockiness); Ye, Sun & Chang, 'Detecting digital "
        "image forgeries by measuring inconsistencies of blocking artifact', ICME 2007",
    }
)
METHODS = MappingProxyType(
    {
        "noise": "noise level: median over 8x8 blocks of the mean |luminance - 3x3 median|; "
        "|log2(face / surroundings)|",
        "sharpness": "contrast-normalised sharpness: sum |Laplacian| / sum |gradient| over the "
        "region; |log2(face / surroundings)|",
        "colour": "chroma noise structure: median over 8x8 blocks of the chroma (Cb, Cr) residual "
        "level relative to the luminance residual level; |log2(face / surroundings)|",
        "grid": "JPEG 8x8 blockiness profile: mean |difference| between neighbouring pixels at "
        "each of the 8 positions of the block grid, normalised; the largest |log2(face / "
        "surroundings)| over the positions (a stronger, weaker or shifted grid)",
    }
)
WHAT = MappingProxyType(
    {
        "noise": ("noise level", "잡음 수준"),
        "sharpness": ("sharpness", "선명도"),
        "colour": ("chroma statistics", "색차 통계"),
        "grid": ("JPEG block grid strength", "JPEG 블록 격자 강도"),
    }
)
LIMITS = (
    "Compares each located face with a ring around it and with the rest of the picture; the "
    "value is the smaller of the two mismatches (both must differ). Faces are often in focus "
    "while the background is not, make-up and skin smoothing filters lower the noise, "
    "portrait-mode blur and strong lighting change sharpness and colour, and messenger "
    "re-compression evens out noise and the JPEG grid: a mismatch is a reason to look, "
    "not a conclusion. Only faces the locator finds are examined (frontal, upright, at least "
    f"{MIN_STAT_FACE} pixels); no face found does not mean there is none."
)


@dataclass(frozen=True)
class RegionStats:
    """Per-region statistics (the numbers the mismatches compare)."""

    noise: float
    sharpness: float
    colour: float
    #: the blockiness profile: mean |difference| between pixel columns/rows k and k+1 (mod 8),
    #: k = 0..7, over its mean; k = 7 is the file's own JPEG grid
    grid: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "noise": round(self.noise, 4),
            "sharpness": round(self.sharpness, 4),
            "colour": round(self.colour, 4),
            "grid": [round(v, 4) for v in self.grid],
        }


@dataclass(frozen=True)
class BlockMaps:
    """Per 8x8 block sums from which any region's statistics follow."""

    noise: NDArray[np.float64]  # mean |luma residual| per block
    chroma: NDArray[np.float64]  # mean |chroma residual| per block
    lap: NDArray[np.float64]  # mean |Laplacian|
    grad: NDArray[np.float64]  # mean |gradient|
    #: mean |difference| between columns (rows) k and k+1 of the block, k = 0..7, x and y
    #: averaged: bh x bw x 8
    profile: NDArray[np.float64]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.noise.shape[0]), int(self.noise.shape[1]))


def _block_mean(a: NDArray[np.float32], bh: int, bw: int) -> NDArray[np.float64]:
    """Mean of every 8x8 block (an exact-factor area resize)."""
    crop = np.ascontiguousarray(a[: bh * BLOCK, : bw * BLOCK])
    return np.asarray(cv2.resize(crop, (bw, bh), interpolation=cv2.INTER_AREA), dtype=np.float64)


def block_maps(rgb: NDArray[np.uint8]) -> BlockMaps:
    """Block statistics of an RGB image (one pass over the whole picture)."""
    f = np.asarray(rgb, dtype=np.float32)
    y = np.ascontiguousarray(0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2])
    h, w = y.shape
    bh, bw = (h - 1) // BLOCK, (w - 1) // BLOCK  # one spare pixel for the boundary difference

    def residual(c: NDArray[np.float32]) -> NDArray[np.float32]:
        med = np.asarray(cv2.medianBlur(np.ascontiguousarray(c), 3), dtype=np.float32)
        return np.asarray(cv2.absdiff(c, med), dtype=np.float32)

    cb = np.ascontiguousarray(0.564 * (f[..., 2] - y))
    cr = np.ascontiguousarray(0.713 * (f[..., 0] - y))
    rc = np.asarray(cv2.addWeighted(residual(cb), 0.5, residual(cr), 0.5, 0.0), dtype=np.float32)
    lap = np.abs(np.asarray(cv2.Laplacian(y, cv2.CV_32F, ksize=1), dtype=np.float32))
    n = BLOCK
    dx = np.abs(y[: bh * n, 1 : bw * n + 1] - y[: bh * n, : bw * n])  # dx[:, j] = y[j+1] - y[j]
    dy = np.abs(y[1 : bh * n + 1, : bw * n] - y[: bh * n, : bw * n])
    grad = np.asarray(dx + dy, dtype=np.float32)
    # column (row) k of a block: the difference to the next pixel; k = 7 crosses the grid
    prof_x = dx.reshape(bh, n, bw, n).mean(axis=1)
    prof_y = dy.reshape(bh, n, bw, n).mean(axis=3).transpose(0, 2, 1)
    profile = 0.5 * (prof_x + prof_y)
    return BlockMaps(
        noise=_block_mean(residual(y), bh, bw),
        chroma=_block_mean(rc, bh, bw),
        lap=_block_mean(lap, bh, bw),
        grad=_block_mean(grad, bh, bw),
        profile=np.asarray(profile, dtype=np.float64),
    )


def region_stats(maps: BlockMaps, mask: NDArray[np.bool_]) -> RegionStats | None:
    """Statistics of the blocks selected by ``mask`` (block grid); None when too few."""
    if int(mask.sum()) < 16:
        return None
    noise = float(np.median(maps.noise[mask]))
    colour = float(np.median(maps.chroma[mask] / (maps.noise[mask] + 0.5)))
    sharp = float(maps.lap[mask].sum() / max(float(maps.grad[mask].sum()), EPS))
    prof = maps.profile[mask].sum(axis=0)
    grid = tuple(float(v) for v in prof / max(float(prof.mean()), EPS))
    return RegionStats(noise=noise, sharpness=sharp, colour=colour, grid=grid)


def mismatch(face: RegionStats, ref: RegionStats) -> dict[str, float]:
    """|log2(face / reference)| per statistic (0 = the same); for the grid, the largest over
    the eight positions of the blockiness profile (a grid that is stronger, weaker or shifted)."""
    out = {
        s: abs(float(np.log2((getattr(face, s) + EPS) / (getattr(ref, s) + EPS))))
        for s in ("noise", "sharpness", "colour")
    }
    ratio = (np.asarray(face.grid) + EPS) / (np.asarray(ref.grid) + EPS)
    out["grid"] = float(np.abs(np.log2(ratio)).max())
    return out


def face_masks(
    shape: tuple[int, int], box: FaceBox
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Block masks of the face ellipse, the ring around the face and the rest of the picture."""
    bh, bw = shape
    cy = (np.arange(bh) + 0.5) * BLOCK
    cx = (np.arange(bw) + 0.5) * BLOCK
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    fx, fy = box.x + box.w / 2, box.y + box.h / 2
    ax, ay = box.w / 2 * FACE_ELLIPSE, box.h / 2 * FACE_ELLIPSE
    face = ((xx - fx) / ax) ** 2 + ((yy - fy) / ay) ** 2 <= 1.0
    gx, gy = box.w * RING_GROW, box.h * RING_GROW
    grown = (
        (xx >= box.x - gx)
        & (xx < box.x + box.w + gx)
        & (yy >= box.y - gy)
        & (yy < box.y + box.h + gy)
    )
    inside_box = (xx >= box.x) & (xx < box.x + box.w) & (yy >= box.y) & (yy < box.y + box.h)
    return face, grown & ~inside_box, ~grown


@dataclass(frozen=True)
class FaceMeasure:
    box: FaceBox
    face: RegionStats
    ring: RegionStats | None
    rest: RegionStats | None
    #: per statistic: min(mismatch vs ring, mismatch vs rest) (whichever exist)
    values: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.as_dict(),
            "face": self.face.as_dict(),
            "ring": self.ring.as_dict() if self.ring else None,
            "rest": self.rest.as_dict() if self.rest else None,
            "mismatch": {s: round(v, 4) for s, v in self.values.items()},
        }


def measure_face(maps: BlockMaps, box: FaceBox) -> FaceMeasure | None:
    """A face's statistics against its ring and the rest; None when the face is too small or
    nothing surrounds it."""
    if min(box.w, box.h) < MIN_STAT_FACE:
        return None
    face_m, ring_m, rest_m = face_masks(maps.shape, box)
    face = region_stats(maps, face_m)
    if face is None:
        return None
    ring, rest = region_stats(maps, ring_m), region_stats(maps, rest_m)
    refs = [mismatch(face, r) for r in (ring, rest) if r is not None]
    if not refs:
        return None
    values = {s: min(m[s] for m in refs) for s in STATS}
    return FaceMeasure(box, face, ring, rest, values)


def threshold(stat: str) -> tuple[float, bool]:
    """The threshold of one statistic and whether it was measured at <= 1 % FPR."""
    rates = error_rate(SIGNAL[stat])
    if rates and isinstance(rates.get("threshold"), (int, float)):
        return float(rates["threshold"]), True
    return DEFAULT_THRESHOLDS[stat], False


def blurred_preview(rgb: NDArray[np.uint8], side: int = FIGURE_SIDE) -> tuple[Image.Image, float]:
    """A small, heavily blurred copy of the picture (boxes and numbers are drawn over it, the
    content stays unreadable) and its scale."""
    im = Image.fromarray(rgb)
    scale = min(1.0, side / max(im.size))
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
    return im.filter(ImageFilter.GaussianBlur(FIGURE_BLUR)), scale


def face_figure(
    rgb: NDArray[np.uint8], measures: list[FaceMeasure], boxes: tuple[FaceBox, ...]
) -> bytes:
    preview, scale = blurred_preview(rgb)
    lines = len(boxes)
    canvas = Image.new("RGB", (preview.width, preview.height + 14 * lines + 4), (255, 255, 255))
    canvas.paste(preview, (0, 0))
    draw = ImageDraw.Draw(canvas)
    by_box = {m.box: m for m in measures}
    for n, box in enumerate(boxes, start=1):
        x0, y0 = box.x * scale, box.y * scale
        x1, y1 = (box.x + box.w) * scale, (box.y + box.h) * scale
        colour = (255, 0, 0) if box in by_box else (255, 200, 0)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=2)
        draw.text((x0 + 2, y0 + 2), str(n), fill=colour)
        m = by_box.get(box)
        text = (
            f"{n}: " + "  ".join(f"{s} {m.values[s]:.2f}" for s in STATS)
            if m
            else f"{n}: too small for statistics (< {MIN_STAT_FACE} px)"
        )
        draw.text((4, preview.height + 2 + 14 * (n - 1)), text, fill=(0, 0, 0))
    return png_bytes(np.asarray(canvas, dtype=np.uint8))


def face_heatmap(
    shape: tuple[int, int], measures: list[FaceMeasure], stat: str, thr: float
) -> NDArray[np.float64]:
    """Block-resolution map: each face ellipse weighted by its mismatch (1 at twice the
    threshold), 0 elsewhere."""
    heat = np.zeros(shape, dtype=np.float64)
    for m in measures:
        face, _ring, _rest = face_masks(shape, m.box)
        heat[face] = np.maximum(heat[face], min(1.0, m.values[stat] / (2.0 * thr)))
    return heat


class FaceDetector(Detector):
    name = "faces"
    version = "1"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {
            "locator": {
                "candidate_cascade": CANDIDATE_CASCADE,
                "confirm_cascade": CONFIRM_CASCADE,
                "eye_cascade": EYE_CASCADE,
                "work_side": WORK_SIDE,
                "min_face": MIN_FACE,
                "scale_factor": SCALE_FACTOR,
                "confirm_scale_factor": CONFIRM_SCALE_FACTOR,
                "min_votes": MIN_VOTES,
                "confirm_iou": CONFIRM_IOU,
                "nms_iou": NMS_IOU,
                "eye_face_side": EYE_FACE_SIDE,
                "histogram_equalised": True,
            },
            "block": BLOCK,
            "min_stat_face": MIN_STAT_FACE,
            "ring_grow": RING_GROW,
            "face_ellipse": FACE_ELLIPSE,
            "thresholds": {SIGNAL[s]: threshold(s)[0] for s in STATS},
            "thresholds_measured": {SIGNAL[s]: threshold(s)[1] for s in STATS},
            "figure_side": FIGURE_SIDE,
            "figure_blur": FIGURE_BLUR,
            "max_pixels": MAX_PIXELS,
            "min_side": MIN_SIDE,
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        return {
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "opencv": str(cv2.__version__),
            **{f"cascade {n} sha256": d for n, d in cascade_digests().items()},
        }

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode(item.path.read_bytes())
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("faces", exc.reason_en, exc.reason_ko)])
        luma = np.clip(np.rint(decoded.luma), 0, 255).astype(np.uint8)
        boxes = detect_faces(luma)
        notes = {"notes": decoded.notes} if decoded.notes else {}
        if not boxes:
            return DetectorResult(
                [
                    Finding(
                        "faces",
                        STATUS_NOT_APPLICABLE,
                        "OpenCV Haar cascades (frontalface_alt2 confirmed by frontalface_default)",
                        "Viola & Jones, CVPR 2001; Lienhart & Maydt, ICIP 2002",
                        0,
                        None,
                        "no face located (this does not prove there is none): the face "
                        "signals were not computed",
                        "얼굴을 찾지 못했습니다 (얼굴이 없다는 증명은 아닙니다): 얼굴 신호를 "
                        "계산하지 않았습니다",
                        "The locator finds frontal, upright faces of at least "
                        f"{MIN_FACE_FRACTION:.0%} of the longer image side; profiles, small, "
                        "rotated or covered faces are missed.",
                        extra=notes,
                    )
                ]
            )
        maps = block_maps(decoded.rgb)
        measures = [m for m in (measure_face(maps, b) for b in boxes) if m is not None]
        fig = f"{self.name}-boxes.png"
        figures = {fig: face_figure(decoded.rgb, measures, boxes)}
        details: dict[str, Any] = {
            "faces_located": [b.as_dict() for b in boxes],
            "faces_measured": [m.as_dict() for m in measures],
            **notes,
        }
        if not measures:
            return DetectorResult(
                [
                    Finding(
                        "faces",
                        STATUS_INFO,
                        "OpenCV Haar cascades (frontalface_alt2 confirmed by frontalface_default)",
                        "Viola & Jones, CVPR 2001; Lienhart & Maydt, ICIP 2002",
                        len(boxes),
                        None,
                        f"{len(boxes)} face(s) located, each smaller than {MIN_STAT_FACE} "
                        "pixels: too small for the face statistics",
                        f"얼굴 {len(boxes)}개를 찾았으나 모두 {MIN_STAT_FACE} 화소보다 작아 "
                        "얼굴 통계를 낼 수 없습니다",
                        LIMITS,
                        figures=[fig],
                        extra=details,
                    )
                ],
                figures,
            )
        findings: list[Finding] = []
        heatmaps: dict[str, Any] = {}
        rgb = decoded.rgb
        grey = np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
        for stat in STATS:
            if stat == "colour" and grey:
                findings.append(
                    not_applicable(
                        SIGNAL[stat],
                        "greyscale picture: chroma statistics do not apply",
                        "흑백 이미지: 색차 통계가 적용되지 않습니다",
                    )
                )
                continue
            thr, measured = threshold(stat)
            value = round(max(m.values[stat] for m in measures), 4)
            worst = 1 + max(range(len(measures)), key=lambda i: measures[i].values[stat])
            en, ko = WHAT[stat]
            if value > thr and measured:
                status = STATUS_INDICATES
                text_en = (
                    f"the {en} of face {worst} differs from its surroundings (|log2 ratio| "
                    f"{value} > {thr}): consistent with a pasted, swapped or re-generated face"
                )
                text_ko = (
                    f"얼굴 {worst}의 {ko}이(가) 주변과 다릅니다 (|log2 비| {value} > {thr}): "
                    "붙여 넣거나 교체되었거나 다시 생성된 얼굴과 일치합니다"
                )
            elif value > thr:
                status = STATUS_INFO
                text_en = (
                    f"the {en} of face {worst} differs from its surroundings (|log2 ratio| "
                    f"{value} above the provisional threshold {thr}, not yet measured at <= 1 % "
                    "false positives): a reason to examine the face, no decision"
                )
                text_ko = (
                    f"얼굴 {worst}의 {ko}이(가) 주변과 다릅니다 (|log2 비| {value}, 잠정 임계값 "
                    f"{thr} 초과, 오탐률 1 % 이하로 아직 측정되지 않음): 검토할 이유이며 판정은 "
                    "아닙니다"
                )
            else:
                status = STATUS_NO_EVIDENCE
                text_en = (
                    f"no evidence of a {en} mismatch between the located faces and their "
                    f"surroundings ({value} <= {thr}; this does not prove absence)"
                )
                text_ko = (
                    f"찾은 얼굴과 주변 사이에 {ko} 불일치의 증거가 없습니다 ({value} <= {thr}; "
                    "부재의 증명은 아닙니다)"
                )
            findings.append(
                Finding(
                    SIGNAL[stat],
                    status,
                    METHODS[stat],
                    REFERENCES[stat],
                    value,
                    thr,
                    text_en,
                    text_ko,
                    LIMITS,
                    figures=[fig],
                    extra={**details, "threshold_measured": measured},
                )
            )
            heatmaps[SIGNAL[stat]] = face_heatmap(maps.shape, measures, stat, thr)
        return DetectorResult(findings, figures, heatmaps)
