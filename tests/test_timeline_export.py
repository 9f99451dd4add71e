"""``forensic export --timeline``: a Timesketch import file (JSONL and CSV) of a case with a
KakaoTalk and a Telegram export, photos and a trusted timestamp, checked row by row against
Timesketch's column rules and read by Timesketch's own importer library."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forensic.case import Case
from tests import chatexports as cx
from tests import test_timestamp
from tests.casetools import log_entries
from tests.conftest import Cli
from tests.test_timestamp import Pki, TsaServer, _stamp

# The real test TSA (an openssl-backed RFC 3161 server on 127.0.0.1) and its PKI.
pki = test_timestamp.pki
tsa_server = test_timestamp.tsa_server

MANDATORY = ("message", "datetime", "timestamp_desc")
HEADER = (
    *MANDATORY,
    *("timestamp", "datetime_local", "timezone", "data_type", "case_id", "custody_seq"),
    *("custody_action", "entry_hash", "item_sha256", "group", "app", "chat", "chat_index"),
    *("message_id", "message_ref", "sender", "sender_id", "time_as_written", "time_read_in"),
    *("forwarded_from", "media_sha256", "tsa", "trusted"),
)


def build_case(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    """Telegram JSON and KakaoTalk zip exports plus a folder of photos."""
    telegram = cx.make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    kakao = cx.make_kakao_zip(tmp_path / "kakao.zip")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(cx.JPEG)
    (photos / "b.jpg").write_bytes(cx.JPEG + b"\x00")
    res = cli("capture", "--case", case_dir, telegram, kakao, photos)
    assert res.exit_code == 0, res.stderr


def export_timeline(cli: Cli, case_dir: Path, target: Path, *extra: str) -> dict[str, Any]:
    res = cli("export", "--case", case_dir, "--timeline", target, "--json", *extra)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)["timeline"]
    return doc


def check_timesketch_row(row: dict[str, Any]) -> datetime:
    """Timesketch's rules: the mandatory columns present and non-empty, ``datetime`` ISO 8601
    with an offset, ``timestamp`` integer microseconds of the same instant."""
    for name in MANDATORY:
        assert isinstance(row.get(name), str) and row[name], (name, row)
    moment = datetime.fromisoformat(row["datetime"])
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0, row
    micros = int(row["timestamp"])
    assert str(micros) == str(row["timestamp"]), row  # an integer, not a float
    whole = int(moment.timestamp())
    assert micros == whole * 1_000_000 + moment.microsecond, row
    local = datetime.fromisoformat(row["datetime_local"])
    assert local == moment and local.utcoffset().total_seconds() == 9 * 3600  # Asia/Seoul
    return moment


def transcript_messages(case_dir: Path) -> dict[str, dict[str, Any]]:
    """Every message of the case's transcripts by its ref, read straight from the JSON."""
    found: dict[str, dict[str, Any]] = {}
    for entry in log_entries(case_dir):
        if entry["action"] != "transcript":
            continue
        doc = json.loads((case_dir / entry["details"]["files"][0]["path"]).read_text("utf-8"))
        for chat in doc["chats"]:
            for msg in chat["messages"]:
                ref = f"{entry['subject']}/{chat['index']}/{msg['id']}"
                found[ref] = {**msg, "seq": entry["seq"], "chat_name": chat["chat"]["name"]}
    return found


def check_rows(rows: list[dict[str, Any]], case_dir: Path) -> None:
    case = Case.open(case_dir)
    entries = case.entries()
    items = case.items(entries)
    for row in rows:
        check_timesketch_row(row)
    messages = transcript_messages(case_dir)
    chat_rows = [r for r in rows if r["data_type"].startswith("forensic:chat:")]
    timed = {ref for ref, m in messages.items() if m["date"].get("utc")}
    assert {r["message_ref"] for r in chat_rows} == timed and len(chat_rows) == len(timed)
    apps = {r["app"] for r in chat_rows}
    assert apps == {"telegram", "kakaotalk"}
    for r in chat_rows:
        msg = messages[r["message_ref"]]
        assert r["datetime"] == datetime.fromisoformat(msg["date"]["utc"]).isoformat()
        assert r["sender"] == (msg["sender"]["name"] or "")
        assert r["chat"] == msg["chat_name"] and r["message_id"] == msg["id"]
        assert int(r["custody_seq"]) == msg["seq"]
        assert r["item_sha256"] in items  # the export file the message was read from
        assert r["time_as_written"] == msg["date"]["as_written"]
    korean = next(r for r in chat_rows if r["time_as_written"] == "2024년 7월 3일 오후 1:05")
    assert korean["datetime"] == "2024-07-03T04:05:00+00:00"
    assert korean["datetime_local"] == "2024-07-03T13:05:00+09:00"
    assert korean["message"] == "회원님: 이거 봐\n두 번째 줄"
    photo = next(r for r in chat_rows if r.get("media_sha256"))
    assert photo["media_sha256"] in items and photo["forwarded_from"] == "Channel X"
    acquired = [r for r in rows if r["data_type"] == "forensic:custody:acquisition"]
    assert {r["item_sha256"] for r in acquired} == set(items)
    tokens = [r for r in rows if r["data_type"] == "forensic:timestamp:token"]
    assert len(tokens) == 1 and tokens[0]["trusted"] == "true" and tokens[0]["tsa"]
    custody = [r for r in rows if r["timestamp_desc"] == "Custody log entry"]
    covered = {int(r["custody_seq"]) for r in custody} | {int(r["custody_seq"]) for r in acquired}
    assert covered == {e.seq for e in entries[:-1]}  # all but the export's own entry


class CapturingStreamer:
    """Timesketch's ImportStreamer reading our file with its own readers (pandas for CSV, its
    JSON-lines reader for JSONL); what it would upload is kept instead of sent."""

    def __new__(cls) -> Any:
        from timesketch_import_client.importer import ImportStreamer

        class Streamer(ImportStreamer):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.frames: list[Any] = []
                self.lines: list[dict[str, Any]] = []
                self._sketch = object()

            def _upload_data_frame(self, data_frame: Any, end_stream: bool, retry_count=0):
                self.frames.append(data_frame)

            def _upload_data_buffer(self, end_stream: bool, data_lines=None, retry_count=0):
                self.lines.extend(data_lines if data_lines is not None else self._data_lines)

        return Streamer()


def read_with_timesketch(path: Path) -> list[dict[str, Any]]:
    streamer = CapturingStreamer()
    streamer.add_file(str(path))
    streamer.close()
    if streamer.frames:
        return [row for frame in streamer.frames for row in frame.to_dict("records")]
    return list(streamer.lines)


def test_timeline_jsonl_and_csv_follow_timesketch_rules(
    cli: Cli, case_dir: Path, tmp_path: Path, tsa_server: TsaServer, pki: Pki
) -> None:
    build_case(cli, case_dir, tmp_path)
    res = _stamp(cli, case_dir, tsa_server.url("ok"), pki.root)
    assert res.exit_code == 0, res.stdout + res.stderr
    out = tmp_path / "handover"
    out.mkdir()
    for fmt in ("jsonl", "csv"):
        target = out / f"timeline.{fmt}"
        doc = export_timeline(cli, case_dir, target)
        data = target.read_bytes()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert doc["sha256"] == hashlib.sha256(data).hexdigest() and doc["size"] == len(data)
        assert doc["format"] == fmt and doc["timestamp_tokens"] == 1 and doc["messages"] > 10
        entry = Case.open(case_dir).entries()[-1]
        assert entry.action == "export-timeline" and entry.seq == doc["log_entry"]
        assert entry.details["timeline"]["sha256"] == doc["sha256"]
        assert entry.details["log_head_seq"] == entry.seq - 1
        text = data.decode("utf-8")
        if fmt == "jsonl":
            rows = [json.loads(line) for line in text.splitlines()]
            assert all(isinstance(r["timestamp"], int) for r in rows)
            assert all("" not in r.values() for r in rows)  # empty columns are left out
            rows = [{k: r.get(k, "") for k in HEADER} for r in rows]
        else:
            reader = csv.DictReader(text.splitlines(keepends=True))
            assert reader.fieldnames is not None
            assert tuple(reader.fieldnames) == HEADER
            rows = list(reader)
        assert len(rows) == doc["rows"]
        check_rows(rows, case_dir)
        # Timesketch's own reader takes the file as it is and keeps the same instants.
        read = read_with_timesketch(target)
        assert len(read) == len(rows)
        for ours, theirs in zip(rows, read, strict=True):
            assert all(theirs.get(k) not in (None, "") for k in MANDATORY)
            assert theirs["message"] == ours["message"]
            parsed = datetime.fromisoformat(str(theirs["datetime"]).replace("+0000", "+00:00"))
            assert parsed.astimezone(UTC) == datetime.fromisoformat(ours["datetime"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout


def test_timeline_refusals_are_one_line_and_log_nothing(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    kakao = cx.make_kakao_zip(tmp_path / "kakao.zip")
    assert cli("capture", "--case", case_dir, kakao).exit_code == 0
    seq = Case.open(case_dir).entries()[-1].seq
    existing = tmp_path / "old.csv"
    existing.write_text("keep")
    cases = [
        (tmp_path / "timeline.txt", (), 2, "must end in .jsonl or .csv"),
        (tmp_path / "no" / "such" / "t.jsonl", (), 3, "cannot write the timeline"),
        (existing, (), 2, "already exists"),
        (case_dir / "t.jsonl", (), 2, "inside the case folder"),
        (tmp_path / "t.csv", ("--out", str(tmp_path / "bag")), 2, "only one of"),
    ]
    for target, extra, code, words in cases:
        res = cli("export", "--case", case_dir, "--timeline", target, *extra)
        assert res.exit_code == code, (target, res.stdout, res.stderr)
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0], lines
        assert (str(target) in lines[0]) == (not extra), lines  # the file named, unless usage
        assert "Traceback" not in res.stderr
    assert existing.read_text() == "keep"
    assert not (tmp_path / "bag").exists() and not (case_dir / "t.jsonl").exists()
    res = cli("export", "--case", case_dir, "--timeline", tmp_path / "t.txt", "--lang", "ko")
    assert res.exit_code == 2 and "끝나야 합니다" in res.stderr
    assert Case.open(case_dir).entries()[-1].seq == seq
    # --force replaces an existing file, and that export is logged.
    export_timeline(cli, case_dir, existing, "--force")
    assert existing.read_text("utf-8").startswith("message,datetime,timestamp_desc,timestamp")
    assert Case.open(case_dir).entries()[-1].action == "export-timeline"


def test_altered_transcript_stops_the_timeline(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    kakao = cx.make_kakao_zip(tmp_path / "kakao.zip")
    assert cli("capture", "--case", case_dir, kakao).exit_code == 0
    [entry] = [e for e in log_entries(case_dir) if e["action"] == "transcript"]
    path = case_dir / entry["details"]["files"][0]["path"]
    os.chmod(path, 0o644)
    # Still valid JSON, same length: only the hash tells (the last message is changed).
    path.write_bytes(path.read_bytes().replace("초대했습니다".encode(), "초대했지요요".encode()))
    seq = Case.open(case_dir).entries()[-1].seq
    target = tmp_path / "t.jsonl"
    res = cli("export", "--case", case_dir, "--timeline", target)
    assert res.exit_code == 1, res.stdout + res.stderr
    assert "differs from what the custody log recorded" in res.stderr
    assert entry["details"]["files"][0]["path"] in res.stderr
    assert not target.exists() and not list(tmp_path.glob(".t.jsonl*"))
    assert Case.open(case_dir).entries()[-1].seq == seq


def test_encrypted_case_timeline_reads_the_plaintext_and_logs_the_access(
    cli: Cli, tmp_path: Path
) -> None:
    case_dir = tmp_path / "enc"
    res = cli("init", case_dir, "--case-id", "E-1", "--title", "t", "--examiner", "E", "--encrypt")
    assert res.exit_code == 0, res.stderr
    assert cli("capture", "--case", case_dir, cx.make_kakao_zip(tmp_path / "k.zip")).exit_code == 0
    target = tmp_path / "t.jsonl"
    doc = export_timeline(cli, case_dir, target)
    rows = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert any(r["message"] == "홍길동: 안녕" for r in rows) and doc["messages"] == 6
    entry = Case.open(case_dir).entries()[-1]
    assert entry.action == "export-timeline" and entry.details["access"]["decrypted"] is True
