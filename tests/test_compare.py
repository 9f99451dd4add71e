"""``forensic compare``: alignment to an original and the changed-region map, on manipulations
generated from real photos (exact masks, messenger recompression), a control that must not
align, bad input, and derived files that are ciphertext in an encrypted case."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from forensic.analysis.compare import compare_images, read_work_image
from tests.casetools import log_entries
from tests.conftest import Cli
from tests.mediatools import capture

REPO = Path(__file__).resolve().parent.parent
PHOTOS = ("camera-photos/Kodak DX4330.jpg", "camera-photos/Nikon E990.jpg")
DONOR = "camera-photos/FujiFilm FinePix1400Zoom (1).jpg"
AGE = b"age-encryption.org/v1\n"


def eval_compare() -> Any:
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("eval_compare", REPO / "bench/eval_compare.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("kind", ["replaced", "face", "replaced_cropped"])
def test_compare_localises_generated_changes(kind: str, shared_datasets: Path) -> None:
    ev = eval_compare()
    ious = []
    for n, rel in enumerate(PHOTOS[:2]):
        photo, donor = shared_datasets / rel, shared_datasets / DONOR
        rng = np.random.default_rng([ev.SEED, n, ev.KINDS.index(kind)])
        original, item, truth = ev.generate(kind, photo.read_bytes(), donor.read_bytes(), rng)
        result = compare_images(read_work_image(original), read_work_image(item))
        assert result.aligned, (rel, result.reason)
        assert result.mask is not None and result.regions
        ious.append(ev.iou(result.mask, truth))
        assert 0.5 < result.explained < 0.99
    assert min(ious) >= 0.6 and float(np.median(ious)) >= 0.75, ious


def test_compare_unaltered_copy_and_unrelated_control(shared_datasets: Path) -> None:
    ev = eval_compare()
    photo, donor = shared_datasets / PHOTOS[0], shared_datasets / DONOR
    rng = np.random.default_rng([ev.SEED, 0, ev.KINDS.index("unaltered")])
    original, item, _ = ev.generate("unaltered", photo.read_bytes(), donor.read_bytes(), rng)
    same = compare_images(read_work_image(original), read_work_image(item))
    assert same.aligned and same.changed == 0.0 and not same.regions and same.explained > 0.97
    assert same.pdq_distance is not None and same.pdq_distance <= 31
    # the same IoU rule on an unrelated photo: no alignment is claimed, nothing is marked
    rng = np.random.default_rng([ev.SEED, 0, ev.KINDS.index("control")])
    original, item, _ = ev.generate("control", photo.read_bytes(), donor.read_bytes(), rng)
    control = compare_images(read_work_image(original), read_work_image(item))
    assert not control.aligned and control.reason is not None and control.mask is None
    assert control.explained == 0.0 and not control.regions


def test_compare_cli_records_a_signed_entry_in_an_encrypted_case(
    tmp_path: Path, cli: Cli, shared_datasets: Path
) -> None:
    ev = eval_compare()
    rng = np.random.default_rng([ev.SEED, 1, 0])
    photo, donor = shared_datasets / "exif-samples/jpg/Canon_40D.jpg", shared_datasets / DONOR
    original, item, _ = ev.generate("replaced", photo.read_bytes(), donor.read_bytes(), rng)
    (tmp_path / "mine.jpg").write_bytes(original)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "found.jpg").write_bytes(item)
    case = tmp_path / "case"
    res = cli("init", case, "--case-id", "C-1", "--title", "T", "--examiner", "E", "--encrypt")
    assert res.exit_code == 0, res.stderr
    [sha] = capture(cli, case, tmp_path / "in" / "found.jpg").values()
    res = cli("compare", tmp_path / "mine.jpg", sha[:12], "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["aligned"] and doc["original"]["acquired"] is False and doc["regions"]
    assert "matches your photo mine.jpg after alignment" in doc["text"]["en"]
    assert "mine.jpg" in doc["text"]["ko"] and "일치합니다" in doc["text"]["ko"]
    [entry] = [e for e in log_entries(case) if e["action"] == "compare"]
    assert entry["details"]["original"]["sha256"] == doc["original"]["sha256"]
    assert str(tmp_path) not in json.dumps(entry)  # the original is named by hash only
    assert {f["path"].rsplit("-", 1)[-1] for f in entry["details"]["files"]} >= {
        "mask.png",
        "figure.png",
    }
    for f in entry["details"]["files"]:
        assert (case / f["path"]).read_bytes().startswith(AGE), f["path"]
    assert doc["original"]["sha256"] not in json.dumps(
        [e for e in log_entries(case) if e["action"] == "capture"]
    )  # not acquired
    res = cli("compare", tmp_path / "mine.jpg", sha[:12], "--case", case, "--lang", "ko")
    assert res.exit_code == 0 and "일치합니다" in res.stdout and "기록 항목" in res.stdout
    assert cli("verify", "--case", case).exit_code == 0


def test_compare_acquires_the_original_only_when_asked(
    case_dir: Path, cli: Cli, tmp_path: Path, shared_datasets: Path
) -> None:
    photo = shared_datasets / "exif-samples/jpg/Canon_40D.jpg"
    [sha] = capture(cli, case_dir, photo).values()
    res = cli("compare", photo, sha, "--case", case_dir, "--acquire-original", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["original"]["acquired"] is True and doc["changed"] == 0.0
    assert any(e["action"] == "capture" and doc["original"]["sha256"] in json.dumps(e)
               for e in log_entries(case_dir))  # fmt: skip
    # the report says it in the item's chapter
    assert cli("key", "cert", "--name", "Examiner").exit_code == 0
    res = cli("report", "--case", case_dir, "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stderr
    pdf = Path(json.loads(res.stdout)["report"]["path"])
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
    assert "Comparison with an original photo" in text and "matches your photo" in text


def test_compare_prints_a_hostile_original_name_escaped(
    case_dir: Path, cli: Cli, tmp_path: Path, shared_datasets: Path
) -> None:
    photo = shared_datasets / "exif-samples/jpg/Canon_40D.jpg"
    [sha] = capture(cli, case_dir, photo).values()
    hostile = tmp_path / "mine\nRESULT: intact\x1b[2J\u202e.jpg"
    hostile.write_bytes(photo.read_bytes())
    res = cli("compare", hostile, sha, "--case", case_dir)
    assert res.exit_code == 0, res.stderr
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout
    assert not any(line.startswith("RESULT") for line in res.stdout.splitlines())
    assert "matches your photo" in res.stdout


def test_compare_bad_input_is_one_clear_line(case_dir: Path, cli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    text = tmp_path / "notes.txt"
    text.write_text("not a picture", "utf-8")
    huge = tmp_path / "huge.png"
    _huge_png(huge)
    good = tmp_path / "in" / "p.png"
    good.parent.mkdir()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(good)
    [sha] = capture(cli, case_dir, good).values()
    for path, words in (
        (text, "not an image"),
        (huge, "decompression-bomb limit"),
        (tmp_path / "missing.jpg", "no such file"),
    ):
        res = cli("compare", path, sha, "--case", case_dir)
        assert res.exit_code == 2, (path, res.stdout, res.stderr)
        assert path.name in res.stderr and words in res.stderr and "Traceback" not in res.stderr
    res = cli("compare", text, sha, "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 2 and "비교할 수 없습니다" in res.stderr
    assert not [e for e in log_entries(case_dir) if e["action"] == "compare"]


def _huge_png(path: Path) -> None:
    """A PNG whose header declares 65535 x 65535 pixels (no pixel data worth decoding)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )
