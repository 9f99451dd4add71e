"""Benchmark the detection analysis: seconds per photo, in total and per detector.

    python bench/bench_analysis.py [--runs 5] [--megapixels 12] [--code DIR]
    python bench/bench_analysis.py --cluster N [--megapixels 2]   (N photos: local vs Dask)

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

``--cluster N`` times ``forensic analyze --detect --all`` on a case of N generated photos (CLI
start-up included) in this process, then with ``--executor dask://`` on a TLS
``distributed.LocalCluster`` of 1 and of 2 worker processes (one thread each) on 127.0.0.1,
and prints one JSON line: seconds and photos per second of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"


def make_photos(folder: Path, count: int, megapixels: float) -> None:
    """``count`` different photos: the reference upscaled, each with its own stamp of pixels."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(DATASETS / "pdq/bridge-mods/aaa-orig.jpg") as im:
        rgb = im.convert("RGB")
        scale = (megapixels * 1e6 / (rgb.width * rgb.height)) ** 0.5
        base = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)))
    for i in range(count):
        photo = base.copy()
        for k in range(8):
            bit = (i >> k) & 1
            photo.putpixel((k, 0), (255, 255, 255) if bit else (0, 0, 0))
        photo.save(folder / f"photo-{i:04d}.jpg", "JPEG", quality=92)


def cluster_bench(count: int, megapixels: float, code: Path) -> dict[str, float]:
    """Seconds of ``analyze --detect --all`` locally and on Dask with 1 and 2 workers."""
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    from forensic.analysis.cluster import CertFiles, make_certs
    from forensic.service.cluster import cluster_config

    out: dict[str, float] = {"photos": count, "megapixels": megapixels}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "FORENSIC_HOME": str(work / "home"), "PYTHONPATH": str(code),
               "FORENSIC_PASSPHRASE": "bench passphrase", "FORENSIC_LANG": "en"}  # fmt: skip
        py = [sys.executable, "-m", "forensic"]

        def run(*args: str) -> float:
            t0 = time.perf_counter()
            subprocess.run([*py, *args], env=env, check=True, capture_output=True)
            return time.perf_counter() - t0

        make_photos(work / "src", count, megapixels)
        case = str(work / "case")
        run("init", case, "--case-id", "B", "--title", "bench", "--examiner", "b")
        run("capture", str(work / "src"), "--case", case)
        out["local_s"] = run("analyze", "--detect", "--all", "--case", case)
        certs = work / "certs"
        make_certs(certs)
        files = {r: CertFiles.of(certs, r) for r in ("scheduler", "worker", "client")}
        sec = Security(require_encryption=True, tls_ca_file=str(certs / "ca.pem"),
                       **{f"tls_{r}_cert": str(f.cert) for r, f in files.items()},
                       **{f"tls_{r}_key": str(f.key) for r, f in files.items()})  # fmt: skip
        for workers in (1, 2):
            with dask.config.set(cluster_config()), LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, protocol="tls",
                host="127.0.0.1", security=sec, dashboard_address="127.0.0.1:0",
            ) as lc:  # fmt: skip
                spec = "dask://" + lc.scheduler_address.removeprefix("tls://")
                args = ("--all", "--case", case, "--executor", spec, "--certs", str(certs))
                out[f"dask_{workers}_s"] = run("analyze", "--detect", *args)
    for key in ("local", "dask_1", "dask_2"):
        out[f"{key}_photos_per_s"] = count / out[f"{key}_s"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--code", type=Path, default=REPO, help="checkout to import forensic from")
    ap.add_argument("--cluster", type=int, default=0, help="N photos: local vs Dask workers")
    args = ap.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    if args.cluster:
        print(json.dumps(cluster_bench(args.cluster, args.megapixels, args.code.resolve())))
        return 0
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
