"""Pixel maps for the examiner (figures, no score): error level analysis and noise residual."""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis.interface import (
    STATUS_INFO,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode_item, png_bytes

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


def _fit_size(h: int, w: int) -> tuple[int, int]:
    """Figure (width, height): at most FIGURE_MAX on the longer side."""
    scale = max(h, w) / FIGURE_MAX
    if scale <= 1:
        return w, h
    return max(1, round(w / scale)), max(1, round(h / scale))


def _fit(arr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    h, w = arr.shape[:2]
    size = _fit_size(h, w)
    if size == (w, h):
        return arr
    im = Image.fromarray(arr).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.uint8)


def ela_map(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """min(255, ELA_GAIN x max over R, G, B of |image - JPEG(image)|), full resolution, in
    integer arithmetic (the same bytes as the float formula, without full-size float copies).
    The re-compressed copy is decoded by OpenCV straight into one array: its libjpeg-turbo
    gives the same pixels as Pillow's (checked on the reference photos)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=ELA_QUALITY)
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imdecode(np.frombuffer(buf.getvalue(), dtype=np.uint8), flags)
    if bgr is None:  # OpenCV could not read Pillow's JPEG: decode it with Pillow instead
        again = np.array(Image.open(buf).convert("RGB"), dtype=np.uint8)
    else:
        again = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr), dtype=np.uint8)
    del buf
    cv2.absdiff(rgb, again, dst=again)
    top = np.maximum(np.maximum(again[..., 0], again[..., 1]), again[..., 2])
    del again
    out = np.asarray(cv2.convertScaleAbs(top, alpha=ELA_GAIN), dtype=np.uint8)  # saturates
    return out


def noise_blocks(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Standard deviation per NOISE_BLOCK x NOISE_BLOCK block of luminance minus its
    NOISE_MEDIAN x NOISE_MEDIAN median (edges replicated), from exact integer sums computed
    64 block rows at a time (no full-size temporaries)."""
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.uint8)
    med = cv2.medianBlur(grey, NOISE_MEDIAN)
    bh, bw = grey.shape[0] // NOISE_BLOCK, grey.shape[1] // NOISE_BLOCK
    width, n = bw * NOISE_BLOCK, NOISE_BLOCK * NOISE_BLOCK
    s1 = np.empty((bh, bw), dtype=np.int64)
    s2 = np.empty((bh, bw), dtype=np.int64)
    for r in range(0, bh, 64):
        rows = slice(r * NOISE_BLOCK, min(bh, r + 64) * NOISE_BLOCK)
        res = grey[rows, :width].astype(np.int32) - med[rows, :width]
        for total, x in ((s1, res), (s2, res * res)):
            col = x.reshape(-1, NOISE_BLOCK, width).sum(axis=1, dtype=np.int64)
            total[r : r + col.shape[0]] = col.reshape(-1, bw, NOISE_BLOCK).sum(axis=2)
    f1, f2 = s1.astype(np.float64), s2.astype(np.float64)
    sd: NDArray[np.float64] = np.sqrt(np.maximum(f2 * n - f1 * f1, 0.0)) / n
    return sd


def noise_map(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], dict[str, float]]:
    """The noise figure and its summary statistics (see :func:`noise_figure`)."""
    img, stats, _level = noise_figure(rgb)
    return img, stats


def noise_figure(
    rgb: NDArray[np.uint8],
) -> tuple[NDArray[np.uint8], dict[str, float], NDArray[np.float32]]:
    """The noise figure (blocks drawn as squares, at figure size), its summary statistics and
    the block map in [0, 1] (the localisation heatmap)."""
    sd = noise_blocks(rgb)
    top = float(np.percentile(sd, 99)) or 1.0
    level = np.clip(sd / top, 0.0, 1.0)
    blocks = (level * 255.0).astype(np.uint8)
    fig_h, fig_w = sd.shape[0] * NOISE_BLOCK, sd.shape[1] * NOISE_BLOCK
    img = np.asarray(
        Image.fromarray(blocks).resize(_fit_size(fig_h, fig_w), Image.Resampling.NEAREST),
        dtype=np.uint8,
    )
    stats = {
        "median_block_sd": round(float(np.median(sd)), 4),
        "p99_block_sd": round(top, 4),
        "spread_p90_over_p10": round(
            float(np.percentile(sd, 90) / max(float(np.percentile(sd, 10)), 1e-6)), 4
        ),
    }
    return img, stats, level.astype(np.float32)


class PixelMapDetector(Detector):
    name = "maps"
    #: 2: the noise figure draws blocks with nearest-neighbour scaling (was bilinear)
    version = "2"
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

        return {"numpy": np.__version__, "pillow": PIL.__version__, "opencv": cv2.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode_item(item)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("maps", exc.reason_en, exc.reason_ko)])
        ela_name, noise_name = f"{self.name}-ela.png", f"{self.name}-noise.png"
        noise_img, stats, noise_level = noise_figure(decoded.rgb)
        ela = _fit(ela_map(decoded.rgb))
        figures = {ela_name: png_bytes(ela), noise_name: png_bytes(noise_img)}
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
            heatmaps={
                "maps.ela": ela.astype(np.float32) / np.float32(255.0),
                "maps.noise": noise_level,
            },
        )
