"""``forensic capture URL``: pages served on 127.0.0.1 over HTTP and HTTPS (self-signed), with
images, a redirect and a slow resource; bad pages (loop, hang, 500); no internet."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.webcli import run_capture
from tests.webserver import KOREAN, LAZY, MARKER, RED, SLOW, Site, serve

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian package 'chromium' is not installed"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("site")) as s:
        yield s


def _items(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [web] = doc["web"]
    return {i["name"]: i for i in web["items"]}


def _obj(case_dir: Path, sha: str) -> bytes:
    found = list((case_dir / "objects").rglob(sha))
    assert len(found) == 1, found
    return found[0].read_bytes()


def test_http_page_with_redirect_images_and_slow_resource(
    site: Site, case_dir: Path, cli: Cli
) -> None:
    from PIL import Image
    from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

    res = run_capture(site.http + "/redirect", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    [web] = doc["web"]
    assert web["final_url"] == site.http + "/page"
    assert web["http_status"] == 200
    assert web["server"]["ip"] == "127.0.0.1"
    assert web["tls_problem"] is None
    items = _items(doc)
    assert set(items) == {"screenshot.png", "rendered.html", "traffic.warc.gz", "capture.json"}

    html = _obj(case_dir, items["rendered.html"]["sha256"]).decode()
    assert MARKER in html and KOREAN in html
    assert "rendered-by-script" in html  # the DOM after scripts, not only the served bytes

    shot = Image.open(io.BytesIO(_obj(case_dir, items["screenshot.png"]["sha256"]))).convert("RGB")
    assert shot.width == 1280
    colours = {c for _n, c in shot.getcolors(1 << 20) or []}
    assert (220, 20, 20) in colours  # the image
    assert (20, 20, 220) in colours  # the slow image (served after 1 s): waited for

    meta = json.loads(_obj(case_dir, items["capture.json"]["sha256"]))
    chain = meta["redirect_chain"]
    assert [h["status"] for h in chain] == [302, 200]
    assert chain[0]["url"] == site.http + "/redirect"
    assert ["Location", "/page"] in chain[0]["headers"]
    assert ["X-Test-Server", "forensic-tests"] in chain[1]["headers"]
    assert meta["requested_url"] == site.http + "/redirect"
    assert meta["capture_started"] <= meta["page_loaded"] <= meta["capture_finished"]
    assert meta["browser"]["version"] and meta["libraries"]["warcio"]

    records: dict[str, tuple[str, bytes, str | None]] = {}
    warc = _obj(case_dir, items["traffic.warc.gz"]["sha256"])
    for rec in ArchiveIterator(io.BytesIO(warc)):
        if rec.rec_type == "response":
            url = rec.rec_headers.get_header("WARC-Target-URI")
            records[url] = (
                rec.http_headers.get_statuscode(),
                rec.content_stream().read(),
                rec.rec_headers.get_header("WARC-IP-Address"),
            )
    assert records[site.http + "/redirect"][0] == "302"
    assert records[site.http + "/red.png"][1] == RED
    assert records[site.http + "/slow.png"][1] == SLOW
    assert records[site.http + "/lazy.png"][1] == LAZY  # below the fold: fetched by scrolling
    assert (20, 180, 20) in colours
    assert MARKER.encode() in records[site.http + "/page"][1]
    assert records[site.http + "/page"][2] == "127.0.0.1"

    # Like any capture: listed, shown, verified, one group of kind "web".
    listed = json.loads(cli("list", "--case", case_dir, "--json").stdout)
    assert {i["sha256"] for i in listed["items"]} == {i["sha256"] for i in items.values()}
    shown = json.loads(
        cli("show", items["screenshot.png"]["sha256"], "--case", case_dir, "--json").stdout
    )
    acq = shown["item"]["acquisitions"][0]
    assert acq["source"]["path"] == "web:screenshot.png"
    assert base64.b64decode(acq["source"]["path_b64"]) == b"web:screenshot.png"
    assert shown["item"]["metadata"] is not None  # described at capture, like any image
    assert acq["source_url"] == site.http + "/redirect"
    assert acq["group"] == web["group"]
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    groups = [e for e in log if e["action"] == "capture-group"]
    assert [g["details"]["kind"] for g in groups] == ["web"]
    assert "no signature" in groups[0]["details"]["limits"]["does_not_prove"]
    assert [e["action"] for e in log].count("ocr") == 2  # screenshot + rendered page text
    ver = cli("verify", "--case", case_dir, "--json")
    assert ver.exit_code == 0, ver.stdout

    # The page's text is searchable (rendered HTML text; Korean too).
    hits = json.loads(cli("search", "불법촬영물", "--case", case_dir, "--json").stdout)["hits"]
    assert items["rendered.html"]["sha256"] in {h["sha256"] for h in hits}

    # The court report says what this web capture proves and what it does not.
    if shutil.which("pdftotext"):
        from tests.test_report import make_test_ca

        _ca, cert, key = make_test_ca(case_dir.parent)
        assert cli("key", "cert", "--import", cert, key).exit_code == 0
        res = cli("report", "--case", case_dir, "--demo-tsa", "--json", "--lang", "en")
        assert res.exit_code == 0, res.stderr
        pdf = json.loads(res.stdout)["report"]["path"]
        text = " ".join(
            subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout.split()
        )
        assert "What this web capture shows" in text
        assert "gives no signature over the content" in text


def test_https_self_signed_is_captured_with_the_problem_recorded(
    site: Site, case_dir: Path, cli: Cli
) -> None:
    res = run_capture(site.https + "/page", "--case", case_dir, "--json", "--no-ocr")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    [web] = doc["web"]
    assert "self-signed" in web["tls_problem"]
    assert any("did not verify" in w for w in web["warnings"])
    items = _items(doc)
    pem = _obj(case_dir, items["certificates.pem"]["sha256"])
    der = ssl.PEM_cert_to_DER_cert(site.cert_pem.decode())
    assert ssl.PEM_cert_to_DER_cert(pem.decode()) == der  # the very certificate the site used
    meta = json.loads(_obj(case_dir, items["capture.json"]["sha256"]))
    tls = meta["tls"]
    assert tls["chain"][0]["sha256"] == hashlib.sha256(der).hexdigest()
    assert tls["chain"][0]["subject"] == "CN=forensic-test-site"
    assert tls["verification"]["verified"] is False
    assert tls["verification"]["same_leaf_as_browser"] is True
    assert tls["browser_view"]["protocol"].startswith("TLS")
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    [group] = [e for e in log if e["action"] == "capture-group"]
    assert "self-signed" in group["details"]["tls_problem"]
    assert cli("verify", "--case", case_dir).exit_code == 0


def test_bad_pages_fail_clearly_and_the_batch_goes_on(site: Site, case_dir: Path, cli: Cli) -> None:
    res = run_capture(
        site.http + "/loop",
        site.http + "/hang",
        site.http + "/error",
        "--timeout",
        "2",
        "--case",
        case_dir,
        "--no-ocr",
    )
    assert res.exit_code == 3
    err = " ".join(res.stderr.split())
    assert f"{site.http}/loop: the page redirects forever" in err
    assert f"{site.http}/hang: the page did not load within 2 s; nothing was captured" in err
    assert f"{site.http}/error: the server answered HTTP 500" in err
    assert "Traceback" not in res.stdout + res.stderr
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    groups = [e["details"] for e in log if e["action"] == "capture-group"]
    assert [(g["url"], g["http_status"]) for g in groups] == [(site.http + "/error", 500)]
    assert cli("verify", "--case", case_dir).exit_code == 0

    ko = run_capture(site.http + "/loop", "--case", case_dir, "--lang", "ko", "--no-ocr")
    assert ko.exit_code == 3 and "리디렉션" in ko.stderr


def test_malformed_address_is_a_usage_error(case_dir: Path, cli: Cli) -> None:
    res = run_capture("http://", "--case", case_dir, "--json")
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["error"]["code"] == "bad_url"
    assert "http://: not an http:// or https:// address" in doc["error"]["message"]
    assert json.loads(cli("list", "--case", case_dir, "--json").stdout)["items"] == []


def test_web_addresses_and_files_are_not_mixed(tmp_path: Path, case_dir: Path, cli: Cli) -> None:
    f = tmp_path / "a.txt"
    f.write_text("x")
    res = cli("capture", f, "https://127.0.0.1:9/x", "--case", case_dir)
    assert res.exit_code == 2 and "files or folders in another" in res.stderr
    assert json.loads(cli("list", "--case", case_dir, "--json").stdout)["items"] == []
