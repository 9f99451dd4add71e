"""The demo runs end to end through the CLI and its case verifies with verify.sh too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Cli


def test_demo_end_to_end(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "demo"
    res = cli("demo", "--out", out, "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and doc["verify"]["intact"] is True
    assert doc["acquired"] == 9
    log = json.loads(cli("log", "--case", out / "case", "--json").stdout)["entries"]
    actions = [e["action"] for e in log]
    for step in ("capture", "metadata", "timestamp", "analysis", "report", "export", "verify"):
        assert step in actions, step
    assert actions[-1] == "verify"  # the demo ends with verify
    report = Path(doc["report"])
    assert report.is_file() and report.read_bytes().startswith(b"%PDF-")
    assert doc["export"]["destination"].endswith("-bag")
    bag = subprocess.run(
        ["sh", str(Path(doc["export"]["destination"]) / "verify.sh")],
        capture_output=True,
        text=True,
    )
    assert bag.returncode == 0, bag.stdout
    sh = subprocess.run(["sh", str(out / "case" / "verify.sh")], capture_output=True, text=True)
    assert sh.returncode == 0, sh.stdout
    assert "RESULT: intact" in sh.stdout


def test_demo_refuses_existing_out(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    res = cli("demo", "--out", out)
    assert res.exit_code == 2
    assert str(out) in res.stderr and "Traceback" not in res.stderr


def test_verify_without_examiner_key_still_verifies(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third party (police, defence) has no examiner key: verify works, records nothing."""
    out = tmp_path / "demo"
    assert cli("demo", "--out", out).exit_code == 0
    case = out / "case"
    log_before = (case / "custody" / "log.jsonl").read_bytes()
    monkeypatch.setenv("FORENSIC_HOME", str(tmp_path / "someone-else"))
    monkeypatch.delenv("FORENSIC_PASSPHRASE")
    res = cli("verify", "--case", case)
    assert res.exit_code == 0, res.stderr
    assert "not recorded" in res.stdout
    assert (case / "custody" / "log.jsonl").read_bytes() == log_before


def test_show_states_first_trusted_time(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every item of the demo is covered by the demo TSA token, labelled as untrusted."""
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "demo"
    assert cli("demo", "--out", out).exit_code == 0
    case = out / "case"
    items = json.loads(cli("list", "--case", case, "--json").stdout)["items"]
    tokens = [
        t
        for e in json.loads(cli("log", "--case", case, "--json").stdout)["entries"]
        if e["action"] == "timestamp"
        for t in e["details"]["tokens"]
    ]
    assert len(tokens) == 1
    for item in items:
        doc = json.loads(cli("show", "--case", case, item["sha256"][:12], "--json").stdout)
        first = doc["item"]["first_trusted_time"]
        assert first["gen_time"] == tokens[0]["gen_time"]
        assert first["demo"] is True and first["trusted"] is False
        assert first["head_seq"] >= item["acquisitions"][0]["seq"]
    human = cli("show", "--case", case, items[0]["sha256"][:12])
    assert "[demo or untrusted TSA]" in human.stdout


def test_show_without_token_says_none_yet(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    src = tmp_path / "e.bin"
    src.write_bytes(b"evidence")
    assert cli("capture", "--case", case_dir, src).exit_code == 0
    sha = json.loads(cli("list", "--case", case_dir, "--json").stdout)["items"][0]["sha256"]
    doc = json.loads(cli("show", "--case", case_dir, sha, "--json").stdout)
    assert doc["item"]["first_trusted_time"] is None
    assert "none yet" in cli("show", "--case", case_dir, sha).stdout
