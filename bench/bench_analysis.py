"""Benchmark the detection analysis: seconds per photo, in total and per detector.

    python bench/bench_analysis.py [--runs 5] [--megapixels 12] [--code DIR]

The test photo is generated: ``../shared/datasets/pdq/bridge-mods/aaa-orig.jpg`` upscaled with
Pillow to the given size and saved at JPEG quality 92. ``total`` is one call of
``forensic.analysis.store.analyze_path`` exactly as ``forensic analyze --detect`` makes it
(every registered detector, their JSON documents and PNG figures; the metadata record is
computed first, as when none is stored, and timed on its own line). The per-detector lines run
each applicable detector alone on a fresh item, so each pays its own decoding. Reported: median
and max wall time, the CPU time of the total (all threads: it does not grow when other programs load
the machine, the wall time does), and the peak RSS of the process. ``--code DIR`` imports
``forensic`` from another checkout (to compare a branch with its base in the same run: one
process each, so each peak RSS is its own).
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
DATASETS = REPO.parent / "shared" / "datasets"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--code", type=Path, default=REPO, help="checkout to import forensic from")
    args = ap.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from PIL import Image

    import forensic.capture  # noqa: F401  (import order of the media package)
    from forensic.analysis.interface import AnalysisInput
    from forensic.analysis.registry import detectors
    from forensic.analysis.store import analyze_path, run_detector
    from forensic.media.record import describe_path

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        with Image.open(DATASETS / "pdq/bridge-mods/aaa-orig.jpg") as im:
            w = round((args.megapixels * 1e6 * 4 / 3) ** 0.5)
            im.convert("RGB").resize((w, w * 3 // 4), Image.Resampling.LANCZOS).save(
                photo, "JPEG", quality=92
            )
        times: dict[str, list[float]] = {}
        cpu: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            meta = describe_path(photo)
            times.setdefault("metadata record", []).append(time.perf_counter() - t0)
            doc = {**meta["sections"], "item": {"media_type": meta["media_type"]}}
            t1, c1 = time.perf_counter(), time.process_time()
            analyze_path(photo, meta["media_type"], doc, "computed")
            times.setdefault("total (analyze_path)", []).append(time.perf_counter() - t1)
            cpu.append(time.process_time() - c1)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the "alone" runs
        for _ in range(args.runs):
            for det in detectors():
                if not det.accepts(meta["media_type"]):
                    continue
                t2 = time.perf_counter()
                run_detector(det, AnalysisInput(photo, meta["media_type"], doc))
                times.setdefault(f"  alone: {det.name}", []).append(time.perf_counter() - t2)
    print(f"{args.megapixels:g} MP JPEG q92, {args.runs} runs, code from {args.code}")
    for name, vals in times.items():
        print(f"  {name:24s} median {statistics.median(vals):6.2f} s   max {max(vals):6.2f} s")
    print(f"  CPU time of the total     median {statistics.median(cpu):6.2f} s")
    print(f"  peak RSS {rss:.0f} MiB (of the totals)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
