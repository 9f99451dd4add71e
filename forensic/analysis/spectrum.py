"""Frequency spectrum: the azimuthally averaged power spectrum as a feature (no decision).

Durall, Keuper & Keuper, 'Watch your up-convolution: CNN based generative deep neural networks
are failing to reproduce spectral distributions', CVPR 2020; Frank et al., 'Leveraging
frequency analysis for deep fake image recognition', ICML 2020. Generators' up-sampling leaves
an abnormal high-frequency tail; resampling and re-compression change it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from forensic.analysis.interface import (
    STATUS_INFO,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode_item, png_bytes, rgb_luma

CROP = 512
BINS = 64
REF = (
    "Durall, Keuper & Keuper, CVPR 2020; Frank, Eisenhofer, Schönherr, Fischer, Kolossa & "
    "Holz, ICML 2020 (azimuthal average of the log power spectrum)"
)


def central_square(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(y0, x0, side) of the central CROP x CROP square (smaller when the image is)."""
    h, w = shape[0], shape[1]
    side = min(CROP, h, w)
    return (h - side) // 2, (w - side) // 2, side


def azimuthal_profile(luma: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    """The 1-D profile (BINS values, low to high frequency) and the 2-D log spectrum image, of
    the central CROP x CROP square (the whole image when smaller), Hann-windowed."""
    y0, x0, side = central_square(luma.shape)
    tile = luma[y0 : y0 + side, x0 : x0 + side]
    tile = tile - tile.mean()
    win = np.outer(np.hanning(side), np.hanning(side))
    power = np.abs(np.fft.fftshift(np.fft.fft2(tile * win))) ** 2
    logp = np.log10(power + 1e-8)
    yy, xx = np.indices(logp.shape)
    r = np.hypot(yy - side // 2, xx - side // 2) / (side / 2)
    idx = np.clip((r * BINS).astype(int), 0, BINS)
    sums = np.bincount(idx.ravel(), weights=logp.ravel(), minlength=BINS + 1)[:BINS]
    counts = np.bincount(idx.ravel(), minlength=BINS + 1)[:BINS]
    profile: NDArray[np.float64] = sums / np.maximum(counts, 1)
    lo, hi = float(np.percentile(logp, 1)), float(np.percentile(logp, 99.9))
    img: NDArray[np.uint8] = np.clip((logp - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(
        np.uint8
    )
    return profile, img


def tail_features(profile: NDArray[np.float64]) -> dict[str, float]:
    """Slope of the profile over the upper quarter of frequencies, and the level of that tail
    relative to the mid band (log10 units)."""
    n = len(profile)
    hi = profile[3 * n // 4 :]
    mid = profile[n // 4 : n // 2]
    slope = float(np.polyfit(np.arange(len(hi)) / n, hi, 1)[0])
    return {
        "tail_slope": round(slope, 4),
        "tail_minus_mid": round(float(hi.mean() - mid.mean()), 4),
    }


class SpectrumDetector(Detector):
    name = "spectrum"
    version = "1"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {"crop": CROP, "bins": BINS, "window": "hann", "max_pixels": MAX_PIXELS}

    def libraries(self) -> dict[str, str]:
        return {"numpy": np.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode_item(item)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("spectrum", exc.reason_en, exc.reason_ko)])
        # luminance of the central square only (the same numbers as cropping the full plane)
        y0, x0, side = central_square(decoded.rgb.shape)
        profile, img = azimuthal_profile(rgb_luma(decoded.rgb[y0 : y0 + side, x0 : x0 + side]))
        feats = tail_features(profile)
        fig = f"{self.name}-power.png"
        return DetectorResult(
            [
                Finding(
                    "spectrum.azimuthal",
                    STATUS_INFO,
                    f"azimuthal average of the log10 power spectrum ({BINS} bins) of the central "
                    f"{CROP}x{CROP} luminance square, Hann window",
                    REF,
                    feats,
                    None,
                    "spectral feature for the examiner and for trained classifiers; no decision",
                    "검토자 및 학습된 분류기를 위한 스펙트럼 특징이며 판정은 하지 않습니다",
                    "A feature, not a detector: camera processing, resampling, sharpening and "
                    "re-compression all change the high-frequency tail; its separation power "
                    "on our benchmark is in docs/detection-evaluation.md.",
                    figures=[fig],
                    extra={
                        "profile": [round(float(v), 4) for v in profile],
                        **({"notes": decoded.notes} if decoded.notes else {}),
                    },
                )
            ],
            {fig: png_bytes(img)},
        )
