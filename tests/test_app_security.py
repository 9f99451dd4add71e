"""``forensic app`` lets in only the browser that opened it, from this machine, and caches nothing.

Plain HTTP requests against the real server: each refusal is proved by a request a hostile page
or a rebinding DNS name could send; uploads go through the same capture rules as the CLI.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from markupsafe import escape

from forensic.i18n import message
from tests.apptools import AppClient, running_app
from tests.casetools import log_entries
from tests.conftest import PASSPHRASE
from tests.mediatools import jpeg_bytes


@pytest.fixture
def app(case_dir: Path):  # type: ignore[no-untyped-def]
    with running_app(case_dir, "ko") as (server, client):
        yield server, client


def _security_headers(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.headers["cache-control"] == "no-store"
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "unsafe" not in csp  # no external origin, no inline script
    assert answer.headers["x-frame-options"] == "DENY"


def test_binds_loopback_and_needs_the_token(app) -> None:  # type: ignore[no-untyped-def]
    server, client = app
    assert server.sock.getsockname()[0] == "127.0.0.1"
    refused = client.request("GET", "/")
    assert refused.status == 403
    assert refused.text == message("app.security.no_token", "ko")
    _security_headers(refused)
    assert client.request("GET", "/?token=wrong").status == 403
    assert client.request("GET", "/static/app.css").status == 403
    login = client.login()
    assert login.status == 303 and login.headers["location"] == "/"  # the token leaves the URL
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    forged = AppClient(client.port, client.token, client.csrf, cookie="forensic_app=guess")
    assert forged.request("GET", "/items").status == 403
    for path in ("/", "/items", "/static/app.js", "/static/NanumGothic.ttf", "/events/none"):
        answer = client.request("GET", path)
        assert answer.status in (200, 404), path
        _security_headers(answer)


def test_wrong_host_is_refused_even_with_the_token(app) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    client.login()
    for host in ("evil.example", f"evil.example:{client.port}", "127.0.0.1:1"):
        answer = client.request("GET", f"/?token={client.token}", headers={"Host": host})
        assert answer.status == 421, host
        assert answer.text == message("app.security.bad_host", "ko")
        assert "set-cookie" not in answer.headers
        assert client.request("GET", "/items", headers={"Host": host}).status == 421
    # no Host at all: the HTTP layer itself refuses it
    assert client.request("GET", f"/?token={client.token}", headers={"Host": ""}).status == 400
    assert client.request("GET", "/", headers={"Host": f"localhost:{client.port}"}).status == 200


def test_cross_site_posts_are_refused(app, case_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    client.login()
    before = len(log_entries(case_dir))
    form = {"csrf": client.csrf, "passphrase": PASSPHRASE}
    foreign = client.post("/unlock", form, {"Origin": "http://evil.example"})
    assert foreign.status == 403
    assert foreign.text == message("app.security.cross_site", "ko")
    other_port = client.post("/unlock", form, {"Origin": "http://127.0.0.1:1"})
    assert other_port.status == 403
    fetched = client.post("/unlock", form, {"Sec-Fetch-Site": "cross-site"})
    assert fetched.status == 403
    no_csrf = client.post("/verify", {})
    assert no_csrf.status == 403 and no_csrf.text == message("app.security.no_csrf", "ko")
    bad_csrf = client.post("/hide", {"csrf": "x" * 43})
    assert bad_csrf.status == 403
    upload = client.upload([("a.jpg", jpeg_bytes())], {"csrf": "wrong", "kind": "files"})
    assert upload.status in (303, 403)  # locked key first, or the CSRF refusal
    assert len(log_entries(case_dir)) == before  # nothing was written


def _unlocked(client: AppClient) -> None:
    client.login()
    answer = client.post("/unlock", {"csrf": client.csrf, "passphrase": PASSPHRASE, "next": "/"})
    assert answer.status == 303, answer.text


def test_upload_refuses_names_outside_and_leaves_nothing(app, case_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    _unlocked(client)
    before = len(log_entries(case_dir))
    no_csrf = client.upload([("a.jpg", jpeg_bytes())], {"kind": "files"})
    assert no_csrf.status == 403
    for name in ("../outside.jpg", "a/../../b.jpg", "/etc/passwd"):
        answer = client.upload([(name, jpeg_bytes())], {"csrf": client.csrf, "kind": "files"})
        assert answer.status == 400, name
        said = f"{name}: " + message("reason.chat.path_escapes", "ko", ref=name)
        assert str(escape(said)) in answer.text
    assert not (case_dir.parent / "outside.jpg").exists()
    assert os.listdir(case_dir / "tmp") == []  # the upload folder and its intent are gone
    assert len(log_entries(case_dir)) == before
    assert client.upload([], {"csrf": client.csrf, "kind": "files"}).status == 400


def _zip_bomb() -> bytes:
    """Members declaring 20 GiB in all (the central directory lies): refused unread."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in range(5):
            zf.writestr(f"KakaoTalkChats{n}.txt", b"x")
    data = bytearray(buf.getvalue())
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        struct.pack_into("<I", data, at + 24, 0xFFFFFFFE)
        at += 4
    return bytes(data)


def test_zip_bomb_refused_with_the_cli_message(app, case_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    _unlocked(client)
    answer = client.upload([("bomb.zip", _zip_bomb())], {"csrf": client.csrf, "kind": "kakaotalk"})
    assert answer.status == 303
    job = answer.headers["location"]
    for _ in range(200):
        page = client.request("GET", job).text
        if 'data-state="running"' not in page:
            break
        import time

        time.sleep(0.05)
    assert "zip bomb?" in page
    # the CLI's own words for the same file
    bomb = case_dir.parent / "bomb.zip"
    bomb.write_bytes(_zip_bomb())
    res = cli(
        "capture", "--case", case_dir, "--source", "kakaotalk", "--json", bomb, "--lang", "ko"
    )
    cli_message = json.loads(res.stdout)["failures"][0]["message"]
    assert str(escape(f"bomb.zip: {cli_message}")) in page
    assert os.listdir(case_dir / "tmp") == []


def test_event_stream_needs_the_token_too(app) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    assert client.request("GET", "/events/anything").status == 403
    client.login()
    assert client.request("GET", "/events/anything").status == 404  # in, but no such job


def test_encrypted_case_refuses_a_weak_passphrase(tmp_path: Path) -> None:
    """The meter and the refusal are the CLI's (zxcvbn policy); nothing is created."""
    folder = tmp_path / "new-case"
    with running_app(folder, "ko") as (_server, client):
        client.login()
        meter = client.post("/strength", {"csrf": client.csrf, "passphrase": "1234"})
        said = json.loads(meter.body)
        assert said["weak"] is True and said["score"] < said["needed"] and said["text"]
        form = {
            "csrf": client.csrf,
            "title": "t",
            "examiner": "김지원",
            "folder": str(folder),
            "passphrase": "1234",
            "encrypt": "on",
        }
        refused = client.post("/case", form)
        assert refused.status == 400
        assert "암호" in refused.text
        assert not folder.exists() and not (tmp_path / "examiner-home").exists()
        strong = {**form, "passphrase": "plum-harbour-violet-engine-42"}
        made = client.post("/case", strong)
        assert made.status == 303 and made.headers["location"] == "/evidence"
        assert (folder / "keys" / "case-identity.age").is_file()


def test_a_dropped_folder_keeps_its_tree(app, case_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder comes as names with slashes (a Telegram export): captured as that export."""
    from tests.chatexports import make_telegram_json

    _server, client = app
    _unlocked(client)
    export = make_telegram_json(tmp_path / "ChatExport_2022-06-05")
    files = [
        (f"{export.name}/{p.relative_to(export)}", p.read_bytes())
        for p in sorted(export.rglob("*"))
        if p.is_file()
    ]
    answer = client.upload(files, {"csrf": client.csrf, "kind": "telegram"})
    assert answer.status == 303
    page = _finished(client, answer.headers["location"])
    assert "텔레그램" in page, page
    captured = [e for e in log_entries(case_dir) if e["action"] == "capture"]
    assert len(captured) == len(files)
    assert os.listdir(case_dir / "tmp") == []


def _finished(client: AppClient, job: str) -> str:
    import time

    for _ in range(400):
        page = client.request("GET", job).text
        if 'data-state="running"' not in page:
            return page
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def test_a_live_upload_folder_is_left_alone_and_then_gone(case_dir: Path) -> None:
    """While the app receives files, recovery and verify leave its signed, live upload folder;
    a planted folder of the same shape without a live signed intent is still named."""
    from forensic.case.case import Case
    from forensic.service.verification import verify
    from forensic.webapp.uploads import upload_folder
    from tests.conftest import examiner_session

    session = examiner_session()
    key = session.unlock()
    with upload_folder(case_dir, key) as folder:
        (folder / "half.jpg").write_bytes(b"\xff\xd8 partial")
        assert verify(session, case_dir, no_record=True).intact
        case = Case.open(case_dir, session=session)
        with case.writing(key) as recovery:
            assert recovery.partial_files == ()
        assert (folder / "half.jpg").is_file()
    assert not folder.exists()
    planted = case_dir / "tmp" / "upload-planted"
    planted.mkdir()
    (planted / "x.jpg").write_bytes(b"x")
    problems = verify(session, case_dir, no_record=True).report.problems
    assert [p.kind for p in problems] == ["partial_file"]


def test_the_verb_prints_its_one_time_address_and_serves_it(tmp_path: Path) -> None:
    """``forensic app --no-browser``: the address it prints opens the app, on 127.0.0.1 only."""
    import re
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "forensic", "app", "--case", str(tmp_path / "c"), "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "FORENSIC_LANG": "ko"},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]+)", line)
        assert found, line
        client = AppClient(int(found.group(1)), found.group(2), "")
        assert client.login().status == 303
        page = client.request("GET", "/")
        assert page.status == 200 and "사건 시작" in page.text
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(10)
    assert child.stderr is not None
    assert client.token not in child.stderr.read()


def test_a_use_case_refusal_is_a_page_not_a_traceback(app) -> None:  # type: ignore[no-untyped-def]
    _server, client = app
    client.login()
    answer = client.request("GET", "/items/ffff/preview")
    assert answer.status == 400
    assert "Traceback" not in answer.text and "ffff" in answer.text
    _security_headers(answer)
