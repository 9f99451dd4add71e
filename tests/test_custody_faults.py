"""Custody log faults: an interrupted group commit, and a failed append, never read as tampering."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from forensic.custody import log as custody_log
from tests.conftest import Cli


def _verify(cli: Cli, case_dir: Path) -> dict[str, object]:
    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    doc: dict[str, object] = json.loads(res.stdout)
    return doc


def test_interrupted_multi_line_commit_is_interrupted_not_tampering(
    tmp_path: Path, cli: Cli, case_dir: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for n in range(4):
        (src / f"f{n}.bin").write_bytes(os.urandom(100))
    assert cli("capture", "--case", case_dir, src).exit_code == 0
    sig = case_dir / "custody" / "log.sig"
    lines = sig.read_bytes().splitlines(keepends=True)
    sig.write_bytes(b"".join(lines[:-3]))  # the last three signatures never reached the disk
    # ... so the examiner home never learnt that head either (it is told after the commit)
    shutil.rmtree(Path(os.environ["FORENSIC_HOME"]) / "known-cases")
    # ... and the run was cut there: its intent, naming the objects it placed, is still there
    cut = [json.loads(x) for x in (case_dir / "custody" / "log.jsonl").read_bytes().splitlines()]
    objects = [e["details"]["object"] for e in cut[-3:] if "object" in e["details"]]
    intent = {"run": cut[-1]["details"].get("run"), "action": "capture", "objects": objects}
    (case_dir / "tmp" / "run-cut.intent.json").write_text(json.dumps(intent))
    doc = _verify(cli, case_dir)
    problems = doc["problems"]
    assert isinstance(problems, list)
    log_problems = [p for p in problems if p["location"].startswith("custody/")]
    assert len(log_problems) == 3
    assert {p["area"] for p in log_problems} == {"interrupted"}
    assert {p["kind"] for p in log_problems} == {"append_interrupted"}
    # The items whose entries were never committed are named as unrecorded objects, nothing else.
    others = [p for p in problems if p not in log_problems]
    assert {p["kind"] for p in others} == {"object_unrecorded", "run_interrupted"}
    assert cli("recover", "--case", case_dir).exit_code == 0
    assert _verify(cli, case_dir)["intact"] is True


def test_failed_append_leaves_no_partial_line(
    cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def half_then_enospc(fd: int, data: object) -> int:
        view = memoryview(data)  # type: ignore[arg-type]
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("log.jsonl"):
            return real_write(fd, view)
        real_write(fd, view[: len(view) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    log_before = (case_dir / "custody" / "log.jsonl").read_bytes()
    monkeypatch.setattr(custody_log.os, "write", half_then_enospc)
    res = cli("note", "--case", case_dir, "this will not fit")
    monkeypatch.undo()
    assert res.exit_code == 3
    assert "cannot append to the custody log" in res.stderr
    assert (case_dir / "custody" / "log.jsonl").read_bytes() == log_before
    assert _verify(cli, case_dir)["intact"] is True


def test_passphrase_is_unicode_normalised(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import unicodedata

    korean = "증거보전 비밀번호"
    monkeypatch.setenv("FORENSIC_HOME", str(tmp_path / "k"))
    monkeypatch.setenv("FORENSIC_PASSPHRASE", unicodedata.normalize("NFC", korean))
    case = tmp_path / "c"
    assert cli("init", case, "--case-id", "N", "--title", "t", "--examiner", "e").exit_code == 0
    monkeypatch.setenv("FORENSIC_PASSPHRASE", unicodedata.normalize("NFD", korean))
    assert cli("note", "--case", case, "typed on a Mac").exit_code == 0


def test_key_file_fingerprint_is_checked(cli: Cli, case_dir: Path, forensic_env: Path) -> None:
    key_file = forensic_env / "examiner-key.json"
    record = json.loads(key_file.read_text())
    record["fingerprint"] = "0" * 64
    os.chmod(key_file, 0o600)
    key_file.write_text(json.dumps(record))
    res = cli("note", "--case", case_dir, "x")
    assert res.exit_code == 2
    assert "examiner key unreadable" in res.stderr


def test_signed_file_record_outside_the_case_is_refused(
    tmp_path: Path, cli: Cli, case_dir: Path, forensic_env: Path
) -> None:
    """Even a validly signed entry cannot make verify read a file outside the case folder."""
    from forensic.case import Case
    from forensic.custody import PendingEntry, config_home, unlock_key
    from tests.conftest import PASSPHRASE

    outside = tmp_path / "outside.txt"
    outside.write_text("not evidence")
    case = Case.open(case_dir)
    key = unlock_key(config_home(), PASSPHRASE)
    with case.writing(key):
        case.record(
            key,
            [
                PendingEntry(
                    "note",
                    "case:T-1",
                    {"files": [{"path": "../outside.txt", "sha256": "0" * 64, "size": 12}]},
                )
            ],
        )
    doc = _verify(cli, case_dir)
    kinds = {(p["kind"], p["location"]) for p in doc["problems"]}  # type: ignore[union-attr]
    assert ("file_path_invalid", "../outside.txt") in kinds
