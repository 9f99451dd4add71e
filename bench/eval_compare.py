"""How well ``forensic compare`` localises what was changed from an original photo.

    python bench/eval_compare.py                  # every photo; prints the figures (JSON)
    python bench/eval_compare.py --photos 12      # a seeded subset

From every real photo of ``../shared/datasets`` (the negatives of ``bench/eval_detection.py``,
short side >= 256 px), generated with exact masks:

* ``replaced``: a region (5-20 % of the picture) replaced by a region of another photo;
* ``face``: a face (the OpenCV Haar cascade's, or a random ellipse where none is found) pasted
  from another photo, colour-matched, blended with a soft ellipse;
* ``unaltered``: the photo itself;

each then sent "through a messenger" (longest side <= 1280, JPEG quality 70-85), and for
``replaced_cropped`` also cropped by up to 10 % per side and rotated by up to 4 degrees first.
Scored: the IoU of the changed-region mask with the true mask (soft blend borders excluded),
median and 10th percentile; on ``unaltered`` the share of the item wrongly marked changed; and
on ``control`` (an unrelated photo as the "original") how often an alignment is claimed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import eval_detection as ev  # noqa: E402

SEED = 20260302
KINDS = ("replaced", "face", "replaced_cropped", "unaltered", "control")
LOCAL = ("replaced", "face", "replaced_cropped")
MIN_SIDE = 256


def messenger(
    rgb: NDArray[np.uint8], mask: NDArray[np.uint8], rng: np.random.Generator
) -> tuple[bytes, NDArray[np.uint8]]:
    im = Image.fromarray(rgb)
    if max(im.size) > 1280:
        s = 1280 / max(im.size)
        size = (round(im.width * s), round(im.height * s))
        im = im.resize(size, Image.Resampling.BILINEAR)
        mask = np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.NEAREST))
    return ev.to_jpeg(im, int(rng.integers(70, 86))), mask


def crop_rotate(
    rgb: NDArray[np.uint8], mask: NDArray[np.uint8], rng: np.random.Generator
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Rotated by up to 4 degrees, then cropped by up to 10 % on each side (mask with it)."""
    deg = float(rng.uniform(-4, 4))
    im = Image.fromarray(rgb).rotate(deg, Image.Resampling.BICUBIC)
    mk = Image.fromarray(mask).rotate(deg, Image.Resampling.NEAREST)
    w, h = im.size
    x0, y0, _, _ = ev.inside_crop(w, h, deg)
    left, top, right, bottom = (float(rng.uniform(0, 0.1)) for _ in range(4))
    box = (
        x0 + int(left * w),
        y0 + int(top * h),
        w - x0 - int(right * w),
        h - y0 - int(bottom * h),
    )
    return np.asarray(im.crop(box)), np.asarray(mk.crop(box))


def generate(
    kind: str, photo: bytes, donor: bytes, rng: np.random.Generator
) -> tuple[bytes, bytes, NDArray[np.uint8]]:
    """(original, item, true mask at the item's size: 255 changed, 128 soft border)."""
    rgb = ev.decode_rgb(photo)
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    if kind == "control":
        item = ev.decode_rgb(donor)
        data, _ = messenger(item, np.zeros(item.shape[:2], np.uint8), rng)
        return photo, data, np.zeros((1, 1), np.uint8)
    if kind in ("replaced", "replaced_cropped"):
        src = ev.decode_rgb(donor)
        x, y, rw, rh = ev.region(rng, w, h)
        if src.shape[0] < rh or src.shape[1] < rw:
            size = (max(rw, src.shape[1]), max(rh, src.shape[0]))
            src = np.asarray(Image.fromarray(src).resize(size))
        sx = int(rng.integers(0, src.shape[1] - rw + 1))
        sy = int(rng.integers(0, src.shape[0] - rh + 1))
        rgb = rgb.copy()
        rgb[y : y + rh, x : x + rw] = src[sy : sy + rh, sx : sx + rw]
        mask[y : y + rh, x : x + rw] = 255
    elif kind == "face":
        rgb, mask, _note = ev.face_swap(rgb, ev.decode_rgb(donor), rng)
    if kind == "replaced_cropped":
        rgb, mask = crop_rotate(rgb, mask, rng)
    data, mask = messenger(rgb, mask, rng)
    return photo, data, mask


def iou(pred: NDArray[np.uint8], truth: NDArray[np.uint8]) -> float:
    """IoU of predicted changed pixels and the true mask, soft borders (128) excluded."""
    import cv2

    t = cv2.resize(truth, (pred.shape[1], pred.shape[0]), interpolation=cv2.INTER_NEAREST)
    keep = t != 128
    p, g = (pred > 0) & keep, (t == 255) & keep
    union = int((p | g).sum())
    return float((p & g).sum() / union) if union else 1.0


def run_one(kind: str, photo: Path, donor: Path, idx: int) -> dict[str, Any]:
    from forensic.analysis.compare import compare_images, read_work_image

    rng = np.random.default_rng([SEED, idx, KINDS.index(kind)])
    original, item, truth = generate(kind, photo.read_bytes(), donor.read_bytes(), rng)
    t0 = time.perf_counter()
    result = compare_images(read_work_image(original), read_work_image(item))
    secs = time.perf_counter() - t0
    row: dict[str, Any] = {"kind": kind, "photo": photo.name, "aligned": result.aligned, "s": secs}
    row.update(explained=result.explained, changed=result.changed, reason=result.reason)
    if kind in LOCAL:
        row["iou"] = iou(result.mask, truth) if result.mask is not None else 0.0
    return row


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        aligned = sum(r["aligned"] for r in sel)
        lo, hi = ev.clopper_pearson(aligned, len(sel))
        entry: dict[str, Any] = {
            "n": len(sel),
            "aligned": aligned,
            "aligned_ci95": [round(lo, 4), round(hi, 4)],
            "seconds_median": round(float(np.median([r["s"] for r in sel])), 3),
        }
        if "iou" in sel[0]:
            v = np.asarray([r["iou"] for r in sel])
            entry.update(
                iou_median=round(float(np.median(v)), 3),
                iou_p10=round(float(np.percentile(v, 10)), 3),
                iou_mean=round(float(v.mean()), 3),
            )
        if kind == "unaltered":
            v = np.asarray([r["changed"] for r in sel if r["aligned"]])
            if v.size:
                entry.update(
                    false_changed_median=round(float(np.median(v)), 4),
                    false_changed_p90=round(float(np.percentile(v, 90)), 4),
                    false_changed_max=round(float(v.max()), 4),
                    any_false_region=int((v > 0).sum()),
                )
        out[kind] = entry
    return out


def photos(limit: int | None) -> list[Path]:
    kept, _left = ev.negative_photos(ev.DATASETS)
    paths = []
    for rel in kept:
        with Image.open(ev.DATASETS / rel) as im:
            if min(im.size) >= MIN_SIDE:
                paths.append(ev.DATASETS / rel)
    if limit is not None and limit < len(paths):
        order = np.random.default_rng(SEED).permutation(len(paths))[:limit]
        paths = [paths[int(i)] for i in sorted(order)]
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=None, help="a seeded subset of this many photos")
    ap.add_argument("--out", type=Path, default=None, help="write the figures (JSON) here too")
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    chosen = photos(args.photos)
    rows = []
    t0 = time.perf_counter()
    for i, p in enumerate(chosen):
        donor = chosen[(i + 1 + i * 7) % len(chosen)] if len(chosen) > 1 else p
        if donor == p:
            donor = chosen[(i + 1) % len(chosen)]
        for kind in KINDS:
            rows.append(run_one(kind, p, donor, i))
    res = {
        "photos": len(chosen),
        "seed": SEED,
        "seconds": round(time.perf_counter() - t0, 1),
        "kinds": summary(rows),
    }
    text = json.dumps(res, indent=1, sort_keys=True)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", "utf-8")
        (args.out.with_suffix(".rows.json")).write_text(json.dumps(rows, indent=0), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
