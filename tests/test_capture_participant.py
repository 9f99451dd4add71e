"""A participant (참여인) recorded at capture decides the report's hash-sheet form."""

from __future__ import annotations

from pathlib import Path

from forensic.case import Case
from tests.conftest import Cli, examiner_session


def test_capture_participant_makes_the_auto_hash_sheet_the_seizure_form(
    tmp_path: Path, cli: Cli, case_dir: Path
) -> None:
    from forensic.report.build import hash_sheet_kind

    alone = tmp_path / "alone.txt"
    alone.write_text("collected alone")
    assert cli("capture", alone, "--case", case_dir).exit_code == 0
    assert hash_sheet_kind("auto", Case.open(case_dir, examiner_session()).entries()) == "self"
    seized = tmp_path / "seized.txt"
    seized.write_text("seized with the owner present")
    res = cli("capture", seized, "--case", case_dir, "--participant", "홍길동 (소유자)")
    assert res.exit_code == 0, res.stderr
    entries = Case.open(case_dir, examiner_session()).entries()
    captures = [e for e in entries if e.action == "capture"]
    assert captures[-1].details["participant"] == "홍길동 (소유자)"
    assert "participant" not in captures[0].details
    assert hash_sheet_kind("auto", entries) == "seizure"
