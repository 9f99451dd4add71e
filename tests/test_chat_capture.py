"""Chat exports (Telegram, KakaoTalk) captured with their transcripts, message by message."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from forensic.capture import CaptureOptions, capture_paths
from forensic.capture.transcript import ChatError, transcript_context
from forensic.case.case import Case
from forensic.custody.keys import config_home, unlock_key
from tests import chatexports as cx
from tests.casetools import log_entries
from tests.conftest import PASSPHRASE


def _capture(case_dir: Path, *paths: Path, **opts: Any) -> Any:
    case = Case.open(case_dir)
    key = unlock_key(config_home(), PASSPHRASE)
    return case, capture_paths(case, key, [os.fsencode(p) for p in paths], CaptureOptions(**opts))


def _transcripts(case_dir: Path) -> list[dict[str, Any]]:
    out = []
    for entry in log_entries(case_dir):
        if entry["action"] == "transcript":
            path = case_dir / entry["details"]["files"][0]["path"]
            out.append({"entry": entry, "doc": json.loads(path.read_text("utf-8"))})
    return out


def _msgs(doc: dict[str, Any], chat: int = 0) -> list[dict[str, Any]]:
    return list(doc["chats"][chat]["messages"])


def _verify_ok(cli: Any, case_dir: Path) -> None:
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_telegram_json_single_chat_through_cli(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    res = cli("capture", "--case", case_dir, "--json", export)
    out = json.loads(res.stdout)
    assert res.exit_code == 0  # a missing medium is a warning, not a failure
    assert {f["reason"] for f in out["failures"]} == {"chat.media_missing"}
    assert len(out["acquired"]) == 2 and len(out["groups"]) == 1
    (t,) = _transcripts(case_dir)
    doc, entry = t["doc"], t["entry"]
    assert doc["format"] == "forensic-transcript" and doc["v"] == 2
    assert doc["chats"][0]["chat"] == {
        "name": "Group A",
        "type": "private_supergroup",
        "id": "1234567890",
        "section": None,
    }
    m = _msgs(doc)
    assert [x["id"] for x in m] == ["1", "2", "3", "4", "5", "6"]
    assert m[0]["kind"] == "service" and m[0]["action"] == "create_group"
    assert m[0]["sender"] == {"name": "Hong", "id": "user111"}
    assert m[0]["extra"] == {"title": "Group A", "members": ["Hong", "Kim"]}
    assert m[1]["date"]["as_written"] == "2022-06-05T15:42:59"
    assert m[1]["date"]["utc"] == "2022-06-05T06:42:59Z"
    assert m[1]["date"]["unixtime"] == "1654411379" and m[1]["text"] == "look at this"
    assert m[2]["forwarded_from"] == "Channel X" and m[2]["text"] == "see https://x.example!"
    assert len(m[2]["text_entities"]) == 3
    photo = m[2]["media"][0]
    jpeg_sha = __import__("hashlib").sha256(cx.JPEG).hexdigest()
    assert photo["status"] == "acquired" and photo["sha256"] == jpeg_sha
    assert photo["width"] == 640 and photo["role"] == "photo"
    assert m[3]["sender"] == {"name": None, "id": "user333"}  # deleted account
    assert m[3]["reply_to"] == "3" and m[3]["edited"]["utc"] == "2022-06-05T06:45:00Z"
    assert m[4]["media"][0]["status"] == "not_included"
    assert m[4]["media"][0]["mime_type"] == "video/mp4"
    assert m[5]["sender"]["id"] == "222" and "unixtime" not in m[5]["date"]
    assert m[5]["date"]["zone"] == "Asia/Seoul" and m[5]["date"]["zone_from"] == "case"
    assert m[5]["date"]["utc"] == "2022-06-05T06:47:00Z"
    assert m[5]["media"][0]["status"] == "missing"
    assert doc["complete"] is True and doc["message_total"] == 6
    assert entry["details"]["media_links"] == [[0, "3", jpeg_sha]]
    _verify_ok(cli, case_dir)
    # The context around the photo: who sent it, when, in which chat, forwarded from where.
    (ctx,) = transcript_context(Case.open(case_dir), jpeg_sha, around=1)
    assert ctx.intact and ctx.chat["name"] == "Group A" and ctx.focus_ids == ("3",)
    assert [x["id"] for x in ctx.messages] == ["2", "3", "4"]
    focus = ctx.messages[1]
    assert focus["focus"] and focus["sender"]["name"] == "Kim"
    assert focus["forwarded_from"] == "Channel X"


def test_telegram_full_export_and_timezone(case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "DataExport", full=True)
    _capture(case_dir, export, timezone="Europe/Berlin")
    (t,) = _transcripts(case_dir)
    doc = t["doc"]
    assert [c["chat"]["name"] for c in doc["chats"]] == ["Group A", "Kim"]
    assert doc["chats"][1]["chat"]["type"] == "personal_chat"
    assert [m["id"] for m in _msgs(doc, 1)] == ["10"]
    assert doc["timezone"] == {"name": "Europe/Berlin", "from": "user"}
    m6 = _msgs(doc)[5]
    assert m6["date"]["utc"] == "2022-06-05T13:47:00Z"  # read in the stated zone


def test_unknown_timezone_is_a_usage_error(case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "e")
    with pytest.raises(ChatError) as err:
        _capture(case_dir, export, timezone="Mars/Olympus")
    assert "Mars/Olympus" in err.value.diagnostics("en")
    assert "Mars/Olympus" in err.value.diagnostics("ko")


def test_telegram_html_with_pagination(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_html(tmp_path / "html")
    res = cli("capture", "--case", case_dir, "--json", export)
    out = json.loads(res.stdout)
    assert res.exit_code == 3  # a path escaping the export is refused and named
    (bad,) = [f for f in out["failures"] if f["reason"] == "chat.path_escapes"]
    assert bad["path"].endswith("messages2.html") and "../../etc/passwd" in bad["message"]
    (t,) = _transcripts(case_dir)
    doc = t["doc"]
    assert doc["source_format"] == "telegram-html"
    assert doc["chats"][0]["chat"]["name"] == "Group A"
    m = _msgs(doc)
    assert [x["id"] for x in m] == ["-1", "2", "3", "4"]
    assert m[0]["kind"] == "service" and m[0]["text"] == "14 May 2021"
    assert m[1]["sender"]["name"] == "Hong & Co" and m[1]["text"] == "first line\nsecond line"
    assert m[1]["date"]["local"] == "2021-05-14T23:29:08"
    assert m[2]["sender"]["name"] == "Hong & Co" and m[2]["joined"]  # joined: same sender
    assert m[2]["forwarded_from"] == "Channel X"
    assert m[2]["media"][0]["status"] == "acquired" and m[2]["media"][0]["role"] == "photo"
    assert m[3]["date"]["zone"] == "UTC+09:00" and m[3]["date"]["utc"] == "2021-05-14T15:01:02Z"
    assert m[3]["reply_to"] == "3" and m[3]["text"] == "where is this from?"
    assert m[3]["media"][0]["status"] == "refused"
    # a hit cites the page the message was read from, by that page's item
    (hit,) = json.loads(cli("search", "--case", case_dir, "where is this", "--json").stdout)["hits"]
    page_sha = __import__("hashlib").sha256((export / "messages2.html").read_bytes()).hexdigest()
    assert hit["file"] == "messages2.html" and hit["sha256"] == page_sha
    assert (
        hit["time"]["local"] == "2021-05-15T00:01:02+09:00" and hit["time"]["zone_from"] == "export"
    )
    _verify_ok(cli, case_dir)


def test_truncated_result_json(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "trunc")
    data = (export / "result.json").read_bytes()
    cut = data.index(b'"id": 4')
    (export / "result.json").write_bytes(data[:cut])
    res = cli("capture", "--case", case_dir, "--json", export)
    out = json.loads(res.stdout)
    assert res.exit_code == 3
    (bad,) = [f for f in out["failures"] if f["reason"] == "chat.parse_failed"]
    assert bad["path"].endswith("result.json") and "3 message(s)" in bad["message"]
    assert len(out["acquired"]) == 2  # the files themselves, as they are
    (t,) = _transcripts(case_dir)
    assert t["doc"]["complete"] is False and [m["id"] for m in _msgs(t["doc"])] == ["1", "2", "3"]
    assert t["entry"]["details"]["complete"] is False
    _verify_ok(cli, case_dir)


def test_corrupt_result_json(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = tmp_path / "corrupt"
    export.mkdir()
    (export / "result.json").write_bytes(b'{"name": "x", "messages": [{"id": 1,, }]}')
    res = cli("capture", "--case", case_dir, "--json", export)
    out = json.loads(res.stdout)
    assert res.exit_code == 3
    assert [f["reason"] for f in out["failures"]] == ["chat.parse_failed"]
    assert "Traceback" not in res.stdout + res.stderr


KAKAO_CASES = [
    # (text, encoding, expected [(kind, sender, text, local)], chat name)
    (
        cx.KAKAO_ANDROID_KO,
        "utf-8",
        [
            ("message", "홍길동", "안녕", "2024-07-03T00:47:00"),
            ("message", "회원님", "이거 봐\n두 번째 줄", "2024-07-03T13:05:00"),
            ("message", "홍길동", "사진", "2024-07-03T13:06:00"),
            ("message", "홍길동", "사진 3장", "2024-07-03T13:07:00"),
            ("message", "김철수", "파일: 증거.hwp", "2024-07-03T13:08:00"),
            ("system", None, "홍길동님이 김철수님을 초대했습니다.", "2024-07-03T20:34:00"),
        ],
        "홍길동",
    ),
    (
        cx.KAKAO_ANDROID_EN_OLD,
        "utf-8",
        [
            ("message", "Hong", "hello", "2015-07-09T20:35:00"),
            ("message", "you", "<Photo>", "2015-07-09T20:36:00"),
        ],
        None,
    ),
    (
        cx.KAKAO_ANDROID_EN_NEW,
        "utf-8-sig",
        [
            ("message", "Hong", "hi there", "2018-03-03T20:58:00"),
            ("message", "You", "Photo", "2018-03-03T21:01:00"),
        ],
        "Hong",
    ),
    (
        cx.KAKAO_IOS_KO,
        "cp949",
        [
            ("message", "홍길동", "헐", "2023-01-21T02:20:00"),
            ("message", "김철수", "동영상", "2023-01-21T12:05:00"),
            ("system", None, "홍길동님이 김철수님을 초대했습니다.", "2023-01-21T20:34:00"),
        ],
        None,
    ),
    (
        cx.KAKAO_IOS_EN,
        "utf-8",
        [
            ("system", None, "Hong invited Kim.", "2015-07-09T20:34:00"),
            ("message", "You", "what is\nthis", "2015-07-09T20:35:00"),
            ("message", "Kim", "ok", "2015-07-09T00:00:00"),
        ],
        None,
    ),
    (
        cx.KAKAO_PC_KO,
        "cp949",
        [
            ("message", "홍길동", "안녕", "2015-08-01T14:37:00"),
            ("message", "홍길동", "여러 줄\n메시지", "2015-08-01T14:38:00"),
            ("system", None, "김철수님이 들어왔습니다.", None),
            ("message", "나", "사진", "2015-08-01T20:38:00"),
        ],
        "홍길동",
    ),
    (
        cx.KAKAO_PC_EN,
        "utf-8",
        [
            ("message", "Hong", "hello", "2015-08-01T14:37:00"),
            ("message", "Kim", "midnight", "2015-08-01T00:05:00"),
        ],
        "Hong",
    ),
    (
        cx.KAKAO_MAC_CSV,
        "utf-8",
        [
            ("message", "Hong", "맞아용", "2015-07-09T20:35:19"),
            ("message", "Kim", "두 줄\n메시지, 쉼표", "2015-07-09T20:36:00"),
        ],
        None,
    ),
]


@pytest.mark.parametrize("index", range(len(KAKAO_CASES)))
def test_kakaotalk_formats(case_dir: Path, tmp_path: Path, index: int) -> None:
    text, encoding, expected, name = KAKAO_CASES[index]
    suffix = ".csv" if text.startswith("Date,User") else ".txt"
    path = tmp_path / f"KakaoTalkChats{suffix}"
    path.write_bytes(text.encode(encoding))
    _case, result = _capture(case_dir, path)  # detected automatically
    assert not result.failed, result.failures
    (t,) = _transcripts(case_dir)
    doc = t["doc"]
    assert doc["app"] == "kakaotalk" and doc["complete"] is True
    assert doc["chats"][0]["chat"]["encoding"] == encoding
    assert doc["chats"][0]["chat"]["name"] == name
    got = [(m["kind"], m["sender"]["name"], m["text"], m["date"]["local"]) for m in _msgs(doc)]
    assert got == expected
    for m in _msgs(doc):
        assert m["date"]["zone"] == "Asia/Seoul" and m["date"]["zone_from"] == "case"


def test_kakaotalk_media_and_times_as_written(case_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "KakaoTalkChats.txt"
    path.write_text(cx.KAKAO_ANDROID_KO, "utf-8")
    _capture(case_dir, path, timezone="Asia/Seoul")
    m = _msgs(_transcripts(case_dir)[0]["doc"])
    assert m[0]["date"]["as_written"] == "2024년 7월 3일 오전 12:47"
    assert m[0]["date"]["utc"] == "2024-07-02T15:47:00Z"
    assert m[0]["date"]["zone_from"] == "user"
    assert m[2]["media"] == [{"role": "photo", "status": "not_in_export"}]
    assert m[3]["media"][0]["count"] == 3
    assert m[4]["media"][0]["ref"] == "증거.hwp"
    assert m[1]["sender"].get("is_exporter") is True


def test_kakaotalk_zip_with_attachments_and_traversal(
    cli: Any, case_dir: Path, tmp_path: Path
) -> None:
    z = cx.make_kakao_zip(tmp_path / "kakao.zip", traversal=True)
    res = cli("capture", "--case", case_dir, "--json", z)
    out = json.loads(res.stdout)
    assert res.exit_code == 3
    (bad,) = out["failures"]
    assert bad["reason"] == "chat.path_escapes" and "../../outside.txt" in bad["message"]
    assert bad["path"].endswith("kakao.zip")
    assert len(out["acquired"]) == 1  # the zip, byte for byte
    (t,) = _transcripts(case_dir)
    doc = t["doc"]
    hwp = next(a for a in doc["attachments"] if a["member"] == "증거.hwp")
    file_msg = next(m for m in _msgs(doc) if m["text"].startswith("파일"))
    assert file_msg["media"][0]["status"] == "acquired_in_container"
    assert file_msg["media"][0]["sha256"] == hwp["sha256"]
    assert file_msg["media"][0]["container_sha256"] == out["acquired"][0]["sha256"]
    assert {a["member"] for a in doc["attachments"]} == {"증거.hwp", "20240703_130600.jpg"}
    assert not (tmp_path / "outside.txt").exists()
    _verify_ok(cli, case_dir)


def test_unknown_text_forced_as_kakaotalk(case_dir: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\neggs\n", "utf-8")
    _case, result = _capture(case_dir, notes, source="kakaotalk")
    (f,) = result.failures
    assert f.reason == "chat.not_kakaotalk" and not f.skipped
    from forensic.i18n import message

    text = message("reason.chat.not_kakaotalk", "en", **f.params)
    assert "first 40 lines" in text
    assert not result.acquired
    # Without --source it is an ordinary file.
    _case, result = _capture(case_dir, notes)
    assert len(result.acquired) == 1 and not _transcripts(case_dir)


def test_forced_files_and_telegram(case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "e")
    _case, result = _capture(case_dir, export, source="files")
    assert len(result.acquired) == 2 and not _transcripts(case_dir)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.txt").write_text("x")
    _case, result = _capture(case_dir, plain, source="telegram")
    assert [f.reason for f in result.failures] == ["chat.not_telegram"]


def test_large_export_streamed_flat_memory(case_dir: Path, tmp_path: Path) -> None:
    export = tmp_path / "big"
    export.mkdir()
    n = 60_000
    filler = "가나다라 " * 40
    with (export / "result.json").open("w", encoding="utf-8") as fh:
        fh.write('{"name": "Big", "type": "public_supergroup", "id": 9, "messages": [\n')
        for i in range(n):
            msg = {
                "id": i,
                "type": "message",
                "date": "2022-06-05T15:42:59",
                "date_unixtime": "1654411379",
                "from": "Hong",
                "from_id": "user1",
                "text": f"{i} {filler}",
            }
            fh.write(("," if i else "") + json.dumps(msg, ensure_ascii=False) + "\n")
        fh.write("]}")
    size = (export / "result.json").stat().st_size
    assert size > 32 << 20
    tracemalloc.start()
    try:
        _capture(case_dir, export)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak {peak} bytes for {size}")
    assert peak < 16 << 20, f"peak {peak} bytes for a {size}-byte export"
    (entry,) = [e for e in log_entries(case_dir) if e["action"] == "transcript"]
    assert entry["details"]["messages"] == n and entry["details"]["complete"] is True


def test_cli_source_timezone_and_show_chat_context(
    cli: Any, case_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    """--source, --timezone and the chat context in `show`, all through the CLI."""
    monkeypatch.setenv("COLUMNS", "220")
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\neggs\n", "utf-8")
    res = cli("capture", "--case", case_dir, "--source", "kakaotalk", notes)
    assert res.exit_code == 3 and "Traceback" not in res.stderr
    assert str(notes) in res.stderr
    res = cli("capture", "--case", case_dir, "--timezone", "Mars/Olympus", notes)
    assert res.exit_code == 2 and "Mars/Olympus" in res.stderr
    export = cx.make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    res = cli("capture", "--case", case_dir, "--timezone", "Asia/Tokyo", export)
    assert res.exit_code == 0, res.stderr
    jpeg_sha = __import__("hashlib").sha256(cx.JPEG).hexdigest()
    doc = json.loads(cli("show", "--case", case_dir, jpeg_sha, "--json").stdout)
    (ctx,) = doc["item"]["chat_context"]
    focus = [m for m in ctx["messages"] if m.get("focus")]
    assert focus and focus[0]["sender"]["name"] == "Kim"
    assert focus[0]["forwarded_from"] == "Channel X"
    human = cli("show", "--case", case_dir, jpeg_sha).stdout
    assert "Group A" in human and "forwarded from Channel X" in human and "▶ 3" in human


def test_search_finds_chat_messages(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    export = cx.make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    assert cli("capture", "--case", case_dir, export).exit_code == 0
    res = cli("search", "--case", case_dir, "LOOK AT", "--json")
    assert res.exit_code == 0, res.stderr
    hits = [h for h in json.loads(res.stdout)["hits"] if h["kind"] == "message"]
    assert len(hits) == 1 and hits[0]["field"] == "Group A #2"
    assert "look at this" in hits[0]["snippet"]
    human = cli("search", "--case", case_dir, "see https://x.example")
    assert "/0/3  Group A  2022-06-05 15:43:10 KST (06:43:10 UTC)  Kim" in human.stdout
    # the photo's message links the photo; the hit names the export file it was read from
    jpeg_sha = __import__("hashlib").sha256(cx.JPEG).hexdigest()
    json_sha = __import__("hashlib").sha256((export / "result.json").read_bytes()).hexdigest()
    hits = json.loads(cli("search", "--case", case_dir, "x.example", "--json").stdout)["hits"]
    (hit,) = [h for h in hits if h["kind"] == "message"]
    assert hit["sha256"] == json_sha and hit["file"] == "result.json"
    assert [m["sha256"] for m in hit["media"]] == [jpeg_sha] and hit["media"][0]["present"]
