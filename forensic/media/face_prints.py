"""Face descriptors: every face of an image as a 128-number vector (dlib's ResNet), stored as
a derived file ``media/<sha256>/faces.json`` with a redacted crop of each face beside it.

``forensic match --face`` compares the face in the victim's photo with these: the Euclidean
distance between two descriptors is small for two pictures of one person. The model is
dlib's ``dlib_face_recognition_resnet_model_v1`` (public domain, trained by Davis King on
about 3 million faces; 99.38 % on the LFW benchmark by dlib's own measurement), after the
face is aligned with the 5-point landmark model. What the threshold means here was measured
on the shared reference data (:data:`MEASURED`, bench/eval_faces.py, docs/detection.md).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from forensic.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from forensic.analysis.faces import FaceBox
    from forensic.progress import ProgressReporter

RECORD_NAME = "faces.json"
MEDIA_DIR = "media"
#: faces are described on a copy whose longer side is at most this (a 12 MP photo decodes
#: reduced, in bounded memory); the descriptor works on a 150 x 150 aligned chip
DESCRIBE_SIDE = 2048
#: the descriptor's own jitter count (0: one pass, deterministic)
JITTERS = 0
#: faces whose box is smaller than this (pixels of the described copy) give unstable
#: descriptors and are listed without one
MIN_DESCRIBED_FACE = 40
#: distances at or under this are reported as "a face like hers" (dlib's documented
#: operating point; measured here: :data:`MEASURED`)
DEFAULT_THRESHOLD = 0.6
#: more faces than this in a query photo: which one is hers is not guessed
MAX_QUERY_FACES = 1
#: the redacted crop: the face box grown by this fraction on every side, reduced to
#: ``CROP_CELLS`` cells on its long side, blurred, shown at ``CROP_SIDE`` pixels
CROP_GROW = 0.25
CROP_CELLS = 8
CROP_SIDE = 96
#: what ``bench/eval_faces.py`` measured at ``DEFAULT_THRESHOLD`` (copied from its output;
#: docs/detection.md, Faces): pairs of faces of different people, and faces found again in
#: re-encoded copies of their photo (no second photo of one person exists in the data)
MEASURED: MappingProxyType[str, Any] = MappingProxyType(
    {
        "threshold": DEFAULT_THRESHOLD,
        "different_faces": 53,
        "different_pairs": 1327,
        "false_matches": 49,
        "false_match_rate": 0.037,
        "false_match_rate_95": (0.0274, 0.0485),
        "copy_pairs": 110,
        "copy_matched": 99,
        "source": "bench/eval_faces.py on shared/datasets (docs/detection.md, Faces)",
    }
)


class FaceQueryError(UsageError):
    """A query photo or option of ``match --face`` that cannot be used (exit 2, nothing
    searched or logged); messages: the ``[face_match]`` table."""

    def diagnostics(self, lang: str = "en") -> str:
        from forensic.i18n import message

        return message(f"face_match.{self.key}", lang, **self.params)


@dataclass(frozen=True)
class DescribedFace:
    box: FaceBox
    descriptor: tuple[float, ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.as_dict(),
            "descriptor": list(self.descriptor) if self.descriptor is not None else None,
        }


@dataclass(frozen=True)
class FaceQuery:
    name: str
    sha256: str
    face: DescribedFace


def library_versions() -> dict[str, str]:
    from forensic.analysis.face_models import dlib_version, model_digests

    return {"dlib": dlib_version(), **{f"{n} sha256": d for n, d in model_digests().items()}}


def decode_for_faces(source: Path | bytes) -> NDArray[np.uint8]:
    """RGB pixels, EXIF-rotated, decoded no larger than ``DESCRIBE_SIDE`` (bomb policy).
    Raises :class:`forensic.media.safe.ImageRefused`."""
    import numpy as np
    from PIL import Image, ImageOps

    from forensic.media.safe import ImageRefused, open_image

    im, _reduction = open_image(source, fit=(DESCRIBE_SIDE, DESCRIBE_SIDE))
    try:
        with im:
            im.seek(0)
            img = ImageOps.exif_transpose(im) or im
            img = img.convert("RGB")
            img.thumbnail((DESCRIBE_SIDE, DESCRIBE_SIDE), Image.Resampling.BOX)
            rgb = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageRefused("unreadable", reason=f"{type(exc).__name__}: {exc}") from exc
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 1:
        raise ImageRefused("unreadable", reason="no pixels")
    return rgb


def describe_faces(rgb: NDArray[np.uint8]) -> list[DescribedFace]:
    """Every located face with its descriptor (None for a face too small to describe)."""
    import numpy as np

    from forensic.analysis import face_models
    from forensic.analysis.faces import detect_faces

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    out = []
    for box in detect_faces(rgb):
        vector: tuple[float, ...] | None = None
        if min(box.w, box.h) >= MIN_DESCRIBED_FACE:
            rect = face_models.rectangle(box.x, box.y, box.w, box.h)
            shape = face_models.landmarks()(rgb, rect)
            raw = face_models.descriptor().compute_face_descriptor(rgb, shape, JITTERS)
            vector = tuple(round(float(v), 6) for v in raw)
        out.append(DescribedFace(box, vector))
    return out


def distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    import numpy as np

    return round(float(np.linalg.norm(np.asarray(a) - np.asarray(b))), 4)


def redacted_crop(rgb: NDArray[np.uint8], box: FaceBox) -> bytes:
    """A JPEG of the face's surroundings reduced to a few cells and blurred: shows where the
    face is and its tones, never the face."""
    from PIL import Image, ImageFilter

    h, w = rgb.shape[:2]
    gx, gy = round(box.w * CROP_GROW), round(box.h * CROP_GROW)
    x0, y0 = max(0, box.x - gx), max(0, box.y - gy)
    x1, y1 = min(w, box.x + box.w + gx), min(h, box.y + box.h + gy)
    crop = Image.fromarray(rgb[y0:y1, x0:x1])
    s = CROP_CELLS / max(crop.size)
    small = crop.resize(
        (max(1, round(crop.width * s)), max(1, round(crop.height * s))), Image.Resampling.BOX
    )
    t = CROP_SIDE / max(crop.size)
    big = small.resize(
        (max(1, round(crop.width * t)), max(1, round(crop.height * t))), Image.Resampling.NEAREST
    )
    buf = io.BytesIO()
    big.filter(ImageFilter.GaussianBlur(CROP_SIDE / CROP_CELLS / 2)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def read_face_query(path: Path, lang: str = "en") -> FaceQuery:
    """The one face of a query photo (read here, never acquired). Raises
    :class:`FaceQueryError` naming the file for a photo that is missing, not an image, too
    large, or that does not show exactly one describable face."""
    from forensic._internal.paths import display
    from forensic.analysis.face_models import FaceModelsMissing
    from forensic.media.safe import ImageRefused

    name = display(str(path))
    if not path.is_file():
        raise FaceQueryError("query_missing", path=name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceQueryError("query_unreadable", path=name, reason=exc.strerror or exc) from exc
    try:
        rgb = decode_for_faces(data)
    except ImageRefused as exc:
        raise FaceQueryError("query_refused", path=name, reason=exc.reason(lang)) from exc
    try:
        faces = describe_faces(rgb)
    except FaceModelsMissing as exc:
        raise FaceQueryError("models_missing", reason=str(exc)) from exc
    if not faces:
        raise FaceQueryError("no_face", path=name)
    if len(faces) > MAX_QUERY_FACES:
        raise FaceQueryError("many_faces", path=name, count=len(faces))
    if faces[0].descriptor is None:
        side = min(faces[0].box.w, faces[0].box.h)
        raise FaceQueryError("face_small", path=name, side=side, least=MIN_DESCRIBED_FACE)
    return FaceQuery(str(path), hashlib.sha256(data).hexdigest(), faces[0])


def record_path(case_root: Path, item_id: str) -> Path:
    return case_root / MEDIA_DIR / item_id / RECORD_NAME


def compute_faces(path: Path, media_type: str) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """(record, crops {name: JPEG}) for an image item; (None, {}) for anything else."""
    from forensic.analysis import faces as locator
    from forensic.case.case import tool_record
    from forensic.media.safe import ImageRefused

    if not media_type.startswith("image/"):
        return None, {}
    record: dict[str, Any] = {
        "v": 1,
        "format": "forensic-faces",
        "media_type": media_type,
        "tool": {**tool_record(), "libraries": library_versions()},
        "method": {
            "locator": locator.LOCATOR,
            "cnn_side": locator.CNN_SIDE,
            "hog_side": locator.HOG_SIDE,
            "describe_side": DESCRIBE_SIDE,
            "descriptor": "dlib ResNet face descriptor (128 values), 5-point alignment",
            "jitters": JITTERS,
            "min_described_face": MIN_DESCRIBED_FACE,
        },
        "faces": [],
        "warnings": [],
    }
    crops: dict[str, bytes] = {}
    try:
        rgb = decode_for_faces(path)
    except ImageRefused as exc:
        record["warnings"].append(str(exc))
        return record, crops
    record["size"] = [int(rgb.shape[1]), int(rgb.shape[0])]
    for n, face in enumerate(describe_faces(rgb), start=1):
        name = f"face-{n:02d}.jpg"
        crops[name] = redacted_crop(rgb, face.box)
        record["faces"].append({**face.as_dict(), "crop": name})
    return record, crops


@dataclass
class FaceRun:
    stored: list[tuple[str, int]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    not_image: list[str] = field(default_factory=list)


def _recorded(case: Any) -> set[str]:
    return {
        p
        for p in case.recorded_files()
        if p.startswith(MEDIA_DIR + "/") and p.endswith(RECORD_NAME)
    }


def store_faces(case: Any, key: Any, progress: ProgressReporter) -> FaceRun:
    """Compute and store ``media/<sha256>/faces.json`` (and the redacted crops) for every image
    item that has none: computed before the case lock, written in one step, one ``faces``
    entry per item."""
    from forensic.custody.log import PendingEntry

    items = case.items()
    recorded = _recorded(case)
    run = FaceRun()
    computed: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
    progress.start("faces", len(items))
    for item_id, item in items.items():
        rel = record_path(case.root, item_id).relative_to(case.root).as_posix()
        if rel in recorded:
            run.already.append(item_id)
        elif not item.media_type.startswith("image/"):
            run.not_image.append(item_id)
        else:
            with case.store.plaintext_path(item_id) as path:
                record, crops = compute_faces(path, item.media_type)
            if record is not None:
                record["item"] = item_id
                computed.append((item_id, record, crops))
        progress.advance(1)
    progress.finish()
    if not computed:
        return run
    with case.step(key, "faces") as step:
        pending = []
        for item_id, record, crops in computed:
            target = record_path(case.root, item_id)
            body = json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True)
            written = [step.stage_file(target, body.encode("utf-8") + b"\n")]
            written += [step.stage_file(target.parent / n, d) for n, d in sorted(crops.items())]
            details = {
                "item": item_id,
                "faces": len(record["faces"]),
                "warnings": record["warnings"],
                "tool": record["tool"],
                "method": record["method"],
                "files": written,
                "run": step.run,
            }
            pending.append(PendingEntry("faces", f"sha256:{item_id}", details))
        entries = step.record(pending)
        run.stored = [(c[0], e.seq) for c, e in zip(computed, entries, strict=True)]
    return run


@dataclass(frozen=True)
class FaceMatch:
    query: str
    item_id: str
    face: int
    distance: float
    box: dict[str, Any]
    crop: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "item_id": self.item_id,
            "face": self.face,
            "distance": self.distance,
            "box": self.box,
            "crop": self.crop,
        }


@dataclass(frozen=True)
class FaceComparison:
    matches: tuple[FaceMatch, ...]
    compared: int
    faces_in_case: int
    undescribed: int
    problems: tuple[str, ...]


def load_face_records(case: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every stored faces record, checked against the SHA-256 its entry recorded."""
    from forensic.case.derived import decrypt_case_bytes

    recorded = case.recorded_files()
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for item_id in case.items():
        path = record_path(case.root, item_id)
        rel = path.relative_to(case.root).as_posix()
        if rel not in recorded:
            continue
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != recorded[rel]["sha256"]:
                problems.append(f"{rel}: altered since it was recorded")
                continue
            out[item_id] = json.loads(decrypt_case_bytes(case, data, rel))
        except (OSError, ValueError) as exc:
            problems.append(f"{rel}: {exc}")
    return out, problems


def compare_faces(
    queries: list[FaceQuery], records: dict[str, dict[str, Any]], threshold: float
) -> FaceComparison:
    """Every query face against every described face in the case; matches sorted by distance."""
    matches: list[FaceMatch] = []
    compared = faces = undescribed = 0
    for item_id, record in sorted(records.items()):
        for n, face in enumerate(record.get("faces") or [], start=1):
            faces += 1
            vector = face.get("descriptor")
            if not isinstance(vector, list) or len(vector) != 128:
                undescribed += 1
                continue
            for q in queries:
                assert q.face.descriptor is not None
                compared += 1
                d = distance(q.face.descriptor, tuple(float(v) for v in vector))
                if d <= threshold:
                    crop = f"{MEDIA_DIR}/{item_id}/{face.get('crop', '')}"
                    matches.append(FaceMatch(q.sha256, item_id, n, d, face.get("box", {}), crop))
    matches.sort(key=lambda m: (m.distance, m.item_id, m.face))
    return FaceComparison(tuple(matches), compared, faces, undescribed, ())
