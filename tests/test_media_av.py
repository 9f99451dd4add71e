"""Video metadata, PDQ / vPDQ conformance, `forensic match` and `export --hash-list`, end to end.

Test media are generated here from the real reference photos and videos in ../shared/datasets
(never copied into the repository).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from forensic.media.matching import DEFAULT_THRESHOLD
from forensic.media.perceptual import hamming, pdq_image, vpdq_video
from forensic.media.video import probe_video
from tests.casetools import log_entries, make_writable
from tests.conftest import Cli

HAVE_FFPROBE = shutil.which("ffprobe") is not None


# -- helpers -----------------------------------------------------------------------------------
def _jpeg(im: Image.Image, path: Path, quality: int) -> Path:
    im.convert("RGB").save(path, "JPEG", quality=quality)
    return path


def _variants(src: Path, out: Path) -> list[Path]:
    """Crops, rescales, recompressions, a rotation and a mirror image of one photo."""
    im = Image.open(src).convert("RGB")
    w, h = im.size
    stem = src.stem
    made = [
        _jpeg(
            im.crop((int(w * 0.05), int(h * 0.05), int(w * 0.95), int(h * 0.95))),
            out / f"{stem}-crop5.jpg",
            90,
        ),
        _jpeg(im.crop((0, int(h * 0.07), int(w * 0.93), h)), out / f"{stem}-crop-corner7.jpg", 90),
        _jpeg(im.crop((int(w * 0.10), 0, w, h)), out / f"{stem}-crop-left10.jpg", 90),
        _jpeg(im.resize((w // 2, h // 2), Image.LANCZOS), out / f"{stem}-half.jpg", 85),
        _jpeg(im.resize((w // 4, h // 4), Image.BILINEAR), out / f"{stem}-quarter.jpg", 85),
        _jpeg(im, out / f"{stem}-q20.jpg", 20),
        _jpeg(
            im.crop((int(w * 0.04), int(h * 0.06), int(w * 0.97), int(h * 0.96))).resize(
                (w * 2 // 3, h * 2 // 3)
            ),
            out / f"{stem}-telegram.jpg",
            60,
        ),
        _jpeg(im.transpose(Image.Transpose.ROTATE_90), out / f"{stem}-rot90.jpg", 85),
        _jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), out / f"{stem}-mirror.jpg", 85),
    ]
    png = out / f"{stem}-as.png"
    im.resize((w * 3 // 4, h * 3 // 4)).save(png)
    made.append(png)
    return made


def _capture(cli: Cli, case: Path, *paths: Path) -> None:
    res = cli("capture", "--case", case, *paths)
    assert res.exit_code == 0, res.stderr


def _match(cli: Cli, case: Path, *args: Any) -> dict[str, Any]:
    res = cli("match", "--case", case, "--json", *args)
    assert res.exit_code == 0, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def _make_clip(path: Path, frames: int = 20, rotation: int | None = None) -> Path:
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    if rotation is not None:
        stream.set_display_rotation(rotation)
    for i in range(frames):
        a = np.zeros((48, 64, 3), np.uint8)
        a[:, (i * 3) % 64 :] = 200
        a[(i * 2) % 48 :, :, 1] = 90
        for packet in stream.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


# -- PDQ / vPDQ conformance ----------------------------------------------------------------------
def test_pdq_matches_meta_reference_hashes(shared_datasets: Path) -> None:
    root = shared_datasets / "pdq"
    rows = list(csv.DictReader((root / "expected_pdq.csv").open()))
    assert len(rows) >= 18
    distances = {r["path"]: hamming(pdq_image(root / r["path"]).hex, r["pdq_hex"]) for r in rows}
    worst = max(distances.values())
    print(f"PDQ vs Meta reference: {len(rows)} images, worst distance {worst} bits")
    assert worst <= 16, distances
    assert sum(distances.values()) / len(rows) <= 8  # measured: mean 4.1 bits


@pytest.mark.parametrize("name", ["chair-19-sd-bar", "doorknob-hd-no-bar", "pattern-hd-no-bar"])
def test_vpdq_frames_match_reference(shared_datasets: Path, name: str) -> None:
    video = shared_datasets / "videos" / f"{name}.mp4"
    ref = [
        line.split(",")
        for line in (shared_datasets / "videos" / f"{name}.vpdq.txt").read_text().splitlines()
        if line.strip()
    ]
    frames, notes = vpdq_video(video, seconds_per_hash=0)
    assert not notes
    assert len(frames) == len(ref)
    compared = [
        hamming(f.hex, r[2])
        for f, r in zip(frames, ref, strict=True)
        if int(r[1]) >= 50  # vPDQ ignores flat frames (quality < 50): their hash is noise
    ]
    for f, r in zip(frames, ref, strict=True):
        assert f.frame == int(r[0])
        assert abs(f.seconds - float(r[3])) < 0.002
        assert abs(f.quality - int(r[1])) <= 10 or int(r[1]) < 50
    within = sum(d <= 16 for d in compared) / len(compared)
    print(f"vPDQ {name}: {len(compared)} frames, {within:.1%} within 16 bits, max {max(compared)}")
    assert within >= 0.95
    assert max(compared) <= 31


# -- video metadata ------------------------------------------------------------------------------
def test_video_metadata_and_ffprobe_second_reading(shared_datasets: Path, tmp_path: Path) -> None:
    meta = probe_video(shared_datasets / "videos" / "chair-19-sd-bar.mp4", thumbnails=3)
    video = next(s for s in meta["streams"] if s["type"] == "video")
    assert (video["codec"], video["width"], video["height"], video["fps"]) == (
        "h264",
        480,
        720,
        30.0,
    )
    assert video["frames"] == 564 and video["handler"] == "VideoHandler"
    assert meta["container"]["duration_s"] == pytest.approx(18.8, abs=0.05)
    assert meta["container"]["encoder"] == "Lavf56.40.101"
    assert meta["keyframes"]["count"] >= 1 and meta["keyframes"]["seconds"][0] == 0.0
    assert [t["seconds"] for t in meta["thumbnails"]] == sorted(
        t["seconds"] for t in meta["thumbnails"]
    )
    assert all(t["jpeg"][:2] == b"\xff\xd8" for t in meta["thumbnails"])
    c2pa = probe_video(shared_datasets / "c2pa" / "video1.mp4")
    assert c2pa["container"]["creation_time"] == "2022-08-08T21:49:00.000000Z"
    rotated = probe_video(_make_clip(tmp_path / "rot.mp4", rotation=90))
    assert next(s for s in rotated["streams"] if s["type"] == "video")["rotation"] == 90
    if not HAVE_FFPROBE:
        pytest.skip("ffprobe not on PATH: the second reading is not taken")
    for result in (meta, c2pa, rotated):
        assert result["ffprobe"]["format"]["format_name"] == result["container"]["format"]
        assert result["disagreements"] == [], result["disagreements"]
        assert result["warnings"] == []


def test_video_bad_input_warns_never_raises(shared_datasets: Path, tmp_path: Path) -> None:
    # audio only
    audio = tmp_path / "voice.m4a"
    container = av.open(str(audio), "w", format="mp4")
    stream = container.add_stream("aac", rate=8000)
    for i in range(5):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 8000, i * 1024
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    result = probe_video(audio)
    assert result["warnings"][0] == "the file has no video stream"
    assert [s["type"] for s in result["streams"]] == ["audio"]
    # unknown codec: a Matroska track whose codec id nobody knows
    mkv = _make_clip(tmp_path / "ok.mkv")
    data = mkv.read_bytes()
    assert data.count(b"V_MPEG4/ISO/ASP") == 1
    unknown = tmp_path / "unknown.mkv"
    unknown.write_bytes(data.replace(b"V_MPEG4/ISO/ASP", b"V_QQQQQ/ISO/QQQ"))
    result = probe_video(unknown)
    assert "video stream 0: unknown codec, nothing decoded" in result["warnings"]
    # a file that lies about its type
    liar = tmp_path / "holiday.jpg"
    shutil.copy(shared_datasets / "videos" / "doorknob-hd-no-bar.mp4", liar)
    result = probe_video(liar)
    assert result["warnings"][0].startswith("the file name ends in .jpg but the content is mov")
    # not media at all, and a truncated video
    text = tmp_path / "clip.mp4"
    text.write_text("not a video\n")
    assert probe_video(text)["warnings"][0].startswith("not a readable media container")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((shared_datasets / "videos" / "doorknob-hd-no-bar.mp4").read_bytes()[:5000])
    assert probe_video(cut)["warnings"]


# -- forensic match ----------------------------------------------------------------------------
PHOTOS = (
    "exif-samples/jpg/exif-org/nikon-e950.jpg",
    "exif-samples/jpg/exif-org/fujifilm-dx10.jpg",
    "exif-samples/jpg/exif-org/olympus-c960.jpg",
    "exif-samples/jpg/exif-org/sony-d700.jpg",
    "pdq/reg-test-input/dih/bridge-1-original.jpg",
)
UNRELATED = (
    "exif-samples/jpg/exif-org/canon-ixus.jpg",
    "exif-samples/jpg/exif-org/fujifilm-finepix40i.jpg",
    "exif-samples/jpg/exif-org/kodak-dc210.jpg",
    "exif-samples/jpg/exif-org/kodak-dc240.jpg",
    "exif-samples/jpg/exif-org/ricoh-rdc5300.jpg",
    "exif-samples/jpg/exif-org/sanyo-vpcsx550.jpg",
    "exif-samples/jpg/exif-org/sony-cybershot.jpg",
    "exif-samples/jpg/exif-org/sony-powershota5.jpg",
    "exif-samples/jpg/Reconyx_HC500_Hyperfire.jpg",
    "exif-samples/jpg/Canon_PowerShot_S40.jpg",
    "pdq/reg-test-input/pen-and-coaster.png",
)


def test_match_finds_every_variant_and_nothing_else(
    cli: Cli, case_dir: Path, shared_datasets: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "telegram-dump"
    evidence.mkdir()
    truth: dict[str, str] = {}  # captured file name -> original it was made from
    for rel in PHOTOS:
        for made in _variants(shared_datasets / rel, evidence):
            truth[made.name] = Path(rel).name
    for rel in UNRELATED:
        shutil.copy(shared_datasets / rel, evidence / Path(rel).name)
    (evidence / "chat.txt").write_text("not a picture\n")
    _capture(cli, case_dir, evidence)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in evidence.iterdir()}
    queries = [shared_datasets / rel for rel in PHOTOS]
    items_before = len([e for e in log_entries(case_dir) if e["action"] == "capture"])

    doc = _match(cli, case_dir, *queries)

    found: dict[tuple[str, str], int] = {}
    for m in doc["matches"]:
        assert m["name"] in truth, f"false match: {m}"
        assert truth[m["name"]] == Path(m["query"]).name, f"false match: {m}"
        found[(Path(m["query"]).name, m["name"])] = m["distance"]
    missed = [n for n, orig in truth.items() if (orig, n) not in found]
    assert not missed, missed
    print(f"match: {len(found)} variants found, worst distance {max(found.values())}")
    assert max(found.values()) <= DEFAULT_THRESHOLD
    # the query photos were read, not acquired, and the originals were left alone
    assert doc["acquired"] is False
    assert len([e for e in log_entries(case_dir) if e["action"] == "capture"]) == items_before
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in evidence.iterdir()} == before
    entries = log_entries(case_dir)
    perceptual = [e for e in entries if e["action"] == "perceptual"]
    assert len(perceptual) == len(truth) + len(UNRELATED)  # one per image, none for chat.txt
    for entry in perceptual:
        [record] = entry["details"]["files"]
        assert record["path"] == f"media/{entry['details']['item']}/perceptual.json"
        assert entry["details"]["tool"]["libraries"]["pdqhash"]
    [logged] = [e for e in entries if e["action"] == "match"]
    shas = {hashlib.sha256(q.read_bytes()).hexdigest() for q in queries}
    assert {q["sha256"] for q in logged["details"]["queries"]} == shas
    assert {m["query"] for m in logged["details"]["matches"]} == shas
    assert "exif-org" not in json.dumps(logged) and "bridge" not in json.dumps(logged)
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr
    # a second search reuses the stored hashes: no new perceptual entries
    again = _match(cli, case_dir, queries[0], "--threshold", "10")
    assert again["perceptual"]["computed"] == []
    assert all(m["distance"] <= 10 for m in again["matches"])


def test_match_video_frames_within_and_human_table(
    cli: Cli,
    case_dir: Path,
    shared_datasets: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # a terminal wide enough for the table
    evidence = tmp_path / "ev"
    evidence.mkdir()
    video = shared_datasets / "videos" / "pattern-hd-no-bar.mp4"
    shutil.copy(video, evidence / "clip.mp4")
    photo = shared_datasets / "exif-samples/jpg/exif-org/nikon-e950.jpg"
    shutil.copy(photo, evidence / "a.jpg")
    _jpeg(Image.open(photo), evidence / "a-recompressed.jpg", 35)
    shutil.copy(shared_datasets / "exif-samples/jpg/exif-org/kodak-dc240.jpg", evidence / "b.jpg")
    _capture(cli, case_dir, evidence)
    # a still taken from the video at 2 s (a frame vPDQ hashes at one frame per second)
    with av.open(str(video)) as container:
        still = next(f for i, f in enumerate(container.decode(video=0)) if i == 60).to_image()
    query = tmp_path / "still.png"
    still.save(query)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")

    # a query that is not a readable image stops the search before anything is logged
    entries = len(log_entries(case_dir))
    res = cli("match", "--case", case_dir, query, bad, "--within")
    assert res.exit_code == 2, res.stderr
    assert f"{bad}: not an image this tool can read" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert len(log_entries(case_dir)) == entries
    res = cli("match", "--case", case_dir, query, "--within")
    assert res.exit_code == 0, res.stderr
    assert "not added to the case" in res.stdout
    assert "clip.mp4" in res.stdout and "2.0 s" in res.stdout

    doc = _match(cli, case_dir, query, "--within")
    [hit] = doc["matches"]
    assert hit["kind"] == "video" and hit["name"] == "clip.mp4" and hit["seconds"] == 2.0
    assert hit["distance"] <= 8
    pairs = {frozenset((m["query_name"], m["name"])) for m in doc["within"]["matches"]}
    assert frozenset(("a.jpg", "a-recompressed.jpg")) in pairs
    assert all("b.jpg" not in p for p in pairs)
    # video record: frame hashes and thumbnails, every file vouched for
    clip_id = hit["item"]
    record = json.loads((case_dir / "media" / clip_id / "perceptual.json").read_text())
    assert record["kind"] == "video" and len(record["vpdq"]["frames"]) == 7
    assert [t["file"] for t in record["thumbnails"]] == [f"thumb-{n:02d}.jpg" for n in range(6)]
    entry = next(
        e
        for e in log_entries(case_dir)
        if e["action"] == "perceptual" and e["details"]["item"] == clip_id
    )
    assert len(entry["details"]["files"]) == 7
    assert cli("verify", "--case", case_dir).exit_code == 0


def test_match_usage_errors_and_korean(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    res = cli("match", "--case", case_dir)
    assert res.exit_code == 2 and "give one or more photos" in res.stderr
    res = cli("match", "--case", case_dir, "--within", "--threshold", "300")
    assert res.exit_code == 2 and "--threshold" in res.stderr
    res = cli("match", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 2 and "찾을 사진" in res.stderr
    missing = tmp_path / "nope.jpg"
    res = cli("match", "--case", case_dir, missing)
    assert res.exit_code == 2 and f"{missing}: no such file" in res.stderr


def test_tampered_perceptual_record_is_caught(
    cli: Cli, case_dir: Path, shared_datasets: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    src = shared_datasets / "exif-samples/jpg/exif-org/nikon-e950.jpg"
    shutil.copy(src, evidence / "a.jpg")
    _jpeg(Image.open(src), evidence / "a-copy.jpg", 40)
    _capture(cli, case_dir, evidence)
    assert len(_match(cli, case_dir, "--within")["within"]["matches"]) == 1
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    path = case_dir / "media" / sha / "perceptual.json"
    make_writable(path)
    record = json.loads(path.read_text())
    record["pdq"]["hex"] = "0" * 64
    path.write_text(json.dumps(record))
    doc = _match(cli, case_dir, "--within")
    assert doc["within"]["matches"] == []
    assert "altered since it was recorded" in doc["record_problems"][0]
    assert cli("verify", "--case", case_dir).exit_code == 1


# -- export --hash-list ---------------------------------------------------------------------------
def test_export_hash_list_csv_and_json(
    cli: Cli, case_dir: Path, shared_datasets: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    photo = evidence / "photo.jpg"
    shutil.copy(shared_datasets / "exif-samples/jpg/exif-org/nikon-e950.jpg", photo)
    clip = _make_clip(evidence / "clip.mp4", frames=25)
    (evidence / "notes.txt").write_text("hello\n")
    _capture(cli, case_dir, evidence)

    out_csv = tmp_path / "takedown.csv"
    res = cli("export", "--case", case_dir, "--hash-list", out_csv)
    assert res.exit_code == 0, res.stderr
    rows = {r["sha256"]: r for r in csv.DictReader(out_csv.open())}
    assert len(rows) == 3
    for path in (photo, clip, evidence / "notes.txt"):
        data = path.read_bytes()
        row = rows[hashlib.sha256(data).hexdigest()]
        assert row["md5"] == hashlib.md5(data).hexdigest()
        assert row["size"] == str(len(data))
    photo_row = rows[hashlib.sha256(photo.read_bytes()).hexdigest()]
    assert photo_row["pdq_hex"] == pdq_image(photo).hex and photo_row["kind"] == "image"
    clip_row = rows[hashlib.sha256(clip.read_bytes()).hexdigest()]
    assert clip_row["kind"] == "video" and int(clip_row["vpdq_frames"]) == 3
    assert len(clip_row["vpdq"].split(";")) == 3
    text = out_csv.read_text()
    assert "photo.jpg" not in text and "notes.txt" not in text  # hashes only, no names

    out_json = tmp_path / "takedown.json"
    doc = json.loads(cli("export", "--case", case_dir, "--hash-list", out_json, "--json").stdout)
    assert doc["ok"] and doc["hash_list"]["items"] == 3 and doc["hash_list"]["with_vpdq"] == 1
    body = json.loads(out_json.read_text())
    assert set(body["services"]) == {"stopncii", "take_it_down", "dsc_korea"}
    assert doc["hash_list"]["sha256"] == hashlib.sha256(out_json.read_bytes()).hexdigest()
    logged = [e for e in log_entries(case_dir) if e["action"] == "export-hash-list"]
    assert [e["details"]["hash_list"]["format"] for e in logged] == ["csv", "json"]
    assert logged[1]["details"]["hash_list"]["sha256"] == doc["hash_list"]["sha256"]
    assert cli("verify", "--case", case_dir).exit_code == 0

    res = cli("export", "--case", case_dir, "--hash-list", out_csv)
    assert res.exit_code == 2 and "already exists" in res.stderr
    assert cli("export", "--case", case_dir, "--hash-list", out_csv, "--force").exit_code == 0
    res = cli("export", "--case", case_dir, "--hash-list", tmp_path / "list.txt")
    assert res.exit_code == 2 and "must end in .csv or .json" in res.stderr
    res = cli("export", "--case", case_dir, "--hash-list", out_json, "--out", tmp_path / "b")
    assert res.exit_code == 2
    res = cli("export", "--case", case_dir)
    assert res.exit_code == 2 and "--hash-list" in res.stderr
    assert not (tmp_path / "b").exists() and os.path.exists(out_json)


def test_recompressed_jpeg_in_memory_is_close() -> None:
    """PDQ itself: a recompressed copy of a generated picture stays within a few bits."""
    rng = np.random.default_rng(7)
    base = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(base).resize((512, 512), Image.BICUBIC)
    buf_a, buf_b = io.BytesIO(), io.BytesIO()
    im.save(buf_a, "PNG")
    im.save(buf_b, "JPEG", quality=30)
    a = pdq_image(buf_a)
    b = pdq_image(buf_b)
    assert a.quality >= 50 and hamming(a.hex, b.hex) <= 16


def test_capture_describes_video_through_the_registry(
    cli: Any, case_dir: Path, tmp_path: Path, shared_datasets: Path
) -> None:
    video = shared_datasets / "videos" / "chair-19-sd-bar.mp4"
    res = cli("capture", "--case", case_dir, "--json", video)
    assert res.exit_code == 0, res.stderr
    [acq] = json.loads(res.stdout)["acquired"]
    assert acq["media_type"] == "video/mp4"
    doc = json.loads(cli("show", "--case", case_dir, acq["sha256"], "--json").stdout)["item"]
    video_record = doc["metadata"]["video"]
    assert video_record["streams"], video_record
    assert any(
        s.get("type") == "video" or s.get("kind") == "video" for s in video_record["streams"]
    )
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0
