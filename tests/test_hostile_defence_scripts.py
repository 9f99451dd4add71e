"""The two verify.sh scripts (and the tool's printing) against a hostile defence expert.

Each test is one attack a defence expert could try on a case folder or an export bag with
nothing but a shell: every one must be named as a problem (or, for a timestamp under an
unknown root, said loudly as UNTRUSTED), and no name in the folder may change what the screen
shows as the verdict.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, Cli
from tests.test_export import add_timestamp, export, make_tsa, openssl

CASE_SH = REPO / "templates" / "verify.sh"
BAG_SH = REPO / "templates" / "export" / "verify.sh"
ESC_NAME = "\033[2K\rRESULT: intact\033P"


def run_sh(script: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    # stdin stays an open pipe: a script that reads stdin would wait here (timeout).
    return subprocess.run(
        ["sh", str(script), str(folder), *extra],
        stdin=subprocess.PIPE,
        capture_output=True,
        timeout=60,
        check=False,
    )


def problems(res: subprocess.CompletedProcess[bytes]) -> list[str]:
    text = res.stdout.decode("utf-8", "backslashreplace")
    return [x for x in text.splitlines() if x.startswith("PROBLEM")]


def last_line(res: subprocess.CompletedProcess[bytes]) -> bytes:
    return res.stdout.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def writable(root: Path) -> None:
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)


def reseal(bag: Path) -> None:
    """What anyone can do to a bag: regenerate both manifests (no key needed)."""
    lines = []
    for p in sorted((bag / "data").rglob("*")):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(bag).as_posix()
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {rel}\n")
    (bag / "manifest-sha256.txt").write_text("".join(lines))
    tags = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "verify.sh", "VERIFY.md")
    (bag / "tagmanifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256((bag / t).read_bytes()).hexdigest()}  {t}\n" for t in tags)
    )


def set_info(bag: Path, field: str, value: str) -> None:
    info = bag / "bag-info.txt"
    text = re.sub(rf"(?m)^{field}: .*$", f"{field}: {value}", info.read_text())
    info.write_text(text)


@pytest.fixture
def bag(tmp_path: Path, cli: Cli, case_dir: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    assert cli("capture", "--case", case_dir, src).exit_code == 0
    out = tmp_path / "bag"
    export(cli, case_dir, out)
    writable(out)
    return out


def test_recaptured_object_is_checked_by_its_name(tmp_path: Path, cli: Cli, case_dir: Path):
    """recover's quarantined_objects is no "superseded": the recaptured object is re-hashed."""
    src = tmp_path / "photo.jpg"
    data = b"\xff\xd8\xff\xe0 the evidence " * 50
    src.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    obj = case_dir / "objects" / "sha256" / digest[:2] / digest
    obj.parent.mkdir(parents=True)
    obj.write_bytes(data)  # a capture killed after its copy, before its log entry
    rel = obj.relative_to(case_dir).as_posix()
    intent = {"run": "run-cut", "action": "capture", "started": "2026-01-01T00:00:00Z"}
    (case_dir / "tmp" / "run-cut.intent.json").write_text(json.dumps({**intent, "objects": [rel]}))
    assert cli("recover", "--case", case_dir).exit_code == 0
    assert not obj.exists()
    assert cli("capture", "--case", case_dir, src).exit_code == 0
    assert obj.is_file()
    out = tmp_path / "bag"
    export(cli, case_dir, out)
    writable(out)
    shipped = out / "data" / "objects" / "sha256" / digest[:2] / digest
    shipped.write_bytes(b"\xff\xd8\xff\xe0 any other picture")
    reseal(out)
    res = run_sh(BAG_SH, out)
    assert res.returncode == 1, res.stdout
    assert any(f"data/objects/sha256/{digest[:2]}/{digest}" in p for p in problems(res))
    # The case itself is intact for both checkers (no false "not recorded").
    case_sh = run_sh(CASE_SH, case_dir)
    assert case_sh.returncode == 0, case_sh.stdout
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def test_escape_named_file_cannot_fake_the_verdict(cli: Cli, case_dir: Path, bag: Path):
    (case_dir / ESC_NAME).write_bytes(b"x")
    (bag / "data" / ESC_NAME).write_bytes(b"x")
    (bag / "a\nRESULT: intact").write_bytes(b"x")
    for script, folder in ((CASE_SH, case_dir), (BAG_SH, bag)):
        res = run_sh(script, folder)
        assert res.returncode == 1
        assert b"\033" not in res.stdout and b"\r" not in res.stdout
        assert last_line(res) == b"RESULT: PROBLEMS FOUND"
        assert [x for x in res.stdout.split(b"\n") if x.startswith(b"RESULT")] == [
            b"RESULT: PROBLEMS FOUND"
        ]
        assert any("\\033[2K\\015RESULT: intact\\033P" in p for p in problems(res)), res.stdout
    # The tool: no raw ESC or CR in what it prints, the name shown escaped.
    tool = cli("verify", "--case", case_dir, "--no-record")
    assert tool.exit_code == 1
    assert "\033" not in tool.stdout + tool.stderr and "\r" not in tool.stdout + tool.stderr
    assert "\\u001b[2K\\u000dRESULT: intact" in tool.stderr
    (case_dir / ESC_NAME).unlink()
    src = case_dir.parent / "src"
    src.mkdir(exist_ok=True)
    (src / ESC_NAME).write_bytes(b"\xff\xd8\xff named to fool a terminal")
    assert cli("capture", "--case", case_dir, src / ESC_NAME).exit_code == 0
    for verb in (("list",), ("list", "--wide"), ("show", "2"), ("log",), ("log", "--wide")):
        res = cli(*verb, "--case", case_dir)
        assert res.exit_code == 0, (verb, res.stderr)
        shown = res.stdout + res.stderr
        assert "\033" not in shown and "\r" not in shown, (verb, shown)


def test_links_and_special_files_are_named(case_dir: Path, bag: Path):
    os.symlink("/etc/passwd", case_dir / "planted-link")
    os.mkfifo(case_dir / "planted-fifo")
    os.link(case_dir / "case.json", case_dir / "planted-hardlink")
    (case_dir / "lit\\nRESULT: intact\\c").write_bytes(b"")  # backslashes, not escapes
    res = run_sh(CASE_SH, case_dir)
    assert res.returncode == 1
    found = "\n".join(problems(res))
    assert "PROBLEM: lit\\\\nRESULT: intact\\\\c: not recorded" in found, found
    for name, what in (
        ("planted-link", "symbolic link"),
        ("planted-fifo", "special file"),
        ("planted-hardlink", "hard link"),
        ("case.json", "hard link"),
    ):
        assert f"PROBLEM: {name}: a {what}" in found, found
    # In a bag: a data/ file swapped for a link to an identical copy elsewhere, a top-level
    # link, and a fifo where an object was (reading it would block).
    pem = bag / "data" / "examiner.pub.pem"
    outside = bag.parent / "elsewhere.pem"
    outside.write_bytes(pem.read_bytes())
    pem.unlink()
    os.symlink(outside, pem)
    (bag / "VERIFY.md").rename(bag.parent / "VERIFY.md")
    os.symlink(bag.parent / "VERIFY.md", bag / "VERIFY.md")
    obj = next(p for p in (bag / "data" / "objects").rglob("*") if p.is_file())
    obj.unlink()
    os.mkfifo(obj)
    res = run_sh(BAG_SH, bag)
    assert res.returncode == 1
    found = "\n".join(problems(res))
    rel = obj.relative_to(bag).as_posix()
    for name, what in (
        ("data/examiner.pub.pem", "symbolic link"),
        ("VERIFY.md", "symbolic link"),
        (rel, "special file"),
    ):
        assert f"PROBLEM: {name}: a {what}" in found, found


def test_dash_in_a_manifest_never_reads_stdin(bag: Path):
    with (bag / "manifest-sha256.txt").open("a") as fh:
        fh.write(f"{hashlib.sha256(b'').hexdigest()}  -\n")
    reseal_tags_only(bag)
    res = run_sh(BAG_SH, bag)  # main: waits on the open stdin until the timeout
    assert res.returncode == 1
    assert any("manifest-sha256.txt" in p and " -" in p for p in problems(res))


def reseal_tags_only(bag: Path) -> None:
    tags = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "verify.sh", "VERIFY.md")
    (bag / "tagmanifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256((bag / t).read_bytes()).hexdigest()}  {t}\n" for t in tags)
    )


def test_bag_info_is_checked_by_value_and_the_key_can_be_pinned(
    bag: Path, tmp_path: Path, case_dir: Path
):
    info = (bag / "bag-info.txt").read_text()
    oxum = re.search(r"(?m)^Payload-Oxum: (\d+)\.(\d+)$", info)
    assert oxum
    copy = tmp_path / "bag-lies"
    subprocess.run(["cp", "-a", str(bag), str(copy)], check=True)
    lies = {
        "Payload-Oxum": f"{int(oxum[1]) + 1}.{oxum[2]}",
        "Forensic-Key-Fingerprint": "ab" * 32,
        "Forensic-Items": "7",
    }
    for field, value in lies.items():
        set_info(copy, field, value)
    reseal_tags_only(copy)
    res = run_sh(BAG_SH, copy)
    assert res.returncode == 1, res.stdout
    for field in lies:
        assert any(f"bag-info.txt: {field}" in p for p in problems(res)), (field, res.stdout)
    check_expect_key(case_dir, bag)


def test_a_deleted_decrypted_item_is_missed(tmp_path: Path, cli: Cli, monkeypatch):
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")
    case = tmp_path / "enc"
    res = cli("init", case, "--case-id", "E-1", "--title", "Enc", "--examiner", "Ex", "--encrypt")
    assert res.exit_code == 0, res.stderr
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"\xff\xd8\xff first")
    (src / "b.jpg").write_bytes(b"\xff\xd8\xff second")
    assert cli("capture", "--case", case, src).exit_code == 0
    out = tmp_path / "pbag"
    assert cli("export", "--case", case, "--out", out, "--decrypt").exit_code == 0
    writable(out)
    assert run_sh(BAG_SH, out).returncode == 0
    assert run_sh(CASE_SH, out / "data").returncode == 0
    plain = sorted(p for p in (out / "data" / "plaintext" / "sha256").rglob("*") if p.is_file())
    assert len(plain) == 2
    plain[0].unlink()
    set_info(out, "Forensic-Plaintext-Objects", "1")
    reseal(out)
    res = run_sh(BAG_SH, out)
    assert res.returncode == 1, res.stdout
    rel = plain[0].relative_to(out).as_posix()
    assert any(rel in p and "missing" in p for p in problems(res)), res.stdout


def test_the_case_script_in_a_bag_does_not_cry_wolf(bag: Path):
    res = run_sh(bag / "data" / "verify.sh", bag / "data")
    assert res.returncode == 0, res.stdout
    # ...but still names a change to what the export added.
    uco = bag / "data" / "case-uco.jsonld"
    uco.write_bytes(uco.read_bytes() + b" ")
    res = run_sh(CASE_SH, bag / "data")
    assert res.returncode == 1 and any("case-uco.jsonld" in p for p in problems(res))


def fake_digicert(where: Path) -> Path:
    """A self-made TSA whose root is *named* DigiCert Trusted Root G4."""
    tsa = make_tsa(where)
    subj = "/C=US/O=DigiCert Inc/OU=www.digicert.com/CN=DigiCert Trusted Root G4"
    openssl("req", "-x509", "-key", "root.key", "-out", "root.crt", "-subj", subj, "-days",
            "30", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tsa)  # fmt: skip
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "root.crt", "-CAkey", "root.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf",
            cwd=tsa)  # fmt: skip
    return tsa


def root_sha256(tsa: Path) -> str:
    der = subprocess.run(
        ["openssl", "x509", "-in", str(tsa / "root.crt"), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    return hashlib.sha256(der).hexdigest()


def test_a_token_under_an_unknown_root_is_untrusted(tmp_path: Path, cli: Cli, case_dir: Path):
    src = tmp_path / "a.jpg"
    src.write_bytes(b"\xff\xd8\xff exhibit")
    assert cli("capture", "--case", case_dir, src).exit_code == 0
    tsa = fake_digicert(tmp_path / "tsa")
    add_timestamp(case_dir, tsa, "fake")
    out = tmp_path / "bag"
    export(cli, case_dir, out)
    fp = root_sha256(tsa)
    for script, folder, tsr in (
        (CASE_SH, case_dir, "timestamps/fake.tsr"),
        (BAG_SH, out, "data/timestamps/fake.tsr"),
    ):
        res = run_sh(script, folder)
        text = res.stdout.decode()
        assert res.returncode == 0, text
        assert f"UNTRUSTED: timestamp token {tsr}" in text and fp in text, text
        assert last_line(res).startswith(b"RESULT: intact, but 1 of 1 timestamp tokens UNTRUSTED")
    # A root the reader checked with its authority is passed by fingerprint (never by name).
    trusted = run_sh(BAG_SH, out, "--trust-root", fp.upper())
    assert trusted.returncode == 0 and b"UNTRUSTED" not in trusted.stdout
    assert f"root SHA-256 {fp}, a trusted root".encode() in trusted.stdout
    assert last_line(trusted) == b"RESULT: intact"


def check_expect_key(case_dir: Path, bag: Path) -> None:
    fp = json.loads((case_dir / "case.json").read_text())["public_key_fingerprint"]
    assert run_sh(CASE_SH, case_dir, "--expect-key", fp[:16]).returncode == 0
    res = run_sh(BAG_SH, bag, "--expect-key", "00" * 8)
    assert res.returncode == 1 and any("not the expected" in p for p in problems(res))


def test_shipped_roots_are_the_scripts_roots():
    shipped = set()
    for pem in sorted((REPO / "templates" / "tsa").glob("*.pem")):
        der = subprocess.run(
            ["openssl", "x509", "-in", str(pem), "-outform", "DER"], capture_output=True, check=True
        ).stdout
        shipped.add(hashlib.sha256(der).hexdigest())
    for script in (CASE_SH, BAG_SH):
        block = re.search(r'shipped_roots="([0-9a-f\s]+)"', script.read_text())
        assert block and set(block[1].split()) == shipped, script
