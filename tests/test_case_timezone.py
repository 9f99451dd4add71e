"""The case's zone: chosen at init, kept in case.json, and the one way times are printed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forensic._internal.clock import local_and_utc
from forensic.case import Case
from forensic.errors import UsageError
from tests.conftest import Cli, examiner_session
from tests.test_timestamp import Pki, TsaServer, pki, tsa_server  # noqa: F401  (fixtures)


def test_default_zone_is_seoul_and_kept_in_case_json(case_dir: Path) -> None:
    doc = json.loads((case_dir / "case.json").read_text("utf-8"))
    assert doc["timezone"] == "Asia/Seoul"
    assert Case.open(case_dir, examiner_session()).info.timezone == "Asia/Seoul"


def test_init_timezone_option(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "c"
    res = cli("init", path, "--case-id", "Z", "--title", "t", "--examiner", "e",
              "--timezone", "Asia/Bangkok")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert Case.open(path, examiner_session()).info.timezone == "Asia/Bangkok"


def test_unknown_zone_refused_before_any_key_or_folder(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "c"
    res = cli("init", path, "--case-id", "Z", "--title", "t", "--examiner", "e",
              "--timezone", "Mars/Olympus", "--lang", "ko")  # fmt: skip
    assert res.exit_code == 2
    assert "Mars/Olympus" in res.stderr and "시간대" in res.stderr
    assert "Traceback" not in res.stderr
    assert not path.exists()


def test_old_case_without_zone_reads_as_seoul(case_dir: Path) -> None:
    doc = json.loads((case_dir / "case.json").read_text("utf-8"))
    del doc["timezone"]
    target = case_dir / "case.json"
    target.chmod(0o644)
    target.write_text(json.dumps(doc), "utf-8")
    assert Case.open(case_dir, examiner_session()).info.timezone == "Asia/Seoul"


def test_local_and_utc_text() -> None:
    shown = local_and_utc("2026-12-03T13:49:27.123456Z")
    assert shown.text() == "2026-12-03 22:49:27 KST (13:49:27 UTC)"
    assert shown.local_iso == "2026-12-03T22:49:27+09:00"
    late = local_and_utc(datetime(2026, 12, 3, 20, 0, tzinfo=UTC), "Asia/Seoul")
    assert late.text() == "2026-12-04 05:00:00 KST (2026-12-03 20:00:00 UTC)"
    with pytest.raises(UsageError):
        local_and_utc("2026-12-03T13:49:27Z", "Nowhere/None")


def test_timestamp_line_shows_the_case_zone_with_utc(
    tmp_path: Path,
    cli: Cli,
    tsa_server: TsaServer,  # noqa: F811 - the fixture imported above
    pki: Pki,  # noqa: F811
) -> None:
    path = tmp_path / "c"
    res = cli("init", path, "--case-id", "Z", "--title", "t", "--examiner", "e",
              "--timezone", "Asia/Bangkok")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    res = cli("timestamp", "--case", path, "--tsa", tsa_server.url("ok"), "--tsa-root", pki.root)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert " +07 (" in res.stdout and " UTC)" in res.stdout, res.stdout
