"""Fault campaign for export and timestamp (capture kills live in tests/test_crash.py).

* SIGKILL of ``forensic export`` and ``forensic timestamp`` (against a local RFC 3161 TSA served
  by ``openssl ts``) at seeded random moments. After each kill: ``forensic verify`` passes or
  names only what the interrupted step left behind (area ``interrupted``); never a broken chain
  or signature, never an object lost; the destination is either absent or a complete bag that its
  own verify.sh accepts; ``forensic recover`` then makes the case verify clean and the step
  succeeds when run again.
* Two writers at once: both wait for the lock, both entries land, the log verifies.
* The clock going backwards: entries are still chained and signed, verify passes (local time is
  never trusted, docs/format.md §12).

CI runs a few kills of each; ``FORENSIC_SLOW=1`` runs 30 of each (``FORENSIC_FAULT_N`` sets it).
``FORENSIC_FAULT_REPORT=path`` appends the results table.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.test_timestamp import Pki, TsaServer, pki, tsa_server  # noqa: F401 - fixtures

SLOW = os.environ.get("FORENSIC_SLOW") == "1"
KILLS = int(os.environ.get("FORENSIC_FAULT_N", "30" if SLOW else "4"))
SEED = int(os.environ.get("FORENSIC_FAULT_SEED", "7"))


def _forensic(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "forensic", *[os.fspath(a) for a in args]]


def _verify(case: Path) -> dict:
    res = subprocess.run(
        _forensic("verify", "--case", case, "--no-record", "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout)


def _timed(cmd: list[str]) -> float:
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    return time.monotonic() - start


def _kill_at(cmd: list[str], delay: float) -> str:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
        return "finished"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return "killed"


def _after_kill(case: Path, items: int) -> list[str]:
    """Check the case after a kill; returns the kinds of (allowed) leftovers it named."""
    doc = _verify(case)
    bad = [p for p in doc["problems"] if p["area"] != "interrupted"]
    assert not bad, bad
    assert doc["items"] == items and doc["objects_intact"], doc
    return sorted({p["kind"] for p in doc["problems"]})


def _recover_and_check(case: Path) -> None:
    res = subprocess.run(
        _forensic("recover", "--case", case), capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert _verify(case)["intact"]


@pytest.fixture
def small_case(tmp_path: Path, cli: Cli) -> tuple[Path, int]:
    case = tmp_path / "case"
    assert cli("init", case, "--case-id", "F-1", "--title", "t", "--examiner", "E").exit_code == 0
    src = tmp_path / "src"
    src.mkdir()
    rng = random.Random(SEED)
    for i in range(40):
        (src / f"f{i:02d}.bin").write_bytes(rng.randbytes(rng.randint(1, 64) << 10))
    (src / "big.bin").write_bytes(rng.randbytes(24 << 20))
    assert cli("capture", src, "--case", case).exit_code == 0
    return case, 41


def _report(rows: list[str]) -> None:
    text = "\n".join(rows) + "\n"
    print(text)
    target = os.environ.get("FORENSIC_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(text)


def _bag_ok(dest: Path) -> bool:
    from tests.conftest import REPO

    res = subprocess.run(
        ["sh", str(REPO / "templates" / "export" / "verify.sh"), str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return res.returncode == 0


def test_sigkill_export(small_case: tuple[Path, int], tmp_path: Path) -> None:
    case, items = small_case
    rng = random.Random(SEED)
    full = _timed(_forensic("export", "--case", case, "--out", tmp_path / "calibrate"))
    killed = finished = 0
    leftovers: dict[str, int] = {}
    complete_dest = 0
    for n in range(KILLS):
        dest = tmp_path / f"bag{n}"
        outcome = _kill_at(
            _forensic("export", "--case", case, "--out", dest), rng.uniform(0.05, full)
        )
        killed += outcome == "killed"
        finished += outcome == "finished"
        for kind in _after_kill(case, items):
            leftovers[kind] = leftovers.get(kind, 0) + 1
        if dest.exists():
            # Never a half bag under the final name: it is complete or absent.
            assert _bag_ok(dest), f"partial bag at {dest} after a kill"
            complete_dest += 1
        _recover_and_check(case)
    again = subprocess.run(
        _forensic("export", "--case", case, "--out", tmp_path / "final"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert _bag_ok(tmp_path / "final")
    _report(
        [
            f"| export | {KILLS} | {killed} | {finished} | "
            f"{', '.join(f'{k} x{v}' for k, v in sorted(leftovers.items())) or 'none'} | "
            f"all verify; recover then clean; bag complete ({complete_dest}) or absent |"
        ]
    )
    assert killed >= KILLS // 2


def test_sigkill_timestamp(
    small_case: tuple[Path, int],
    tmp_path: Path,
    tsa_server: TsaServer,  # noqa: F811 - fixture imported above
    pki: Pki,  # noqa: F811
) -> None:
    case, items = small_case
    rng = random.Random(SEED + 1)
    root = pki.root
    cmd = _forensic("timestamp", "--case", case, "--tsa", tsa_server.url("ok"), "--tsa-root", root)
    full = _timed(cmd)
    killed = finished = 0
    leftovers: dict[str, int] = {}
    for _ in range(KILLS):
        outcome = _kill_at(cmd, rng.uniform(0.05, full))
        killed += outcome == "killed"
        finished += outcome == "finished"
        for kind in _after_kill(case, items):
            leftovers[kind] = leftovers.get(kind, 0) + 1
        _recover_and_check(case)
        doc = _verify(case)
        assert doc["timestamps_intact"], doc
    assert _timed(cmd) > 0
    _report(
        [
            f"| timestamp | {KILLS} | {killed} | {finished} | "
            f"{', '.join(f'{k} x{v}' for k, v in sorted(leftovers.items())) or 'none'} | "
            f"all verify; recover then clean; tokens verify |"
        ]
    )
    assert killed >= KILLS // 2


def test_two_writers_at_once(small_case: tuple[Path, int]) -> None:
    case, _ = small_case
    env = {**os.environ, "FORENSIC_LOCK_TIMEOUT": "60"}
    procs = [
        subprocess.Popen(
            _forensic("note", f"writer {i}", "--case", case),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for i in range(4)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    doc = _verify(case)
    assert doc["intact"], doc["problems"]
    lines = (case / "custody" / "log.jsonl").read_bytes().split(b"\n")[:-1]
    notes = [json.loads(x)["details"]["text"] for x in lines if b'"action":"note"' in x]
    assert sorted(notes) == [f"writer {i}" for i in range(4)]


def test_clock_going_backwards(
    small_case: tuple[Path, int], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forensic._internal.clock as clock

    case, _ = small_case
    moments = iter(
        datetime(2026, 11, 24, 12, tzinfo=UTC) - timedelta(days=400 * i) for i in range(1000)
    )
    monkeypatch.setattr(clock, "now", lambda: next(moments))
    for text in ("after the capture", "clock went back a year", "and again"):
        assert cli("note", text, "--case", case).exit_code == 0
    lines = (case / "custody" / "log.jsonl").read_bytes().split(b"\n")[:-1]
    times = [json.loads(x)["time"] for x in lines[-3:]]
    assert times == sorted(times, reverse=True), times  # really went backwards
    res = cli("verify", "--case", case, "--no-record", "--json")
    assert res.exit_code == 0, res.stdout
    log = cli("log", "--case", case, "--json")
    assert log.exit_code == 0 and "clock went back a year" in log.stdout
