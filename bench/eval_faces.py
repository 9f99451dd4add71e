"""Evaluate the face locator and the face descriptor on the shared reference data.

    python bench/eval_faces.py [--no-haar] [--no-match]

1. Locator: recall and false boxes on the hand-labelled faces of tests/assets/face-boxes.json
   (tests/assets/make_face_boxes.py says how they were labelled), for the CNN locator of
   ``forensic.analysis.faces`` and, as the baseline, the OpenCV Haar locator it replaced
   (two cascades, the second confirming; copied below as it was). A box is a hit when its
   intersection over union with a labelled face is at least ``HIT_IOU``; a box that hits no
   face and no ``ignore`` region is a false box.
2. Descriptor: Euclidean distances between the dlib descriptors of faces of one person (the
   same person in frames of the shared videos, up to ``FRAMES`` frames a second apart) and of
   different people (the labelled faces, one per person, and the faces found in the shared
   camera photos, checked by eye to be different people: ``SAME_PERSON`` lists the
   exceptions); the false-match rate at the threshold with its exact (Clopper-Pearson) 95 %
   interval.
3. Speed: locator + descriptors of one generated 12-megapixel photo (a labelled face photo
   upscaled), CPU seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
sys.path.insert(0, str(REPO))
HIT_IOU = 0.3
FRAMES = 12
#: pairs of photos that show one person: the same camera sample is in both folders
SAME_PERSON = {
    frozenset(("exif-samples/jpg/exif-org/kodak-dc210.jpg", "camera-photos/Kodak DC210.jpg"))
}

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# -- the Haar locator as it was (baseline) ------------------------------------------------
WORK_SIDE, MIN_FACE, SCALE_FACTOR, CONFIRM_SCALE_FACTOR = 640, 24, 1.1, 1.05
MIN_VOTES, CONFIRM_IOU, NMS_IOU = 8, 0.5, 0.3
CANDIDATE, CONFIRM = "haarcascade_frontalface_alt2.xml", "haarcascade_frontalface_default.xml"


def _cascade(name: str) -> Any:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))


def iou(a: Any, b: Any) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _votes(found: Any) -> list[tuple[tuple[int, int, int, int], int]]:
    boxes, counts = found
    rows = np.asarray(boxes).reshape(-1, 4)
    return sorted(
        ((int(x), int(y), int(w), int(h)), int(n))
        for (x, y, w, h), n in zip(rows, np.asarray(counts).ravel(), strict=True)
    )


def _confirmed(small: Any, box: Any, confirm: Any) -> bool:
    x, y, w, h = box
    m = w // 2
    x0, y0 = max(0, x - m), max(0, y - m)
    x1, y1 = min(small.shape[1], x + w + m), min(small.shape[0], y + h + m)
    roi = np.ascontiguousarray(small[y0:y1, x0:x1])
    lo, hi = max(MIN_FACE, int(w * 0.7)), int(w * 1.45) + 1
    found = confirm.detectMultiScale2(
        roi, scaleFactor=CONFIRM_SCALE_FACTOR, minNeighbors=1, minSize=(lo, lo), maxSize=(hi, hi)
    )
    return any(
        n >= MIN_VOTES and iou((bx + x0, by + y0, bw, bh), box) >= CONFIRM_IOU
        for (bx, by, bw, bh), n in _votes(found)
    )


def haar_faces(luma: Any) -> list[tuple[int, int, int, int]]:
    if min(luma.shape) < MIN_FACE:
        return []
    h, w = luma.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = luma
    if scale < 1.0:
        small = cv2.resize(luma, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    small = cv2.equalizeHist(small)
    cand, confirm = _cascade(CANDIDATE), _cascade(CONFIRM)
    found = cand.detectMultiScale2(
        small, scaleFactor=SCALE_FACTOR, minNeighbors=2, minSize=(MIN_FACE, MIN_FACE)
    )
    kept = [b for b, n in _votes(found) if n >= MIN_VOTES and _confirmed(small, b, confirm)]
    kept.sort(key=lambda b: (-b[2] * b[3], b))
    chosen: list[Any] = []
    for b in kept:
        if all(iou(b, c) <= NMS_IOU for c in chosen):
            chosen.append(b)
    return [
        (int(bx / scale), int(by / scale), round(bw / scale), round(bh / scale))
        for bx, by, bw, bh in chosen
    ]


# -- scoring ------------------------------------------------------------------------------
def load_labels() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((REPO / "tests/assets/face-boxes.json").read_text())
    return doc["photos"]  # type: ignore[no-any-return]


def upright_rgb(path: Path) -> Any:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray((ImageOps.exif_transpose(im) or im).convert("RGB"), dtype=np.uint8)


def score(boxes: list[Any], faces: list[Any], ignore: list[Any]) -> tuple[int, int]:
    """(faces hit, false boxes) of one photo."""
    hit: set[int] = set()
    false = 0
    for b in boxes:
        found = [i for i, f in enumerate(faces) if iou(b, f) >= HIT_IOU]
        if found:
            hit.add(found[0])
        elif not any(iou(b, g) > 0 for g in ignore):
            false += 1
    return len(hit), false


def eval_locators(with_haar: bool) -> dict[str, Any]:
    from forensic.analysis.faces import detect_faces

    labels = load_labels()
    out: dict[str, Any] = {"photos": len(labels), "faces": 0}
    rows = {"cnn": [0, 0, 0.0], "haar": [0, 0, 0.0]}
    for rel, lab in labels.items():
        rgb = upright_rgb(DATASETS / rel)
        out["faces"] += len(lab["faces"])
        t = time.process_time()
        cnn = [(f.x, f.y, f.w, f.h) for f in detect_faces(rgb)]
        rows["cnn"][2] += time.process_time() - t
        for name, boxes in (("cnn", cnn),) + (
            (("haar", haar_faces(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))),)
            if with_haar
            else ()
        ):
            h, f = score(boxes, lab["faces"], lab["ignore"])
            rows[name][0] += h
            rows[name][1] += f
    for name, (h, f, cpu) in rows.items():
        if name == "haar" and not with_haar:
            continue
        out[name] = {"hits": h, "false_boxes": f, "recall": round(h / max(1, out["faces"]), 3)}
        if name == "cnn":
            out[name]["cpu_s_per_photo"] = round(cpu / len(labels), 3)
    return out


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    def cdf(p: float, upto: int) -> float:
        from math import comb

        return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(upto + 1))

    def solve(f: Any) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) else (lo, mid)
        return round((lo + hi) / 2, 4)

    if n == 0:
        return (0.0, 1.0)
    lower = 0.0 if k == 0 else solve(lambda p: 1 - cdf(p, k - 1) < 0.025)
    upper = 1.0 if k == n else solve(lambda p: cdf(p, k) > 0.025)
    return lower, upper


def video_faces() -> dict[str, list[tuple[float, ...]]]:
    """The largest face of frames one second apart, per shared video (one person each)."""
    import av

    from forensic.media.face_prints import describe_faces

    out: dict[str, list[tuple[float, ...]]] = {}
    for path in sorted((DATASETS / "videos").glob("*.mp4")):
        vectors: list[tuple[float, ...]] = []
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            last = -1.0
            for frame in container.decode(stream):
                t = float(frame.time or 0.0)
                if t - last < 1.0:
                    continue
                last = t
                faces = [
                    f for f in describe_faces(frame.to_ndarray(format="rgb24")) if f.descriptor
                ]
                if faces:
                    big = max(faces, key=lambda f: f.box.w * f.box.h)
                    vectors.append(big.descriptor)  # type: ignore[arg-type]
                if len(vectors) >= FRAMES:
                    break
        if len(vectors) >= 2:
            out[path.name] = vectors
    return out


def described(rgb: Any) -> list[Any]:
    from forensic.media.face_prints import describe_faces

    return [f for f in describe_faces(rgb) if f.descriptor is not None]


def copies(rgb: Any) -> list[Any]:
    """The same photo as a messenger would pass it on: smaller and recompressed, and
    slightly rotated and recompressed (not a second photo of the person: an upper bound on
    how well one person is matched)."""
    import io

    from PIL import Image

    out = []
    im = Image.fromarray(rgb)
    for make in (
        lambda i: i.resize((round(i.width * 0.7), round(i.height * 0.7))),
        lambda i: i.rotate(8, resample=Image.Resampling.BICUBIC, expand=True),
    ):
        buf = io.BytesIO()
        make(im).save(buf, "JPEG", quality=75)
        out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return out


def eval_descriptors() -> dict[str, Any]:
    from forensic.media.face_prints import DEFAULT_THRESHOLD, decode_for_faces, distance

    labels = load_labels()
    people: list[tuple[str, Any]] = []
    sources: list[tuple[str, Any]] = []
    for rel, lab in labels.items():
        if not lab["faces"]:
            continue
        rgb = upright_rgb(DATASETS / rel)
        for f in described(rgb):
            if any(iou((f.box.x, f.box.y, f.box.w, f.box.h), g) >= HIT_IOU for g in lab["faces"]):
                people.append((rel, f))
                sources.append((rel, rgb))
    for path in sorted((DATASETS / "camera-photos").glob("*.jpg")):
        try:
            rgb = decode_for_faces(path)
        except Exception:  # damaged files of that folder are skipped
            continue
        found = described(rgb)
        people += [(f"camera-photos/{path.name}", f) for f in found]
        if found:
            sources.append((f"camera-photos/{path.name}", rgb))
    different = [
        (distance(a[1].descriptor, b[1].descriptor), a[0], b[0])
        for a, b in itertools.combinations(people, 2)
        if a[0] != b[0] and frozenset((a[0], b[0])) not in SAME_PERSON
    ]
    videos = video_faces()
    same = [distance(a, b) for v in videos.values() for a, b in itertools.combinations(v, 2)]
    copied: list[float] = []
    for rel, rgb in sources:
        originals = [f for r, f in people if r == rel]
        for copy in copies(rgb):
            found = described(copy)
            for o in originals:
                best = min((distance(o.descriptor, c.descriptor) for c in found), default=None)
                copied.append(best if best is not None else 9.0)  # 9: not found again
    thr = DEFAULT_THRESHOLD
    k = sum(1 for d, _a, _b in different if d <= thr)
    return {
        "threshold": thr,
        "different_faces": len(people),
        "different_pairs": len(different),
        "false_matches": k,
        "false_match_rate_95": clopper_pearson(k, len(different)),
        "closest_different": sorted(different)[:5],
        "videos_with_faces": {n: len(v) for n, v in videos.items()},
        "same_pairs": len(same),
        "same_matched": sum(1 for d in same if d <= thr),
        "copy_pairs": len(copied),
        "copy_matched": sum(1 for d in copied if d <= thr),
        "copy_distances": sorted(copied),
    }


def bench_12mp() -> dict[str, Any]:
    from PIL import Image

    from forensic.media.face_prints import decode_for_faces, describe_faces

    src = Image.fromarray(upright_rgb(DATASETS / "exif-samples/jpg/exif-org/kodak-dc210.jpg"))
    big = src.resize((4000, 3000), Image.Resampling.BICUBIC)
    import io

    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    times = []
    faces = 0
    for _ in range(3):
        t = time.perf_counter()
        faces = len(describe_faces(decode_for_faces(data)))
        times.append(time.perf_counter() - t)
    return {"megapixels": 12.0, "faces": faces, "wall_s_median": round(sorted(times)[1], 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-haar", action="store_true")
    ap.add_argument("--no-match", action="store_true")
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--no-locators", action="store_true")
    args = ap.parse_args()
    doc: dict[str, Any] = {}
    if not args.no_locators:
        doc["locators"] = eval_locators(not args.no_haar)
    if not args.no_match:
        doc["descriptors"] = eval_descriptors()
    if not args.no_bench:
        doc["speed"] = bench_12mp()
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
