"""Benchmark ``forensic capture`` and ``forensic verify`` against plain-tool baselines.

    python bench/bench_capture.py [--big-mib 2048] [--small-count 10000] [--dir /tmp] [--warm]
    python bench/bench_capture.py --code ../main --code . --repeat 3   # branch vs base, same run

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
from collections.abc import Callable
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
    ap.add_argument(
        "--code",
        action="append",
        type=Path,
        help="checkout to run forensic from (repeat to compare branches in the same run)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each time is the best round")
    args = ap.parse_args()
    codes = [c.resolve() for c in (args.code or [REPO])]

    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # a new folder is made, not an error
    work = Path(tempfile.mkdtemp(prefix="forensic-bench-", dir=args.dir))
    env = {
        **os.environ,
        "FORENSIC_HOME": str(work / "home"),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
    }
    py = [sys.executable, "-m", "forensic"]
    cold = not args.warm
    can_drop = cold and drop_caches()
    best: dict[str, float] = {}
    rss: dict[str, int | None] = {}

    def keep(name: str, secs: float) -> None:
        best[name] = min(secs, best.get(name, secs))

    try:
        big = work / "big.bin"
        make_big(big, args.big_mib)
        big_bytes = big.stat().st_size
        small = work / "small"
        small_bytes = make_small(small, args.small_count)
        files = sorted(str(p) for p in small.rglob("*.bin"))
        lst = work / "files.txt"
        lst.write_text("\n".join(files) + "\n")
        for rnd in range(args.repeat):
            base_round(work, big, small, lst, env, cold, keep)
            for n, code in enumerate(codes):
                code_round(work, f"{rnd}-{n}", code, big, small, env, py, cold, keep, rss)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nforensic benchmark: {os.cpu_count()} CPUs, data in {work}, best of {args.repeat}")
    print(
        "page cache: "
        + ("dropped before every step" if can_drop else "NOT dropped (needs root or --warm)")
    )
    print_table(best, rss, codes, big_bytes / 1e9, small_bytes / 1e9, args)


def base_round(
    work: Path,
    big: Path,
    small: Path,
    lst: Path,
    env: dict[str, str],
    cold: bool,
    keep: Callable[[str, float], None],
) -> None:
    """One round of the plain tools on the same data."""
    keep("dd", timed(["dd", f"if={big}", f"of={work / 'dd.copy'}", "bs=1M", "conv=fsync",
                      "status=none"], env, cold)[0])  # fmt: skip
    (work / "dd.copy").unlink()
    keep("openssl", timed(["openssl", "dgst", "-sha256", str(big)], env, cold)[0])
    keep("sha256sum", timed(["sha256sum", str(big)], env, cold)[0])
    cp_dst = work / "cp.copy"
    keep("cp", timed(["sh", "-c", f'cp -r "{small}" "{cp_dst}" && sync -f "{cp_dst}"'], env,
                     cold)[0])  # fmt: skip
    shutil.rmtree(cp_dst)
    keep("sopenssl", timed(["sh", "-c", f'xargs -a "{lst}" openssl dgst -sha256 >/dev/null'],
                           env, cold)[0])  # fmt: skip
    keep("ssha", timed(["sh", "-c", f'xargs -a "{lst}" sha256sum >/dev/null'], env, cold)[0])


def code_round(
    work: Path,
    tag: str,
    code: Path,
    big: Path,
    small: Path,
    env: dict[str, str],
    py: list[str],
    cold: bool,
    keep: Callable[[str, float], None],
    rss: dict[str, int | None],
) -> None:
    """One round of forensic capture and verify (big, then small) from checkout ``code``."""
    env = {**env, "PYTHONPATH": str(code)}

    def case(name: str) -> Path:
        path = work / f"{name}-{tag}"
        subprocess.run(
            [*py, "init", str(path), "--case-id", name, "--title", "bench", "--examiner", "b"],
            env=env,
            check=True,
            capture_output=True,
        )
        return path

    for kind, src in (("big", big), ("small", small)):
        ca = case(f"{kind}-case")
        secs, rss[f"capture {kind} {code}"] = timed(
            [*py, "capture", str(src), "--case", str(ca)], env, cold
        )
        keep(f"capture {kind} {code}", secs)
        secs, _ = timed([*py, "verify", "--no-record", "--case", str(ca)], env, cold)
        keep(f"verify {kind} {code}", secs)
        shutil.rmtree(ca, ignore_errors=True)


def print_table(
    best: dict[str, float],
    rss: dict[str, int | None],
    codes: list[Path],
    gb: float,
    sgb: float,
    args: argparse.Namespace,
) -> None:
    dd, ossl, sha = best["dd"], best["openssl"], best["sha256sum"]
    cp, sossl, ssha = best["cp"], best["sopenssl"], best["ssha"]
    n = args.small_count
    rows: list[tuple[str, float, float | None, str, str]] = [
        (f"dd conv=fsync {args.big_mib} MiB", dd, gb / dd, "baseline", ""),
        ("openssl dgst -sha256", ossl, gb / ossl, "baseline", ""),
        ("sha256sum", sha, gb / sha, f"{ossl / sha:.2f}x openssl", ""),
        (f"cp -r + sync, {n} files", cp, sgb / cp, f"{n / cp:,.0f} files/s", ""),
        ("openssl dgst (xargs)", sossl, sgb / sossl, "baseline", ""),
        ("sha256sum (xargs)", ssha, sgb / ssha, f"{sossl / ssha:.2f}x openssl", ""),
    ]
    for code in codes:
        cap, ver = best[f"capture big {code}"], best[f"verify big {code}"]
        scap, sver = best[f"capture small {code}"], best[f"verify small {code}"]
        rows += [
            (f"capture big   [{code.name}]", cap, gb / cap, f"{dd / cap:.2f}x dd", ""),
            (f"verify big    [{code.name}]", ver, gb / ver, f"{ossl / ver:.2f}x openssl", ""),
            (f"capture small [{code.name}]", scap, sgb / scap,
             f"{n / scap:,.0f} files/s; {cp / scap:.2f}x cp", ""),
            (f"verify small  [{code.name}]", sver, sgb / sver,
             f"{n / sver:,.0f} files/s; {sossl / sver:.2f}x openssl", ""),
        ]  # fmt: skip
    print(f"{'step':34} {'seconds':>8} {'GB/s':>6}  {'ratio':<34} note")
    for name, secs, gbs, ratio, note in rows:
        print(f"{name:34} {secs:8.2f} {gbs or 0:6.2f}  {ratio:<34} {note}")
    for name, kib in rss.items():
        if kib is not None:
            print(f"peak RSS {name}: {kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
