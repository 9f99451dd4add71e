"""Image metadata records through the CLI: EXIF vs exiftool, bad input, the log, verify."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.mediatools import (
    analyze,
    capture,
    exif_absurd_jpeg,
    exif_loop_jpeg,
    jpeg_bytes,
    png_bytes,
    with_segment,
    xmp_packet,
)

KEY_FIELDS = {
    "make": "EXIF:Make",
    "model": "EXIF:Model",
    "software": "EXIF:Software",
    "datetime_original": "EXIF:DateTimeOriginal",
    "offset_time_original": "EXIF:OffsetTimeOriginal",
    "gps_latitude": "Composite:GPSLatitude",
    "gps_longitude": "Composite:GPSLongitude",
    "orientation": "EXIF:Orientation",
    "lens_make": "EXIF:LensMake",
    "lens_model": "EXIF:LensModel",
    "body_serial": "EXIF:SerialNumber",
}


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, str):
        theirs = theirs.strip() or None
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return abs(ours - theirs) < 1e-6
    return (None if ours is None else str(ours)) == (None if theirs is None else str(theirs))


def test_exif_key_fields_agree_with_exiftool(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed (Debian: libimage-exiftool-perl)")
    samples = shared_datasets / "exif-samples"
    acquired = capture(cli, case_dir, samples)
    records = analyze(cli, case_dir)
    files = sorted(
        p for p in samples.rglob("*") if p.is_file() and not p.name.startswith("LICENSE")
    )
    files = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".tif", ".tiff")]
    assert len(files) >= 60
    out = subprocess.run(
        ["exiftool", "-n", "-j", "-G0", "-EXIF:all", "-Composite:GPSLatitude",
         "-Composite:GPSLongitude", *map(str, files)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    expected = {str(Path(d["SourceFile"]).resolve()): d for d in json.loads(out.stdout)}
    by_path = {str(Path(p).resolve()): sha for p, sha in acquired.items()}
    compared = 0
    mismatches = []
    for path in files:
        key = str(path.resolve())
        fields = records[by_path[key]]["exif"]["fields"]
        for ours_name, tag in KEY_FIELDS.items():
            theirs = expected[key].get(tag)
            if theirs is not None:
                compared += 1
            if not _same(fields.get(ours_name), theirs):
                mismatches.append((path.name, ours_name, fields.get(ours_name), theirs))
    assert not mismatches
    assert compared > 150  # the comparison really covered fields


def test_invalid_samples_and_generated_bad_input_warn_never_crash(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    good_jpeg = (shared_datasets / "pdq/bridge-mods/aaa-orig.jpg").read_bytes()
    good_png = png_bytes({"parameters": "a cat\nSteps: 20, Sampler: Euler, Seed: 1"})
    made = {
        "truncated.jpg": good_jpeg[: len(good_jpeg) // 2],
        "truncated.png": good_png[: len(good_png) - 20],
        "zero.png": b"",
        "ifd-loop.jpg": exif_loop_jpeg(),
        "absurd-offsets.jpg": exif_absurd_jpeg(),
        "broken-exif.jpg": with_segment(jpeg_bytes(), 0xE1, b"Exif\x00\x00garbage!"),
        "huge-xmp.png": png_bytes(itxt={"XML:com.adobe.xmp": xmp_packet("x" * (5 << 20))}),
        "lies.jpg": png_bytes(),
        "trailing.jpg": good_jpeg + b"PK\x03\x04 hidden zip" * 10,
    }
    for name, data in made.items():
        (bad / name).write_bytes(data)
    acquired = capture(cli, case_dir, bad, shared_datasets / "exif-samples/jpg/invalid")
    records = analyze(cli, case_dir)
    sha = {Path(p).name: s for p, s in acquired.items()}
    assert set(sha) >= set(made) and len(records) == len(set(acquired.values()))

    def warnings(name: str) -> str:
        return "\n".join(records[sha[name]]["warnings"])

    assert "no end-of-image marker" in warnings("truncated.jpg")
    assert "beyond the end of the file" in warnings("truncated.png")
    assert "empty file (0 bytes)" in warnings("zero.png")
    assert "zero.png: the name says .png" in warnings("zero.png")
    assert "IFD loop" in warnings("ifd-loop.jpg")
    assert records[sha["ifd-loop.jpg"]]["exif"]["fields"]["make"] == "LoopCam"
    assert "lies beyond the end of the EXIF block" in warnings("absurd-offsets.jpg")
    assert "no valid TIFF header" in warnings("broken-exif.jpg")
    assert "over the 4194304 byte limit" in warnings("huge-xmp.png")
    assert "lies.jpg: the name says .jpg but the content is image/png" in warnings("lies.jpg")
    assert "bytes of other data after the JPEG end-of-image" in warnings("trailing.jpg")
    for name in ("ifd-loop.jpg",):
        assert records[sha[name]]["describers"]["exif"]["libraries"]["exifread"]
    # jpg/invalid/ (files that once crashed EXIF readers): a record, their XMP read, no crash.
    for name in sha:
        if name.startswith("image0"):
            assert records[sha[name]]["xmp"]["present"] is True
            assert records[sha[name]]["container"]["complete"] is True
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_record_is_logged_vouched_and_tamper_evident(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    acquired = capture(
        cli, case_dir, shared_datasets / "c2pa/A.jpg", shared_datasets / "ai-metadata"
    )
    records = analyze(cli, case_dir)
    assert set(records) == set(acquired.values())
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    meta_all = [e for e in log if e["action"] == "metadata"]
    # capture described the images, analyze --all described every item again: the last entry
    # of each item vouches for the file on disk
    last = {e["details"]["item"]: e for e in meta_all}
    assert set(last) == set(records)
    meta = list(last.values())
    for entry in meta:
        item = entry["details"]["item"]
        [file] = entry["details"]["files"]
        path = case_dir / file["path"]
        assert file["path"] == f"media/{item}/metadata.json"
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == file["sha256"]
        assert json.loads(data) == records[item]
        if records[item]["item"]["media_type"].startswith("image/"):
            assert entry["details"]["describers"]["exif"]["version"] == "1"
        assert entry["details"]["warnings"] == len(records[item]["warnings"])
    # nothing left to do; --all redoes every item
    res = cli("analyze", "--metadata", "--case", case_dir)
    assert res.exit_code == 0 and "No item needs" in res.stdout
    assert len(analyze(cli, case_dir, "--all")) == len(records)
    assert cli("verify", "--case", case_dir).exit_code == 0
    # a changed record is named by verify
    target = case_dir / meta[0]["details"]["files"][0]["path"]
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b'"v":1', b'"v":2'))
    res = cli("verify", "--case", case_dir, "--no-record")
    assert res.exit_code == 1
    assert "metadata.json" in res.stdout + res.stderr


def test_one_item_by_prefix_and_usage_errors(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    acquired = capture(cli, case_dir, shared_datasets / "c2pa/A.jpg")
    [sha] = acquired.values()
    res = cli("analyze", "--metadata", "--case", case_dir, sha[:10])
    assert res.exit_code == 0, res.stderr
    assert "Canon EOS REBEL T3" in res.stdout and "sRGB IEC61966-2.1" in res.stdout
    res = cli("analyze", "--case", case_dir, "--lang", "ko")
    assert res.exit_code == 2 and "--metadata" in res.stderr
    res = cli("analyze", "--metadata", "--case", case_dir, "ffffff")
    assert res.exit_code == 2


def test_c2pa_states(tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path) -> None:
    c2pa = shared_datasets / "c2pa"
    acquired = capture(
        cli, case_dir, *(c2pa / n for n in ("C.jpg", "A.jpg", "cloud.jpg", "XCA.jpg"))
    )
    records = analyze(cli, case_dir)
    state = {Path(p).name: records[s]["c2pa"] for p, s in acquired.items()}
    assert state["C.jpg"]["state"] == "valid"
    assert state["C.jpg"]["claim_generator"].startswith("make_test_images")
    assert state["C.jpg"]["actions"]
    assert state["A.jpg"]["state"] == "none" and state["A.jpg"]["present"] is False
    assert state["cloud.jpg"]["state"] == "remote_not_fetched"
    assert state["cloud.jpg"]["remote_url"].startswith("https://")
    assert state["XCA.jpg"]["state"] == "invalid"
    assert any(f["code"] == "assertion.dataHash.mismatch" for f in state["XCA.jpg"]["failures"])


def _sign(src: bytes, source_type: str, key_dir: Path) -> bytes:
    c2pa = pytest.importorskip("c2pa")
    info = c2pa.C2paSignerInfo(
        b"es256",
        (key_dir / "es256_certs.pem").read_bytes(),
        (key_dir / "es256_private.key").read_bytes(),
        None,
    )
    manifest = {
        "claim_generator_info": [{"name": "forensic-tests", "version": "1"}],
        "title": "generated.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            f"digitalsourcetype/{source_type}",
                        }
                    ]
                },
            }
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(c2pa.Signer.from_info(info), "image/jpeg", io.BytesIO(src), out)
    return out.getvalue()


def test_c2pa_ai_origin_signed_fixtures(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    keys = shared_datasets / "c2pa"
    src = (shared_datasets / "pdq/bridge-mods/square-256x256.jpg").read_bytes()
    made = tmp_path / "made"
    made.mkdir()
    (made / "ai.jpg").write_bytes(_sign(src, "trainedAlgorithmicMedia", keys))
    (made / "edited.jpg").write_bytes(_sign(src, "compositeWithTrainedAlgorithmicMedia", keys))
    (made / "camera.jpg").write_bytes(_sign(src, "digitalCapture", keys))
    acquired = capture(cli, case_dir, made)
    records = analyze(cli, case_dir)
    c = {Path(p).name: records[s]["c2pa"] for p, s in acquired.items()}
    assert c["ai.jpg"]["state"] == "valid" and c["ai.jpg"]["signer_untrusted"] is True
    assert c["ai.jpg"]["digital_source_types"][0].endswith("/trainedAlgorithmicMedia")
    assert c["ai.jpg"]["ai_origin"] == "made by generative AI"
    assert c["edited.jpg"]["ai_origin"] == "edited with generative AI"
    assert c["camera.jpg"]["ai_origin"] is None
    assert c["ai.jpg"]["claim_generator"].startswith("forensic-tests 1")
    res = cli("analyze", "--metadata", "--all", "--case", case_dir, "--lang", "ko")
    assert "AI 생성 출처 선언" in res.stdout


def test_xmp_digital_source_type_and_history(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    body = (
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
        ' xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"'
        ' Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        'compositeWithTrainedAlgorithmicMedia" xmp:CreatorTool="Adobe Photoshop 25.0">'
        "<xmpMM:History><rdf:Seq>"
        '<rdf:li stEvt:action="created" stEvt:softwareAgent="Adobe Photoshop 25.0"/>'
        '<rdf:li stEvt:action="saved" stEvt:when="2024-01-02T03:04:05+09:00"/>'
        "</rdf:Seq></xmpMM:History></rdf:Description>"
    )
    path = tmp_path / "xmp.jpg"
    path.write_bytes(
        with_segment(jpeg_bytes(), 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp_packet(body))
    )
    evil = tmp_path / "entity.jpg"
    evil.write_bytes(
        with_segment(
            jpeg_bytes(colour=(1, 2, 3)),
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\x00<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
            + xmp_packet(
                '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&e;</dc:title></rdf:Description>'
            ),
        )
    )
    acquired = capture(cli, case_dir, path, evil)
    records = analyze(cli, case_dir)
    rec = records[acquired[str(path)]]["xmp"]
    assert rec["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert rec["digital_source_meaning"] == "edited or composited with generative AI"
    assert rec["creator_tool"] == "Adobe Photoshop 25.0"
    assert [h["stEvt:action"] for h in rec["history"]] == ["created", "saved"]
    assert "root:" not in json.dumps(records[acquired[str(evil)]])  # no entity expansion


def test_generators_recognised(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    ai = shared_datasets / "ai-metadata"
    made = tmp_path / "made"
    made.mkdir()
    fixtures = {
        "novelai.png": (png_bytes({"Software": "NovelAI", "Source": "NovelAI Diffusion V3",
                                   "Description": "1girl", "Comment": '{"steps": 28}'}), "NovelAI"),
        "fooocus.png": (png_bytes({"parameters": '{"Prompt": "x", "Version": "Fooocus v2.1"}',
                                   "fooocus_scheme": "fooocus"}), "Fooocus"),
        "swarm.png": (png_bytes({"sui_image_params": '{"prompt": "x"}'}), "SwarmUI"),
        "midjourney.png": (png_bytes({"Description": "a castle Job ID: 1234-abcd"}), "Midjourney"),
        "invoke3.png": (png_bytes({"invokeai_metadata": '{"positive_prompt": "x"}'}), "InvokeAI"),
        "ed.png": (png_bytes({"prompt": "x", "use_stable_diffusion_model": "s"}), "Easy Diffusion"),
    }  # fmt: skip
    for name, (data, _gen) in fixtures.items():
        (made / name).write_bytes(data)
    a1111_jpeg = tmp_path / "a1111.jpg"
    from PIL import Image

    comment = "a dog\nNegative prompt: blur\nSteps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 9"
    exif = Image.Exif()
    exif[0x8769] = {0x9286: b"UNICODE\x00" + comment.encode("utf-16-be")}
    Image.new("RGB", (16, 16)).save(a1111_jpeg, "JPEG", exif=exif)
    acquired = capture(cli, case_dir, ai, made, a1111_jpeg)
    records = analyze(cli, case_dir)
    gens = {
        Path(p).name: [
            g["generator"] for g in records[s].get("generator", {}).get("generators", [])
        ]
        for p, s in acquired.items()
    }
    expected = {
        "automatic1111_cropped.png": "AUTOMATIC1111",
        "text_after_idat.png": "AUTOMATIC1111",
        "img2img_cropped.png": "ComfyUI",
        "invokeai_dream1.png": "InvokeAI",
        "a1111.jpg": "AUTOMATIC1111",
        **{name: gen for name, (_d, gen) in fixtures.items()},
    }
    for name, gen in expected.items():
        assert gen in gens[name], (name, gens[name])
    # every file in ai-metadata/ is handled: recognised, or (the empty one) a warning
    for path in ai.iterdir():
        if path.suffix == ".png":
            rec = records[acquired[str(path)]]
            assert gens[path.name] or rec["warnings"], path.name
    after = records[acquired[str(ai / "text_after_idat.png")]]["generator"]["text_chunks"]
    assert any(c["after_idat"] and c["keyword"] == "parameters" for c in after)
    a1111 = records[acquired[str(ai / "automatic1111_cropped.png")]]["generator"]["generators"][0]
    assert a1111["details"]["prompt"] == "photo of a duck"
    assert a1111["details"]["settings"]["Seed"] == "235284042"
    comfy = records[acquired[str(ai / "img2img_cropped.png")]]["generator"]["generators"][0]
    assert "KSampler" in comfy["details"]["node_types"]
    assert (
        records[acquired[str(a1111_jpeg)]]["generator"]["generators"][0]["details"][
            "negative_prompt"
        ]
        == "blur"
    )


def test_thumbnail_difference_and_quantisation(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    from PIL import Image, ImageOps

    original = shared_datasets / "exif-samples/jpg/Canon_40D.jpg"
    with Image.open(original) as im:
        exif = im.info["exif"]
        edited = ImageOps.invert(im.convert("RGB"))
    edited_path = tmp_path / "edited.jpg"
    edited.save(edited_path, "JPEG", quality=83, exif=exif)
    acquired = capture(cli, case_dir, original, edited_path)
    records = analyze(cli, case_dir)
    orig, edit = records[acquired[str(original)]], records[acquired[str(edited_path)]]
    assert orig["thumbnail"]["present"] and orig["thumbnail"]["differs"] is False
    assert edit["thumbnail"]["present"] and edit["thumbnail"]["differs"] is True
    assert edit["jpeg_quant"]["family"] == "ijg_standard"
    assert edit["jpeg_quant"]["estimated_quality"] == 83
    assert edit["exif"]["fields"]["model"] == "Canon EOS 40D"  # the kept camera EXIF
    assert orig["icc"]["profile"]["description"] == "sRGB IEC61966-2.1"


def test_capture_records_metadata_and_show_displays_it(
    cli: Any, case_dir: Path, tmp_path: Path, shared_datasets: Path, monkeypatch: Any
) -> None:
    """Metadata is produced at capture time for new images, logged, and shown by `show`."""
    monkeypatch.setenv("COLUMNS", "200")
    src = tmp_path / "evidence"
    src.mkdir()
    photo = shared_datasets / "exif-samples" / "jpg" / "Canon_40D.jpg"
    (src / "photo.jpg").write_bytes(photo.read_bytes())
    (src / "notes.txt").write_text("not an image")
    res = cli("capture", "--case", case_dir, src)
    assert res.exit_code == 0, res.stderr
    log = json.loads(cli("log", "--case", case_dir, "--json").stdout)["entries"]
    described = [e["subject"] for e in log if e["action"] == "metadata"]
    sha = __import__("hashlib").sha256(photo.read_bytes()).hexdigest()
    assert described == [f"sha256:{sha}"]  # the text file is not described at capture
    doc = json.loads(cli("show", "--case", case_dir, sha, "--json").stdout)["item"]
    assert doc["metadata"] is not None
    assert "Canon" in json.dumps(doc["metadata"])
    human = cli("show", "--case", case_dir, sha[:10]).stdout
    assert "Canon EOS 40D" in human
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0
