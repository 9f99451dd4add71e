"""Bad input never stops a batch, is named with a clear message, and never shows a traceback."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import time
import types
from pathlib import Path

import pytest

import forensic.store.evidence_store as evidence_store
from forensic.capture import acquire
from forensic.case.lock import case_lock
from tests.casetools import b64path, log_entries, run_verify_sh
from tests.conftest import Cli, run_forensic


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


def _capture(cli: Cli, case: Path, *args: str | os.PathLike[str]):
    res = cli("capture", *args, "--case", case, "--json")
    _no_traceback(res.stdout, res.stderr)
    return res, json.loads(res.stdout)


def _captured_paths(case: Path) -> dict[bytes, dict]:
    return {
        b64path(e["details"]["source"]): e for e in log_entries(case) if e["action"] == "capture"
    }


def _failures(doc: dict) -> dict[str, dict]:
    return {os.path.basename(f["path"]): f for f in doc["failures"]}


def _assert_verifies(cli: Cli, case: Path) -> None:
    res = cli("verify", "--case", case, "--no-record", "--json")
    assert res.exit_code == 0, res.stdout
    assert run_verify_sh(case).returncode == 0


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: chmod 000 files stay readable (the EACCES test covers this)",
)
def test_unreadable_file_chmod_000(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(b"good")
    secret = src / "secret.txt"
    secret.write_bytes(b"secret")
    secret.chmod(0)
    try:
        res, doc = _capture(cli, case_dir, src)
    finally:
        secret.chmod(0o644)
    assert res.exit_code == 3
    assert _failures(doc)["secret.txt"]["reason"] == "unreadable"
    assert set(_captured_paths(case_dir)) == {os.fsencode(src / "good.txt")}


def test_unreadable_file_eacces(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel refuses to open one file (EACCES, works as root too)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(b"good")
    (src / "secret.txt").write_bytes(b"secret")
    real_open = acquire._open_source

    def refusing(path: bytes) -> int:
        if path.endswith(b"secret.txt"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(acquire, "_open_source", refusing)
    res = cli("capture", src, "--case", case_dir)
    _no_traceback(res.stdout, res.stderr)
    assert res.exit_code == 3
    assert "secret.txt" in res.stderr and "Permission denied" in res.stderr
    assert "1 source(s) could not be acquired" in res.stderr
    assert set(_captured_paths(case_dir)) == {os.fsencode(src / "good.txt")}
    _assert_verifies(cli, case_dir)


def test_one_bad_file_never_stops_the_batch(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    good = [src / f"good-{i}.txt" for i in range(5)]
    for i, p in enumerate(good):
        p.write_bytes(f"good {i}".encode())
    os.mkfifo(src / "pipe")
    missing = tmp_path / "not-there.jpg"
    lone = tmp_path / "lone.txt"
    lone.write_bytes(b"lone")
    res, doc = _capture(cli, case_dir, missing, src, lone)
    assert res.exit_code == 3
    failures = _failures(doc)
    assert failures["not-there.jpg"]["reason"] == "missing"
    assert not failures["not-there.jpg"]["skipped"]
    assert failures["pipe"]["reason"] == "fifo" and failures["pipe"]["skipped"]
    assert set(_captured_paths(case_dir)) == {os.fsencode(p) for p in [*good, lone]}
    [summary] = [e for e in log_entries(case_dir) if e["action"] == "capture-summary"]
    logged = {b64path(f): f["reason"] for f in summary["details"]["failures"]}
    assert logged == {os.fsencode(missing): "missing", os.fsencode(src / "pipe"): "fifo"}
    assert summary["details"]["acquired"] == 6
    # The human form names each failure and skip, on stderr.
    res = cli("capture", missing, src / "pipe", "--case", case_dir)
    assert res.exit_code == 3
    assert f"{missing}: no such file or folder" in res.stderr
    assert f"skipped {src / 'pipe'}: is a FIFO" in res.stderr
    _no_traceback(res.stderr)
    _assert_verifies(cli, case_dir)


def test_missing_path_real_process(tmp_path: Path, case_dir: Path) -> None:
    proc = run_forensic("capture", tmp_path / "nope", "--case", case_dir)
    assert proc.returncode == 3
    assert "nope: no such file or folder" in proc.stderr
    _no_traceback(proc.stdout, proc.stderr)


def test_fifo_and_device_skipped_with_message(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    (src / "x.txt").write_bytes(b"x")
    started = time.monotonic()
    res = cli("capture", src / "pipe", "/dev/null", src / "x.txt", "--case", case_dir)
    assert time.monotonic() - started < 30, "opening a FIFO must not block"
    assert res.exit_code == 0, res.stderr  # skips are not failures
    assert "is a FIFO (named pipe); skipped" in res.stderr
    assert "/dev/null: is a device file; skipped" in res.stderr
    assert set(_captured_paths(case_dir)) == {os.fsencode(src / "x.txt")}
    _assert_verifies(cli, case_dir)


def test_symlinks_recorded_as_links_by_default(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_bytes(b"real content")
    outside = tmp_path / "outside-secret.txt"
    outside.write_bytes(b"not part of the evidence")
    (src / "to-real").symlink_to("real.txt")
    (src / "to-outside").symlink_to(outside)
    (src / "to-null").symlink_to("/dev/null")
    (src / "dangling").symlink_to("no-such-target")
    res, doc = _capture(cli, case_dir, src)
    assert res.exit_code == 0, res.stderr
    assert set(_captured_paths(case_dir)) == {os.fsencode(src / "real.txt")}
    links = {
        b64path(e["details"]["source"]): b64path(e["details"]["source"]["link_target"])
        for e in log_entries(case_dir)
        if e["action"] == "capture-link"
    }
    assert links == {
        os.fsencode(src / "to-real"): b"real.txt",
        os.fsencode(src / "to-outside"): os.fsencode(outside),
        os.fsencode(src / "to-null"): b"/dev/null",
        os.fsencode(src / "dangling"): b"no-such-target",
    }
    assert len(doc["links"]) == 4
    _assert_verifies(cli, case_dir)


def test_follow_symlinks_stays_inside_the_tree(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    inside = src / "sub" / "inside.txt"
    inside.write_bytes(b"inside the tree")
    outside = tmp_path / "outside-secret.txt"
    outside.write_bytes(b"private file of the examiner, not evidence")
    (src / "to-inside").symlink_to("sub/inside.txt")
    (src / "to-outside").symlink_to(outside)
    res, doc = _capture(cli, case_dir, src, "--follow-symlinks")
    assert res.exit_code == 0, res.stderr
    captured = _captured_paths(case_dir)
    via_link = captured[os.fsencode(src / "to-inside")]
    assert b64path(via_link["details"]["source"]["followed_to"]) == os.fsencode(inside)
    assert via_link["details"]["item"]["sha256"] == hashlib.sha256(b"inside the tree").hexdigest()
    outside_digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    assert all(e["details"]["item"]["sha256"] != outside_digest for e in captured.values())
    assert not any((case_dir / "objects").rglob(outside_digest))
    skipped = _failures(doc)["to-outside"]
    assert skipped["reason"] == "link_outside_tree" and skipped["skipped"]
    assert "pointing outside the captured folder" in skipped["message"]
    _assert_verifies(cli, case_dir)


def test_empty_file_acquired(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    res, doc = _capture(cli, case_dir, empty)
    assert res.exit_code == 0
    [item] = doc["acquired"]
    assert item["size"] == 0
    assert item["sha256"] == hashlib.sha256(b"").hexdigest()
    assert (case_dir / "objects" / "sha256" / item["sha256"][:2] / item["sha256"]).is_file()
    _assert_verifies(cli, case_dir)


def test_path_inside_case_refused(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    res, doc = _capture(cli, case_dir, case_dir / "case.json", case_dir / "objects")
    assert res.exit_code == 3
    assert {f["reason"] for f in doc["failures"]} == {"inside_case"}
    res, doc = _capture(cli, case_dir, tmp_path)  # a folder holding the case
    assert res.exit_code == 3
    assert [f["reason"] for f in doc["failures"]] == ["contains_case"]
    assert _captured_paths(case_dir) == {}
    _assert_verifies(cli, case_dir)


def test_init_into_existing_folder_refused(tmp_path: Path, cli: Cli) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("do not touch")
    res = cli("init", target, "--case-id", "X", "--title", "X", "--examiner", "X")
    assert res.exit_code == 2
    assert "already there" in res.stderr and str(target) in res.stderr
    _no_traceback(res.stderr)
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    file_target = tmp_path / "a-file"
    file_target.write_text("x")
    res = cli("init", file_target, "--case-id", "X", "--title", "X", "--examiner", "X")
    assert res.exit_code == 2 and file_target.read_text() == "x"


def test_wrong_passphrase(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_PASSPHRASE", "not the passphrase")
    f = tmp_path / "f.txt"
    f.write_text("x")
    before = (case_dir / "custody" / "log.jsonl").read_bytes()
    for args in (("capture", f), ("note", "hello")):
        res = cli(*args, "--case", case_dir)
        assert res.exit_code == 2
        assert "wrong passphrase" in res.stderr
        _no_traceback(res.stderr)
    assert (case_dir / "custody" / "log.jsonl").read_bytes() == before


def test_second_writer_waits_then_fails(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    with case_lock(case_dir, timeout=0):
        started = time.monotonic()
        res = cli("capture", f, "--case", case_dir)
        waited = time.monotonic() - started
    assert res.exit_code == 3
    assert "another forensic process is writing this case" in res.stderr
    _no_traceback(res.stderr)
    assert waited >= 0.9, "it must wait FORENSIC_LOCK_TIMEOUT before giving up"
    assert _captured_paths(case_dir) == {}
    res = cli("capture", f, "--case", case_dir)  # lock released: works
    assert res.exit_code == 0


def test_file_growing_during_read_not_recorded(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    growing = src / "growing.log"
    growing.write_bytes(b"line\n" * 1000)
    (src / "stable.txt").write_bytes(b"stable")
    real_stage = evidence_store.EvidenceStore.stage_from_fd

    def stage_while_appending(self, src_fd, algorithms, on_bytes=None):
        if os.readlink(f"/proc/self/fd/{src_fd}").endswith("growing.log"):
            with open(growing, "ab") as fh:  # another program writes to it mid-copy
                fh.write(b"appended while reading\n")
        return real_stage(self, src_fd, algorithms, on_bytes)

    monkeypatch.setattr(evidence_store.EvidenceStore, "stage_from_fd", stage_while_appending)
    res, doc = _capture(cli, case_dir, src)
    assert res.exit_code == 3
    failure = _failures(doc)["growing.log"]
    assert failure["reason"] == "changed_during_read" and not failure["skipped"]
    assert "changed while it was being read" in failure["message"]
    assert set(_captured_paths(case_dir)) == {os.fsencode(src / "stable.txt")}
    assert list((case_dir / "tmp").iterdir()) == []
    _assert_verifies(cli, case_dir)


def test_disk_full_mid_copy(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first.bin"
    first.write_bytes(b"already safe" * 100)
    assert cli("capture", first, "--case", case_dir).exit_code == 0
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"file-{i}.bin").write_bytes(os.urandom(300_000))
    budget = {"left": 700_000}

    def write(fd: int, data) -> int:
        if budget["left"] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = os.write(fd, data)
        budget["left"] -= n
        return n

    names = [k for k in dir(os) if not k.startswith("__")]
    fake_os = types.SimpleNamespace(**{k: getattr(os, k) for k in names})
    fake_os.write = write
    with monkeypatch.context() as mp:
        mp.setattr(evidence_store, "os", fake_os)
        res = cli("capture", src, "--case", case_dir)
    assert res.exit_code == 3, res.stdout + res.stderr
    assert "the disk is full" in res.stderr
    _no_traceback(res.stdout, res.stderr)
    assert budget["left"] <= 0, "the simulated disk never filled up"

    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    report = json.loads(res.stdout)
    assert report["log_intact"] and report["objects_intact"], report["problems"]
    assert all(p["area"] == "interrupted" for p in report["problems"]), report["problems"]
    # Nothing recorded was lost: every logged capture still has its object.
    for path, entry in _captured_paths(case_dir).items():
        obj = case_dir / entry["details"]["object"]
        assert obj.read_bytes() == Path(os.fsdecode(path)).read_bytes()
    assert os.fsencode(first) in _captured_paths(case_dir)
    # The next write recovers and logs the interruption; then the case verifies clean.
    assert cli("recover", "--case", case_dir).exit_code == 0
    _assert_verifies(cli, case_dir)
