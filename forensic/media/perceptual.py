"""Perceptual hashes: PDQ for images, vPDQ (PDQ of video frames) for video.

PDQ is Meta's 256-bit perceptual hash (``pdqhash``, the reference C++ code). vPDQ is PDQ of
decoded video frames: the ``vpdq`` package builds only against system FFmpeg development
libraries, so frames are decoded with PyAV (FFmpeg inside the wheel) and hashed with the same
PDQ code. On the reference videos this gives the same per-frame hashes as vpdq 0.2.5
(see docs/media-av.md). Nothing leaves the machine: pixels are read from local files only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


#: Frames with a PDQ quality below this are nearly flat (black, one colour): their hash is
#: noise, and vPDQ matching ignores them (Meta's vPDQ default).
MIN_QUALITY = 50

#: Names of the eight dihedral transforms, in ``pdqhash.compute_dihedral`` order.
DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_diagonal",
    "flip_antidiagonal",
)


class MediaReadError(Exception):
    """Pixels could not be read (the message names the cause; callers turn it into a warning)."""


@dataclass(frozen=True)
class Pdq:
    hex: str
    quality: int

    def as_dict(self) -> dict[str, Any]:
        return {"hex": self.hex, "quality": self.quality}


def library_versions() -> dict[str, str]:
    import importlib.metadata

    out = {}
    for dist in ("pdqhash", "av", "numpy", "Pillow"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "?"
    return out


def bits_to_hex(bits: np.ndarray[Any, Any]) -> str:
    import numpy as np

    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def pdq_of_rgb(rgb: np.ndarray[Any, Any]) -> Pdq:
    import numpy as np
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return Pdq(bits_to_hex(bits), int(quality))


def load_rgb(path: Path | BinaryIO, *, exif_transpose: bool = False) -> np.ndarray[Any, Any]:
    """The image's pixels as RGB (first frame). Raises :class:`MediaReadError`."""
    import numpy as np
    from PIL import ImageOps

    from forensic.media.safe import ImageRefused, open_image

    try:
        # every pixel, as the reference hasher reads them: never a reduced decode
        im, _reduction = open_image(path, full_size=True)
        with im:
            im.seek(0)
            img: Image.Image = ImageOps.exif_transpose(im) if exif_transpose else im
            # Transparent pixels are read as stored, as Meta's reference hasher reads them.
            rgb = np.asarray(img.convert("RGB"))
    except ImageRefused as exc:
        raise MediaReadError(str(exc)) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise MediaReadError(f"not a readable image: {exc}") from exc
    if rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise MediaReadError("image has no pixels")
    return rgb


def pdq_image(path: Path | BinaryIO) -> Pdq:
    """PDQ of an image file's stored pixels (as Meta's reference hasher reads them)."""
    return pdq_of_rgb(load_rgb(path))


@dataclass(frozen=True)
class VpdqFrame:
    frame: int
    quality: int
    hex: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "quality": self.quality,
            "hex": self.hex,
            "seconds": round(self.seconds, 3),
        }


def vpdq_video(path: Path, *, seconds_per_hash: float = 1.0) -> tuple[list[VpdqFrame], list[str]]:
    """vPDQ: PDQ of one decoded frame every ``seconds_per_hash`` (0: every frame).

    Frames are hashed as they are decoded and dropped: memory stays bounded for 4K and
    hour-long files. Returns (frames, warnings); raises :class:`MediaReadError` when no
    frame can be read at all.
    """
    import av

    frames: list[VpdqFrame] = []
    notes: list[str] = []
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaReadError(f"not a readable video container: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaReadError("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        every = max(1, round(fps * seconds_per_hash)) if seconds_per_hash > 0 and fps else 1
        index = 0
        try:
            for frame in container.decode(stream):
                if index % every == 0:
                    pdq = pdq_of_rgb(frame.to_ndarray(format="rgb24"))
                    seconds = float(frame.time) if frame.time is not None else index / (fps or 1)
                    frames.append(VpdqFrame(index, pdq.quality, pdq.hex, seconds))
                index += 1
        except (av.FFmpegError, ValueError) as exc:
            if not frames:
                raise MediaReadError(f"no frame could be decoded: {exc}") from exc
            notes.append(f"decoding stopped after frame {index}: {exc}")
    if not frames:
        raise MediaReadError("the video stream has no decodable frame")
    return frames, notes


# -- records in the case --------------------------------------------------------------------
#: Folder of the case holding derived media data, one sub-folder per item (its SHA-256).
MEDIA_DIR = "media"
RECORD_NAME = "perceptual.json"
#: Seconds between hashed frames of a video (vPDQ's default); thumbnails per video.
SECONDS_PER_HASH = 1.0
THUMBNAILS = 6


def record_path(case_root: Path, item_id: str) -> Path:
    return case_root / MEDIA_DIR / item_id / RECORD_NAME


def media_kind(media_type: str, head: bytes) -> str | None:
    from forensic.media.video import looks_like_video

    if media_type.startswith("image/"):
        return "image"
    if looks_like_video(media_type, head):
        return "video"
    return None


def compute_perceptual(
    path: Path, media_type: str
) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """(record, extra files {name: bytes}) for an image or a video; (None, {}) otherwise."""
    from forensic.case.case import tool_record
    from forensic.media.video import av_versions, probe_video

    with path.open("rb") as fh:
        head = fh.read(64)
    kind = media_kind(media_type, head)
    if kind is None:
        return None, {}
    record: dict[str, Any] = {
        "v": 1,
        "format": "forensic-perceptual",
        "media_type": media_type,
        "kind": kind,
        "tool": {**tool_record(), "libraries": {**library_versions(), **av_versions()}},
        "warnings": [],
    }
    extra: dict[str, bytes] = {}
    if kind == "image":
        try:
            record["pdq"] = pdq_image(path).as_dict()
        except MediaReadError as exc:
            record["pdq"] = None
            record["warnings"].append(str(exc))
        return record, extra
    record["method"] = (
        "vPDQ: PDQ (pdqhash) of frames decoded with PyAV, one frame every "
        f"{SECONDS_PER_HASH:g} s (frame number divisible by round(fps x {SECONDS_PER_HASH:g}))"
    )
    try:
        frames, notes = vpdq_video(path, seconds_per_hash=SECONDS_PER_HASH)
        record["vpdq"] = {
            "seconds_per_hash": SECONDS_PER_HASH,
            "frames": [f.as_dict() for f in frames],
        }
        record["warnings"].extend(notes)
    except MediaReadError as exc:
        record["vpdq"] = None
        record["warnings"].append(str(exc))
    probe = probe_video(path, thumbnails=THUMBNAILS)
    thumbs = []
    for n, thumb in enumerate(probe.get("thumbnails", [])):
        name = f"thumb-{n:02d}.jpg"
        extra[name] = thumb["jpeg"]
        thumbs.append({"file": name, "seconds": thumb["seconds"]})
    record["thumbnails"] = thumbs
    for warning in probe["warnings"]:
        if warning not in record["warnings"]:
            record["warnings"].append(warning)
    return record, extra


@dataclass
class StoredPerceptual:
    item_id: str
    record: dict[str, Any]
    seq: int


@dataclass
class PerceptualRun:
    stored: list[StoredPerceptual]
    already: list[str]
    not_media: list[str]


def _recorded(case: Any) -> set[str]:
    return {
        path
        for path in case.recorded_files()
        if path.startswith(MEDIA_DIR + "/") and path.endswith("/" + RECORD_NAME)
    }


def store_perceptual(
    case: Any, key: Any, item_ids: Iterable[str], progress: Any = None
) -> PerceptualRun:
    """Compute and store ``media/<sha256>/perceptual.json`` for each image or video item.

    One ``perceptual`` custody-log entry per item vouches for the files it wrote. Items that
    already have a recorded record are left alone; items that are neither image nor video are
    skipped. Hashing happens before the case lock is taken; writing and logging under it.
    """
    from forensic.custody.log import PendingEntry
    from forensic.progress import SILENT

    progress = progress or SILENT
    items = case.items()
    recorded = _recorded(case)
    wanted = [i for i in dict.fromkeys(item_ids) if i in items]
    run = PerceptualRun([], [], [])
    computed: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
    progress.start("perceptual hashes", len(wanted))
    for item_id in wanted:
        item = items[item_id]
        rel = record_path(case.root, item_id).relative_to(case.root).as_posix()
        if rel in recorded:
            run.already.append(item_id)
        else:
            with case.store.plaintext_path(item_id) as path:
                record, extra = compute_perceptual(path, item.media_type)
            if record is None:
                run.not_media.append(item_id)
            else:
                record["item"] = item_id
                computed.append((item_id, record, extra))
        progress.advance(1)
    progress.finish()
    if not computed:
        return run
    with case.step(key, "perceptual") as step:
        recorded = _recorded(case)
        pending = []
        kept = []
        for item_id, record, extra in computed:
            target = record_path(case.root, item_id)
            if target.relative_to(case.root).as_posix() in recorded:
                run.already.append(item_id)
                continue
            written = []
            for name, data in sorted(extra.items()):
                written.append(step.stage_file(target.parent / name, data))
            body = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True)
            written.insert(0, step.stage_file(target, body.encode("utf-8") + b"\n"))
            summary: dict[str, Any] = {"kind": record["kind"]}
            if record["kind"] == "image":
                summary["pdq"] = record["pdq"]
            else:
                frames = (record.get("vpdq") or {}).get("frames") or []
                summary["vpdq_frames"] = len(frames)
            details = {
                "item": item_id,
                **summary,
                "warnings": record["warnings"],
                "tool": record["tool"],
                "files": written,
                "run": step.run,
            }
            pending.append(PendingEntry("perceptual", f"sha256:{item_id}", details))
            kept.append((item_id, record))
        entries = step.record(pending)
        for (item_id, record), entry in zip(kept, entries, strict=True):
            run.stored.append(StoredPerceptual(item_id, record, entry.seq))
    return run


class PerceptualRecordError(Exception):
    """A stored record is missing, altered or unreadable."""


def load_record(case: Any, item_id: str, recorded: dict[str, Any]) -> dict[str, Any]:
    """A stored record, checked against the SHA-256 its log entry recorded."""
    import hashlib

    path = record_path(case.root, item_id)
    rel = path.relative_to(case.root).as_posix()
    if rel not in recorded:
        raise PerceptualRecordError(f"{rel}: no log entry records it")
    from forensic.case.derived import decrypt_case_bytes

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PerceptualRecordError(f"{rel}: {exc.strerror or exc}") from exc
    if hashlib.sha256(data).hexdigest() != recorded[rel]["sha256"]:
        raise PerceptualRecordError(f"{rel}: altered since it was recorded")
    data = decrypt_case_bytes(case, data, rel)
    try:
        record: dict[str, Any] = json.loads(data)
    except ValueError as exc:
        raise PerceptualRecordError(f"{rel}: not JSON: {exc}") from exc
    return record


# -- takedown hash list -----------------------------------------------------------------------
HASH_LIST_FORMATS = ("csv", "json")
CSV_COLUMNS = (
    "sha256",
    "md5",
    "size",
    "media_type",
    "kind",
    "pdq_hex",
    "pdq_quality",
    "vpdq_frames",
    "vpdq",
)

#: What each service takes, as far as its public material says (docs/media-av.md has more).
SERVICES = MappingProxyType(
    {
        "stopncii": (
            "StopNCII.org (adults): hashes are made on the victim's own device by StopNCII's tool, "
            "PDQ for images and MD5 for videos; it takes no hash list from third parties. Use "
            "pdq_hex (images) and md5 (videos) here to check which items such a case covers."
        ),
        "take_it_down": (
            "NCMEC Take It Down (images made before age 18): hashes are made on the device by "
            "Take It Down's own tool; the algorithm is not published in the material we checked. "
            "NCMEC's long-standing hash sharing uses MD5; this list carries MD5 and PDQ."
        ),
        "dsc_korea": (
            "디지털성범죄피해자지원센터 (Korea Digital Sex Crime Victim Support Center, "
            "d4u.stop.or.kr): takes a victim's request for deletion support with the material or "
            "its addresses; no hash-list import format is published. Give this list as the "
            "inventory of the evidence (SHA-256 and MD5 identify each file exactly)."
        ),
    }
)


def _md5_of(path: Path) -> str:
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_list_rows(case: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per item: cryptographic and perceptual hashes; plus unusable-record problems."""
    recorded = case.recorded_files()
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for item_id, item in case.items().items():
        md5 = item.hashes.get("md5")
        if not md5:
            with case.store.plaintext_path(item_id) as path:
                md5 = _md5_of(path)
        row: dict[str, Any] = {
            "sha256": item_id,
            "md5": md5,
            "size": item.size,
            "media_type": item.media_type,
            "kind": None,
            "pdq": None,
            "vpdq": None,
        }
        if record_path(case.root, item_id).relative_to(case.root).as_posix() in recorded:
            try:
                record = load_record(case, item_id, recorded)
            except PerceptualRecordError as exc:
                problems.append(str(exc))
            else:
                row["kind"] = record.get("kind")
                row["pdq"] = record.get("pdq")
                if record.get("vpdq"):
                    row["vpdq"] = record["vpdq"]
        rows.append(row)
    return rows, problems


def write_hash_list(case: Any, out_path: Path, fmt: str) -> dict[str, Any]:
    """Write the takedown hash list (``csv`` or ``json``) atomically; returns what was written.

    Hash values only: no pixels, no thumbnails and no file names (names can identify a
    victim). The caller logs the export.
    """
    import csv
    import hashlib
    import io

    from forensic._internal.clock import utc_timestamp
    from forensic._internal.fsio import atomic_write
    from forensic.case.case import tool_record

    if fmt not in HASH_LIST_FORMATS:
        raise ValueError(f"unknown hash-list format {fmt!r}")
    rows, problems = hash_list_rows(case)
    if fmt == "json":
        doc = {
            "format": "forensic-hash-list",
            "v": 1,
            "case_id": case.info.case_id,
            "generated": utc_timestamp(),
            "tool": {**tool_record(), "libraries": library_versions()},
            "hashes": {
                "sha256": "SHA-256 of the file's bytes",
                "md5": "MD5 of the file's bytes (StopNCII videos, NCMEC hash sharing)",
                "pdq": "PDQ (Meta), 256 bits as 64 hex digits, with quality 0-100",
                "vpdq": "PDQ of one video frame per second: frame, seconds, quality, hex",
            },
            "services": dict(SERVICES),
            "items": rows,
        }
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            pdq = row["pdq"] or {}
            frames = (row["vpdq"] or {}).get("frames") or []
            writer.writerow(
                [
                    row["sha256"],
                    row["md5"],
                    row["size"],
                    row["media_type"],
                    row["kind"] or "",
                    pdq.get("hex", ""),
                    pdq.get("quality", ""),
                    len(frames) if row["vpdq"] else "",
                    ";".join(f"{f['seconds']}:{f['quality']}:{f['hex']}" for f in frames),
                ]
            )
        data = buf.getvalue().encode("utf-8")
    atomic_write(out_path, data, mode=0o644)
    return {
        "path": str(out_path.resolve()),
        "format": fmt,
        "items": len(rows),
        "with_pdq": sum(1 for r in rows if r["pdq"]),
        "with_vpdq": sum(1 for r in rows if r["vpdq"]),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "problems": problems,
    }
