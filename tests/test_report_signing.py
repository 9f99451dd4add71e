"""Report signing that never refuses offline (PAdES-B-B, then a document time-stamp), the
report-signing key under Argon2id, and times in the case's zone.

Real components: the local RFC 3161 TSA of ``tests/test_timestamp.py`` (``openssl ts``),
pyHanko's validation and poppler's ``pdfsig``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from forensic.case import Case
from tests.test_report import make_test_ca
from tests.test_timestamp import Pki, TsaServer, pki  # noqa: F401 - the module's fixture

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("openssl", "pdfsig")), reason="needs openssl, pdfsig"
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pdfsig(path: Path) -> str:
    res = subprocess.run(
        ["pdfsig", "-nocert", str(path)], capture_output=True, text=True, check=False
    )
    return res.stdout + res.stderr


def _pyhanko(path: Path, ca: Path, ts_root: Path) -> tuple[bool, list[bool]]:
    """(examiner signature intact and valid, [each document time-stamp valid and trusted])."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    def roots(p: Path) -> list[asn1_x509.Certificate]:
        return [
            asn1_x509.Certificate.load(der)
            for _k, _h, der in pem.unarmor(p.read_bytes(), multiple=True)
        ]

    with path.open("rb") as fh:
        reader = PdfFileReader(fh, strict=False)
        [sig] = reader.embedded_regular_signatures
        status = validate_pdf_signature(
            sig, ValidationContext(trust_roots=roots(ca), allow_fetching=False)
        )
        docs = [
            validate_pdf_timestamp(d, ValidationContext(trust_roots=roots(ts_root)))
            for d in reader.embedded_timestamp_signatures
        ]
    return bool(status.intact and status.valid and status.trusted), [
        bool(d.intact and d.valid and d.trusted) for d in docs
    ]


@pytest.fixture
def signing_case(tmp_path: Path, cli, case_dir: Path) -> dict[str, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "note.txt").write_text("a message\n")
    assert cli("capture", src, "--case", case_dir).exit_code == 0
    ca, cert, key = make_test_ca(tmp_path)
    res = cli("key", "cert", "--import", cert, key)
    assert res.exit_code == 0, res.stderr
    return {"case": case_dir, "ca": ca}


def test_offline_report_is_signed_b_b_then_timestamped_b_t(
    signing_case,
    cli,
    pki,  # noqa: F811 - the fixture imported above
    forensic_env,
) -> None:
    case_dir, ca = signing_case["case"], signing_case["ca"]
    (forensic_env / "forensic.toml").write_text("[timestamp]\ndefaults = false\n")
    port = _free_port()  # nothing listens: the network is "down"
    url = f"http://127.0.0.1:{port}/tsa"
    res = cli("report", "--case", case_dir, "--tsa", url, "--tsa-root", pki.root, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)["report"]
    assert doc["signature_level"] == "PAdES-B-B" and doc["timestamp_queued"] is True
    assert doc["tsa_error"] == "unreachable"
    pdf = Path(doc["path"])
    first = pdf.read_bytes()
    out = _pdfsig(pdf)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    assert "Signature #2" not in out, out  # no time-stamp of any kind
    ok, docs = _pyhanko(pdf, ca, pki.root)
    assert ok and docs == []
    with pikepdf.open(io.BytesIO(first)) as p:
        manifest = json.loads(p.attachments["case-manifest.json"].get_file().read_bytes())
    assert manifest["signature"] == {"level": "PAdES-B-B", "timestamp_queued": True}
    from forensic.timestamp import pending_queue

    [queued] = pending_queue(Case.open(case_dir))
    assert queued["kind"] == "report" and queued["report_id"] == doc["report_id"]
    res = cli("verify", "--case", case_dir, "--json", "--no-record")
    assert res.exit_code == 0, res.stdout
    [check] = json.loads(res.stdout)["reports"]
    assert check["signature"] == "valid" and check["timestamp"] == "pending", check
    human = cli("verify", "--case", case_dir, "--no-record")
    assert "PAdES-B-B" in human.stdout and "pending" in human.stdout, human.stdout

    server = TsaServer(pki, port=port)  # the network is back
    try:
        res = cli("timestamp", "--case", case_dir, "--json")
    finally:
        server.close()
    assert res.exit_code == 0, res.stdout + res.stderr
    stamped = json.loads(res.stdout)
    assert stamped["pending"] == 0
    [added] = stamped["reports"]
    assert added["report_id"] == doc["report_id"] and added["level"] == "PAdES-B-T"
    second = pdf.read_bytes()
    assert second.startswith(first) and len(second) > len(first)  # an incremental update
    out = _pdfsig(pdf)
    # poppler 22 validates the examiner signature (now followed by an update) but not RFC 3161
    # document time-stamps: it names the field, its TSA and that it covers the whole file
    examiner, _, stamp = out.partition("Signature #2:")
    assert "Signature is Valid" in examiner and "Not total document signed" in examiner, out
    assert "DocumentTimestamp" in stamp and "TEST TSA" in stamp, out
    assert "Total document signed" in stamp, out
    ok, docs = _pyhanko(pdf, ca, pki.root)
    assert ok and docs == [True]
    res = cli("verify", "--case", case_dir, "--json", "--no-record")
    assert res.exit_code == 0, res.stdout
    [check] = json.loads(res.stdout)["reports"]
    assert check["level"] == "PAdES-B-T" and check["timestamp"] == "valid", check
    # the root came only with --tsa-root: on this machine it is no trust anchor, said loudly
    assert check["trusted"] is False, check
    human = cli("verify", "--case", case_dir, "--no-record")
    assert "NOT one of this machine's trust anchors" in human.stderr + human.stdout
    shutil.copy(pki.root, forensic_env / "test-root.pem")
    (forensic_env / "forensic.toml").write_text(
        "[timestamp]\ndefaults = false\n\n"
        f'[[timestamp.tsa]]\nname = "Test TSA"\nurl = "{url}"\nroots = ["test-root.pem"]\n'
    )
    res = cli("verify", "--case", case_dir, "--json", "--no-record")
    [check] = json.loads(res.stdout)["reports"]
    assert check["trusted"] is True, check

    # tampering with the stored report: verify fails
    pdf.chmod(0o644)
    damaged = bytearray(second)
    damaged[len(first) // 2] ^= 0x01
    pdf.write_bytes(bytes(damaged))
    res = cli("verify", "--case", case_dir, "--json", "--no-record")
    assert res.exit_code == 1
    kinds = {p["kind"] for p in json.loads(res.stdout)["problems"]}
    assert "file_altered" in kinds and "signature_invalid" in kinds, kinds


# -- the report-signing key ------------------------------------------------------------------
def test_signing_key_is_wrapped_with_argon2id_and_old_pbkdf2_file_migrates(
    signing_case, cli, forensic_env
) -> None:
    from cryptography.hazmat.primitives import serialization

    from forensic.timestamp.examiner_cert import KEY_FILE, LEGACY_KEY_FILE, load_signing_key
    from tests.conftest import PASSPHRASE

    record = json.loads((forensic_env / KEY_FILE).read_text())
    assert record["kind"] == "forensic-report-signing-key"
    assert record["kdf"]["name"] == "argon2id" and record["cipher"]["name"] == "aes-256-gcm"
    assert record["kdf"]["iterations"] >= 3 and "ciphertext" in record
    assert (forensic_env / KEY_FILE).stat().st_mode & 0o077 == 0
    assert not (forensic_env / LEGACY_KEY_FILE).exists()
    # a home written by an older version: PKCS#8 with PBKDF2 under the same passphrase
    key = load_signing_key(forensic_env, PASSPHRASE).key
    legacy = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    (forensic_env / KEY_FILE).unlink()
    (forensic_env / LEGACY_KEY_FILE).write_bytes(legacy)
    res = cli("report", "--case", signing_case["case"], "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["signing_key_rewrapped"] == str(forensic_env / LEGACY_KEY_FILE)
    # the report and list print the same recorded instant of the acquisition
    with pikepdf.open(doc["report"]["path"]) as p:
        manifest = json.loads(p.attachments["case-manifest.json"].get_file().read_bytes())
    listed = json.loads(cli("list", "--case", signing_case["case"], "--json").stdout)["items"]
    assert [i["acquired"] for i in manifest["items"]] == [i["acquired"]["utc"] for i in listed]
    entry = Case.open(signing_case["case"]).items()
    assert [i.acquisitions[0].details["acquired"] for i in entry.values()] == [
        i["acquired"] for i in manifest["items"]
    ]
    assert not (forensic_env / LEGACY_KEY_FILE).exists()
    assert json.loads((forensic_env / KEY_FILE).read_text())["kdf"]["name"] == "argon2id"
    assert load_signing_key(forensic_env, PASSPHRASE).rewrapped is None  # said once


def test_key_password_never_in_argv(cli, forensic_env, tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization

    _ca, cert, key_pem = make_test_ca(tmp_path)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_pem.read_bytes(), password=None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"org secret"),
        )
    )
    res = cli("key", "cert", "--import", cert, locked, "--key-password", "org secret")
    assert res.exit_code == 2 and "--key-password-file" in res.stderr, res.stderr
    assert not (forensic_env / "examiner-cert.pem").exists()
    res = cli("key", "cert", "--import", cert, locked)  # not a terminal: told how
    assert res.exit_code == 2 and "--key-password-file" in res.stderr, res.stderr
    secret = tmp_path / "pw.txt"
    secret.write_text("org secret\n")
    secret.chmod(0o644)
    res = cli("key", "cert", "--import", cert, locked, "--key-password-file", secret)
    assert res.exit_code == 2 and "chmod 600" in res.stderr, res.stderr
    secret.chmod(0o600)
    res = cli("key", "cert", "--import", cert, locked, "--key-password-file", secret, "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["certificate"]["imported"] is True


# -- times in the case's zone, UTC beside -----------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "abbrev", "offset"), [("Asia/Seoul", "KST", "+09:00"), ("UTC", "UTC", "+00:00")]
)
def test_list_show_log_print_the_case_zone_with_utc(
    cli, tmp_path, monkeypatch, zone, abbrev, offset
) -> None:
    from forensic._internal.clock import local_and_utc

    case_dir = tmp_path / "zoned"
    extra = () if zone == "Asia/Seoul" else ("--timezone", zone)
    assert (
        cli(
            "init", case_dir, "--case-id", "Z-1", "--title", "t", "--examiner", "e", *extra
        ).exit_code
        == 0
    )
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    assert cli("capture", src, "--case", case_dir).exit_code == 0
    monkeypatch.setenv("COLUMNS", "200")

    listed = json.loads(cli("list", "--case", case_dir, "--json").stdout)
    [item] = listed["items"]
    acquired = item["acquired"]
    assert acquired["zone"] == zone and acquired["local"].endswith(offset)
    assert local_and_utc(acquired["local"]).utc == local_and_utc(acquired["utc"]).utc
    [acq] = item["acquisitions"]
    assert acq["time"].endswith("Z") and acq["local"].endswith(offset) and acq["zone"] == zone
    text = local_and_utc(acquired["utc"], zone).text()
    wide = cli("list", "--case", case_dir, "--wide").stdout
    moment = local_and_utc(acquired["utc"], zone)
    abbrev = moment.local.tzname()
    assert f"{moment.local.strftime('%Y-%m-%d %H:%M:%S')} {abbrev}" in wide, wide
    assert acquired["utc"][:19] in wide, wide
    compact = cli("list", "--case", case_dir).stdout
    assert local_and_utc(acquired["utc"], zone).local.strftime("%Y-%m-%d %H:%M") in compact
    if zone != "UTC":
        assert "KST = UTC+09:00" in compact, compact

    shown = cli("show", "1", "--case", case_dir, "--no-record")
    assert text in shown.stdout, shown.stdout
    doc = json.loads(cli("show", "1", "--case", case_dir, "--no-record", "--json").stdout)["item"]
    assert doc["zone"] == zone and doc["acquisitions"][0]["local"].endswith(offset)

    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)
    assert log["zone"] == zone
    assert all(e["local"].endswith(offset) and e["zone"] == zone for e in log["entries"])
    first = log["entries"][0]
    assert (
        local_and_utc(first["time"], zone).text() in cli("log", "--case", case_dir, "--wide").stdout
    )
    human = cli("log", "--case", case_dir, "--lang", "ko").stdout
    assert f"({abbrev})" in human
    if zone != "UTC":
        assert "시각은 KST (UTC+09:00)" in human, human


def test_tsa_failing_after_the_question_still_gives_a_b_b_report(
    signing_case,
    cli,
    pki,  # noqa: F811 - the fixture imported above
    monkeypatch,
) -> None:
    import forensic.report.build as build

    monkeypatch.setattr(build, "_probe", lambda _options, _gathered: None)  # "it answered"
    url = f"http://127.0.0.1:{_free_port()}/tsa"  # ... and is gone when the signature is made
    res = cli(
        "report", "--case", signing_case["case"], "--tsa", url, "--tsa-root", pki.root, "--json"
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)["report"]
    assert doc["signature_level"] == "PAdES-B-B" and doc["timestamp_queued"] is True
    assert doc["tsa_error"] == "unreachable"
    with pikepdf.open(doc["path"]) as p:  # laid out again as B-B: the cover data says so
        manifest = json.loads(p.attachments["case-manifest.json"].get_file().read_bytes())
    assert manifest["signature"]["level"] == "PAdES-B-B"
    assert "Signature is Valid" in _pdfsig(Path(doc["path"]))
