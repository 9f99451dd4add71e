"""Only `init` creates an examiner key; every other verb refuses clearly without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli


def test_capture_without_key_does_not_create_one(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_home = tmp_path / "other-home"
    monkeypatch.setenv("FORENSIC_HOME", str(other_home))
    src = tmp_path / "evidence.bin"
    src.write_bytes(b"x" * 10)
    log_before = (case_dir / "custody" / "log.jsonl").read_bytes()
    res = cli("capture", "--case", case_dir, src)
    assert res.exit_code == 2
    assert "no examiner key" in res.stderr and "Traceback" not in res.stderr
    assert not other_home.exists()
    assert (case_dir / "custody" / "log.jsonl").read_bytes() == log_before


def test_other_examiners_key_is_refused(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_HOME", str(tmp_path / "second-examiner"))
    assert (
        cli(
            "init", tmp_path / "their-case", "--case-id", "X", "--title", "t", "--examiner", "Lee"
        ).exit_code
        == 0
    )
    res = cli("note", "--case", case_dir, "hello")
    assert res.exit_code == 2
    assert "is not this case's key" in res.stderr
    # verify still works for them, it just is not recorded under their key
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0
    assert "not recorded" in res.stdout


def test_wrong_passphrase_is_one_clear_line(
    cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_PASSPHRASE", "not the passphrase")
    res = cli("note", "--case", case_dir, "hello", "--lang", "ko")
    assert res.exit_code == 2
    assert "암호가 틀렸습니다" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_passphrase_file(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import PASSPHRASE

    monkeypatch.delenv("FORENSIC_PASSPHRASE")
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    pf.chmod(0o600)  # a passphrase file other accounts can read is refused
    assert cli("note", "--case", case_dir, "via file", "--passphrase-file", pf).exit_code == 0
    res = cli("note", "--case", case_dir, "no passphrase")
    assert res.exit_code == 2
    assert "passphrase is needed" in res.stderr


def test_bad_timestamp_config_never_hides_a_committed_capture(
    tmp_path: Path, cli: Cli, case_dir: Path, forensic_env: Path
) -> None:
    (forensic_env / "forensic.toml").write_text("[timestamp\nauto = yes")
    src = tmp_path / "e.bin"
    src.write_bytes(b"evidence")
    res = cli("capture", "--case", case_dir, src)
    assert "Acquired 1 item" in res.stdout
    assert "forensic.toml" in res.stderr and "Traceback" not in res.stderr
    assert res.exit_code in (2, 3)
    listed = cli("list", "--case", case_dir, "--json")
    assert '"size": 8' in listed.stdout
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def test_sessions_unlocking_at_once_in_threads_all_finish(tmp_path: Path) -> None:
    """Found by the encrypted tamper campaign once each session unlocked its own key: OpenSSL's
    4-lane Argon2id hangs (or fails with MemoryError) when two threads derive at once. Four
    sessions unlocking together in one process must all finish with the same key."""
    from concurrent.futures import ThreadPoolExecutor

    from forensic.custody.keys import create_key
    from forensic.session import Session

    home = tmp_path / "home"
    fingerprint = create_key(home, "four sessions at once").fingerprint

    def unlock(_n: int) -> str:
        session = Session(home=home, passphrase_provider=lambda _new: "four sessions at once")
        return session.unlock().fingerprint

    pool = ThreadPoolExecutor(4)
    try:
        futures = [pool.submit(unlock, n) for n in range(16)]
        assert [f.result(timeout=60) for f in futures] == [fingerprint] * 16
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
