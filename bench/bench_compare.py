"""Time ``forensic compare`` per pair: a 12 MP original against a messenger copy with a region
replaced, decoding included (the item as the case stores it, the original as she gives it).

    python bench/bench_compare.py            # median of 5 pairs
    python bench/bench_compare.py --runs 3

Prints wall time per pair (decode both, align, map, PDQ, mask and figure), the CPU time and the
peak RSS. Both pictures are generated here from a real photo of ``../shared/datasets``,
up-scaled to 12 MP (4000 x 3000) when smaller.
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO.parent / "shared" / "datasets" / "camera-photos" / "Olympus E-10.jpg"


def pair(rng: np.random.Generator) -> tuple[bytes, bytes]:
    with Image.open(PHOTO) as im:
        big = im.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=92)
    rgb = np.asarray(big).copy()
    x, y = int(rng.integers(0, 3000)), int(rng.integers(0, 2000))
    rgb[y : y + 800, x : x + 900] = rgb[y : y + 800, x : x + 900][::-1, ::-1]
    small = Image.fromarray(rgb).resize((1280, 960), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=int(rng.integers(70, 86)))
    return buf.getvalue(), out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from forensic.analysis.compare import (
        compare_images,
        figure_png,
        mask_png,
        read_work_image,
    )

    rng = np.random.default_rng(1)
    walls, cpus = [], []
    for _ in range(args.runs):
        original, item = pair(rng)
        c0, t0 = time.process_time(), time.perf_counter()
        work_item = read_work_image(item)
        result = compare_images(read_work_image(original), work_item)
        if result.mask is not None:
            mask_png(result.mask)
            figure_png(work_item, result)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert result.aligned and result.regions, result.reason
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"compare per pair (12 MP original, 1280 px item): median {statistics.median(walls):.2f} s "
        f"wall, {statistics.median(cpus):.2f} s CPU; peak RSS {peak:.0f} MB ({args.runs} pairs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
