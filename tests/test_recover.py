"""What an interrupted run leaves behind is named by verify, quarantined and logged by recover."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.casetools import log_entries, run_verify_sh
from tests.conftest import Cli


def test_recover_interrupted_state(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"\xff\xd8\xff evidence")
    assert cli("capture", src, "--case", case_dir).exit_code == 0
    log = case_dir / "custody" / "log.jsonl"
    committed = log.read_bytes()

    # A crash mid-run: a partial copy, a stored object never logged, a torn last log line.
    (case_dir / "tmp" / "0123abcd.part").write_bytes(b"half a fi")
    orphan_bytes = b"copied, synced, but the log entry never made it"
    digest = hashlib.sha256(orphan_bytes).hexdigest()
    orphan = case_dir / "objects" / "sha256" / digest[:2] / digest
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(orphan_bytes)
    orphan.chmod(0o444)
    # the run's intent named the object before placing it (recovery quarantines only that)
    rel = f"objects/sha256/{digest[:2]}/{digest}"
    intent = {"run": "run-cut", "action": "capture", "started": "2026-01-01T00:00:00Z"}
    (case_dir / "tmp" / "run-cut.intent.json").write_text(json.dumps({**intent, "objects": [rel]}))
    with log.open("ab") as fh:
        fh.write(b'{"action":"capture","actor":"00')

    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["recorded_seq"] is None
    found = {(p["area"], p["kind"], p["location"]) for p in report["problems"]}
    n_lines = committed.count(b"\n")
    assert found == {
        ("interrupted", "partial_file", "tmp/0123abcd.part"),
        ("object", "object_unrecorded", f"objects/sha256/{digest[:2]}/{digest}"),
        ("interrupted", "line_torn", f"custody/log.jsonl:{n_lines + 1}"),
        ("interrupted", "run_interrupted", "tmp/run-cut.intent.json"),
    }
    human = cli("verify", "--case", case_dir, "--no-record")
    assert "interrupted" in human.stderr.lower()
    sh = run_verify_sh(case_dir)
    assert sh.returncode == 1
    assert f"custody/log.jsonl:{n_lines + 1}: line torn" in sh.stdout
    assert "tmp/0123abcd.part: not recorded" in sh.stdout

    res = cli("recover", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    recovered = json.loads(res.stdout)["recovered"]
    assert recovered["partial_files"] == ["0123abcd.part"]
    assert recovered["quarantined_objects"] == [f"objects/sha256/{digest[:2]}/{digest}"]
    assert recovered["torn_log_bytes"] == len(b'{"action":"capture","actor":"00')

    assert not orphan.exists() and (case_dir / "quarantine" / digest).read_bytes() == orphan_bytes
    assert list((case_dir / "tmp").iterdir()) == []
    assert log.read_bytes().startswith(committed)
    last = log_entries(case_dir)[-1]
    assert last["action"] == "recover"
    assert last["details"]["partial_files_removed"] == ["0123abcd.part"]
    assert last["details"]["torn_log_tail"]["size"] == recovered["torn_log_bytes"]

    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout
    sh = run_verify_sh(case_dir)
    assert sh.returncode == 0, sh.stdout
    # Nothing left to do the second time.
    res = cli("recover", "--case", case_dir, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["recovered"] is None


def test_interrupted_run_intent_is_named(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    intent = case_dir / "tmp" / "run-deadbeef.intent.json"
    intent.write_text(
        json.dumps(
            {
                "run": "run-deadbeef",
                "action": "capture",
                "started": "2026-01-01T00:00:00Z",
                "inputs": [{"path": "/media/usb/DCIM"}],
            }
        ),
        "utf-8",
    )
    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    assert res.exit_code == 1
    [problem] = json.loads(res.stdout)["problems"]
    assert problem["kind"] == "run_interrupted" and "/media/usb/DCIM" in problem["detail"]
    note = cli("note", "after the crash", "--case", case_dir, "--json")
    assert note.exit_code == 0  # any write recovers first
    assert [e["action"] for e in log_entries(case_dir)][-2:] == ["recover", "note"]
    assert log_entries(case_dir)[-2]["details"]["interrupted_runs"][0]["run"] == "run-deadbeef"
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0
