"""Start-up time of the ``forensic`` command: what a person waits for on every invocation.

    python bench/bench_startup.py [--runs 10] [--repo PATH]

Times, each in a fresh child process (Python start-up included), the median of ``--runs`` runs
after one untimed warm-up run (page cache and bytecode warm):

- ``forensic --help`` (target <= 0.15 s): only the command line's own imports;
- ``forensic verify`` of a freshly made 3-item case (target <= 0.4 s): the examiner key is
  unlocked (Argon2id at the real 64 MiB profile, not the tests' cheap one), every object and
  log line is re-checked and the verification is recorded;
- ``forensic verify --no-record``, for reference: what a third party without the key runs.

Bytecode is cached (as in an installed package) under the temp folder, whatever
``PYTHONDONTWRITEBYTECODE`` says: compiling the sources on every run is not start-up.

``--repo`` times another checkout (e.g. the main branch, for a before/after figure) with the
same data. ``python -X importtime -m forensic --help`` shows which imports cost.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELP_TARGET = 0.15
VERIFY_TARGET = 0.4


def bench_env(work: Path, repo: Path) -> dict[str, str]:
    """The child's environment: its own examiner home, the real key-derivation cost, and
    bytecode cached as an installed package has it (in ``work``, not in the checkout)."""
    env = {
        **os.environ,
        "FORENSIC_HOME": str(work / "home"),
        "FORENSIC_PASSPHRASE": "bench passphrase",
        "FORENSIC_LANG": "en",
        "PYTHONPATH": str(repo),
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    env.pop("FORENSIC_ARGON2_MEMORY_KIB", None)  # the tests' cheap key profile
    env.pop("FORENSIC_CASE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else every run compiles every module again
    return env


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    """user + system seconds of the child: steadier than wall time on a shared machine"""


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> Timing:
    """Wall and CPU seconds of one run of ``cmd`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def timed_runs(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[Timing]:
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


def startup_rows(work: Path, repo: Path, runs: int) -> list[tuple[str, list[Timing], float | None]]:
    """(step, timed runs, target or None) for ``--help`` and ``verify`` of a 3-item case."""
    env = bench_env(work, repo)
    py = [sys.executable, "-m", "forensic"]
    case = make_case(work, env, repo)
    verify = [*py, "verify", "--case", str(case)]
    return [
        ("forensic --help", timed_runs([*py, "--help"], env, repo, runs), HELP_TARGET),
        ("forensic verify, 3 items", timed_runs(verify, env, repo, runs), VERIFY_TARGET),
        ("forensic verify --no-record, 3 items", timed_runs([*verify, "--no-record"], env, repo,
                                                           runs), None),
    ]  # fmt: skip


def line(name: str, times: list[Timing], target: float | None) -> str:
    walls = [t.wall for t in times]
    med = statistics.median(walls)
    spread = f"({min(walls):.3f}-{max(walls):.3f})"
    cpu = f"cpu {statistics.median(t.cpu for t in times):.3f} s"
    verdict = ""
    if target is not None:
        verdict = f"target <= {target:.2f} s: " + ("ok" if med <= target else "OVER")
    return f"{name:38} {med:7.3f} s  {spread:15}  {cpu:13}  {verdict}"


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
    print(f"median wall time of {args.runs} runs after one warm-up (min-max), median CPU time")
    for name, times, target in rows:
        print(line(name, times, target))


if __name__ == "__main__":
    main()
