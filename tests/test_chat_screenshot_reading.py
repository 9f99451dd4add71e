"""Chat screenshot recognition and the reading rules, without OCR (fast): every generated
layout is recognised as its app and theme, real photos never are, times and dividers parse,
and screenshot references resolve like a group's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from forensic.capture.chatshot import find_regions, parse_divider, parse_time, recognise
from forensic.chat.refs import RefError, match_group, split_ref
from tests.chatshots import all_styles, make_conversation, render

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.mark.parametrize(
    "style",
    [all_styles()[i] for i in (0, 7, 10, 13)],
    ids=lambda s: f"{s.app}-{s.system}-{s.theme}",
)
def test_every_layout_recognised_with_its_bubbles(style: object) -> None:
    shot = render(make_conversation(style.app, "ko", 3), style)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(shot.jpeg)) as im:
        rec = recognise(im)
        assert rec is not None and (rec.app, rec.theme) == (style.app, style.theme)  # type: ignore[attr-defined]
        bubbles = [r for r in find_regions(im, rec) if r.kind in ("own", "other", "photo")]
    truth = shot.truth["messages"]
    assert len(bubbles) == len(truth)
    for region, want in zip(bubbles, truth, strict=True):
        assert abs(region.box[1] - want["box"][1]) <= 8 and abs(region.box[3] - want["box"][3]) <= 8
        if region.kind != "photo":
            assert region.kind == want["side"]


def test_real_photos_are_not_chats() -> None:
    photos = sorted((DATASETS / "camera-photos").glob("*.jpg"))
    if not photos:
        pytest.skip("../shared/datasets/camera-photos is not beside the checkout")
    offered = 0
    for path in photos[::12]:
        try:
            with Image.open(path) as im:
                im.draft("RGB", (im.width // 4, im.height // 4))
                offered += 1
                assert recognise(im) is None, path.name
        except (OSError, ValueError):
            continue  # damaged files are in that set on purpose
    assert offered >= 15


def test_times_and_dividers_as_phones_write_them() -> None:
    assert parse_time("오후 8:21") == ("오후 8:21", 20, 21)
    assert parse_time("오전 12:05") == ("오전 12:05", 0, 5)
    assert parse_time("8:21 PM") == ("8:21 PM", 20, 21)
    assert parse_time("12:00 AM") == ("12:00 AM", 0, 0)
    assert parse_time("오후 8150") == ("오후 8:50", 20, 50)  # the colon read as a digit
    assert parse_time("오후 13:70") is None and parse_time("사진") is None
    assert parse_divider("2024년 8월 21일 수요일") == (2024, 8, 21)
    assert parse_divider("Wednesday, August 21, 2024") == (2024, 8, 21)
    assert parse_divider("Class chat") is None


def test_screenshot_refs_resolve_like_group_refs() -> None:
    groups = ["group-3f2a00", "shot-b03e677d4ff52126"]
    assert match_group("shot-b03e", groups) == "shot-b03e677d4ff52126"
    assert match_group("3f2a", groups) == "group-3f2a00"
    typed = split_ref("shot-b03e/0/S2")
    assert (typed.group, typed.chat, typed.message) == ("shot-b03e", 0, "S2")
    with pytest.raises(RefError):
        match_group("shot-ffff", groups)
