"""The face locator against faces labelled by hand in the reference photos
(tests/assets/face-boxes.json; tests/assets/make_face_boxes.py says how they were labelled).

Every labelled face is searched; the face-free photos are the ones where the Haar cascades
it replaced or a loose HOG threshold put boxes (bark, a pumpkin). The whole set of 115 photos, and
the Haar locator on it, are measured by bench/eval_faces.py (docs/detection.md, Faces)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from forensic.analysis.faces import _iou, detect_faces

LABELS = Path(__file__).parent / "assets" / "face-boxes.json"
HIT_IOU = 0.3
#: measured on these photos (and on all 115: the same hits, no false box)
HITS, FACES = 12, 16
TEXTURES = (
    "pdq/bridge-mods/aaa-orig.jpg",
    "exif-samples/jpg/exif-org/sony-powershota5.jpg",
)


def test_recall_and_false_boxes_on_the_labelled_faces(shared_datasets: Path) -> None:
    photos = json.loads(LABELS.read_text())["photos"]
    chosen = [r for r, lab in photos.items() if lab["faces"]] + list(TEXTURES)
    hits = faces = false = 0
    for rel in chosen:
        lab = photos[rel]
        data = (shared_datasets / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == lab["sha256"], f"{rel} changed: relabel"
        with Image.open(shared_datasets / rel) as im:
            rgb = np.asarray((ImageOps.exif_transpose(im) or im).convert("RGB"), np.uint8)
        boxes = [(f.x, f.y, f.w, f.h) for f in detect_faces(rgb)]
        labelled = [tuple(b) for b in lab["faces"]]
        found = {i for b in boxes for i, f in enumerate(labelled) if _iou(b, f) >= HIT_IOU}
        hits += len(found)
        faces += len(labelled)
        false += sum(
            1
            for b in boxes
            if not any(_iou(b, f) >= HIT_IOU for f in labelled)
            and not any(_iou(b, tuple(g)) > 0 for g in lab["ignore"])
        )
    assert faces == FACES
    assert hits >= HITS, f"{hits} of {faces} labelled faces found"
    assert false == 0, f"{false} false boxes"
