"""Benchmark the detection analysis: seconds per photo, per detector.

    python bench/bench_analysis.py [--runs 5] [--megapixels 12]

The test photo is generated: ``../shared/datasets/pdq/bridge-mods/aaa-orig.jpg`` upscaled with
Pillow to the given size and saved at JPEG quality 92. Each run analyses the file with every
registered detector exactly as ``forensic analyze --detect`` does (metadata record computed
first, as when none is stored). Reported: median and max wall time per detector and in total,
and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATASETS = REPO.parent / "shared" / "datasets"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--megapixels", type=float, default=12.0)
    args = ap.parse_args()
    from PIL import Image

    import forensic.capture  # noqa: F401  (import order of the media package)
    from forensic.analysis.interface import AnalysisInput
    from forensic.analysis.registry import detectors
    from forensic.analysis.store import run_detector
    from forensic.media.record import describe_path

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        with Image.open(DATASETS / "pdq/bridge-mods/aaa-orig.jpg") as im:
            w = round((args.megapixels * 1e6 * 4 / 3) ** 0.5)
            im.convert("RGB").resize((w, w * 3 // 4), Image.Resampling.LANCZOS).save(
                photo, "JPEG", quality=92
            )
        times: dict[str, list[float]] = {}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            meta = describe_path(photo)
            times.setdefault("metadata record", []).append(time.perf_counter() - t0)
            doc = {**meta["sections"], "item": {"media_type": meta["media_type"]}}
            item = AnalysisInput(photo, meta["media_type"], doc)
            for det in detectors():
                t1 = time.perf_counter()
                run_detector(det, item)
                times.setdefault(det.name, []).append(time.perf_counter() - t1)
            times.setdefault("total", []).append(time.perf_counter() - t0)
    print(f"{args.megapixels:g} MP JPEG q92, {args.runs} runs")
    for name, vals in times.items():
        print(f"  {name:16s} median {statistics.median(vals):6.2f} s   max {max(vals):6.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
