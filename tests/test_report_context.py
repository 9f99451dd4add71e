"""The report shows where an item came from: its chat context and the text read from it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from forensic.i18n import templates_dir
from tests import chatexports as cx
from tests.conftest import Cli
from tests.test_report import make_test_ca, needs_tools


def _text_image(path: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(templates_dir() / "fonts" / "NanumGothic.ttf"), 44)
    im = Image.new("RGB", (980, 220), "white")
    draw = ImageDraw.Draw(im)
    draw.text((24, 24), "유포 증거 확보", font=font, fill="black")
    draw.text((24, 120), "Evidence preserved 2026", font=font, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


@needs_tools
def test_report_quotes_chat_context_and_ocr_text(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (scripts/setup installs tesseract-ocr)")
    export = cx.make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    assert cli("capture", "--case", case_dir, export).exit_code == 0
    shot = _text_image(tmp_path / "shots" / "screenshot.png")
    assert cli("capture", "--case", case_dir, shot).exit_code == 0
    shot_sha = hashlib.sha256(shot.read_bytes()).hexdigest()
    res = cli("ocr", "--case", case_dir, shot_sha[:12])
    assert res.exit_code == 0, res.stderr
    _ca, cert, key = make_test_ca(tmp_path)
    assert cli("key", "cert", "--import", cert, key).exit_code == 0
    res = cli("report", "--case", case_dir, "--demo-tsa", "--json", "--lang", "en")
    assert res.exit_code == 0, res.stderr
    pdf = Path(json.loads(res.stdout)["report"]["path"])
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    # chat context of the photo: the chat, the sender, the forward, times in the case's zone
    # with UTC and as written
    assert "Chat 1: Group A (telegram)" in flat
    assert "forwarded from Channel X" in flat
    assert "2022-06-05 15:42:59 KST (06:42:59 UTC)" in flat
    assert "as written: 2022-06-05T15:42:59" in flat
    # the OCR text is quoted as machine-read derived data
    assert "Text read from the item (OCR)" in flat
    assert "Evidence preserved 2026" in flat
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0
