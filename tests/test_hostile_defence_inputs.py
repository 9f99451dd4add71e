"""Bounded inputs and damaged files, as a hostile defence expert would try them.

A TSA that answers with a flood, a JPEG header claiming 65535 x 65535 pixels, a PNG of
13000 x 13000 pixels, a passphrase in the environment of every child, a damaged ``case.json``
and a file planted in ``objects/`` under a name that is not its hash: each is refused, bounded
or named as an integrity problem, never a crash, a memory blow-up or a signature for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.casetools import log_entries
from tests.conftest import PASSPHRASE, REPO, Cli

# -- the images ------------------------------------------------------------------------------
BOMB_SIDE = 65535
BOMB_PIXELS = BOMB_SIDE * BOMB_SIDE
BIG_SIDE = 13000


def jpeg_header(width: int, height: int) -> bytes:
    """A tiny baseline JPEG whose frame header (SOF0) claims ``width`` x ``height``: nothing of
    that size is ever allocated here."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"".join(
        bytes([i, 0x11, 0]) for i in (1, 2, 3)
    )
    dqt = b"\x00" + bytes([1] * 64)
    dht = b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00"
    sos = b"\x03" + b"".join(bytes([i, 0]) for i in (1, 2, 3)) + b"\x00\x3f\x00"

    def seg(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    return (
        b"\xff\xd8"
        + seg(0xDB, dqt)
        + seg(0xC0, sof)
        + seg(0xC4, dht)
        + seg(0xDA, sos)
        + b"\x00" * 64
        + b"\xff\xd9"
    )


def constant_png(side: int) -> bytes:
    """A ``side`` x ``side`` RGB PNG of one colour (about 1 MB), made without compressing every
    row: after a full flush the deflate state is reset, so a block of rows compresses to the
    same bytes each time and is repeated; the final empty block and the Adler-32 of the whole
    come last."""
    row = b"\x00" + b"\x80\x40\x20" * side
    rows = 100
    assert side % rows == 0
    z = zlib.compressobj(6)
    first = z.compress(row * rows) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(row * rows) + z.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(side // rows):
        adler = zlib.adler32(row * rows, adler)
    data = first + again * (side // rows - 1) + b"\x03\x00" + struct.pack(">I", adler)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.png"
    path.write_bytes(constant_png(BIG_SIDE))
    return path


def _capture(cli: Cli, case_dir: Path, *paths: Path) -> dict[str, str]:
    res = cli("capture", "--case", case_dir, "--json", *paths)
    assert res.exit_code == 0, res.stdout + res.stderr
    return {Path(a["path"]).name: a["sha256"] for a in json.loads(res.stdout)["acquired"]}


# -- the one decompression-bomb policy ---------------------------------------------------------
def test_pixel_policy_decides_from_the_header(tmp_path: Path, big_png: Path) -> None:
    from forensic.media.safe import MAX_DECODED_PIXELS, ImageRefused, open_image

    with pytest.raises(ImageRefused) as bomb:
        open_image(jpeg_header(BOMB_SIDE, BOMB_SIDE))
    assert str(BOMB_PIXELS) in bomb.value.reason("en") and "화소" in bomb.value.reason("ko")
    with pytest.raises(ImageRefused) as big:
        open_image(big_png)
    assert "13000×13000" in big.value.reason("en") and "PNG" in big.value.reason("en")
    # a large JPEG within the declared limit decodes reduced, by the JPEG decoder itself
    im, reduction = open_image(jpeg_header(12000, 9000))
    with im:
        assert reduction is not None and reduction.full == (12000, 9000)
        assert im.size[0] * im.size[1] <= MAX_DECODED_PIXELS
        assert "12000×9000" in reduction.note("en")
    # analyses need every pixel: refused, not reduced
    with pytest.raises(ImageRefused):
        open_image(jpeg_header(12000, 9000), full_size=True)


def test_ocr_skips_a_bomb_and_reads_the_rest(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(jpeg_header(BOMB_SIDE, BOMB_SIDE))
    text = tmp_path / "text.png"
    img = Image.new("RGB", (360, 80), "white")
    ImageDraw.Draw(img).text((10, 30), "EVIDENCE 2026", fill="black")
    img.save(text)
    ids = _capture(cli, case_dir, bomb, text)

    res = cli("ocr", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr
    line = next(x for x in res.stderr.splitlines() if ids["bomb.jpg"] in x)
    assert "skipped" in line and str(BOMB_PIXELS) in line and "decompression-bomb" in line
    assert f"{ids['text.png']}:" in res.stdout  # the rest of the run went on
    res = cli("ocr", "--case", case_dir, "--json", ids["bomb.jpg"])
    [skipped] = json.loads(res.stdout)["skipped"]
    assert skipped["sha256"] == ids["bomb.jpg"] and str(BOMB_PIXELS) in skipped["reason"]


MEASURE = """
import json, resource, sys
from typer.testing import CliRunner
from forensic.cli import app
case, items = sys.argv[1], sys.argv[2:]
out = {}
for verb in (["ocr", *items], ["report", "--demo-tsa"], ["analyze", "--detect", *items]):
    res = CliRunner().invoke(app, [*verb, "--case", case, "--json"])
    out[verb[0]] = {"exit": res.exit_code, "stdout": res.stdout, "stderr": res.stderr}
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
# VmHWM, not RUSAGE_SELF: Linux carries the parent's high-water mark across exec into
# ru_maxrss, so a big test runner would be counted as this process's peak
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
out["maxrss_kib"] = max(int(status), kids)
print(json.dumps(out))
"""
#: Peak memory (resident set) allowed for ocr, report and analysis of both bombs, in KiB: the
#: tool itself with its libraries takes some 300 MB; decoding the PNG whole took 2.1 GB.
MAX_RSS_KIB = 600 * 1024


def test_bombs_through_ocr_report_and_analysis_stay_small(
    tmp_path: Path, cli: Cli, case_dir: Path, big_png: Path
) -> None:
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(jpeg_header(BOMB_SIDE, BOMB_SIDE))
    ids = _capture(cli, case_dir, bomb, big_png)
    assert cli("key", "cert", "--name", "Examiner").exit_code == 0  # the report signs
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(case_dir), *ids.values()],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    print("peak RSS of ocr + report + analysis:", out["maxrss_kib"] // 1024, "MiB")
    assert out["maxrss_kib"] < MAX_RSS_KIB, out["maxrss_kib"]
    ocr = json.loads(out["ocr"]["stdout"])
    assert ocr["read"] == [] and {s["sha256"] for s in ocr["skipped"]} == set(ids.values())
    assert all("pixels" in s["reason"] for s in ocr["skipped"])
    assert out["report"]["exit"] == 0, out["report"]["stderr"]
    detected = json.loads(out["analyze"]["stdout"])
    text = json.dumps(detected, ensure_ascii=False)
    assert "13000×13000" in text and "decompression-bomb" in text


def test_report_preview_names_the_refusal(big_png: Path) -> None:
    from forensic.report.redact import PreviewUnavailable, preview_image

    with pytest.raises(PreviewUnavailable) as refused:
        preview_image(big_png, "blur")
    assert "13000×13000" in refused.value.reason("en")
    assert "13000×13000" in refused.value.reason("ko") and "화소" in refused.value.reason("ko")


# -- a TSA that answers with a flood -------------------------------------------------------------
#: The most of a TSA's answer read (a token is a few KB): 1 MiB.
TSA_CAP = 1 << 20


class _Flood(BaseHTTPRequestHandler):
    sent = 0
    declare = False

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        if type(self).declare:
            self.send_header("Content-Length", str(1_300_000_000))
        self.end_headers()
        block = b"\x30" * (1 << 16)
        try:
            for _ in range(4096):  # 256 MiB, unless the client stops reading
                self.wfile.write(block)
                type(self).sent += len(block)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flood() -> Iterator[tuple[str, type[_Flood]]]:
    handler = type("Flood", (_Flood,), {"sent": 0, "declare": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_tsa_flood_is_cut_at_the_cap(flood: tuple[str, type[_Flood]], declared: bool) -> None:
    from forensic.timestamp.authority import TimestampAuthority
    from forensic.timestamp.errors import TimestampError
    from forensic.timestamp.token import TimestampRequest, send_request

    url, handler = flood
    handler.declare = declared
    tsa = TimestampAuthority("Flood TSA", url, roots=())
    request = TimestampRequest.new(1, "ab" * 32)
    import aiohttp  # noqa: F401 - loaded before memory is traced: only the answer counts
    import pyhanko.sign.timestamps  # noqa: F401

    tracemalloc.start()
    try:
        with pytest.raises(TimestampError) as refused:
            send_request(tsa, request, 20.0)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.key == "bounds.too_large"
    assert str(TSA_CAP) in refused.value.diagnostics("en")
    assert "바이트" in refused.value.diagnostics("ko")
    assert peak < 4 * TSA_CAP, peak
    # the client stopped reading: far less than the 256 MiB offered left the server
    assert handler.sent < 32 * TSA_CAP, handler.sent


# -- no secrets in child environments -----------------------------------------------------------
def _fake_tool(folder: Path, name: str, dump: Path, answer: str) -> None:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text(
        "#!/bin/sh\n"
        f'env > "{dump}"\n'
        'case "$1" in --version) echo "tesseract 5.0.0";; --list-langs) printf "kor\\neng\\n";;'
        f" *) cat >/dev/null; echo '{answer}';; esac\n"
    )
    tool.chmod(0o755)


def test_children_never_see_the_passphrase(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ["FORENSIC_PASSPHRASE"] == PASSPHRASE
    monkeypatch.setenv("FORENSIC_SECRET_TOKEN", "s3cret")
    picture = tmp_path / "p.png"
    Image.new("RGB", (64, 64), "white").save(picture)
    _capture(cli, case_dir, picture)
    bin_dir = tmp_path / "bin"
    _fake_tool(bin_dir, "tesseract", tmp_path / "tesseract.env", "read")
    _fake_tool(bin_dir, "ffprobe", tmp_path / "ffprobe.env", "{}")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    res = cli("ocr", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    from forensic.media.video import probe_video

    probe_video(picture)  # its second reading runs ffprobe
    for name in ("tesseract.env", "ffprobe.env"):
        env = (tmp_path / name).read_text()
        assert "PATH=" in env
        assert PASSPHRASE not in env and "FORENSIC_PASSPHRASE" not in env, name
        assert "s3cret" not in env, name


# -- damage is an integrity finding --------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "appended"])
def test_damaged_case_json_is_named_and_the_rest_still_checked(
    tmp_path: Path, cli: Cli, case_dir: Path, damage: str
) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"\xff\xd8\xff original evidence")
    [sha] = _capture(cli, case_dir, src).values()
    case_json = case_dir / "case.json"
    data = case_json.read_bytes()
    case_json.chmod(0o644)
    case_json.write_bytes(data[: len(data) // 2] if damage == "truncated" else data + b"x")
    obj = case_dir / "objects" / "sha256" / sha[:2] / sha
    obj.chmod(0o644)
    obj.write_bytes(b"\xff\xd8\xff swapped picture")

    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 1, res.stdout + res.stderr
    report = json.loads(res.stdout)
    found = {(p["kind"], p["location"]) for p in report["problems"]}
    assert ("case_file_unreadable", "case.json") in found
    assert ("object_altered", obj.relative_to(case_dir).as_posix()) in found  # still checked
    assert report["log_intact"] is True and report["items"] == 1
    human = cli("verify", "--case", case_dir, "--no-record")
    assert human.exit_code == 1 and "case.json" in human.stderr
    listed = cli("list", "--case", case_dir)  # any other verb: damage, not a usage error
    assert listed.exit_code == 1 and "case.json" in listed.stderr


def test_planted_object_is_foreign_not_quarantined(
    tmp_path: Path, cli: Cli, case_dir: Path
) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"\xff\xd8\xff evidence")
    _capture(cli, case_dir, src)
    planted = b"a picture the examiner never acquired"
    name = hashlib.sha256(b"something else").hexdigest()  # a hash, but not of these bytes
    path = case_dir / "objects" / "sha256" / name[:2] / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(planted)
    rel = path.relative_to(case_dir).as_posix()
    before = len(log_entries(case_dir))

    res = cli("recover", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["recovered"] is None  # nothing signed for it
    assert path.read_bytes() == planted and not (case_dir / "quarantine").exists()
    assert len(log_entries(case_dir)) == before
    res = cli("verify", "--case", case_dir, "--json", "--no-record")
    assert res.exit_code == 1
    [problem] = json.loads(res.stdout)["problems"]
    assert (problem["kind"], problem["location"]) == ("object_foreign", rel)
    assert "foreign" in problem["detail"]
