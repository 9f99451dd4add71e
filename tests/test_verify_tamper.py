"""Every kind of tampering makes ``forensic verify`` exit 1 naming the place, and verify.sh too."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forensic.custody.keys import fingerprint
from tests.casetools import make_writable, run_verify_sh
from tests.conftest import PASSPHRASE, Cli

LOG = "custody/log.jsonl"
SIG = "custody/log.sig"


def _build(root: Path, cli: Cli) -> Path:
    case_dir = root / "case"
    res = cli(
        "init", case_dir, "--case-id", "T-1", "--title", "Test case", "--examiner", "Examiner"
    )
    assert res.exit_code == 0, res.stderr
    src = root / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.jpg").write_bytes(b"\xff\xd8\xff" + b"A" * 5000)
    (src / "b.txt").write_bytes(b"statement of the victim\n" * 30)
    (src / "sub" / "copy-of-a.jpg").write_bytes(b"\xff\xd8\xff" + b"A" * 5000)
    (src / "sub" / "c.bin").write_bytes(bytes(range(256)) * 64)
    res = cli("capture", src, "--case", case_dir, "--note", "seized phone export")
    assert res.exit_code == 0, res.stderr
    res = cli("note", "sealed in bag 7", "--case", case_dir)
    assert res.exit_code == 0, res.stderr
    return case_dir


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One captured case and its examiner home, built once (key derivation is slow)."""
    root = tmp_path_factory.mktemp("tamper-template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORENSIC_HOME", str(root / "home"))
        mp.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
        mp.setenv("FORENSIC_LANG", "en")
        mp.delenv("FORENSIC_CASE", raising=False)
        _build(root, Cli())
    return root


@pytest.fixture
def case(template: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template case, verified intact by both checkers."""
    shutil.copytree(template / "home", tmp_path / "home-copy")
    monkeypatch.setenv("FORENSIC_HOME", str(tmp_path / "home-copy"))
    case_dir = tmp_path / "case"
    shutil.copytree(template / "case", case_dir)
    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    assert res.exit_code == 0, res.stdout
    sh = run_verify_sh(case_dir)
    assert sh.returncode == 0 and "RESULT: intact" in sh.stdout, sh.stdout
    return case_dir


def _objects(case: Path) -> list[Path]:
    return sorted(p for p in (case / "objects" / "sha256").rglob("*") if p.is_file())


def _rel(case: Path, p: Path) -> str:
    return p.relative_to(case).as_posix()


def _lines(case: Path, name: str = LOG) -> list[bytes]:
    return (case / name).read_bytes().split(b"\n")[:-1]


def _write_lines(case: Path, lines: list[bytes], name: str = LOG) -> None:
    (case / name).write_bytes(b"".join(line + b"\n" for line in lines))


# Each tamper edits the case and returns (where verify names it, where verify.sh names it).
def flip_object_byte(case: Path) -> tuple[str, str]:
    obj = _objects(case)[0]
    make_writable(obj)
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0x01
    obj.write_bytes(bytes(data))
    return _rel(case, obj), _rel(case, obj)


def truncate_object(case: Path) -> tuple[str, str]:
    obj = max(_objects(case), key=lambda p: p.stat().st_size)
    make_writable(obj)
    os.truncate(obj, obj.stat().st_size - 1)
    return _rel(case, obj), _rel(case, obj)


def delete_object(case: Path) -> tuple[str, str]:
    obj = _objects(case)[-1]
    obj.unlink()
    return _rel(case, obj), _rel(case, obj)


def extra_object(case: Path) -> tuple[str, str]:
    name = "ab" + "c" * 62
    extra = case / "objects" / "sha256" / "ab" / name
    extra.parent.mkdir(exist_ok=True)
    extra.write_bytes(b"planted")
    return _rel(case, extra), _rel(case, extra)


def extra_file_top(case: Path) -> tuple[str, str]:
    (case / "README-planted.txt").write_text("planted")
    return "README-planted.txt", "README-planted.txt"


def extra_file_custody(case: Path) -> tuple[str, str]:
    (case / "custody" / "log.jsonl.bak").write_bytes(b"x")
    return "custody/log.jsonl.bak", "custody/log.jsonl.bak"


def extra_symlink(case: Path) -> tuple[str, str]:
    (case / "objects" / "planted-link").symlink_to("/etc/hostname")
    return "objects/planted-link", "objects/planted-link"


def delete_log_line(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    del lines[2]
    _write_lines(case, lines)
    return f"{LOG}:3", f"{LOG}:3"


def insert_log_line(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    lines.insert(3, lines[2])
    _write_lines(case, lines)
    return f"{LOG}:4", f"{LOG}:4"


def reorder_log_lines(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    lines[2], lines[3] = lines[3], lines[2]
    _write_lines(case, lines)
    return f"{LOG}:3", f"{LOG}:3"


def edit_line_raw(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    assert b"seized phone export" in lines[3]
    lines[3] = lines[3].replace(b"seized phone export", b"seized phone expert")
    _write_lines(case, lines)
    return f"{LOG}:4", f"{LOG}:4"


def edit_line_recanonicalised(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    obj = json.loads(lines[3])
    obj["details"]["examiner"] = "Someone Else"
    obj["time"] = "2020-01-01T00:00:00.000000Z"
    lines[3] = bytes(rfc8785.dumps(obj))
    _write_lines(case, lines)
    return f"{LOG}:4", f"{LOG}:4"


def edit_line_not_canonical(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    lines[3] = lines[3].replace(b'{"action":', b'{ "action":', 1)
    _write_lines(case, lines)
    return f"{LOG}:4", f"{LOG}:4"


def edit_last_line(case: Path) -> tuple[str, str]:
    lines = _lines(case)
    lines[-1] = lines[-1].replace(b"sealed in bag 7", b"sealed in bag 8")
    _write_lines(case, lines)
    n = len(lines)
    return f"{LOG}:{n}", f"{LOG}:{n}"


def edit_signature(case: Path) -> tuple[str, str]:
    sigs = _lines(case, SIG)
    seq, _b64 = sigs[4].split(b" ", 1)
    other = base64.b64decode(sigs[5].split(b" ", 1)[1])
    sigs[4] = seq + b" " + base64.b64encode(other)
    _write_lines(case, sigs, SIG)
    return f"{LOG}:5", f"{LOG}:5"


def edit_signature_padding_bits(case: Path) -> tuple[str, str]:
    """The 4 unused bits before '==' decode to the same signature: still an edit of the file."""
    sigs = _lines(case, SIG)
    seq, b64 = sigs[2].split(b" ", 1)
    assert b64.endswith(b"==")
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(b64[-3:-2])
    edited = b64[:-3] + alphabet[last ^ 1 : (last ^ 1) + 1] + b"=="
    assert base64.b64decode(edited) == base64.b64decode(b64)  # same signature bytes
    sigs[2] = seq + b" " + edited
    _write_lines(case, sigs, SIG)
    return f"{SIG}:3", f"{LOG}:3"


def swap_public_key(case: Path) -> tuple[str, str]:
    other = Ed25519PrivateKey.generate().public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = json.loads((case / "case.json").read_text("utf-8"))
    info["public_key_pem"] = pem.decode("ascii")
    info["public_key_fingerprint"] = fingerprint(other)
    for name, data in (
        ("case.json", json.dumps(info, indent=2).encode() + b"\n"),
        ("examiner.pub.pem", pem),
    ):
        make_writable(case / name)
        (case / name).write_bytes(data)
    return "case.json", "examiner.pub.pem"


def edit_case_json(case: Path) -> tuple[str, str]:
    path = case / "case.json"
    make_writable(path)
    path.write_text(path.read_text("utf-8").replace("Test case", "Other case"), "utf-8")
    return "case.json", "case.json"


def edit_verify_sh(case: Path) -> tuple[str, str]:
    path = case / "verify.sh"
    make_writable(path)
    with path.open("a") as fh:
        fh.write("# harmless looking comment\n")
    return "verify.sh", "verify.sh"


TAMPERS: list[Callable[[Path], tuple[str, str]]] = [
    flip_object_byte,
    truncate_object,
    delete_object,
    extra_object,
    extra_file_top,
    extra_file_custody,
    extra_symlink,
    delete_log_line,
    insert_log_line,
    reorder_log_lines,
    edit_line_raw,
    edit_line_recanonicalised,
    edit_line_not_canonical,
    edit_last_line,
    edit_signature,
    edit_signature_padding_bits,
    swap_public_key,
    edit_case_json,
    edit_verify_sh,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.__name__ for t in TAMPERS])
def test_tamper_is_named_by_both_checkers(
    tamper: Callable[[Path], tuple[str, str]], case: Path, cli: Cli
) -> None:
    where_py, where_sh = tamper(case)

    res = cli("verify", "--case", case, "--json")
    assert res.exit_code == 1, res.stdout
    report = json.loads(res.stdout)
    assert report["intact"] is False and report["ok"] is False
    locations = [p["location"] for p in report["problems"]]
    assert where_py in locations, locations
    if not report["log_intact"]:
        assert report["recorded_seq"] is None, "a broken log must not be appended to"

    human = cli("verify", "--case", case, "--no-record")
    assert human.exit_code == 1
    assert where_py in human.stderr, human.stderr

    sh = run_verify_sh(case)
    assert sh.returncode != 0, sh.stdout
    assert "RESULT: PROBLEMS FOUND" in sh.stdout
    problems = [line for line in sh.stdout.splitlines() if line.startswith("PROBLEM:")]
    assert any(where_sh in line for line in problems), sh.stdout


def test_expect_key(case: Path, cli: Cli) -> None:
    info = json.loads((case / "case.json").read_text("utf-8"))
    right = info["public_key_fingerprint"]
    ok = cli("verify", "--case", case, "--no-record", "--expect-key", right[:16])
    assert ok.exit_code == 0, ok.stderr
    wrong = "0" * 64 if not right.startswith("0") else "f" * 64
    res = cli("verify", "--case", case, "--no-record", "--expect-key", wrong, "--json")
    assert res.exit_code == 1
    kinds = {p["kind"] for p in json.loads(res.stdout)["problems"]}
    assert "unexpected_key" in kinds


def test_verify_records_only_when_intact(case: Path, cli: Cli) -> None:
    before = len(_lines(case))
    res = cli("verify", "--case", case, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["recorded_seq"] == before
    assert json.loads(_lines(case)[-1])["action"] == "verify"
    flip_object_byte(case)
    res = cli("verify", "--case", case, "--json")
    # An object problem is recorded too (the log itself is intact); a log problem is not.
    assert res.exit_code == 1 and json.loads(res.stdout)["recorded_seq"] == before + 1
    delete_log_line(case)
    n = len(_lines(case))
    res = cli("verify", "--case", case, "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["recorded_seq"] is None
    assert len(_lines(case)) == n
