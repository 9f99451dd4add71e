"""The Stable Diffusion invisible watermark (invisible-watermark dwtDct): the decoder agrees bit
for bit with the real library (golden files made by tests/assets/make_sd_watermark_golden.py),
finds the payloads it embeds, does not fire on untouched reference photos, handles bad input,
and reports positive proof end to end through ``forensic analyze --detect``."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis.interface import AnalysisInput
from forensic.analysis.sd_watermark import (
    PAYLOADS,
    SIGNAL,
    SdWatermarkDetector,
    best_matches,
    binomial_tail,
    decode_bits,
    haar_ll,
    max_errors,
)
from tests.conftest import Cli
from tests.mediatools import capture
from tests.sd_watermark_encoder import bits_of, encode
from tests.test_analysis import detect, findings, verify_ok

ASSETS = Path(__file__).resolve().parent / "assets"
GOLDEN = json.loads((ASSETS / "sd_watermark_golden.json").read_text("utf-8"))
SD1 = bits_of(b"StableDiffusionV1")
SDXL = list(next(p for p in PAYLOADS if p.name == "SDXL").bits)
#: untouched photos are decoded on a central crop of at most this side (keeps the test fast;
#: the full-resolution campaign is in docs/detection.md)
FP_SIDE = 768


def rgb_of(path: Path) -> NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def crop(shared: Path, name: str, side: int = 256) -> NDArray[np.uint8]:
    c = GOLDEN["crops"].get(name)
    src, (x, y) = (c["source"], c["left_top"]) if c else (name, (0, 0))
    with Image.open(shared / src) as im:
        return np.asarray(im.convert("RGB").crop((x, y, x + side, y + side)), dtype=np.uint8)


def embed(rgb: NDArray[np.uint8], bits: list[int], *, as_float: bool = False) -> Any:
    """The test encoder applied as the SD scripts do: RGB -> BGR, encode, back to RGB (sgm and
    diffusers: on float32 0..255, truncated to uint8 when saved)."""
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if not as_float:
        return np.ascontiguousarray(encode(bgr, bits)[:, :, ::-1])
    out = encode(bgr.astype(np.float32), bits)[:, :, ::-1]
    return np.ascontiguousarray((np.clip(out / 255.0, 0.0, 1.0) * 255.0).astype(np.uint8))


def jpeg(rgb: NDArray[np.uint8], quality: int, subsampling: int) -> NDArray[np.uint8]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=subsampling)
    return rgb_of_bytes(buf.getvalue())


def rgb_of_bytes(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def match_of(rgb: NDArray[np.uint8], payload: str) -> tuple[bool, int]:
    m = next(m for m in best_matches(rgb) if m.payload.name == payload)
    return m.matched, m.errors


def bitstring(bits: NDArray[np.uint8]) -> str:
    return "".join(str(int(b)) for b in bits)


def test_golden_pngs_decode_as_the_real_library_does() -> None:
    for png, payload in (("sd1.png", "StableDiffusionV1"), ("sdxl.png", "SDXL")):
        rgb = rgb_of(ASSETS / f"sd_watermark_{png}")
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        # bit for bit what WatermarkDecoder('bits', n).decode(bgr, 'dwtDct') returned
        for n, want in GOLDEN["decoded"][png].items():
            assert bitstring(decode_bits(bgr, int(n))) == want, (png, n)
        best = best_matches(rgb)[0]
        assert best.payload.name == payload and best.errors == 0 and best.matched
        assert best.variant == "bgr"
    # a wrong guess of the payload length decodes to noise that matches nothing
    other = decode_bits(np.ascontiguousarray(rgb_of(ASSETS / "sd_watermark_sd1.png")), 48)
    assert int(np.count_nonzero(other != np.asarray(SDXL))) > max_errors(48)


def test_thresholds_follow_the_binomial_chance() -> None:
    assert [max_errors(len(p.bits)) for p in PAYLOADS] == [13, 2, 4]  # 136, 32, 48 bits
    assert binomial_tail(136, 13) < 1e-23 and binomial_tail(32, 2) < 2e-7
    assert binomial_tail(48, 4) < 1e-9 and binomial_tail(32, 3) > 1e-6  # 3 of 32: too likely
    assert binomial_tail(8, 8) == 1.0 and binomial_tail(4, 0) == 1 / 16


def test_real_library_crops_and_test_encoder_faithful(shared_datasets: Path) -> None:
    # the untouched crops: same bits as the real decoder, and the same LL band as pywt
    for name in ("sd1", "sdxl"):
        bgr = np.ascontiguousarray(crop(shared_datasets, name)[:, :, ::-1])
        for n, want in GOLDEN["decoded"][f"{name}_crop"].items():
            assert bitstring(decode_bits(bgr, int(n))) == want
    import cv2

    bgr = np.ascontiguousarray(crop(shared_datasets, "sd1")[:, :, ::-1])
    ll = haar_ll(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:, :, 1])
    assert hashlib.sha256(ll.tobytes()).hexdigest() == GOLDEN["ll_sha256_sd1_crop_u"]
    # the test encoder reproduces the real encoder's output byte for byte
    rgb = crop(shared_datasets, "encoder")
    out = encode(np.ascontiguousarray(rgb[:, :, ::-1]), bits_of(b"SDV2"))
    assert hashlib.sha256(out.tobytes()).hexdigest() == GOLDEN["encoder_sdv2_bgr_sha256"]


def test_encoded_crops_match_and_what_removes_it(shared_datasets: Path) -> None:
    rgb = crop(shared_datasets, "exif-samples/jpg/Canon_40D.jpg", 512)
    sd1, sdxl = embed(rgb, SD1), embed(rgb, SDXL, as_float=True)
    assert match_of(sd1, "StableDiffusionV1") == (True, 0)
    assert match_of(sdxl, "SDXL")[0] is True
    assert match_of(embed(rgb, bits_of(b"SDV2")), "SDV2") == (True, 0)
    # RGB handed to the library as if BGR (some integrations): found via the swapped variant
    swapped = embed(np.ascontiguousarray(rgb[:, :, ::-1]), SD1)[:, :, ::-1]
    m = best_matches(np.ascontiguousarray(swapped))[0]
    assert m.matched and m.variant == "rgb_as_bgr"
    assert not any(m.matched for m in best_matches(rgb))  # the untouched crop
    # JPEG q95 keeping full-resolution chroma (4:4:4): still found
    assert match_of(jpeg(sd1, 95, 0), "StableDiffusionV1") == (True, 0)
    # documented limits: 4:2:0 chroma subsampling (Pillow's default, most phones and sites),
    # and q70 after a resize, remove it
    assert match_of(jpeg(sd1, 95, 2), "StableDiffusionV1")[0] is False
    small = np.asarray(Image.fromarray(sd1).resize((384, 384), Image.Resampling.BICUBIC))
    assert not any(m.matched for m in best_matches(jpeg(small, 70, 2)))


def test_untouched_reference_photos_do_not_match(shared_datasets: Path) -> None:
    files = sorted(
        p
        for folder in ("exif-samples", "pdq")
        for p in (shared_datasets / folder).rglob("*")
        if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
    )
    checked, closest = 0, 10**9
    for path in files:
        try:
            with Image.open(path) as im:
                im.draft("RGB", (FP_SIDE * 2, FP_SIDE * 2))  # JPEG: decode at a reduced scale
                if im.mode in ("L", "LA", "1", "I", "F") or im.mode.startswith("I;16"):
                    continue
                rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        except Exception:
            continue  # the broken files of exif-samples/jpg/invalid: covered elsewhere
        h, w = rgb.shape[:2]
        if h * w < 256 * 256:
            continue
        y0, x0 = max(0, (h - FP_SIDE) // 2), max(0, (w - FP_SIDE) // 2)
        matches = best_matches(np.ascontiguousarray(rgb[y0 : y0 + FP_SIDE, x0 : x0 + FP_SIDE]))
        assert not any(m.matched for m in matches), (path, matches[0].as_dict())
        closest = min(closest, min(m.errors - m.allowed for m in matches))
        checked += 1
    print(f"sd_watermark false positives: 0 of {checked}; closest {closest} bits over")
    assert checked >= 52, checked
    assert closest > 0


def analyze_file(path: Path) -> dict[str, Any]:
    [f] = SdWatermarkDetector().analyze(AnalysisInput(path, "image/png", None)).findings
    return f.as_dict()


def test_bad_inputs_never_raise(tmp_path: Path) -> None:
    base = rgb_of(ASSETS / "sd_watermark_sd1.png")
    grey16 = np.asarray(Image.fromarray(base).convert("L"), np.uint16) * 257
    cases = {
        "tiny.png": Image.new("RGB", (200, 200), (10, 20, 30)),
        "grey.png": Image.fromarray(base).convert("L"),
        "deep.png": Image.fromarray(grey16),
        "cmyk.jpg": Image.fromarray(base).convert("CMYK"),
    }
    out = {}
    for name, im in cases.items():
        im.save(tmp_path / name, **({"quality": 95} if name.endswith(".jpg") else {}))
        out[name] = analyze_file(tmp_path / name)
    (tmp_path / "broken.png").write_bytes((ASSETS / "sd_watermark_sd1.png").read_bytes()[:5000])
    out["broken.png"] = analyze_file(tmp_path / "broken.png")
    assert out["tiny.png"]["status"] == "not_applicable"
    assert "too small" in out["tiny.png"]["indicates"]["en"]
    for name in ("grey.png", "deep.png"):
        assert out[name]["status"] == "not_applicable"
        assert "greyscale" in out[name]["indicates"]["en"]
    # CMYK JPEG (Pillow writes it without chroma subsampling), read back through RGB: kept
    assert out["cmyk.jpg"]["status"] == "indicates" and out["cmyk.jpg"]["positive_proof"]
    assert out["broken.png"]["status"] == "not_applicable"


def test_cli_positive_proof_end_to_end(
    tmp_path: Path, cli: Cli, case_dir: Path, shared_datasets: Path
) -> None:
    golden = ASSETS / "sd_watermark_sd1.png"
    plain = tmp_path / "plain.png"
    Image.fromarray(crop(shared_datasets, "sd1")).save(plain)
    acquired = capture(cli, case_dir, golden, plain)
    out = detect(cli, case_dir, "--all")
    f = findings(out[acquired[str(golden)]])[SIGNAL]
    assert f["status"] == "indicates" and f["positive_proof"] is True
    assert f["value"] == {"payload": "StableDiffusionV1", "bit_error_rate": 0.0}
    best = f["details"]["matches"][0]
    assert best["bit_errors"] == 0 and best["decoded_bits"] == GOLDEN["decoded"]["sd1.png"]["136"]
    assert best["random_match_chance"] < 1e-40 and len(f["details"]["matches"]) == 3
    assert f["threshold"]["StableDiffusionV1"] == 13 and f["limitations"]
    assert "StableDiffusionV1" in f["indicates"]["en"] and f["indicates"]["ko"]
    none = findings(out[acquired[str(plain)]])[SIGNAL]
    assert none["status"] == "no_evidence" and none["positive_proof"] is False
    assert "this does not prove absence" in none["indicates"]["en"]
    stored = json.loads(
        (case_dir / "analysis" / acquired[str(golden)] / "sd_watermark.json").read_text("utf-8")
    )
    assert stored["detector"]["parameters"]["scales"] == [0, 36, 36]
    res = cli("analyze", "--detect", "--case", case_dir, acquired[str(golden)][:12])
    assert res.exit_code == 0 and "StableDiffusionV1" in res.stdout, res.stdout
    verify_ok(cli, case_dir)
