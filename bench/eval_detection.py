"""Honest evaluation of every registered image detector on real photos.

    python bench/eval_detection.py                 # full run: writes docs/detection-evaluation.md
                                                   # and forensic/analysis/error_rates.json
    python bench/eval_detection.py --quick --md X --json Y   # small subset (CI, < 60 s)

Generic: every detector in ``forensic.analysis.registry`` runs on every benchmark file exactly
as ``forensic analyze --detect`` runs it (metadata record first). Every finding whose ``value``
is a number is a score (higher = more suspicious); a ``value`` that is a dict gives one score
per numeric member (``signal[member]``); a signal that only ever says ``indicates`` or not is
measured by how often it says so; every ``DetectorResult.heatmaps[signal]`` is scored against
the ground-truth mask (localisation). A new detector is measured by re-running this script.

Benchmark (built here from ``../shared/datasets``; nothing is downloaded):

* negatives: every distinct real photo there (JPEG, TIFF, PNG; untouched files), chosen by the
  rules in :data:`EXCLUDED` (derived copies, graphics, drawings, files under 64 px); and,
  separately, frames of the three real camera videos (correlated: frames of one scene), saved
  as JPEG quality 90, used only to check the false-positive rate, never to set a threshold;
* positives, generated from those photos with exact masks, each saved as JPEG at a random
  quality 75-95: ``splice`` (a region of another photo), ``copy_move`` (a region of the same
  photo), ``face_swap`` (a face of another photo, colour-matched, blended with a soft ellipse),
  ``self_blend`` (Shiohara & Yamasaki, CVPR 2022: the photo's own face, colour-shifted, blurred
  or sharpened and slightly warped, blended back with a soft ellipse; faces located with the
  OpenCV Haar cascade, a random ellipse where none is found), ``resample_up`` (x1.2-1.6),
  ``resample_down`` (x0.7-0.9), ``rotate`` (3-15 degrees, cropped inside), ``double_jpeg``
  (aligned: the decoded JPEG re-saved at another quality), ``double_jpeg_shifted`` (non-aligned:
  cropped by (dx, dy) not both multiples of 8, then re-saved);
* "after": every file (negatives too) re-compressed like a messenger (longest side <= 1280,
  JPEG quality 70-85), masks resized with it.

Per score: AUC, TPR at FPR 1 % and 5 % (thresholds from that stage's negatives), bootstrap 95 %
intervals, before and after re-compression; the detector threshold is the smallest one whose
false-positive rate on the untouched photo negatives is <= 1 %; its FPR comes with the exact
Clopper-Pearson 95 % interval. Localisation per image: pixel AUC, best F1 and best MCC over
thresholds (an oracle threshold per image: optimistic), mean and bootstrap interval.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
SEED = 20260101
BOOT = 1000
QUICK_BOOT = 100
QUICK_PHOTOS = 6
#: negatives smaller than this on their short side carry too few 8x8 blocks to mean anything
MIN_SIDE = 64
#: the localisation metrics are computed at most this size (longest side)
LOC_SIDE = 256
LOCAL = ("splice", "copy_move", "face_swap", "self_blend")
GLOBAL = ("resample_up", "resample_down", "rotate", "double_jpeg", "double_jpeg_shifted")
KINDS = LOCAL + GLOBAL
#: a JPEG source is needed (the first compression)
NEEDS_JPEG = ("double_jpeg", "double_jpeg_shifted")
#: dict-valued findings: the member quoted under the signal's own name
PRIMARY = {"spectrum.azimuthal": "tail_minus_mid"}
#: what a score's separation means on this benchmark when it is not what the signal is for
CAVEATS = {
    "jpeg.quality": "Separates only because the benchmark saves every manipulated file at "
    "quality 75-95 while the untouched photos keep their camera's quality: an artefact of how "
    "the positives are made, not evidence of manipulation.",
}
#: dict members that are positions or categories, not levels: no ranking is meaningful
NOT_LEVELS = {"jpeg.grid": ("dx", "dy")}
#: files that are not distinct real photos, and why (a folder ends in "/")
EXCLUDED = {
    "ai-metadata/": "1x1 generator-metadata fixtures, no pixels",
    "c2pa/C.jpg": "a colour gradient, not a photo",
    "c2pa/CA.jpg": "derived from c2pa/A.jpg",
    "c2pa/XCA.jpg": "derived from c2pa/A.jpg",
    "exif-samples/jpg/PaintTool_sample.jpg": "a drawing",
    "exif-samples/jpg/invalid/image00971.jpg": "an advertisement composite with text",
    "exif-samples/jpg/invalid/image01088.jpg": "graphics (logos)",
    "exif-samples/jpg/invalid/image01551.jpg": "graphics (a badge)",
    "exif-samples/jpg/invalid/image01713.jpg": "graphics (a black bar)",
    "exif-samples/jpg/invalid/image01980.jpg": "graphics (logos)",
    "exif-samples/jpg/invalid/image02206.jpg": "graphics (a product drawing)",
    "exif-samples/jpg/orientation/": "the same two photos with orientation tags (1 kept each)",
    "exif-samples/tiff/Arbitro.tiff": "a logo",
    "exif-samples/tiff/Jobagent.tiff": "a logo",
    "exif-samples/tiff/Picoawards.tiff": "a line drawing",
    "exif-samples/tiff/Rudless.tiff": "a technical drawing",
    "exif-samples/tiff/Tless0.tiff": "a chart",
    "pdq/bridge-mods/": "edits of aaa-orig.jpg (aaa-orig.jpg kept)",
    "pdq/misc-images/modes/": "aaa-orig.jpg in other pixel modes",
    "pdq/misc-images/small.jpg": "a black frame",
    "pdq/reg-test-input/dih/": "rotations and flips of aaa-orig.jpg",
    "pdq/reg-test-input/exif-rotn/": "one photo with four orientation tags (1 kept)",
}
KEPT = (
    "exif-samples/jpg/orientation/landscape_1.jpg",
    "exif-samples/jpg/orientation/portrait_1.jpg",
    "pdq/bridge-mods/aaa-orig.jpg",
    "pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg",
)
#: the folder of camera and phone JPEGs, filtered by :func:`camera_photo_rule`
CAMERA_FOLDER = "camera-photos/"
CAMERA_MIN_SIDE = 256
#: editing programs named in EXIF Software or a file name (lower case): the file was edited
EDITORS = (
    "photoshop",
    "gimp",
    "lightroom",
    "photo editor",
    "acd systems",
    "noise ninja",
    "digital photo professional",
    "idimager",
    "viewer",
    "olympus master",
    "camedia master",
    "digital central",
    "ofoto",
    "quicktime",
    "frontier",
    "picasa",
    "paint",
    "nikon transfer",
)
SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".png", ".webp")
#: real camera videos (test-padded-dimensions.mp4 is synthetic colour bars: left out)
VIDEOS = ("chair-19-sd-bar.mp4", "doorknob-hd-no-bar.mp4", "pattern-hd-no-bar.mp4")
VIDEO_FPS = 1.0


def excluded(rel: str) -> str | None:
    if rel in KEPT:
        return None
    for key, why in EXCLUDED.items():
        if rel == key or (key.endswith("/") and rel.startswith(key)):
            return why
    return None


def camera_photo_rule(path: Path) -> str | None:
    """Why a file of ``camera-photos/`` is not an untouched camera photo, or None.

    The folder mixes camera originals with files that are tiny, damaged or edited; the rule
    keeps a file only when (1) it decodes completely, (2) its short side is at least
    :data:`CAMERA_MIN_SIDE` px (thumbnails and web copies are resampled and too small),
    (3) its EXIF names a camera maker (``Make``), and (4) neither its EXIF ``Software`` nor its
    file name names an editing program (:data:`EDITORS`). The same pixels in two files (here or
    in another folder) are kept once: :func:`pixel_duplicates`."""
    name = path.name
    try:
        with Image.open(path) as im:
            im.load()
            exif = im.getexif()
            size = im.size
    except Exception as exc:
        return f"damaged: does not decode completely ({type(exc).__name__})"
    if min(size) < CAMERA_MIN_SIDE:
        return f"tiny: {size[0]}x{size[1]}, under {CAMERA_MIN_SIDE} px"
    make, software = str(exif.get(0x010F) or "").strip(), str(exif.get(0x0131) or "")
    if not make:
        return "no camera maker in EXIF: camera origin not shown"
    for text in (software, name):
        hit = next((e for e in EDITORS if e in text.lower()), None)
        if hit is not None:
            return f"edited: {'Software' if text is software else 'file name'} names {hit!r}"
    return None


def negative_photos(root: Path) -> tuple[list[str], dict[str, str]]:
    """Distinct real photos (relative paths) and every file left out with its reason."""
    kept: list[str] = []
    left: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in SUFFIXES or not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        why = excluded(rel)
        if why is None and rel.startswith(CAMERA_FOLDER):
            why = camera_photo_rule(p)
        elif why is None:
            try:
                with Image.open(p) as im:
                    im.load()
                    if min(im.size) < MIN_SIDE:
                        why = f"{im.size[0]}x{im.size[1]}: under {MIN_SIDE} px"
            except Exception as exc:
                why = f"does not decode ({type(exc).__name__})"
        if why is None:
            kept.append(rel)
        else:
            left[rel] = why
    return kept, left


def video_frames(root: Path, out: Path, per_video: int | None) -> list[str]:
    """Frames of the real videos at VIDEO_FPS, saved as JPEG quality 90 (paths under out)."""
    frames: list[str] = []
    for name in VIDEOS:
        src = root / "videos" / name
        if not src.is_file():
            continue
        pattern = out / f"{src.stem}-%03d.png"
        cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(src), "-vf", f"fps={VIDEO_FPS}"]
        if per_video:
            cmd += ["-frames:v", str(per_video)]
        subprocess.run([*cmd, str(pattern)], check=True)
        for png in sorted(out.glob(f"{src.stem}-*.png")):
            jpg = png.with_suffix(".jpg")
            with Image.open(png) as im:
                im.convert("RGB").save(jpg, "JPEG", quality=90)
            png.unlink()
            frames.append(str(jpg))
    return frames


# ---------------------------------------------------------------- manipulations (with masks)

Mask = NDArray[np.uint8]  # 255 = changed, 0 = untouched, 128 = soft border (not scored)


def to_jpeg(rgb: NDArray[np.uint8] | Image.Image, quality: int) -> bytes:
    im = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def decode_rgb(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as im:
        return np.array(im.convert("RGB"), dtype=np.uint8)


def find_face(rgb: NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """The largest frontal face (x, y, w, h) found by OpenCV's Haar cascade, or None."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, 640 / max(h, w))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    side = max(24, int(0.08 * min(grey.shape)))
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    if len(faces) == 0:
        return None
    x, y, fw, fh = max(faces, key=lambda f: int(f[2]) * int(f[3]))
    return tuple(round(v / scale) for v in (x, y, fw, fh))  # type: ignore[return-value]


def region(rng: np.random.Generator, w: int, h: int) -> tuple[int, int, int, int]:
    """A random rectangle covering 5-20 % of the picture."""
    frac = float(rng.uniform(0.05, 0.2))
    aspect = float(rng.uniform(0.6, 1.6))
    rw = max(8, min(w - 2, int(np.sqrt(frac * w * h * aspect))))
    rh = max(8, min(h - 2, int(frac * w * h / rw)))
    return int(rng.integers(0, w - rw)), int(rng.integers(0, h - rh)), rw, rh


def face_box(
    rgb: NDArray[np.uint8], rng: np.random.Generator
) -> tuple[tuple[int, int, int, int], bool]:
    """The face (found) or a random ellipse box (15-35 % of the short side), and which."""
    found = find_face(rgb)
    if found is not None:
        return found, True
    h, w = rgb.shape[:2]
    side = int(min(h, w) * rng.uniform(0.15, 0.35))
    fw, fh = max(8, side), max(8, int(side * rng.uniform(1.0, 1.3)))
    fh = min(fh, h - 2)
    return (int(rng.integers(0, w - fw)), int(rng.integers(0, h - fh)), fw, fh), False


def soft_ellipse(
    h: int, w: int, box: tuple[int, int, int, int], rng: np.random.Generator
) -> NDArray[np.float32]:
    """A blurred elliptical blend mask in [0, 1] over the box (a face's inner region)."""
    import cv2

    x, y, fw, fh = box
    alpha = np.zeros((h, w), dtype=np.float32)
    centre = (x + fw // 2, y + int(fh * 0.55))
    axes = (max(2, int(fw * 0.42)), max(2, int(fh * 0.5)))
    cv2.ellipse(alpha, centre, axes, 0, 0, 360, 1.0, -1)
    k = max(3, int(min(fw, fh) * rng.uniform(0.08, 0.2))) | 1
    alpha = cv2.GaussianBlur(alpha, (k, k), 0)
    return np.asarray(alpha * np.float32(rng.uniform(0.8, 1.0)), dtype=np.float32)


def soft_mask(alpha: NDArray[np.float32]) -> Mask:
    mask = np.zeros(alpha.shape, dtype=np.uint8)
    mask[alpha > 0.02] = 128
    mask[alpha >= 0.5] = 255
    return mask


def blend(
    rgb: NDArray[np.uint8], src: NDArray[np.float32], alpha: NDArray[np.float32]
) -> NDArray[np.uint8]:
    a = alpha[..., None]
    out = src * a + rgb.astype(np.float32) * (1 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def self_blend(
    rgb: NDArray[np.uint8], rng: np.random.Generator
) -> tuple[NDArray[np.uint8], Mask, str]:
    """Shiohara & Yamasaki 2022: the photo's own face region, colour-shifted, blurred or
    sharpened, slightly scaled and moved, blended back with a soft ellipse."""
    import cv2

    h, w = rgb.shape[:2]
    box, found = face_box(rgb, rng)
    src = rgb.astype(np.float32)
    src = src * np.float32(rng.uniform(0.9, 1.1)) + rng.uniform(-20, 20, 3).astype(np.float32)
    if rng.random() < 0.5:
        src = cv2.GaussianBlur(src, (0, 0), float(rng.uniform(0.6, 1.6)))
    else:
        src = cv2.addWeighted(src, 1.6, cv2.GaussianBlur(src, (0, 0), 1.0), -0.6, 0)
    x, y, fw, fh = box
    s = float(rng.uniform(0.95, 1.05))
    dx, dy = rng.uniform(-0.03, 0.03, 2) * (fw, fh)
    cx, cy = x + fw / 2, y + fh / 2
    warp = np.float32([[s, 0, (1 - s) * cx + dx], [0, s, (1 - s) * cy + dy]])
    src = cv2.warpAffine(src, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    alpha = soft_ellipse(h, w, box, rng)
    return blend(rgb, src, alpha), soft_mask(alpha), "face" if found else "random ellipse"


def face_swap(
    rgb: NDArray[np.uint8], donor: NDArray[np.uint8], rng: np.random.Generator
) -> tuple[NDArray[np.uint8], Mask, str]:
    """Another photo's face (or centre) resized into this photo's face box, its colour
    matched to the host face (mean and spread per channel), blended with a soft ellipse."""
    import cv2

    h, w = rgb.shape[:2]
    box, found = face_box(rgb, rng)
    x, y, fw, fh = box
    dface = find_face(donor)
    donor_note = " <- donor face" if dface is not None else " <- donor centre"
    if dface is None:
        dh, dw = donor.shape[:2]
        side = min(dh, dw) // 2
        dface = ((dw - side) // 2, (dh - side) // 2, side, side)
    dx, dy, dw_, dh_ = dface
    patch = cv2.resize(
        donor[dy : dy + dh_, dx : dx + dw_], (fw, fh), interpolation=cv2.INTER_AREA
    ).astype(np.float32)
    host = rgb[y : y + fh, x : x + fw].astype(np.float32)
    patch = (patch - patch.mean((0, 1))) / (patch.std((0, 1)) + 1e-3) * host.std(
        (0, 1)
    ) + host.mean((0, 1))
    src = rgb.astype(np.float32)
    src[y : y + fh, x : x + fw] = patch
    alpha = soft_ellipse(h, w, box, rng)
    note = ("face" if found else "random ellipse") + donor_note
    return blend(rgb, src, alpha), soft_mask(alpha), note


def inside_crop(w: int, h: int, deg: float) -> tuple[int, int, int, int]:
    """The largest centred crop (same aspect) inside a picture rotated by deg about its centre."""
    t = math.radians(abs(deg))
    c, s = math.cos(t), math.sin(t)
    f = 1.0
    while f > 0.2:
        hx, hy = f * w / 2, f * h / 2
        if hx * c + hy * s <= w / 2 and hx * s + hy * c <= h / 2:
            break
        f -= 0.01
    cw, ch = int(w * f), int(h * f)
    return (w - cw) // 2, (h - ch) // 2, cw, ch


def jpeg_quality(data: bytes) -> int | None:
    from forensic.media.image.jpeg_quant import estimate_quality

    with Image.open(io.BytesIO(data)) as im:
        tables = getattr(im, "quantization", {}) or {}
    if not tables:
        return None
    return estimate_quality({int(k): list(v) for k, v in tables.items()})[0]


def manipulate(
    kind: str, data: bytes, donor: bytes, rng: np.random.Generator
) -> tuple[bytes, Mask, str]:
    """A manipulated JPEG (quality 75-95), its exact mask and a note."""
    q = int(rng.integers(75, 96))
    rgb = decode_rgb(data)
    h, w = rgb.shape[:2]
    full = np.full((h, w), 255, dtype=np.uint8)
    if kind in NEEDS_JPEG:
        q1 = jpeg_quality(data)
        while q1 is not None and abs(q - q1) < 3:
            q = int(rng.integers(75, 96))
        if kind == "double_jpeg":
            return to_jpeg(rgb, q), full, f"q{q1} -> q{q}"
        dx, dy = 0, 0
        while dx % 8 == 0 and dy % 8 == 0:
            dx, dy = int(rng.integers(0, 8)), int(rng.integers(0, 8))
        out = rgb[dy:, dx:]
        return (
            to_jpeg(np.ascontiguousarray(out), q),
            full[dy:, dx:],
            f"q{q1} -> crop ({dx},{dy}) -> q{q}",
        )
    if kind == "resample_up" or kind == "resample_down":
        f = float(rng.uniform(1.2, 1.6) if kind == "resample_up" else rng.uniform(0.7, 0.9))
        im = Image.fromarray(rgb).resize((round(w * f), round(h * f)), Image.Resampling.BICUBIC)
        return to_jpeg(im, q), np.full((im.height, im.width), 255, np.uint8), f"x{f:.2f}"
    if kind == "rotate":
        deg = float(rng.uniform(3, 15) * rng.choice([-1, 1]))
        im = Image.fromarray(rgb).rotate(deg, Image.Resampling.BICUBIC)
        x, y, cw, ch = inside_crop(w, h, deg)
        im = im.crop((x, y, x + cw, y + ch))
        return to_jpeg(im, q), np.full((ch, cw), 255, np.uint8), f"{deg:.1f} deg"
    if kind == "face_swap":
        out, mask, note = face_swap(rgb, decode_rgb(donor), rng)
        return to_jpeg(out, q), mask, note
    if kind == "self_blend":
        out, mask, note = self_blend(rgb, rng)
        return to_jpeg(out, q), mask, note
    mask = np.zeros((h, w), dtype=np.uint8)
    x, y, rw, rh = region(rng, w, h)
    if kind == "splice":
        src = decode_rgb(donor)
        if src.shape[0] < rh or src.shape[1] < rw:
            src = np.asarray(
                Image.fromarray(src).resize((max(rw, src.shape[1]), max(rh, src.shape[0])))
            )
        sx = int(rng.integers(0, src.shape[1] - rw + 1))
        sy = int(rng.integers(0, src.shape[0] - rh + 1))
    else:  # copy_move: another place of the same photo
        src = rgb
        sx, sy, _, _ = region(rng, w, h)
        sx, sy = min(sx, w - rw), min(sy, h - rh)
    out = rgb.copy()
    out[y : y + rh, x : x + rw] = src[sy : sy + rh, sx : sx + rw]
    mask[y : y + rh, x : x + rw] = 255
    return to_jpeg(out, q), mask, f"{rw}x{rh} at ({x},{y})"


def messenger(
    data: bytes, mask: Mask | None, rng: np.random.Generator
) -> tuple[bytes, Mask | None]:
    """Messenger-like re-compression: longest side <= 1280 (bilinear), JPEG quality 70-85."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    if max(im.size) > 1280:
        s = 1280 / max(im.size)
        size = (round(im.width * s), round(im.height * s))
        im = im.resize(size, Image.Resampling.BILINEAR)
        if mask is not None:
            mask = np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.NEAREST))
    return to_jpeg(im, int(rng.integers(70, 86))), mask


# ---------------------------------------------------------------- scoring (worker processes)

_PHOTOS: list[Path] = []
_TMP: Path = Path()
_ONLY: tuple[str, ...] = ()


def _init_worker(photos: list[Path], tmp: Path, only: tuple[str, ...] = ()) -> None:
    global _PHOTOS, _TMP, _ONLY
    _PHOTOS, _TMP, _ONLY = photos, tmp, only
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(REPO))
    import cv2

    cv2.setNumThreads(1)
    import forensic.capture  # noqa: F401  (import order of the media package)


def numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


def pixel_metrics(heat: Any, mask: Mask) -> dict[str, float] | None:
    """Pixel AUC, best F1 and best MCC of a heatmap against a mask (soft border ignored)."""
    import cv2

    h, w = mask.shape
    s = min(1.0, LOC_SIDE / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    m = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST).ravel()
    hm = np.asarray(heat, dtype=np.float32)
    if hm.ndim != 2 or hm.size == 0:
        return None
    hv = cv2.resize(hm, size, interpolation=cv2.INTER_LINEAR).ravel()
    keep = m != 128
    y, v = m[keep] == 255, hv[keep]
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return None
    order = np.argsort(-v, kind="stable")
    vs, ys = v[order], y[order]
    last = np.r_[np.nonzero(np.diff(vs))[0], len(vs) - 1]  # end of each tie group
    tp = np.cumsum(ys)[last].astype(np.float64)
    fp = (last + 1 - tp).astype(np.float64)
    fn, tn = npos - tp, nneg - fp
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = np.where(den > 0, (tp * tn - fp * fn) / np.maximum(den, 1e-12), 0.0)
    tpr, fpr = np.r_[0.0, tp / npos], np.r_[0.0, fp / nneg]
    share = npos / (npos + nneg)
    return {
        # trapezoids over tie groups: exactly the Mann-Whitney AUC (ties count half)
        "auc": float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2)),
        "f1": float(f1.max()),
        "mcc": float(mcc.max()),
        "f1_all": 2 * share / (1 + share),  # a map that marks every pixel
    }


def score_file(data: bytes, mask: Mask | None, name: str) -> dict[str, Any]:
    """Every registered detector (or those of ``--only``) on one file: per detector name, its
    statuses (as the detector decided them, before any demotion), numeric scores and
    localisation. Kept per detector so that one family can be re-measured alone."""
    from forensic.analysis.interface import AnalysisInput
    from forensic.analysis.registry import detectors
    from forensic.analysis.store import run_detector
    from forensic.media.record import describe_path

    path = _TMP / f"{os.getpid()}-{name}"
    path.write_bytes(data)
    try:
        meta = describe_path(path)
        doc = {**meta["sections"], "item": {"media_type": meta["media_type"]}}
        item = AnalysisInput(path, meta["media_type"], doc)
        out: dict[str, Any] = {}
        local = mask is not None and bool((mask == 0).any())
        for det in detectors():
            if _ONLY and det.name not in _ONLY:
                continue
            status: dict[str, str] = {}
            scores: dict[str, float] = {}
            loc: dict[str, dict[str, float]] = {}
            out[det.name] = {"status": status, "score": scores, "loc": loc}
            if not det.accepts(meta["media_type"]):
                continue
            result = run_detector(det, item)
            for f in result.findings:
                status[f.signal] = f.status
                if isinstance(f.value, dict):
                    for key, val in f.value.items():
                        if key in NOT_LEVELS.get(f.signal, ()):
                            continue
                        num = numeric(val)
                        if num is not None:
                            scores[
                                f.signal if PRIMARY.get(f.signal) == key else f"{f.signal}[{key}]"
                            ] = num
                else:
                    num = numeric(f.value)
                    if num is not None:
                        scores[f.signal] = num
            if local and mask is not None:
                for signal, heat in result.heatmaps.items():
                    m = pixel_metrics(heat, mask)
                    if m is not None:
                        loc[signal] = m
        return out
    finally:
        path.unlink(missing_ok=True)


def run_task(task: tuple[int, str, int]) -> dict[str, Any]:
    """One benchmark file (a negative, a video frame or a manipulation of photo idx), before and
    after messenger re-compression. Seeded per task: the same result in any process order."""
    idx, kind, donor_idx = task
    rng = np.random.default_rng([SEED, idx, (*KINDS, "negative", "video").index(kind)])
    src = _PHOTOS[idx]
    data = src.read_bytes()
    mask: Mask | None = None
    note = ""
    if kind not in ("negative", "video"):
        data, mask, note = manipulate(kind, data, _PHOTOS[donor_idx].read_bytes(), rng)
    name = f"{idx}-{kind}"
    before = score_file(data, mask, name + src.suffix if mask is None else name + ".jpg")
    after_data, after_mask = messenger(data, mask, rng)
    after = score_file(after_data, after_mask, name + "-after.jpg")
    return {"idx": idx, "kind": kind, "note": note, "before": before, "after": after}


def flatten(per_detector: dict[str, Any]) -> dict[str, Any]:
    """One stage's statuses, scores and localisation over all detectors."""
    out: dict[str, Any] = {"status": {}, "score": {}, "loc": {}}
    for det in per_detector.values():
        for key in out:
            out[key].update(det[key])
    return out


def task_key(task: tuple[int, str, int], all_paths: list[Path]) -> str:
    """A task's name in the score cache: the file names, not indices (the photo set may grow)."""
    idx, kind, donor = task

    def rel(p: Path) -> str:
        return p.relative_to(DATASETS).as_posix() if p.is_relative_to(DATASETS) else p.name

    donor_name = "" if kind in ("negative", "video") else rel(all_paths[donor])
    return f"{rel(all_paths[idx])}|{kind}|{donor_name}"


def read_cache(path: Path | None) -> dict[str, dict[str, Any]]:
    """Cached per-file detector results (JSON lines, the last line of a key wins)."""
    out: dict[str, dict[str, Any]] = {}
    if path is None or not path.is_file():
        return out
    for line in path.read_text("utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line cut by an interrupted run
            continue
        out[row["key"]] = row
    return out


def merge_cached(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new``'s detectors replace the same detectors of ``old`` (re-measuring one family)."""
    if old is None:
        return new
    merged = dict(old)
    for stage in ("before", "after"):
        merged[stage] = {**old[stage], **new[stage]}
    return merged


# ---------------------------------------------------------------- statistics


def auc(neg: NDArray[np.float64], pos: NDArray[np.float64]) -> float:
    """P(pos > neg) + P(pos = neg) / 2 (Mann-Whitney)."""
    s = np.sort(neg)
    lo = np.searchsorted(s, pos, side="left")
    hi = np.searchsorted(s, pos, side="right")
    return float((lo.sum() + 0.5 * (hi - lo).sum()) / (len(neg) * len(pos)))


def threshold_at(neg: NDArray[np.float64], fpr: float) -> float:
    """Smallest threshold t (decision: score > t) with share(neg > t) <= fpr."""
    s = np.sort(neg)
    k = int(np.floor(fpr * len(s)))  # at most k negatives may exceed t
    return float(s[len(s) - 1 - k])


def tpr_at(neg: NDArray[np.float64], pos: NDArray[np.float64], fpr: float) -> float:
    return float((pos > threshold_at(neg, fpr)).mean())


def binom_cdf(x: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(x + 1))


def clopper_pearson(x: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact two-sided Clopper-Pearson interval of a binomial proportion x / n."""
    a = (1 - conf) / 2

    def solve(f: Callable[[float], bool]) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) else (lo, mid)
        return (lo + hi) / 2

    upper = 1.0 if x >= n else solve(lambda p: binom_cdf(x, n, p) > a)
    lower = 0.0 if x <= 0 else solve(lambda p: 1 - binom_cdf(x - 1, n, p) < a)
    return lower, upper


def needed_negatives(conf: float = 0.95, target: float = 0.01) -> tuple[int, int]:
    """Negatives needed, with zero false positives, to bound the FPR below target: one-sided
    (the 'rule of three') and with the two-sided Clopper-Pearson interval used here."""
    one = math.ceil(math.log(1 - conf) / math.log(1 - target))
    two = math.ceil(math.log((1 - conf) / 2) / math.log(1 - target))
    return one, two


def boot_ci(vals: Callable[[np.random.Generator], float], rng: np.random.Generator) -> list[float]:
    out = [vals(rng) for _ in range(BOOT)]
    return [round(float(np.percentile(out, 2.5)), 3), round(float(np.percentile(out, 97.5)), 3)]


def metrics(
    neg: list[float], pos: list[float], thr: float, rng: np.random.Generator
) -> dict[str, Any]:
    n, p = np.asarray(neg, dtype=np.float64), np.asarray(pos, dtype=np.float64)
    if len(n) == 0 or len(p) == 0:
        return {"n_neg": len(n), "n_pos": len(p)}

    def ci(fn: Callable[[NDArray[np.float64], NDArray[np.float64]], float]) -> list[float]:
        return boot_ci(
            lambda r: fn(n[r.integers(0, len(n), len(n))], p[r.integers(0, len(p), len(p))]), rng
        )

    return {
        "n_neg": len(n),
        "n_pos": len(p),
        "auc": round(auc(n, p), 3),
        "auc_ci": ci(auc),
        "tpr_fpr1": round(tpr_at(n, p, 0.01), 3),
        "tpr_fpr1_ci": ci(lambda a, b: tpr_at(a, b, 0.01)),
        "tpr_fpr5": round(tpr_at(n, p, 0.05), 3),
        "tpr_fpr5_ci": ci(lambda a, b: tpr_at(a, b, 0.05)),
        "tpr_at_detector_threshold": round(float((p > thr).mean()), 3),
        "fpr_at_detector_threshold": round(float((n > thr).mean()), 3),
    }


def loc_summary(rows: list[dict[str, float]], rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    out["f1_mark_all"] = round(float(np.mean([r["f1_all"] for r in rows])), 3)
    for key in ("auc", "f1", "mcc"):
        v = np.asarray([r[key] for r in rows], dtype=np.float64)
        out[key] = round(float(v.mean()), 3)
        out[f"{key}_ci"] = boot_ci(
            lambda r, v=v: float(v[r.integers(0, len(v), len(v))].mean()), rng
        )
    return out


def fpr_entry(x: int, n: int) -> dict[str, Any]:
    lo, hi = clopper_pearson(x, n)
    return {
        "n": n,
        "false_positives": x,
        "fpr": round(x / n, 4) if n else None,
        "ci95": [round(lo, 4), round(hi, 4)],
    }


# ---------------------------------------------------------------- the run


def held_back(photos: list[str]) -> set[int]:
    """The negatives no threshold is calibrated on: half of each source (camera-photos/ and
    the rest), chosen by a fixed seed; the other half calibrates."""
    rng = np.random.default_rng([SEED, 2])
    out: set[int] = set()
    for camera in (True, False):
        group = [i for i, p in enumerate(photos) if p.startswith(CAMERA_FOLDER) == camera]
        order = rng.permutation(len(group))
        out |= {group[int(j)] for j in order[: (len(group) + 1) // 2]}
    return out


def pixel_duplicates(photos: list[str]) -> dict[str, str]:
    """Photos whose decoded pixels equal an earlier photo's (the same picture in two folders):
    one copy is kept, so that no photo calibrates a threshold and tests it too."""
    import hashlib

    seen: dict[str, str] = {}
    dup: dict[str, str] = {}
    order = sorted(photos, key=lambda p: (not p.startswith(CAMERA_FOLDER), p))
    for rel in order:
        with Image.open(DATASETS / rel) as im:
            digest = hashlib.sha256(im.convert("RGB").tobytes()).hexdigest()
        if digest in seen:
            dup[rel] = f"same pixels as {seen[digest]}"
        else:
            seen[digest] = rel
    return dup


def plan(
    paths: list[Path], frames: list[str], rng: np.random.Generator
) -> list[tuple[int, str, int]]:
    """Every task: the negatives and video frames first (they set and check the thresholds),
    then each photo's manipulations, photo by photo in a seeded shuffled order, so that a run
    stopped early has measured every negative and a random subset of the photos' positives."""
    tasks: list[tuple[int, str, int]] = [(i, "negative", i) for i in range(len(paths))]
    tasks += [(len(paths) + i, "video", 0) for i in range(len(frames))]
    positives: dict[int, list[tuple[int, str, int]]] = {}
    for kind in KINDS:
        for i, p in enumerate(paths):
            if kind in NEEDS_JPEG and p.suffix.lower() not in (".jpg", ".jpeg"):
                continue
            donor = (i + 1 + int(rng.integers(0, len(paths) - 1))) % len(paths)
            positives.setdefault(i, []).append((i, kind, donor))
    order = np.random.default_rng([SEED, 1]).permutation(len(paths))
    for i in order:
        tasks += positives.get(int(i), [])
    return tasks


def run(
    quick: bool, jobs: int, cache: Path | None, only: tuple[str, ...], cached_only: bool
) -> dict[str, Any]:
    """Score every task (or take it from ``cache``), then aggregate. ``only``: re-measure
    these detectors alone and keep every other detector's cached scores."""
    global BOOT
    if quick:
        BOOT = QUICK_BOOT
    photos, left_out = negative_photos(DATASETS)
    if quick:  # JPEGs of 256 px to 1 MP only: the CI subset must stay under a minute
        small = [
            p
            for p in photos
            if p.endswith(".jpg")
            and not p.startswith(CAMERA_FOLDER)  # the same subset as before that folder came
            and min(Image.open(DATASETS / p).size) >= 256
            and np.prod(Image.open(DATASETS / p).size) <= 1_000_000
        ]
        photos = small[:: max(1, len(small) // QUICK_PHOTOS)][:QUICK_PHOTOS]
    paths = [DATASETS / p for p in photos]
    rng = np.random.default_rng(SEED)
    cached = read_cache(cache)
    with tempfile.TemporaryDirectory(prefix="forensic-eval-") as tmp_name:
        tmp = Path(tmp_name)
        frames = [] if quick else video_frames(DATASETS, tmp, None)
        all_paths = paths + [Path(f) for f in frames]
        tasks = plan(paths, frames, rng)
        keys = [task_key(t, all_paths) for t in tasks]
        redo = bool(only) and not cached_only
        todo = [t for t, k in zip(tasks, keys, strict=True) if redo or k not in cached]
        if cached_only:
            todo = []
        print(f"  {len(tasks)} files, {len(tasks) - len(todo)} from the cache", file=sys.stderr)
        ctx = multiprocessing.get_context("spawn")
        sink = cache.open("a", encoding="utf-8") if cache is not None else None
        try:
            with ctx.Pool(jobs, _init_worker, (all_paths, tmp, only)) as pool:
                for n, r in enumerate(pool.imap(run_task, todo, chunksize=1), 1):
                    key = task_key((r["idx"], r["kind"], todo[n - 1][2]), all_paths)
                    cached[key] = merge_cached(cached.get(key), {**r, "key": key})
                    if sink is not None:
                        sink.write(json.dumps(cached[key], sort_keys=True) + "\n")
                        sink.flush()
                    if n % 50 == 0 or n == len(todo):
                        print(f"  {n}/{len(todo)} files", file=sys.stderr, flush=True)
        finally:
            if sink is not None:
                sink.close()
    dup = pixel_duplicates(photos)
    left_out.update(dup)
    dropped = {i for i, p in enumerate(photos) if p in dup}
    results = []
    for t, k in zip(tasks, keys, strict=True):
        if k in cached and t[0] not in dropped:
            row = cached[k]
            results.append(
                {
                    "idx": t[0],
                    "kind": t[1],
                    "note": row["note"],
                    "before": flatten(row["before"]),
                    "after": flatten(row["after"]),
                }
            )
    return aggregate(results, photos, left_out, frames, rng)


def aggregate(
    results: list[dict[str, Any]],
    photos: list[str],
    left_out: dict[str, str],
    frames: list[str],
    rng: np.random.Generator,
) -> dict[str, Any]:
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        for stage in ("before", "after"):
            by.setdefault((r["kind"], stage), []).append(r[stage])

    def group(kind: str, stage: str) -> list[dict[str, Any]]:
        return by.get((kind, stage), [])

    scored = sorted({s for r in results for st in ("before", "after") for s in r[st]["score"]})
    decided = {
        s
        for r in results
        for st in ("before", "after")
        for s, v in r[st]["status"].items()
        if v in ("indicates", "no_evidence")
    }
    all_status = sorted({s for r in results for st in ("before", "after") for s in r[st]["status"]})
    heat = sorted({s for r in results for st in ("before", "after") for s in r[st]["loc"]})
    signals: dict[str, Any] = {}
    names = [Path(p).name for p in photos]
    held = held_back(photos)
    negatives = [r for r in results if r["kind"] == "negative"]

    def split(stage: str, value: Callable[[dict[str, Any]], Any]) -> tuple[list[Any], list[Any]]:
        """(calibration, held-back) values of the untouched photos at one stage."""
        cal: list[Any] = []
        out: list[Any] = []
        for r in negatives:
            v = value(r[stage])
            if v is not None:
                (out if r["idx"] in held else cal).append(v)
        return cal, out

    for sig in scored:
        cal, hold = split("before", lambda g, sig=sig: g["score"].get(sig))
        if not cal or not hold:
            continue
        base = sig.split("[")[0]
        thr = threshold_at(np.asarray(cal), 0.01)
        x = int((np.asarray(hold) > thr).sum())
        lo, hi = clopper_pearson(x, len(hold))
        _, hold_after = split("after", lambda g, sig=sig: g["score"].get(sig))
        vids = [g["score"][sig] for g in group("video", "before") if sig in g["score"]]
        entry: dict[str, Any] = {
            "feature_only": base not in decided,
            "threshold": round(thr, 6),
            "threshold_rule": "smallest t with share(calibration photo negatives > t) <= 1 %",
            "held_back": True,
            "n_calibration": len(cal),
            "fpr_untouched": round(x / len(hold), 4),
            "n_neg": len(hold),
            "fpr_ci95": [round(lo, 4), round(hi, 4)],
            "fpr_upper_95": round(hi, 4),
            "fpr_upper_95_method": "exact Clopper-Pearson, two-sided 95 %, on the held-back "
            "photos only (never used to set the threshold)",
            "decides": base in decided and hi <= 0.01,
            "all_photos": fpr_entry(int((np.asarray(cal + hold) > thr).sum()), len(cal + hold)),
        }
        if hold_after:
            entry["held_back_after_recompression"] = fpr_entry(
                int((np.asarray(hold_after) > thr).sum()), len(hold_after)
            )
        if vids:
            entry["video_frames"] = fpr_entry(int((np.asarray(vids) > thr).sum()), len(vids))
        for stage in ("before", "after"):
            negs = [g["score"][sig] for g in group("negative", stage) if sig in g["score"]]
            entry[stage] = {
                kind: metrics(
                    negs,
                    [g["score"][sig] for g in group(kind, stage) if sig in g["score"]],
                    thr,
                    rng,
                )
                for kind in KINDS
            }
        signals[sig] = entry
    for sig in all_status:
        if sig in signals or any(s.split("[")[0] == sig for s in signals):
            continue
        if sig not in decided:  # info or not-applicable only: nothing to measure
            continue
        cal, hold = split("before", lambda g, sig=sig: g["status"].get(sig))
        if not hold:
            continue
        flagged = [
            names[r["idx"]]
            for r in negatives
            if r["idx"] in held and r["before"]["status"].get(sig) == "indicates"
        ]
        flagged_cal = sum(v == "indicates" for v in cal)
        lo, hi = clopper_pearson(len(flagged), len(hold))
        entry = {
            "held_back": True,
            "n_calibration": len(cal),
            "n_neg": len(hold),
            "fpr_untouched": round(len(flagged) / len(hold), 4),
            "flagged": flagged,
            "fpr_ci95": [round(lo, 4), round(hi, 4)],
            "fpr_upper_95": round(hi, 4),
            "fpr_upper_95_method": "exact Clopper-Pearson, two-sided 95 %, on the held-back "
            "photos only",
            "decides": hi <= 0.01,
            "all_photos": fpr_entry(len(flagged) + flagged_cal, len(hold) + len(cal)),
            "rate_indicates": {
                stage: {
                    kind: round(
                        float(
                            np.mean(
                                [g["status"].get(sig) == "indicates" for g in group(kind, stage)]
                            )
                        ),
                        3,
                    )
                    for kind in ("negative", *KINDS)
                    if group(kind, stage)
                }
                for stage in ("before", "after")
            },
        }
        vids = [g for g in group("video", "before") if sig in g["status"]]
        if vids:
            entry["video_frames"] = fpr_entry(
                sum(g["status"][sig] == "indicates" for g in vids), len(vids)
            )
        signals[sig] = entry
    for sig in heat:
        loc = {
            stage: {
                kind: loc_summary(
                    [g["loc"][sig] for g in group(kind, stage) if sig in g["loc"]], rng
                )
                for kind in LOCAL
                if any(sig in g["loc"] for g in group(kind, stage))
            }
            for stage in ("before", "after")
        }
        signals.setdefault(sig, {})["localisation"] = loc
    faces = {
        kind: {
            "face found": sum(
                1 for r in results if r["kind"] == kind and r["note"].startswith("face")
            ),
            "random ellipse": sum(
                1 for r in results if r["kind"] == kind and r["note"].startswith("random")
            ),
        }
        for kind in ("face_swap", "self_blend")
    }
    counts = {kind: len(group(kind, "before")) for kind in ("negative", "video", *KINDS)}
    return {
        "signals": signals,
        "photos": photos,
        "left_out": left_out,
        "video_frames": [Path(f).name for f in frames],
        "counts": counts,
        "faces": faces,
        "notes": {f"{names[r['idx']]}:{r['kind']}": r["note"] for r in results if r["note"]},
    }


# ---------------------------------------------------------------- the report


def fmt_ci(m: dict[str, Any], key: str) -> str:
    return f"{m[key]} [{m[key + '_ci'][0]}, {m[key + '_ci'][1]}]" if key in m else "n/a"


def pct(v: float) -> str:
    return f"{v * 100:.1f} %"


def markdown(res: dict[str, Any], seconds: float, quick: bool, jobs: int) -> str:
    n = res["counts"]["negative"]
    one, two = needed_negatives()
    lines = [
        "# Detection evaluation",
        "",
        "Written by `python bench/eval_detection.py`"
        + (" --quick (a SUBSET: not the published figures)" if quick else "")
        + (
            f" --cached-only in {seconds:.0f} s: aggregated from the per-file detector results "
            "an earlier scoring run cached (`--cache`), its time not included"
            if res.get("cached_only")
            else f" in {seconds:.0f} s on {jobs} worker processes "
            f"({res.get('worker_cpu_s', 0):.0f} CPU-seconds: the wall time depends on what else "
            "the machine runs)"
        )
        + f"; seed {SEED}, {BOOT} bootstrap "
        "resamples. Every registered image detector is run on every file exactly as "
        "`forensic analyze --detect` runs it; every numeric finding value is a score (higher "
        "= more suspicious), every heatmap is scored against the ground-truth mask.",
        "",
        "## Benchmark",
        "",
        f"* **Negatives**: {n} distinct real photos from `../shared/datasets` ("
        f"{sum(p.startswith(CAMERA_FOLDER) for p in res['photos'] if p not in res['left_out'])}"
        " from camera-photos/, the rest from exif-samples, pdq, c2pa; JPEG, TIFF, PNG), the "
        "untouched files. Files left out and why are listed in "
        "`forensic/analysis/error_rates.json` (`left_out`): derived copies, graphics, "
        f"drawings, files under {MIN_SIDE} px, the same pixels in two folders (kept once), and "
        "in camera-photos/ by a stated rule (`camera_photo_rule`): files that do not decode "
        f"completely (damaged), under {CAMERA_MIN_SIDE} px (tiny), without a camera maker in "
        "EXIF, or whose EXIF Software or file name names an editor (edited).",
        f"* **Video frames** (a separate negative set, never used for a threshold): "
        f"{res['counts']['video']} frames, {VIDEO_FPS:g} per second, of the 3 real camera "
        f"videos ({', '.join(VIDEOS)}), saved as JPEG quality 90. Frames of one video are "
        "correlated (one scene): they check the false-positive rate on real camera content, "
        "they do not add independent negatives.",
        "* **Positives**, generated from the photos with exact masks, each saved as JPEG at a "
        "random quality 75-95"
        + (
            f" (from the first {res['counts']['splice']} photos of a seeded shuffle: the "
            "scoring run was stopped there, after every negative)"
            if res["counts"].get("splice", 0) < n
            else ""
        )
        + ": "
        + ", ".join(f"`{k}` ({res['counts'][k]})" for k in KINDS)
        + ". Face-region kinds use the OpenCV Haar cascade; where a photo has no detected face "
        "a random ellipse stands in: "
        + "; ".join(
            f"{k}: {v['face found']} faces found, {v['random ellipse']} random ellipses"
            for k, v in res["faces"].items()
        )
        + ". Double JPEG kinds use JPEG sources only.",
        "* **After**: every file, negatives too, re-compressed like a messenger (longest side "
        "<= 1280 px, JPEG quality 70-85).",
        "",
        "## What these numbers can and cannot show",
        "",
        "**Calibration and held-back photos.** The untouched photos are split once, by a fixed "
        "seed, half of each source (camera-photos/ and the rest) into a calibration part and a "
        "held-back part. Each threshold is the smallest value with <= 1 % false positives on "
        "the calibration part (with that few photos: above every calibration photo); the "
        "false-positive rate every finding quotes is measured on the held-back part, which no "
        "threshold ever saw, with its exact two-sided Clopper-Pearson 95 % interval and the "
        "number of photos. Signals that decide without a score (their rules were written "
        "before camera-photos/ existed) are counted on the same held-back part. A signal whose "
        "held-back upper bound is not <= 1 % does not decide: its findings say 'info' with the "
        "value, never 'indicates' (`decides` in `error_rates.json`).",
        "",
        f"A 1 % false-positive rate can only be demonstrated with at least {one} independent "
        f"negatives and no false positive (one-sided 95 %, the rule of three), or {two} with "
        f"the exact two-sided interval used here. The held-back part has about {n // 2} "
        f"photos: even with zero false positives its upper bound is about "
        f"{pct(clopper_pearson(0, max(1, n // 2))[1])}, so no pixel signal decides on this "
        f"benchmark; {two - n // 2} more independent real photos held back would be needed. "
        "More frames of the same videos do not close that gap.",
        "",
        "Findings never say 'fake' or 'authentic'; a value over the threshold 'indicates' the "
        "signal only where the signal decides (above), else it is 'info'; a value under it is "
        "'no evidence (this does not prove absence)'.",
        "",
    ]
    scored = {s: e for s, e in res["signals"].items() if "before" in e}
    stop, survive = [], []

    def separates(m: dict[str, Any]) -> bool:  # the AUC's 95 % interval excludes 0.5
        return "auc_ci" in m and (m["auc_ci"][0] > 0.5 or m["auc_ci"][1] < 0.5)

    for s, e in scored.items():
        for kind in KINDS:
            b, a = e["before"].get(kind, {}), e["after"].get(kind, {})
            if separates(b):
                (survive if separates(a) else stop).append(f"`{s}` on {kind}")
    lines += [
        "## After messenger re-compression",
        "",
        "A score 'separates' a manipulation when the 95 % bootstrap interval of its AUC "
        "excludes 0.5 (either direction; below 0.5 the score moves the other way, which the "
        "decision 'score > threshold' cannot use). "
        + (
            "**Stops separating after re-compression**: " + ", ".join(stop) + "."
            if stop
            else "No score that separated before stops separating after re-compression."
        )
        + " "
        + (
            "Still separates after re-compression: " + ", ".join(survive) + "."
            if survive
            else "**No score separates any manipulation after re-compression.**"
        ),
        "",
    ]
    for sig, e in res["signals"].items():
        lines += [f"## `{sig}`", ""]
        if sig.split("[")[0] in CAVEATS:
            lines += [CAVEATS[sig.split("[")[0]], ""]
        if "before" in e:
            if e.get("feature_only"):
                lines += [
                    "A feature: the findings show the value and never decide ('info'); the "
                    "threshold below is for this measurement only.",
                    "",
                ]
            video = e.get("video_frames")
            allp = e.get("all_photos") or {}
            after = e.get("held_back_after_recompression")
            lines += [
                f"Threshold {e['threshold']} (score > threshold), set on {e['n_calibration']} "
                f"calibration photos: false-positive rate on the {e['n_neg']} held-back photos "
                f"{pct(e['fpr_untouched'])} (exact 95 % interval {pct(e['fpr_ci95'][0])}-"
                f"{pct(e['fpr_ci95'][1])}); on all {allp.get('n')} photos "
                f"{allp.get('false_positives')} over the threshold"
                + (
                    f"; held-back photos after messenger re-compression {pct(after['fpr'])} "
                    f"({after['false_positives']} of {after['n']})"
                    if after
                    else ""
                )
                + (
                    ". **Decides** ('indicates' over the threshold)"
                    if e.get("decides")
                    else ". Does not decide: findings say 'info'"
                )
                + (
                    f"; on {video['n']} video frames {pct(video['fpr'])} "
                    f"(95 % interval {pct(video['ci95'][0])}-{pct(video['ci95'][1])})"
                    if video
                    else ""
                )
                + ".",
                "",
                "| stage | manipulation | n neg / pos | AUC [95 % CI] | TPR @ FPR 1 % [CI] "
                "| TPR @ FPR 5 % [CI] | TPR / FPR at the threshold |",
                "|---|---|---|---|---|---|---|",
            ]
            for stage in ("before", "after"):
                for kind, m in e[stage].items():
                    if "auc" not in m:
                        continue
                    lines.append(
                        f"| {stage} | {kind} | {m['n_neg']} / {m['n_pos']} | {fmt_ci(m, 'auc')} "
                        f"| {fmt_ci(m, 'tpr_fpr1')} | {fmt_ci(m, 'tpr_fpr5')} | "
                        f"{m['tpr_at_detector_threshold']} / {m['fpr_at_detector_threshold']} |"
                    )
            inverted = [
                f"{k} ({st})"
                for st in ("before", "after")
                for k, m in e[st].items()
                if m.get("auc", 0.5) < 0.4
            ]
            lines.append("")
            if inverted:
                lines += [
                    "AUC below 0.4: the score moves the other way for " + ", ".join(inverted) + "; "
                    "the decision 'score > threshold' cannot use that.",
                    "",
                ]
        elif "rate_indicates" in e:
            video = e.get("video_frames")
            lines += [
                f"A signal with a decision and no score. Held-back photos flagged 'indicates': "
                f"{pct(e['fpr_untouched'])} of {e['n_neg']}"
                + (f" ({', '.join(e['flagged'])})" if e["flagged"] else "")
                + f"; exact 95 % interval {pct(e['fpr_ci95'][0])}-{pct(e['fpr_ci95'][1])}; "
                f"all {e['all_photos']['n']} photos: {e['all_photos']['false_positives']} flagged"
                + ("; decides" if e.get("decides") else "; does not decide (findings say 'info')")
                + (
                    f"; video frames flagged: {video['false_positives']} of {video['n']}"
                    if video
                    else ""
                )
                + ". Share of files it flags: "
                + "; ".join(
                    f"{st}: negatives {kinds.get('negative', 0)}, manipulations up to "
                    f"{max((v for k, v in kinds.items() if k != 'negative'), default=0)}"
                    for st, kinds in e["rate_indicates"].items()
                )
                + " (the generated files carry no metadata claims: this measures false "
                "positives only).",
                "",
            ]
        if "localisation" in e:
            lines += [
                "Localisation (heatmap vs. mask, per image, soft mask borders not scored; best "
                "F1 and MCC use the best threshold for each image, so they are optimistic; a map "
                "that marks every pixel already reaches the 'F1 mark-all' column):",
                "",
                "| stage | manipulation | images | pixel AUC [CI] | best F1 [CI] | F1 mark-all "
                "| best MCC [CI] |",
                "|---|---|---|---|---|---|---|",
            ]
            for stage, kinds in e["localisation"].items():
                for kind, m in kinds.items():
                    lines.append(
                        f"| {stage} | {kind} | {m['n']} | {fmt_ci(m, 'auc')} | {fmt_ci(m, 'f1')} "
                        f"| {m['f1_mark_all']} | {fmt_ci(m, 'mcc')} |"
                    )
            lines.append("")
    lines += [
        "## Not measured here",
        "",
        "Video signals (no video benchmark with ground truth yet) and any detector not "
        "registered when this ran. Detectors registered later are measured by re-running "
        "`python bench/eval_detection.py`.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_PHOTOS} small photos (CI)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--md", type=Path, default=REPO / "docs" / "detection-evaluation.md")
    ap.add_argument("--json", type=Path, default=REPO / "forensic/analysis/error_rates.json")
    ap.add_argument(
        "--cache",
        type=Path,
        help="JSON lines of per-file detector results: read, and extended with what is "
        "computed (re-split or re-aggregate without recomputing)",
    )
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated detector names to re-measure alone (e.g. faces); every other "
        "detector's results come from --cache",
    )
    ap.add_argument(
        "--cached-only", action="store_true", help="compute nothing: aggregate --cache as it is"
    )
    args = ap.parse_args()
    only = tuple(n for n in args.only.split(",") if n)
    if (only or args.cached_only) and args.cache is None:
        print("--only and --cached-only need --cache", file=sys.stderr)
        return 2
    if not DATASETS.is_dir():
        print(f"{DATASETS}: reference datasets missing", file=sys.stderr)
        return 3
    sys.path.insert(0, str(REPO))
    t0 = time.perf_counter()
    res = run(args.quick, args.jobs, args.cache, only, args.cached_only)
    secs = time.perf_counter() - t0
    res["generated_by"] = "bench/eval_detection.py" + (" --quick" if args.quick else "")
    res["cached_only"] = args.cached_only
    res["seed"] = SEED
    res["duration_s"] = round(secs, 1)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    res["worker_cpu_s"] = round(children.ru_utime + children.ru_stime, 1)
    res["jobs"] = args.jobs
    args.md.write_text(markdown(res, secs, args.quick, args.jobs), "utf-8")
    args.json.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"{args.md} and {args.json} written in {secs:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
