"""Benchmark perceptual hashing and video reading.

    python bench/bench_media_av.py [--seconds 20] [--jpegs 5] [--dir /tmp]

(a) PDQ per 12 MP JPEG (4000 x 3000, decode + hash), also the query side of ``forensic match``
(dihedral + crop windows); (b) per minute of 1080p30 H.264 video, generated here with PyAV:
metadata (container, streams, keyframes, 6 thumbnails, the ffprobe second reading when
ffprobe is on PATH) and vPDQ at one frame per second (the stored default) and every frame.
Peak RSS of the whole process is printed at the end (bounded memory: frames are dropped).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forensic.media.matching import read_query  # noqa: E402
from forensic.media.perceptual import pdq_image, vpdq_video  # noqa: E402
from forensic.media.video import probe_video  # noqa: E402

DATASETS = REPO.parent / "shared" / "datasets"


def make_jpeg(path: Path, seed: int) -> Path:
    """A 12 MP photo-like JPEG: a real photo scaled up, with sensor-like noise."""
    src = DATASETS / "exif-samples" / "jpg" / "Reconyx_HC500_Hyperfire.jpg"
    rng = np.random.default_rng(seed)
    if src.is_file():
        base = np.asarray(Image.open(src).convert("RGB").resize((4000, 3000), Image.BICUBIC))
    else:
        small = (rng.random((30, 40, 3)) * 255).astype(np.uint8)
        base = np.asarray(Image.fromarray(small).resize((4000, 3000), Image.BICUBIC))
    noisy = np.clip(base.astype(np.int16) + rng.integers(-6, 7, base.shape), 0, 255)
    Image.fromarray(noisy.astype(np.uint8)).save(path, "JPEG", quality=92)
    return path


def make_video(path: Path, seconds: int) -> Path:
    """1080p30 H.264 with moving content (so that every frame differs)."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
    stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
    yy, xx = np.mgrid[0:1080, 0:1920]
    y = (128 + 100 * np.sin(xx / 97) * np.cos(yy / 61)).astype(np.uint8)
    base = np.dstack([y, y[::-1], y.T[:1080, :1920] if y.shape[0] >= 1920 else y[:, ::-1]])
    for i in range(seconds * 30):
        frame = av.VideoFrame.from_ndarray(np.roll(base, (i * 7, i * 11), (0, 1)), "rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 30)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=int, default=20, help="clip length (results are scaled per minute)"
    )
    parser.add_argument("--jpegs", type=int, default=5, help="12 MP JPEGs to time")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        jpegs = [make_jpeg(root / f"p{n}.jpg", n) for n in range(args.jpegs)]
        times = []
        for path in jpegs:
            start = time.perf_counter()
            pdq_image(path)
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        read_query(jpegs[0])
        query_ms = (time.perf_counter() - start) * 1000
        print(
            f"PDQ per 12 MP JPEG (decode + hash): median {statistics.median(times):.0f} ms, "
            f"max {max(times):.0f} ms over {len(times)}"
        )
        print(f"match query photo (12 MP; 8 dihedral + 624 crop windows): {query_ms:.0f} ms")

        start = time.perf_counter()
        clip = make_video(root / "clip.mp4", args.seconds)
        print(
            f"generated {args.seconds} s of 1080p30 H.264 in {time.perf_counter() - start:.1f} s "
            f"({clip.stat().st_size / 1e6:.1f} MB)"
        )
        per_min = 60 / args.seconds
        start = time.perf_counter()
        meta = probe_video(clip, thumbnails=6)
        meta_s = time.perf_counter() - start
        assert not meta["warnings"], meta["warnings"]
        second = "with ffprobe second reading" if meta.get("ffprobe") else "no ffprobe on PATH"
        print(
            f"video metadata + keyframes + 6 thumbnails ({second}): "
            f"{meta_s * per_min:.2f} s per minute of 1080p"
        )
        start = time.perf_counter()
        frames, _ = vpdq_video(clip, seconds_per_hash=1.0)
        one_s = time.perf_counter() - start
        print(
            f"vPDQ, 1 frame per second ({len(frames)} hashes): "
            f"{one_s * per_min:.1f} s per minute of 1080p"
        )
        start = time.perf_counter()
        frames, _ = vpdq_video(clip, seconds_per_hash=0)
        every_s = time.perf_counter() - start
        print(f"vPDQ, every frame ({len(frames)} hashes): {every_s * per_min:.1f} s per minute")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss / 1024
    print(
        f"process CPU {usage.ru_utime + usage.ru_stime:.0f} s (all threads); compare with the "
        "wall times above to see how much of the machine the run had"
    )
    print(f"peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
