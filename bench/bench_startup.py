"""Start-up time of the ``forensic`` command: what a person waits for on every invocation.

    python bench/bench_startup.py [--runs 10] [--repo PATH]

Times, each in a fresh child process (Python start-up included), the median of ``--runs`` runs
after one untimed warm-up run (page cache and bytecode warm):

- ``forensic --help`` (target <= 0.15 s): only the command line's own imports;
- ``forensic verify`` of a freshly made 3-item case (target <= 0.4 s): the examiner key is
  unlocked (Argon2id at the real 64 MiB profile, not the tests' cheap one), every object and
  log line is re-checked and the verification is recorded;
- ``forensic verify --no-record``, for reference: what a third party without the key runs.

``--repo`` times another checkout (e.g. the main branch, for a before/after figure) with the
same data. ``python -X importtime -m forensic --help`` shows which imports cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELP_TARGET = 0.15
VERIFY_TARGET = 0.4


def bench_env(home: Path, repo: Path) -> dict[str, str]:
    """The child's environment: its own examiner home, and the real key-derivation cost."""
    env = {
        **os.environ,
        "FORENSIC_HOME": str(home),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(repo),
    }
    env.pop("FORENSIC_ARGON2_MEMORY_KIB", None)  # the tests' cheap key profile
    env.pop("FORENSIC_CASE", None)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one run of ``cmd`` (which must succeed)."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-2000:]}")
    return wall


def median_of(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    """Every timed run, after one untimed warm-up."""
    run(cmd, env, cwd)
    return [run(cmd, env, cwd) for _ in range(runs)]


def make_case(work: Path, env: dict[str, str], cwd: Path) -> Path:
    """A new case holding three small files (a photo-sized one and two notes)."""
    src = work / "evidence"
    src.mkdir()
    (src / "photo.bin").write_bytes(os.urandom(256 * 1024))
    (src / "chat.txt").write_text("2026-11-20 21:14 [user_a] (photo)\n", "utf-8")
    (src / "notes.txt").write_text("saved from the group chat\n", "utf-8")
    case = work / "case"
    py = [sys.executable, "-m", "forensic"]
    init = [*py, "init", str(case), "--case-id", "BENCH-1", "--title", "start-up"]
    init += ["--examiner", "bench"]
    run(init, env, cwd)
    run([*py, "capture", str(src), "--case", str(case)], env, cwd)
    return case


def startup_rows(work: Path, repo: Path, runs: int) -> list[tuple[str, list[float], float | None]]:
    """(step, timed runs, target or None) for ``--help`` and ``verify`` of a 3-item case."""
    env = bench_env(work / "home", repo)
    py = [sys.executable, "-m", "forensic"]
    case = make_case(work, env, repo)
    verify = [*py, "verify", "--case", str(case)]
    return [
        ("forensic --help", median_of([*py, "--help"], env, repo, runs), HELP_TARGET),
        ("forensic verify, 3 items", median_of(verify, env, repo, runs), VERIFY_TARGET),
        ("forensic verify --no-record, 3 items", median_of([*verify, "--no-record"], env, repo,
                                                           runs), None),
    ]  # fmt: skip


def line(name: str, times: list[float], target: float | None) -> str:
    med = statistics.median(times)
    spread = f"({min(times):.3f}-{max(times):.3f})"
    verdict = ""
    if target is not None:
        verdict = f"target <= {target:.2f} s: " + ("ok" if med <= target else "OVER")
    return f"{name:38} {med:7.3f} s  {spread:15}  {verdict}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout to time (default: this one)")
    ap.add_argument("--dir", default=None, help="where to put the case (default: a temp folder)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="forensic-startup-", dir=args.dir))
    try:
        rows = startup_rows(work, args.repo.resolve(), args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nforensic start-up: {args.repo.resolve()}, {os.cpu_count()} CPUs")
    print(f"median of {args.runs} runs after one warm-up (min-max in brackets)")
    for name, times, target in rows:
        print(line(name, times, target))


if __name__ == "__main__":
    main()
