"""``forensic capture --screen`` under Xvfb with a known image on screen; OCR of Korean and
English text rendered by the test; ``forensic search``; tampering with derived text."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.webcli import run_capture

FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


def _known_image(path: Path, width: int, height: int) -> None:
    from PIL import Image

    rng = random.Random(20261124)
    im = Image.new("RGB", (width, height))
    for x in range(0, width, 32):
        for y in range(0, height, 32):
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            im.paste(colour, (x, y, x + 32, y + 32))
    im.save(path)


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for tool in ("Xvfb", "display"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt xvfb imagemagick)")
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    number = proc.stdout.readline().decode().strip()
    assert number.isdigit(), "Xvfb did not report its display"
    display = f":{number}"
    monkeypatch.setenv("DISPLAY", display)
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _show_on_root(display: str, image: Path) -> None:
    subprocess.run(
        ["display", "-window", "root", str(image)],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        timeout=30,
        check=False,  # `display -window root` sets the background and exits non-zero
    )


def _obj(case_dir: Path, sha: str) -> bytes:
    [found] = list((case_dir / "objects").rglob(sha))
    return found.read_bytes()


def test_screen_capture_finds_the_known_image(
    xvfb: str, tmp_path: Path, case_dir: Path, cli: Cli
) -> None:
    from PIL import Image, ImageChops

    known = tmp_path / "known.png"
    _known_image(known, 640, 480)
    _show_on_root(xvfb, known)
    before = set(os.listdir(tmp_path))
    res = run_capture("--screen", "--delay", "0.2", "--case", case_dir, "--json", "--no-ocr")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)["screen"]
    assert (doc["width"], doc["height"]) == (640, 480)
    assert doc["details"]["display"] == xvfb
    got = Image.open(io.BytesIO(_obj(case_dir, doc["sha256"]))).convert("RGB")
    assert ImageChops.difference(got, Image.open(known).convert("RGB")).getbbox() is None
    assert set(os.listdir(tmp_path)) == before  # no intermediate file beside the case
    assert sorted(p.name for p in (case_dir / "tmp").iterdir()) == []
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    [group] = [e for e in log if e["action"] == "capture-group"]
    assert group["details"]["kind"] == "screen" and group["details"]["delay_s"] == 0.2
    shown = json.loads(cli("show", doc["sha256"], "--case", case_dir, "--json").stdout)
    assert shown["item"]["media_type"] == "image/png"
    assert cli("verify", "--case", case_dir).exit_code == 0


def test_screen_capture_without_a_display_is_a_clear_error(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    res = run_capture("--screen", "--case", case_dir)
    assert res.exit_code == 3
    assert "no screen to capture: no X display (DISPLAY is not set)" in " ".join(res.stderr.split())
    monkeypatch.setenv("DISPLAY", ":4242")  # nothing listens there
    res = run_capture("--screen", "--case", case_dir)
    assert res.exit_code == 3 and "no screen to capture" in res.stderr
    bad = run_capture("--screen", "--delay", "-1", "--case", case_dir)
    assert bad.exit_code == 3 and "--delay must be between 0 and 600" in bad.stderr


@pytest.fixture
def text_image(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt tesseract-ocr tesseract-ocr-kor -eng)")
    font_path = next((f for f in FONTS if Path(f).is_file()), None)
    if font_path is None:
        pytest.skip("no Korean font to render the test image (apt fonts-noto-cjk)")
    font = ImageFont.truetype(font_path, 44)
    im = Image.new("RGB", (980, 220), "white")
    draw = ImageDraw.Draw(im)
    draw.text((24, 24), "불법촬영물 유포 증거 확보", font=font, fill="black")
    draw.text((24, 120), "Evidence preserved 2026", font=font, fill="black")
    path = tmp_path / "input" / "chat-screenshot.png"
    path.parent.mkdir()
    im.save(path)
    return path


def test_ocr_reads_korean_and_english_and_search_finds_it(
    text_image: Path, case_dir: Path, cli: Cli
) -> None:
    original = text_image.read_bytes()
    assert cli("capture", text_image, "--case", case_dir).exit_code == 0
    res = cli("ocr", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    [read] = json.loads(res.stdout)["read"]
    assert read["method"] == "tesseract"
    doc = json.loads((case_dir / read["path"]).read_text("utf-8"))
    assert "불법촬영물 유포 증거 확보" in doc["text"]
    assert "Evidence preserved 2026" in doc["text"]
    assert doc["engine"]["langs"] == "kor+eng" and doc["engine"]["version"].startswith("tesseract")
    assert _obj(case_dir, read["sha256"]) == original  # the original is untouched
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    [entry] = [e for e in log if e["action"] == "ocr"]
    assert entry["details"]["files"][0]["path"] == f"ocr/{read['sha256']}.json"

    for query in ("유포 증거", "EVIDENCE preserved", "유포증거"):
        hits = json.loads(cli("search", query, "--case", case_dir, "--json").stdout)["hits"]
        assert [(h["sha256"], h["kind"]) for h in hits] == [(read["sha256"], "ocr")], query
    human = cli("search", "증거", "--case", case_dir)
    assert "불법촬영물 유포 증거 확보" in human.stdout
    none = cli("search", "존재하지않는문구", "--case", case_dir)
    assert none.exit_code == 0 and "No text found" in none.stdout
    empty = cli("search", "  ", "--case", case_dir)
    assert empty.exit_code == 2 and "give some text" in empty.stderr
    assert cli("verify", "--case", case_dir).exit_code == 0

    # Derived text altered afterwards: verify flags it and search no longer trusts it.
    path = case_dir / read["path"]
    path.chmod(0o644)
    path.write_text(path.read_text("utf-8").replace("Evidence", "Nothing!"), "utf-8")
    assert cli("verify", "--case", case_dir).exit_code == 1
    hits = json.loads(cli("search", "Nothing", "--case", case_dir, "--json").stdout)["hits"]
    assert hits == []


def test_screen_capture_is_read_by_ocr(
    xvfb: str, text_image: Path, tmp_path: Path, case_dir: Path, cli: Cli
) -> None:
    from PIL import Image

    big = Image.new("RGB", (640, 480), "white")
    big.paste(Image.open(text_image).resize((600, 135)), (20, 100))
    shown = tmp_path / "screen.png"
    big.save(shown)
    _show_on_root(xvfb, shown)
    time.sleep(0.1)
    res = run_capture("--screen", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)["screen"]
    [read] = doc["ocr"]
    text = json.loads((case_dir / read["path"]).read_text("utf-8"))["text"]
    assert "Evidence" in text and "증거" in text
    hits = json.loads(cli("search", "증거", "--case", case_dir, "--json").stdout)["hits"]
    assert [h["sha256"] for h in hits] == [doc["sha256"]]
