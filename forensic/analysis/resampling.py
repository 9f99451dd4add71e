"""Resampling (rescaling, rotation) traces: periodic correlations left by interpolation.

Kirchner, 'Fast and reliable resampling detection by spectral analysis of fixed linear
predictor residue', ACM Multimedia and Security Workshop (MM&Sec) 2008. Interpolation makes
every pixel a fixed linear combination of its neighbours with a weight pattern that repeats
with the resampling period. The residue of a fixed 3x3 linear predictor is mapped to a
"p-map" p = exp(-e^2 / sigma); its 2-D spectrum shows peaks at the resampling frequencies.
The decision measure is the paper's: the largest gradient of the normalised cumulative
periodogram (a strong isolated peak makes it jump).

Computed per BLOCK x BLOCK tile (the map) and on the tile-averaged periodogram (the global
score). JPEG compression makes the p-map 8-periodic: the frequencies (k/8, l/8) and their
neighbours are excluded from the peak search, and so are low frequencies (image content).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from forensic.analysis.grid_zero import IMAGE_TYPES, MIN_SIDE, item_luminance
from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    error_rate,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, png_bytes

#: the fixed linear predictor of the paper (centre 0: the pixel predicted from its 8 neighbours)
PREDICTOR = np.array([[-0.25, 0.5, -0.25], [0.5, 0.0, 0.5], [-0.25, 0.5, -0.25]], dtype=np.float32)
#: p = LAMBDA * exp(-|e|^TAU / SIGMA); the paper has SIGMA = 1, which JPEG quantisation noise
#: (about one grey level) drowns: a wider SIGMA keeps the peaks of resampled JPEGs
LAMBDA, SIGMA, TAU = 1.0, 32.0, 2
#: peak measure: a frequency against the mean of this many x this many bins around it
NEIGHBOURHOOD = 9
BLOCK = 128
#: frequencies with radius below this share of Nyquist are image content, not resampling
LOW_CUT = 0.1
#: JPEG exclusion: bins within this distance of a multiple of BLOCK / 8 in both axes
JPEG_GUARD = 2
#: default threshold of the global measure (bench/eval_detection.py replaces it once measured)
DEFAULT_THRESHOLD = 8.0
#: the map and its figure show a tile's measure / TILE_SCALE (a photo's tiles lie near 5)
TILE_SCALE = 20.0
FIGURE_MAX = 1024
REF = (
    "Kirchner, 'Fast and reliable resampling detection by spectral analysis of fixed linear "
    "predictor residue', ACM MM&Sec 2008"
)
LIMITS = (
    "Detects periodic interpolation traces of up-scaling and of moderate down-scaling or "
    "rotation; blind to down-scaling by large factors, to nearest-neighbour scaling and "
    "after strong JPEG re-compression or noise. JPEG's own 8x8 periodicity is excluded from "
    "the peak search, so resampling factors whose peaks fall on multiples of 1/8 (e.g. 2x, "
    "4/3x) are missed. Screenshots, messenger and camera pipelines resize images too: this "
    "says the pixels were resampled, not that content was changed."
)


def threshold() -> float:
    rates = error_rate("resampling.kirchner")
    if rates and isinstance(rates.get("threshold"), (int, float)):
        return float(rates["threshold"])
    return DEFAULT_THRESHOLD


def p_map(y: NDArray[Any]) -> NDArray[np.float32]:
    """exp(-e^2 / sigma) of the fixed-predictor residue e (float32, the image's shape)."""
    src = y.astype(np.float32)
    pred = cv2.filter2D(src, cv2.CV_32F, PREDICTOR, borderType=cv2.BORDER_REFLECT)
    e = src - pred
    np.abs(e, out=e)
    np.power(e, TAU, out=e)
    e *= np.float32(-1.0 / SIGMA)
    np.exp(e, out=e)
    if LAMBDA != 1.0:
        e *= np.float32(LAMBDA)
    return e


def _search_mask(block: int) -> NDArray[np.bool_]:
    """Frequencies searched for peaks on the folded quadrant [0, block/2]^2."""
    half = block // 2 + 1
    f1, f2 = np.meshgrid(np.arange(half), np.arange(half), indexing="ij")
    keep = np.hypot(f1, f2) >= LOW_CUT * (block / 2)
    step = block // 8

    def near(f: NDArray[Any]) -> NDArray[np.bool_]:
        d = np.abs(f - step * np.rint(f / step))
        out: NDArray[np.bool_] = d <= JPEG_GUARD
        return out

    keep &= ~(near(f1) & near(f2))
    return keep


_MASK = _search_mask(BLOCK)


def _folded_power(pm: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per tile, |DFT|^2 of the zero-mean p-map folded onto [0, B/2]^2: (tiles, B/2+1, B/2+1)."""
    tiles = pm - pm.mean(axis=(1, 2), keepdims=True)
    spec = np.fft.rfft2(tiles, axes=(1, 2))  # (t, B, B/2 + 1): rows f1 in [-B/2, B/2)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    half = BLOCK // 2
    # fold negative row frequencies onto positive ones; axes: (tile, f_row, f_col)
    pos = power[:, : half + 1, :].copy()
    pos[:, 1:half, :] += power[:, BLOCK - 1 : half : -1, :]
    return pos


def peak_measure(power: NDArray[np.float32], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per tile, the strongest searched frequency relative to its spectral neighbourhood:
    max over searched f of P(f) / mean of P over the NEIGHBOURHOOD x NEIGHBOURHOOD bins
    around f. ~2-3 for photos, far higher with a resampling peak."""
    p = power.astype(np.float64)
    r = NEIGHBOURHOOD // 2
    padded = np.pad(p, ((0, 0), (r, r), (r, r)), mode="reflect")
    c = np.cumsum(np.cumsum(padded, axis=1), axis=2)
    c = np.pad(c, ((0, 0), (1, 0), (1, 0)))
    n = NEIGHBOURHOOD
    box = c[:, n:, n:] - c[:, :-n, n:] - c[:, n:, :-n] + c[:, :-n, :-n]
    local = box / (n * n)
    ratio = np.where(mask[None, :, :], p / np.maximum(local, 1e-30), 0.0)
    out: NDArray[np.float64] = ratio.max(axis=(1, 2))
    return out


def analyse(y: NDArray[Any]) -> tuple[float, NDArray[np.float64]]:
    """(global measure on the tile-averaged periodogram, per-tile measures (rows, cols))."""
    h, w = y.shape
    b = BLOCK if min(h, w) >= BLOCK else 1 << int(math.log2(min(h, w)))
    if b != BLOCK:  # small image: one tile of the largest power of two that fits
        return _small(y, b)
    rows, cols = h // BLOCK, w // BLOCK
    y0, x0 = (h - rows * BLOCK) // 2, (w - cols * BLOCK) // 2
    measures = np.empty((rows, cols), np.float64)
    acc = np.zeros((BLOCK // 2 + 1, BLOCK // 2 + 1), np.float64)
    for r in range(rows):
        # one stripe of tiles at a time (memory), with a 1-pixel margin for the predictor
        top, bottom = y0 + r * BLOCK, y0 + (r + 1) * BLOCK
        a, z = max(top - 1, 0), min(bottom + 1, h)
        pm = p_map(y[a:z, x0 : x0 + cols * BLOCK])[top - a : top - a + BLOCK]
        tiles = pm.reshape(BLOCK, cols, BLOCK).transpose(1, 0, 2)
        power = _folded_power(tiles)
        measures[r] = peak_measure(power, _MASK)
        acc += power.sum(axis=0, dtype=np.float64)
    overall = float(peak_measure(acc[None].astype(np.float32), _MASK)[0])
    return overall, measures


def _small(y: NDArray[Any], b: int) -> tuple[float, NDArray[np.float64]]:
    h, w = y.shape
    tile = p_map(y)[(h - b) // 2 : (h - b) // 2 + b, (w - b) // 2 : (w - b) // 2 + b]
    spec = np.fft.rfft2(tile - tile.mean())
    power = (np.abs(spec) ** 2).astype(np.float32)
    half = b // 2
    pos = power[: half + 1].copy()
    pos[1:half] += power[b - 1 : half : -1]
    m = float(peak_measure(pos[None], _search_mask(b))[0])
    return m, np.array([[m]])


def tile_map(measures: NDArray[np.float64]) -> NDArray[np.float32]:
    """The localisation map in [0, 1]: a tile's measure / TILE_SCALE."""
    out: NDArray[np.float32] = np.clip(measures / TILE_SCALE, 0, 1).astype(np.float32)
    return out


def map_figure(measures: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Tiles coloured by their measure: black = 0, bright orange = TILE_SCALE or more."""
    scaled = tile_map(measures)
    cell = max(1, min(64, FIGURE_MAX // max(measures.shape)))
    grey = (scaled * 255).astype(np.uint8)
    img = np.stack([grey, (grey * 0.3).astype(np.uint8), np.zeros_like(grey)], axis=2)
    img = np.repeat(np.repeat(img, cell, axis=0), cell, axis=1)
    return np.ascontiguousarray(img)


class ResamplingDetector(Detector):
    name = "resampling"
    version = "1"
    media_types = IMAGE_TYPES

    def parameters(self) -> dict[str, Any]:
        return {
            "predictor": PREDICTOR.tolist(),
            "lambda": LAMBDA,
            "sigma": SIGMA,
            "tau": TAU,
            "block": BLOCK,
            "low_cut_share_of_nyquist": LOW_CUT,
            "jpeg_guard_bins": JPEG_GUARD,
            "neighbourhood": NEIGHBOURHOOD,
            "tile_scale": TILE_SCALE,
            "threshold": threshold(),
            "min_side": MIN_SIDE,
            "max_pixels": MAX_PIXELS,
            "figure_max": FIGURE_MAX,
        }

    def libraries(self) -> dict[str, str]:
        return {"numpy": np.__version__, "opencv": cv2.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            lum = item_luminance(item)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable(self.name, exc.reason_en, exc.reason_ko)])
        value, measures = analyse(lum.y)
        value = round(value, 6)
        thr = threshold()
        fig = f"{self.name}-map.png"
        figures = {fig: png_bytes(map_figure(measures))}
        details: dict[str, Any] = {
            "tiles": {"rows": measures.shape[0], "cols": measures.shape[1], "size": BLOCK},
            "tile_measure_median": round(float(np.median(measures)), 6),
            "tile_measure_max": round(float(measures.max()), 6),
            "tiles_over_threshold": int((measures > thr).sum()),
            "luminance": lum.source,
            "figure_legend": (
                f"tiles by the peak measure: black 0, brightest {TILE_SCALE:g} or more"
            ),
        }
        if lum.notes:
            details["notes"] = list(lum.notes)
        method = (
            "fixed linear predictor residue -> p-map -> 2-D DFT per tile; maximum gradient "
            "of the cumulative periodogram (tile-averaged), JPEG 8x8 frequencies excluded"
        )
        heat = tile_map(measures)
        if value > thr:
            finding = Finding(
                "resampling.kirchner",
                STATUS_INDICATES,
                method,
                REF,
                value,
                thr,
                "indicates periodic interpolation traces: consistent with the pixels having "
                "been rescaled or rotated",
                "주기적인 보간 흔적을 나타냅니다: 화소가 크기 변경 또는 회전된 것과 일치합니다",
                LIMITS,
                figures=[fig],
                extra=details,
            )
        else:
            finding = Finding(
                "resampling.kirchner",
                STATUS_NO_EVIDENCE,
                method,
                REF,
                value,
                thr,
                "no evidence of resampling (this does not prove absence)",
                "리샘플링의 증거가 없습니다 (부재의 증명은 아닙니다)",
                LIMITS,
                figures=[fig],
                extra=details,
            )
        return DetectorResult([finding], figures, {"resampling.kirchner": heat})
