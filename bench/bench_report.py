"""Benchmark ``forensic report``: pages, wall time and peak memory for 3, 33 and 1,000 items.

    python bench/bench_report.py [--counts 3,33,1000] [--dir /tmp] [--keep] [--repo CHECKOUT]

The page targets of the court report are checked on each row: one item <= 6 pages, 33 items
<= 45 pages, 1,000 items <= 1,100 pages and <= 60 s (``--repo`` runs another checkout, to
compare before and after).

Each case holds generated 640x480 JPEG images (smooth colour fields with noise: realistic JPEG
sizes, never real imagery), captured with the real CLI. The report (blurred previews, PDF/A-3b,
PAdES-B-T signature with the offline demo TSA) runs in a child process under ``/usr/bin/time -v``
so the peak resident set size of the whole process is measured, Python start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
PASS = "bench passphrase 1234"
#: (items, most pages, most seconds) the report must stay within
TARGETS = ((1, 6, None), (33, 45, None), (1000, 1100, 60.0))


def within_target(items: int, pages: int, seconds: float) -> bool:
    """Whether a row meets the target of the largest target size not above ``items``."""
    fitting = [t for t in TARGETS if t[0] <= items]
    if not fitting:
        return True
    _n, most_pages, most_seconds = fitting[-1]
    scale = items / _n
    return pages <= most_pages * max(scale, 1) and (
        most_seconds is None or seconds <= most_seconds * max(scale, 1)
    )


def forensic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forensic", *args],
        env=env,
        cwd=env.get("BENCH_REPO", REPO),
        capture_output=True,
        text=True,
        check=True,
    )


def make_images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(count)
    yy, xx = np.mgrid[0:480, 0:640]
    for n in range(count):
        base = rng.integers(0, 256, size=3)
        arr = (base + (xx[..., None] * 0.2 + yy[..., None] * 0.1)) % 256
        arr = arr + rng.normal(0, 12, size=arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        img.save(folder / f"img-{n:05d}.jpg", "JPEG", quality=88)


def run_one(root: Path, count: int, repo: Path = REPO) -> dict[str, float]:
    env = {
        **os.environ,
        "FORENSIC_HOME": str(root / "home"),
        "FORENSIC_PASSPHRASE": PASS,
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(repo),
        "BENCH_REPO": str(repo),
    }
    case = root / f"case-{count}"
    forensic(env, "init", str(case), "--case-id", f"B-{count}", "--title", "bench",
             "--examiner", "bench")  # fmt: skip
    if not (root / "home" / "examiner-cert.pem").exists():
        forensic(env, "key", "cert", "--name", "bench examiner")
    make_images(root / f"src-{count}", count)
    forensic(env, "capture", "--case", str(case), str(root / f"src-{count}"))
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "forensic", "report", "--case", str(case),
         "--demo-tsa", "--lang", "ko", "--json"],
        env=env, cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    pages = int(json.loads(proc.stdout)["report"]["pages"])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
    pdf = next((case / "reports").glob("*.pdf"))
    return {
        "items": count,
        "pages": pages,
        "seconds": wall,
        "peak_mib": rss / 1024,
        "pdf_mib": pdf.stat().st_size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="3,33,1000")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout to run")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="forensic-bench-report-", dir=args.dir))
    try:
        print("| items | pages | wall s | peak RSS MiB | PDF MiB | target |")
        print("|------:|------:|-------:|-------------:|--------:|:------:|")
        for count in (int(c) for c in args.counts.split(",")):
            r = run_one(root, count, args.repo.resolve())
            ok = "ok" if within_target(count, int(r["pages"]), r["seconds"]) else "MISSED"
            print(
                f"| {count} | {r['pages']:.0f} | {r['seconds']:.1f} | {r['peak_mib']:.0f} "
                f"| {r['pdf_mib']:.1f} | {ok} |",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
