"""``forensic match --face``: faces like the one in her photo, end to end through the CLI, on
composites generated from real reference photos; bad query photos; encrypted derived files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from forensic.case.layout import AGE_HEADER
from forensic.media.face_prints import DEFAULT_THRESHOLD
from tests.casetools import log_entries
from tests.conftest import Cli
from tests.mediatools import capture, face_composite
from tests.test_hostile_defence_inputs import jpeg_header

BOY = "exif-samples/jpg/invalid/image00971.jpg"  # one face at about (500, 44, 60, 60)
BOY_BOX = (500, 44, 60, 60)
MAN = "exif-samples/tiff/DudleyLeavittUtah.tiff"  # another person, face (64, 54, 71, 72)
MAN_BOX = (64, 54, 71, 72)
BRIDGE = "pdq/misc-images/modes/RGB.jpg"  # no face


def her_photo(root: Path, tmp: Path) -> Path:
    """Her own photo: a crop around the face, re-saved (what a victim would give)."""
    with Image.open(root / BOY) as im:
        im.convert("RGB").crop((420, 0, 636, 160)).save(tmp / "her.jpg", "JPEG", quality=90)
    return tmp / "her.jpg"


def items(root: Path, tmp: Path) -> dict[str, Path]:
    return {
        "her_face": face_composite(
            root / BOY, BOY_BOX, root / BRIDGE, (300, 120), 1.4, tmp / "a.jpg", quality=80
        ),
        "other_face": face_composite(
            root / MAN, MAN_BOX, root / BRIDGE, (150, 100), 1.0, tmp / "b.jpg"
        ),
        "no_face": root / BRIDGE,
    }


def test_match_face_ranks_her_face_and_logs_only_the_hash(
    cli: Cli, case_dir: Path, tmp_path: Path, shared_datasets: Path
) -> None:
    shas = capture(cli, case_dir, *items(shared_datasets, tmp_path).values())
    by_name = {Path(p).name: s for p, s in shas.items()}
    her = her_photo(shared_datasets, tmp_path)
    before = len(log_entries(case_dir))
    res = cli("match", "--face", her, "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["acquired"] is False and doc["mode"] == "face"
    assert doc["threshold"] == DEFAULT_THRESHOLD
    assert doc["faces_in_case"] == 2 and doc["compared"] == 2
    [match] = doc["matches"]
    assert match["item_id"] == by_name["a.jpg"] and match["distance"] <= DEFAULT_THRESHOLD
    assert doc["measured"]["different_pairs"] > 0 and doc["measured"]["threshold"] == 0.6
    # the redacted crop: small, blurred, beside the stored descriptors
    crop = case_dir / match["crop"]
    with Image.open(crop) as im:
        assert im.format == "JPEG" and max(im.size) <= 96
        assert len(set(im.convert("L").getdata())) < 256  # a blur, not the face
    record = json.loads((case_dir / "media" / by_name["a.jpg"] / "faces.json").read_text())
    assert len(record["faces"][0]["descriptor"]) == 128
    # logged: one faces entry per image item, then the match naming the photo by hash only
    entries = log_entries(case_dir)[before:]
    assert [e["action"] for e in entries].count("faces") == 3
    last = entries[-1]
    assert last["action"] == "match" and last["details"]["mode"] == "face"
    assert last["details"]["queries"][0]["sha256"] == doc["queries"][0]["sha256"]
    assert "her.jpg" not in json.dumps(entries)
    assert "descriptor" not in json.dumps(last)
    # the photo was not acquired; a second search reuses the stored records
    res = cli("match", "--face", her, "--case", case_dir)
    assert res.exit_code == 0, res.stderr
    assert by_name["a.jpg"][:10] in res.stdout
    assert [e["action"] for e in log_entries(case_dir)[before + len(entries) :]] == ["match"]


def ten_faces(root: Path, dest: Path) -> Path:
    with Image.open(root / BOY) as im:
        face = im.convert("RGB").crop((470, 14, 590, 134))
    canvas = Image.new("RGB", (5 * 130, 2 * 130), (200, 200, 200))
    for n in range(10):
        canvas.paste(face, ((n % 5) * 130 + 5, (n // 5) * 130 + 5))
    canvas.save(dest, "JPEG", quality=90)
    return dest


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_query_photos_are_one_line_exit_2_nothing_logged(
    cli: Cli, case_dir: Path, tmp_path: Path, shared_datasets: Path, lang: str
) -> None:
    (tmp_path / "notes.jpg").write_text("not a picture\n")
    (tmp_path / "bomb.jpg").write_bytes(jpeg_header(65535, 65535))
    cases = {
        "notes.jpg": ("not an image", "이미지가 아닙니다"),
        "bomb.jpg": ("4294836225", "4294836225"),  # 65535 x 65535, refused by its header
        "missing.jpg": ("no such file", "파일이 없습니다"),
    }
    if lang == "en":  # the located cases once (they run the locator)
        cases[ten_faces(shared_datasets, tmp_path / "ten.jpg").name] = ("10 faces", "")
        bridge = shared_datasets / BRIDGE
        (tmp_path / "bridge.jpg").write_bytes(bridge.read_bytes())
        cases["bridge.jpg"] = ("no face found", "")
    before = log_entries(case_dir)
    for name, (en, ko) in cases.items():
        res = cli("match", "--face", tmp_path / name, "--case", case_dir, "--lang", lang)
        assert res.exit_code == 2, (name, res.stdout, res.stderr)
        line = res.stderr.strip()
        assert name in line and (en if lang == "en" else ko) in line, line
        assert "Traceback" not in res.stderr and len(line.splitlines()) == 1, line
    res = cli("match", "--face", "--within", tmp_path / "notes.jpg", "--case", case_dir)
    assert res.exit_code == 2 and "--within" in res.stderr
    assert log_entries(case_dir) == before


def test_encrypted_case_face_files_are_ciphertext(
    cli: Cli, tmp_path: Path, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")
    case = tmp_path / "enc"
    res = cli("init", case, "--case-id", "E-1", "--title", "Enc", "--examiner", "Ex", "--encrypt")
    assert res.exit_code == 0, res.stderr
    a = items(shared_datasets, tmp_path)["her_face"]
    [sha] = capture(cli, case, a).values()
    res = cli("match", "--face", her_photo(shared_datasets, tmp_path), "--case", case, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["matches"][0]["item_id"] == sha
    folder = case / "media" / sha
    written = [folder / "faces.json", folder / "face-01.jpg"]
    for path in written:
        assert path.read_bytes().startswith(AGE_HEADER), path
    assert b"descriptor" not in b"".join(p.read_bytes() for p in written)
