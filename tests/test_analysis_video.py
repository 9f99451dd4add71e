"""The video detector: sampled frames, face-region flicker, container anomalies, bad input.

Test videos are generated here from the real reference photos and videos in ../shared/datasets
(a real face photo becomes a slowly panning clip; a copy of it gets a face region that
alternates brightness and noise every other frame).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from forensic.analysis import video as video_mod
from forensic.analysis.interface import AnalysisInput
from forensic.analysis.video import VideoDetector, edit_lists, flicker
from forensic.case import Case
from tests.conftest import Cli
from tests.mediatools import capture

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe not on PATH")
FACE_PHOTO = "exif-samples/jpg/exif-org/kodak-dc210.jpg"  # one frontal face at (291, 228, 54)
FACE = (291, 228, 54, 54)
CROP = (400, 300)
OUT = (480, 360)
FPS = 30


def face_clip(shared: Path, path: Path, seconds: float = 2.2, flicker_face: bool = False) -> Path:
    """A clip panning slowly over the real face photo (H.264, 480x360, 30 fps). With
    ``flicker_face`` every odd frame gets +12 levels and noise (sd 6) inside the face ellipse."""
    photo = np.asarray(Image.open(shared / FACE_PHOTO).convert("RGB"))
    rng = np.random.default_rng(7)
    sx, sy = OUT[0] / CROP[0], OUT[1] / CROP[1]
    fx, fy, fw, fh = FACE
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=FPS, options={"crf": "18", "preset": "veryfast"})
    stream.width, stream.height, stream.pix_fmt = OUT[0], OUT[1], "yuv420p"
    yy, xx = np.mgrid[0 : OUT[1], 0 : OUT[0]]
    for i in range(round(seconds * FPS)):
        x0, y0 = 130 + i // 3, 90 + i // 5  # the camera drifts right and down
        crop = photo[y0 : y0 + CROP[1], x0 : x0 + CROP[0]]
        frame = np.asarray(Image.fromarray(crop).resize(OUT, Image.Resampling.BILINEAR))
        if flicker_face and i % 2:
            frame = frame.astype(np.float64)
            bx, by = (fx - x0) * sx, (fy - y0) * sy
            bw, bh = fw * sx, fh * sy
            inside = ((xx - bx - bw / 2) / (bw / 2)) ** 2 + ((yy - by - bh / 2) / (bh / 2)) ** 2
            mask = inside <= 1.0
            frame[mask] += 12.0 + rng.normal(0, 6.0, (int(mask.sum()), 3))
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
        check=True,
        timeout=60,
    )


def analyse(
    path: Path, media_type: str = "video/mp4", faces: bool = False
) -> dict[str, dict[str, Any]]:
    """The detector without the CLI (faces off by default: the Haar cascades are the slow
    part and these tests are about other signals)."""
    result = VideoDetector(face_finder=faces).analyze(AnalysisInput(path, media_type, None))
    return {f.signal: f.as_dict() for f in result.findings}


def detect(cli: Cli, case_dir: Path) -> dict[str, dict[str, Any]]:
    res = cli("analyze", "--detect", "--all", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    return {
        a["item"]: {f["signal"]: f for f in a["detectors"].get("video", {}).get("findings", [])}
        for a in doc["analysis"]
    }


@needs_ffmpeg
def test_cli_flicker_reencode_cut_stored_and_logged(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    plain = face_clip(shared_datasets, tmp_path / "face.mp4")
    flick = face_clip(shared_datasets, tmp_path / "face-flicker.mp4", flicker_face=True)
    source = shared_datasets / "c2pa/video1.mp4"  # a camera-style file: no Lavf string
    reencoded = tmp_path / "reencoded.mp4"
    ffmpeg("-i", source, "-vf", "scale=360:-2", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "copy", reencoded)  # fmt: skip
    acquired = capture(cli, case_dir, plain, flick, source, reencoded)
    out = detect(cli, case_dir)
    by = {Path(p).name: out[sha] for p, sha in acquired.items()}

    # flicker: measured on the real face in every burst, far higher in the manipulated copy
    calm, shaky = by["face.mp4"]["video.face_flicker"], by["face-flicker.mp4"]["video.face_flicker"]
    assert calm["status"] == shaky["status"] == "info"
    assert calm["details"]["bursts_with_face"] >= 2
    assert shaky["value"] > 5 * max(calm["value"], 0.5), (calm["value"], shaky["value"])
    assert shaky["details"]["noise"] > calm["details"]["noise"]
    assert "no decision" in shaky["indicates"]["en"] and shaky["indicates"]["ko"]
    assert shaky["reference"] and shaky["limitations"]

    # container: the camera-style original names no tool, its FFmpeg re-encode does
    enc = by["video1.mp4"]["video.container.encoder"]
    assert enc["status"] == "no_evidence" and "does not prove absence" in enc["indicates"]["en"]
    re_enc = by["reencoded.mp4"]["video.container.encoder"]
    assert re_enc["status"] == "info"
    assert "FFmpeg libavformat (muxer)" in re_enc["value"]
    assert any(s["value"].startswith("Lavf") for s in re_enc["details"]["strings"])
    assert by["video1.mp4"]["video.container.creation_time"]["value"].startswith("2022-08-08")
    assert by["video1.mp4"]["video.container.edit_list"]["status"] == "no_evidence"
    for name in ("face.mp4", "video1.mp4"):
        assert by[name]["video.container.frame_rate"]["value"]["irregular_share"] == 0.0

    # frames: per-frame statistics with the sampling recorded
    frames = by["face.mp4"]["video.frames"]
    assert frames["status"] == "info"
    assert frames["details"]["sampling"]["uniform_interval_s"] == 2.0
    times = [f["time_s"] for f in frames["details"]["frames"]]
    assert times == [0.0, 2.0]  # a 2.2 s clip, one sample every 2 s
    assert all(f["faces"] >= 1 for f in frames["details"]["frames"])

    # stored: the figures beside video.json, vouched by the analysis entry, verify passes
    sha = acquired[str(flick)]
    folder = case_dir / "analysis" / sha
    assert {"video.json", "video-frames.png", "video-timeline.png"} <= {
        p.name for p in folder.iterdir()
    }
    with Image.open(folder / "video-frames.png") as sheet:
        assert sheet.format == "PNG" and sheet.width == 2 * (video_mod.THUMB_SIDE + 10)
    stored = json.loads((folder / "video.json").read_text("utf-8"))
    assert stored["detector"]["parameters"]["sample_every_s"] == 2.0
    assert "av" in stored["detector"]["libraries"]
    entries = [e for e in Case.open(case_dir).entries() if e.action == "analysis"]
    mine = [e for e in entries if e.details["item"] == sha]
    assert mine and mine[-1].details["findings"]["video"]["video.face_flicker"] == "info"
    assert f"analysis/{sha}/video-frames.png" in {r["path"] for r in mine[-1].details["files"]}
    assert cli("verify", "--case", case_dir).exit_code == 0
    # human output: wording rules hold
    res = cli("analyze", "--detect", "--case", case_dir, acquired[str(reencoded)][:12])
    assert res.exit_code == 0 and "video.container.encoder" in res.stdout
    assert "fake" not in res.stdout.lower() and "authentic" not in res.stdout.lower()


def test_contact_sheet_is_blurred(tmp_path: Path, shared_datasets: Path) -> None:
    """A thumbnail keeps no detail finer than THUMB_CELLS cells across (victim safety)."""
    rgb = np.asarray(Image.open(shared_datasets / FACE_PHOTO).convert("RGB"))
    thumb = np.asarray(video_mod.blurred_thumb(rgb), dtype=np.float64)
    assert max(thumb.shape[:2]) == video_mod.THUMB_SIDE
    # neighbouring pixels barely differ: the blur removed every edge of the original
    assert np.abs(np.diff(thumb, axis=1)).max() < 25


def test_flicker_measure_on_a_fixed_region() -> None:
    """The statistic itself: alternating face-minus-frame values raise it, a smooth drift
    (lighting change over the burst) does not."""

    def stats(diffs: list[list[tuple[float, float, float, float]]]) -> list[Any]:
        return [
            video_mod.FrameStats(
                float(n),
                True,
                "I",
                1.0,
                1.0,
                -1.0,
                0.0,
                100.0,
                1,
                (0, 0, 40, 40),
                d,
                Image.new("RGB", (4, 4)),
            )
            for n, d in enumerate(diffs)
        ]

    steady = [[(5.0 + 0.1 * k, 1.0, 1.0, 0.2) for k in range(3)] for _ in range(4)]
    drift = [[(5.0 + 3.0 * k, 1.0, 1.0, 0.2) for k in range(3)] for _ in range(4)]
    alternating = [
        [(5.0 + 8.0 * (k % 2), 1.0, 1.0, 0.2 + k % 2) for k in range(3)] for _ in range(4)
    ]
    f_steady, f_drift, f_alt = (flicker(stats(x)) for x in (steady, drift, alternating))
    assert f_steady is not None and f_drift is not None and f_alt is not None
    assert f_steady.luma < 0.01 and f_drift.luma < 0.01
    assert f_alt.luma > 8.0 and f_alt.noise > 1.0
    assert flicker(stats(steady[:1])) is None  # one burst is not a temporal measure


def test_bad_video_inputs_never_raise(
    tmp_path: Path, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = shared_datasets / "videos/doorknob-hd-no-bar.mp4"
    data = source.read_bytes()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    tail_moov = (shared_datasets / "videos/test-padded-dimensions.mp4").read_bytes()
    truncated = tmp_path / "truncated.mp4"  # moov is at the end: cut off
    truncated.write_bytes(tail_moov[: len(tail_moov) // 3])
    head_moov = tmp_path / "head-moov.mp4"  # moov first: the frames that are there are read
    head_moov.write_bytes(data[: len(data) // 3])
    damaged = tmp_path / "damaged.mp4"  # frames overwritten with noise in the middle
    rng = np.random.default_rng(3)
    mid = len(data) // 2
    damaged.write_bytes(
        data[:mid] + bytes(rng.integers(0, 256, 60_000, dtype=np.uint8)) + data[mid + 60_000 :]
    )
    for path in (empty, truncated):
        f = analyse(path)
        assert f["video.frames"]["status"] == "not_applicable"
        assert path.name in f["video.frames"]["indicates"]["en"]
        assert f["video.frames"]["indicates"]["ko"]
        assert f["video.container"]["status"] == "not_applicable"
    f = analyse(damaged)
    assert f["video.frames"]["status"] == "info"  # analysed where possible
    assert f["video.container.timing"]["status"] in ("info", "no_evidence")
    f = analyse(head_moov)
    assert f["video.frames"]["status"] == "info"
    timing = f["video.container.timing"]
    assert timing["status"] == "info"
    assert any("the header counts 120 frames" in i for i in timing["details"]["issues"])
    # an audio-only file: a clear not-applicable for the pictures, the container is still read
    if HAVE_FFMPEG:
        audio = tmp_path / "voice.m4a"
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", audio)
        f = analyse(audio, "audio/mp4")
        assert f["video.frames"]["status"] == "not_applicable"
        assert "no video stream" in f["video.frames"]["indicates"]["en"]
        assert f["video.container.encoder"]["status"] == "info"  # Lavf wrote it
    # frames over the size limit are not decoded (the limit lowered to stand in for 16K video)
    monkeypatch.setattr(video_mod, "MAX_FRAME_PIXELS", 1000)
    f = analyse(source)
    assert f["video.frames"]["status"] == "not_applicable"
    assert "exceed the limit" in f["video.frames"]["indicates"]["en"]


@needs_ffmpeg
def test_reference_videos_sampling_and_edit_lists(tmp_path: Path, shared_datasets: Path) -> None:
    doorknob = shared_datasets / "videos/doorknob-hd-no-bar.mp4"
    a = VideoDetector(face_finder=False).analyze(AnalysisInput(doorknob, "video/mp4", None))
    b = VideoDetector(face_finder=False).analyze(AnalysisInput(doorknob, "video/mp4", None))
    f = {x.signal: x.as_dict() for x in a.findings}
    # same input, same findings and byte-identical figures
    assert a.figures == b.figures and list(f.values()) == [x.as_dict() for x in b.findings]
    frames = f["video.frames"]["details"]
    assert frames["sampling"]["sample_points"] == 2  # a 4.0 s video stream, one every 2 s
    assert [x["time_s"] for x in frames["frames"]] == [0.0, 2.0]
    assert frames["frames"][0]["keyframe"] is True and frames["frames"][0]["picture_type"] == "I"
    assert f["video.face_flicker"]["status"] == "not_applicable"
    enc = f["video.container.encoder"]
    assert {"FFmpeg libavformat (muxer)", "x264 encoder (bitstream SEI)"} <= set(enc["value"])
    assert f["video.container.edit_list"]["status"] == "no_evidence"
    chair = shared_datasets / "videos/chair-19-sd-bar.mp4"
    [video, audio] = edit_lists(chair) or []
    assert (video.handler, audio.handler) == ("vide", "soun")
    assert video.entries == ((18800, 1024, 1.0),) and not video.unusual()
    # trimmed without re-encoding: the edit list hides the 1.3 s before the cut
    cut = tmp_path / "cut.mp4"
    ffmpeg("-ss", "3.3", "-i", chair, "-t", "3", "-c", "copy", cut)
    edit = video_mod.edit_list_finding(cut).as_dict()
    assert edit["status"] == "info" and "before the first shown" in edit["indicates"]["en"]
    assert 1.2 < edit["details"]["tracks"][0]["hidden_before_s"] < 1.5
    # a face-swap tool named in a tag: positive evidence, as the file states
    tagged = tmp_path / "tagged.mp4"
    ffmpeg("-i", doorknob, "-c", "copy", "-metadata", "comment=made with FaceFusion 3.0", tagged)
    enc = analyse(tagged)["video.container.encoder"]
    assert enc["status"] == "indicates" and enc["positive_proof"] is True
    assert enc["value"] == ["facefusion"]


def test_variable_frame_rate(tmp_path: Path) -> None:
    """Irregular time stamps (as a phone in low light or an editor's join writes them)."""

    def clip(path: Path, jitter: bool) -> Path:
        container = av.open(str(path), "w")
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), i * 4, np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += (40 if i % 3 else 90) if jitter else 40
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
        return path

    steady = analyse(clip(tmp_path / "cfr.mp4", False))["video.container.frame_rate"]
    shaky = analyse(clip(tmp_path / "vfr.mp4", True))["video.container.frame_rate"]
    assert steady["value"]["irregular_share"] == 0.0 and "constant" in steady["indicates"]["en"]
    assert shaky["value"]["irregular_share"] > 0.2
    assert "variable frame rate" in shaky["indicates"]["en"]
