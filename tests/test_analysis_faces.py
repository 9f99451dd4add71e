"""Faces: the face locator on real reference photos, the per-face statistics on self-blended
regions (Shiohara & Yamasaki 2022), and the detector's findings, figure and heatmaps."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis import face_models, faces
from forensic.analysis.faces import FaceBox, FaceDetector, block_maps, detect_faces, measure_face
from forensic.analysis.interface import AnalysisInput


def luma_of(path: Path) -> NDArray[np.uint8]:
    return np.asarray(Image.open(path).convert("L"), dtype=np.uint8)


def jpeg_rgb(rgb: NDArray[np.uint8], quality: int = 90) -> NDArray[np.uint8]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.uint8)


def self_blend(rgb: NDArray[np.uint8], box: FaceBox, kind: str) -> NDArray[np.uint8]:
    """Blend a transformed copy of the picture back into an ellipse in ``box`` (SBI)."""
    src = rgb.astype(np.float32)
    if kind == "blur_colour":
        src = cv2.GaussianBlur(src, (0, 0), 1.5)
        src = np.clip(src * np.array([1.1, 1.0, 0.92], dtype=np.float32) + 6, 0, 255)
    elif kind == "recompressed":  # the region from a coarser JPEG on a grid shifted by (4, 4)
        shifted = np.roll(rgb, (4, 4), axis=(0, 1))
        src = np.roll(jpeg_rgb(shifted, 30), (-4, -4), axis=(0, 1)).astype(np.float32)
    mask = np.zeros(rgb.shape[:2], dtype=np.float32)
    centre = (box.x + box.w // 2, box.y + box.h // 2)
    cv2.ellipse(mask, centre, (box.w * 9 // 20, box.h // 2), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), box.w * 0.04)[..., None]
    return np.asarray(np.clip(src * mask + rgb * (1 - mask), 0, 255).round(), dtype=np.uint8)


def test_boxes_map_back_to_a_large_picture_and_nothing_is_never_an_error(
    shared_datasets: Path,
) -> None:
    """(Recall and false boxes on the labelled photos: tests/test_analysis_face_boxes.py.)"""
    small = luma_of(shared_datasets / "exif-samples/tiff/DudleyLeavittUtah.tiff")
    big = cv2.resize(small, None, fx=4, fy=4)
    once, again = detect_faces(big), detect_faces(big)
    assert once == again and len(once) == 1  # deterministic
    assert once[0].x <= 100 * 4 <= once[0].x + once[0].w
    assert once[0].y <= 88 * 4 <= once[0].y + once[0].h
    assert detect_faces(np.zeros((10, 10), np.uint8)) == ()
    assert detect_faces(np.zeros((64, 64, 3), np.uint8)) == ()
    assert detect_faces(np.zeros((64, 64, 4), np.uint8)) == ()
    assert detect_faces(np.full((400, 300), 128, np.uint8)) == ()


@pytest.mark.parametrize("kind", ["blur_colour", "recompressed"])
def test_self_blended_region_mismatches_more_than_untouched(
    shared_datasets: Path, kind: str
) -> None:
    rgb = np.asarray(Image.open(shared_datasets / "pdq/bridge-mods/aaa-orig.jpg").convert("RGB"))
    box = FaceBox(600, 250, 280, 320, 0)
    untouched = measure_face(block_maps(jpeg_rgb(rgb)), box)
    blended = measure_face(block_maps(jpeg_rgb(self_blend(rgb, box, kind))), box)
    assert untouched is not None and blended is not None
    if kind == "blur_colour":
        for stat in ("noise", "sharpness", "colour"):
            assert blended.values[stat] > untouched.values[stat] + 0.3, stat
        for stat in ("noise", "sharpness"):
            assert untouched.values[stat] < faces.DEFAULT_THRESHOLDS[stat] < blended.values[stat]
    else:  # a coarser JPEG on a shifted grid: the blockiness peaks at another position
        assert blended.values["grid"] > untouched.values["grid"] + 0.3
        assert untouched.values["grid"] < faces.DEFAULT_THRESHOLDS["grid"]
    # too small to measure
    assert measure_face(block_maps(rgb), FaceBox(10, 10, 30, 30, 0)) is None


def test_detector_on_a_self_blended_real_face(tmp_path: Path, shared_datasets: Path) -> None:
    rgb = np.asarray(
        Image.open(shared_datasets / "exif-samples/jpg/exif-org/kodak-dc210.jpg").convert("RGB")
    )
    face = max(detect_faces(rgb), key=lambda f: f.w * f.h)
    paths = {}
    for name, img in (("plain", rgb), ("blended", self_blend(rgb, face, "blur_colour"))):
        paths[name] = tmp_path / f"{name}.jpg"
        Image.fromarray(img).save(paths[name], "JPEG", quality=92)
    det = FaceDetector()
    results = {n: det.analyze(AnalysisInput(p, "image/jpeg", None)) for n, p in paths.items()}
    by = {n: {f.signal: f for f in r.findings} for n, r in results.items()}
    # (the noise mismatch need not grow: this face is noisier than its dark surroundings, and
    # blurring it brings it closer; |log2| has no direction)
    for stat in ("sharpness", "colour"):
        signal = f"faces.{stat}_mismatch"
        assert by["blended"][signal].value > by["plain"][signal].value + 0.3
        assert by["blended"][signal].threshold == faces.threshold(stat)[0]
        heat = results["blended"].heatmaps[signal]
        hy, hx = heat.shape
        inside = heat[
            (face.y + face.h // 2) * hy // (rgb.shape[0] // 8 * 8) - 1,
            (face.x + face.w // 2) * hx // (rgb.shape[1] // 8 * 8) - 1,
        ]
        assert inside > 0 and heat.max() <= 1.0 and heat[0, 0] == 0.0
    f = by["blended"]["faces.sharpness_mismatch"]
    assert f.figures == ["faces-boxes.png"] and f.limitations and f.reference
    located = [b for b in f.extra["faces_located"] if abs(b["x"] - face.x) <= 8]
    assert len(located) == 1 and abs(located[0]["w"] - face.w) <= 8  # re-located in the blend
    assert "fake" not in f.text_en.lower() and "authentic" not in f.text_en.lower()
    with Image.open(io.BytesIO(results["blended"].figures["faces-boxes.png"])) as im:
        assert im.format == "PNG" and max(im.size) <= faces.FIGURE_SIDE + 60
    libs = det.libraries()
    assert libs["opencv"].startswith("4.")
    assert len(libs[f"model {face_models.DETECTOR_FILE} sha256"]) == 64
    assert "shape_predictor_68_face_landmarks.dat" not in str(libs)  # never loaded
    assert det.parameters()["locator"]["hog_side"] == faces.HOG_SIDE
