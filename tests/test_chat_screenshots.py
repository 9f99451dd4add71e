"""Chat screenshots read as messages: captured, found by sender and time, marked and quoted
in the Korean report with the screenshot and the message's box as the citation."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from forensic.case import Case, read_case_file
from tests.chatshots import Style, make_conversation, render
from tests.conftest import PASSPHRASE, examiner_session

CAMERA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "camera-photos"
pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")


def _shots(folder: Path) -> list[dict[str, Any]]:
    folder.mkdir()
    truths = []
    for n, style in enumerate(
        (Style("kakaotalk", "android", "light"), Style("telegram", "ios", "dark", (750, 1334)))
    ):
        shot = render(make_conversation(style.app, "ko", n), style)
        (folder / f"Screenshot_{n}.jpg").write_bytes(shot.jpeg)
        truths.append(shot.truth)
    return truths


def _camera_photo(folder: Path) -> Path | None:
    photos = sorted(CAMERA.glob("*.jpg")) if CAMERA.is_dir() else []
    for photo in photos:
        try:
            with Image.open(photo) as im:
                portrait = im.height > im.width
        except (OSError, ValueError):
            continue  # damaged files are in that set on purpose
        if portrait:  # a portrait photo: the shape alone does not rule it out
            target = folder / "IMG_0001.jpg"
            shutil.copyfile(photo, target)
            return target
    return None


def _kakao_export(path: Path, truth: dict[str, Any]) -> Path:
    """The KakaoTalk (Android, Korean) export of the chat the first screenshot shows."""
    year, month, day = (int(p[:-1]) for p in truth["dividers"][0].split()[:3])
    lines = ["동창 모임 카카오톡 대화", "저장한 날짜 : 2024년 12월 1일 오후 9:14", ""]
    for m in truth["messages"]:
        who = m["sender"] or "회원님"
        text = m["text"] or "사진"
        lines.append(f"{year}년 {month}월 {day}일 {m['time']}, {who} : {text}")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_screenshots_searched_marked_and_cited(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an encrypted case: the screenshot's reading is stored as ciphertext, and read back."""
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")
    monkeypatch.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
    case_dir = tmp_path / "case"
    made = cli("init", case_dir, "--case-id", "S-1", "--title", "Shots", "--examiner", "Ex",
               "--encrypt")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    folder = tmp_path / "shots"
    truths = _shots(folder)
    photo = _camera_photo(folder)
    export = _kakao_export(tmp_path / "KakaoTalkChats.txt", truths[0])
    assert cli("capture", "--case", case_dir, export).exit_code == 0
    res = cli("capture", "--case", case_dir, "--json", folder)
    assert res.exit_code == 0, res.stderr
    shots = json.loads(res.stdout)["chat_screenshots"]
    stored = sorted((case_dir / "transcripts").glob("shot-*.json"))
    assert len(stored) == 2 and all(
        p.read_bytes().startswith(b"age-encryption.org/v1\n") for p in stored
    )
    assert sorted(s["app"] for s in shots) == ["kakaotalk", "telegram"]
    assert all(s["messages"] >= 4 for s in shots)
    assert "OCR" in shots[0]["caveat"]
    if photo is not None:  # a real photo is acquired, never read as a chat
        assert len(json.loads(res.stdout)["acquired"]) == 3
    want = next(m for m in truths[0]["messages"] if m["side"] == "other" and m["kind"] == "text")
    day = truths[0]["dividers"][0]
    query = ("search", "--case", case_dir, "--json", want["text"][:4], "--sender", want["sender"])
    found = json.loads(cli(*query).stdout)
    hits = [h for h in found["hits"] if h["kind"] == "message" and h["ref"].startswith("shot-")]
    assert hits, found
    hit = hits[0]
    assert hit["sender"]["name"] == want["sender"]
    assert hit["time"]["as_written"] == want["time"]
    assert hit["screenshot"]["derived_by"] == "ocr" and len(hit["screenshot"]["box"]) == 4
    assert abs(hit["screenshot"]["box"][1] - want["box"][1]) < 12
    # the same message in the captured export: same sender, minute and text
    assert any(ref.startswith("group-") for ref in hit["screenshot"]["same_as"]), hit
    assert hit["time"]["local"].startswith(
        "2024-{:02d}-{:02d}".format(*(int(p[:-1]) for p in day.split()[1:3]))
    )
    res = cli("mark", "--case", case_dir, hit["ref"], "--note", "협박")
    assert res.exit_code == 0, res.stderr
    view = cli("chat", "show", hit["ref"].split("/")[0], "--case", case_dir, "--lang", "ko")
    assert "OCR로 도출됨" in view.stdout and want["sender"] in view.stdout
    assert cli("key", "cert", "--name", "Kim").exit_code == 0
    res = cli("report", "--case", case_dir, "--lang", "ko", "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stderr
    pdf = Path(json.loads(res.stdout)["report"]["path"])
    plain = tmp_path / "report.pdf"  # the report of an encrypted case is ciphertext too
    plain.write_bytes(read_case_file(Case.open(case_dir, examiner_session()), pdf))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", plain, "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    squeezed = "".join(text.split())
    assert cli("verify", "--case", case_dir).exit_code == 0
    assert "".join(hit["text"].split()) in squeezed
    assert "OCR로도출됨" in squeezed and "화면캡처" in squeezed
