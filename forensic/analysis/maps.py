"""Pixel maps for the examiner (figures, no score): error level analysis and noise residual."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from forensic.analysis.interface import (
    STATUS_INFO,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode, png_bytes

ELA_QUALITY = 90
ELA_GAIN = 20.0
NOISE_MEDIAN = 3
NOISE_BLOCK = 16
#: figures are at most this wide/high (the report shows them redacted like the preview)
FIGURE_MAX = 1024
ELA_REF = "Krawetz, 'A picture's worth: digital image analysis and forensics', Black Hat 2007"
NOISE_REF = (
    "Lyu, Pan & Zhang, 'Exposing region splicing forgeries with blind local noise estimation', "
    "IJCV 2014 (local noise level of a median-filter residual)"
)
LIMITS = (
    "A map for the examiner to look at, not a score: edges, textures, saturated areas and "
    "earlier re-compression light up too, and messenger re-compression hides most traces."
)


def _fit(arr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    h, w = arr.shape[:2]
    scale = max(h, w) / FIGURE_MAX
    if scale <= 1:
        return arr
    im = Image.fromarray(arr).resize(
        (max(1, round(w / scale)), max(1, round(h / scale))), Image.Resampling.BILINEAR
    )
    return np.asarray(im, dtype=np.uint8)


def ela_map(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=ELA_QUALITY)
    again = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.int16)
    diff = np.abs(rgb.astype(np.int16) - again).max(axis=2).astype(np.float64)
    out: NDArray[np.uint8] = np.clip(diff * ELA_GAIN, 0, 255).astype(np.uint8)
    return out


def noise_map(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], dict[str, float]]:
    """Local standard deviation (per NOISE_BLOCK block) of luminance minus its 3x3 median."""
    grey = Image.fromarray(rgb).convert("L")
    med = np.asarray(grey.filter(ImageFilter.MedianFilter(NOISE_MEDIAN)), dtype=np.float64)
    res = np.asarray(grey, dtype=np.float64) - med
    h, w = (res.shape[0] // NOISE_BLOCK) * NOISE_BLOCK, (res.shape[1] // NOISE_BLOCK) * NOISE_BLOCK
    blocks = res[:h, :w].reshape(h // NOISE_BLOCK, NOISE_BLOCK, w // NOISE_BLOCK, NOISE_BLOCK)
    sd = blocks.std(axis=(1, 3))
    top = float(np.percentile(sd, 99)) or 1.0
    img = np.clip(sd / top * 255.0, 0, 255).astype(np.uint8)
    img = np.repeat(np.repeat(img, NOISE_BLOCK, axis=0), NOISE_BLOCK, axis=1)
    stats = {
        "median_block_sd": round(float(np.median(sd)), 4),
        "p99_block_sd": round(top, 4),
        "spread_p90_over_p10": round(
            float(np.percentile(sd, 90) / max(float(np.percentile(sd, 10)), 1e-6)), 4
        ),
    }
    return img, stats


class PixelMapDetector(Detector):
    name = "maps"
    version = "1"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {
            "ela_quality": ELA_QUALITY,
            "ela_gain": ELA_GAIN,
            "noise_median": NOISE_MEDIAN,
            "noise_block": NOISE_BLOCK,
            "figure_max": FIGURE_MAX,
            "max_pixels": MAX_PIXELS,
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"numpy": np.__version__, "pillow": PIL.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode(item.path.read_bytes())
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("maps", exc.reason_en, exc.reason_ko)])
        ela_name, noise_name = f"{self.name}-ela.png", f"{self.name}-noise.png"
        noise_img, stats = noise_map(decoded.rgb)
        figures = {
            ela_name: png_bytes(_fit(ela_map(decoded.rgb))),
            noise_name: png_bytes(_fit(noise_img)),
        }
        notes = {"notes": decoded.notes} if decoded.notes else {}
        return DetectorResult(
            [
                Finding(
                    "maps.ela",
                    STATUS_INFO,
                    f"error level analysis: |image - JPEG(image, q={ELA_QUALITY})| x {ELA_GAIN:g}",
                    ELA_REF,
                    None,
                    None,
                    "figure for the examiner: regions that re-compress differently stand out",
                    "검토자용 그림: 다르게 재압축되는 영역이 두드러집니다",
                    LIMITS,
                    figures=[ela_name],
                    extra=notes,
                ),
                Finding(
                    "maps.noise",
                    STATUS_INFO,
                    f"local noise level: standard deviation per {NOISE_BLOCK}x{NOISE_BLOCK} "
                    f"block of (luminance - {NOISE_MEDIAN}x{NOISE_MEDIAN} median)",
                    NOISE_REF,
                    stats,
                    None,
                    "figure for the examiner: regions whose noise level differs from the rest",
                    "검토자용 그림: 잡음 수준이 나머지와 다른 영역",
                    LIMITS,
                    figures=[noise_name],
                    extra=notes,
                ),
            ],
            figures,
        )
