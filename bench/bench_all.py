"""The whole benchmark suite behind ``bench/run``: one table, every ratio against a baseline
measured in the same run on the same data.

| forensic step                 | baselines                                             |
|-------------------------------|-------------------------------------------------------|
| capture, one big file         | dd bs=1M conv=fsync (durable copy), sha256sum, hashdeep |
| capture, many small files     | cp -r + sync, sha256sum, hashdeep -r                    |
| verify (big / small)          | openssl dgst -sha256, sha256sum, hashdeep               |
| peak RSS                      | /usr/bin/time -v of each forensic step                  |
| tamper verify per case        | the case's own verify.sh (POSIX sh + openssl)           |
| analysis of one 12 MP photo   | ImageMagick error level analysis of the same photo      |
|                               | (re-save at q90 + compare), and the 2 s target          |
| report per 1,000 items        | ImageMagick contact sheets (PNG) of the same images    |
|                               | (blurred 160 px thumbnails, the nearest plain tool)     |
| start-up: --help, verify of   | the targets (<= 0.15 s, <= 0.4 s), medians of warm runs |
| a 3-item case                 | (bench/bench_startup.py)                                |

bench/bench_capture.py stays the focused capture/verify benchmark; this suite reuses its helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_capture import REPO, drop_caches, make_big, make_small, timed

Row = tuple[str, float, str, str]


def magick() -> list[str]:
    """ImageMagick 7 (``magick``) or 6 (``convert``/``compare``), whichever is installed."""
    return ["magick"] if shutil.which("magick") else []


def analysis_rows(
    work: Path,
    env: dict[str, str],
    py: list[str],
    cold: bool,
    rss: dict[str, int | None],
    case: Callable[[str], Path],
    megapixels: float,
) -> list[Row]:
    """``forensic analyze --detect`` on one generated photo (a reference photo upscaled; CLI
    start-up and the key unlock included) against a plain ImageMagick error level analysis."""
    from PIL import Image

    ref = REPO.parent / "shared" / "datasets" / "pdq" / "bridge-mods" / "aaa-orig.jpg"
    if not ref.exists():
        return [("analysis per image", 0.0, "n/a", f"skipped: {ref} absent")]
    photo = work / "photo.jpg"
    with Image.open(ref) as im:
        rgb = im.convert("RGB")
        scale = (megapixels * 1e6 / (rgb.width * rgb.height)) ** 0.5
        size = (round(rgb.width * scale), round(rgb.height * scale))
        rgb.resize(size, Image.Resampling.LANCZOS).save(photo, "JPEG", quality=92)
    ca = case("case-analysis")
    subprocess.run([*py, "capture", str(photo), "--case", str(ca)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    secs, rss["analysis 1 photo"] = timed([*py, "analyze", "--detect", "--all", "--case",
                                           str(ca)], env, cold)  # fmt: skip
    im = magick()
    convert = [*im, "convert"] if im else ["convert"]
    compare = [*im, "compare"] if im else ["compare"]
    ela = work / "ela.jpg"
    base = timed([*convert, str(photo), "-quality", "90", str(ela)], env, cold)[0]
    base += timed(["sh", "-c", " ".join([*compare, "-metric", "AE", "-fuzz", "5%", str(photo),
                                         str(ela), str(work / "ela-diff.png"), "|| true"])],
                  env, cold)[0]  # fmt: skip
    mp = f"{size[0] * size[1] / 1e6:.1f} MP"
    return [
        (f"analysis, one {mp} photo", secs, f"{base / secs:.2f}x ImageMagick ELA",
         f"ELA {base:.2f} s; target <= 2 s: {2.0 / secs:.2f}x"),
    ]  # fmt: skip


def cluster_rows(env: dict[str, str], photos: int) -> list[Row]:
    """``analyze --detect`` of ``photos`` 2 MP photos in one process against a TLS Dask
    cluster of 1 and 2 worker processes on this machine (bench_analysis.py --cluster)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return [("analysis on Dask", 0.0, "n/a", "skipped: distributed not installed")]
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_analysis.py"), "--cluster", str(photos),
         "--megapixels", "2"], env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    got = json.loads(done.stdout.strip().splitlines()[-1])
    local = got["local_s"]
    rows: list[Row] = [
        (f"analysis, {photos} photos, local", local, "1.00x", f"{photos / local:.2f} photos/s")
    ]
    for w in (1, 2):
        secs = got[f"dask_{w}_s"]
        rows.append((f"analysis, {photos} photos, dask x{w}", secs, f"{local / secs:.2f}x local",
                     f"{photos / secs:.2f} photos/s"))  # fmt: skip
    return rows


def face_rows() -> list[Row]:
    """Face location + descriptors of one generated 12 MP photo (bench/eval_faces.py); the
    target: at most 2 s a photo, so 10,000 captured images take under six hours on 2 cores."""
    ref = REPO.parent / "shared" / "datasets" / "exif-samples" / "jpg" / "exif-org"
    if not (ref / "kodak-dc210.jpg").exists():
        return [("faces per 12 MP photo", 0.0, "n/a", "skipped: reference data absent")]
    sys.path.insert(0, str(REPO / "bench"))
    from eval_faces import bench_12mp

    got = bench_12mp()
    secs = float(got["wall_s_median"])
    return [
        ("faces per 12 MP photo", secs, f"{2.0 / secs:.2f}x the 2 s target",
         f"{got['faces']} faces located and described (dlib CNN + HOG, ResNet)"),
    ]  # fmt: skip


def report_rows(
    work: Path,
    env: dict[str, str],
    py: list[str],
    cold: bool,
    rss: dict[str, int | None],
    case: Callable[[str], Path],
    count: int,
) -> list[Row]:
    """``forensic report`` (blurred previews, PDF/A-3b, signed, demo TSA) for ``count`` images
    against ImageMagick making PNG contact sheets of the same blurred thumbnails (its PDF
    writer is disabled by Debian's policy)."""
    from bench_report import make_images

    src = work / "report-src"
    make_images(src, count)
    cr = case("case-report")
    subprocess.run([*py, "capture", str(src), "--case", str(cr)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    if not (Path(env["FORENSIC_HOME"]) / "examiner-cert.pem").exists():
        subprocess.run([*py, "key", "cert", "--name", "bench examiner"], env=env, check=True,
                       capture_output=True)  # fmt: skip
    secs, rss["report"] = timed([*py, "report", "--case", str(cr), "--demo-tsa", "--lang", "ko"],
                                env, cold)  # fmt: skip
    im = magick()
    montage = [*im, "montage"] if im else ["montage"]
    # one sheet of 24 per run: a single montage of 1,000 pictures exhausts ImageMagick's cache
    sheets = work / "sheets"
    sheets.mkdir()
    script = (
        f'ls "{src}"/*.jpg | xargs -n 24 sh -c \'{" ".join(montage)} "$@" -thumbnail 160x160 '
        f'-blur 0x8 -tile 4x6 -geometry +4+4 "$0/sheet-$(basename "$1").png"\' "{sheets}"'
    )
    base = timed(["sh", "-c", script], env, cold)[0]
    per = 1000 / count
    return [
        (f"report, {count:,} items", secs, f"{base / secs:.2f}x ImageMagick montage",
         f"{secs * per:.1f} s per 1,000 items"),
    ]  # fmt: skip


def startup_table_rows(work: Path, runs: int) -> list[Row]:
    """``forensic --help`` and ``forensic verify`` of a 3-item case against their targets
    (warm: medians of ``runs`` runs each, see bench/bench_startup.py)."""
    from bench_startup import startup_rows

    folder = work / "startup"
    folder.mkdir()
    rows: list[Row] = []
    for name, times, target in startup_rows(folder, REPO, runs):
        med = statistics.median(t.wall for t in times)
        ratio = f"{target / med:.2f}x target" if target else "-"
        note = f"median of {len(times)} warm runs" + (f"; target <= {target} s" if target else "")
        rows.append((name, med, ratio, note))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--big-mib", type=int, default=2048)
    ap.add_argument("--small-count", type=int, default=10_000)
    ap.add_argument("--small", action="store_true", help="quick sizes: 64 MiB, 500 files")
    ap.add_argument("--megapixels", type=float, default=12.0, help="analysis photo size")
    ap.add_argument("--report-items", type=int, default=1000)
    ap.add_argument("--startup-runs", type=int, default=10, help="runs per start-up median")
    ap.add_argument("--dir", default=None, help="work folder (created when missing)")
    ap.add_argument("--cluster-photos", type=int, default=20, help="photos for the Dask rows")
    ap.add_argument("--warm", action="store_true", help="do not drop the page cache")
    args = ap.parse_args()
    if args.small:
        args.big_mib, args.small_count, args.report_items = 64, 500, 100
        args.startup_runs = 5
    if args.dir is not None:
        try:
            Path(args.dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SystemExit(
                f"bench/run: --dir {args.dir}: cannot be created ({exc.strerror})"
            ) from None
    hashdeep = shutil.which("hashdeep")
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # a new folder is made, not an error
    work = Path(tempfile.mkdtemp(prefix="forensic-benchall-", dir=args.dir))
    env = {
        **os.environ,
        "FORENSIC_HOME": str(work / "home"),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(REPO),
    }
    py = [sys.executable, "-m", "forensic"]
    cold = not args.warm
    dropped = cold and drop_caches()
    rows: list[Row] = []
    rss: dict[str, int | None] = {}

    def t(cmd: list[str]) -> float:
        return timed(cmd, env, cold)[0]

    def sh(script: str) -> float:
        return t(["sh", "-c", script])

    try:
        big = work / "big.bin"
        make_big(big, args.big_mib)
        small = work / "small"
        n = args.small_count
        make_small(small, n)
        lst = work / "files.txt"
        lst.write_text("\n".join(sorted(str(p) for p in small.rglob("*.bin"))) + "\n")

        def case(name: str) -> Path:
            path = work / name
            subprocess.run(
                [*py, "init", str(path), "--case-id", name, "--title", "bench", "--examiner", "b"],
                env=env,
                check=True,
                capture_output=True,
            )
            return path

        # Big file ---------------------------------------------------------------------------
        dd = t(["dd", f"if={big}", f"of={work / 'dd.copy'}", "bs=1M", "conv=fsync", "status=none"])
        (work / "dd.copy").unlink()
        ossl = t(["openssl", "dgst", "-sha256", str(big)])
        sha = t(["sha256sum", str(big)])
        hd = t([hashdeep, "-c", "sha256", str(big)]) if hashdeep else None
        cb = case("case-big")
        cap, rss["capture big"] = timed([*py, "capture", str(big), "--case", str(cb)], env, cold)
        ver, rss["verify big"] = timed([*py, "verify", "--no-record", "--case", str(cb)], env, cold)
        label = f"{args.big_mib} MiB file"
        rows += [
            (f"capture {label}", cap, f"{dd / cap:.2f}x dd conv=fsync", f"dd {dd:.2f} s"),
            (f"capture {label}", cap, f"{sha / cap:.2f}x sha256sum", f"sha256sum {sha:.2f} s"),
        ]
        if hd:
            rows.append(
                (f"capture {label}", cap, f"{hd / cap:.2f}x hashdeep", f"hashdeep {hd:.2f} s")
            )
        rows += [
            (f"verify {label}", ver, f"{ossl / ver:.2f}x openssl dgst", f"openssl {ossl:.2f} s"),
            (f"verify {label}", ver, f"{sha / ver:.2f}x sha256sum", ""),
        ]
        if hd:
            rows.append((f"verify {label}", ver, f"{hd / ver:.2f}x hashdeep", ""))

        # Many small files -------------------------------------------------------------------
        cp = sh(f'cp -r "{small}" "{work / "cp.copy"}" && sync -f "{work / "cp.copy"}"')
        shutil.rmtree(work / "cp.copy")
        sossl = sh(f'xargs -a "{lst}" openssl dgst -sha256 >/dev/null')
        ssha = sh(f'xargs -a "{lst}" sha256sum >/dev/null')
        shd = t([hashdeep, "-r", "-c", "sha256", str(small)]) if hashdeep else None
        cs = case("case-small")
        scap, rss["capture small"] = timed(
            [*py, "capture", str(small), "--case", str(cs)], env, cold
        )
        sver, rss["verify small"] = timed(
            [*py, "verify", "--no-record", "--case", str(cs)], env, cold
        )
        label = f"{n:,} small files"
        rows += [
            (
                f"capture {label}",
                scap,
                f"{cp / scap:.2f}x cp -r + sync",
                f"{n / scap:,.0f} files/s",
            ),
            (f"capture {label}", scap, f"{ssha / scap:.2f}x sha256sum", ""),
        ]
        if shd:
            rows.append((f"capture {label}", scap, f"{shd / scap:.2f}x hashdeep", ""))
        rows += [
            (
                f"verify {label}",
                sver,
                f"{sossl / sver:.2f}x openssl dgst",
                f"{n / sver:,.0f} files/s",
            ),
            (f"verify {label}", sver, f"{ssha / sver:.2f}x sha256sum", ""),
        ]
        if shd:
            rows.append((f"verify {label}", sver, f"{shd / sver:.2f}x hashdeep", ""))

        # verify.sh (no Python) against forensic verify on the same case ---------------------
        vsh = t(["sh", str(cs / "verify.sh"), str(cs)])
        rows.append(
            (f"verify.sh {label}", vsh, f"{sver / vsh:.2f}x forensic verify", "POSIX sh + openssl")
        )
        # Analysis of one photo, report per 1,000 items -------------------------------------
        rows += analysis_rows(work, env, py, cold, rss, case, args.megapixels)
        rows += cluster_rows(env, args.cluster_photos)
        rows += report_rows(work, env, py, cold, rss, case, args.report_items)
        rows += face_rows()
        rows += startup_table_rows(work, args.startup_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cache = "cold cache (dropped before each step)" if dropped else "WARM cache (could not drop)"
    print(f"\nforensic bench/run: {os.cpu_count()} CPUs, {cache}")
    print(f"{'step':32} {'seconds':>8}  {'ratio (>1 = forensic faster)':<30} note")
    for name, secs, ratio, note in rows:
        s = f"{secs:8.2f}" if secs else f"{'-':>8}"
        print(f"{name:32} {s}  {ratio:<30} {note}")
    for name, kib in rss.items():
        if kib:
            print(f"peak RSS {name:23} {kib / 1024:8.0f} MiB")


if __name__ == "__main__":
    main()
