"""Peak memory and time of ``export --timeline`` and of the bag's CASE graph for a big chat.

    python bench/bench_timeline.py [--messages 60000] [--small 6000] [--dir /tmp] [--keep]

A Telegram Desktop JSON export of ``--messages`` messages (and one of ``--small`` for the
comparison) is captured into a fresh case; then, each in its own child process (the real CLI,
peak RSS from ``/usr/bin/time -v`` or ``getrusage``): the timeline as JSONL, as CSV, and the
bag export (whose ``case-uco.jsonld`` holds every message). Flat memory means the peak RSS of
the big export is about that of the small one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIME_BIN = "/usr/bin/time"


def make_export(root: Path, count: int) -> Path:
    """A Telegram JSON export with ``count`` messages from 50 senders (text of 20-120 chars)."""
    root.mkdir(parents=True)
    start = 1654411200
    with (root / "result.json").open("w", encoding="utf-8") as fh:
        fh.write('{"name": "Bench group", "type": "private_supergroup", "id": 1, "messages": [\n')
        for n in range(1, count + 1):
            text = f"메시지 {n} " + "보고 싶어 " * (2 + n % 12)
            msg = {
                "id": n,
                "type": "message",
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + 9 * 3600 + n)),
                "date_unixtime": str(start + n),
                "from": f"user {n % 50}",
                "from_id": f"user{n % 50}",
                "text": text,
                "text_entities": [{"type": "plain", "text": text}],
            }
            fh.write(("" if n == 1 else ",\n") + json.dumps(msg, ensure_ascii=False))
        fh.write("\n]}\n")
    return root


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of ``cmd``."""
    use_time = os.access(TIME_BIN, os.X_OK)
    full = [TIME_BIN, "-v", *cmd] if use_time else cmd
    t0 = time.perf_counter()
    res = subprocess.run(full, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-2000:]}")
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
        if m:
            return wall, int(m.group(1))
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def measure(work: Path, env: dict[str, str], count: int) -> list[str]:
    py = [sys.executable, "-m", "forensic"]
    case = work / f"case-{count}"
    subprocess.run(
        [*py, "init", str(case), "--case-id", f"B-{count}", "--title", "b", "--examiner", "b"],
        env=env,
        check=True,
        capture_output=True,
    )
    export = make_export(work / f"export-{count}", count)
    cap_s, cap_rss = run([*py, "capture", "--case", str(case), str(export)], env)
    lines = [f"{count:>7,} messages  capture {cap_s:6.1f} s  peak RSS {cap_rss / 1024:6.0f} MiB"]
    for fmt in ("jsonl", "csv"):
        target = work / f"timeline-{count}.{fmt}"
        wall, rss = run([*py, "export", "--case", str(case), "--timeline", str(target)], env)
        size = target.stat().st_size
        lines.append(
            f"{'':>16}timeline .{fmt:<5} {wall:6.1f} s  peak RSS {rss / 1024:6.0f} MiB"
            f"  file {size / 2**20:6.1f} MiB"
        )
    bag = work / f"bag-{count}"
    wall, rss = run([*py, "export", "--case", str(case), "--out", str(bag)], env)
    uco = (bag / "data" / "case-uco.jsonld").stat().st_size
    transcript = sum(p.stat().st_size for p in (bag / "data" / "transcripts").iterdir())
    lines.append(
        f"{'':>16}bag export     {wall:6.1f} s  peak RSS {rss / 1024:6.0f} MiB"
        f"  case-uco.jsonld {uco / 2**20:6.1f} MiB (transcript {transcript / 2**20:.1f} MiB)"
    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=60_000)
    ap.add_argument("--small", type=int, default=6_000, help="the comparison export's size")
    ap.add_argument("--dir", default=None, help="where to put the data (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the data afterwards")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="forensic-bench-timeline-", dir=args.dir))
    env = {
        **os.environ,
        "FORENSIC_HOME": str(work / "home"),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(REPO),
    }
    try:
        for count in (args.small, args.messages):
            for line in measure(work, env, count):
                print(line, flush=True)
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
