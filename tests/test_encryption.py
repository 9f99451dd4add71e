"""Encryption at rest (age, X25519) and the access log, end to end through the CLI.

Interoperability is checked with Debian's reference ``age``/``age-keygen`` binaries: a recipient
added with ``share`` decrypts an exported object, and the examiner's passphrase unwraps the case
identity with ``age -d`` (age reads passphrases from a terminal only, so ``script`` provides one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from forensic.case import step as step_mod
from tests.conftest import PASSPHRASE, Cli, examiner_session

needs_age = pytest.mark.skipif(
    shutil.which("age") is None or shutil.which("age-keygen") is None, reason="needs age"
)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """age's default scrypt work factor (2^18) costs ~1 s per wrap; tests use the minimum."""
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")


def _evidence(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    rng = np.random.default_rng(11)
    arr = rng.integers(0, 256, size=(96, 128, 3), dtype=np.uint8)
    Image.fromarray(arr).save(folder / "photo.png", "PNG")
    (folder / "blob.bin").write_bytes(rng.bytes(150_000))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _init(cli: Cli, path: Path, *extra: str) -> None:
    res = cli("init", path, "--case-id", "E-1", "--title", "Enc", "--examiner", "Ex", *extra)
    assert res.exit_code == 0, res.stderr


def _leaks(root: Path, originals: dict[str, bytes]) -> list[str]:
    """Files under ``root`` holding any 64-byte window of any original (sampled densely)."""
    probes = [
        data[i : i + 64]
        for data in originals.values()
        for i in range(0, max(1, len(data) - 64), max(1, len(data) // 40))
    ]
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            blob = (Path(dirpath) / name).read_bytes()
            if any(p in blob for p in probes):
                found.append(str(Path(dirpath, name).relative_to(root)))
    return found


def _sh(script: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script), *map(str, args)], capture_output=True, text=True, check=False
    )


def _access(cli: Cli, case: Path) -> list[dict[str, object]]:
    """``log --access``: access entries and export entries (their ``details.access``)."""
    res = cli("log", "--case", case, "--access", "--json")
    assert res.exit_code == 0, res.stderr
    out = []
    for e in json.loads(res.stdout)["entries"]:
        acc = e["details"] if e["action"] == "access" else e["details"]["access"]
        out.append({**acc, "actor": e["actor"], "time": e["time"], "action": e["action"]})
    return out


def _items(cli: Cli, case: Path) -> list[dict[str, object]]:
    res = cli("list", "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    items: list[dict[str, object]] = json.loads(res.stdout)["items"]
    return items


@pytest.fixture
def enc_case(tmp_path: Path, cli: Cli) -> tuple[Path, dict[str, bytes]]:
    case = tmp_path / "case"
    _init(cli, case, "--encrypt")
    originals = _evidence(tmp_path / "src")
    res = cli("capture", tmp_path / "src", "--case", case)
    assert res.exit_code == 0, res.stderr
    return case, originals


def test_encrypted_case_stores_no_plaintext_and_verifies_with_and_without_key(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, originals = enc_case
    assert _leaks(case, originals) == []
    doc = json.loads((case / "case.json").read_text())
    assert doc["encryption"]["scheme"] == "age-x25519"
    assert doc["encryption"]["recipients"][0].startswith("age1")
    # Item ids stay the plaintext SHA-256; objects are named by the ciphertext's SHA-256.
    want = {hashlib.sha256(b).hexdigest() for b in originals.values()}
    items = _items(cli, case)
    assert {i["sha256"] for i in items} == want
    for item in items:
        obj = case / str(item["object"])
        assert hashlib.sha256(obj.read_bytes()).hexdigest() == obj.name != item["sha256"]
        assert obj.read_bytes().startswith(b"age-encryption.org/v1\n")
    log = (case / "custody" / "log.jsonl").read_text()
    assert '"plaintext_sha256"' in log and '"decrypted":true' in log  # capture's decrypt-check

    # A third party without the passphrase: ciphertext hashes only, and it says so.
    monkeypatch.delenv("FORENSIC_PASSPHRASE")
    res = cli("verify", "--case", case, "--no-record", "--json")
    assert res.exit_code == 0, res.stdout
    report = json.loads(res.stdout)
    assert report["encrypted_objects"] == 2 and report["plaintext_checked"] == 0
    res = cli("verify", "--case", case, "--no-record")
    assert "ciphertext only" in res.stdout
    script = _sh(case / "verify.sh")
    assert script.returncode == 0, script.stdout
    assert "encrypted case" in script.stdout and "cannot be checked" in script.stdout

    monkeypatch.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
    res = cli("verify", "--case", case, "--decrypt", "--json")
    assert res.exit_code == 0, res.stdout
    assert json.loads(res.stdout)["plaintext_checked"] == 2
    assert "verify" in [e["verb"] for e in _access(cli, case)]


def test_tampered_ciphertext_is_named_and_wrong_passphrase_is_one_line(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, _ = enc_case
    obj = case / str(_items(cli, case)[0]["object"])
    os.chmod(obj, 0o644)
    data = bytearray(obj.read_bytes())
    data[-10] ^= 1
    obj.write_bytes(bytes(data))
    res = cli("verify", "--case", case, "--no-record", "--json")
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["problems"]
    rel = obj.relative_to(case).as_posix()
    assert [(p["kind"], p["location"]) for p in problems] == [("object_altered", rel)]
    script = _sh(case / "verify.sh")
    assert script.returncode == 1 and rel in script.stdout

    monkeypatch.setenv("FORENSIC_PASSPHRASE", "not the passphrase")
    res = cli("verify", "--case", case, "--decrypt")
    assert res.exit_code == 2
    assert "passphrase" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_wrapped_case_key_with_a_wrong_passphrase_is_refused(
    enc_case: tuple[Path, dict[str, bytes]],
) -> None:
    from forensic.case import Case
    from forensic.store.crypt import CryptError

    case = Case.open(enc_case[0], examiner_session())
    assert case.store.crypto is not None
    with pytest.raises(CryptError) as err:
        case.store.crypto.identity("wrong")
    assert err.value.key == "wrong_passphrase"
    assert "case-identity.age" in err.value.diagnostics("en")


@needs_age
def test_share_lets_debian_age_decrypt_an_exported_object(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, tmp_path: Path
) -> None:
    case, originals = enc_case
    res = cli("share", "--recipient", "age1notakey", "--case", case)
    assert res.exit_code == 2 and "age1notakey" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    key = tmp_path / "lawyer.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    pub = next(line.split(": ")[1] for line in key.read_text().splitlines() if "public key" in line)
    before = {str(i["object"]) for i in _items(cli, case)}
    res = cli("share", "--recipient", pub, "--case", case, "--json")
    assert res.exit_code == 0, res.stdout
    doc = json.loads(res.stdout)["share"]
    assert doc["added"] == [pub] and doc["objects"] == 2
    after = {str(i["object"]) for i in _items(cli, case)}
    assert before.isdisjoint(after)
    assert not any((case / rel).exists() for rel in before)  # superseded ciphertext removed
    assert cli("verify", "--case", case, "--decrypt").exit_code == 0
    assert _sh(case / "verify.sh").returncode == 0

    bag = tmp_path / "bag"
    res = cli("export", "--out", bag, "--case", case)
    assert res.exit_code == 0, res.stderr
    assert not (bag / "data" / "keys" / "case-identity.age").exists()
    assert (bag / "data" / "keys" / "recipients.txt").read_text().count("age1") == 2
    script = _sh(bag / "verify.sh")
    assert script.returncode == 0, script.stdout
    by_sha = {hashlib.sha256(b).hexdigest(): b for b in originals.values()}
    for item in _items(cli, case):
        out = subprocess.run(
            ["age", "-d", "-i", str(key), str(bag / "data" / str(item["object"]))],
            capture_output=True,
            check=True,
        ).stdout
        assert out == by_sha[str(item["sha256"])]
    assert _leaks(bag, originals) == []


@needs_age
def test_debian_age_unwraps_the_case_identity_with_the_passphrase(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, tmp_path: Path
) -> None:
    if shutil.which("script") is None:
        pytest.skip("needs script(1) to give age a terminal")
    case, _originals = enc_case
    ident = tmp_path / "case-key.txt"
    cmd = f"age -d -o {ident} {case / 'keys' / 'case-identity.age'}"
    subprocess.run(
        ["script", "-qec", cmd, "/dev/null"],
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "AGE-SECRET-KEY-1" in ident.read_text()
    item = _items(cli, case)[0]
    out = subprocess.run(
        ["age", "-d", "-i", str(ident), str(case / str(item["object"]))],
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(out).hexdigest() == item["sha256"]


def test_export_decrypt_writes_checked_plaintext_and_logs_access(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, tmp_path: Path
) -> None:
    case, originals = enc_case
    bag = tmp_path / "plainbag"
    res = cli("export", "--out", bag, "--decrypt", "--case", case)
    assert res.exit_code == 0, res.stderr
    plain = sorted((bag / "data" / "plaintext" / "sha256").rglob("*"))
    files = [p for p in plain if p.is_file()]
    assert len(files) == 2
    sums = subprocess.run(
        ["sha256sum", *map(str, files)], capture_output=True, text=True, check=True
    ).stdout
    for line in sums.splitlines():
        digest, path = line.split("  ", 1)
        assert digest == Path(path).name
        assert Path(path).read_bytes() in originals.values()
    script = _sh(bag / "verify.sh")
    assert script.returncode == 0, script.stdout
    assert "decrypted items (data/plaintext/): 2" in script.stdout
    # Tampering a plaintext file is named by the bag checker.
    victim = files[0]
    os.chmod(victim, 0o644)
    victim.write_bytes(b"x" + victim.read_bytes()[1:])
    assert _sh(bag / "verify.sh").returncode == 1

    last = _access(cli, case)[-1]
    assert last["action"] == "export"
    assert last["verb"] == "export --decrypt" and last["decrypted"] is True
    assert len(last["items"]) == 2  # type: ignore[arg-type]


def test_show_report_and_export_are_in_the_access_log(
    enc_case: tuple[Path, dict[str, bytes]], cli: Cli, tmp_path: Path
) -> None:
    from tests.test_report import make_test_ca

    case, originals = enc_case
    photo = hashlib.sha256(originals["photo.png"]).hexdigest()
    res = cli("show", photo[:12], "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["access_seq"] is not None
    _ca, cert, key = make_test_ca(tmp_path)
    assert cli("key", "cert", "--import", cert, key).exit_code == 0
    res = cli("report", "--case", case, "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    pdf = Path(json.loads(res.stdout)["report"]["path"])
    # In the case the report is age ciphertext (a derived file); it decrypts to the PDF.
    from forensic.case import Case, read_case_file

    assert pdf.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert read_case_file(Case.open(case, examiner_session()), pdf).startswith(b"%PDF")
    assert cli("export", "--out", tmp_path / "b", "--case", case).exit_code == 0
    entries = _access(cli, case)
    by_verb = {e["verb"]: e for e in entries}
    assert by_verb["show"]["items"] == [photo]
    assert by_verb["show"]["decrypted"] is False
    assert photo in by_verb["report"]["items"]  # type: ignore[operator]  (blurred preview)
    assert by_verb["report"]["decrypted"] is True
    assert by_verb["export"]["decrypted"] is False
    for e in entries:
        assert len(str(e["actor"])) == 64 and e["time"]
    table = cli("log", "--case", case, "--access").stdout
    assert "access: show" in table and "access: report" in table
    assert _leaks(case / "objects", originals) == []
    assert cli("verify", "--case", case, "--no-record").exit_code == 0


def test_switch_plain_case_to_encrypted(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    originals = _evidence(tmp_path / "src")
    assert cli("capture", tmp_path / "src", "--case", case_dir).exit_code == 0
    assert _leaks(case_dir / "objects", originals)  # plain case: the objects are the evidence
    res = cli("encrypt", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["encrypt"]["objects"] == 2
    assert _leaks(case_dir / "objects", originals) == []
    assert cli("verify", "--case", case_dir, "--decrypt").exit_code == 0
    assert _sh(case_dir / "verify.sh").returncode == 0
    res = cli("encrypt", "--case", case_dir)
    assert res.exit_code == 2 and "already encrypted" in res.stderr
    log = (case_dir / "custody" / "log.jsonl").read_text()
    entry = json.loads(next(ln for ln in log.splitlines() if '"action":"encrypt"' in ln))
    for rec in entry["details"]["objects"]:
        assert rec["from"].endswith(rec["item"]) and rec["to"].endswith(rec["sha256"])


class _Crash(Exception):
    """Stands in for a power cut at a chosen point."""


@pytest.mark.parametrize("point", ["objects_written", "logged"])
def test_interrupted_switch_is_named_by_verify_and_recovered(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    originals = _evidence(tmp_path / "src")
    assert cli("capture", tmp_path / "src", "--case", case_dir).exit_code == 0

    def crash(action: str, at: str) -> None:
        if action == "encrypt" and at == point:
            raise _Crash(at)

    with monkeypatch.context() as patch:
        patch.setattr(step_mod, "fault_point", crash)
        res = cli("encrypt", "--case", case_dir)
    assert res.exit_code == 3
    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    assert res.exit_code == 1
    kinds = {p["kind"] for p in json.loads(res.stdout)["problems"]}
    assert "run_interrupted" in kinds
    if point == "logged":
        # Committed: recover finishes it (case.json and keys move in, plaintext goes).
        assert {"conversion_unfinished", "object_superseded"} <= kinds
    res = cli("recover", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout
    res = cli("verify", "--case", case_dir, "--decrypt", "--json")
    assert res.exit_code == 0, res.stdout
    encrypted = json.loads((case_dir / "case.json").read_text()).get("encryption") is not None
    assert encrypted is (point == "logged")
    if encrypted:
        assert _leaks(case_dir, originals) == []
    else:
        # Rolled back: still plain; the unrecorded new ciphertext was quarantined and logged.
        assert any((case_dir / "quarantine").iterdir())
        assert cli("encrypt", "--case", case_dir).exit_code == 0
    assert _sh(case_dir / "verify.sh").returncode == 0


def test_chat_export_in_an_encrypted_case_is_parsed_from_decrypted_memory(
    tmp_path: Path, cli: Cli
) -> None:
    from tests.chatexports import make_telegram_json

    case = tmp_path / "case"
    _init(cli, case, "--encrypt")
    export = make_telegram_json(tmp_path / "tg")
    res = cli("capture", export, "--case", case, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    transcripts = list((case / "transcripts").glob("*.json"))
    assert len(transcripts) == 1
    # The transcript itself is age ciphertext (a derived file): read it through the case.
    from forensic.case import Case, read_case_file

    assert transcripts[0].read_bytes().startswith(b"age-encryption.org/v1\n")
    doc = json.loads(read_case_file(Case.open(case, examiner_session()), transcripts[0]))
    messages = doc["chats"][0]["messages"]
    assert [m["id"] for m in messages] == ["1", "2", "3", "4", "5", "6"]
    photo = messages[2]["media"][0]
    assert photo["status"] == "acquired" and photo["width"] == 640
    raw = (export / "result.json").read_bytes()
    assert _leaks(case / "objects", {"result.json": raw}) == []
    assert cli("verify", "--case", case, "--no-record").exit_code == 0


@pytest.mark.parametrize(
    ("lang", "wording"),
    [
        ("en", "Nothing was changed: the case stays unencrypted"),
        ("ko", "아무것도 바꾸지 않았습니다"),
    ],
)
def test_switch_refuses_a_weak_passphrase_and_changes_nothing(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, lang: str, wording: str
) -> None:
    monkeypatch.setenv("FORENSIC_PASSPHRASE", "1234")
    case = tmp_path / "case"
    res = cli("init", case, "--case-id", "W-1", "--title", "Weak", "--examiner", "Examiner")
    assert res.exit_code == 0, res.stderr  # a plain case only warns
    originals = _evidence(tmp_path / "src")
    assert cli("capture", tmp_path / "src", "--case", case).exit_code == 0
    log_before = (case / "custody" / "log.jsonl").read_bytes()
    case_json_before = (case / "case.json").read_bytes()
    res = cli("encrypt", "--case", case, "--lang", lang)
    assert res.exit_code == 2, res.stdout + res.stderr
    text = " ".join(res.stderr.split())
    assert wording in text, text
    if lang == "ko":
        assert "too easy" not in text and "sequence" not in text, text
    assert (case / "custody" / "log.jsonl").read_bytes() == log_before
    assert (case / "case.json").read_bytes() == case_json_before
    assert _leaks(case / "objects", originals)  # still the plain evidence
    assert cli("verify", "--case", case, "--no-record").exit_code == 0
    res = cli("encrypt", "--case", case, "--json")
    assert res.exit_code == 2 and json.loads(res.stdout or res.stderr)
