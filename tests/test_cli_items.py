"""Items named by number or hash prefix in every verb; ``list`` and ``log`` at 80 columns;
``log`` filters; ``verify`` names the file beside an altered object (issue 21)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len

from forensic.case import Case
from tests.casetools import make_writable
from tests.conftest import Cli
from tests.test_report import build, report_case  # noqa: F401  (fixture)

KOREAN_NAME = "피해자_사진.jpg"


def _capture(cli: Cli, case_dir: Path, src: Path) -> list[dict[str, Any]]:
    res = cli("capture", src, "--case", case_dir)
    assert res.exit_code == 0, res.stderr
    listed = cli("list", "--case", case_dir, "--json")
    assert listed.exit_code == 0, listed.stderr
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


@pytest.fixture
def small_case(tmp_path: Path, cli: Cli, case_dir: Path) -> tuple[Path, list[dict[str, Any]]]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a-notes.txt").write_text("first\n")
    (src / "b-chat.txt").write_text("second\n")
    (src / KOREAN_NAME).write_bytes(b"not really a jpeg\n")
    return case_dir, _capture(cli, case_dir, src)


def _error(res: Any) -> str:
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr  # one clear line
    return str(lines[0])


# -- naming an item --------------------------------------------------------------------------
def test_show_takes_the_number_list_prints(
    small_case, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_dir, items = small_case
    assert [i["no"] for i in items] == [1, 2, 3]
    by_name = {i["name"]: i for i in items}
    assert set(by_name) == {"a-notes.txt", "b-chat.txt", KOREAN_NAME}
    for given in ("2", "#2", " 2 ", "002", f"sha256:{items[1]['sha256'][:8]}"):
        res = cli("show", given, "--case", case_dir, "--json")
        assert res.exit_code == 0, (given, res.stderr)
        assert json.loads(res.stdout)["item"]["sha256"] == items[1]["sha256"]
    monkeypatch.setenv("COLUMNS", "200")  # the whole SHA-256 on one line
    res = cli("show", "3", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 0 and items[2]["sha256"] in res.stdout
    assert "해당하는 증거가 없습니다" not in res.stderr


def test_out_of_range_and_unknown_items_say_what_exists(small_case, cli: Cli) -> None:
    case_dir, _items = small_case
    log_before = (case_dir / "custody" / "log.jsonl").read_bytes()
    for given in ("4", "#4", "0", "#99999999"):
        en = _error(cli("show", given, "--case", case_dir))
        assert "items 1 to 3" in en, en
        ko = _error(cli("show", given, "--case", case_dir, "--lang", "ko"))
        assert "1번부터 3번까지" in ko, ko
    for given in ("#2a", "#", "xyz", "abc", "", "ffffffffff"):
        en = _error(cli("show", given, "--case", case_dir))
        assert "forensic list" in en and "6 hex digits" in en and "3 item(s)" in en, en
        ko = _error(cli("show", given, "--case", case_dir, "--lang", "ko"))
        assert "forensic list" in ko and "6자리" in ko, ko
    assert (case_dir / "custody" / "log.jsonl").read_bytes() == log_before  # nothing logged


def test_an_empty_case_has_no_item_one(cli: Cli, case_dir: Path) -> None:
    assert "no items yet" in _error(cli("show", "1", "--case", case_dir))
    assert "아직 증거가 없습니다" in _error(cli("show", "#1", "--case", case_dir, "--lang", "ko"))


def _digit_led_content() -> tuple[bytes, str]:
    """Bytes whose SHA-256 starts with 6 decimal digits, ``000`` first (a prefix that reads as
    a number below 1000, so a stand-in case can have that many items)."""
    for n in range(2_000_000):
        data = f"digits {n}\n".encode()
        digest = hashlib.sha256(data).hexdigest()
        if digest[:6].isdigit() and digest.startswith("000") and digest[3:6] != "000":
            return data, digest
    raise AssertionError("no digit-led SHA-256 found")


def test_six_digits_are_a_hash_prefix_and_hash_number_clashes_are_refused(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, digest = _digit_led_content()
    src = tmp_path / "src"
    src.mkdir()
    (src / "digits.txt").write_bytes(data)
    _capture(cli, case_dir, src)
    res = cli("show", digest[:6], "--case", case_dir, "--json")  # 6 digits: the hash prefix
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["item"]["sha256"] == digest
    res = cli("show", digest[:5], "--case", case_dir)  # 5 digits: a number, out of range
    assert "items 1 to 1" in _error(res)

    # A case with so many items that the same six digits are also an item's number.
    number = int(digest[:6])
    real = Case.items

    def crowded(self: Case, entries: Any = None) -> dict[Any, Any]:
        found = real(self, entries)
        [only] = found.values()
        fillers = {f"{n:064x}": replace(only, item_id=f"{n:064x}") for n in range(number)}
        return {**fillers, **found}

    monkeypatch.setattr(Case, "items", crowded)
    en = _error(cli("show", digest[:6], "--case", case_dir))
    assert f"item number {number}" in en and f"#{number}" in en and digest[:12] in en, en
    ko = _error(cli("show", digest[:6], "--case", case_dir, "--lang", "ko"))
    assert f"{number}번일 수도" in ko and f"#{number}" in ko, ko
    res = cli("show", digest[:8], "--case", case_dir, "--json")  # more digits: the hash
    assert res.exit_code == 0 and json.loads(res.stdout)["item"]["sha256"] == digest


def test_analyze_takes_item_numbers(small_case, cli: Cli) -> None:
    case_dir, items = small_case
    res = cli("analyze", "--detect", "2", "#3", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    analysed = [a["item"] for a in json.loads(res.stdout)["analysis"]]
    assert analysed == [items[1]["sha256"], items[2]["sha256"]]
    res = cli("analyze", "--detect", "1", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 0, res.stderr
    assert "1번부터 3번까지" in _error(
        cli("analyze", "--detect", "7", "--case", case_dir, "--lang", "ko")
    )
    assert "items 1 to 3" in _error(cli("analyze", "--metadata", "#7", "--case", case_dir))


def test_report_items_takes_numbers(report_case, cli: Cli) -> None:  # noqa: F811
    case_dir = report_case["case"]
    listed = json.loads(cli("list", "--case", case_dir, "--json").stdout)["items"]
    second = listed[1]["sha256"]
    _pdf, doc = build(cli, case_dir, "--items", "2", "--items", "#2")
    assert doc["report"]["items"] == 1
    log = json.loads(cli("log", "--case", case_dir, "--action", "report", "--json").stdout)
    [entry] = log["entries"]
    assert entry["details"]["items"] == [second]
    assert entry["details"]["item_selection"] == [second]  # resolved, not the bare "2"
    reports = sorted((case_dir / "reports").glob("*.pdf"))
    assert "items 1 to 2" in _error(cli("report", "--case", case_dir, "--demo-tsa", "--items", "3"))
    ko = _error(cli("report", "--case", case_dir, "--demo-tsa", "--items", "3", "--lang", "ko"))
    assert "1번부터 2번까지" in ko
    assert sorted((case_dir / "reports").glob("*.pdf")) == reports  # no report for a bad item


# -- list and log at 80 columns --------------------------------------------------------------
@pytest.fixture
def big_case(tmp_path: Path, cli: Cli, case_dir: Path) -> tuple[Path, list[dict[str, Any]]]:
    src = tmp_path / "many"
    src.mkdir()
    for n in range(120):
        stem = "아주_긴_파일_이름_" * 4 + ".txt" if n % 10 == 5 else f"photo-{n:03d}.txt"
        (src / (KOREAN_NAME if n == 0 else f"{n:03d}-{stem}")).write_text(f"item {n}\n" * (n + 1))
    return case_dir, _capture(cli, case_dir, src)


def _fits(text: str, width: int = 80) -> list[str]:
    lines = text.splitlines()
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide[:3]
    return lines


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_list_and_log_of_120_items_fit_80_columns(
    big_case, cli: Cli, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    case_dir, items = big_case
    assert len(items) == 120
    monkeypatch.setenv("COLUMNS", "80")
    res = cli("list", "--case", case_dir, "--lang", lang)
    assert res.exit_code == 0, res.stderr
    lines = _fits(res.stdout)
    assert 120 <= len(lines) <= 120 + 4, len(lines)
    rows = [line for line in lines if line.strip().split(" ", 1)[0].isdigit()]
    assert len(rows) == 120
    for item, row in zip(items, rows, strict=True):
        assert row.split()[0] == str(item["no"]) and item["sha256"][:12] in row
        assert item["sha256"] not in row
    victim = next(i for i in items if i["name"] == KOREAN_NAME)
    assert KOREAN_NAME in rows[victim["no"] - 1]
    header = lines[1]
    assert ("Acquired (KST)" if lang == "en" else "수집 시각 (KST)") in header
    assert ("Name" if lang == "en" else "파일 이름") in header
    first = datetime.fromisoformat(items[0]["acquisitions"][0]["time"])
    shown = first.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M")
    assert shown in rows[0]  # the acquisition time in Korean time

    entries = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    res = cli("log", "--case", case_dir, "--lang", lang)
    assert res.exit_code == 0, res.stderr
    lines = _fits(res.stdout)
    assert len(entries) <= len(lines) <= len(entries) + 4
    captures = [line for line in lines if " capture " in line]
    assert len(captures) == 120 and f"#{victim['no']} {KOREAN_NAME}" in res.stdout
    assert all(f"#{n} " in line for n, line in enumerate(captures, start=1))

    monkeypatch.setenv("COLUMNS", "400")  # --wide: everything, for a wide terminal or a file
    wide = cli("list", "--wide", "--case", case_dir, "--lang", lang)
    assert wide.exit_code == 0 and all(i["sha256"] in wide.stdout for i in items[:3])
    acquired = next(
        e["details"]["acquired"] for e in entries if e["subject"] == f"sha256:{items[0]['sha256']}"
    )
    assert acquired.endswith("Z") and acquired in wide.stdout  # UTC, as recorded


def test_list_json_keeps_its_keys_and_times_follow_timezone(
    small_case, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_dir, items = small_case
    for key in ("no", "sha256", "size", "media_type", "hashes", "object", "acquisitions"):
        assert all(key in i for i in items)
    monkeypatch.setenv("COLUMNS", "80")
    utc = cli("list", "--case", case_dir, "--timezone", "UTC")
    assert utc.exit_code == 0 and "Acquired (UTC)" in utc.stdout
    first = datetime.fromisoformat(items[0]["acquisitions"][0]["time"])
    assert first.strftime("%Y-%m-%d %H:%M") in utc.stdout
    bad = _error(cli("list", "--case", case_dir, "--timezone", "Mars/Olympus"))
    assert "Mars/Olympus" in bad


# -- log filters -----------------------------------------------------------------------------
def _log(cli: Cli, case_dir: Path, *args: str) -> list[dict[str, Any]]:
    res = cli("log", "--case", case_dir, "--json", *args)
    assert res.exit_code == 0, res.stderr
    entries: list[dict[str, Any]] = json.loads(res.stdout)["entries"]
    return entries


def test_log_filters(small_case, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    case_dir, items = small_case
    assert cli("show", "3", "--case", case_dir).exit_code == 0  # an access entry naming item 3
    everything = _log(cli, case_dir)
    keys = {"v", "seq", "prev", "time", "actor", "action", "subject", "details", "hash"}
    assert all(keys <= set(e) for e in everything)

    captures = _log(cli, case_dir, "--action", "capture")
    assert [e["action"] for e in captures] == ["capture"] * 3
    both = _log(cli, case_dir, "--action", "capture", "--action", "init")
    assert [e["action"] for e in both] == ["init", "capture", "capture", "capture"]

    third = items[2]["sha256"]
    for given in ("3", "#3", third[:7]):
        about = _log(cli, case_dir, "--item", given)
        assert [e["action"] for e in about] == ["capture", "access"], given
        assert about[0]["subject"] == f"sha256:{third}"
    assert _log(cli, case_dir, "--item", "3", "--action", "access")[0]["details"]["verb"] == "show"
    assert "items 1 to 3" in _error(cli("log", "--case", case_dir, "--item", "4"))

    pivot = everything[2]
    since = _log(cli, case_dir, "--since", pivot["time"])
    assert [e["seq"] for e in since] == [e["seq"] for e in everything if e["seq"] >= pivot["seq"]]
    until = _log(cli, case_dir, "--until", pivot["time"])
    assert [e["seq"] for e in until] == [e["seq"] for e in everything if e["seq"] <= pivot["seq"]]
    # No offset: read in the display zone (Korean time by default).
    moment = datetime.fromisoformat(pivot["time"])
    seoul = moment.astimezone(ZoneInfo("Asia/Seoul")).replace(tzinfo=None).isoformat()
    assert _log(cli, case_dir, "--since", seoul) == since
    assert _log(cli, case_dir, "--since", seoul, "--timezone", "UTC") == []  # 9 hours later
    # A date alone covers its whole day.
    day = moment.astimezone(ZoneInfo("Asia/Seoul")).date()
    that_day = [
        e
        for e in everything
        if datetime.fromisoformat(e["time"]).astimezone(ZoneInfo("Asia/Seoul")).date() == day
    ]
    assert that_day and _log(cli, case_dir, "--since", f"{day}", "--until", f"{day}") == that_day
    assert _log(cli, case_dir, "--until", (day - timedelta(days=1)).isoformat()) == []
    assert _log(cli, case_dir, "--since", (day + timedelta(days=1)).isoformat()) == []

    monkeypatch.setenv("COLUMNS", "80")
    human = cli("log", "--case", case_dir, "--item", "3", "--lang", "ko")
    assert human.exit_code == 0
    lines = _fits(human.stdout)
    assert sum(1 for line in lines if f"#3 {KOREAN_NAME}" in line) == 1
    assert any("access: show" in line and "#3" in line for line in lines)
    assert "시각 (KST)" in human.stdout
    en = _error(cli("log", "--case", case_dir, "--since", "yesterday"))
    assert "--since yesterday" in en and "Asia/Seoul" in en
    ko = _error(cli("log", "--case", case_dir, "--until", "3월 1일", "--lang", "ko"))
    assert "--until 3월 1일" in ko and "날짜나 시각이 아닙니다" in ko


# -- verify names the file -------------------------------------------------------------------
def test_verify_problem_names_the_file_beside_the_object(small_case, cli: Cli) -> None:
    case_dir, items = small_case
    victim = next(i for i in items if i["name"] == KOREAN_NAME)
    obj = case_dir / victim["object"]
    make_writable(obj)
    obj.write_bytes(b"altered")
    for lang in ("en", "ko"):
        res = cli("verify", "--case", case_dir, "--no-record", "--lang", lang)
        assert res.exit_code == 1
        assert f"{victim['object']} ({KOREAN_NAME})" in res.stderr, res.stderr
    res = cli("verify", "--case", case_dir, "--no-record", "--json")
    [problem] = json.loads(res.stdout)["problems"]
    assert problem["location"] == victim["object"] and problem["name"] == KOREAN_NAME
    assert {"area", "kind", "location", "detail"} <= set(problem)
