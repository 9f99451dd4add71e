"""Faces: locate faces with a convolutional detector (dlib's MMOD CNN), then compare each
face's statistics with its surroundings.

:func:`detect_faces` is the public face locator (the face signals, the video detector and
``match --face`` use it). King, 'Max-Margin Object Detection', arXiv:1502.00046 (2015): dlib's
``mmod_human_face_detector``, a small CNN trained by Davis King on about 7000 faces he
annotated, released into the public domain (:mod:`forensic.analysis.face_models`).

It replaced two OpenCV Haar cascades. On the hand-labelled faces of ``shared/datasets``
(tests/assets/face-boxes.json, docs/detection.md "Faces") the CNN finds more of the real faces
and puts far fewer boxes on bark, lettering and textures; the numbers are in
docs/detection.md and are asserted by tests/test_analysis_face_boxes.py. ``WORK_SIDE`` bounds
the time: the detector runs on a copy whose longer side is at most that many pixels, so faces
smaller than about ``MIN_FACE`` pixels of that copy (``MIN_FACE_FRACTION`` of the longer side)
are not searched. Limits: faces turned further than about 60 degrees, upside down, heavily
covered or tiny are missed; a face-like drawing, statue or mask is reported as a face.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from forensic.analysis import face_models
from forensic.analysis.face_models import FaceModelsMissing, model_digests
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

#: the whole-picture CNN pass works on a copy whose longer side is this (faces of at least
#: ``CNN_MIN_FACE`` / ``CNN_SIDE`` of the longer side, turned ones included)
CNN_SIDE = 400
#: the MMOD detector's window: faces smaller than this (pixels of what it scans) are not found
CNN_MIN_FACE = 80
#: small faces: the frontal HOG detector proposes them on a copy whose longer side is this,
#: its pyramid upsampled ``HOG_UPSAMPLE`` times; the CNN then confirms each proposal on a crop
HOG_SIDE = 1024
HOG_UPSAMPLE = 1
#: ``detect_faces(quick=True)`` (video frames): proposals on a copy this size, no upsampling
QUICK_HOG_SIDE = 640
#: proposals under this HOG score are not examined (the HOG detector's own threshold is 0)
HOG_MIN_SCORE = -0.3
#: the confirming crop: the proposal grown by this fraction on each side, scaled so the face
#: fills the CNN window with room to spare
CONFIRM_GROW = 0.5
CONFIRM_SIDE = 200
#: a proposal is a face when the CNN finds one in its crop overlapping it at least this much
CONFIRM_IOU = 0.3
#: the smallest face searched, in pixels of the ``HOG_SIDE`` copy (the HOG window, upsampled)
MIN_FACE = 80 // 2**HOG_UPSAMPLE
MIN_FACE_FRACTION = MIN_FACE / HOG_SIDE
#: CNN detections under this MMOD score are dropped (the detector's own threshold is 0)
MIN_SCORE = 0.0
#: overlapping boxes above this IoU are one face (the higher score is kept)
NMS_IOU = 0.3
WORK_SIDE = HOG_SIDE
LOCATOR = (
    "dlib MMOD CNN face detector (mmod_human_face_detector, public domain) on the whole "
    "picture, and on crops around the proposals of dlib's HOG frontal face detector"
)
LOCATOR_REF = (
    "King, 'Max-Margin Object Detection', arXiv:1502.00046, 2015 (dlib); Dalal & Triggs, "
    "'Histograms of oriented gradients for human detection', CVPR 2005"
)


@dataclass(frozen=True)
class FaceBox:
    """A located face in pixels of the analysed image, with the detector's score."""

    x: int
    y: int
    w: int
    h: int
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "score": self.score}


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def locator_available() -> bool:
    """Whether dlib and the detector model load (the face signals need them)."""
    try:
        face_models.cnn_detector()
    except (FaceModelsMissing, RuntimeError):
        return False
    return True


Box = tuple[int, int, int, int]


def _resized(image: NDArray[np.uint8], side: int) -> tuple[NDArray[np.uint8], float]:
    """A copy whose longer side is ``side`` (smaller or larger) and its scale."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interp), np.uint8), scale


def _cnn(image: NDArray[np.uint8]) -> list[tuple[Box, float]]:
    found = face_models.cnn_detector()(np.ascontiguousarray(image), 0)
    return [
        ((d.rect.left(), d.rect.top(), d.rect.width(), d.rect.height()), float(d.confidence))
        for d in found
        if float(d.confidence) >= MIN_SCORE
    ]


def _confirmed(image: NDArray[np.uint8], box: Box) -> tuple[Box, float] | None:
    """The CNN's box for a HOG proposal (pixels of ``image``), or None when it sees no face."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    gx, gy = round(bw * CONFIRM_GROW), round(bh * CONFIRM_GROW)
    x0, y0, x1, y1 = max(0, x - gx), max(0, y - gy), min(w, x + bw + gx), min(h, y + bh + gy)
    crop, scale = _resized(image[y0:y1, x0:x1], CONFIRM_SIDE)
    local = (
        round((x - x0) * scale),
        round((y - y0) * scale),
        round(bw * scale),
        round(bh * scale),
    )
    best = max(
        ((b, s) for b, s in _cnn(crop) if _iou(b, local) >= CONFIRM_IOU),
        key=lambda bs: bs[1],
        default=None,
    )
    if best is None:
        return None
    (cx, cy, cw, ch), score = best
    return (
        (round(cx / scale) + x0, round(cy / scale) + y0, round(cw / scale), round(ch / scale)),
        score,
    )


def _candidates(image: NDArray[np.uint8], quick: bool) -> list[tuple[Box, float]]:
    """CNN boxes (pixels of ``image``): the whole-picture pass, then the confirmed proposals
    (``quick``: the proposals of a smaller copy only)."""
    out: list[tuple[Box, float]] = []
    if not quick:
        small, s = _resized(image, CNN_SIDE)
        out = [
            ((round(x / s), round(y / s), round(bw / s), round(bh / s)), score)
            for (x, y, bw, bh), score in _cnn(small)
        ]
    work, t = _resized(image, QUICK_HOG_SIDE if quick else HOG_SIDE)
    upsample = 0 if quick else HOG_UPSAMPLE
    rects, scores, _kinds = face_models.hog_detector().run(work, upsample, HOG_MIN_SCORE)
    for r, _score in sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[1]):
        box = (
            round(r.left() / t),
            round(r.top() / t),
            round(r.width() / t),
            round(r.height() / t),
        )
        if any(_iou(box, b) > NMS_IOU for b, _s in out):
            continue
        confirmed = _confirmed(image, box)
        if confirmed is not None:
            out.append(confirmed)
    return out


def detect_faces(image: NDArray[np.uint8], *, quick: bool = False) -> tuple[FaceBox, ...]:
    """Faces in an 8-bit luminance (H x W) or RGB (H x W x 3) image, sorted top-left first;
    deterministic. Boxes in the image's pixels, clipped to it. ``quick`` (video frames): only
    frontal faces of at least ``80 / QUICK_HOG_SIDE`` of the longer side, about ten times
    faster. Raises :class:`FaceModelsMissing` when dlib or its model is not installed."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        return ()
    h, w = image.shape[:2]
    if min(h, w) < 16:
        return ()
    image = np.ascontiguousarray(image, dtype=np.uint8)
    chosen: list[tuple[Box, float]] = []
    for b, score in sorted(_candidates(image, quick), key=lambda bs: (-bs[1], bs[0])):
        if all(_iou(b, c) <= NMS_IOU for c, _s in chosen):
            chosen.append((b, score))
    faces = []
    for (bx, by, bw, bh), score in chosen:
        x0, y0 = max(0, bx), max(0, by)
        x1, y1 = min(w, bx + bw), min(h, by + bh)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            faces.append(FaceBox(x0, y0, x1 - x0, y1 - y0, round(score, 4)))
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
    "not a conclusion. Only faces the locator finds are examined (upright, at least "
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
    version = "2"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {
            "locator": {
                "model": face_models.DETECTOR_FILE,
                "cnn_side": CNN_SIDE,
                "hog_side": HOG_SIDE,
                "hog_upsample": HOG_UPSAMPLE,
                "quick_hog_side": QUICK_HOG_SIDE,
                "hog_min_score": HOG_MIN_SCORE,
                "confirm_grow": CONFIRM_GROW,
                "confirm_side": CONFIRM_SIDE,
                "confirm_iou": CONFIRM_IOU,
                "min_score": MIN_SCORE,
                "nms_iou": NMS_IOU,
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
            "dlib": face_models.dlib_version(),
            **{f"model {n} sha256": d for n, d in model_digests().items()},
        }

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode(item.path.read_bytes())
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("faces", exc.reason_en, exc.reason_ko)])
        try:
            boxes = detect_faces(decoded.rgb)
        except FaceModelsMissing as exc:
            return DetectorResult(
                [
                    not_applicable(
                        "faces",
                        f"the face locator is not installed ({exc})",
                        f"얼굴 탐지기가 설치되어 있지 않습니다 ({exc})",
                    )
                ]
            )
        notes = {"notes": decoded.notes} if decoded.notes else {}
        if not boxes:
            return DetectorResult(
                [
                    Finding(
                        "faces",
                        STATUS_NOT_APPLICABLE,
                        LOCATOR,
                        LOCATOR_REF,
                        0,
                        None,
                        "no face located (this does not prove there is none): the face "
                        "signals were not computed",
                        "얼굴을 찾지 못했습니다 (얼굴이 없다는 증명은 아닙니다): 얼굴 신호를 "
                        "계산하지 않았습니다",
                        "The locator finds upright faces of at least "
                        f"{MIN_FACE_FRACTION:.0%} of the longer image side; profiles, small, "
                        "upside-down or covered faces are missed.",
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
                        LOCATOR,
                        LOCATOR_REF,
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
