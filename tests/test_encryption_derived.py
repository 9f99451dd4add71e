"""Derived files of an encrypted case (metadata, thumbnails, analysis figures and findings, OCR
text, chat transcripts, reports) are age ciphertext on disk, end to end through the CLI.

A lost laptop must not show an ELA map or a video thumbnail of the picture any more than the
picture itself; every verb that reads them still works, ``verify`` checks them without a key
(ciphertext hash) and with one (``plaintext_sha256``), and the reference ``age`` tool decrypts
an exported one for a recipient added with ``share``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from forensic.case import Case, read_case_file
from tests.chatexports import make_telegram_json
from tests.conftest import PASSPHRASE, Cli, examiner_session
from tests.test_encryption import _init, _sh

AGE = b"age-encryption.org/v1\n"
PUBLIC = ("custody/", "case.json", "examiner.pub.pem", "verify.sh", "keys/", "timestamps/")
"""Case files that are public by design (the PDF report embeds some of them)."""
DERIVED = ("media", "analysis", "ocr", "transcripts", "reports")
needs_age = pytest.mark.skipif(
    shutil.which("age") is None or shutil.which("age-keygen") is None, reason="needs age"
)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")


def _clip(path: Path) -> Path:
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for i in range(20):
        a = np.zeros((48, 64, 3), np.uint8)
        a[:, (i * 3) % 64 :] = 200
        a[(i * 2) % 48 :, :, 1] = 90
        for packet in stream.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def _sources(root: Path) -> tuple[list[Path], dict[str, bytes]]:
    """A JPEG photo, a short video and a Telegram export (with its own photo)."""
    media = root / "media"
    media.mkdir(parents=True)
    rng = np.random.default_rng(5)
    base = np.kron(rng.integers(0, 256, (12, 16, 3)), np.ones((8, 8, 1))).astype(np.uint8)
    Image.fromarray(base).save(media / "photo.jpg", "JPEG", quality=90)
    _clip(media / "clip.mp4")
    chat = make_telegram_json(root / "tg")
    originals = {p.name: p.read_bytes() for p in media.iterdir()}
    originals["result.json"] = (chat / "result.json").read_bytes()
    return [media, chat], originals


def _derived_files(case: Path) -> list[Path]:
    return sorted(
        p
        for area in DERIVED
        if (case / area).is_dir()
        for p in (case / area).rglob("*")
        if p.is_file()
    )


def _windows(blobs: list[bytes]) -> list[bytes]:
    return [
        data[i : i + 64]
        for data in blobs
        for i in range(0, max(1, len(data) - 64), max(1, len(data) // 40))
        if len(data) >= 64
    ]


def _files_holding(root: Path, probes: list[bytes], skip: tuple[str, ...] = ()) -> list[str]:
    """Files holding a probe (probes that are only hex digits and JSON punctuation, i.e. hashes,
    are not secret)."""
    probes = [p for p in probes if not re.fullmatch(rb"[0-9a-f\":,\s{}\[\]]*", p)]
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel.startswith(skip):
                continue
            blob = (Path(dirpath) / name).read_bytes()
            if any(p in blob for p in probes):
                found.append(rel)
    return found


def _plaintexts(case: Path) -> dict[str, bytes]:
    opened = Case.open(case, examiner_session())
    return {p.relative_to(case).as_posix(): read_case_file(opened, p) for p in _derived_files(case)}


def _verify(cli: Cli, case: Path, *args: str) -> dict[str, object]:
    res = cli("verify", "--case", case, "--no-record", "--json", *args)
    doc: dict[str, object] = json.loads(res.stdout)
    doc["exit_code"] = res.exit_code
    return doc


@needs_age
def test_encrypted_case_keeps_every_derived_file_as_ciphertext(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_report import make_test_ca

    case = tmp_path / "case"
    _init(cli, case, "--encrypt")
    sources, originals = _sources(tmp_path / "src")
    res = cli("capture", *sources, "--case", case, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    listed = json.loads(cli("list", "--case", case, "--json").stdout)["items"]
    items = {i["sha256"]: i for i in listed}
    photo = hashlib.sha256(originals["photo.jpg"]).hexdigest()
    clip = hashlib.sha256(originals["clip.mp4"]).hexdigest()
    assert {photo, clip} <= set(items)
    res = cli("analyze", "--metadata", "--detect", "--case", case, photo, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert cli("ocr", photo, "--case", case).exit_code == 0
    _ca, cert, key = make_test_ca(tmp_path)
    assert cli("key", "cert", "--import", cert, key).exit_code == 0
    res = cli("report", "--case", case, "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    hash_list = tmp_path / "hashes.csv"
    res = cli("export", "--hash-list", hash_list, "--case", case)  # writes video thumbnails
    assert res.exit_code == 0, res.stdout + res.stderr
    assert photo in hash_list.read_text()

    # Every derived file on disk is age ciphertext, and none of it, nor of the evidence, is
    # readable anywhere in the folder (the log holds hashes and names only).
    derived = _derived_files(case)
    kinds = {p.relative_to(case).parts[0] for p in derived}
    assert kinds == set(DERIVED), kinds
    names = {p.name for p in derived}
    assert "metadata.json" in names and any(n.startswith("thumb-") for n in names)
    assert any(n.endswith(".png") for n in names)  # analysis figures (ELA, noise maps)
    for path in derived:
        assert path.read_bytes().startswith(AGE), path
    plain = _plaintexts(case)
    assert json.loads(plain[f"media/{photo}/metadata.json"])["item"]["sha256"] == photo
    assert any(v.startswith(b"%PDF") for k, v in plain.items() if k.startswith("reports/"))
    assert _files_holding(case, _windows(list(originals.values()))) == []
    assert _files_holding(case, _windows(list(plain.values())), skip=PUBLIC) == []

    # Readers still work: show (metadata + chat context), search in transcripts, match.
    res = cli("show", photo[:12], "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    shown = json.loads(res.stdout)["item"]
    assert shown["metadata"]["item"]["sha256"] == photo
    tg_photo = next(
        s for s, i in items.items() if str(i.get("media_type")) == "image/jpeg" and s != photo
    )
    res = cli("show", tg_photo[:12], "--case", case, "--json")
    assert json.loads(res.stdout)["item"]["chat_context"], res.stdout
    res = cli("search", "look at this", "--case", case, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["hits"], res.stdout
    query = tmp_path / "query.png"
    Image.open(sources[0] / "photo.jpg").resize((96, 72)).save(query)
    res = cli("match", query, "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    assert photo in {m["item"] for m in json.loads(res.stdout)["matches"]}

    # verify: ciphertext hashes without a key; plaintext_sha256 of each with --decrypt.
    doc = _verify(cli, case, "--decrypt")
    assert doc["exit_code"] == 0, doc
    assert doc["derived_plaintext_checked"] == len(derived)
    monkeypatch.delenv("FORENSIC_PASSPHRASE")
    assert _verify(cli, case)["exit_code"] == 0
    # Each command is its own session: without the passphrase, show gives the log's record
    # and names what it could not decrypt (no key of an earlier command lingers in the process).
    res = cli("show", photo[:12], "--case", case, "--json", "--no-record")
    assert res.exit_code == 0, res.stderr
    assert "derived_not_shown" in json.loads(res.stdout)["item"], res.stdout
    monkeypatch.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)

    # A changed byte in a derived ciphertext is named by verify and verify.sh.
    figure = next(p for p in derived if p.suffix == ".png")
    rel = figure.relative_to(case).as_posix()
    saved = figure.read_bytes()
    os.chmod(figure, 0o644)
    figure.write_bytes(saved[:-5] + bytes([saved[-5] ^ 1]) + saved[-4:])
    doc = _verify(cli, case)
    assert [(p["kind"], p["location"]) for p in doc["problems"]] == [("file_altered", rel)]  # type: ignore[attr-defined]
    # verify.sh (sh, sha256sum, openssl; ~4 s) finds exactly that one problem in the case.
    script = _sh(case / "verify.sh")
    problems = [ln for ln in script.stdout.splitlines() if ln.startswith("PROBLEM")]
    assert script.returncode == 1 and len(problems) == 1 and rel in problems[0], script.stdout
    figure.write_bytes(saved)

    # export ships ciphertext; a recipient added with share decrypts a figure with Debian age.
    lawyer = tmp_path / "lawyer.txt"
    subprocess.run(["age-keygen", "-o", str(lawyer)], check=True, capture_output=True)
    pub = next(ln.split(": ")[1] for ln in lawyer.read_text().splitlines() if "public key" in ln)
    res = cli("share", "--recipient", pub, "--case", case, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["share"]["derived_files"] == len(derived)
    assert _verify(cli, case, "--decrypt")["exit_code"] == 0
    assert _plaintexts(case) == plain  # same content, new ciphertext
    bag = tmp_path / "bag"
    assert cli("export", "--out", bag, "--case", case).exit_code == 0
    out = subprocess.run(
        ["age", "-d", "-i", str(lawyer), str(bag / "data" / rel)], capture_output=True, check=True
    ).stdout
    assert out == plain[rel] and out.startswith(b"\x89PNG")
    public = (*(f"data/{p}" for p in PUBLIC), "verify.sh", "VERIFY.md")
    assert _files_holding(bag, _windows(list(plain.values())), skip=public) == []

    # export --decrypt: derived plaintext under data/plaintext/<case path>, checked by verify.sh.
    pbag = tmp_path / "pbag"
    assert cli("export", "--out", pbag, "--decrypt", "--case", case).exit_code == 0
    for name, data in plain.items():
        assert (pbag / "data" / "plaintext" / name).read_bytes() == data
    # One verify.sh run: every derived plaintext is checked, and only the changed one fails.
    victim = pbag / "data" / "plaintext" / f"media/{photo}/metadata.json"
    os.chmod(victim, 0o644)
    victim.write_bytes(victim.read_bytes().replace(b"{", b"[", 1))
    script = _sh(pbag / "verify.sh")
    assert f"decrypted case files: {len(plain)}, each checked against the log" in script.stdout
    problems = [ln for ln in script.stdout.splitlines() if ln.startswith("PROBLEM")]
    assert script.returncode == 1, script.stdout
    assert all(f"media/{photo}/metadata.json" in ln for ln in problems), problems
    assert any("must be the one the log states" in ln for ln in problems), problems


def test_encrypt_converts_the_derived_files_of_a_plain_case(tmp_path: Path, cli: Cli) -> None:
    case = tmp_path / "case"
    _init(cli, case)
    sources, originals = _sources(tmp_path / "src")
    assert cli("capture", *sources, "--case", case).exit_code == 0
    photo = hashlib.sha256(originals["photo.jpg"]).hexdigest()
    assert cli("analyze", "--detect", "--case", case, photo).exit_code == 0
    before = {p.relative_to(case).as_posix(): p.read_bytes() for p in _derived_files(case)}
    assert any(k.startswith("analysis/") for k in before) and any(
        k.startswith("transcripts/") for k in before
    )
    assert not any(v.startswith(AGE) for v in before.values())  # a plain case: as before
    res = cli("encrypt", "--case", case, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["encrypt"]["derived_files"] == len(before)
    for path in _derived_files(case):
        assert path.read_bytes().startswith(AGE), path
    assert _plaintexts(case) == before
    doc = _verify(cli, case, "--decrypt")
    assert doc["exit_code"] == 0 and doc["derived_plaintext_checked"] == len(before), doc
    assert _files_holding(case, _windows(list(before.values())), skip=PUBLIC) == []
    res = cli("show", photo[:12], "--case", case, "--json")
    assert json.loads(res.stdout)["item"]["metadata"]["item"]["sha256"] == photo


def test_a_tampered_derived_file_is_not_resealed_by_share(tmp_path: Path, cli: Cli) -> None:
    case = tmp_path / "case"
    _init(cli, case, "--encrypt")
    sources, originals = _sources(tmp_path / "src")
    assert cli("capture", sources[0], "--case", case).exit_code == 0
    photo = hashlib.sha256(originals["photo.jpg"]).hexdigest()
    record = case / "media" / photo / "metadata.json"
    data = record.read_bytes()
    os.chmod(record, 0o644)
    record.write_bytes(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
    res = cli("encrypt", "--case", case)
    assert res.exit_code == 2  # already encrypted
    pub = "age1" + "q" * 58
    res = cli("share", "--recipient", pub, "--case", case)
    assert res.exit_code != 0
    key = subprocess.run(["age-keygen"], capture_output=True, text=True, check=False)
    if key.returncode != 0:
        pytest.skip("needs age-keygen")
    pub = next(ln.split(": ")[1] for ln in key.stdout.splitlines() if "public key" in ln)
    res = cli("share", "--recipient", pub, "--case", case)
    assert res.exit_code == 1, res.stdout + res.stderr
    assert f"media/{photo}/metadata.json" in res.stderr and "not re-encrypted" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    doc = _verify(cli, case)
    assert [p["kind"] for p in doc["problems"]] == ["file_altered"]  # type: ignore[attr-defined]
    assert not list((case / "tmp").iterdir())  # nothing staged left behind
