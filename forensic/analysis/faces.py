"""Faces: locate frontal faces (OpenCV Haar cascades, confirmed by a second cascade).

:func:`detect_faces` is the public face locator (the face signals and the video detector use
it). Viola & Jones, 'Rapid object detection using a boosted cascade of simple features', CVPR
2001; Lienhart & Maydt, 'An extended set of Haar-like features for rapid object detection',
ICIP 2002 (the cascades OpenCV ships).

Plain Haar cascades fire on tree bark, lettering and textures. A candidate of the
``frontalface_alt2`` cascade is kept only when the independently trained
``frontalface_default`` cascade also finds a face of similar size at the same place
(intersection over union >= ``CONFIRM_IOU``). Eyes (``haarcascade_eye`` in the upper half of
the face) are counted and reported but not required: at the sizes faces have in ordinary
photos the eye cascade misses most real eyes.

Measured on all 119 decodable reference photos in ``shared/datasets`` (exif-samples, pdq,
c2pa), boxes checked by eye: 0 false detections (the single-cascade candidates alone gave 20
on trees, lettering, a car, a pumpkin); 7 real faces located in 6 photos, while about 8 more
real faces in those photos (small, turned, dim) were missed. ``WORK_SIDE`` 640 keeps a
12-megapixel image at ~0.15-0.25 s on one CPU core. Limits: only
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
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

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
