"""``forensic app`` in real Chromium: a victim's whole path in Korean, then the English pages.

One browser, one server, one case: start a case, upload photos and a KakaoTalk export, look at
blurred items and reveal one (logged), hide everything, read and search the chat and mark a
message, verify, make a Korean report and download it (read back with pdftotext), hand over
the sealed zip. Every page is checked by axe-core (no serious or critical violation), for
untranslated English, and against CSP violations; screenshots go to tests/output/app/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.apptools import running_app
from tests.casetools import log_entries
from tests.chatexports import make_kakao_photo_zip
from tests.conftest import PASSPHRASE, REPO
from tests.mediatools import jpeg_bytes
from tests.test_cli_language import ALLOWED_WORDS, english_words
from tests.webserver import serve

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "tests" / "output" / "app"
# The main pages a reviewer looks at (each page is checked; these are also photographed)
PHOTOGRAPHED = frozenset({"create", "evidence", "items", "chats", "report"})
# On a Korean page besides the catalogue's words: the other language's name in its own script,
# and the zone abbreviation every printed time carries (local_and_utc: "… KST (… UTC)")
APP_WORDS = ALLOWED_WORDS | {"English", "KST"}

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftotext") is None,
    reason="Debian packages 'chromium' and 'poppler-utils' are needed",
)


class Checks:
    """What every page must pass, collected as the flow goes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.csp: list[str] = []
        page.on(
            "console", lambda m: self.csp.append(m.text) if "Content Security" in m.text else None
        )
        self.axe = AXE.read_text("utf-8") if AXE.is_file() else None
        self.seen: list[str] = []

    def page_ok(self, name: str, korean: bool = True) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.seen.append(name)
        if korean:
            text = page.inner_text("body")
            stray = english_words(text, APP_WORDS)
            assert not stray, f"{name}: English on a Korean page: {sorted(stray)}"
        if self.axe is not None:
            page.evaluate(self.axe)  # through the debugger protocol: no eval under the CSP
            result = page.evaluate(
                "() => axe.run(document, {resultTypes: ['violations']})"
                ".then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length]))"
            )
            bad = [v for v in result if v[1] in ("serious", "critical")]
            assert not bad, f"{name}: accessibility violations {bad}"
        shoot = name in PHOTOGRAPHED
        if shoot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{name}: wider than a phone ({width} px)"
        if shoot:
            page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        assert self.csp == [], self.csp


def _job_done(page: Any) -> str:
    page.wait_for_selector("#job-result", timeout=60_000)
    return str(page.inner_text("#job-result"))


def test_korean_flow_and_english_pages(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    case_dir = tmp_path / "case"
    photos = tmp_path / "photos"
    photos.mkdir()
    for n, colour in enumerate([(200, 30, 30), (30, 200, 30)], 1):
        (photos / f"사진{n}.jpg").write_bytes(jpeg_bytes((640, 480), colour=colour))
    kakao = make_kakao_photo_zip(tmp_path / "KakaoTalk_Chats.zip")
    with running_app(case_dir, "ko") as (server, _client), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        checks = Checks(page)
        try:
            _korean_flow(page, checks, server, case_dir, photos, kakao, tmp_path)
            _english_pages(page, checks)
        finally:
            browser.close()
    if checks.axe is None:
        pytest.skip("axe-core is not installed (npm ci): the flow ran, accessibility unchecked")


def _korean_flow(
    page: Any, checks: Checks, server: Any, case_dir: Path, photos: Path, kakao: Path, tmp: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    assert "token" not in page.url  # exchanged for the cookie at once
    page.fill("#passphrase", "1234")
    expect(page.locator("#strength")).not_to_be_empty()
    checks.page_ok("create")
    page.fill("#title", "딥페이크 피해 증거")
    page.fill("#examiner", "김지원")
    page.fill("#passphrase", PASSPHRASE)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("load")
    assert page.url.endswith("/evidence"), page.content()[:3000]
    checks.page_ok("evidence")

    page.set_input_files("#files", [str(p) for p in sorted(photos.iterdir())])
    page.click("#upload-form button[type=submit]")
    assert "파일 2개를 기록했습니다" in _job_done(page)
    checks.page_ok("job")
    page.goto(f"http://127.0.0.1:{server.port}/evidence")
    page.check("input[name=kind][value=kakaotalk]")
    page.set_input_files("#files", str(kakao))
    page.click("#upload-form button[type=submit]")
    said = _job_done(page)
    assert "카카오톡" in said and "메시지 3개" in said, said
    assert list((case_dir / "tmp").iterdir()) == []  # the upload folder is gone

    page.goto(f"http://127.0.0.1:{server.port}/evidence")
    (tmp / "site").mkdir()
    with serve(tmp / "site") as site:
        page.fill("#url", f"{site.http}/page")
        page.click("form[action='/evidence/url'] button")
        said = _job_done(page)
    assert f"{site.http}/page" in said, said

    page.click("nav >> text=증거 목록")
    checks.page_ok("items")
    images = page.locator(".items img")
    assert (
        images.count() >= 3
    )  # two photos and the page's screenshots (the export's stay in its zip)
    blurred = page.evaluate("() => document.querySelector('.items img').naturalWidth")
    assert blurred == 360  # the server-side blur (never the original's 640 px)
    page.locator("button.reveal").first.click()
    page.wait_for_load_state("load")
    revealed = page.evaluate("() => document.querySelector('.items img').naturalWidth")
    assert revealed == 640
    access = [e for e in log_entries(case_dir) if e["action"] == "access"]
    assert access and access[-1]["details"]["verb"] == "reveal"
    page.keyboard.press("Escape")
    page.wait_for_url("**/items")
    assert page.evaluate("() => document.querySelector('.items img').naturalWidth") == 360

    page.click("nav >> text=대화")
    page.wait_for_selector("#transcript")
    checks.page_ok("chats")
    page.fill("#q", "이거 봐")
    page.press("#q", "Enter")
    page.wait_for_selector("#hits li")
    page.locator("#transcript button").first.click()
    page.wait_for_selector("#transcript .ok")
    assert any(e["action"] == "mark" for e in log_entries(case_dir))

    page.click("nav >> text=검증")
    checks.page_ok("verify")
    page.click("main button[type=submit]")
    assert "이상 없음" in _job_done(page)

    page.click("nav >> text=분석")
    checks.page_ok("analysis")
    page.click("main button[type=submit]")
    found = _job_done(page)
    assert "jpeg.grid" not in found  # findings in words, not signal names
    assert "오류율" in found or "틀림" in found, found

    page.click("nav >> text=보고서")
    checks.page_ok("report")
    page.click("main button[type=submit]")
    made = _job_done(page)
    pages = int(re.search(r"(\d+)쪽", made).group(1))  # type: ignore[union-attr]
    with page.expect_download() as got:
        page.click("#download")
    pdf = tmp / "report.pdf"
    got.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "딥페이크 피해 증거" in text.stdout
    assert text.stdout.count("\f") == pages

    page.click("nav >> text=넘겨 주기")
    checks.page_ok("export")
    page.click("main button[type=submit]")
    steps = _job_done(page)
    assert "sh verify.sh" in steps
    bag_zip = Path(f"{case_dir}-bag.zip")
    with zipfile.ZipFile(bag_zip) as zf:
        zf.extractall(tmp / "received")
    [bag] = list((tmp / "received").iterdir())
    checked = subprocess.run(["sh", "verify.sh"], cwd=bag, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    page.click("nav >> text=신뢰 시각")
    checks.page_ok("time")


def _english_pages(page: Any, checks: Checks) -> None:
    page.select_option("#lang-choice", "en")
    page.click("form[action='/lang'] button")
    page.wait_for_load_state("load")
    assert page.get_attribute("html", "lang") == "en"
    assert "Items" in page.inner_text("nav")
    page.click("nav >> text=Items")
    assert "Show item 1" in page.inner_text("main")
    checks.page_ok("items-en", korean=False)
