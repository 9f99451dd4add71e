"""Builders of chat exports in the formats Telegram Desktop and KakaoTalk really write."""
# ruff: noqa: E501  (the exports are kept verbatim, as the apps write them)

from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 8 + b"\xff\xd9"


def tg_messages() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "type": "service",
            "date": "2022-06-05T15:40:00",
            "date_unixtime": "1654411200",
            "actor": "Hong",
            "actor_id": "user111",
            "action": "create_group",
            "title": "Group A",
            "members": ["Hong", "Kim"],
            "text": "",
            "text_entities": [],
        },
        {
            "id": 2,
            "type": "message",
            "date": "2022-06-05T15:42:59",
            "date_unixtime": "1654411379",
            "from": "Hong",
            "from_id": "user111",
            "text": "look at this",
            "text_entities": [{"type": "plain", "text": "look at this"}],
        },
        {
            "id": 3,
            "type": "message",
            "date": "2022-06-05T15:43:10",
            "date_unixtime": "1654411390",
            "from": "Kim",
            "from_id": "user222",
            "forwarded_from": "Channel X",
            "photo": "photos/photo_1@05-06-2022_15-43-10.jpg",
            "width": 640,
            "height": 480,
            "text": ["see ", {"type": "link", "text": "https://x.example"}, "!"],
            "text_entities": [
                {"type": "plain", "text": "see "},
                {"type": "link", "text": "https://x.example"},
                {"type": "plain", "text": "!"},
            ],
        },
        {
            "id": 4,
            "type": "message",
            "date": "2022-06-05T15:44:00",
            "date_unixtime": "1654411440",
            "edited": "2022-06-05T15:45:00",
            "edited_unixtime": "1654411500",
            "from": None,
            "from_id": "user333",
            "reply_to_message_id": 3,
            "text": "who sent this?",
            "text_entities": [],
        },
        {
            "id": 5,
            "type": "message",
            "date": "2022-06-05T15:46:00",
            "date_unixtime": "1654411560",
            "from": "Kim",
            "from_id": "user222",
            "file": "(File not included. Change data exporting settings to download.)",
            "media_type": "video_file",
            "mime_type": "video/mp4",
            "duration_seconds": 12,
            "text": "",
            "text_entities": [],
        },
        {
            "id": 6,
            "type": "message",
            "date": "2022-06-05T15:47:00",
            "from": "Kim",
            "from_id": 222,
            "file": "files/gone.mp4",
            "text": "old export style, missing file",
        },
    ]


def make_telegram_json(root: Path, full: bool = False) -> Path:
    (root / "photos").mkdir(parents=True)
    (root / "files").mkdir()
    (root / "photos" / "photo_1@05-06-2022_15-43-10.jpg").write_bytes(JPEG)
    chat = {"name": "Group A", "type": "private_supergroup", "id": 1234567890}
    if full:
        doc: dict[str, Any] = {
            "about": "Here is the data you requested.",
            "personal_information": {"user_id": 111, "first_name": "Hong"},
            "chats": {
                "about": "This page lists all chats from this export.",
                "list": [
                    {**chat, "messages": tg_messages()},
                    {
                        "name": "Kim",
                        "type": "personal_chat",
                        "id": 222,
                        "messages": [
                            {
                                "id": 10,
                                "type": "message",
                                "date": "2022-06-06T09:00:00",
                                "date_unixtime": "1654473600",
                                "from": "Kim",
                                "from_id": "user222",
                                "text": "hi",
                            }
                        ],
                    },
                ],
            },
        }
    else:
        doc = {**chat, "messages": tg_messages()}
    (root / "result.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    return root


def tg_html_page(messages: str, next_page: str | None, title: str = "Group A") -> str:
    nav = (
        f'<a class="pagination block_link" href="{next_page}">Next messages</a>'
        if next_page
        else ""
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"/><title>Exported Data</title>
<link href="css/style.css" rel="stylesheet"/></head>
<body><div class="page_wrap">
<div class="page_header"><div class="content"><div class="text bold">{title}</div></div></div>
<div class="page_body chat_page"><div class="history">
{messages}
{nav}
</div></div></div></body></html>"""


def make_telegram_html(root: Path) -> Path:
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "photo_1@14-05-2021_23-29-08.jpg").write_bytes(JPEG)
    page1 = """
<div class="message service" id="message-1"><div class="body details">14 May 2021</div></div>
<div class="message default clearfix" id="message2">
 <div class="pull_left userpic_wrap"><div class="userpic userpic2"><div class="initials">H</div></div></div>
 <div class="body">
  <div class="pull_right date details" title="14.05.2021 23:29:08">23:29</div>
  <div class="from_name">Hong &amp; Co</div>
  <div class="text">first line<br>second line</div>
 </div>
</div>
<div class="message default clearfix joined" id="message3">
 <div class="body">
  <div class="pull_right date details" title="14.05.2021 23:29:30">23:29</div>
  <div class="forwarded body"><div class="from_name">Channel X <span class="date details" title="13.05.2021 10:00:00"> 13.05.2021 10:00:00</span></div>
  <div class="media_wrap clearfix"><a class="photo_wrap clearfix pull_left" href="photos/photo_1@14-05-2021_23-29-08.jpg"><img class="photo" src="photos/photo_1@14-05-2021_23-29-08_thumb.jpg" style="width: 260px; height: 195px"/></a></div>
  </div>
 </div>
</div>"""
    page2 = """
<div class="message default clearfix" id="message4">
 <div class="body">
  <div class="pull_right date details" title="15.05.2021 00:01:02 UTC+09:00">00:01</div>
  <div class="from_name">Kim</div>
  <div class="reply_to details">In reply to <a href="messages.html#go_to_message3" onclick="return GoToMessage(3)">this message</a></div>
  <div class="media_wrap clearfix"><a class="video_file_wrap clearfix pull_left" href="../../etc/passwd">x</a></div>
  <div class="text">where is this from?</div>
 </div>
</div>"""
    (root / "messages.html").write_text(tg_html_page(page1, "messages2.html"), "utf-8")
    (root / "messages2.html").write_text(tg_html_page(page2, None), "utf-8")
    return root


# -- KakaoTalk ----------------------------------------------------------------------------------
KAKAO_ANDROID_KO = """홍길동 님과 카카오톡 대화
저장한 날짜 : 2024년 7월 31일 오후 9:14

2024년 7월 3일 오전 12:47
2024년 7월 3일 오전 12:47, 홍길동 : 안녕
2024년 7월 3일 오후 1:05, 회원님 : 이거 봐
두 번째 줄
2024년 7월 3일 오후 1:06, 홍길동 : 사진
2024년 7월 3일 오후 1:07, 홍길동 : 사진 3장
2024년 7월 3일 오후 1:08, 김철수 : 파일: 증거.hwp
2024년 7월 3일 오후 8:34, 홍길동님이 김철수님을 초대했습니다.
"""

KAKAO_ANDROID_EN_OLD = """Talk with Hong
Date Saved : 1:01am, August 3, 2015

8:35pm, July 9, 2015, Hong : hello
8:36pm, July 9, 2015, you : <Photo>
"""

KAKAO_ANDROID_EN_NEW = """KakaoTalk Chats with Hong
Date Saved : Mar 4, 2018, 9:00 PM

March 3, 2018, 8:58 PM, Hong : hi there
March 3, 2018, 9:01 PM, You : Photo
"""

KAKAO_IOS_KO = """Talk_2023.3.23 02:10-1.txt
저장한 날짜 : 2023. 3. 23. 오전 2:10

2023년 1월 21일 토요일
2023. 1. 21. 오전 2:20, 홍길동 : 헐
2023. 1. 21. 오후 12:05, 김철수 : 동영상
2023. 1. 21. 오후 8:34: 홍길동님이 김철수님을 초대했습니다.
"""

KAKAO_IOS_EN = """Talk_2015.7.10 01:00-1.txt
Date Saved : Jul 10, 2015, 1:00 AM

Thursday, July 9, 2015
Jul 9, 2015, 8:34 PM: Hong invited Kim.
Jul 9, 2015, 8:35 PM, You : what is
this
Jul 9, 2015, 12:00 AM, Kim : ok
"""

KAKAO_PC_KO = """홍길동 님과 카카오톡 대화
저장한 날짜 : 2024-04-05 01:36:14

--------------- 2015년 8월 1일 토요일 ---------------
[홍길동] [오후 2:37] 안녕
[홍길동] [오후 2:38] 여러 줄
메시지
김철수님이 들어왔습니다.
[나] [20:38] 사진
"""

KAKAO_PC_EN = """Hong with KakaoTalk Chats
Date Saved : 2015-08-03 00:29:58

--------------- Saturday, August 1, 2015 ---------------
[Hong] [2:37 PM] hello
[Kim] [12:05 AM] midnight
"""

KAKAO_MAC_CSV = 'Date,User,Message\n2015-07-09 20:35:19,"Hong","맞아용"\n2015-07-09 20:36:00,"Kim","두 줄\n메시지, 쉼표"\n'


def make_kakao_zip(path: Path, traversal: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("KakaoTalkChats.txt", KAKAO_ANDROID_KO)
        zf.writestr("증거.hwp", b"HWP Document File" + bytes(100))
        zf.writestr("20240703_130600.jpg", JPEG)
        if traversal:
            zf.writestr("../../outside.txt", b"evil")
    return path


# -- exports for citing: another zone, Korean spacing and NFD, a zip with photos by time ------
def make_telegram_at_zone(root: Path, hours: int = 7) -> Path:
    """A Telegram Desktop JSON export written on a computer at UTC+``hours``, across a zone
    change (the last message one hour further east, as a DST change would write it)."""
    from datetime import UTC, datetime, timedelta

    root.mkdir(parents=True)
    base = datetime(2023, 3, 25, 8, 43, 13, tzinfo=UTC)
    msgs = []
    for i, (delta, extra, sender, text) in enumerate(
        [
            (0, 0, "Kim", "프론트개발자 구함"),
            (60, 0, "Lee", "보고 싶어"),
            (3600, 0, "Kim", "사진 보내 줘"),
            (7200, 1, "Park", "last one after the change"),
        ],
        1,
    ):
        utc = base + timedelta(seconds=delta)
        local = (utc + timedelta(hours=hours + extra)).replace(tzinfo=None)
        msgs.append(
            {
                "id": i,
                "type": "message",
                "date": local.isoformat(),
                "date_unixtime": str(int(utc.timestamp())),
                "from": sender,
                "from_id": f"user{i}",
                "text": text,
            }
        )
    msgs[2]["photo"] = "photos/photo_1@25-03-2023_16-43-13.jpg"
    (root / "photos").mkdir()
    (root / "photos" / "photo_1@25-03-2023_16-43-13.jpg").write_bytes(JPEG)
    doc = {"name": "Zone Chat", "type": "private_group", "id": 77, "messages": msgs}
    (root / "result.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return root


KAKAO_IOS_CITE = """Talk_2023.1.1 10:00-1.txt
저장한 날짜 : 2023. 1. 1. 오전 10:00

2022. 12. 31. 오후 8:21, 쥬히 : 프론트개발자 구해요
2022. 12. 31. 오후 8:22, 민수 : 보고싶어
2022. 12. 31. 오후 11:59, 쥬히 : 새해 복 많이
2023. 1. 1. 오전 12:00, 민수 : 오전 열두 시
"""

KAKAO_PC_CITE = """프로젝트방 카카오톡 대화
저장한 날짜 : 2023-01-02 01:36:14

--------------- 2023년 1월 1일 일요일 ---------------
[수ㅈ] [오후 2:37] 다음
[수ㅈ] [오전 12:05] 자정 지나서
"""


def make_kakao_photo_zip(path: Path) -> Path:
    """An Android zip: two photos named by their time (one message of 2 photos), one photo no
    message names, a video message whose file is absent."""
    text = """사진방 님과 카카오톡 대화
저장한 날짜 : 2024년 7월 31일 오후 9:14

2024년 7월 3일 오후 1:06, 홍길동 : 사진 2장
2024년 7월 3일 오후 1:09, 홍길동 : 동영상
2024년 7월 3일 오후 1:10, 김철수 : 이거 봐
"""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("KakaoTalkChats.txt", text)
        zf.writestr("20240703_130612.jpg", JPEG + b"a")
        zf.writestr("KakaoTalk_20240703_130633123.jpg", JPEG + b"b")
        zf.writestr("20240801_090000.jpg", JPEG + b"c")
    return path


KAKAO_MAC_NFD = unicodedata.normalize(
    "NFD",
    'Date,User,Message\n2023-05-01 09:00:00,"지우","보고 싶어 정말"\n2023-05-01 09:01:00,"민호","응"\n',
)
