"""The file-system side of a hostile environment: links planted in a case, other local users,
plaintext that a killed run leaves outside the store.

* a ``tmp/`` symlink, a ``.lock`` symlink: no verb writes, truncates or deletes through them;
* a symlinked or hard-linked object, metadata record or ``case.json``, a fifo in ``objects/``:
  named problems of ``forensic verify`` (exit 1), never followed, never a hang;
* modes under umask 022: nothing a case, an export or a report copy holds is open to group or
  others, and (as root) another account really cannot read them;
* a passphrase file other accounts can read is refused;
* SIGKILL of ``export --decrypt`` and of ``report`` of an encrypted case: after ``recover`` no
  plaintext is left outside the store, and the removal is logged.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.casetools import log_entries
from tests.conftest import PASSPHRASE, Cli

LINK_KINDS = {"symlink", "hard_link", "special_file"}


def _verify(cli: Cli, case: Path, *extra: str) -> tuple[int, dict]:
    res = cli("verify", "--case", case, "--json", *extra)
    return res.exit_code, json.loads(res.stdout)


def _kinds(doc: dict) -> set[tuple[str, str]]:
    return {(p["kind"], p["location"]) for p in doc["problems"]}


def _captured(cli: Cli, case: Path, tmp_path: Path, name: str = "e.png") -> str:
    from forensic.demo import png_bytes

    src = tmp_path / name
    src.write_bytes(png_bytes(40, 30, 7))
    res = cli("capture", src, "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    return next(e for e in log_entries(case) if e["action"] == "capture")["details"]["object"]


# -- links ----------------------------------------------------------------------------------
def test_tmp_symlink_never_makes_a_verb_delete_outside(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"not the case's")
    (outside / "run-x.intent.json").write_text('{"run": "run-x", "action": "capture"}')
    os.rmdir(case_dir / "tmp")
    os.symlink(outside, case_dir / "tmp")
    res = cli("note", "--case", case_dir, "hello")
    assert res.exit_code == 1
    assert "tmp" in res.stderr and "symbolic link" in res.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt", "run-x.intent.json"]
    code, doc = _verify(cli, case_dir, "--no-record")
    assert code == 1 and ("symlink", "tmp") in _kinds(doc)


def test_lock_symlink_is_not_truncated(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_bytes(b"precious bytes\n")
    (case_dir / ".lock").unlink(missing_ok=True)
    os.symlink(target, case_dir / ".lock")
    res = cli("verify", "--case", case_dir, "--no-record")
    assert res.exit_code == 1
    assert target.read_bytes() == b"precious bytes\n"
    assert ".lock" in res.stderr


@pytest.mark.parametrize("how", ["symlink", "hard_link"])
def test_linked_object_metadata_and_case_json_are_named(
    cli: Cli, case_dir: Path, tmp_path: Path, how: str
) -> None:
    obj = _captured(cli, case_dir, tmp_path)
    assert cli("analyze", "--metadata", "--case", case_dir).exit_code == 0
    meta = next(
        f["path"]
        for e in log_entries(case_dir)
        for f in e["details"].get("files", [])
        if f["path"].startswith("media/")
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for rel in (obj, meta, "case.json"):
        path = case_dir / rel
        copy = outside / path.name
        copy.write_bytes(path.read_bytes())  # the same bytes: only the link can be caught
        os.chmod(path.parent, 0o700)
        path.unlink()
        if how == "symlink":
            os.symlink(copy, path)
        else:
            os.link(copy, path)
    code, doc = _verify(cli, case_dir, "--no-record")
    assert code == 1
    found = _kinds(doc)
    for rel in (obj, meta, "case.json"):
        assert (how, rel) in found, (rel, doc["problems"])
    assert not doc["objects_intact"] and not doc["files_intact"]
    assert doc["recorded_seq"] is None


def test_fifo_in_objects_is_named_without_a_hang(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    obj = _captured(cli, case_dir, tmp_path)
    path = case_dir / obj
    os.chmod(path.parent, 0o700)
    path.unlink()
    os.mkfifo(path)
    extra = case_dir / "objects" / "sha256" / "ff"
    extra.mkdir()
    os.mkfifo(extra / ("f" * 64))
    from tests.conftest import run_forensic

    # a child with a time limit: a read of a fifo blocks for ever, and must fail, not hang
    proc = run_forensic("verify", "--case", case_dir, "--no-record", "--json", timeout=60)
    assert proc.returncode == 1, proc.stderr
    found = _kinds(json.loads(proc.stdout))
    assert ("special_file", obj) in found
    assert ("special_file", f"objects/sha256/ff/{'f' * 64}") in found


# -- modes ----------------------------------------------------------------------------------
def _shared(root: Path) -> list[str]:
    """Every folder and file under ``root`` that group or others can use."""
    out = []
    for dirpath, dirs, names in os.walk(root):
        for name in [".", *dirs, *names]:
            full = Path(dirpath) / name
            mode = os.lstat(full).st_mode
            if mode & 0o077:
                out.append(f"{full.relative_to(root.parent)} {stat.filemode(mode)}")
    return out


def _readable_by_nobody(paths: list[Path]) -> list[str]:
    """As uid/gid 65534 in a forked child: which of ``paths`` open for reading."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            opened = []
            for p in paths:
                try:
                    if p.is_dir():
                        os.listdir(p)
                    else:
                        with p.open("rb") as fh:
                            fh.read(1)
                    opened.append(str(p))
                except OSError:
                    pass
            os.write(write, json.dumps(opened).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return list(json.loads(data or b"[]"))


def test_modes_under_umask_022(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import tempfile

    old = os.umask(0o022)
    # a folder every account can enter (pytest's own base folder is private)
    base = Path(tempfile.mkdtemp(prefix="forensic-modes-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        case = base / "case"
        res = cli("init", case, "--case-id", "M-1", "--title", "Modes", "--examiner", "E")
        assert res.exit_code == 0, res.stderr
        obj = _captured(cli, case, base)
        assert cli("analyze", "--metadata", "--case", case).exit_code == 0
        assert cli("export", "--case", case, "--out", base / "bag.zip").exit_code == 0
        assert cli("export", "--case", case, "--out", base / "bag").exit_code == 0
        assert cli("key", "cert", "--name", "Kim").exit_code == 0
        res = cli("report", "--demo-tsa", "--case", case, "--out", base / "copy.pdf")
        assert res.exit_code == 0, res.stderr
        shared = _shared(case) + _shared(base / "bag")
        for single in ("bag.zip", "copy.pdf"):
            if os.stat(base / single).st_mode & 0o077:
                shared.append(f"{single} {stat.filemode(os.stat(base / single).st_mode)}")
        assert shared == []
        assert stat.S_IMODE(os.stat(case / "verify.sh").st_mode) == 0o500
        if os.geteuid() == 0:
            probes = [
                case / obj,
                case / "custody" / "log.jsonl",
                case / "custody",
                base / "bag.zip",
                base / "bag" / "data" / obj,
                base / "copy.pdf",
            ]
            assert _readable_by_nobody(probes) == []
            # the probe itself can read: a file left open to others is found
            (base / "open.txt").write_bytes(b"x")
            assert _readable_by_nobody([base / "open.txt"]) == [str(base / "open.txt")]
    finally:
        os.umask(old)
        for dirpath, _dirs, _names in os.walk(base):
            os.chmod(dirpath, 0o700)
        shutil.rmtree(base)


def test_passphrase_file_readable_by_others_is_refused(
    cli: Cli, case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORENSIC_PASSPHRASE")
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    for mode in (0o644, 0o640, 0o604):
        pf.chmod(mode)
        for lang, words in (("en", "other accounts"), ("ko", "다른 계정")):
            res = cli("note", "--case", case_dir, "x", "--passphrase-file", pf, "--lang", lang)
            assert res.exit_code == 2
            assert words in res.stderr and str(pf) in res.stderr
            assert len(res.stderr.strip().splitlines()) == 1
    pf.chmod(0o600)
    assert cli("note", "--case", case_dir, "x", "--passphrase-file", pf).exit_code == 0


# -- plaintext a killed run leaves outside the store ----------------------------------------
@pytest.fixture
def encrypted_case(tmp_path: Path, cli: Cli) -> tuple[Path, bytes]:
    from forensic.demo import png_bytes

    case = tmp_path / "enc"
    res = cli("init", case, "--case-id", "E-1", "--title", "Enc", "--examiner", "E", "--encrypt")
    assert res.exit_code == 0, res.stderr
    body = png_bytes(48, 32, 11)
    (tmp_path / "p.png").write_bytes(body)
    assert cli("capture", tmp_path / "p.png", "--case", case).exit_code == 0
    return case, body


def _holding(root: Path, body: bytes) -> list[str]:
    """Files under ``root`` whose bytes are the plaintext evidence (or a PDF showing it)."""
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            data = (Path(dirpath) / name).read_bytes()
            if data == body or data.startswith(b"%PDF"):
                found.append(str(Path(dirpath) / name))
    return found


def _killed(*args: str | os.PathLike[str], at: str) -> None:
    from tests.conftest import run_forensic

    proc = run_forensic(*args, env={"FORENSIC_TEST_KILL_AT": at})
    assert proc.returncode == -9, (at, proc.returncode, proc.stderr)


def _recovered(cli: Cli, case: Path, left: list[str]) -> None:
    """verify names the dead intent; recover removes the plaintext and logs each path."""
    code, doc = _verify(cli, case, "--no-record")
    assert code == 1 and "plaintext_outside" in {p["kind"] for p in doc["problems"]}, doc
    res = cli("recover", "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    entry = log_entries(case)[-1]
    assert entry["action"] == "recover"
    removed = {p for r in entry["details"]["plaintext_removed"] for p in r["removed"]}
    for path in left:
        assert not os.path.lexists(path), path
        assert any(path == p or path.startswith(p + "/") for p in removed), (path, removed)
    assert _verify(cli, case, "--no-record")[0] == 0


def _announced(case: Path) -> list[Path]:
    """The outside paths the killed run's intent names (other runs' folders are not ours)."""
    return [
        Path(p)
        for intent in (case / "tmp").glob("*.outside.json")
        for p in json.loads(intent.read_bytes())["paths"]
    ]


def test_killed_export_decrypt_and_report_leave_no_plaintext(
    cli: Cli, encrypted_case: tuple[Path, bytes], tmp_path: Path
) -> None:
    """One encrypted case (its set-up is the slow part): two export kills, one report kill."""
    case, body = encrypted_case
    parent = tmp_path / "out"
    parent.mkdir()
    # in its staging folder; then complete at --out but with no entry (an export not logged)
    for point, out in (("bag_written", "bag"), ("placed", "bag.zip")):
        _killed("export", "--case", case, "--out", parent / out, "--decrypt", at=f"export:{point}")
        left = _holding(parent, body) if point == "bag_written" else [str(parent / out)]
        assert left and all(os.path.lexists(p) for p in left), "the kill must leave plaintext"
        assert all(stat.S_IMODE(os.stat(p).st_mode) & 0o077 == 0 for p in left)
        _recovered(cli, case, left)
        assert list(parent.iterdir()) == []
    assert cli("key", "cert", "--name", "Kim").exit_code == 0
    copy = tmp_path / "copy.pdf"
    # the signed PDF in the RAM work folder, and the --out copy placed, no entry yet
    _killed("report", "--case", case, "--demo-tsa", "--out", copy, at="report:copied")
    left = [p for f in _announced(case) if f.is_dir() for p in _holding(f, body)]
    assert left and copy.exists(), "the kill must leave plaintext PDFs"
    _recovered(cli, case, [*left, str(copy)])
