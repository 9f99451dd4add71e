"""A hostile defence expert against trusted time, the case key and the log's tail.

The expert holds a copy of the case. They can re-sign every line under a key of their own and
stamp the result through a TSA they made, whose root is *named* "DigiCert Trusted Root G4",
with any genTime; or cut the log's tail with the files of the entries they drop. Verification
judges roots by certificate against this machine's anchors, genTime against the log, and the
case against what this machine remembers of it (pinned key, newest head); a third party pins
with ``--expect-key`` and ``--expect-head``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from forensic._internal.canonical import canonical_json
from forensic.case import Case
from forensic.custody.keys import ExaminerKey, create_key
from forensic.service.reading import show_item
from forensic.service.verification import verify
from forensic.session import Session
from forensic.timestamp import TimestampAuthority, stamp_head
from tests import test_timestamp
from tests.casetools import log_entries, make_writable
from tests.conftest import PASSPHRASE, Cli, examiner_session
from tests.test_timestamp import Pki, TsaServer

pki = test_timestamp.pki
tsa_server = test_timestamp.tsa_server

NOW = dt.datetime.now(dt.UTC)
KNOWN_DIR = "known-cases"  # in the examiner home (docs/format.md)
BACKDATED = dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC)


# -- the expert's own TSA, with a root named like DigiCert's --------------------------------
def _cert(
    subject: str, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None, *, tsa: bool
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DigiCert, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, subject),
        ]
    )
    issuer_name, issuer_key = issuer if issuer is not None else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=not tsa, path_length=None), critical=True)
    )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


class FakeDigiCert:
    """A TSA whose root is named "DigiCert Trusted Root G4" but is the expert's own."""

    def __init__(self) -> None:
        self.root, root_key = _cert("DigiCert Trusted Root G4", None, tsa=False)
        self.signer, self.signer_key = _cert(
            "DigiCert Timestamp 2023", (self.root.subject, root_key), tsa=True
        )
        self.tsa = TimestampAuthority(
            "DigiCert",
            "http://timestamp.digicert.com",
            (self.root.public_bytes(serialization.Encoding.PEM),),
        )

    def stamper(self, fixed: dt.datetime | None) -> Any:
        from forensic.timestamp.demo_stamper import _DemoStamper

        der = serialization.Encoding.DER
        key_der = self.signer_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return _DemoStamper(
            tsa_cert=asn1_x509.Certificate.load(self.signer.public_bytes(der)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
            certs_to_embed=[asn1_x509.Certificate.load(self.root.public_bytes(der))],  # type: ignore[arg-type]
            fixed_dt=fixed,
        )


@pytest.fixture(scope="module")
def fake_digicert() -> FakeDigiCert:
    return FakeDigiCert()


# -- the case, and what the expert does to a copy of it --------------------------------------
def _evidence(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / "evidence" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def _captured(cli: Cli, case_dir: Path, tmp_path: Path, *names: str) -> None:
    for name in names:
        body = f"evidence {name}\n".encode() * 50
        res = cli("capture", "--case", case_dir, _evidence(tmp_path, name, body))
        assert res.exit_code == 0, res.stderr


def _rewrite_log(case_dir: Path, entries: list[dict[str, Any]], key: ExaminerKey) -> None:
    """Re-chain and re-sign every entry under ``key`` (what only a key holder can do)."""
    prev = "0" * 64
    lines, sigs = [], []
    for seq, obj in enumerate(entries):
        obj = {**obj, "seq": seq, "prev": prev, "actor": key.fingerprint}
        line = canonical_json(obj)
        lines.append(line + b"\n")
        sigs.append(b"%d %s\n" % (seq, base64.b64encode(key.sign(line))))
        prev = hashlib.sha256(line).hexdigest()
    for name, data in (("log.jsonl", lines), ("log.sig", sigs)):
        path = case_dir / "custody" / name
        make_writable(path)
        path.write_bytes(b"".join(data))


def _file_record(case_dir: Path, rel: str) -> dict[str, Any]:
    data = (case_dir / rel).read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _resign(case_dir: Path, key: ExaminerKey, swapped: bytes) -> None:
    """Swap the first item's bytes and re-sign the whole case under ``key``."""
    entries = log_entries(case_dir)
    pem = key.public_pem.decode("ascii")
    info = json.loads((case_dir / "case.json").read_text("utf-8"))
    info.update(public_key_pem=pem, public_key_fingerprint=key.fingerprint)
    for rel, body in (
        ("case.json", json.dumps(info, indent=2, ensure_ascii=False).encode() + b"\n"),
        ("examiner.pub.pem", key.public_pem),
    ):
        make_writable(case_dir / rel)
        (case_dir / rel).write_bytes(body)
    init = entries[0]["details"]
    init["case"].update(public_key_pem=pem, public_key_fingerprint=key.fingerprint)
    for record in init["files"]:
        if record["path"] in ("case.json", "examiner.pub.pem"):
            record.update(_file_record(case_dir, record["path"]))
    capture = next(e for e in entries if e["action"] == "capture")
    old = case_dir / capture["details"]["object"]
    make_writable(old)
    old.unlink()
    sha = hashlib.sha256(swapped).hexdigest()
    obj = case_dir / "objects" / "sha256" / sha[:2] / sha
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(swapped)
    item = capture["details"]["item"]
    item["hashes"] = {name: hashlib.new(name, swapped).hexdigest() for name in item["hashes"]}
    item.update(sha256=sha, size=len(swapped))
    capture["details"]["object"] = f"objects/sha256/{sha[:2]}/{sha}"
    _rewrite_log(case_dir, entries, key)


def _expert(tmp_path: Path) -> tuple[Session, ExaminerKey]:
    home = tmp_path / "expert-home"
    home.mkdir()
    session = Session(home=home, passphrase_provider=lambda _new: PASSPHRASE)
    return session, create_key(home, PASSPHRASE)


def _forged(
    cli: Cli,
    case_dir: Path,
    tmp_path: Path,
    fake: FakeDigiCert,
    monkeypatch: pytest.MonkeyPatch,
    gen_time: dt.datetime | None,
) -> None:
    """The examiner's case, re-signed by the expert and stamped through the fake DigiCert."""
    _captured(cli, case_dir, tmp_path, "photo.jpg")
    session, key = _expert(tmp_path)
    _resign(case_dir, key, b"not the picture the victim reported\n" * 40)
    with monkeypatch.context() as patched:
        patched.setattr(
            "forensic.timestamp.token.in_process_stamper", lambda _tsa: fake.stamper(gen_time)
        )
        result = stamp_head(Case.open(case_dir, session), key, [fake.tsa], timeout=1)
    assert len(result.tokens) == 1 and result.tokens[0].trusted  # what the case will claim


def _third_party(tmp_path: Path) -> Session:
    """Someone on another machine (a home of their own, no key)."""
    home = tmp_path / "court-expert-home"
    home.mkdir()
    return Session(home=home)


def _kinds(result: Any) -> set[str]:
    return {p.kind for p in result.report.problems}


# -- 1. a re-signed case, a fake root, a backdated genTime, a changed key ---------------------
def test_fake_root_named_digicert_is_untrusted_in_verify_and_show(
    cli: Cli, case_dir: Path, tmp_path: Path, fake_digicert: FakeDigiCert, monkeypatch
) -> None:
    _forged(cli, case_dir, tmp_path, fake_digicert, monkeypatch, None)
    court = _third_party(tmp_path)
    result = verify(court, case_dir)
    assert result.intact, result.report.problems  # the chain and signatures hold: re-signed
    [token] = result.report.tokens
    assert token.ok and not token.trusted and token.token["trusted"] is True
    doc = result.as_dict()
    assert doc["tokens_trusted"] == 0
    [untrusted] = doc["untrusted_tokens"]
    assert untrusted["tsa"] == "DigiCert" and untrusted["recorded_trusted"] is True
    assert (
        untrusted["root_sha256"]
        == hashlib.sha256(fake_digicert.root.public_bytes(serialization.Encoding.DER)).hexdigest()
    )
    view = show_item(court, "1", case_dir)
    assert view.first_trusted_time is not None
    assert view.first_trusted_time["trusted"] is False
    # the command line says it loudly, and show never prints "(DigiCert, …)" as trusted time
    monkeypatch.setenv("FORENSIC_HOME", str(court.home))
    res = cli("verify", "--case", case_dir, "--no-record")
    assert res.exit_code == 0
    assert "WARNING: timestamp token" in res.stderr and "NOT trusted time" in res.stderr
    monkeypatch.setenv("COLUMNS", "240")
    res = cli("show", "--case", case_dir, "1", "--no-record")
    assert res.exit_code == 0
    row = next(line for line in res.stdout.splitlines() if "DigiCert" in line)
    assert "NOT trusted time" in row and "(DigiCert" not in row, row


def test_backdated_gen_time_is_an_integrity_problem(
    cli: Cli, case_dir: Path, tmp_path: Path, fake_digicert: FakeDigiCert, monkeypatch
) -> None:
    _forged(cli, case_dir, tmp_path, fake_digicert, monkeypatch, BACKDATED)
    court = _third_party(tmp_path)
    result = verify(court, case_dir)
    assert not result.intact and not result.report.timestamps_intact
    [problem] = result.report.problems
    assert problem.kind == "gen_time_before_entry" and "2021-03-01" in problem.detail
    view = show_item(court, "1", case_dir)
    assert view.first_trusted_time is None  # a token that contradicts the log is no time
    monkeypatch.setenv("FORENSIC_HOME", str(court.home))
    res = cli("verify", "--case", case_dir, "--no-record")
    assert res.exit_code == 1 and "gen_time_before_entry" in res.stderr


def test_key_changed_after_pinning_is_an_integrity_problem(
    cli: Cli, case_dir: Path, tmp_path: Path, fake_digicert: FakeDigiCert, monkeypatch
) -> None:
    original = Case.open(case_dir).info.public_key_fingerprint
    _forged(cli, case_dir, tmp_path, fake_digicert, monkeypatch, None)
    result = verify(examiner_session(), case_dir)
    assert "key_changed" in _kinds(result) and not result.report.log_intact
    assert result.recorded_seq is None  # nothing appended to the forged log
    home = Path(os.environ["FORENSIC_HOME"])
    [pin] = (home / KNOWN_DIR).iterdir()  # init pinned the key on the examiner's machine
    assert pin.stat().st_mode & 0o777 == 0o600
    assert (home / KNOWN_DIR).stat().st_mode & 0o777 == 0o700
    assert json.loads(pin.read_text())["key_fingerprint"] == original  # the pin stays
    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["known_case"]["key_fingerprint"] == original
    assert {p["kind"] for p in doc["problems"]} >= {"key_changed"}


def test_expect_key_pins_for_a_third_party(
    cli: Cli, case_dir: Path, tmp_path: Path, fake_digicert: FakeDigiCert, monkeypatch
) -> None:
    original = Case.open(case_dir).info.public_key_fingerprint
    _forged(cli, case_dir, tmp_path, fake_digicert, monkeypatch, None)
    court = _third_party(tmp_path)
    result = verify(court, case_dir, expect_key=f"SHA256:{original[:16].upper()}")
    assert _kinds(result) == {"unexpected_key"}
    monkeypatch.setenv("FORENSIC_HOME", str(court.home))
    # a short prefix would let a forger grind a matching key: refused as a usage error
    res = cli("verify", "--case", case_dir, "--no-record", "--expect-key", original[:4])
    assert res.exit_code == 2 and "16" in res.stderr
    res = cli("verify", "--case", case_dir, "--no-record", "--expect-key", original[:16])
    assert res.exit_code == 1 and "unexpected_key" in res.stderr


# -- 2. a cut log tail -----------------------------------------------------------------------
def _cut_from(case_dir: Path, seq: int) -> None:
    """Drop entries ``seq`` on, with every file they recorded (the expert's cut)."""
    entries = log_entries(case_dir)
    for entry in entries[seq:]:
        details = entry["details"]
        paths = [r["path"] for r in details.get("files", []) or []]
        if entry["action"] == "capture":
            paths.append(details["object"])
        for rel in paths:
            if (case_dir / rel).exists():
                make_writable(case_dir / rel)
                (case_dir / rel).unlink()
    for name in ("log.jsonl", "log.sig"):
        path = case_dir / "custody" / name
        make_writable(path)
        lines = path.read_bytes().split(b"\n")[:-1]
        path.write_bytes(b"".join(line + b"\n" for line in lines[:seq]))


def _cut_case(cli: Cli, case_dir: Path, tmp_path: Path) -> tuple[int, str]:
    """Two captures and a view; the second capture and everything after it cut off.
    Returns the head before the cut (seq, hash)."""
    _captured(cli, case_dir, tmp_path, "first.jpg")
    cut = len(log_entries(case_dir))
    _captured(cli, case_dir, tmp_path, "second.jpg")
    assert cli("show", "--case", case_dir, "2").exit_code == 0  # an access entry
    lines = (case_dir / "custody" / "log.jsonl").read_bytes().split(b"\n")[:-1]
    head = (len(lines) - 1, hashlib.sha256(lines[-1]).hexdigest())
    _cut_from(case_dir, cut)
    return head


def test_cut_tail_is_detected_on_the_examiners_machine_and_never_appended_to(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    head = _cut_case(cli, case_dir, tmp_path)
    log = case_dir / "custody" / "log.jsonl"
    before = log.read_bytes()
    result = verify(examiner_session(), case_dir)
    assert _kinds(result) == {"log_rolled_back"}, result.report.problems
    assert f"up to seq {head[0]}" in result.report.problems[0].detail
    assert result.recorded_seq is None and log.read_bytes() == before
    # no verb appends to the shortened log: refused, exit 1, nothing written
    res = cli("note", "--case", case_dir, "after the cut")
    assert res.exit_code == 1 and "entries were removed" in res.stderr, res.stderr
    res = cli("verify", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 1 and "log_rolled_back" in res.stderr
    assert log.read_bytes() == before


def test_expect_head_finds_the_cut_for_a_third_party(
    cli: Cli, case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seq, hash_ = _cut_case(cli, case_dir, tmp_path)
    court = _third_party(tmp_path)
    assert verify(court, case_dir, no_record=True).intact  # nothing to compare with here
    result = verify(court, case_dir, expect_head=f"{seq}:{hash_}", no_record=True)
    assert _kinds(result) == {"unexpected_head"}
    monkeypatch.setenv("FORENSIC_HOME", str(court.home))
    res = cli("verify", "--case", case_dir, "--no-record", "--expect-head", hash_[:16])
    assert res.exit_code == 1 and "unexpected_head" in res.stderr
    res = cli("verify", "--case", case_dir, "--no-record", "--expect-head", "abc")
    assert res.exit_code == 2


def test_export_prints_records_and_stamps_its_head(
    cli: Cli, case_dir: Path, tmp_path: Path, tsa_server: TsaServer, pki: Pki
) -> None:
    home = Path(os.environ["FORENSIC_HOME"])
    (home / "test-root.pem").write_bytes(pki.root.read_bytes())
    (home / "forensic.toml").write_text(
        "[timestamp]\nauto = true\ndefaults = false\ntimeout = 1\n\n"
        f'[[timestamp.tsa]]\nname = "Test TSA"\nurl = "{tsa_server.url("ok")}"\n'
        'roots = ["test-root.pem"]\n'
    )
    res = cli("export", "--case", case_dir, "--out", tmp_path / "bag", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    head = doc["export"]["log_head"]
    info = (tmp_path / "bag" / "bag-info.txt").read_text()
    assert f"Forensic-Log-Head: {head}" in info
    [token] = doc["timestamp"]["tokens"]
    assert token["head_seq"] == doc["export"]["export_seq"]  # over the entry naming the head
    assert doc["warnings"] == []  # a configured root: trusted time
    res = cli(
        "verify", "--case", case_dir, "--expect-head", f"{doc['export']['log_head_seq']}:{head}"
    )
    assert res.exit_code == 0, res.stderr
    assert "Matches this machine's record" in res.stdout
