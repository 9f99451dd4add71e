"""Video signals: per-frame pixel statistics, temporal consistency of the face region (flicker)
and container anomalies.

Frames are decoded with PyAV (FFmpeg inside the wheel): uniform samples (one every
:data:`SAMPLE_EVERY_S` seconds) plus keyframes, at most :data:`MAX_SAMPLES` sample points, and
at each point a burst of :data:`BURST` consecutive frames, because face-swap flicker is a change
from one frame to the next that samples seconds apart cannot see. The first frame of each burst
goes through the image signals that make sense on a decoded frame (the noise residual of
``maps.py`` and the spectrum features of ``spectrum.py``); the container findings read the
metadata record (PyAV and ``ffprobe``), the packets and the ISO BMFF edit lists.

Nothing here decides that a video was manipulated from pixels: flicker and per-frame
statistics are measurements for the examiner (their error rates are not measured yet); only a
face-swap tool named in the file counts as positive evidence, as the file states.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.maps import NOISE_BLOCK, NOISE_MEDIAN, noise_map
from forensic.analysis.pixels import png_bytes
from forensic.analysis.provenance import FACE_SWAP
from forensic.analysis.spectrum import BINS, CROP, azimuthal_profile, tail_features

#: one uniform sample every this many seconds (widened when the video is long, see MAX_SAMPLES)
SAMPLE_EVERY_S = 2.0
#: at most this many sample points (uniform plus keyframes)
MAX_SAMPLES = 40
#: consecutive frames decoded at each sample point (the flicker measure needs neighbours)
BURST = 3
#: keyframes closer than this to a uniform sample are not added as a sample of their own
KEYFRAME_MIN_GAP_S = 0.5
#: the decoder seeks instead of decoding forward when the next sample is farther than this
SEEK_GAP_S = 4.0
#: frames larger than this are not decoded (8K UHD is 35.4 megapixels)
MAX_FRAME_PIXELS = 36_000_000
#: decoding stops after this many frames in all (a bound for broken or endless streams)
MAX_DECODED_FRAMES = 30_000
#: decoding errors tolerated before giving up
MAX_DECODE_ERRORS = 5
#: packets read for keyframes and timing (a 1-hour 60 fps video has 216,000)
MAX_PACKETS = 500_000
#: a face region needs at least this many pixels on its short side to give stable statistics
FACE_MIN_SIDE = 24
#: bursts with a face needed before a flicker value is given
FACE_MIN_BURSTS = 2
#: Gaussian consistency factor of the median absolute deviation
MAD_SIGMA = 1.4826
#: contact sheet: thumbnails (long side, pixels) are built from this many cells and blurred
THUMB_SIDE = 160
THUMB_CELLS = 16
SHEET_COLUMNS = 5
#: moov boxes larger than this are not parsed for edit lists
MAX_MOOV_BYTES = 64 * 1024 * 1024
#: stored media hidden by an edit list longer than this is reported (encoder delay is shorter)
HIDDEN_MEDIA_S = 0.25
#: bytes of the first video packets searched for encoder strings written into the bitstream
SEI_SCAN_PACKETS = 3

#: lower-case substrings of container/stream tags and bitstream strings, by what wrote them
REENCODERS: tuple[tuple[str, str], ...] = (
    ("lavf", "FFmpeg libavformat (muxer)"),
    ("lavc", "FFmpeg libavcodec (encoder)"),
    ("x264 - core", "x264 encoder (bitstream SEI)"),
    ("x265 (build", "x265 encoder (bitstream SEI)"),
    ("handbrake", "HandBrake"),
    ("premiere", "Adobe Premiere"),
    ("adobe", "Adobe"),
    ("capcut", "CapCut"),
    ("imovie", "iMovie"),
    ("final cut", "Final Cut"),
    ("davinci", "DaVinci Resolve"),
    ("kinemaster", "KineMaster"),
    ("inshot", "InShot"),
    ("mencoder", "MEncoder"),
    ("avidemux", "Avidemux"),
    ("shotcut", "Shotcut"),
    ("openshot", "OpenShot"),
    ("videohandler", "FFmpeg default handler name"),
    ("soundhandler", "FFmpeg default handler name"),
)

FRAMES_REF = (
    "per-frame application of the image signals: Lyu, Pan & Zhang, IJCV 2014 (local noise "
    "level); Durall, Keuper & Keuper, CVPR 2020 and Frank et al., ICML 2020 (spectrum)"
)
FLICKER_REF = (
    "temporal inconsistency of face-swapped regions: Güera & Delp, 'Deepfake video detection "
    "using recurrent neural networks', AVSS 2018 (frame-to-frame inconsistencies of per-frame "
    "face swaps); Li, Chang & Lyu, 'In Ictu Oculi', WIFS 2018 (temporal artefacts of the face "
    "region); statistic: median absolute deviation of frame-to-frame deltas"
)
CONTAINER_REF = (
    "ISO/IEC 14496-12 (ISO BMFF: mvhd/tkhd/mdhd, elst); FFmpeg libavformat metadata "
    "conventions; Güera, Baireddy, Bestagini, Tubaro & Delp, 'We need no pixels: video "
    "manipulation detection using stream descriptors', ICML workshop 2019"
)


# -- sampling and decoding -------------------------------------------------------------------
@dataclass
class StreamInfo:
    """What the packets say about the first video stream (no frame decoded)."""

    width: int
    height: int
    fps: float | None
    start_s: float
    duration_s: float | None
    keyframes_s: list[float]
    packets: int
    corrupt_packets: int
    pts_deltas_s: list[float]
    bitstream_strings: list[str]
    rotation: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class FrameStats:
    """One analysed frame (the first of a burst) and its burst's face-region statistics."""

    time_s: float
    key: bool
    pict_type: str
    noise_median: float
    noise_spread: float
    tail_slope: float
    tail_minus_mid: float
    luma_mean: float
    faces: int
    face_box: tuple[int, int, int, int] | None
    #: per frame of the burst: face minus frame (luma, Cb, Cr, residual sd)
    face_diffs: list[tuple[float, float, float, float]]
    thumb: Image.Image


class NoVideo(Exception):
    """No video can be analysed; the reason (English, Korean) becomes a finding."""

    def __init__(self, reason_en: str, reason_ko: str) -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_ko = reason_ko


#: FFmpeg's AVPictureType numbers
PICTURE_TYPES = MappingProxyType(
    {0: "?", 1: "I", 2: "P", 3: "B", 4: "S", 5: "SI", 6: "SP", 7: "BI"}
)


def _pict(frame: Any) -> str:
    value = getattr(frame, "pict_type", None)
    if isinstance(value, int):
        return PICTURE_TYPES.get(int(value), str(int(value)))
    return str(getattr(value, "name", value) or "?")


def read_stream_info(path: Path) -> StreamInfo:
    """Demux the packets of the first video stream: keyframe times, packet timing, encoder
    strings in the first packets. Raises :class:`NoVideo` when there is nothing to analyse."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise NoVideo(
            f"{path.name}: not a readable media container: {exc}",
            f"{path.name}: 읽을 수 있는 미디어 컨테이너가 아닙니다: {exc}",
        ) from exc
    with container:
        videos = list(container.streams.video)
        if not videos:
            raise NoVideo(
                f"{path.name}: the file has no video stream (audio-only or data): no frame to "
                "analyse",
                f"{path.name}: 영상 스트림이 없습니다(오디오 전용 또는 데이터): 분석할 프레임이 "
                "없습니다",
            )
        stream = videos[0]
        ctx: Any = stream.codec_context
        if ctx is None or not ctx.name or ctx.name == "none":
            raise NoVideo(
                f"{path.name}: video stream {stream.index} has an unknown codec: nothing decoded",
                f"{path.name}: 영상 스트림 {stream.index}의 코덱을 알 수 없어 디코딩하지 "
                "않았습니다",
            )
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width * height > MAX_FRAME_PIXELS:
            raise NoVideo(
                f"{path.name}: {width}x{height} frames exceed the limit of {MAX_FRAME_PIXELS} "
                "pixels per frame: not decoded",
                f"{path.name}: {width}x{height} 프레임이 프레임당 한도({MAX_FRAME_PIXELS} 화소)를 "
                "넘어 디코딩하지 않았습니다",
            )
        tb = stream.time_base
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        start = float(stream.start_time * tb) if stream.start_time is not None and tb else 0.0
        if stream.duration and tb:
            duration: float | None = float(stream.duration * tb)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = None
        info = StreamInfo(width, height, fps, start, duration, [], 0, 0, [], [])
        pts: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                info.packets += 1
                if packet.is_corrupt:
                    info.corrupt_packets += 1
                if packet.pts is not None:
                    pts.append(int(packet.pts))
                    if packet.is_keyframe and tb:
                        info.keyframes_s.append(round(float(packet.pts * tb), 3))
                if info.packets <= SEI_SCAN_PACKETS:
                    raw = bytes(packet).lower()
                    for needle in (b"x264 - core", b"x265 (build", b"handbrake"):
                        at = raw.find(needle)
                        if at >= 0:
                            text = bytes(packet)[at : at + 60].split(b"\x00")[0]
                            info.bitstream_strings.append(text.decode("latin-1").strip())
                if info.packets >= MAX_PACKETS:
                    info.notes.append(f"packet reading stopped at {MAX_PACKETS} packets")
                    break
        except (av.FFmpegError, ValueError) as exc:
            info.notes.append(f"reading packets stopped after {info.packets}: {exc}")
        if pts and tb:
            ordered = sorted(set(pts))
            info.pts_deltas_s = [float((b - a) * tb) for a, b in itertools.pairwise(ordered)]
    if info.packets == 0:
        raise NoVideo(
            f"{path.name}: the video stream holds no packet (zero-length or truncated)",
            f"{path.name}: 영상 스트림에 패킷이 없습니다(길이 0 또는 잘림)",
        )
    return info


def sample_targets(info: StreamInfo) -> tuple[list[float], float, list[float]]:
    """The sample times (absolute seconds), the uniform interval used and the keyframes added."""
    start = info.start_s
    duration = info.duration_s
    if duration is None or duration <= 0:
        interval = SAMPLE_EVERY_S
        return [start + k * interval for k in range(MAX_SAMPLES)], interval, []
    interval = max(SAMPLE_EVERY_S, duration / MAX_SAMPLES)
    uniform = [start + k * interval for k in range(MAX_SAMPLES) if k * interval < duration]
    room = MAX_SAMPLES - len(uniform)
    eligible = [
        k for k in info.keyframes_s if all(abs(k - u) >= KEYFRAME_MIN_GAP_S for u in uniform)
    ]
    added: list[float] = []
    if room > 0 and eligible:
        if len(eligible) > room:
            idx = np.linspace(0, len(eligible) - 1, room).round().astype(int)
            eligible = [eligible[i] for i in sorted(set(idx.tolist()))]
        added = eligible
    return sorted(uniform + added), interval, added


def decode_bursts(
    path: Path, targets: list[float], fps: float | None, notes: list[str]
) -> Iterator[list[Any]]:
    """For each target time: the first decoded frame at or after it and the frames after it
    (``BURST`` in all). Seeks when the target is far ahead; decoding errors become notes."""
    import av

    half = 0.5 / fps if fps else 0.0
    decoded = 0
    errors = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base
        frames: Iterator[Any] | None = None
        position = -math.inf
        ti = 0
        while ti < len(targets):
            target = targets[ti]
            if frames is None or target - position > SEEK_GAP_S:
                if tb and (frames is not None or target > 0):
                    try:
                        container.seek(int(target / tb), stream=stream, backward=True)
                    except (av.FFmpegError, OSError, ValueError) as exc:
                        notes.append(f"seek to {target:.2f} s failed: {exc}")
                frames = iter(container.decode(stream))
            burst: list[Any] = []
            try:
                while len(burst) < BURST:
                    frame = next(frames)
                    decoded += 1
                    t = frame.time
                    if t is not None:
                        position = float(t)
                    if burst or t is None or float(t) + half >= target:
                        burst.append(frame)
                    if decoded >= MAX_DECODED_FRAMES:
                        notes.append(f"decoding stopped at the limit of {MAX_DECODED_FRAMES}")
                        break
            except StopIteration:
                if burst:
                    yield burst
                return
            except (av.FFmpegError, ValueError) as exc:
                errors += 1
                notes.append(f"frame near {max(position, 0):.2f} s could not be decoded: {exc}")
                frames = None
                if errors >= MAX_DECODE_ERRORS:
                    notes.append(f"decoding abandoned after {errors} errors")
                    return
                if burst:
                    yield burst
                ti += 1
                continue
            yield burst
            if decoded >= MAX_DECODED_FRAMES:
                return
            ti += 1
            # skip targets the burst already passed (keyframes within one burst of a sample)
            while ti < len(targets) and targets[ti] <= position:
                ti += 1


# -- per-frame statistics ----------------------------------------------------------------------
def to_rgb(frame: Any) -> NDArray[np.uint8]:
    """The decoded frame as RGB, turned upright by its display rotation."""
    rgb: NDArray[np.uint8] = frame.to_ndarray(format="rgb24")
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    if rotation in (90, 180, 270):
        rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))
    return rgb


def ycbcr(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], ...]:
    """ITU-R BT.601 full-range Y, Cb, Cr (float32, to keep 1080p frames cheap)."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return y, cb, cr


def residual(y: NDArray[np.float32]) -> NDArray[np.float32]:
    """Luminance minus the mean of its four neighbours (a cheap high-pass for noise level)."""
    out = np.zeros_like(y)
    out[1:-1, 1:-1] = y[1:-1, 1:-1] - 0.25 * (
        y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:]
    )
    return out


def ellipse_mask(h: int, w: int) -> NDArray[np.bool_]:
    """The ellipse inscribed in an h x w box (the face, less the background corners)."""
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    inside: NDArray[np.bool_] = ((yy - cy) / max(h / 2, 1)) ** 2 + (
        (xx - cx) / max(w / 2, 1)
    ) ** 2 <= 1.0
    return inside


def region_minus_frame(
    rgb: NDArray[np.uint8], box: tuple[int, int, int, int]
) -> tuple[float, float, float, float]:
    """Face-region minus whole-frame: mean Y, mean Cb, mean Cr and residual standard deviation.
    Differences to the frame cancel global changes (exposure, fades) that move both alike."""
    y, cb, cr = ycbcr(rgb)
    res = residual(y)
    x0, y0, w, h = box
    m = ellipse_mask(h, w)
    sl = (slice(y0, y0 + h), slice(x0, x0 + w))
    inner = res[1:-1, 1:-1]
    return (
        float(y[sl][m].mean() - y.mean()),
        float(cb[sl][m].mean() - cb.mean()),
        float(cr[sl][m].mean() - cr.mean()),
        float(res[sl][m].std() - inner.std()),
    )


def mad(values: NDArray[np.float64]) -> float:
    """Median absolute deviation, scaled to a standard deviation for Gaussian data."""
    if values.size == 0:
        return 0.0
    return float(MAD_SIGMA * np.median(np.abs(values - np.median(values))))


def blurred_thumb(rgb: NDArray[np.uint8]) -> Image.Image:
    """A thumbnail from which the frame cannot be recovered: THUMB_CELLS cells on the long
    side (box filter), scaled up and blurred (as the report's previews)."""
    im = Image.fromarray(rgb)
    w, h = im.size
    s = THUMB_CELLS / max(w, h)
    small = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BOX)
    t = THUMB_SIDE / max(w, h)
    big = small.resize((max(1, round(w * t)), max(1, round(h * t))), Image.Resampling.NEAREST)
    return big.filter(ImageFilter.GaussianBlur(radius=THUMB_SIDE / THUMB_CELLS / 2))


FaceFinder = Callable[[NDArray[np.uint8]], list[tuple[int, int, int, int]]]


def default_face_finder() -> FaceFinder | None:
    """``forensic.analysis.faces.detect_faces(quick=True)`` (HOG proposals on a 640-pixel copy,
    each confirmed by the CNN);
    None when dlib or its face model is not available."""
    try:
        from forensic.analysis.faces import detect_faces, locator_available
    except ImportError:
        return None
    if not locator_available():
        return None

    def find(luma: NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
        return [
            (f.x, f.y, f.w, f.h)
            for f in detect_faces(luma, quick=True)
            if min(f.w, f.h) >= FACE_MIN_SIDE
        ]

    return find


def analyse_burst(burst: list[Any], find_faces: FaceFinder | None) -> FrameStats:
    first = to_rgb(burst[0])
    _img, noise = noise_map(first)
    y, _cb, _cr = ycbcr(first)
    profile, _spec = azimuthal_profile(y.astype(np.float64))
    tail = tail_features(profile)
    luma8 = np.clip(np.round(y), 0, 255).astype(np.uint8)
    faces = find_faces(luma8) if find_faces is not None else []
    box = max(faces, key=lambda b: b[2] * b[3]) if faces else None
    diffs: list[tuple[float, float, float, float]] = []
    if box is not None:
        for n, frame in enumerate(burst):
            rgb = first if n == 0 else to_rgb(frame)
            if rgb.shape != first.shape:
                break
            diffs.append(region_minus_frame(rgb, box))
    t = burst[0].time
    return FrameStats(
        time_s=round(float(t), 3) if t is not None else math.nan,
        key=bool(burst[0].key_frame),
        pict_type=_pict(burst[0]),
        noise_median=noise["median_block_sd"],
        noise_spread=noise["spread_p90_over_p10"],
        tail_slope=tail["tail_slope"],
        tail_minus_mid=tail["tail_minus_mid"],
        luma_mean=round(float(y.mean()), 3),
        faces=len(faces),
        face_box=box,
        face_diffs=diffs,
        thumb=blurred_thumb(first),
    )


@dataclass(frozen=True)
class Flicker:
    """Temporal variability of face-minus-frame statistics."""

    bursts: int
    deltas: int
    luma: float
    cb: float
    cr: float
    noise: float
    slow_luma: float | None


def flicker(stats: list[FrameStats]) -> Flicker | None:
    """MAD of the frame-to-frame deltas (within bursts) of each face-minus-frame statistic;
    ``slow_luma`` is the same between bursts (seconds apart: lighting and pose, not flicker)."""
    with_face = [s for s in stats if len(s.face_diffs) >= 2]
    if len(with_face) < FACE_MIN_BURSTS:
        return None
    deltas = np.array(
        [np.subtract(b, a) for s in with_face for a, b in itertools.pairwise(s.face_diffs)],
        dtype=np.float64,
    )
    firsts = np.array([s.face_diffs[0][0] for s in with_face], dtype=np.float64)
    slow = mad(np.diff(firsts)) if len(firsts) >= 3 else None
    return Flicker(
        bursts=len(with_face),
        deltas=len(deltas),
        luma=round(mad(deltas[:, 0]), 4),
        cb=round(mad(deltas[:, 1]), 4),
        cr=round(mad(deltas[:, 2]), 4),
        noise=round(mad(deltas[:, 3]), 4),
        slow_luma=round(slow, 4) if slow is not None else None,
    )


# -- figures -----------------------------------------------------------------------------------
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def contact_sheet(stats: list[FrameStats]) -> bytes:
    """Blurred thumbnails with each frame's time and numbers under it."""
    cols = min(SHEET_COLUMNS, len(stats))
    rows = math.ceil(len(stats) / cols)
    cell_w, thumb_h, text_h = THUMB_SIDE + 10, THUMB_SIDE, 58
    cell_h = thumb_h + text_h
    sheet = Image.new("RGB", (cols * cell_w, rows * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = _font(11)
    for n, s in enumerate(stats):
        x, y = (n % cols) * cell_w + 5, (n // cols) * cell_h
        sheet.paste(s.thumb, (x + (THUMB_SIDE - s.thumb.width) // 2, y + 2))
        flick = ""
        if len(s.face_diffs) >= 2:
            d = np.diff(np.array([f[0] for f in s.face_diffs]))
            flick = f"  face dY {float(np.abs(d).max()):.2f}"
        lines = [
            f"t={s.time_s:.2f}s {s.pict_type}{' key' if s.key else ''} faces {s.faces}",
            f"noise {s.noise_median:.3f}  luma {s.luma_mean:.1f}",
            f"tail slope {s.tail_slope:.2f}{flick}",
        ]
        for i, line in enumerate(lines):
            draw.text((x, y + thumb_h + 4 + i * 16), line, fill=(0, 0, 0), font=font)
    return png_bytes(np.asarray(sheet, dtype=np.uint8))


def time_plot(stats: list[FrameStats], keyframes: list[float]) -> bytes:
    """One panel per statistic against time; keyframes as grey ticks."""
    series: list[tuple[str, list[float | None]]] = [
        ("noise level (median block sd)", [s.noise_median for s in stats]),
        ("spectrum tail slope", [s.tail_slope for s in stats]),
        ("mean luminance", [s.luma_mean for s in stats]),
        (
            "face - frame luminance",
            [s.face_diffs[0][0] if s.face_diffs else None for s in stats],
        ),
        (
            "face - frame residual sd",
            [s.face_diffs[0][3] if s.face_diffs else None for s in stats],
        ),
    ]
    width, panel_h, left, right, top = 900, 120, 70, 20, 24
    img = Image.new("RGB", (width, top + panel_h * len(series) + 30), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font = _font(11)
    times = [s.time_s for s in stats]
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0

    def px(t: float) -> float:
        return left + (t - t0) / span * (width - left - right)

    draw.text((left, 4), "per-frame statistics against time (s)", fill=(0, 0, 0), font=font)
    for i, (label, values) in enumerate(series):
        y0 = top + i * panel_h
        y1 = y0 + panel_h - 24
        draw.rectangle((left, y0, width - right, y1), outline=(150, 150, 150))
        draw.text((left + 4, y0 + 2), label, fill=(0, 0, 0), font=font)
        for k in keyframes:
            if t0 <= k <= t1:
                draw.line((px(k), y1 - 6, px(k), y1), fill=(160, 160, 160))
        got = [
            (t, v) for t, v in zip(times, values, strict=True) if v is not None and math.isfinite(v)
        ]
        if not got:
            draw.text((left + 4, y0 + 40), "no value (no face found)", fill=(120, 0, 0), font=font)
            continue
        lo, hi = min(v for _t, v in got), max(v for _t, v in got)
        pad = (hi - lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad

        def py(v: float, lo: float = lo, hi: float = hi, y0: int = y0, y1: int = y1) -> float:
            return y1 - (v - lo) / (hi - lo) * (y1 - y0 - 16)

        draw.text((4, y0 + 14), f"{hi:.3g}", fill=(0, 0, 0), font=font)
        draw.text((4, y1 - 12), f"{lo:.3g}", fill=(0, 0, 0), font=font)
        pts = [(px(t), py(v)) for t, v in got]
        if len(pts) > 1:
            draw.line(pts, fill=(30, 80, 200), width=2)
        for x, y in pts:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(200, 40, 40))
    yb = top + panel_h * len(series)
    draw.text((left, yb), f"{t0:.1f} s", fill=(0, 0, 0), font=font)
    draw.text((width - right - 50, yb), f"{t1:.1f} s", fill=(0, 0, 0), font=font)
    return png_bytes(np.asarray(img, dtype=np.uint8))


# -- ISO BMFF edit lists -----------------------------------------------------------------------
@dataclass(frozen=True)
class EditList:
    track: int
    handler: str
    movie_timescale: int | None
    timescale: int | None
    media_duration: int | None
    #: (segment duration in movie timescale, media time in media timescale or -1, rate)
    entries: tuple[tuple[int, int, float], ...]

    def hidden_s(self) -> tuple[float | None, float | None]:
        """Seconds of stored media before the first shown one and after the last (one played
        segment only; None when it cannot be computed)."""
        played = [e for e in self.entries if e[1] != -1]
        if len(played) != 1 or not self.timescale:
            return None, None
        dur, media, _rate = played[0]
        lead = media / self.timescale
        if not self.movie_timescale or self.media_duration is None or dur == 0:
            return lead, None
        tail = self.media_duration / self.timescale - lead - dur / self.movie_timescale
        return lead, tail

    def unusual(self) -> list[str]:
        """What about this edit list is more than skipping the encoder delay."""
        out: list[str] = []
        played = [e for e in self.entries if e[1] != -1]
        if len(played) > 1:
            out.append(f"{len(played)} played segments")
        if any(e[1] == -1 for e in self.entries[1:]):
            out.append("an empty edit (gap) after the start")
        if any(e[2] != 1.0 for e in played):
            out.append("a segment played at another rate")
        lead, tail = self.hidden_s()
        if lead is not None and lead > HIDDEN_MEDIA_S:
            out.append(f"{lead:.3f} s of stored media before the first shown frame or sample")
        if tail is not None and tail > HIDDEN_MEDIA_S:
            out.append(f"{tail:.3f} s of stored media after the last shown frame or sample")
        return out


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]; stops at damage."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind.decode("latin-1"), pos + head, pos + size
        pos += size


def _find_moov(path: Path) -> bytes | None:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        total = fh.tell()
        pos = 0
        while pos + 8 <= total:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:
                return None
            size, kind = struct.unpack(">I4s", head[:8])
            hsize = 8
            if size == 1 and len(head) == 16:
                size, hsize = struct.unpack(">Q", head[8:16])[0], 16
            elif size == 0:
                size = total - pos
            if size < hsize:
                return None
            if kind == b"moov":
                if size > MAX_MOOV_BYTES:
                    return None
                fh.seek(pos)
                data = fh.read(size)
                return data if len(data) == size else None
            pos += size
    return None


def edit_lists(path: Path) -> list[EditList] | None:
    """Every track's edit list (``moov/trak/edts/elst``); None when the file is not ISO BMFF or
    its moov box cannot be read."""
    try:
        moov = _find_moov(path)
    except OSError:
        return None
    if moov is None:
        return None
    out: list[EditList] = []
    top = list(_boxes(moov, 8, len(moov)))
    movie_timescale = None
    for kind, a, b in top:
        if kind == "mvhd":
            movie_timescale, _d = _header_times(moov, a, b)
    traks = [(a, b) for kind, a, b in top if kind == "trak"]
    for n, (a, b) in enumerate(traks):
        handler, timescale, media_duration = "", None, None
        entries: list[tuple[int, int, float]] = []
        for sub, sa, sb in _boxes(moov, a, b):
            if sub == "mdia":
                for m, ma, mb in _boxes(moov, sa, sb):
                    if m == "hdlr" and mb - ma >= 12:
                        handler = moov[ma + 8 : ma + 12].decode("latin-1")
                    elif m == "mdhd":
                        timescale, media_duration = _header_times(moov, ma, mb)
            elif sub == "edts":
                for e, ea, eb in _boxes(moov, sa, sb):
                    if e != "elst" or eb - ea < 8:
                        continue
                    version = moov[ea]
                    count = struct.unpack(">I", moov[ea + 4 : ea + 8])[0]
                    fmt, step = (">QqhH", 20) if version == 1 else (">IihH", 12)
                    pos = ea + 8
                    for _ in range(min(count, 10_000)):
                        if pos + step > eb:
                            break
                        dur, media, whole, frac = struct.unpack(fmt, moov[pos : pos + step])
                        entries.append((int(dur), int(media), whole + frac / 65536))
                        pos += step
        if entries:
            out.append(
                EditList(n, handler, movie_timescale, timescale, media_duration, tuple(entries))
            )
    return out


def _header_times(data: bytes, at: int, end: int) -> tuple[int | None, int | None]:
    """Timescale and duration of an mvhd/mdhd box payload (version 0 or 1)."""
    if at < end and data[at] == 1 and end - at >= 32:
        timescale, duration = struct.unpack(">IQ", data[at + 20 : at + 32])
    elif at < end and data[at] == 0 and end - at >= 20:
        timescale, duration = struct.unpack(">II", data[at + 12 : at + 20])
    else:
        return None, None
    return (int(timescale) or None), int(duration)


# -- container anomalies -----------------------------------------------------------------------
def _video_section(item: AnalysisInput) -> dict[str, Any]:
    meta = item.metadata or {}
    section = meta.get("video")
    if isinstance(section, dict) and "container" in section:
        return section
    from forensic.media.video import probe_video

    return probe_video(item.path)


def _tags(section: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, value) of every container and stream tag, from PyAV and ffprobe."""
    out: list[tuple[str, str]] = []
    cont = section.get("container") or {}
    for k, v in (cont.get("tags") or {}).items():
        out.append((f"container {k}", str(v)))
    for s in section.get("streams") or []:
        for k, v in (s.get("tags") or {}).items():
            out.append((f"stream {s.get('index')} {k}", str(v)))
    probe = section.get("ffprobe")
    if isinstance(probe, dict):
        for k, v in ((probe.get("format") or {}).get("tags") or {}).items():
            out.append((f"ffprobe format {k}", str(v)))
        for s in probe.get("streams") or []:
            for k, v in (s.get("tags") or {}).items():
                out.append((f"ffprobe stream {s.get('index')} {k}", str(v)))
    return sorted(set(out))


def encoder_finding(section: dict[str, Any], info: StreamInfo | None) -> Finding:
    tags = _tags(section)
    strings = tags + [("bitstream", s) for s in (info.bitstream_strings if info else [])]
    swap = sorted({s for _w, v in strings for s in FACE_SWAP if s in v.lower()})
    tools = sorted({name for _w, v in strings for k, name in REENCODERS if k in v.lower()})
    hits = [
        {"where": w, "value": v}
        for w, v in strings
        if any(k in v.lower() for k, _n in REENCODERS) or any(s in v.lower() for s in FACE_SWAP)
    ]
    method = (
        "container/stream tags (encoder, handler_name, every tag; PyAV and ffprobe) and the "
        f"first {SEI_SCAN_PACKETS} video packets (encoder SEI) matched against known tool strings"
    )
    lim = (
        "Strings are claims that any tool can write, change or drop. FFmpeg (Lavf/Lavc) also "
        "writes files for messengers, cloud services and screen recorders, and most face-swap "
        "tools use FFmpeg without naming themselves: a re-encoding tool string shows the file "
        "was written by that tool, not that its content was altered; no string shows nothing."
    )
    if swap:
        return Finding(
            "video.container.encoder",
            STATUS_INDICATES,
            method,
            CONTAINER_REF,
            swap,
            None,
            f"the file names a face-swap, 'nudify' or generator tool ({', '.join(swap)}): "
            "indicates processing by such a tool, as the file states",
            f"파일에 얼굴 합성·'누디파이'·생성 도구가 기록되어 있습니다({', '.join(swap)}): "
            "파일에 기록된 대로 그런 도구로 처리되었음을 나타냅니다",
            lim,
            positive_proof=True,
            extra={"strings": hits},
        )
    if tools:
        return Finding(
            "video.container.encoder",
            STATUS_INFO,
            method,
            CONTAINER_REF,
            tools,
            None,
            f"the file was written by re-encoding or muxing software ({', '.join(tools)}): "
            "consistent with the video having been re-encoded or re-muxed after recording "
            "(phone cameras do not write these strings); not by itself evidence of manipulation",
            f"파일을 재인코딩·재다중화 소프트웨어가 기록했습니다({', '.join(tools)}): 촬영 후 "
            "재인코딩 또는 재다중화된 것과 일치합니다(휴대폰 카메라는 이런 문자열을 쓰지 "
            "않습니다). 그 자체로 조작의 증거는 아닙니다",
            lim,
            extra={"strings": hits},
        )
    return Finding(
        "video.container.encoder",
        STATUS_NO_EVIDENCE,
        method,
        CONTAINER_REF,
        None,
        None,
        "no re-encoding or face-swap tool named in the file (this does not prove absence)",
        "파일에 재인코딩 도구나 얼굴 합성 도구가 기록되어 있지 않습니다 (부재의 증명은 아닙니다)",
        lim,
    )


def creation_time_finding(section: dict[str, Any]) -> Finding:
    cont = section.get("container") or {}
    streams = section.get("streams") or []
    container_time = cont.get("creation_time")
    stream_times = {
        str(s.get("index")): s.get("creation_time") for s in streams if s.get("creation_time")
    }
    method = "container (mvhd) and stream (mdhd) creation_time, as read by PyAV"
    lim = (
        "creation_time is a claim: cameras write it, FFmpeg writes the time of re-encoding "
        "only when asked, messengers strip or rewrite it, and anyone can set it. Its absence "
        "or a disagreement shows how the file was written, not what it shows."
    )
    details = {"container": container_time, "streams": stream_times}
    if not container_time:
        return Finding(
            "video.container.creation_time",
            STATUS_INFO,
            method,
            CONTAINER_REF,
            None,
            None,
            "no creation_time in the container: consistent with re-encoding, re-muxing or "
            "metadata stripping (cameras write it); not by itself evidence of manipulation",
            "컨테이너에 creation_time이 없습니다: 재인코딩·재다중화 또는 메타데이터 삭제와 "
            "일치합니다(카메라는 기록함). 그 자체로 조작의 증거는 아닙니다",
            lim,
            extra=details,
        )
    differing = sorted({str(t) for t in stream_times.values()} - {str(container_time)})
    if differing:
        return Finding(
            "video.container.creation_time",
            STATUS_INFO,
            method,
            CONTAINER_REF,
            container_time,
            None,
            "stream creation times differ from the container's: consistent with streams "
            "written at different times (editing, re-muxing)",
            "스트림 생성 시각이 컨테이너의 것과 다릅니다: 서로 다른 시점에 기록된 "
            "스트림(편집, 재다중화)과 일치합니다",
            lim,
            extra={**details, "differing": differing},
        )
    return Finding(
        "video.container.creation_time",
        STATUS_INFO,
        method,
        CONTAINER_REF,
        container_time,
        None,
        f"creation_time {container_time} (a claim written into the file)",
        f"creation_time {container_time} (파일에 기록된 주장)",
        lim,
        extra=details,
    )


def _ff_rate(text: Any) -> float | None:
    try:
        num, _, den = str(text).partition("/")
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 and math.isfinite(value) else None


def timing_finding(section: dict[str, Any], info: StreamInfo | None) -> Finding:
    """Durations and frame counts that disagree: between streams, with the container, between
    PyAV and ffprobe, and with the packets actually in the file."""
    issues: list[str] = []
    cont = section.get("container") or {}
    streams = section.get("streams") or []
    cdur = cont.get("duration_s")
    durations = {
        f"{s.get('type')} {s.get('index')}": s.get("duration_s")
        for s in streams
        if s.get("type") in ("video", "audio") and s.get("duration_s")
    }
    if len(durations) >= 2:
        lo, hi = min(durations.values()), max(durations.values())
        if hi - lo > max(0.5, 0.02 * hi):
            issues.append(
                f"stream durations differ by {hi - lo:.3f} s: "
                + ", ".join(f"{k} {v} s" for k, v in sorted(durations.items()))
            )
    for k, v in sorted(durations.items()):
        if cdur and v - cdur > max(0.5, 0.02 * cdur):
            issues.append(f"{k} lasts {v} s, longer than the container's {cdur} s")
    for s in streams:
        if s.get("type") != "video":
            continue
        fps, frames, dur = s.get("fps"), s.get("frames"), s.get("duration_s")
        if fps and frames and dur:
            expected = fps * dur
            if abs(expected - frames) > 2 + 0.01 * frames:
                issues.append(
                    f"stream {s.get('index')}: {frames} frames but {dur} s x {fps} fps = "
                    f"{expected:.1f}"
                )
        if info is not None and frames and abs(info.packets - frames) > 1:
            issues.append(
                f"stream {s.get('index')}: the header counts {frames} frames, the file holds "
                f"{info.packets} packets"
            )
        break
    for d in section.get("disagreements") or []:
        issues.append(
            f"PyAV and ffprobe disagree on {d.get('field')}: {d.get('pyav')!r} vs "
            f"{d.get('ffprobe')!r}"
        )
    if info is not None and info.corrupt_packets:
        issues.append(f"{info.corrupt_packets} video packets are flagged corrupt by the demuxer")
    method = (
        "stream vs container durations, header frame count vs duration x frame rate and vs "
        "the packets in the file, PyAV vs ffprobe readings"
    )
    lim = (
        "Cutting, concatenating and re-muxing leave such disagreements, but so do ordinary "
        "recorders (audio that starts late, a dropped last frame) and broken uploads. They "
        "show how the file was assembled, not what its pictures show."
    )
    if issues:
        return Finding(
            "video.container.timing",
            STATUS_INFO,
            method,
            CONTAINER_REF,
            len(issues),
            None,
            f"{len(issues)} timing disagreement(s): consistent with cutting, concatenation, "
            "re-muxing or a damaged file; not by itself evidence of manipulation",
            f"시간 정보 불일치 {len(issues)}건: 자르기·이어 붙이기·재다중화 또는 손상된 "
            "파일과 일치합니다. 그 자체로 조작의 증거는 아닙니다",
            lim,
            extra={"issues": issues},
        )
    return Finding(
        "video.container.timing",
        STATUS_NO_EVIDENCE,
        method,
        CONTAINER_REF,
        0,
        None,
        "durations and frame counts agree (this does not prove absence of editing)",
        "재생 시간과 프레임 수가 일치합니다 (편집이 없었다는 증명은 아닙니다)",
        lim,
    )


#: a frame interval this far (relative) from the median counts as irregular
VFR_TOLERANCE = 0.25
#: variable frame rate when more than this share of the intervals is irregular
VFR_SHARE = 0.05


def frame_rate_finding(section: dict[str, Any], info: StreamInfo | None) -> Finding:
    method = (
        f"intervals between consecutive video packet time stamps: share farther than "
        f"{VFR_TOLERANCE:.0%} from the median interval (> {VFR_SHARE:.0%} = variable); "
        "ffprobe r_frame_rate vs avg_frame_rate"
    )
    lim = (
        "Phone cameras record variable frame rate in low light and screen recorders always "
        "do; constant rate is what encoders such as FFmpeg write. It describes how the file "
        "was recorded or written, not what it shows."
    )
    if info is None or len(info.pts_deltas_s) < 2:
        return not_applicable(
            "video.container.frame_rate",
            "too few video packets with time stamps to measure the frame rate",
            "시간 정보가 있는 영상 패킷이 너무 적어 프레임률을 측정할 수 없습니다",
        )
    d = np.array(info.pts_deltas_s, dtype=np.float64)
    med = float(np.median(d))
    irregular = float(np.mean(np.abs(d - med) > VFR_TOLERANCE * med)) if med > 0 else 1.0
    rates: dict[str, Any] = {}
    probe = section.get("ffprobe")
    if isinstance(probe, dict):
        for s in probe.get("streams") or []:
            if s.get("codec_type") == "video":
                rates = {
                    "r_frame_rate": s.get("r_frame_rate"),
                    "avg_frame_rate": s.get("avg_frame_rate"),
                }
                break
    r, a = _ff_rate(rates.get("r_frame_rate")), _ff_rate(rates.get("avg_frame_rate"))
    rate_mismatch = r is not None and a is not None and abs(r - a) > 0.01 * max(r, a)
    value = {
        "irregular_share": round(irregular, 4),
        "median_interval_s": round(med, 6),
        "min_interval_s": round(float(d.min()), 6),
        "max_interval_s": round(float(d.max()), 6),
        **rates,
    }
    if irregular > VFR_SHARE or rate_mismatch:
        return Finding(
            "video.container.frame_rate",
            STATUS_INFO,
            method,
            CONTAINER_REF,
            value,
            VFR_SHARE,
            f"variable frame rate ({irregular:.1%} of frame intervals irregular): consistent "
            "with a phone camera, a screen recording, or frames dropped, inserted or joined "
            "by editing",
            f"가변 프레임률(프레임 간격의 {irregular:.1%}가 불규칙): 휴대폰 카메라, 화면 녹화, "
            "또는 편집에 의한 프레임 누락·삽입·연결과 일치합니다",
            lim,
        )
    return Finding(
        "video.container.frame_rate",
        STATUS_INFO,
        method,
        CONTAINER_REF,
        value,
        VFR_SHARE,
        f"constant frame rate (median interval {med * 1000:.2f} ms)",
        f"일정한 프레임률(중앙 간격 {med * 1000:.2f} ms)",
        lim,
    )


def edit_list_finding(path: Path) -> Finding:
    signal = "video.container.edit_list"
    lists = edit_lists(path)
    if lists is None:
        return not_applicable(
            signal,
            "not an ISO BMFF (MP4/MOV) file, or its moov box cannot be read: no edit lists",
            "ISO BMFF(MP4/MOV) 파일이 아니거나 moov 상자를 읽을 수 없어 편집 목록이 없습니다",
        )
    method = (
        "ISO BMFF moov/trak/edts/elst entries of every track, with mvhd/mdhd timescales and "
        f"durations: several segments, gaps, rate changes, or more than {HIDDEN_MEDIA_S} s of "
        "stored media outside the played segment"
    )
    lim = (
        "FFmpeg and phones write a one-segment edit list to skip the encoder delay; several "
        "segments or hidden media mean the player shows only part of the stored media "
        "(trimming or joining without re-encoding), so pictures may be in the file that are "
        "never shown. It says how the timeline was assembled, not what the pictures show; a "
        "re-encoded file keeps no edit list of its earlier cuts."
    )
    tracks = []
    unusual: dict[str, list[str]] = {}
    for e in lists:
        lead, tail = e.hidden_s()
        tracks.append(
            {
                "track": e.track,
                "handler": e.handler,
                "timescale": e.timescale,
                "movie_timescale": e.movie_timescale,
                "entries": [list(x) for x in e.entries],
                "hidden_before_s": round(lead, 4) if lead is not None else None,
                "hidden_after_s": round(tail, 4) if tail is not None else None,
            }
        )
        if e.unusual():
            unusual[f"track {e.track} ({e.handler})"] = e.unusual()
    if unusual:
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in unusual.items())
        return Finding(
            signal,
            STATUS_INFO,
            method,
            CONTAINER_REF,
            len(unusual),
            HIDDEN_MEDIA_S,
            f"edit lists play only part of the stored media ({what}): consistent with "
            "trimming or joining without re-encoding; media outside the played segments is "
            "in the file but not shown",
            f"편집 목록이 저장된 미디어의 일부만 재생합니다({what}): 재인코딩 없는 자르기·"
            "이어 붙이기와 일치하며, 재생 구간 밖의 미디어는 파일에 있지만 표시되지 않습니다",
            lim,
            extra={"tracks": tracks},
        )
    return Finding(
        signal,
        STATUS_NO_EVIDENCE,
        method,
        CONTAINER_REF,
        0,
        HIDDEN_MEDIA_S,
        "no edit list hides stored media (this does not prove the video was not cut)",
        "저장된 미디어를 숨기는 편집 목록이 없습니다 (잘리지 않았다는 증명은 아닙니다)",
        lim,
        extra={"tracks": tracks},
    )


# -- the detector ------------------------------------------------------------------------------
VIDEO_TYPES = (
    "video/mp4",
    "video/quicktime",
    "video/x-m4v",
    "video/3gpp",
    "video/webm",
    "video/x-matroska",
    "video/x-msvideo",
    "video/x-ms-wmv",
    "video/mpeg",
    "video/x-flv",
    "audio/mp4",
)


class VideoDetector(Detector):
    name = "video"
    version = "2"
    media_types = VIDEO_TYPES

    def __init__(self, face_finder: FaceFinder | bool | None = True) -> None:
        """``face_finder``: True = the default CNN face finder, or a callable (tests)."""
        self._face_finder = face_finder

    def _faces(self) -> FaceFinder | None:
        if self._face_finder is True:
            return default_face_finder()
        if self._face_finder is False:
            return None
        return self._face_finder

    def parameters(self) -> dict[str, Any]:
        models: dict[str, str] = {}
        with contextlib.suppress(ImportError):
            from forensic.analysis.face_models import model_digests

            models = model_digests()
        return {
            "face_models_sha256": models,
            "sample_every_s": SAMPLE_EVERY_S,
            "max_samples": MAX_SAMPLES,
            "burst": BURST,
            "keyframe_min_gap_s": KEYFRAME_MIN_GAP_S,
            "seek_gap_s": SEEK_GAP_S,
            "max_frame_pixels": MAX_FRAME_PIXELS,
            "max_decoded_frames": MAX_DECODED_FRAMES,
            "max_packets": MAX_PACKETS,
            "noise_median": NOISE_MEDIAN,
            "noise_block": NOISE_BLOCK,
            "spectrum_crop": CROP,
            "spectrum_bins": BINS,
            "face_min_side": FACE_MIN_SIDE,
            "face_min_bursts": FACE_MIN_BURSTS,
            "flicker_statistic": "1.4826 x MAD of within-burst frame-to-frame deltas",
            "vfr_tolerance": VFR_TOLERANCE,
            "vfr_share": VFR_SHARE,
            "thumb_side": THUMB_SIDE,
            "thumb_cells": THUMB_CELLS,
            "sei_scan_packets": SEI_SCAN_PACKETS,
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        from forensic.media.video import av_versions

        out = {"numpy": np.__version__, "pillow": PIL.__version__}
        with contextlib.suppress(ImportError):
            out.update(av_versions())
        with contextlib.suppress(ImportError):
            import cv2

            out["opencv"] = str(cv2.__version__)
        return out

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            info: StreamInfo | None = read_stream_info(item.path)
            reason: NoVideo | None = None
        except NoVideo as exc:
            info, reason = None, exc
        try:
            section = _video_section(item)
        except Exception as exc:  # the record is optional; a failed probe is only a note
            section = {"warnings": [f"probe failed: {type(exc).__name__}: {exc}"]}
        findings: list[Finding] = []
        figures: dict[str, bytes] = {}
        if info is None or reason is not None:
            assert reason is not None
            findings.append(not_applicable("video.frames", reason.reason_en, reason.reason_ko))
            findings.append(
                not_applicable("video.face_flicker", reason.reason_en, reason.reason_ko)
            )
        else:
            findings.extend(self._pixels(item.path, info, figures))
        if "container" in section:
            findings.append(encoder_finding(section, info))
            findings.append(creation_time_finding(section))
            findings.append(timing_finding(section, info))
            findings.append(frame_rate_finding(section, info))
            findings.append(edit_list_finding(item.path))
        else:
            why = "; ".join(str(w) for w in section.get("warnings", [])) or "no container"
            findings.append(
                not_applicable(
                    "video.container",
                    f"{item.path.name}: the container cannot be read: {why}",
                    f"{item.path.name}: 컨테이너를 읽을 수 없습니다: {why}",
                )
            )
        return DetectorResult(findings, figures)

    def _pixels(self, path: Path, info: StreamInfo, figures: dict[str, bytes]) -> list[Finding]:
        targets, interval, added = sample_targets(info)
        notes = list(info.notes)
        finder = self._faces()
        stats: list[FrameStats] = []
        try:
            for burst in decode_bursts(path, targets, info.fps, notes):
                stats.append(analyse_burst(burst, finder))
        except Exception as exc:  # the decoder library itself failed: keep what was analysed
            notes.append(f"decoding stopped: {type(exc).__name__}: {exc}")
        if not stats:
            why = "; ".join(notes) or "no frame could be decoded"
            return [
                not_applicable(
                    "video.frames",
                    f"{path.name}: no frame could be decoded ({why})",
                    f"{path.name}: 디코딩된 프레임이 없습니다 ({why})",
                ),
                not_applicable(
                    "video.face_flicker",
                    f"{path.name}: no frame could be decoded",
                    f"{path.name}: 디코딩된 프레임이 없습니다",
                ),
            ]
        sheet, plot = f"{self.name}-frames.png", f"{self.name}-timeline.png"
        figures[sheet] = contact_sheet(stats)
        figures[plot] = time_plot(stats, info.keyframes_s)
        per_frame = [
            {
                "time_s": s.time_s,
                "keyframe": s.key,
                "picture_type": s.pict_type,
                "noise_median_block_sd": s.noise_median,
                "noise_spread_p90_over_p10": s.noise_spread,
                "spectrum_tail_slope": s.tail_slope,
                "spectrum_tail_minus_mid": s.tail_minus_mid,
                "luma_mean": s.luma_mean,
                "faces": s.faces,
                "face_box": list(s.face_box) if s.face_box else None,
                "face_minus_frame": [[round(v, 4) for v in d] for d in s.face_diffs],
            }
            for s in stats
        ]
        noise = np.array([s.noise_median for s in stats])
        slope = np.array([s.tail_slope for s in stats])
        key_noise = [s.noise_median for s in stats if s.key]
        other_noise = [s.noise_median for s in stats if not s.key]
        summary = {
            "frames_analysed": len(stats),
            "noise_median_block_sd": {
                "median": round(float(np.median(noise)), 4),
                "min": round(float(noise.min()), 4),
                "max": round(float(noise.max()), 4),
            },
            "spectrum_tail_slope": {
                "median": round(float(np.median(slope)), 4),
                "min": round(float(slope.min()), 4),
                "max": round(float(slope.max()), 4),
            },
            "keyframe_minus_other_noise": round(
                float(np.median(key_noise) - np.median(other_noise)), 4
            )
            if key_noise and other_noise
            else None,
        }
        sampling = {
            "uniform_interval_s": round(interval, 3),
            "keyframes_added_s": added,
            "sample_points": len(targets),
            "burst": BURST,
            "width": info.width,
            "height": info.height,
            "fps": round(info.fps, 4) if info.fps else None,
            "duration_s": round(info.duration_s, 3) if info.duration_s else None,
            "keyframes": len(info.keyframes_s),
        }
        extra: dict[str, Any] = {"sampling": sampling, "frames": per_frame}
        if notes:
            extra["notes"] = notes
        frames_finding = Finding(
            "video.frames",
            STATUS_INFO,
            f"decoded frames (one every {interval:g} s plus keyframes, at most {MAX_SAMPLES}): "
            f"local noise level ({NOISE_MEDIAN}x{NOISE_MEDIAN} median residual, "
            f"{NOISE_BLOCK}x{NOISE_BLOCK} blocks) and the spectrum tail of the central "
            f"{CROP}x{CROP} luminance square",
            FRAMES_REF,
            summary,
            None,
            f"per-frame statistics of {len(stats)} frames for the examiner (contact sheet and "
            "time plot); no decision",
            f"검토자를 위한 프레임 {len(stats)}개의 프레임별 통계(밀착 인화와 시간 그래프)이며 "
            "판정은 하지 않습니다",
            "Video compression dominates these statistics: keyframes and predicted frames "
            "differ, scene changes and motion move them, and the spectrum of a decoded frame "
            "mostly shows the codec. Read them as a profile over time (a segment that differs "
            "from the rest), not as a score.",
            figures=[sheet, plot],
            extra=extra,
        )
        return [frames_finding, self._flicker_finding(stats, finder is not None, plot)]

    def _flicker_finding(self, stats: list[FrameStats], have_finder: bool, plot: str) -> Finding:
        signal = "video.face_flicker"
        if not have_finder:
            return not_applicable(
                signal,
                "no face detector is available (forensic.analysis.faces / OpenCV missing)",
                "얼굴 검출기를 사용할 수 없습니다(forensic.analysis.faces / OpenCV 없음)",
            )
        f = flicker(stats)
        found = sum(1 for s in stats if s.face_box is not None)
        if f is None:
            return not_applicable(
                signal,
                f"a face was found in {found} of {len(stats)} sampled frames; at least "
                f"{FACE_MIN_BURSTS} are needed for a temporal measure",
                f"표본 프레임 {len(stats)}개 중 {found}개에서 얼굴을 찾았습니다. 시간적 측정에는 "
                f"최소 {FACE_MIN_BURSTS}개가 필요합니다",
            )
        return Finding(
            signal,
            STATUS_INFO,
            f"per sampled frame and the {BURST - 1} frames after it: mean luminance, Cb, Cr "
            "and residual noise (4-neighbour high-pass) of the largest face's ellipse minus "
            "the whole frame's; value = 1.4826 x median absolute deviation of the "
            "frame-to-frame changes of the luminance difference (8-bit levels)",
            FLICKER_REF,
            f.luma,
            None,
            f"face-region flicker {f.luma:.3f} levels over {f.deltas} frame-to-frame changes "
            f"in {f.bursts} bursts: a measurement for the examiner, no decision (threshold "
            "and error rates not measured yet); high values mean the face region changes "
            "from frame to frame differently from the rest of the picture",
            f"얼굴 영역 깜박임 {f.luma:.3f} 단계({f.bursts}개 구간, 프레임 간 변화 "
            f"{f.deltas}개): 검토자를 위한 측정값이며 판정은 하지 않습니다(임계값과 오류율 "
            "미측정). 높은 값은 얼굴 영역이 화면의 나머지와 다르게 프레임마다 변한다는 뜻입니다",
            "Not calibrated: no threshold or error rate has been measured on real and "
            "face-swapped videos. Fast motion, talking, lighting flicker, occlusion, a wrong "
            "face box (CNN face locator) and heavy compression raise it too; good face swaps with "
            "temporal smoothing keep it low. Only frontal faces are found.",
            figures=[plot],
            extra={
                "cb": f.cb,
                "cr": f.cr,
                "noise": f.noise,
                "between_samples_luma": f.slow_luma,
                "bursts_with_face": f.bursts,
                "frames_with_face": found,
            },
        )
