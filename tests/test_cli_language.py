"""A Korean user reads Korean: every help page, every catalogue message, the labels of ``show``.

A word of Latin letters only is English unless it is on :data:`ALLOWED_WORDS` (names typed as
they are, format and standard names Korean writing keeps in Latin letters) or is a command name
of the app itself. Tokens with a digit, a dot, a slash, a hyphen or an underscore (``SHA-256``,
``--case``, ``case.json``, ``FORENSIC_CASE``, ``age1…``) are names and values, never words.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from forensic.i18n import catalogue
from tests.conftest import REPO, Cli

# Each entry says why a Korean sentence may carry it in Latin letters.
ALLOWED_WORDS = frozenset(
    {
        "forensic",  # the program, as typed
        # values of options, as typed: --lang, --preview, --source
        *("ko", "en", "blur", "none", "full", "telegram", "kakaotalk", "files"),
        *("gone", "status", "kcsc", "other"),  # watch --until gone, watch status, takedown --to
        *("summary", "self", "seizure", "handover", "auto"),  # report --detail and --hash-sheet
        *("collector", "counsel", "police", "prosecutor", "lab"),  # handover --role, as typed
        "cd",  # shell commands in a line to paste (cd BAG && sh verify.sh)
        "sh",
        "unzip",
        "Z",  # the UTC suffix of an ISO time, as typed (2026-03-01T14:30Z)
        "abc",  # a guessable sequence, quoted as the example of one
        "DISPLAY",  # an environment variable, as typed
        "local",  # analyze --executor local, as typed
        # formats, standards and protocols that Korean technical writing names in Latin letters
        *("BagIt", "JSON", "PDF", "JPEG", "PNG", "EXIF", "XMP", "IPTC", "ICC", "PDQ", "vPDQ"),
        *("ONNX", "RFC", "TSA", "CMS", "PEM", "ECDSA", "HTTP", "TCP", "TLS", "URL", "UTC", "IANA"),
        *("MD", "OCR", "AI", "SSD", "FIFO", "CRC", "GIF", "WebP", "TIFF", "RIFF", "GPS"),
        *(
            "SOI",
            "EOI",
            "SOS",
            "IEND",
            "iTXt",
        ),  # JPEG/PNG markers and chunks, as the formats name them
        "age",  # the encryption format and its tool (age-encryption.org)
        # software to install, by the name it is installed under
        *("Chromium", "chromium", "playwright", "tesseract", "IJG", "libjpeg", "Pillow"),
    }
)
# Proper names of several words (a service a victim can use)
ALLOWED_PHRASES = ("Take It Down",)

PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
# Hangul, blanks, brackets, quotes and sentence punctuation separate tokens
SEPARATORS = re.compile(r"[\s\uac00-\ud7a3\u3131-\u318e()\[\]'\"“”‘’,;·…—–=<>|→×]+")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def english_words(text: str, allowed: frozenset[str]) -> set[str]:
    """The Latin-only words of ``text`` that are not on the allow-list."""
    text = PLACEHOLDER.sub(" ", text)
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    words = (token.rstrip(".:!?") for token in SEPARATORS.split(text))
    return {w for w in words if LATIN_WORD.fullmatch(w) and w not in allowed}


def test_the_check_finds_english_and_passes_names() -> None:
    """The check itself: English words are found, names and values are not."""
    text = "사건 {case_id}: Usage 오류, Show this message. --case-id SHA-256 case.json age1… TSA"
    assert english_words(text, ALLOWED_WORDS) == {"Usage", "Show", "this", "message"}


# -- help pages -----------------------------------------------------------------------------
HELP_DUMP = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from forensic.cli import app

def walk(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, [*path, name])

runner = CliRunner()
pages = {}
for path in walk(get_command(app), []):
    result = runner.invoke(app, [*path, "--help"])
    pages[" ".join(path)] = {"code": result.exit_code, "text": result.output}
json.dump(pages, sys.stdout)
"""


def help_pages(lang: str) -> dict[str, dict[str, object]]:
    """``--help`` of every command and subcommand, in a fresh process started in ``lang``
    (help texts are built at start-up)."""
    env = {**os.environ, "FORENSIC_LANG": lang, "PYTHONPATH": str(REPO), "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-c", HELP_DUMP],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    pages: dict[str, dict[str, object]] = json.loads(done.stdout)
    return pages


@pytest.fixture(scope="module")
def korean_help() -> dict[str, dict[str, object]]:
    return help_pages("ko")


def test_every_help_page_is_korean(korean_help: dict[str, dict[str, object]]) -> None:
    commands = frozenset(w for path in korean_help for w in path.split())
    assert {"capture", "show", "key cert", "verify"} <= set(korean_help)
    found = {}
    for path, page in korean_help.items():
        assert page["code"] == 0, (path, page)
        words = english_words(str(page["text"]), ALLOWED_WORDS | commands)
        if words:
            found[path or "(forensic)"] = sorted(words)
    assert found == {}


def test_korean_help_translates_clicks_own_words(
    korean_help: dict[str, dict[str, object]],
) -> None:
    page = str(korean_help["capture"]["text"])
    assert "사용법:" in page and "옵션:" in page and "이 도움말을 보여 주고 끝냅니다." in page
    assert "[기본값: 30.0]" in page.replace("\n", " ").replace("  ", " ") or "기본값" in page
    assert "--case <경로>" in page
    root = str(korean_help[""]["text"])
    assert "명령:" in root and "파일, 폴더, 대화 내보내기" in root


def test_english_help_stays_english() -> None:
    pages = help_pages("en")
    assert "Usage:" in str(pages["capture"]["text"])
    assert "Seconds a web page may take to load." in str(pages["capture"]["text"])
    assert not re.search(r"[\uac00-\ud7a3]", str(pages["verify"]["text"]))


def test_lang_on_the_command_line_chooses_the_help_language() -> None:
    env = {**os.environ, "FORENSIC_LANG": "en", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "forensic", "verify", "--lang", "ko", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "사용법:" in done.stdout and "관리연속성 기록 전체를" in done.stdout


# -- catalogues -----------------------------------------------------------------------------
def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, ko = catalogue("en"), catalogue("ko")
    assert sorted(set(en) ^ set(ko)) == []
    differ = {
        key: (en[key], ko[key])
        for key in en
        if set(PLACEHOLDER.findall(en[key])) != set(PLACEHOLDER.findall(ko[key]))
    }
    assert differ == {}


def test_every_korean_message_is_korean() -> None:
    found = {
        key: sorted(words)
        for key, text in catalogue("ko").items()
        if (words := english_words(text, ALLOWED_WORDS | COMMAND_NAMES))
    }
    assert found == {}


COMMAND_NAMES = frozenset(
    {
        *("init", "capture", "recover", "note", "demo", "encrypt", "share", "export", "match"),
        *("analyze", "list", "log", "show", "report", "ocr", "search", "timestamp", "verify"),
        *("key", "cert", "watch", "takedown", "handover", "receive"),
        *("cluster", "certs", "scheduler", "worker"),
    }
)


def test_command_names_allowed_in_messages_are_the_apps() -> None:
    from typer.main import get_command

    from forensic.cli import app

    root = get_command(app)
    names = set(getattr(root, "commands", {}))
    names |= set(getattr(getattr(root, "commands", {})["key"], "commands", {}))
    names |= set(getattr(getattr(root, "commands", {})["cluster"], "commands", {}))
    assert names >= COMMAND_NAMES


# Korean particles that change with the word before them, after a number or placeholder
PARTICLE_AFTER_NUMBER = re.compile(r"(\d|\})(으로|로|이|가|을|를|은|는|과|와)(?=[\s.,)]|$)")
# Both forms at once (``이(가)``, ``(으)로``): a reader sees the code could not choose
EITHER_PARTICLE = re.compile(r"이\(가\)|을\(를\)|은\(는\)|\(으\)로|과\(와\)")


def test_no_particle_glued_to_a_number_or_placeholder() -> None:
    """``항목 6로`` reads wrong: a particle must fit the sound of the word before it, which a
    catalogue cannot know for a number or a placeholder, so Korean messages are worded to
    need none there (and never show both forms)."""
    found = {
        key: text
        for key, text in catalogue("ko").items()
        if PARTICLE_AFTER_NUMBER.search(text) or EITHER_PARTICLE.search(text)
    }
    assert found == {}


# -- show -----------------------------------------------------------------------------------
def test_show_in_korean_labels_every_row_in_korean(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "증거.txt"
    evidence.write_text("photo\n", encoding="utf-8")
    res = cli(
        "capture", evidence, "--case", case_dir, "--note", "제보", "--source-url", "https://x.test/"
    )
    assert res.exit_code == 0, res.stderr
    listed = json.loads(cli("list", "--case", case_dir, "--json").stdout)
    item = listed["items"][0]["sha256"]

    ko = cli("show", item[:12], "--case", case_dir, "--lang", "ko")
    assert ko.exit_code == 0, ko.stderr
    for label in (
        "메모",
        "발견한 곳",
        "수집한 컴퓨터",
        "조사자",
        "파일 시각",
        "이 열람을 접근 기록 항목",
    ):
        assert label in ko.stdout, label
    for english in (" note ", " host ", " examiner ", "mtime/atime/ctime", "source_url"):
        assert english not in ko.stdout, english
    assert re.search(r"항목 \d+번으로", ko.stdout)

    en = cli("show", item[:12], "--case", case_dir, "--lang", "en")
    assert "examiner" in en.stdout and "computer" in en.stdout


def test_show_in_korean_translates_media_warnings(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    """Capture describes images; a truncated JPEG named .png warns twice, in English in the
    record (the same for every reader) and in Korean when shown in Korean."""
    from tests.mediatools import jpeg_bytes

    truncated = tmp_path / "잘린.png"
    truncated.write_bytes(jpeg_bytes((64, 64))[:-2])  # without its end-of-image marker
    res = cli("capture", "--case", case_dir, "--json", truncated)
    assert res.exit_code == 0, res.stderr
    item = json.loads(res.stdout)["acquired"][0]["sha256"]

    en = json.loads(cli("show", item, "--case", case_dir, "--json", "--no-record").stdout)
    stored = "\n".join(en["item"]["metadata"]["warnings"])
    assert "container: JPEG has no end-of-image marker (EOI)" in stored
    assert "the name says .png but the content is image/jpeg" in stored

    ko = cli("show", item, "--case", case_dir, "--lang", "ko", "--no-record", "--json")
    assert json.loads(ko.stdout)["item"]["metadata"] == en["item"]["metadata"]
    ko = cli("show", item, "--case", case_dir, "--lang", "ko", "--no-record")
    assert ko.exit_code == 0, ko.stderr
    flat = re.sub(r"[\s│]+", " ", ko.stdout)
    assert "파일 구조: JPEG 파일에 이미지 끝 표식(EOI)이 없습니다" in flat
    assert "이름은 .png 파일이지만 내용은 image/jpeg 형식입니다" in flat
    assert "end-of-image" not in flat and "the name says" not in flat


def test_show_in_korean_translates_exif_reader_warnings(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    """An EXIF block without a TIFF header: stored in English as before, shown in Korean."""
    import struct

    from tests.mediatools import jpeg_bytes

    body = b"Exif\x00\x00" + b"not a TIFF header"
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    data = jpeg_bytes((64, 64))
    broken = tmp_path / "exif.jpg"
    broken.write_bytes(data[:2] + app1 + data[2:])
    res = cli("capture", "--case", case_dir, "--json", broken)
    assert res.exit_code == 0, res.stderr
    item = json.loads(res.stdout)["acquired"][0]["sha256"]
    en = json.loads(cli("show", item, "--case", case_dir, "--json", "--no-record").stdout)
    stored = "\n".join(en["item"]["metadata"]["warnings"])
    assert "exif: EXIF block in JPEG APP1 at byte 2 has no valid TIFF header" in stored, stored
    ko = cli("show", item, "--case", case_dir, "--lang", "ko", "--no-record")
    assert ko.exit_code == 0, ko.stderr
    flat = re.sub(r"[\s│]+", " ", ko.stdout)
    assert "EXIF 블록에 올바른 TIFF 머리글이 없습니다" in flat, flat
    assert "has no valid TIFF header" not in flat


@pytest.mark.parametrize(
    ("key", "stored", "korean"),
    [
        (
            "exif_unreadable",
            "EXIF could not be read: ValueError: x",
            "EXIF 정보를 읽을 수 없습니다",
        ),
        ("xmp_unreadable", "XMP could not be read: x", "XMP 정보를 읽을 수 없습니다"),
        ("iptc_unreadable", "IPTC could not be read: x", "IPTC 정보를 읽을 수 없습니다"),
        ("icc_unreadable", "ICC profile could not be read: x", "ICC 색 프로필을 읽을 수 없습니다"),
        ("text_unreadable", "text metadata could not be read: x", "텍스트 메타데이터를"),
    ],
)
def test_reader_warnings_keep_their_stored_text_and_translate(
    key: str, stored: str, korean: str
) -> None:
    from forensic.media.warning_text import localized_warning, warning_text

    reason = stored.rpartition("read: ")[2]
    assert warning_text(key, reason=reason) == stored  # records written before read the same
    assert localized_warning(stored, "ko").startswith(korean)


@pytest.mark.parametrize(
    ("key", "params", "stored", "korean"),
    [
        (
            "iptc_bad_marker",
            {"pos": 7},
            "IPTC IIM: bad tag marker at byte 7; rest skipped",
            "IPTC 데이터: 7바이트 위치의 태그 표식이 올바르지 않아 나머지를 건너뛰었습니다",
        ),
        (
            "iptc_extended_length",
            {},
            "IPTC IIM: extended dataset length not supported; rest skipped",
            "IPTC 데이터: 확장 데이터셋 길이는 지원하지 않아 나머지를 건너뛰었습니다",
        ),
        (
            "iptc_dataset_truncated",
            {},
            "IPTC IIM: dataset runs past the end of its block (truncated)",
            "IPTC 데이터: 데이터셋이 블록 끝을 넘습니다 (잘림)",
        ),
        (
            "photoshop_block_truncated",
            {},
            "Photoshop resource block truncated",
            "포토샵 리소스 블록이 잘렸습니다",
        ),
        (
            "photoshop_resource_truncated",
            {"rid": f"{0x404:04X}"},
            "Photoshop resource 0x0404 runs past its block (truncated)",
            "포토샵 리소스 0x0404의 길이가 블록 끝을 넘습니다 (잘림)",
        ),
        (
            "xmp_too_large",
            {"source": "WebP XMP chunk", "size": 5000000, "limit": 4000},
            "XMP in WebP XMP chunk is 5000000 bytes, over the 4000 byte limit: not parsed",
            "WebP XMP chunk의 XMP 크기(5000000바이트)가 한도 4000바이트를 넘어 해석하지 않았습니다",
        ),
        (
            "xmp_itxt_undecodable",
            {"pos": 33},
            "PNG iTXt XMP at byte 33 cannot be decoded",
            "33바이트 위치의 PNG iTXt XMP 청크를 해독할 수 없습니다",
        ),
        (
            "png_text_unreadable",
            {"kind": "zTXt", "pos": 33, "reason": "Error -3 while decompressing data"},
            "PNG zTXt chunk at byte 33 unreadable: Error -3 while decompressing data",
            "33바이트 위치의 PNG zTXt 청크를 읽을 수 없습니다: Error -3 while decompressing data",
        ),
        (
            "riff_chunk_past_end",
            {"kind": repr("VP8 "), "pos": 12},
            "RIFF chunk 'VP8 ' at byte 12 runs past the end: truncated",
            "12바이트 위치의 RIFF 청크 'VP8 '의 길이가 파일 끝을 넘습니다: 잘림",
        ),
        (
            "thumbnail_uncomparable",
            {"reason": "OSError: broken data stream"},
            "thumbnail could not be compared: OSError: broken data stream",
            "내장 썸네일을 이미지 본체와 비교할 수 없습니다: OSError: broken data stream",
        ),
    ],
)
def test_structure_warnings_keep_their_stored_text_and_translate(
    key: str, params: dict[str, object], stored: str, korean: str
) -> None:
    """The stored English is what the readers wrote before; a reader in Korean sees Korean."""
    from forensic.media.warning_text import localized_warning, warning_text

    assert warning_text(key, **params) == stored  # records written before read the same
    assert localized_warning(stored, "ko") == korean
    assert localized_warning(f"iptc: {stored}", "ko") == f"IPTC: {korean}"
