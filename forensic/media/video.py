"""Video metadata with PyAV (FFmpeg inside the wheel), cross-checked with ``ffprobe`` if present.

What is read: the container (format, duration, bit rate, creation_time, encoder, brand,
location tags), every stream (codec, profile, resolution, frame rate, frame count, duration,
pixel format, handler, language, creation_time), the display rotation (from the first decoded
frame's display matrix), the keyframe times (packets only, nothing decoded) and a few sampled
thumbnails. Memory stays bounded: packets and frames are looked at one at a time and dropped.

Where ``ffprobe`` is on PATH, its ``-show_format -show_streams`` JSON (through ffmpeg-python)
is stored as an independent second reading and every disagreement is listed. Bad input
(no video stream, an unknown codec, a file whose name lies about its type, a file that is
not media at all) gives warnings, never an exception.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import math
import shutil
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

from forensic.media.interface import MediaDescriber

#: Keyframe times kept per video (an hour-long file with 2 s GOPs has 1800).
MAX_KEYFRAMES = 10_000
#: Longest side of a sampled thumbnail, in pixels.
THUMB_SIDE = 320

_LOCATION_TAGS = ("location", "com.apple.quicktime.location.ISO6709", "location-eng")


#: Image "pipe" demuxers list no extensions of their own.
_PIPE_EXTENSIONS = MappingProxyType(
    {
        "jpeg_pipe": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
        "png_pipe": frozenset({"png"}),
        "webp_pipe": frozenset({"webp"}),
        "gif": frozenset({"gif"}),
        "bmp_pipe": frozenset({"bmp"}),
        "tiff_pipe": frozenset({"tif", "tiff"}),
    }
)

#: Magic bytes of the containers this describer accepts when the media type is unknown.
_VIDEO_MAGIC = (
    (4, b"ftyp"),  # ISO BMFF: mp4, mov, 3gp
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
    (0, b"\x30\x26\xb2\x75"),  # ASF / WMV
)


def av_versions() -> dict[str, str]:
    import av

    out = {"av": av.__version__}
    try:
        out["ffmpeg"] = ".".join(str(x) for x in av.library_versions.get("libavformat", ()))
        out["ffmpeg"] = "libavformat " + out["ffmpeg"]
    except AttributeError:
        pass
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        out["ffmpeg-python"] = importlib.metadata.version("ffmpeg-python")
    return out


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) else None


def _rate(value: Fraction | None) -> float | None:
    if value is None or value == 0:
        return None
    return round(float(value), 4)


def _location(tags: dict[str, str]) -> str | None:
    for name in _LOCATION_TAGS:
        if tags.get(name):
            return tags[name]
    return None


def looks_like_video(media_type: str, head: bytes) -> bool:
    if media_type.startswith("video/"):
        return True
    return any(head[off : off + len(magic)] == magic for off, magic in _VIDEO_MAGIC)


def probe_video(path: Path, *, thumbnails: int = 0) -> dict[str, Any]:
    """Metadata of a video file; ``warnings`` lists every problem. Never raises on bad media.

    With ``thumbnails > 0`` the result carries ``thumbnails``: [{"seconds", "jpeg": bytes}]
    (bytes, so callers store them as files; they are not JSON).
    """
    import av

    result: dict[str, Any] = {"reader": av_versions(), "warnings": []}
    warnings: list[str] = result["warnings"]
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        warnings.append(f"not a readable media container: {exc}")
        _cross_check(path, result)
        return result
    with container:
        fmt = container.format
        tags = {str(k): str(v) for k, v in container.metadata.items()}
        result["container"] = {
            "format": fmt.name,
            "format_long": fmt.long_name,
            "duration_s": round(container.duration / 1_000_000, 3) if container.duration else None,
            "bit_rate": container.bit_rate or None,
            "size": path.stat().st_size,
            "creation_time": tags.get("creation_time"),
            "encoder": tags.get("encoder"),
            "location": _location(tags),
            "tags": tags,
        }
        suffix = path.suffix.lower().lstrip(".")
        known = frozenset(fmt.extensions or ()) or _PIPE_EXTENSIONS.get(fmt.name, frozenset())
        if suffix and known and suffix not in known:
            warnings.append(
                f"the file name ends in .{suffix} but the content is {fmt.name} "
                f"({', '.join(sorted(known))})"
            )
        streams = []
        for stream in container.streams:
            ctx: Any = stream.codec_context
            st_tags = {str(k): str(v) for k, v in stream.metadata.items()}
            entry: dict[str, Any] = {
                "index": stream.index,
                "type": stream.type,
                "codec": ctx.name if ctx is not None else None,
                "codec_long": ctx.codec.long_name if ctx is not None else None,
                "profile": getattr(stream, "profile", None),
                "bit_rate": (ctx.bit_rate if ctx is not None else None) or None,
                "duration_s": round(float(stream.duration * stream.time_base), 3)
                if stream.duration and stream.time_base
                else None,
                "frames": stream.frames or None,
                "handler": st_tags.get("handler_name"),
                "language": st_tags.get("language"),
                "creation_time": st_tags.get("creation_time"),
                "encoder": st_tags.get("encoder"),
                "tags": st_tags,
            }
            if stream.type == "video":
                entry.update(
                    width=ctx.width if ctx is not None else None,
                    height=ctx.height if ctx is not None else None,
                    pix_fmt=ctx.pix_fmt if ctx is not None else None,
                    fps=_rate(stream.average_rate or stream.guessed_rate),
                    rotation=None,
                )
            elif stream.type == "audio" and ctx is not None:
                entry.update(sample_rate=ctx.sample_rate, channels=ctx.channels)
            streams.append(entry)
        result["streams"] = streams
        videos = [s for s in container.streams.video]
        if not videos:
            warnings.append("the file has no video stream")
            _cross_check(path, result)
            return result
        stream = videos[0]
        entry = streams[[s["index"] for s in streams].index(stream.index)]
        if stream.codec_context is None or entry["codec"] in (None, "none"):
            warnings.append(f"video stream {stream.index}: unknown codec, nothing decoded")
            _cross_check(path, result)
            return result
        result["keyframes"] = _keyframes(container, stream, warnings)
    # thumbnails and rotation need decoding: a fresh container, one frame at a time
    _decode_samples(path, result, thumbnails)
    _cross_check(path, result)
    return result


def _keyframes(container: Any, stream: Any, warnings: list[str]) -> dict[str, Any]:
    import av

    times: list[float] = []
    count = 0
    packets = 0
    tb = stream.time_base
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            if packet.is_keyframe:
                count += 1
                if len(times) < MAX_KEYFRAMES and packet.pts is not None and tb:
                    times.append(round(float(packet.pts * tb), 3))
    except (av.FFmpegError, ValueError) as exc:
        warnings.append(f"reading packets stopped after {packets}: {exc}")
    out: dict[str, Any] = {"count": count, "packets": packets, "seconds": times}
    if count > len(times):
        out["truncated"] = True
    return out


def _decode_samples(path: Path, result: dict[str, Any], thumbnails: int) -> None:
    import av

    warnings: list[str] = result["warnings"]
    duration = result.get("container", {}).get("duration_s") or 0.0
    targets = (
        [duration * (i + 0.5) / thumbnails for i in range(thumbnails)] if thumbnails > 0 else [0.0]
    )
    thumbs: list[dict[str, Any]] = []
    rotation: int | None = None
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            tb = stream.time_base
            for n, target in enumerate(targets):
                if n and tb:
                    container.seek(int(target / tb), stream=stream, backward=True)
                chosen: Any = None
                for frame in container.decode(stream):
                    chosen = frame
                    if frame.time is None or frame.time + 1e-6 >= target:
                        break
                if chosen is None:  # nothing after the seek point: keep what we have
                    break
                if rotation is None:
                    rotation = int(getattr(chosen, "rotation", 0) or 0)
                if thumbnails > 0:
                    img = chosen.to_image()
                    img.thumbnail((THUMB_SIDE, THUMB_SIDE))
                    buf = io.BytesIO()
                    img.save(buf, "JPEG", quality=80)
                    seconds = round(float(chosen.time), 3) if chosen.time is not None else None
                    thumbs.append({"seconds": seconds, "jpeg": buf.getvalue()})
    except (av.FFmpegError, OSError, ValueError) as exc:
        warnings.append(f"frames could not be decoded: {exc}")
    if rotation is None and not any("decoded" in w for w in warnings):
        warnings.append("the video stream has no decodable frame")
    for entry in result.get("streams", []):
        if entry["type"] == "video":
            entry["rotation"] = rotation
            break
    if thumbnails > 0:
        result["thumbnails"] = thumbs


# -- the independent second reading ---------------------------------------------------------
#: Seconds ffprobe may take over one file.
FFPROBE_TIMEOUT = 120


class FfprobeFailed(Exception):
    """ffprobe exited with an error (its stderr says why)."""

    def __init__(self, stderr: bytes) -> None:
        super().__init__("ffprobe failed")
        self.stderr = stderr


def ffprobe(path: Path) -> dict[str, Any]:
    """``ffprobe -show_format -show_streams -of json`` of a file (what ffmpeg-python's probe
    runs), in an environment built from the allow-list: no passphrase reaches it."""
    import json
    import subprocess

    from forensic._internal.child_env import child_environment

    try:
        done = subprocess.run(
            ["ffprobe", "-show_format", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            timeout=FFPROBE_TIMEOUT,
            check=False,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired as exc:
        raise FfprobeFailed(f"timeout {FFPROBE_TIMEOUT}s".encode()) from exc
    if done.returncode != 0:
        raise FfprobeFailed(done.stderr or b"")
    probe: dict[str, Any] = json.loads(done.stdout.decode("utf-8"))
    return probe


def _cross_check(path: Path, result: dict[str, Any]) -> None:
    if shutil.which("ffprobe") is None:
        result["ffprobe"] = None
        return
    try:
        probe = ffprobe(path)
    except FfprobeFailed as exc:
        reason = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        result["ffprobe"] = {"error": reason[-1] if reason else "ffprobe failed"}
        if "container" in result:
            result["warnings"].append(
                "disagreement: ffprobe cannot read the file that PyAV read: "
                + result["ffprobe"]["error"]
            )
        return
    except (OSError, ValueError) as exc:
        result["ffprobe"] = {"error": str(exc)}
        return
    result["ffprobe"] = probe
    disagreements = compare_with_ffprobe(result, probe)
    result["disagreements"] = disagreements
    for d in disagreements:
        result["warnings"].append(
            f"disagreement on {d['field']}: PyAV {d['pyav']!r}, ffprobe {d['ffprobe']!r}"
        )


def _close(a: float | None, b: float | None, rel: float, abs_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(abs_tol, rel * max(abs(a), abs(b)))


def _ff_rate(text: Any) -> float | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return round(float(value), 4) if value else None


def _ff_rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return int(side["rotation"])
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) if tag not in (None, "") else 0


def compare_with_ffprobe(result: dict[str, Any], probe: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields where PyAV and ffprobe read the file differently."""
    out: list[dict[str, Any]] = []

    def differ(field: str, mine: Any, theirs: Any) -> None:
        out.append({"field": field, "pyav": mine, "ffprobe": theirs})

    if "container" not in result:
        differ("container", None, probe.get("format", {}).get("format_name"))
        return out
    fmt = probe.get("format", {})
    cont = result["container"]
    if fmt.get("format_name") != cont["format"]:
        differ("format", cont["format"], fmt.get("format_name"))
    if not _close(cont["duration_s"], _num(fmt.get("duration")), 0.01, 0.05):
        differ("duration_s", cont["duration_s"], _num(fmt.get("duration")))
    ff_tags = fmt.get("tags", {}) or {}
    for tag in ("creation_time", "encoder"):
        if cont.get(tag) != ff_tags.get(tag):
            differ(tag, cont.get(tag), ff_tags.get(tag))
    theirs = {int(s["index"]): s for s in probe.get("streams", [])}
    mine = {int(s["index"]): s for s in result.get("streams", [])}
    if sorted(theirs) != sorted(mine):
        differ("streams", sorted(mine), sorted(theirs))
    for index in sorted(set(theirs) & set(mine)):
        a, b = mine[index], theirs[index]
        prefix = f"stream {index} "
        if a["type"] != b.get("codec_type"):
            differ(prefix + "type", a["type"], b.get("codec_type"))
        if (a["codec"] or "none") != (b.get("codec_name") or "none"):
            differ(prefix + "codec", a["codec"], b.get("codec_name"))
        if a["type"] != "video":
            continue
        for field in ("width", "height"):
            if a.get(field) != b.get(field):
                differ(prefix + field, a.get(field), b.get(field))
        ff_fps = _ff_rate(b.get("avg_frame_rate")) or _ff_rate(b.get("r_frame_rate"))
        if not _close(a.get("fps"), ff_fps, 0.001, 0.01):
            differ(prefix + "fps", a.get("fps"), ff_fps)
        nb = b.get("nb_frames")
        if a.get("frames") is not None and nb is not None and int(nb) != a["frames"]:
            differ(prefix + "frames", a["frames"], int(nb))
        if a.get("rotation") is not None:
            ff_rot = _ff_rotation(b)
            # FFmpeg versions disagree on the sign of the display-matrix angle: compare both.
            if a["rotation"] % 360 not in (ff_rot % 360, (-ff_rot) % 360):
                differ(prefix + "rotation", a["rotation"], ff_rot)
        ff_time = (b.get("tags") or {}).get("creation_time")
        if a.get("creation_time") != ff_time:
            differ(prefix + "creation_time", a.get("creation_time"), ff_time)
    return out


class VideoDescriber(MediaDescriber):
    """Container and stream metadata for the media record (PyAV, plus ffprobe when present)."""

    name = "video"
    version = "1"

    def accepts(self, media_type: str, head: bytes) -> bool:
        return looks_like_video(media_type, head)

    def describe(self, path: Path) -> dict[str, Any]:
        """Container and stream metadata, keyframes, ffprobe cross-check; ``warnings`` too."""
        return probe_video(path)
