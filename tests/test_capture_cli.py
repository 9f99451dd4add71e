"""Capture a real tree of odd files through the CLI and prove every recorded fact about it."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path

import pytest

from tests.casetools import b64path, coreutils_hash, log_entries, make_tree, snapshot
from tests.conftest import Cli

TOOLS = {"sha256": "sha256sum", "md5": "md5sum", "sha1": "sha1sum", "sha512": "sha512sum"}
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture
def captured(tmp_path: Path, cli: Cli, case_dir: Path) -> tuple[Path, dict[bytes, bytes], dict]:
    """A case holding an odd tree of >= 50 files, captured with every extra hash."""
    src = tmp_path / "evidence"
    files = make_tree(src)
    assert len(files) >= 50
    before = snapshot(files)
    res = cli(
        "capture",
        src,
        "--case",
        case_dir,
        "--hash",
        "md5,sha1,sha512",
        "--note",
        "피해자 제출 USB, 봉인번호 A-7",
        "--source-url",
        "https://example.invalid/post/42?x=1",
        "--json",
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert snapshot(files) == before, "capture modified an original (bytes or mtime)"
    return case_dir, files, doc


def test_capture_tree_verifies_and_matches_coreutils(captured, cli: Cli) -> None:
    case, files, doc = captured
    assert doc["ok"] is True and doc["failures"] == []
    assert len(doc["acquired"]) == len(files)

    res = cli("verify", "--case", case, "--json")
    assert res.exit_code == 0, res.stdout
    report = json.loads(res.stdout)
    assert report["intact"] is True and report["problems"] == []
    assert report["items"] == len(set(files.values()))

    captures = [e for e in log_entries(case) if e["action"] == "capture"]
    by_path = {b64path(e["details"]["source"]): e for e in captures}
    assert set(by_path) == set(files), "every original, byte-exact path, recorded exactly once"
    for path, entry in by_path.items():
        item = entry["details"]["item"]
        assert set(item["hashes"]) == set(TOOLS)
        for algo, tool in TOOLS.items():
            assert item["hashes"][algo] == coreutils_hash(tool, path), (algo, path)
        assert item["sha256"] == item["hashes"]["sha256"]
        assert item["size"] == len(files[path])
        # The stored copy holds exactly the original's bytes.
        obj = case / entry["details"]["object"]
        assert obj.read_bytes() == files[path]


def test_every_path_is_byte_exact_in_show(captured, cli: Cli) -> None:
    """path_b64 in ``show --json`` decodes to each original's exact bytes (non-UTF-8 too)."""
    case, files, _ = captured
    assert any(p.endswith(b"/caf\xe9.bin") for p in files)
    shown: set[bytes] = set()
    for digest in {hashlib.sha256(c).hexdigest() for c in files.values()}:
        res = cli("show", digest[:12], "--case", case, "--json")
        assert res.exit_code == 0, res.stderr
        item = json.loads(res.stdout)["item"]
        shown.update(b64path(a["source"]) for a in item["acquisitions"])
    assert shown == set(files)


def test_objects_read_only_and_duplicates_stored_once(captured, cli: Cli) -> None:
    case, files, doc = captured
    objects = [p for p in (case / "objects" / "sha256").rglob("*") if p.is_file()]
    assert len(objects) == len(set(files.values()))
    for obj in objects:
        assert stat.S_IMODE(obj.stat().st_mode) & 0o222 == 0, obj
        assert obj.name == hashlib.sha256(obj.read_bytes()).hexdigest()
        assert obj.parent.name == obj.name[:2]
    dup_digest = hashlib.sha256(next(c for p, c in files.items() if p.endswith(b"dup-a.png")))
    res = cli("show", dup_digest.hexdigest(), "--case", case, "--json")
    item = json.loads(res.stdout)["item"]
    assert len(item["acquisitions"]) == 3
    empty = cli("show", hashlib.sha256(b"").hexdigest(), "--case", case, "--json")
    assert empty.exit_code == 0
    empty_item = json.loads(empty.stdout)["item"]
    assert empty_item["size"] == 0 and len(empty_item["acquisitions"]) == 2
    new_flags = [a["new_object"] for a in doc["acquired"]]
    assert new_flags.count(True) == len(objects)


def test_note_and_source_url_recorded(captured, cli: Cli) -> None:
    case, _files, _ = captured
    captures = [e for e in log_entries(case) if e["action"] == "capture"]
    assert captures
    for e in captures:
        assert e["details"]["note"] == "피해자 제출 USB, 봉인번호 A-7"
        assert e["details"]["source_url"] == "https://example.invalid/post/42?x=1"
    [summary] = [e for e in log_entries(case) if e["action"] == "capture-summary"]
    assert summary["details"]["note"] == "피해자 제출 USB, 봉인번호 A-7"
    assert summary["details"]["hashes"] == ["sha256", "md5", "sha1", "sha512"]


def test_list_log_show_json_and_rich(captured, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    case, files, _ = captured
    monkeypatch.setenv("COLUMNS", "400")
    res = cli("list", "--case", case, "--json")
    assert res.exit_code == 0
    items = json.loads(res.stdout)["items"]
    assert len(items) == len(set(files.values()))
    assert sum(len(i["acquisitions"]) for i in items) == len(files)
    digest = items[0]["sha256"]

    res = cli("log", "--case", case, "--json")
    assert res.exit_code == 0
    entries = json.loads(res.stdout)["entries"]
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    on_disk = log_entries(case)
    assert [e["action"] for e in entries] == [e["action"] for e in on_disk]
    hashes = [hashlib.sha256(line).hexdigest() for line in _raw_lines(case)]
    assert [e["hash"] for e in entries] == hashes
    assert [e["prev"] for e in entries[1:]] == hashes[:-1]

    res = cli("show", digest, "--case", case, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["item"]["sha256"] == digest

    rich_list = cli("list", "--case", case)  # one line per item: the SHA-256's first 12 digits
    assert rich_list.exit_code == 0 and digest[:12] in rich_list.stdout
    assert digest not in rich_list.stdout
    wide_list = cli("list", "--wide", "--case", case)
    assert wide_list.exit_code == 0 and digest in wide_list.stdout
    rich_log = cli("log", "--case", case)
    assert rich_log.exit_code == 0
    for action in ("init", "capture-group", "capture", "capture-summary"):
        assert action in rich_log.stdout
    rich_show = cli("show", digest, "--case", case)
    assert rich_show.exit_code == 0
    assert digest in rich_show.stdout and items[0]["hashes"]["md5"] in rich_show.stdout
    # Names are shown terminal-safe: no raw bidi override or newline from a file name.
    everything = rich_list.stdout + wide_list.stdout + rich_log.stdout
    assert "\u202e" not in everything
    rtl = hashlib.sha256(
        next(c for p, c in files.items() if p.endswith("/evil\u202egpj.exe".encode()))
    ).hexdigest()
    rich_rtl = cli("show", rtl, "--case", case)
    assert "\u202e" not in rich_rtl.stdout and "\\u202e" in rich_rtl.stdout


def _raw_lines(case: Path) -> list[bytes]:
    return (case / "custody" / "log.jsonl").read_bytes().split(b"\n")[:-1]


def test_lang_ko_gives_korean_output(tmp_path: Path, cli: Cli) -> None:
    case = tmp_path / "사건"
    res = cli(
        "init",
        case,
        "--case-id",
        "서울-2026-1",
        "--title",
        "딥페이크",
        "--examiner",
        "김조사",
        "--lang",
        "ko",
    )
    assert res.exit_code == 0, res.stderr
    assert HANGUL.search(res.stdout), res.stdout
    src = tmp_path / "증거"
    src.mkdir()
    (src / "사진.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    res = cli("capture", src, "--case", case, "--lang", "ko")
    assert res.exit_code == 0, res.stderr
    assert "증거 1건 수집" in res.stdout
    res = cli("verify", "--case", case, "--lang", "ko")
    assert res.exit_code == 0
    assert "검증 완료" in res.stdout
    res = cli("capture", tmp_path / "없는파일", "--case", case, "--lang", "ko")
    assert res.exit_code == 3
    assert HANGUL.search(res.stderr.replace("없는파일", "")), res.stderr


@pytest.mark.parametrize(
    "verb",
    [
        ["list"],
        ["log"],
        ["verify"],
        ["verify", "--no-record"],
        ["key", "show"],
        ["note", "a note"],
        ["recover"],
        ["capture", "MISSING"],
        ["show", "000000"],
    ],
)
def test_json_stdout_is_exactly_one_document(
    verb: list[str], captured, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, _files, _ = captured
    args = [a if a != "MISSING" else str(case.parent / "no-such-file") for a in verb]
    if args[0] != "key":
        args += ["--case", str(case)]
    res = cli(*args, "--json")
    decoder = json.JSONDecoder()
    doc, end = decoder.raw_decode(res.stdout)
    assert res.stdout[end:].strip() == "", "more than one JSON document on stdout"
    assert isinstance(doc, dict) and "ok" in doc
    assert doc["ok"] is (res.exit_code == 0)
