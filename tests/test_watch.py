"""``forensic watch`` and ``forensic takedown``: a page on 127.0.0.1 that is up, changes, is
removed (404) and whose server then goes away; a Telegram "can't be displayed" page; a watch
killed and restarted resumes; the report's timeline; the takedown package."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from forensic.capture.watch import Check
from forensic.service.watching import WatchRun, WatchSettings, watch, watch_status
from tests.casetools import log_entries, log_lines, make_writable, run_verify_sh
from tests.conftest import Cli, examiner_session
from tests.watchsite import TELEGRAM_BLOCKED, TELEGRAM_LIVE, WatchSite, watch_site

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian package 'chromium' is not installed"
)
FAST = WatchSettings(once=True, timeout=10.0, host_interval=0.0, settle=0.0)


@pytest.fixture
def site() -> Iterator[WatchSite]:
    with watch_site() as s:
        yield s


def _once(case_dir: Path, *urls: str, settings: WatchSettings = FAST) -> WatchRun:
    return watch(examiner_session(), list(urls), settings, case_dir=case_dir)


def _run(*cmd: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False)


def _age_key(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / f"{name}.txt"
    _run("age-keygen", "-o", key)
    public = next(
        line.split(": ", 1)[1]
        for line in key.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    return key, public


def _sequence(site: WatchSite, case_dir: Path) -> list[Check]:
    """200, the same again, changed content, 404, then the server gone (refused)."""
    url = site.base + "/watched"
    checks: list[Check] = []
    asked: list[float] = []
    spaced = WatchSettings(once=True, timeout=10.0, host_interval=30.0, settle=0.0)
    answers = [(200, "<h1>first version</h1>"), (200, "<h1>first version</h1>"),
               (200, "<h1>second version</h1>"), (404, "removed")]  # fmt: skip
    for n, (status, body) in enumerate(answers):
        site.answers.status, site.answers.body = status, body
        settings = spaced if n == 1 else FAST
        run = watch(examiner_session(), [url], settings, case_dir=case_dir, sleep=asked.append)
        checks += run.checks
    assert len(asked) == 1 and 0 < asked[0] <= 30.0  # the same host: spaced by host_interval
    site.stop()
    checks += _once(case_dir, url).checks
    return checks


def _stamp_with_demo_tsa(case_dir: Path) -> None:
    from forensic.case import Case
    from forensic.timestamp import demo_tsa, stamp_head

    session = examiner_session()
    case = Case.open(case_dir, session)
    [token] = stamp_head(case, session.unlock(), [demo_tsa()], timeout=5).tokens
    assert token.demo


def test_watch_timeline_report_takedown_and_verification(
    site: WatchSite, case_dir: Path, cli: Cli, tmp_path: Path
) -> None:
    checks = _sequence(site, case_dir)
    assert [(c.state, c.group is not None) for c in checks] == [
        ("available", True),  # first seen: a full capture
        ("available", False),  # the same page: no new capture
        ("changed", True),  # changed: a new full capture of the same visit
        ("gone", True),  # the removal answer, captured
        ("unreachable", False),  # connection refused: not gone
    ]
    assert checks[3].reason == "http_404" and checks[4].reason
    entries = [e for e in log_entries(case_dir) if e["action"] == "watch"]
    assert [e["details"]["state"] for e in entries] == [c.state for c in checks]
    _stamp_with_demo_tsa(case_dir)  # time over the head: shown, never called trusted
    res = cli("watch", "status", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    [url_doc] = json.loads(res.stdout)["urls"]
    assert [s["state"] for s in url_doc["timeline"]] == [
        "available", "changed", "gone", "unreachable"
    ]  # fmt: skip
    assert url_doc["gone_at"] is None and url_doc["first_seen"]["zone"] == "Asia/Seoul"
    assert url_doc["first_seen"]["local"].endswith("+09:00")

    assert cli("key", "cert", "--name", "Examiner").exit_code == 0
    res = cli("report", "--case", case_dir, "--demo-tsa", "--json")
    assert res.exit_code == 0, res.stderr
    text = _run("pdftotext", json.loads(res.stdout)["report"]["path"], "-").stdout
    assert "availability over time" in text and site.base + "/watched" in " ".join(text.split())
    for word in ("available", "changed", "gone", "http_404", "unreachable", "KST", "UTC"):
        assert word in text, word
    assert "not a trusted authority here" in " ".join(text.split())  # the demo token

    _takedown(cli, case_dir, tmp_path, site.base + "/watched", checks)
    _verified_and_tamper_caught(cli, case_dir, tmp_path)


def _takedown(cli: Cli, case_dir: Path, tmp_path: Path, url: str, checks: list[Check]) -> None:
    key, public = _age_key(tmp_path, "recipient")
    other, _ = _age_key(tmp_path, "someone-else")
    items = [checks[0].items["screenshot.png"], checks[2].items["rendered.html"]]
    out = tmp_path / "out"
    out.mkdir()
    res = cli("takedown", "--case", case_dir, "--to", "kcsc", "--items", ",".join(items),
              "--urls", url, "--out", out, "--recipient-key", public, "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)["takedown"]
    folder = Path(doc["folder"])
    assert Path(doc["zip"]).is_file() and doc["evidence"] == "encrypted"
    for lang in ("ko", "en"):
        letter = (folder / f"letter.{lang}.txt").read_text()
        assert url in letter and doc["tracking_id"] in letter
        assert "KST" in letter and "UTC" in letter
    assert "방송통신심의위원회" in (folder / "letter.ko.txt").read_text()
    [u] = doc["urls"]
    assert u["first_seen"]["utc"][:19] == checks[0].started[:19]
    assert u["last_seen"]["utc"][:19] == checks[2].started[:19]
    with (folder / "hashes.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["sha256"] for r in rows) == sorted(items)
    shot = next(r for r in rows if r["sha256"] == items[0])
    assert len(shot["pdq"]) == 64 and len(shot["md5"]) == 32
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert sums.returncode == 0, sums.stderr
    encrypted = sorted((folder / "evidence").iterdir())
    assert encrypted and all(p.suffix == ".age" for p in encrypted)
    for path in encrypted:
        sha = path.name.split(".")[0]
        plain = _run("sh", "-c", f"age -d -i '{key}' '{path}' | sha256sum").stdout.split()[0]
        assert plain == sha
        assert _run("age", "-d", "-i", other, path).returncode != 0
    _without_key(cli, case_dir, out, items, url)
    logged = next(e for e in log_entries(case_dir) if e["action"] == "export-takedown")
    assert logged["details"]["tracking_id"] == doc["tracking_id"]
    assert logged["details"]["zip_sha256"] == doc["zip_sha256"]
    assert sorted(logged["details"]["access"]["items"]) == sorted(
        {*items, checks[2].items["screenshot.png"]}
    )


def _without_key(cli: Cli, case_dir: Path, out: Path, items: list[str], url: str) -> None:
    """No recipient key: no evidence file, unless --plaintext (then with a warning)."""
    base = ("takedown", "--case", case_dir, "--to", "telegram", "--items", ",".join(items),
            "--urls", url, "--out", out)  # fmt: skip
    res = cli(*base, "--json")
    doc = json.loads(res.stdout)
    assert doc["warnings"] == ["no_evidence"] and doc["takedown"]["evidence"] == "none"
    assert not (Path(doc["takedown"]["folder"]) / "evidence").exists()
    res = cli(*base, "--plaintext", "--json")
    doc = json.loads(res.stdout)
    assert doc["warnings"] == ["plaintext"] and doc["takedown"]["evidence"] == "plaintext"
    files = list((Path(doc["takedown"]["folder"]) / "evidence").iterdir())
    assert set(items) <= {p.name.split(".")[0] for p in files}
    assert not any(p.suffix == ".age" for p in files)


def _verified_and_tamper_caught(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    assert cli("verify", "--case", case_dir).exit_code == 0
    assert run_verify_sh(case_dir).returncode == 0
    bag = tmp_path / "bag"
    assert cli("export", "--case", case_dir, "--out", bag).exit_code == 0
    sh = subprocess.run(["sh", str(bag / "verify.sh"), str(bag)], capture_output=True, text=True)
    assert sh.returncode == 0, sh.stdout + sh.stderr
    bag_log = bag / "data" / "custody" / "log.jsonl"
    make_writable(bag_log)
    bag_log.write_bytes(bag_log.read_bytes().replace(b'"state":"gone"', b'"state":"available"'))
    sh = subprocess.run(["sh", str(bag / "verify.sh"), str(bag)], capture_output=True, text=True)
    assert sh.returncode != 0  # a watch entry edited in the bag
    log = case_dir / "custody" / "log.jsonl"
    pristine = log.read_bytes()
    lines = log_lines(case_dir)
    n = next(i for i, line in enumerate(lines) if b'"state":"gone"' in line)
    make_writable(log)
    edited = lines[n].replace(b'"state":"gone"', b'"state":"available"')
    for tampered in ([*lines[:n], edited, *lines[n + 1 :]], lines[:n] + lines[n + 1 :]):
        log.write_bytes(b"\n".join(tampered) + b"\n")
        assert cli("verify", "--case", case_dir).exit_code == 1
        assert run_verify_sh(case_dir).returncode != 0
    log.write_bytes(pristine)


def test_telegram_pages_and_a_watch_that_resumes(site: WatchSite, case_dir: Path) -> None:
    """A plan of two URLs killed after its first check: started again, it checks only the one
    not checked yet, then waits for the next due time. A plan ends when its URLs are all gone,
    or at its end time."""
    rules = f"MAP t.me 127.0.0.1:{site.port}"
    plan = WatchSettings(every_seconds=6 * 3600, until="gone", timeout=10.0, host_interval=0.0,
                         settle=0.0, resolver_rules=rules)  # fmt: skip
    urls = [site.base + "/watched", "http://t.me/s/evidence_channel"]

    class Killed(Exception):
        pass

    def kill(_check: Check) -> None:
        raise Killed

    with pytest.raises(Killed):
        watch(examiner_session(), urls, plan, case_dir=case_dir, on_check=kill)
    waits: list[float] = []

    def stop(seconds: float) -> None:
        waits.append(seconds)
        raise Killed

    with pytest.raises(Killed):  # no URL: the open plan, from the case
        watch(examiner_session(), [], plan, case_dir=case_dir, sleep=stop)
    by_url = {t.url: t for t in watch_status(examiner_session(), case_dir).urls}
    assert by_url[urls[0]].current == "available" and by_url[urls[0]].checks == 1
    assert by_url[urls[1]].current == "gone"
    assert by_url[urls[1]].spans[0].first.reason == "telegram_blocked"
    assert 6 * 3600 - 120 < waits[0] <= 6 * 3600  # the next check of the first URL
    hits = len(site.answers.hits)  # plans that end without fetching anything:
    run = watch(examiner_session(), urls[1:], plan, case_dir=case_dir, sleep=stop)
    assert run.ended == "gone" and run.checks == ()  # its only URL is gone already
    past = WatchSettings(every_seconds=3600, until="2026-01-01T00:00:00Z", host_interval=0.0)
    run = watch(examiner_session(), urls, past, case_dir=case_dir, sleep=stop)
    assert run.ended == "until" and run.checks == () and len(site.answers.hits) == hits
    watch_log = [e["details"] for e in log_entries(case_dir) if e["action"] == "watch"]
    assert [(d["kind"], d.get("reason")) for d in watch_log] == [
        ("plan", None), ("check", None), ("check", "telegram_blocked"), ("ended", "replaced"),
        ("plan", None), ("ended", "gone"), ("plan", None), ("ended", "until"),
    ]  # fmt: skip


def test_recognisers_of_removed_pages_and_names() -> None:
    from forensic.capture.watch import name_does_not_exist, removed_reason

    blocked = "evidence channel This channel can\u2019t be displayed because it was used to spread"
    assert removed_reason("https://t.me/s/x", TELEGRAM_BLOCKED, blocked) == "telegram_blocked"
    assert removed_reason("https://t.me/s/x", TELEGRAM_LIVE, "live channel a post") is None
    assert removed_reason("https://example.org/s/x", TELEGRAM_BLOCKED, blocked) is None
    contact = "If you have Telegram, you can contact @gone_name right away."
    bare = f'<div class="tgme_page_description">{contact}</div>'
    gone = removed_reason("https://t.me/gone_name", bare, contact)
    assert gone == "telegram_no_such_name"
    person = '<div class="tgme_page_title">Kim</div>' + bare
    assert removed_reason("https://t.me/kim", person, "Kim " + contact) is None
    assert removed_reason("https://t.me/c/1/2", "", "Post not found") == "telegram_post_missing"

    def nxdomain(host: str, port: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_answer(host: str, port: object) -> None:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    assert name_does_not_exist("gone.example", nxdomain)
    assert not name_does_not_exist("gone.example", no_answer)
    assert not name_does_not_exist("localhost")


def test_watch_refusals_are_one_line_errors(cli: Cli, case_dir: Path) -> None:
    res = cli("watch", "http://127.0.0.1:1/x", "--every", "1m", "--case", case_dir)
    assert res.exit_code == 2 and "10 minutes" in res.stderr
    res = cli("watch", "http://127.0.0.1:1/x", "--every", "often", "--case", case_dir)
    assert res.exit_code == 2 and "often" in res.stderr
    res = cli("watch", "http://me:secret@127.0.0.1:1/x", "--once", "--case", case_dir)
    assert res.exit_code == 2 and "never logs in" in res.stderr
    res = cli("watch", "--case", case_dir)
    assert res.exit_code == 2 and "no open watch" in res.stderr
    res = cli("watch", "status", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 0 and "감시한 주소가 없습니다" in res.stdout
    res = cli("takedown", "--to", "police", "--urls", "http://x.example/", "--out", case_dir,
              "--case", case_dir)  # fmt: skip
    assert res.exit_code == 2 and "police" in res.stderr
    res = cli("takedown", "--to", "d4u", "--urls", "http://x.example/", "--out", case_dir,
              "--case", case_dir)  # fmt: skip
    assert res.exit_code == 2 and "inside the case folder" in res.stderr
