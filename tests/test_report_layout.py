"""The court report a prosecutor reads in minutes: length, density, words, chat, location.

One case (a geotagged photo, a noise image with a vouched indication, a Telegram and a
KakaoTalk export, a marked message) is built once for the module and its reports are read with
poppler (``pdftotext -bbox``, ``pdfinfo``, ``pdffonts``, ``pdftoppm``) and qpdf.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from forensic.case import Case
from forensic.case.case import file_record
from forensic.custody import config_home, load_or_create_key
from forensic.custody.log import PendingEntry
from tests import chatexports as cx
from tests.conftest import PASSPHRASE, Cli
from tests.mediatools import jpeg_bytes
from tests.test_report import make_test_ca, noise_image

TOOLS = ("pdffonts", "pdftotext", "pdftoppm", "pdfinfo", "qpdf", "exiftool")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"
)
OUTPUT = Path(__file__).parent / "output"
LATITUDE = "37.56654"
LONGITUDE = "126.97797"
#: English words of statuses and raw values that must never reach a Korean report
ENGLISH_STATUS = ("no_evidence", "not_applicable", "indicates", "info", "failed", "None",
                  "True", "False")  # fmt: skip


@dataclass
class Built:
    case: Path
    reports: dict[str, Path]
    pages: dict[str, int]
    items: dict[str, str]  # file name -> sha256
    group_tg: str
    big_pages: int


def _pdf_text(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-layout", *args, str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]


def _report(cli: Cli, case: Path, *args: str) -> Path:
    res = cli("report", "--case", case, "--demo-tsa", "--json", *args)
    assert res.exit_code == 0, res.stderr
    return Path(json.loads(res.stdout)["report"]["path"])


def _geotagged(path: Path) -> Path:
    path.write_bytes(jpeg_bytes((320, 240), colour=(120, 90, 60)))
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", f"-GPSLatitude={LATITUDE}",
         "-GPSLatitudeRef=N", f"-GPSLongitude={LONGITUDE}", "-GPSLongitudeRef=E",
         "-SerialNumber=SN-7730012", "-Artist=Kim Victim", "-Make=TestMake", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _vouch_indication(case_dir: Path, sha: str) -> None:
    """An analysis document with one indicating finding, vouched for by a log entry."""
    doc = {"format": "forensic-analysis", "v": 1, "detector": "copy_move", "findings": [
        {"signal": "copy_move.keypoints", "status": "indicates", "value": 34, "threshold": 24,
         "indicates": {"en": "Consistent with a region copied within the image.",
                       "ko": "이미지 안에서 영역이 복제된 것과 부합합니다."},
         "positive_proof": False,
         "measured_error_rates": {"fpr_untouched": 0.0, "fpr_upper_95": 0.0685, "n_neg": 52}},
        {"signal": "jpeg.double_compression", "status": "no_evidence", "value": 0.1,
         "threshold": 3.4, "indicates": {"en": "No sign.", "ko": "징후 없음."}},
        {"signal": "jpeg.quality", "status": "not_applicable", "value": None, "threshold": None,
         "indicates": {"en": "Not a JPEG.", "ko": "JPEG가 아닙니다."}},
    ]}  # fmt: skip
    path = case_dir / "analysis" / sha / "copy_move.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    case = Case.open(case_dir)
    key, _ = load_or_create_key(config_home(), lambda new: PASSPHRASE)
    with case.step(key, "analysis") as step:
        step.record([PendingEntry("analysis", f"sha256:{sha}",
                                  {"files": [file_record(case_dir, path)]})])  # fmt: skip


def _mark(case_dir: Path, group: str, chat: int, message: str, note: str) -> None:
    """A ``mark`` entry as the mark verb writes it, through the case's write transaction."""
    case = Case.open(case_dir)
    key, _ = load_or_create_key(config_home(), lambda new: PASSPHRASE)
    details = {"group": group, "chat": chat, "message": message, "note": note, "context": 1,
               "item_sha256": "", "examiner": case.info.examiner}  # fmt: skip
    with case.step(key, "mark") as step:
        step.record([PendingEntry("mark", f"msg:{group}/{chat}/{message}", details)])


def _build(root: Path, cli: Cli) -> Built:
    case = root / "case"
    assert cli("init", case, "--case-id", "K-15", "--title", "불법촬영물 유포",
               "--examiner", "김조사").exit_code == 0  # fmt: skip
    src = root / "photos"
    src.mkdir()
    _geotagged(src / "geo.jpg")
    noise_image(src / "noise.png")
    tg = cx.make_telegram_json(root / "ChatExport_2022-06-05")
    kakao = root / "kakao" / "KakaoTalkChats.txt"
    kakao.parent.mkdir()
    kakao.write_text(cx.KAKAO_ANDROID_KO, "utf-8")
    for path in (src, tg, kakao):
        res = cli("capture", "--case", case, path)
        assert res.exit_code == 0, res.stderr
    opened = Case.open(case)
    items = {i.acquisitions[0].source_path.rsplit("/", 1)[-1]: i.item_id
             for i in opened.items().values()}  # fmt: skip
    _vouch_indication(case, items["noise.png"])
    [tg_entry] = [e for e in opened.entries() if e.action == "transcript"
                  and e.details.get("app") == "telegram"]  # fmt: skip
    _mark(case, tg_entry.subject, 0, "6", "삭제된 동영상 언급")
    _ca, cert, key = make_test_ca(root)
    assert cli("key", "cert", "--import", cert, key).exit_code == 0
    reports = {
        "ko": _report(cli, case, "--lang", "ko"),
        "en": _report(cli, case, "--lang", "en"),
        "full": _report(
            cli,
            case,
            "--lang",
            "ko",
            "--show-location",
            "--detail",
            "full",
            "--hash-sheet",
            "seizure",
            "--foreign-references",
        ),
        "one": _report(cli, case, "--lang", "ko", "--items", items["noise.png"][:12]),
    }
    big = root / "big"
    assert cli("init", big, "--case-id", "K-33", "--title", "t", "--examiner", "e").exit_code == 0
    many = root / "many"
    many.mkdir()
    for n in range(33):
        (many / f"p{n:02d}.jpg").write_bytes(jpeg_bytes((40, 30), colour=(n * 7, 80, 200 - n)))
    assert cli("capture", "--case", big, many).exit_code == 0
    big_pdf = _report(cli, big, "--lang", "ko")
    return Built(case, reports, {k: _pages(v) for k, v in reports.items()}, items,
                 tg_entry.subject, _pages(big_pdf))  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("layout")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORENSIC_HOME", str(root / "home"))
        mp.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
        mp.setenv("FORENSIC_LANG", "en")
        mp.setenv("FORENSIC_LOCK_TIMEOUT", "1")
        mp.delenv("FORENSIC_CASE", raising=False)
        yield _build(root, Cli())


def _flat(text: str) -> str:
    """The text without any white space: words a line break split (Korean breaks anywhere)
    compare whole."""
    return re.sub(r"\s+", "", text)


def _reading(pdf: Path) -> str:
    """The text in reading order (table cells one after another), without white space."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return _flat(out.stdout)


def _page_texts(pdf: Path) -> list[str]:
    return _pdf_text(pdf).split("\f")[:-1]


def test_page_counts_and_text_density(built: Built) -> None:
    assert built.pages["one"] <= 6, built.pages
    assert built.big_pages <= 45, built.big_pages
    for name in ("ko", "en", "one"):
        pages = _page_texts(built.reports[name])
        assert len(pages) == built.pages[name]
        for n, text in enumerate(pages[1:-1], start=2):
            # the cover and the signature page may be short; every other page carries text
            if "서명" in text[-400:] or "Signature" in text[-400:]:
                continue
            assert len("".join(text.split())) >= 200, (name, n, text)


def test_summary_shows_what_the_item_pages_show(built: Built) -> None:
    text = _reading(built.reports["ko"])
    summary = text[text.index("1.요약") : text.index("2.증거목록")]
    assert "징후가있는증거1건" in summary
    assert "징후있음:복제·이동(같은영역의반복)" in summary
    item = text[text.index("증거2:noise.png") : text.index("증거3:")]
    assert "징후있음—복제·이동(같은영역의반복)" in item
    assert "편집하지않은실제사진52장중0장" in item
    assert _flat("그 밖의 검사 1건에서는 징후가 없었습니다(징후 없음은 부재의 증명이") in item
    assert "이미지안에서영역이복제된것과부합합니다" in item
    assert "PNG320×240" in item  # the curated metadata lines `forensic show` prints
    assert "기록된분석없음" not in text


def test_korean_report_has_no_english_status_or_raw_values(built: Built) -> None:
    text = _pdf_text(built.reports["ko"])
    words = set(re.findall(r"[A-Za-z_]+", text))
    assert not words & set(ENGLISH_STATUS), words & set(ENGLISH_STATUS)
    assert "['" not in text and "{'" not in text and "(—)" not in text
    assert "|---|" not in text and "detection-evaluation.md" not in text
    flat = _flat(text)
    assert "진정성" in flat and "무결성" in flat and "동일성" in flat
    assert "2013도2511" in flat and "경찰청훈령" in flat and "대검찰청" in flat
    assert "902(14)" not in flat  # other jurisdictions only when asked
    assert "902(14)" in _reading(built.reports["full"])


def test_chat_excerpts_with_zone_sender_forward_missing_and_marks(built: Built) -> None:
    text = _reading(built.reports["ko"])
    chat = text[text.index("4.대화증거") :]
    # the Telegram photo message, its sender, its forward, the time in KST and UTC (Telegram's
    # unixtime is authoritative; the export wrote the exporter's local time)
    assert "원래출처:ChannelX" in chat and "Kim" in chat
    assert "▶3" in chat and "2022-06-0515:43:10KST(06:43:10UTC)" in chat
    assert "기록:2022-06-05T15:43:10" in chat
    # the marked message and the examiner's note
    assert "★6" in chat and "조사자메모:삭제된동영상언급" in chat
    # the export file's SHA-256 and the missing attachments
    export = hashlib.sha256((Path(built.case).parent / "ChatExport_2022-06-05" / "result.json")
                            .read_bytes()).hexdigest()  # fmt: skip
    assert export in chat
    assert "files/gone.mp4" in chat and "내보내기설정으로제외됨" in chat
    # KakaoTalk: the zone and where it came from, and the photo named but not exported
    assert "Asia/Seoul로읽었습니다(사건의시간대)" in chat
    assert "홍길동(kakaotalk)" in chat and "사진내보내기에파일없음" in chat
    en = " ".join(_pdf_text(built.reports["en"]).split())
    assert "forwarded from Channel X" in en and "Chat evidence" in en
    assert "as written: 2022-06-05T15:43:10" in en


def test_location_withheld_by_default_and_shown_when_asked(built: Built) -> None:
    coords = ("37.5665", "37 deg", "126.978", "126 deg", "SN-7730012", "Kim Victim")
    for name in ("ko", "en"):
        text = _pdf_text(built.reports[name])
        assert not [c for c in coords if c in text], name
    assert "인쇄하지않았습니다" in _reading(built.reports["ko"])
    full = _pdf_text(built.reports["full"])
    assert "SN-7730012" in full and ("37.5665" in full or "37 deg" in full)
    entries = Case.open(built.case).entries()
    reports = [e for e in entries if e.action == "report"]
    assert [e.details["show_location"] for e in reports] == [False, False, True, False]
    assert reports[2].details["detail"] == "full" and reports[2].details["hash_sheet"] == "seizure"
    assert reports[0].details["hash_sheet"] == "self"
    # the attached data keeps the withheld fields for investigators
    import pikepdf

    with pikepdf.open(built.reports["ko"]) as pdf:
        names = set(pdf.attachments)
        meta = pdf.attachments["metadata.json"].get_file().read_bytes().decode()
    assert {"case-manifest.json", "findings.json", "custody-log.jsonl", "metadata.json",
            "chat-excerpts.json"} <= names  # fmt: skip
    assert "SN-7730012" in meta


def test_claims_follow_what_the_case_has(built: Built) -> None:
    ko = _reading(built.reports["ko"])
    # no trusted token in this case: the time claim is withheld, and said so
    assert "신뢰할수있는타임스탬프가없습니다" in ko
    assert "늦어도그타임스탬프시각에존재하였습니다" not in ko
    assert "참여인이참여한가운데" not in ko  # self-collected: no witness claim
    assert "접수수사관" in ko and "수집자(제출인)" in ko
    seizure = _reading(built.reports["full"])
    assert "참여인이참여한가운데" in seizure
    # --detail full: every finding with its status in words, and the whole log
    appendix = seizure[seizure.index("부록:상세자료") :]
    assert "징후없음(부재의증명아님)" in appendix and "관리연속성기록전체" in appendix
    # the demo TSA is named on every page after the cover, and on the cover
    pages = _page_texts(built.reports["ko"])
    assert "시연" in _flat(pages[0])
    for page in pages[1:]:
        assert "시연용시점확인기관사용" in _flat(page)
    en = " ".join(_pdf_text(built.reports["en"]).split())
    assert "no entry can be changed" not in en and "fixes the log in time" not in en
    assert "this case has no trusted time-stamp" in en.lower()


def test_nothing_overflows_page_or_columns(built: Built) -> None:
    from forensic.report.render import MARGIN_X, PAGE_W
    from forensic.report.sections import LIST_COLUMNS

    pt = 72 / 25.4
    bbox = _pdf_text(built.reports["ko"], "-bbox")
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", bbox).replace(
        'xmlns="http://www.w3.org/1999/xhtml"', ""))  # fmt: skip
    sha_left = MARGIN_X + sum(LIST_COLUMNS[:2]) * pt
    sha_right = sha_left + LIST_COLUMNS[2] * pt
    seen_sha = 0
    for page in root.iter("page"):
        width = float(page.get("width", PAGE_W))
        for word in page.iter("word"):
            x0, x1 = float(word.get("xMin", 0)), float(word.get("xMax", 0))
            assert x0 >= 0 and x1 <= width, word.text
            # the SHA-256 column of the evidence list: its text starts 4 pt inside the cell
            if word.text in built.items.values() and abs(x0 - sha_left - 4) < 2:
                seen_sha += 1
                assert x1 <= sha_right, (word.text, x1, sha_right)
    assert seen_sha >= len(built.items)  # every full SHA-256 on one line in its cell


def test_pdf_checks_and_page_images(built: Built) -> None:
    for pdf in built.reports.values():
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
        for line in fonts.splitlines()[2:]:
            assert " yes yes " in line or " yes no " in line, line
    OUTPUT.mkdir(exist_ok=True)
    for lang in ("ko", "en"):
        for old in OUTPUT.glob(f"report-{lang}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "5",
                        str(built.reports[lang]), str(OUTPUT / f"report-{lang}")],
                       check=True)  # fmt: skip
        assert len(list(OUTPUT.glob(f"report-{lang}-*.png"))) == 5
    assert os.access(OUTPUT, os.W_OK)


def test_pdfa3_parts_and_attached_data(built: Built) -> None:
    import pikepdf

    with pikepdf.open(built.reports["en"]) as pdf:
        [intent] = list(pdf.Root.OutputIntents)
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert len(intent.DestOutputProfile.read_bytes()) > 300
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert {str(af.F) for af in pdf.Root.AF} == set(pdf.attachments)
        assert all(af.AFRelationship == pikepdf.Name.Data for af in pdf.Root.AF)
        manifest = json.loads(pdf.attachments["case-manifest.json"].get_file().read_bytes())
        assert {i["sha256"] for i in manifest["items"]} == set(built.items.values())
        findings = json.loads(pdf.attachments["findings.json"].get_file().read_bytes())
        log = pdf.attachments["custody-log.jsonl"].get_file().read_bytes().splitlines()
        assert "/Encrypt" not in pdf.trailer and "/OpenAction" not in pdf.Root
    assert list(findings["items"]) == [built.items["noise.png"]]
    entries = Case.open(built.case).entries()
    report_seq = next(e.seq for e in entries if e.action == "report" and e.details["lang"] == "en")
    assert len(log) == report_seq  # the log as it stood when the report was made
    assert log[0] == entries[0].line.rstrip(b"\n")
    # the report entry vouches for each attached file by its SHA-256
    entry = entries[report_seq]
    assert set(entry.details["attachments"]) == {
        "findings.json",
        "metadata.json",
        "chat-excerpts.json",
        "custody-log.jsonl",
    }
