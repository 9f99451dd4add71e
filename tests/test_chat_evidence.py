"""Chat evidence as a lawyer cites it: search hits as citations, zones, marks, chat show."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests import chatexports as cx
from tests.casetools import log_entries


def _capture(cli: Any, case_dir: Path, path: Path, *extra: str) -> dict[str, Any]:
    res = cli("capture", "--case", case_dir, "--json", *extra, path)
    assert res.exit_code in (0, 3), res.stderr
    return dict(json.loads(res.stdout))


def _search(cli: Any, case_dir: Path, *args: str) -> list[dict[str, Any]]:
    res = cli("search", "--case", case_dir, "--json", *args)
    assert res.exit_code == 0, res.stdout + res.stderr
    return [h for h in json.loads(res.stdout)["hits"] if h["kind"] == "message"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _transcript(case_dir: Path, group: str) -> dict[str, Any]:
    (entry,) = [
        e for e in log_entries(case_dir) if e["action"] == "transcript" and e["subject"] == group
    ]
    return dict(json.loads((case_dir / entry["details"]["files"][0]["path"]).read_text("utf-8")))


@pytest.fixture
def ios_case(cli: Any, case_dir: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    path = tmp_path / "Talk_2023.1.1 10:00-1.txt"
    path.write_text(cx.KAKAO_IOS_CITE, "utf-8")
    out = _capture(cli, case_dir, path)
    return case_dir, path, out["groups"][0]


def test_kakaotalk_hit_is_a_citation(cli: Any, ios_case: tuple[Path, Path, str]) -> None:
    case_dir, path, group = ios_case
    (hit,) = _search(cli, case_dir, "프론트개발자")
    assert hit["sha256"] == hit["item_sha256"] == _sha(path)  # the export file's object
    assert hit["group"] == group and hit["file"] == path.name
    assert hit["chat"] == {"index": 0, "name": None} and hit["member"] == path.name
    assert hit["message"] == "L4" and hit["line"] == 4 and hit["row"] is None
    assert hit["ref"] == f"{group}/0/L4"
    assert hit["sender"] == {"name": "쥬히", "id": None}
    assert hit["time"] == {
        "as_written": "2022. 12. 31. 오후 8:21",
        "local": "2022-12-31T20:21:00+09:00",
        "utc": "2022-12-31T11:21:00Z",
        "zone": "Asia/Seoul",
        "zone_from": "case",
    }
    assert hit["field"] == f"{path.name} #L4" and "프론트개발자" in hit["snippet"]
    # midnight in the 12-hour form: 오전 12:00 is 00:00
    (noon,) = _search(cli, case_dir, "열두 시")
    assert noon["time"]["local"] == "2023-01-01T00:00:00+09:00"
    assert noon["time"]["utc"] == "2022-12-31T15:00:00Z"


def test_text_hit_carries_what_applies(cli: Any, ios_case: tuple[Path, Path, str]) -> None:
    case_dir, path, _group = ios_case
    photo = path.parent / "capture-0412.jpg"
    photo.write_bytes(cx.JPEG)
    res = cli("capture", "--case", case_dir, "--note", "프론트 개발자 단톡방 캡처", photo)
    assert res.exit_code == 0, res.stderr
    res = cli("search", "--case", case_dir, "--json", "프론트개발자")
    hits = json.loads(res.stdout)["hits"]
    assert [h["kind"] for h in hits] == ["message", "metadata"]
    meta = hits[1]
    assert meta["sha256"] == meta["item_sha256"] == _sha(photo) and meta["field"] == "note"
    assert meta["file"] == "capture-0412.jpg" and meta["group"] is None  # a lone file: no group
    assert meta["time"]["zone"] == "Asia/Seoul" and meta["time"]["zone_from"] == "case"
    assert meta["time"]["local"].endswith("+09:00") and meta["time"]["utc"].endswith("Z")
    res = cli("search", "--case", case_dir, "--json", "프론트개발자", "--sender", "쥬히")
    assert [h["kind"] for h in json.loads(res.stdout)["hits"]] == ["message"]


def test_korean_spacing_nfd_filters_and_sort(cli: Any, ios_case: tuple[Path, Path, str]) -> None:
    case_dir, _path, group = ios_case
    assert [h["message"] for h in _search(cli, case_dir, "보고 싶어")] == ["L5"]
    nfd = unicodedata.normalize("NFD", "보고싶어")
    assert nfd != "보고싶어" and [h["message"] for h in _search(cli, case_dir, nfd)] == ["L5"]
    everything = ["--regex", "."]
    assert len(_search(cli, case_dir, *everything)) == 4
    got = _search(cli, case_dir, *everything, "--sender", "쥬히")
    assert [h["message"] for h in got] == ["L4", "L6"]
    window = ("--since", "2022-12-31T20:22", "--until", "2022-12-31")
    got = _search(cli, case_dir, *everything, *window)
    assert [h["message"] for h in got] == ["L5", "L6"]  # case zone; a date alone: the whole day
    got = _search(cli, case_dir, *everything, "--since", "2022-12-31T15:00:00+00:00")
    assert [h["message"] for h in got] == ["L7"]
    assert _search(cli, case_dir, *everything, "--chat", "nothing-like-it") == []
    assert len(_search(cli, case_dir, *everything, "--chat", group[6:12])) == 4
    assert [h["message"] for h in _search(cli, case_dir, "^보고싶", "--regex")] == ["L5"]
    assert _search(cli, case_dir, "^보고 싶", "--regex") == []  # a pattern is taken as written
    res = cli("search", "--case", case_dir, "--regex", "(")
    assert res.exit_code == 2 and "regular expression" in res.stderr
    got = _search(cli, case_dir, *everything, "--by-time")
    assert [h["message"] for h in got] == ["L4", "L5", "L6", "L7"]


def test_nfd_export_found_by_nfc_query(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "KakaoTalkChats.csv"
    path.write_text(cx.KAKAO_MAC_NFD, "utf-8")  # a Mac writes Hangul decomposed
    _capture(cli, case_dir, path)
    (hit,) = _search(cli, case_dir, "보고싶어")
    assert hit["message"] == "R1" and hit["row"] == 1 and hit["line"] is None
    assert hit["snippet"] == unicodedata.normalize("NFC", "보고 싶어 정말")
    assert hit["time"]["local"] == "2023-05-01T09:00:00+09:00" and hit["file"] == path.name


def test_telegram_zone_derived_and_warned(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_at_zone(tmp_path / "ChatExport")
    res = cli("capture", "--case", case_dir, export)
    assert res.exit_code == 0, res.stderr
    assert "UTC+07:00" in res.stderr and "Asia/Seoul" in res.stderr  # the warning
    assert "4 message(s)" in res.stdout
    out = _capture(cli, case_dir, export, "--timezone", "Asia/Bangkok")  # the first three agree
    (chat,) = out["chats"]
    assert chat["zone_check"]["disagreements"] == 1
    assert chat["zone_check"]["derived_offsets"] == {"+07:00": 3, "+08:00": 1}
    assert "1 message(s) disagree" in chat["zone_warning"]
    doc = _transcript(case_dir, out["groups"][0])
    assert doc["v"] == 2
    m = doc["chats"][0]["messages"]
    first = m[0]["date"]
    assert first["local"] == "2023-03-25T15:43:13" and first["utc"] == "2023-03-25T08:43:13Z"
    assert first["zone"] == "UTC+07:00" and first["zone_from"] == "derived"
    assert "stated" not in first
    assert m[3]["date"]["offset"] == "+08:00" and m[3]["date"]["stated"]["offset"] == "+07:00"
    hits = _search(cli, case_dir, "프론트개발자")
    assert {h["time"]["local"] for h in hits} == {"2023-03-25T15:43:13+07:00"}
    assert {h["time"]["zone_from"] for h in hits} == {"derived"}
    assert {h["time"]["utc"] for h in hits} == {"2023-03-25T08:43:13Z"}
    first_group = next(e for e in log_entries(case_dir) if e["action"] == "transcript")["subject"]
    view = cli("chat", "show", first_group, "--case", case_dir)
    assert view.exit_code == 0 and "UTC+07:00" in view.stderr  # warned in the chat view too
    assert "2023-03-25 17:43:13 KST (08:43:13 UTC)" in view.stdout
    assert "photo: photos/photo_1@25-03-2023_16-43-13.jpg (in the case)" in view.stdout
    shown = cli("show", "--case", case_dir, hashlib.sha256(cx.JPEG).hexdigest())
    assert "UTC+07:00" in shown.stdout and "Asia/Seoul" in shown.stdout  # and in show


def test_kakaotalk_pc_as_written_and_zone(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "KakaoTalk_pc.txt"
    path.write_text(cx.KAKAO_PC_CITE, "utf-8")
    out = _capture(cli, case_dir, path, "--timezone", "Asia/Tokyo")
    m = _transcript(case_dir, out["groups"][0])["chats"][0]["messages"]
    assert m[0]["date"]["as_written"] == "오후 2:37" and m[0]["sender"]["name"] == "수ㅈ"
    assert m[0]["date"]["day_as_written"] == "2023년 1월 1일 일요일"
    assert m[0]["date"]["zone"] == "Asia/Tokyo" and m[0]["date"]["zone_from"] == "user"
    assert m[1]["date"]["local"] == "2023-01-01T00:05:00"
    (chat,) = out["chats"]
    assert chat["device"] == "pc" and chat["language"] == "ko" and chat["messages"] == 2


def test_zip_photos_linked_by_file_name_time(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    z = cx.make_kakao_photo_zip(tmp_path / "KakaoTalk_photos.zip")
    out = _capture(cli, case_dir, z)
    (chat,) = out["chats"]
    assert chat["photos_linked"] == 2 and chat["media_missing"] == 1
    assert chat["summary"].startswith("KakaoTalk Android export (ko): 3 message(s)")
    assert "2 photo(s) linked, 1 media missing" in chat["summary"]
    doc = _transcript(case_dir, out["groups"][0])
    m = doc["chats"][0]["messages"]
    photos = m[0]["media"]
    assert [p["member"] for p in photos] == [
        "20240703_130612.jpg",
        "KakaoTalk_20240703_130633123.jpg",
    ]
    assert {p["linked_by"] for p in photos} == {"file-name time"}
    assert photos[0]["sha256"] == hashlib.sha256(cx.JPEG + b"a").hexdigest()
    assert m[1]["media"] == [
        {
            "role": "video",
            "status": "not_linked",
            "count": 1,
            "reason": "no attachment whose file-name time is in the message's minute",
        }
    ]
    stray = next(a for a in doc["attachments"] if a["member"] == "20240801_090000.jpg")
    assert stray["linked_to"] is None
    assert next(a for a in doc["attachments"] if a["member"] == "20240703_130612.jpg")[
        "linked_to"
    ] == [0, "L4"]
    res = cli("capture", "--case", case_dir, "--lang", "ko", z)
    assert "카카오톡 안드로이드 내보내기 (ko): 대화 1개에 메시지 3개, 사진 2장 연결" in res.stdout


def test_marks_in_log_and_chat_show(cli: Any, ios_case: tuple[Path, Path, str]) -> None:
    case_dir, path, group = ios_case
    res = cli("mark", "--case", case_dir, f"{group[6:14]}/L5", "--note", "threat")
    assert res.exit_code == 0, res.stderr
    assert f"{group}/0/L5" in res.stdout
    res = cli("mark", "--case", case_dir, f"{group}/0/L7", "--context", "1", "--json")
    assert json.loads(res.stdout)["ref"] == f"{group}/0/L7"
    marks = [e for e in log_entries(case_dir) if e["action"] in ("mark", "unmark")]
    assert [m["subject"] for m in marks] == [f"msg:{group}/0/L5", f"msg:{group}/0/L7"]
    details = {
        k: marks[0]["details"][k]
        for k in ("group", "chat", "message", "note", "context", "item_sha256")
    }
    assert details == {
        "group": group,
        "chat": 0,
        "message": "L5",
        "note": "threat",
        "context": 3,
        "item_sha256": _sha(path),
    }
    assert marks[1]["details"]["context"] == 1 and marks[1]["details"]["note"] is None
    view = json.loads(cli("chat", "show", group[:12], "--case", case_dir, "--json").stdout)
    assert [(m["message"], m["marked"]) for m in view["messages"]] == [
        ("L4", False),
        ("L5", True),
        ("L6", False),
        ("L7", True),
    ]
    assert view["messages"][1]["mark"]["note"] == "threat"
    around = json.loads(
        cli(
            "chat", "show", group, "--around", "L4", "--context", "1", "--case", case_dir, "--json"
        ).stdout
    )
    assert [m["message"] for m in around["messages"]] == ["L4", "L5"]
    assert around["messages"][0]["focus"] is True
    human = cli("chat", "show", group, "--case", case_dir)
    assert "★ L5" in human.stdout and "note: threat" in human.stdout
    assert "2022-12-31 20:22:00 KST (11:22:00 UTC)  민수" in human.stdout
    # what a report quotes: each mark with its own context
    from forensic.case.case import Case
    from forensic.chat.view import mark_excerpts

    excerpts = mark_excerpts(Case.open(case_dir))
    assert [
        (e.mark.ref.message, [m.message.ref.message for m in e.messages]) for e in excerpts
    ] == [
        ("L5", ["L4", "L5", "L6", "L7"]),
        ("L7", ["L6", "L7"]),
    ]
    assert all(e.intact for e in excerpts)
    # unmark: the mark is no longer active, both entries stay
    res = cli("unmark", "--case", case_dir, f"{group}/0/L5")
    assert res.exit_code == 0, res.stderr
    entries = [e for e in log_entries(case_dir) if e["action"] == "unmark"]
    assert entries[0]["subject"] == f"msg:{group}/0/L5"
    assert entries[0]["details"] == {"group": group, "chat": 0, "message": "L5"} | {
        k: entries[0]["details"][k] for k in ("examiner", "tool")
    }
    listed = json.loads(cli("chat", "marks", "--case", case_dir, "--json").stdout)["marks"]
    assert [m["ref"] for m in listed] == [f"{group}/0/L7"]
    marked_only = json.loads(
        cli(
            "chat", "show", group, "--marked", "--context", "1", "--case", case_dir, "--json"
        ).stdout
    )
    assert [m["message"] for m in marked_only["messages"]] == ["L6", "L7"]
    assert cli("unmark", "--case", case_dir, f"{group}/0/L5").exit_code == 2  # not marked


def test_bad_refs_are_usage_errors(cli: Any, ios_case: tuple[Path, Path, str]) -> None:
    case_dir, _path, group = ios_case
    before = len(log_entries(case_dir))
    for ref, words in (
        (f"{group}/0/L99", "no message"),
        (f"{group}/3/L4", "no message"),
        ("group-ffff/0/L4", "no chat transcript"),
        ("nonsense", "not a message reference"),
        (f"{group}/x/L4", "not a message reference"),
    ):
        res = cli("mark", "--case", case_dir, ref)
        assert res.exit_code == 2, (ref, res.stdout, res.stderr)
        assert words in res.stderr and "Traceback" not in res.stderr
    res = cli("mark", "--case", case_dir, "--lang", "ko", f"{group}/0/L99")
    assert res.exit_code == 2 and "메시지가 없습니다" in res.stderr
    assert len(log_entries(case_dir)) == before  # nothing logged


def test_reader_streams_lines_and_falls_back_to_ijson(cli: Any, ios_case: Any) -> None:
    """The line reader and the streaming parser read the same records (a file laid out another
    way is still read), and a version 1 time gets its offset from its local and UTC times."""
    import io

    from forensic.chat.transcripts import _by_ijson, _by_line, cited_time

    case_dir, _path, group = ios_case
    (entry,) = [e for e in log_entries(case_dir) if e["action"] == "transcript"]
    data = (case_dir / entry["details"]["files"][0]["path"]).read_bytes()
    by_line = list(_by_line(io.BytesIO(data), None))
    by_parser = list(_by_ijson(io.BytesIO(json.dumps(json.loads(data), indent=1).encode())))
    assert [k for k, _ in by_line] == ["header", "chat"] + ["message"] * 4
    assert by_line[1:] == by_parser[1:]
    assert by_parser[0][1]["group"] == by_line[0][1]["group"] == group
    v1 = {
        "as_written": "2022-06-05T15:43:13",
        "local": "2022-06-05T15:43:13",
        "zone": "Asia/Seoul",
        "zone_from": "default",
        "utc": "2022-06-05T08:43:13Z",
    }
    assert cited_time(v1).local == "2022-06-05T15:43:13+07:00"  # what the times themselves say
