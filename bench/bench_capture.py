"""Benchmark ``forensic capture`` and ``forensic verify`` against plain-tool baselines.

    python bench/bench_capture.py [--big-mib 2048] [--small-count 10000] [--dir /tmp] [--warm]

Cases: (a) one big file, (b) many small files (1-64 KiB). Baselines on the same data in the same
run: ``dd ... conv=fsync`` (a durable plain copy, for capture), ``openssl dgst -sha256`` and
``sha256sum`` (for verify). The page cache is dropped before each timed step where that is
allowed (root); otherwise the table says so.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIME_BIN = "/usr/bin/time"


def drop_caches() -> bool:
    subprocess.run(["sync"], check=False)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def timed(cmd: list[str], env: dict[str, str], cold: bool) -> tuple[float, int | None]:
    """Wall seconds and peak RSS (KiB) of ``cmd``."""
    if cold:
        drop_caches()
    use_time = os.access(TIME_BIN, os.X_OK)
    full = [TIME_BIN, "-v", *cmd] if use_time else cmd
    t0 = time.perf_counter()
    res = subprocess.run(full, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-2000:]}")
    rss: int | None = None
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
        rss = int(m.group(1)) if m else None
    return wall, rss


def make_big(path: Path, mib: int) -> None:
    rng = random.Random(1)
    with path.open("wb") as fh:
        for _ in range(mib):
            fh.write(rng.randbytes(1 << 20))


def make_small(folder: Path, count: int) -> int:
    rng = random.Random(2)
    folder.mkdir()
    total = 0
    for i in range(count):
        sub = folder / f"d{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        data = rng.randbytes(rng.randint(1 << 10, 64 << 10))
        (sub / f"f{i:06d}.bin").write_bytes(data)
        total += len(data)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--big-mib", type=int, default=2048)
    ap.add_argument("--small-count", type=int, default=10_000)
    ap.add_argument("--dir", default=None, help="where to put the data (default: a temp folder)")
    ap.add_argument("--warm", action="store_true", help="do not drop the page cache")
    ap.add_argument("--keep", action="store_true", help="keep the data afterwards")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="forensic-bench-", dir=args.dir))
    env = {
        **os.environ,
        "FORENSIC_HOME": str(work / "home"),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(REPO),
    }
    py = [sys.executable, "-m", "forensic"]
    cold = not args.warm
    can_drop = cold and drop_caches()
    rows: list[tuple[str, float, float | None, str, str]] = []
    rss_big: int | None = None
    try:
        big = work / "big.bin"
        make_big(big, args.big_mib)
        big_bytes = big.stat().st_size
        small = work / "small"
        small_bytes = make_small(small, args.small_count)

        def case(name: str) -> Path:
            path = work / name
            subprocess.run(
                [*py, "init", str(path), "--case-id", name, "--title", "bench", "--examiner", "b"],
                env=env,
                check=True,
                capture_output=True,
            )
            return path

        # (a) one big file --------------------------------------------------------------------
        dd_s, _ = timed(
            ["dd", f"if={big}", f"of={work / 'dd.copy'}", "bs=1M", "conv=fsync", "status=none"],
            env,
            cold,
        )
        (work / "dd.copy").unlink()
        ca = case("big-case")
        cap_s, rss_big = timed([*py, "capture", str(big), "--case", str(ca), "--json"], env, cold)
        ver_s, _ = timed([*py, "verify", "--no-record", "--json", "--case", str(ca)], env, cold)
        ossl_s, _ = timed(["openssl", "dgst", "-sha256", str(big)], env, cold)
        sha_s, _ = timed(["sha256sum", str(big)], env, cold)
        gb = big_bytes / 1e9
        rows += [
            (f"dd conv=fsync {args.big_mib} MiB", dd_s, gb / dd_s, "baseline", ""),
            ("capture big", cap_s, gb / cap_s, f"{dd_s / cap_s:.2f}x dd", "target >= 0.70x"),
            ("openssl dgst -sha256", ossl_s, gb / ossl_s, "baseline", ""),
            ("sha256sum", sha_s, gb / sha_s, f"{ossl_s / sha_s:.2f}x openssl", ""),
            ("verify big", ver_s, gb / ver_s, f"{ossl_s / ver_s:.2f}x openssl", "target >= 0.80x"),
        ]

        # (b) many small files ----------------------------------------------------------------
        files = sorted(str(p) for p in small.rglob("*.bin"))
        cp_dst = work / "cp.copy"
        cp_s, _ = timed(
            ["sh", "-c", f'cp -r "{small}" "{cp_dst}" && sync -f "{cp_dst}"'], env, cold
        )
        shutil.rmtree(cp_dst)
        cs = case("small-case")
        scap_s, rss_small = timed(
            [*py, "capture", str(small), "--case", str(cs), "--json"], env, cold
        )
        sver_s, _ = timed([*py, "verify", "--no-record", "--json", "--case", str(cs)], env, cold)
        lst = work / "files.txt"
        lst.write_text("\n".join(files) + "\n")
        sossl_s, _ = timed(
            ["sh", "-c", f'xargs -a "{lst}" openssl dgst -sha256 >/dev/null'], env, cold
        )
        ssha_s, _ = timed(["sh", "-c", f'xargs -a "{lst}" sha256sum >/dev/null'], env, cold)
        sgb = small_bytes / 1e9
        n = args.small_count
        rows += [
            (f"cp -r + sync, {n} files", cp_s, sgb / cp_s, f"{n / cp_s:,.0f} files/s", ""),
            (
                "capture small",
                scap_s,
                sgb / scap_s,
                f"{n / scap_s:,.0f} files/s; {cp_s / scap_s:.2f}x cp",
                "target >= 1,000 files/s",
            ),
            ("openssl dgst (xargs)", sossl_s, sgb / sossl_s, "baseline", ""),
            ("sha256sum (xargs)", ssha_s, sgb / ssha_s, f"{sossl_s / ssha_s:.2f}x openssl", ""),
            (
                "verify small",
                sver_s,
                sgb / sver_s,
                f"{n / sver_s:,.0f} files/s; {sossl_s / sver_s:.2f}x openssl",
                "",
            ),
        ]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nforensic benchmark: {os.cpu_count()} CPUs, data in {work}")
    print(
        "page cache: "
        + ("dropped before every step" if can_drop else "NOT dropped (needs root or --warm)")
    )
    print(f"{'step':34} {'seconds':>8} {'GB/s':>6}  {'ratio':<34} note")
    for name, secs, gbs, ratio, note in rows:
        print(f"{name:34} {secs:8.2f} {gbs or 0:6.2f}  {ratio:<34} {note}")
    if rss_big is not None:
        print(f"peak RSS capture big: {rss_big / 1024:.0f} MiB (target < 150 MB)")
    if rss_small is not None:
        print(f"peak RSS capture small: {rss_small / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
