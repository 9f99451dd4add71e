"""The capture use case called as a library (no CLI): the source registry, two examiners in one
process, a source added by one class, bad inputs, and the lock never held while fetching."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from forensic._internal.clock import utc_timestamp
from forensic._internal.paths import path_record
from forensic.capture._staged import Generated, acquire_generated
from forensic.capture.filesystem import FileSource, FolderSource
from forensic.capture.interface import CaptureGroup, Source
from forensic.capture.kakaotalk import KakaoTalkSource
from forensic.capture.sources import (
    SCREEN,
    CaptureInput,
    FetchedCapture,
    FetchedSource,
    FetchOptions,
    NotThisSource,
    PathSource,
    ReportLine,
    default_registry,
)
from forensic.capture.telegram import TelegramSource
from forensic.capture.transcript import ChatError
from forensic.capture.web import WebError, WebUsageError
from forensic.case import Case
from forensic.case.lock import case_lock
from forensic.custody.keys import ExaminerKey
from forensic.errors import KeyringError, UsageError
from forensic.progress import ProgressReporter
from forensic.service.capture import (
    CaptureSettings,
    FetchedCaptured,
    FilesCaptured,
    capture,
    capture_inputs,
)
from forensic.service.text import ocr, search
from forensic.session import Session
from forensic.verify.case_check import verify_case
from tests import chatexports as cx
from tests.casetools import log_entries
from tests.conftest import examiner_session


def _new_case(root: Path, home: Path, examiner: str) -> Session:
    """A case of its own examiner (own key in its own home), made through the library."""
    session = examiner_session(home)
    key, _created = session.unlock_or_create()
    Case.init(
        root,
        case_id=f"S-{examiner}",
        title="Service test",
        examiner=examiner,
        organisation=None,
        lang="en",
        key=key,
        session=session,
    )
    return session


def _assert_verifies(session: Session, root: Path) -> None:
    report = verify_case(Case.open(root, session))
    assert report.intact, report.problems


def _assert_unlocked(root: Path) -> None:
    """Nobody (this process included: flock is per open file) holds the case lock."""
    with case_lock(root, 0):
        pass


def _files(tmp_path: Path) -> dict[str, Path]:
    plain = tmp_path / "in" / "note.txt"
    plain.parent.mkdir()
    plain.write_text("not a chat, just a note\n")
    folder = tmp_path / "in" / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"a" * 100)
    (folder / "sub" / "b.bin").write_bytes(b"b" * 50)
    kakao = tmp_path / "in" / "KakaoTalk_chat.txt"
    kakao.write_text(cx.KAKAO_ANDROID_KO, "utf-8")
    return {
        "plain": plain,
        "folder": folder,
        "telegram": cx.make_telegram_json(tmp_path / "in" / "ChatExport_2022-06-05"),
        "kakao": kakao,
        "kakao_zip": cx.make_kakao_zip(tmp_path / "in" / "KakaoTalk.zip"),
    }


def test_files_and_chat_exports_in_one_capture(tmp_path: Path, forensic_env: Path) -> None:
    root = tmp_path / "case"
    session = _new_case(root, forensic_env, "Kim")
    given = _files(tmp_path)
    missing = tmp_path / "in" / "gone.jpg"
    inputs = capture_inputs([*given.values(), missing])
    outcome = capture(session, inputs, CaptureSettings(hashes=("md5",)), case_dir=root)

    assert isinstance(outcome, FilesCaptured)
    assert outcome.failed and outcome.timestamp_error is None
    [failure] = outcome.result.failed  # the missing file; everything else was acquired
    assert failure.reason == "missing" and failure.path == os.fsencode(missing)
    kinds = sorted(g.kind for g in outcome.result.groups)
    assert kinds == ["folder", "kakaotalk-export", "kakaotalk-export", "telegram-export"]
    entries = log_entries(root)
    assert [e["action"] for e in entries].count("transcript") == 3
    captured = {e["details"]["source"]["path"] for e in entries if e["action"] == "capture"}
    assert str(given["plain"]) in captured and str(given["folder"] / "sub" / "b.bin") in captured
    assert all("md5" in a.hashes for a in outcome.result.acquired)

    doc = json.loads(json.dumps(outcome.as_dict(), ensure_ascii=False))
    assert doc["ok"] is False and doc["run"] == outcome.result.run_id
    assert len(doc["acquired"]) == len(outcome.result.acquired) == 7
    [bad] = [f for f in doc["failures"] if not f["skipped"]]
    assert bad["reason"] == "missing" and bad["message"] == "no such file or folder"
    assert doc["timestamp"] is None
    _assert_verifies(session, root)


def test_two_sessions_on_two_cases_interleaved(tmp_path: Path) -> None:
    kim = _new_case(tmp_path / "case-kim", tmp_path / "home-kim", "Kim")
    lee = _new_case(tmp_path / "case-lee", tmp_path / "home-lee", "Lee")
    assert kim.key is not None and lee.key is not None
    assert kim.key.fingerprint != lee.key.fingerprint
    given = _files(tmp_path)
    chat = capture_inputs([given["telegram"]])
    capture(kim, chat, case_dir=tmp_path / "case-kim")
    capture(lee, capture_inputs([given["kakao"]]), case_dir=tmp_path / "case-lee")
    capture(kim, capture_inputs([given["plain"]]), case_dir=tmp_path / "case-kim")
    capture(lee, capture_inputs([given["folder"]]), case_dir=tmp_path / "case-lee")

    expected = {"kim": ["telegram-export"], "lee": ["kakaotalk-export", "folder"]}
    for session, name in ((kim, "kim"), (lee, "lee")):
        root = tmp_path / f"case-{name}"
        entries = log_entries(root)
        examiners = {e["details"]["examiner"] for e in entries if e["action"] == "capture"}
        assert examiners == {name.capitalize()}
        groups = [e["details"]["kind"] for e in entries if e["action"] == "capture-group"]
        assert groups == expected[name]
        assert [e["action"] for e in entries].count("capture-summary") == 2
        _assert_verifies(session, root)

    # One examiner's session never writes into the other's case.
    with pytest.raises(KeyringError) as refused:
        capture(lee, capture_inputs([given["plain"]]), case_dir=tmp_path / "case-kim")
    assert refused.value.key == "key_not_case_key"


def test_the_registry_chooses_each_source(tmp_path: Path) -> None:
    given = _files(tmp_path)
    registry = default_registry()
    assert registry.choices() == ("telegram", "kakaotalk", "files")
    assert [s.name for s in registry.fetched_sources()] == ["web", "screen"]

    def chosen(path: Path, named: str | None = None) -> Source:
        return registry.claim_path(os.fsencode(path), False, named)

    assert isinstance(chosen(given["telegram"]), TelegramSource)
    assert isinstance(chosen(given["kakao"]), KakaoTalkSource)
    assert isinstance(chosen(given["kakao_zip"]), KakaoTalkSource)
    assert type(chosen(given["plain"])) is FileSource
    assert type(chosen(given["folder"])) is FolderSource
    assert type(chosen(given["telegram"], "files")) is FolderSource
    assert type(chosen(given["kakao"], "files")) is FileSource
    with pytest.raises(NotThisSource) as tg:
        chosen(given["plain"], "telegram")
    assert tg.value.reason == "chat.not_telegram"
    with pytest.raises(NotThisSource) as kk:
        chosen(given["folder"], "kakaotalk")
    assert (kk.value.reason, kk.value.params) == ("chat.not_kakaotalk", {"reason": "a folder"})
    with pytest.raises(ChatError) as unknown:
        chosen(given["plain"], "whatsapp")
    assert unknown.value.params["choices"] == "telegram, kakaotalk, files"

    url = CaptureInput.of("https://example.invalid/page")
    routed = registry.route([url, SCREEN])
    assert [(s.name, g) for s, g in routed.fetched] == [("web", url), ("screen", SCREEN)]
    assert registry.route(capture_inputs([given["plain"]])).paths == (os.fsencode(given["plain"]),)
    with pytest.raises(WebUsageError) as mixed:
        registry.route(capture_inputs([given["plain"], "https://example.invalid/"]))
    assert mixed.value.key == "mixed_inputs"
    with pytest.raises(WebUsageError):
        registry.route(capture_inputs([given["plain"]], screen=True))
    with pytest.raises(UsageError) as nothing:
        registry.route([])
    assert nothing.value.key == "no_paths"
    with pytest.raises(UsageError) as flag:
        registry.route([CaptureInput(flag="phone")])
    assert flag.value.key == "unclaimed_input"


# -- a new source is one module: these two classes are all it takes ----------------------------
class _PhoneBackupFolder(FolderSource):
    kind = "phone-backup"

    def groups(self) -> list[CaptureGroup]:
        details = {"root": path_record(self.root), "device": "test phone"}
        return [CaptureGroup(self.group_id, self.kind, self.root, details)]


class PhoneBackup(PathSource):
    """A phone backup folder (recognised by its manifest), acquired like any folder."""

    name = "phone"

    def claim(self, path: bytes, follow_symlinks: bool, named: bool) -> Source:
        if not os.path.isfile(os.path.join(path, b"Manifest.db")):
            raise NotThisSource("no_source")
        return _PhoneBackupFolder(path, follow_symlinks)


class ApiRecord(FetchedSource):
    """A record fetched from an API (``api://…``), stored as one generated file."""

    name = "api"

    def claims(self, given: CaptureInput) -> bool:
        return given.argument is not None and given.argument.startswith(b"api://")

    def check(self, given: CaptureInput) -> None:
        if given.text == "api://":
            raise WebUsageError("bad_url", url=given.text)

    def label(self, given: CaptureInput) -> dict[str, Any]:
        return {"api": given.text}

    def acquire(
        self,
        case: Case,
        key: ExaminerKey,
        given: CaptureInput,
        options: FetchOptions,
        progress: ProgressReporter,
    ) -> FetchedCapture:
        _assert_unlocked(case.root)  # "the network call": no lock is held while fetching
        if "down" in given.text:
            raise WebError("unreachable", url=given.text, reason="test API down")
        data = json.dumps({"record": given.text}).encode()
        made = Generated("record.json", data, "application/json", utc_timestamp(), {})
        result = acquire_generated(
            case, key, "api", {"endpoint": given.text}, [made], {"note": options.note}, progress
        )
        entry = {"endpoint": given.text, "group": result.group_id, "recovered": None}
        said: ReportLine = ("say", f"API record {given.text}")
        return FetchedCapture(entry, result.recovery, (), (said,))


def test_a_new_source_is_one_module(tmp_path: Path, forensic_env: Path) -> None:
    root = tmp_path / "case"
    session = _new_case(root, forensic_env, "Kim")
    registry = default_registry()
    registry.register(PhoneBackup())
    registry.register(ApiRecord())
    with pytest.raises(ValueError):
        registry.register(ApiRecord())
    assert "phone" not in default_registry().choices()  # nothing registered globally
    assert registry.choices() == ("telegram", "kakaotalk", "phone", "files")

    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "Manifest.db").write_bytes(b"SQLite format 3\x00" + bytes(84))
    (backup / "photo.jpg").write_bytes(cx.JPEG)
    files = capture(session, capture_inputs([backup]), case_dir=root, registry=registry)
    assert isinstance(files, FilesCaptured) and not files.failed
    assert [g.kind for g in files.result.groups] == ["phone-backup"]
    assert len(files.result.acquired) == 2

    inputs = capture_inputs(["api://records/1", "api://down/2", "api://records/3"])
    fetched = capture(
        session, inputs, CaptureSettings(note="from the API"), case_dir=root, registry=registry
    )
    assert isinstance(fetched, FetchedCaptured) and fetched.failed
    doc = fetched.as_dict()
    assert doc["ok"] is False and doc["web"] == [] and doc["screen"] is None
    assert [e["endpoint"] for e in doc["api"]] == ["api://records/1", "api://records/3"]
    assert all(e["recovered"] is None for e in doc["api"])
    [failure] = doc["failures"]
    assert failure["api"] == "api://down/2" and failure["reason"] == "unreachable"
    groups = [e["details"] for e in log_entries(root) if e["action"] == "capture-group"]
    assert [g["kind"] for g in groups] == ["phone-backup", "api", "api"]
    assert all(g["note"] == "from the API" for g in groups[1:])

    with pytest.raises(WebUsageError):  # checked before anything is fetched
        capture(session, capture_inputs(["api://records/4", "api://"]), registry=registry)
    assert len([e for e in log_entries(root) if e["action"] == "capture-group"]) == 3
    _assert_verifies(session, root)


# -- the web page: fetched first, with no lock held, then committed ----------------------------
def _fake_visit(root: Path) -> Any:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(png, "PNG")

    def visit(url: str, options: Any, browser_path: str) -> dict[str, Any]:
        _assert_unlocked(root)
        now = utc_timestamp()
        return {
            "started": now,
            "loaded": now,
            "finished": now,
            "response": {"status": 200, "status_text": "OK"},
            "final_url": url,
            "title": "evidence",
            "chain": [],
            "server": {"ip": "127.0.0.1", "port": 80},
            "security": None,
            "cert_chain": [],
            "screenshot": png.getvalue(),
            "html": "<html><body><p>불법촬영물 유포 증거</p></body></html>",
            "exchanges": [],
            "browser_version": "test",
            "user_agent": "test",
        }

    return visit


def test_web_capture_fetches_before_it_locks_and_ocr_is_optional(
    tmp_path: Path, forensic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forensic.capture.ocr
    import forensic.capture.web

    root = tmp_path / "case"
    session = _new_case(root, forensic_env, "Kim")
    monkeypatch.setattr(forensic.capture.web, "find_browser", lambda _explicit: "/bin/true")
    monkeypatch.setattr(forensic.capture.web, "_visit", _fake_visit(root))

    def no_tesseract() -> dict[str, str]:
        raise WebError("no_tesseract", reason="not on PATH")

    monkeypatch.setattr(forensic.capture.ocr, "tesseract_info", no_tesseract)
    url = "http://127.0.0.1/page"
    outcome = capture(session, capture_inputs([url]), case_dir=root)
    assert isinstance(outcome, FetchedCaptured) and not outcome.failed
    [attempt] = outcome.attempts
    assert attempt.said[0][0] == "warn" and "tesseract" in attempt.said[0][1]
    doc = outcome.as_dict()
    [web] = doc["web"]
    assert web["url"] == url and web["http_status"] == 200 and web["recovered"] is None
    assert {i["name"] for i in web["items"]} == {
        "screenshot.png",
        "rendered.html",
        "traffic.warc.gz",
        "capture.json",
    }
    assert [o["error"] for o in web["ocr"]] == ["no_tesseract"]  # a warning, not a failure
    assert doc["screen"] is None and doc["failures"] == [] and doc["ok"] is True

    # The page's text is read (HTML needs no tesseract) and found, through the service.
    [page] = [i["sha256"] for i in web["items"] if i["name"] == "rendered.html"]
    read = ocr(session, [page], case_dir=root)
    assert [(r.item_id, r.method) for r in read.read] == [(page, "html-text")]
    assert read.as_dict()["read"][0]["path"] == f"ocr/{page}.json"
    hits = search(session, "유포 증거", case_dir=root)
    assert [h.item_id for h in hits.hits] == [page]
    assert hits.as_dict()["query"] == "유포 증거"
    _assert_verifies(session, root)


def test_bad_inputs(tmp_path: Path, forensic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import forensic.timestamp

    root = tmp_path / "case"
    session = _new_case(root, forensic_env, "Kim")
    given = _files(tmp_path)
    with pytest.raises(WebUsageError) as bad_url:
        capture(session, capture_inputs(["http://"]), case_dir=root)
    assert bad_url.value.key == "bad_url"
    plain = capture_inputs([given["plain"]])
    with pytest.raises(ChatError) as unknown:
        capture(session, plain, CaptureSettings(source="x"), case_dir=root)
    assert unknown.value.key == "unknown_source"
    assert log_entries(root)[-1]["action"] == "init"  # nothing was written

    # --source kakaotalk on what is no KakaoTalk export: those paths fail, the rest goes on.
    named = CaptureSettings(source="kakaotalk")
    inputs = capture_inputs([given["kakao"], given["plain"], given["folder"], tmp_path / "gone"])
    outcome = capture(session, inputs, named, case_dir=root)
    assert isinstance(outcome, FilesCaptured)
    assert sorted(f.reason for f in outcome.result.failed) == [
        "chat.not_kakaotalk",
        "chat.not_kakaotalk",
        "missing",
    ]
    assert [g.kind for g in outcome.result.groups] == ["kakaotalk-export"]

    # A timestamp configuration problem after the commit is reported beside the capture.
    def broken_config(case: Case, key: ExaminerKey) -> None:
        raise UsageError("unknown_hash", name="x", supported="y")

    monkeypatch.setattr(forensic.timestamp, "stamp_after_write", broken_config)
    stamped = capture(session, plain, case_dir=root)
    assert isinstance(stamped, FilesCaptured) and not stamped.failed
    assert stamped.timestamp_error is not None and stamped.timestamp_error.key == "unknown_hash"
    assert len(stamped.result.acquired) == 1
    _assert_verifies(session, root)
