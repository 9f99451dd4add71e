"""Hostile inputs: many files in one folder, control characters and RTL overrides in names,
a file swapped for a symlink between planning and opening, path traversal into an export.

``FORENSIC_SLOW=1`` captures 100,000 files in one folder (CI: 2,000); the numbers are printed
and recorded in docs/robustness.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from forensic.case import Case
from forensic.custody.keys import unlock_key
from forensic.custody.log import PendingEntry
from tests.conftest import PASSPHRASE, Cli

SLOW = os.environ.get("FORENSIC_SLOW") == "1"
MANY = int(os.environ.get("FORENSIC_MANY_FILES", "100000" if SLOW else "2000"))

HOSTILE_NAMES = {
    "esc": "clear\x1b[2J\x1b[31mred.txt",
    "rtl": "invoice\u202egpj.exe",
    "cr": "over\rwrite.txt",
    "bell": "ring\x07.txt",
    "del": "del\x7f.txt",
}
RAW_FORBIDDEN = ("\x1b", "\u202e", "\r", "\x07", "\x7f", "\x9b")


def _clean(text: str) -> list[str]:
    return [repr(c) for c in RAW_FORBIDDEN if c in text]


def test_many_files_in_one_folder(tmp_path: Path, cli: Cli) -> None:
    case = tmp_path / "case"
    assert cli("init", case, "--case-id", "M", "--title", "t", "--examiner", "E").exit_code == 0
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(MANY):
        (folder / f"{i:06d}.txt").write_bytes(b"%d\n" % i)
    # RUSAGE_CHILDREN of this process would include every earlier test's children: measure the
    # capture from a fresh wrapper whose only child is the capture.
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "sys.stderr.buffer.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n"
    )
    start = time.monotonic()
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            wrapper,
            sys.executable,
            "-m",
            "forensic",
            "capture",
            str(folder),
            "--case",
            str(case),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    capture_s = time.monotonic() - start
    assert res.returncode == 0, res.stderr[-2000:]
    peak_kib = int(res.stdout.strip().splitlines()[-1])
    start = time.monotonic()
    ver = subprocess.run(
        [sys.executable, "-m", "forensic", "verify", "--case", str(case), "--no-record", "--json"],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    verify_s = time.monotonic() - start
    doc = json.loads(ver.stdout)
    assert ver.returncode == 0 and doc["items"] == MANY, doc["problems"][:5]
    print(
        f"\n{MANY} files in one folder: capture {capture_s:.1f} s "
        f"({MANY / capture_s:,.0f} files/s), verify {verify_s:.1f} s, "
        f"peak RSS of a child {peak_kib / 1024:.0f} MiB"
    )
    # Memory must not grow with the folder: well under 1 KiB per file above the base.
    assert peak_kib < 200 * 1024 + MANY * 4, peak_kib


@pytest.fixture
def hostile_case(tmp_path: Path, case_dir: Path, cli: Cli) -> tuple[Path, Path]:
    src = tmp_path / "hostile"
    src.mkdir()
    for tag, name in HOSTILE_NAMES.items():
        (src / name).write_bytes(f"content {tag}\n".encode())
    res = cli("capture", src, "--case", case_dir)
    assert res.exit_code == 0, res.stderr
    return case_dir, src


@pytest.mark.parametrize("verb", ["list", "log"])
def test_control_characters_shown_escaped(hostile_case: tuple[Path, Path], cli: Cli, verb: str):
    case, _ = hostile_case
    res = cli(verb, "--case", case)
    assert res.exit_code == 0, res.stderr
    assert not _clean(res.stdout + res.stderr), (verb, _clean(res.stdout + res.stderr))


def test_control_characters_shown_escaped_in_show(
    hostile_case: tuple[Path, Path], cli: Cli, monkeypatch: pytest.MonkeyPatch
):
    # A wide console, so that the name is not wrapped however long the temporary path is.
    monkeypatch.setenv("COLUMNS", "240")
    case, _ = hostile_case
    digest = hashlib.sha256(b"content rtl\n").hexdigest()
    res = cli("show", digest[:12], "--case", case)
    assert res.exit_code == 0, res.stderr
    assert "invoice" in res.stdout
    assert not _clean(res.stdout + res.stderr), _clean(res.stdout + res.stderr)


def test_control_characters_escaped_in_error_messages(tmp_path: Path, case_dir: Path, cli: Cli):
    missing = tmp_path / "gone\x1b[2J\u202egpj.exe"
    res = cli("capture", missing, "--case", case_dir)
    assert res.exit_code != 0
    text = res.stdout + res.stderr
    assert "gone" in text
    assert not _clean(text), _clean(text)


def test_symlink_swapped_in_between_plan_and_open(
    tmp_path: Path, case_dir: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forensic.capture.acquire as acquire

    src = tmp_path / "race"
    src.mkdir()
    (src / "a.txt").write_bytes(b"first\n")
    (src / "victim.txt").write_bytes(b"the real file\n")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"must never be captured\n")
    real_open = acquire._open_source

    def racing_open(path: bytes) -> int:
        if path.endswith(b"victim.txt"):
            os.unlink(path)
            os.symlink(secret, path)
        return real_open(path)

    monkeypatch.setattr(acquire, "_open_source", racing_open)
    res = cli("capture", src, "--case", case_dir, "--json")
    doc = json.loads(res.stdout)
    text = json.dumps(doc)
    assert "victim.txt" in text  # the failure names the file
    case = Case.open(case_dir)
    captured = {i.item_id for i in case.items().values()}
    assert hashlib.sha256(b"must never be captured\n").hexdigest() not in captured
    assert hashlib.sha256(b"first\n").hexdigest() in captured  # the batch went on
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def _sign_files_record(case_dir: Path, home: Path, records: list[dict[str, object]]) -> None:
    key = unlock_key(home, PASSPHRASE)
    case = Case.open(case_dir)
    with case.writing(key):
        case.record(key, [PendingEntry("note", "case:T-1", {"text": "x", "files": records})])


def test_export_refuses_path_traversal(
    tmp_path: Path, case_dir: Path, cli: Cli, forensic_env: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not evidence of this case\n")
    rec = {
        "path": "../outside.txt",
        "sha256": hashlib.sha256(outside.read_bytes()).hexdigest(),
        "size": outside.stat().st_size,
    }
    _sign_files_record(case_dir, forensic_env, [rec])
    ver = cli("verify", "--case", case_dir, "--no-record", "--json")
    assert ver.exit_code == 1 and "file_path_invalid" in ver.stdout
    dest = tmp_path / "bag"
    res = cli("export", "--case", case_dir, "--out", dest)
    assert res.exit_code == 1
    assert "../outside.txt" in res.stderr + res.stdout
    assert not dest.exists()
    assert outside.read_bytes() == b"not evidence of this case\n"


def test_export_does_not_follow_a_symlinked_case_file(
    tmp_path: Path, case_dir: Path, cli: Cli
) -> None:
    target = case_dir / "verify.sh"
    fake = tmp_path / "fake.sh"
    fake.write_bytes(target.read_bytes())  # same bytes: only the link itself is wrong
    os.chmod(target, 0o644)
    target.unlink()
    os.symlink(fake, target)
    dest = tmp_path / "bag"
    res = cli("export", "--case", case_dir, "--out", dest)
    assert res.exit_code == 1, res.stdout + res.stderr
    assert "verify.sh" in res.stderr + res.stdout and "link" in res.stderr + res.stdout
    assert not dest.exists()


def test_c1_control_characters_shown_escaped(tmp_path: Path, case_dir: Path, cli: Cli) -> None:
    src = tmp_path / "c1"
    src.mkdir()
    (src / "csi\x9b31m.txt").write_bytes(b"c1\n")
    assert cli("capture", src, "--case", case_dir).exit_code == 0
    res = cli("list", "--case", case_dir)
    assert res.exit_code == 0
    assert "\x9b" not in res.stdout + res.stderr


# -- KakaoTalk zip exports: bombs and traversal ---------------------------------------------------
def _transcript_doc(case_dir: Path) -> dict[str, object]:
    from tests.casetools import log_entries

    (entry,) = [e for e in log_entries(case_dir) if e["action"] == "transcript"]
    doc: dict[str, object] = json.loads(
        (case_dir / entry["details"]["files"][0]["path"]).read_text("utf-8")
    )
    return doc


def _kakao_zip(path: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    from tests.chatexports import KAKAO_ANDROID_KO

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("KakaoTalkChats.txt", KAKAO_ANDROID_KO)
        for info, data in extra:
            zf.writestr(info, data)
    return path


def _declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite a member's uncompressed size in both headers (a lying zip)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig + b"")
        while at >= 0:
            name_off = 30 if sig == b"PK\x03\x04" else 46
            n = int.from_bytes(data[at + (26 if sig == b"PK\x03\x04" else 28) :][:2], "little")
            if bytes(data[at + name_off : at + name_off + n]) == name:
                data[at + off : at + off + 4] = size.to_bytes(4, "little")
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))


def test_kakaotalk_zip_bombs_are_bounded(tmp_path: Path, case_dir: Path, cli: Cli) -> None:
    """High ratio, a huge declared size, a nested zip: acquired byte for byte, never inflated;
    the transcript names each member not read and why."""
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (40 << 20))
    z = _kakao_zip(
        tmp_path / "bomb.zip",
        [
            ("zeros.bin", b"\0" * (40 << 20)),  # 40 MiB at ~1000:1
            ("liar.bin", b"x" * 1000),
            ("nested.zip", inner.read_bytes()),
        ],
    )
    _declare_size(z, "liar.bin", 0xFFFF_FFF0)  # claims 4 GiB
    res = cli("capture", "--case", case_dir, "--json", z)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = _transcript_doc(case_dir)
    by = {a["member"]: a for a in doc["attachments"]}  # type: ignore[attr-defined]
    assert by["zeros.bin"]["status"] == "not_read" and "zip bomb" in by["zeros.bin"]["reason"]
    assert by["liar.bin"]["status"] == "not_read" and "4294967280" in by["liar.bin"]["reason"]
    # the nested zip is an attachment hashed as it is: never opened, never recursed into
    assert by["nested.zip"]["sha256"] == hashlib.sha256(inner.read_bytes()).hexdigest()
    assert "zeros.bin" not in json.dumps(doc["chats"])
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def test_kakaotalk_zip_too_large_in_total_is_not_parsed(tmp_path: Path, case_dir: Path, cli: Cli):
    """Declared total past the bound: the zip is not read as a chat export at all (acquired as a
    plain file), and the recognition says why."""
    from forensic.capture.kakaotalk import MAX_DECLARED_TOTAL, KakaoTalkSource, NotKakaoTalk

    members = [(f"part{i}.bin", b"y" * 100) for i in range(5)]
    z = _kakao_zip(tmp_path / "huge.zip", members)
    for name, _ in members:
        _declare_size(z, name, 0xFFFF_FFF0)
    assert MAX_DECLARED_TOTAL < 5 * 0xFFFF_FFF0
    with pytest.raises(NotKakaoTalk, match="zip bomb"):
        KakaoTalkSource.recognise(bytes(z))
    res = cli("capture", "--case", case_dir, "--json", z)
    assert res.exit_code == 0, res.stderr
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def test_kakaotalk_zip_traversal_and_symlinks_write_nothing_outside(
    tmp_path: Path, case_dir: Path, cli: Cli
) -> None:
    link = zipfile.ZipInfo("photo.jpg")
    link.external_attr = (0o120777 << 16) | 0  # a symlink entry pointing at /etc/passwd
    z = _kakao_zip(
        tmp_path / "evil.zip",
        [
            ("../../escape.txt", b"evil"),
            ("/abs/escape.txt", b"evil"),
            ("C:\\win\\escape.txt", b"evil"),
            (link, b"/etc/passwd"),
        ],
    )
    before = {p for p in tmp_path.parent.rglob("*") if case_dir not in p.parents}
    res = cli("capture", "--case", case_dir, "--json", z)
    out = json.loads(res.stdout)
    escapes = [f for f in out["failures"] if f["reason"] == "chat.path_escapes"]
    assert {f["message"].count("escape.txt") > 0 for f in escapes} == {True}
    assert len(escapes) == 3
    doc = _transcript_doc(case_dir)
    by = {a["member"]: a for a in doc["attachments"]}  # type: ignore[attr-defined]
    assert by["photo.jpg"]["status"] == "not_read" and "symbolic link" in by["photo.jpg"]["reason"]
    after = {p for p in tmp_path.parent.rglob("*") if case_dir not in p.parents}
    assert after == before, after - before  # nothing written outside the case
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_control_characters_shown_escaped_in_the_pdf_report(
    hostile_case: tuple[Path, Path], cli: Cli, tmp_path: Path
) -> None:
    from tests.test_report import make_test_ca

    case, _ = hostile_case
    _ca, cert, key = make_test_ca(tmp_path)
    assert cli("key", "cert", "--import", cert, key).exit_code == 0
    res = cli("report", "--case", case, "--demo-tsa", "--preview", "none", "--json")
    assert res.exit_code == 0, res.stderr
    pdf = json.loads(res.stdout)["report"]["path"]
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "invoice" in text
    assert not _clean(text), _clean(text)
    assert "202e" in text.lower(), "the RTL override must be shown, escaped, not dropped"
