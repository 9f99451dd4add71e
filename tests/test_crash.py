"""Crash campaign: SIGKILL ``forensic capture`` at random moments, then prove the case.

After every kill the case must verify clean, or name only what the interrupted run left behind
(area ``interrupted`` or kind ``object_unrecorded``): never a broken chain or signature, never a
recorded object missing or altered. ``forensic recover`` must then make it verify clean and a
re-capture must succeed.

Half the kills fall at seeded random delays over the whole run; the other half fire the moment the
custody log grows past a random point, to land inside the log append phase.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from forensic._internal.canonical import parse_json_line
from forensic.custody.log import CustodyLog
from tests.conftest import Cli

ALLOWED_KINDS = {"object_unrecorded"}
FORBIDDEN_KINDS = {"object_missing", "object_altered"}


@dataclass
class Sources:
    big: Path
    folder: Path
    small_count: int


def _make_sources(root: Path, big_mib: int, small_count: int, seed: int) -> Sources:
    rng = random.Random(seed)
    big = root / "big.bin"
    with big.open("wb") as fh:
        for _ in range(big_mib):
            fh.write(rng.randbytes(1 << 20))
    folder = root / "many"
    folder.mkdir()
    for i in range(small_count):
        (folder / f"f{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(1, 16) << 10))
    return Sources(big, folder, small_count)


def _capture_cmd(case: Path, src: Sources) -> list[str]:
    return [
        sys.executable,
        "-m",
        "forensic",
        "capture",
        str(src.big),
        str(src.folder),
        "--case",
        str(case),
        "--json",
    ]


def _log_size(case: Path) -> int:
    try:
        return (case / "custody" / "log.jsonl").stat().st_size
    except FileNotFoundError:
        return 0


def _kill_after(case: Path, src: Sources, *, delay: float | None, log_growth: int | None) -> str:
    """Start a capture and SIGKILL it; returns 'finished' if it ended first, else 'killed'."""
    base = _log_size(case)
    proc = subprocess.Popen(
        _capture_cmd(case, src), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if delay is not None:
            try:
                proc.wait(timeout=delay)
                return "finished"
            except subprocess.TimeoutExpired:
                pass
        else:
            assert log_growth is not None
            deadline = time.monotonic() + 60
            while _log_size(case) < base + log_growth:
                if proc.poll() is not None:
                    return "finished"
                if time.monotonic() > deadline:
                    raise AssertionError("capture made no progress in 60 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return "killed" if proc.returncode == -signal.SIGKILL else "finished"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _verify(cli: Cli, case: Path) -> tuple[int, dict[str, object]]:
    res = cli("verify", "--no-record", "--json", "--case", case)
    assert res.exit_code in (0, 1), res.stderr
    doc = json.loads(res.stdout)
    assert isinstance(doc, dict)
    return res.exit_code, doc


def _check_committed_log(case: Path) -> int:
    lines = CustodyLog(case).committed_lines()
    for line in lines:
        obj = parse_json_line(line)
        assert isinstance(obj, dict) and "seq" in obj, line[:200]
    return len(lines)


def _outcome(problems: list[dict[str, str]]) -> str:
    kinds = sorted({p["kind"] for p in problems})
    return "clean" if not kinds else "+".join(kinds)


def _campaign(tmp_path: Path, cli: Cli, *, kills: int, big_mib: int, small: int, seed: int) -> None:
    src_root = tmp_path / "src"
    src_root.mkdir()
    src = _make_sources(src_root, big_mib, small, seed)
    expected_items = 1 + small

    # Reference run: how long an uninterrupted capture takes on this machine.
    ref_case = tmp_path / "ref-case"
    assert (
        cli("init", ref_case, "--case-id", "REF", "--title", "t", "--examiner", "e").exit_code == 0
    )
    t0 = time.monotonic()
    ref = subprocess.run(_capture_cmd(ref_case, src), capture_output=True, text=True, check=False)
    full = time.monotonic() - t0
    assert ref.returncode == 0, ref.stderr
    ref_log = _log_size(ref_case)

    rng = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    killed = 0
    n = -1
    while killed < kills:
        n += 1
        assert n < kills * 2, f"only {killed} of {n} runs were killed: {outcomes}"
        case = tmp_path / f"case-{n}"
        assert (
            cli("init", case, "--case-id", f"C-{n}", "--title", "t", "--examiner", "e").exit_code
            == 0
        )
        if n % 2 == 0:
            how = _kill_after(case, src, delay=rng.uniform(0.15, 1.05) * full, log_growth=None)
        else:
            growth = rng.randint(1, max(2, ref_log - _log_size(case)))
            how = _kill_after(case, src, delay=None, log_growth=growth)
        killed += how == "killed"

        code, doc = _verify(cli, case)
        problems = doc["problems"]
        assert isinstance(problems, list)
        bad = [p for p in problems if p["area"] != "interrupted" and p["kind"] not in ALLOWED_KINDS]
        assert not bad, f"kill {n} ({how}): {len(bad)} problems, first {bad[:3]}"
        assert not [p for p in problems if p["kind"] in FORBIDDEN_KINDS]
        assert (code == 0) == (not problems)
        for p in problems:
            if p["kind"] == "run_interrupted":
                # The leftover names the run and what it was capturing.
                assert str(src.big) in p["detail"] and "capture run-" in p["detail"], p
        _check_committed_log(case)
        outcomes[f"{how}:{_outcome(problems)}"] += 1

        rec = cli("recover", "--json", "--case", case)
        assert rec.exit_code == 0, rec.stderr
        code, doc = _verify(cli, case)
        assert code == 0, f"kill {n}: after recover {doc['problems']}"
        if problems:
            actions = [json.loads(line)["action"] for line in CustodyLog(case).committed_lines()]
            assert "recover" in actions

        again = cli("capture", src.big, src.folder, "--case", case, "--json")
        assert again.exit_code == 0, again.stderr
        code, doc = _verify(cli, case)
        assert code == 0, doc["problems"]
        assert doc["items"] == expected_items

    summary = ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items()))
    print(f"\ncrash campaign: {n + 1} runs, {killed} killed, full run {full:.2f}s: {summary}")


def test_crash_campaign(tmp_path: Path, cli: Cli) -> None:
    _campaign(tmp_path, cli, kills=20, big_mib=16, small=300, seed=1)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("FORENSIC_SLOW"), reason="about 5 minutes; set FORENSIC_SLOW=1 to run"
)
def test_crash_campaign_large(tmp_path: Path, cli: Cli) -> None:
    big = int(os.environ.get("FORENSIC_CRASH_BIG_MIB", "192"))
    _campaign(tmp_path, cli, kills=60, big_mib=big, small=1500, seed=7)
