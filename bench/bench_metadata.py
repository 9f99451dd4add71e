"""Benchmark the image metadata record: milliseconds per 12 MP JPEG.

    python bench/bench_metadata.py [--runs 20] [--photo PATH]

The test photo is generated: a reference photo (``../shared/datasets/pdq/bridge-mods/
aaa-orig.jpg`` by default) upscaled with Pillow to 4000x3000 and saved at quality 92 with a
camera's EXIF (incl. its thumbnail) from ``exif-samples/jpg/Canon_40D.jpg``. Each run clears the
per-file parse caches, so every run parses the file from scratch (warm page cache). Reported:
median and p90 of the whole record (every describer, as ``forensic analyze --metadata`` runs
them) and the median per describer. Also the baseline ``exiftool -j`` (one process per file,
start-up included) when exiftool is installed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATASETS = REPO.parent / "shared" / "datasets"


def make_photo(src: Path, exif_from: Path, out: Path) -> None:
    from PIL import Image

    with Image.open(exif_from) as cam:
        exif = cam.info.get("exif", b"")
    with Image.open(src) as im:
        big = im.convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS)
    big.save(out, "JPEG", quality=92, exif=exif)


def clear_caches() -> None:
    from forensic.media.image import containers, exif

    containers._parsed_jpeg.cache_clear()
    exif._parsed_exif.cache_clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--photo", type=Path, default=DATASETS / "pdq/bridge-mods/aaa-orig.jpg")
    args = parser.parse_args()
    from forensic.media.record import describe_path

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo-12mp.jpg"
        make_photo(args.photo, DATASETS / "exif-samples/jpg/Canon_40D.jpg", photo)
        print(f"test photo: 4000x3000 JPEG, {photo.stat().st_size / 1e6:.1f} MB")
        describe_path(photo)  # imports and first-call set-up are not timed
        totals: list[float] = []
        parts: dict[str, list[float]] = {}
        for _ in range(args.runs):
            clear_caches()
            t0 = time.perf_counter()
            rec = describe_path(photo)
            totals.append((time.perf_counter() - t0) * 1000)
            for name, info in rec["describers"].items():
                parts.setdefault(name, []).append(float(info["ms"]))
        totals.sort()
        p90 = totals[int(0.9 * (len(totals) - 1))]
        print(
            f"metadata record       median {statistics.median(totals):7.1f} ms   p90 {p90:7.1f} ms"
        )
        for name, values in parts.items():
            print(f"  {name:<20}median {statistics.median(values):7.1f} ms")
        if shutil.which("exiftool"):
            times = []
            for _ in range(min(args.runs, 5)):
                t0 = time.perf_counter()
                subprocess.run(["exiftool", "-j", str(photo)], capture_output=True, check=True)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"exiftool -j (baseline) median {statistics.median(times):7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
