"""The face models: dlib's CNN face detector, its 5-point landmark model and its ResNet face
descriptor, loaded from the files the ``face-recognition-models`` package ships.

The files are found by the package's location on disk, without importing it (its
``__init__`` needs ``pkg_resources``). All three are Davis King's models, released into the
public domain (the package's ``LICENSE`` is CC0 1.0; dlib-models' README: "anyone can do
whatever they want with these model files as I've released them into the public domain").
The package also ships ``shape_predictor_68_face_landmarks.dat``, whose training data (iBUG
300-W) forbids commercial use: it is never loaded here. dlib itself (the ``dlib-bin`` wheel)
is under the Boost Software License. docs/decisions/0030-face-dlib-cnn.md has the choice.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

MODELS_PACKAGE = "face_recognition_models"
DETECTOR_FILE = "mmod_human_face_detector.dat"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
MODEL_FILES = (DETECTOR_FILE, LANDMARKS_FILE, DESCRIPTOR_FILE)


class FaceModelsMissing(RuntimeError):
    """dlib or the model package is not installed (the face signals are then not applicable)."""


def models_dir() -> Path:
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelsMissing(f"the {MODELS_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_path(name: str) -> Path:
    path = models_dir() / name
    if not path.is_file():
        raise FaceModelsMissing(f"{path.name} is missing from the {MODELS_PACKAGE} package")
    return path


def _dlib() -> Any:
    try:
        import dlib  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as exc:
        raise FaceModelsMissing("dlib is not installed") from exc
    return dlib


@cache
def model_digests() -> dict[str, str]:
    """SHA-256 of every model file used (recorded with each result)."""
    out: dict[str, str] = {}
    for name in MODEL_FILES:
        try:
            out[name] = hashlib.sha256(model_path(name).read_bytes()).hexdigest()
        except (OSError, FaceModelsMissing):
            out[name] = "missing"
    return out


def dlib_version() -> str:
    try:
        return str(_dlib().__version__)
    except FaceModelsMissing:
        return "missing"


@cache
def cnn_detector() -> Any:
    return _dlib().cnn_face_detection_model_v1(str(model_path(DETECTOR_FILE)))


@cache
def hog_detector() -> Any:
    """dlib's HOG + linear SVM frontal face detector (built into dlib, no model file)."""
    return _dlib().get_frontal_face_detector()


@cache
def landmarks() -> Any:
    return _dlib().shape_predictor(str(model_path(LANDMARKS_FILE)))


@cache
def descriptor() -> Any:
    return _dlib().face_recognition_model_v1(str(model_path(DESCRIPTOR_FILE)))


def rectangle(x: int, y: int, w: int, h: int) -> Any:
    return _dlib().rectangle(x, y, x + w, y + h)
