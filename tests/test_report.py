"""``forensic report``: a real signed PDF/A-3b, checked with poppler, qpdf, pikepdf, pyHanko."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from forensic.case import Case
from forensic.case.case import file_sha256
from forensic.custody import config_home, load_or_create_key
from forensic.timestamp import demo_tsa, stamp_head
from tests.conftest import PASSPHRASE

TOOLS = ("pdffonts", "pdftotext", "pdftoppm", "qpdf", "openssl")
needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"
)
NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_test_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and an examiner certificate it issued: (ca.pem, cert.pem, key.pem)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("forensic test CA"))
        .issuer_name(_name("forensic test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Examiner"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(hours=1))
        .not_valid_after(NOW + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def noise_image(path: Path, seed: int = 7) -> np.ndarray:
    """A high-detail test image (random pixels): any leak of its pixels is measurable."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, "PNG")
    return arr


@pytest.fixture
def report_case(tmp_path: Path, cli, case_dir: Path) -> dict[str, object]:
    src = tmp_path / "src"
    src.mkdir()
    original = noise_image(src / "secret.png")
    (src / "notes.txt").write_text("chat export line\n")
    res = cli("capture", src, "--case", case_dir, "--source-url", "https://t.me/example/42")
    assert res.exit_code == 0, res.stderr
    ca, cert, key = make_test_ca(tmp_path)
    res = cli("key", "cert", "--import", cert, key)
    assert res.exit_code == 0, res.stderr
    case = Case.open(case_dir)
    ekey, _ = load_or_create_key(config_home(), lambda new: PASSPHRASE)
    stamped = stamp_head(case, ekey, [demo_tsa()], timeout=5)
    assert stamped.tokens
    items = {i.acquisitions[0].source_path.rsplit("/", 1)[-1]: i for i in case.items().values()}
    return {"case": case_dir, "ca": ca, "original": original, "items": items, "key": ekey}


def build(cli, case_dir: Path, *args: str) -> tuple[Path, dict[str, object]]:
    res = cli("report", "--case", case_dir, "--demo-tsa", "--json", *args)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    return Path(doc["report"]["path"]), doc


def run(*cmd: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False)


@needs_tools
def test_report_pdf_is_complete_embedded_and_logged(report_case, cli) -> None:
    case_dir = report_case["case"]
    pdf_path, doc = build(cli, case_dir, "--lang", "ko")
    assert pdf_path.parent == case_dir / "reports"
    # the custody log vouches for the file, and verify checks it
    case = Case.open(case_dir)
    last = case.entries()[-1]
    assert last.action == "report"
    assert last.details["files"][0]["sha256"] == file_sha256(pdf_path)
    assert last.details["preview"] == "blur" and last.details["preview_full"] is False
    assert cli("verify", "--case", case_dir).exit_code == 0
    assert not list((case_dir / "tmp").iterdir())

    fonts = run("pdffonts", pdf_path).stdout.splitlines()[2:]
    assert fonts, "no fonts at all"
    for line in fonts:
        assert " yes yes " in line or " yes no " in line, f"font not embedded: {line}"
    check = run("qpdf", "--check", pdf_path)
    assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout

    text = run("pdftotext", pdf_path, "-").stdout
    flat = "".join(text.split())
    titles = ("요약", "증거목록", "무결성·동일성·진정성", "해시값확인서", "검증방법", "확인서")
    for title in titles:
        assert title in flat, title
    # no analysis in this case: the methods chapter says nothing is concluded
    assert "탐지분석을하지않았습니다" in flat
    for item in report_case["items"].values():
        assert item.item_id in text
    assert "https://t.me/example/42" in text

    out = pdf_path.parent.parent / "png"
    out.mkdir()
    render = run("pdftoppm", "-r", "30", "-png", pdf_path, out / "p")
    assert render.returncode == 0 and "Error" not in render.stderr, render.stderr
    pages = sorted(out.glob("p-*.png"))
    assert len(pages) == doc["report"]["pages"] >= 6
    for page in pages:
        arr = np.asarray(Image.open(page).convert("L"), dtype=np.float64)
        assert arr.std() > 5 and (arr < 128).mean() > 0.002, f"{page.name} is blank"
    shutil.rmtree(out)

    with pikepdf.open(pdf_path) as pdf:
        with pdf.open_outline() as outline:
            titles = [o.title for o in outline.root]
            item_titles = [c.title for o in outline.root for c in o.children]
        assert any("증거목록" in t for t in titles)
        assert sum(t.startswith("증거 ") for t in item_titles) == 2


def _signature_parts(data: bytes) -> tuple[bytes, bytes]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        field = next(f for f in pdf.Root.AcroForm.Fields if f.get("/FT") == "/Sig")
        a, b, c, d = (int(x) for x in field.V.ByteRange)
        sig = bytes(field.V.Contents)
    return data[a : a + b] + data[c : c + d], sig


def _pyhanko_ok(path: Path, ca: Path) -> bool:
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, _, der = asn1_pem.unarmor(ca.read_bytes())
    roots = [asn1_x509.Certificate.load(der)]
    ts_roots = demo_tsa().root_certs()
    with path.open("rb") as fh:
        try:
            sig = PdfFileReader(fh, strict=False).embedded_signatures[0]
            status = validate_pdf_signature(
                sig,
                ValidationContext(trust_roots=roots, allow_fetching=False),
                ts_validation_context=ValidationContext(trust_roots=ts_roots),
            )
        except Exception:
            return False
    assert status.timestamp_validity is not None, "no PAdES signature timestamp"
    return bool(
        status.intact and status.valid and status.trusted and status.timestamp_validity.valid
    )


def _openssl_ok(tmp: Path, data: bytes, ca: Path) -> bool:
    content, sig = _signature_parts(data)
    (tmp / "content.bin").write_bytes(content)
    (tmp / "sig.der").write_bytes(sig.rstrip(b"\0"))
    res = run(
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp / "sig.der",
        "-content", tmp / "content.bin", "-CAfile", ca, "-purpose", "any", "-out", "/dev/null",
    )  # fmt: skip
    return res.returncode == 0


@needs_tools
def test_signature_validates_and_one_changed_byte_breaks_it(report_case, cli, tmp_path) -> None:
    pdf_path, _doc = build(cli, report_case["case"])
    ca = report_case["ca"]
    assert _pyhanko_ok(pdf_path, ca)
    data = pdf_path.read_bytes()
    assert _openssl_ok(tmp_path, data, ca)
    # change one byte inside the signed range (in the middle of the first page's content)
    pos = data.index(b"stream", len(data) // 3) + 20
    tampered = bytearray(data)
    tampered[pos] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    assert not _pyhanko_ok(bad, ca)
    assert not _openssl_ok(tmp_path, bytes(tampered), ca)


def _psnr_best(pdf_path: Path, original: np.ndarray) -> tuple[float, int]:
    """Best PSNR of any image in the PDF against the original (resized to its size)."""
    best = 0.0
    count = 0
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            for raw in page.get_images().values():
                img = pikepdf.PdfImage(raw).as_pil_image().convert("RGB")
                count += 1
                arr = np.asarray(
                    img.resize((original.shape[1], original.shape[0])), dtype=np.float64
                )
                mse = float(((arr - original.astype(np.float64)) ** 2).mean())
                best = max(best, 10 * np.log10(255**2 / max(mse, 1e-9)))
    return best, count


@needs_tools
def test_redacted_preview_does_not_contain_the_pixels(report_case, cli) -> None:
    original = report_case["original"]
    pdf_path, _ = build(cli, report_case["case"])
    psnr, count = _psnr_best(pdf_path, original)
    assert count >= 1
    # random pixels vs. their blurred mean: ~ 7-9 dB; any faithful copy would be > 25 dB
    assert psnr < 12, psnr
    raw = pdf_path.read_bytes()
    assert original[:4].tobytes() not in raw and original[100].tobytes()[:48] not in raw


@needs_tools
def test_full_preview_is_flagged_warned_and_logged(report_case, cli) -> None:
    res = cli("report", "--case", report_case["case"], "--demo-tsa", "--preview", "full")
    assert res.exit_code == 0, res.stderr
    assert "UNREDACTED" in res.stderr
    case = Case.open(report_case["case"])
    entry = case.entries()[-1]
    assert entry.details["preview"] == "full" and entry.details["preview_full"] is True
    # the control for the redaction test: here the pixels ARE in the PDF, and the metric sees it
    psnr, _ = _psnr_best(case.root / entry.details["files"][0]["path"], report_case["original"])
    assert psnr > 25, psnr


@needs_tools
def test_preview_none_puts_no_image_in_the_pdf(report_case, cli) -> None:
    pdf_path, _ = build(cli, report_case["case"], "--preview", "none")
    _, count = _psnr_best(pdf_path, report_case["original"])
    assert count == 0


def test_report_failures_are_one_line_errors(report_case, cli, tmp_path, monkeypatch) -> None:
    case_dir = report_case["case"]
    res = cli("report", "--case", case_dir, "--demo-tsa", "--items", "abcdef00")
    assert res.exit_code == 2 and "abcdef00" in res.stderr and "Traceback" not in res.stderr
    res = cli("report", "--case", case_dir, "--demo-tsa", "--preview", "sharp")
    assert res.exit_code == 2 and "sharp" in res.stderr
    res = cli("report", "--case", case_dir, "--demo-tsa", "--detail", "long")
    assert res.exit_code == 2 and "--detail long" in res.stderr
    res = cli("report", "--case", case_dir, "--demo-tsa", "--hash-sheet", "witness")
    assert res.exit_code == 2 and "--hash-sheet witness" in res.stderr
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"not an image")
    res = cli("report", "--case", case_dir, "--demo-tsa", "--logo", logo)
    assert res.exit_code == 2 and str(logo) in res.stderr
    monkeypatch.setenv("FORENSIC_HOME", str(tmp_path / "other-home"))
    res = cli("report", "--case", case_dir, "--demo-tsa")
    assert res.exit_code == 2 and "key cert" in res.stderr
    assert (
        not list((case_dir / "reports").glob("*.pdf")) if (case_dir / "reports").exists() else True
    )
