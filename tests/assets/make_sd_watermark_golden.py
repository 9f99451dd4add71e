"""Regenerate the Stable Diffusion watermark golden files with the REAL ``invisible-watermark``
library (not a dependency of forensic: it needs torch; run this by hand in a throw-away venv).

    python3 -m venv /tmp/iwvenv
    /tmp/iwvenv/bin/pip install invisible-watermark==0.2.0 --no-deps \\
        PyWavelets==1.9.0 "opencv-python-headless<5" numpy pillow
    /tmp/iwvenv/bin/python tests/assets/make_sd_watermark_golden.py ../shared/datasets

Made on 2026-11-25 with invisible-watermark 0.2.0, PyWavelets 1.9.0, opencv-python-headless
4.14.0.94, numpy 2.4.6, Pillow 13.0.0. The pictures are 256 x 256 crops of the Meta PDQ
reference photos (facebook/ThreatExchange pdq/data, BSD licence, see
../shared/datasets/pdq/LICENSE-ThreatExchange.txt). Writes into tests/assets/:

- ``sd_watermark_sd1.png``: ``StableDiffusionV1`` embedded exactly as the SD 1.x reference
  scripts do (RGB -> BGR uint8, ``WatermarkEncoder.encode(bgr, 'dwtDct')``, back to RGB);
- ``sd_watermark_sdxl.png``: the SDXL 48-bit message embedded as Stability's sgm code does
  (a float32 0..255 BGR array, then clamped to 0..1 and truncated to uint8 when saved);
- ``sd_watermark_golden.json``: for both PNGs and for the untouched crops, the bits that the
  real ``WatermarkDecoder('bits', n).decode(bgr, 'dwtDct')`` returns for n = 136, 32 and 48,
  the real LL band's checksum, and the SHA-256 of the real encoder's output on a third crop
  (``SDV2``), which tests/sd_watermark_encoder.py must reproduce byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

# imwatermark imports torch and onnxruntime for its rivaGan method only; dwtDct needs neither
for _name in ("torch", "onnxruntime"):
    sys.modules.setdefault(_name, types.ModuleType(_name))

import cv2  # noqa: E402
import imwatermark  # noqa: E402
import pywt  # type: ignore[import-not-found]  # noqa: E402
from imwatermark import WatermarkDecoder, WatermarkEncoder  # noqa: E402

HERE = Path(__file__).resolve().parent
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
SDXL_BITS = [int(c) for c in bin(SDXL_MESSAGE)[2:]]
#: (name, source photo under the datasets folder, crop box left, top)
CROPS = {
    "sd1": ("pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg", (512, 0)),
    "sdxl": ("pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg", (0, 2304)),
    "encoder": ("pdq/bridge-mods/aaa-orig.jpg", (600, 600)),
}
SIDE = 256


def crop_rgb(shared: Path, name: str) -> np.ndarray[Any, Any]:
    src, (x, y) = CROPS[name]
    with Image.open(shared / src) as im:
        return np.asarray(im.convert("RGB").crop((x, y, x + SIDE, y + SIDE)), dtype=np.uint8)


def real_bits(rgb: np.ndarray[Any, Any]) -> dict[str, str]:
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    out = {}
    for n in (136, 32, 48):
        bits = WatermarkDecoder("bits", n).decode(bgr, "dwtDct")
        out[str(n)] = "".join(str(int(b)) for b in bits)
    return out


def main(shared: Path) -> None:
    golden: dict[str, Any] = {
        "library": f"invisible-watermark {getattr(imwatermark, '__version__', '0.2.0')}",
        "pywt": "PyWavelets 1.9.0 (pywt.__version__ " + pywt.__version__ + ")",
        "cv2": cv2.__version__,
        "crops": {
            k: {"source": v[0], "left_top": list(v[1]), "side": SIDE} for k, v in CROPS.items()
        },
        "decoded": {},
    }
    # SD 1.x: scripts/txt2img.py put_watermark()
    rgb = crop_rgb(shared, "sd1")
    enc = WatermarkEncoder()
    enc.set_watermark("bytes", b"StableDiffusionV1")
    sd1 = enc.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDct")[:, :, ::-1]
    Image.fromarray(np.ascontiguousarray(sd1)).save(HERE / "sd_watermark_sd1.png", optimize=True)
    # SDXL: sgm WatermarkEmbedder on a float image 0..1 -> (255 * x)[..., ::-1] float32
    rgb2 = crop_rgb(shared, "sdxl")
    enc2 = WatermarkEncoder()
    enc2.set_watermark("bits", SDXL_BITS)
    bgr_f = np.ascontiguousarray((rgb2.astype(np.float32) / 255.0 * 255.0)[:, :, ::-1])
    out_f = enc2.encode(bgr_f, "dwtDct")[:, :, ::-1]
    sdxl = (np.clip(out_f / 255.0, 0.0, 1.0) * 255.0).astype(np.uint8)  # as the scripts save
    Image.fromarray(np.ascontiguousarray(sdxl)).save(HERE / "sd_watermark_sdxl.png", optimize=True)
    for name, arr in (("sd1.png", sd1), ("sdxl.png", sdxl), ("sd1_crop", rgb), ("sdxl_crop", rgb2)):
        reread = arr
        if name.endswith(".png"):
            with Image.open(HERE / f"sd_watermark_{name}") as im:
                reread = np.asarray(im.convert("RGB"))
        golden["decoded"][name] = real_bits(np.asarray(reread))
    # the real Haar LL band of one plane: its exact sum and a checksum of its float64 bytes
    plane = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, ::-1]), cv2.COLOR_BGR2YUV)[:, :, 1]
    ll = pywt.dwt2(plane, "haar")[0]
    golden["ll_sha256_sd1_crop_u"] = hashlib.sha256(np.ascontiguousarray(ll).tobytes()).hexdigest()
    # the real encoder on a third crop: the test encoder must reproduce these bytes
    rgb3 = crop_rgb(shared, "encoder")
    enc3 = WatermarkEncoder()
    enc3.set_watermark("bytes", b"SDV2")
    out3 = enc3.encode(np.ascontiguousarray(rgb3[:, :, ::-1]), "dwtDct")
    golden["encoder_sdv2_bgr_sha256"] = hashlib.sha256(
        np.ascontiguousarray(out3).tobytes()
    ).hexdigest()
    (HERE / "sd_watermark_golden.json").write_text(json.dumps(golden, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"))
