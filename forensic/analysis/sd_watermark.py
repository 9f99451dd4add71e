"""The Stable Diffusion invisible watermark: a decoder for the ``dwtDct`` method of the
``invisible-watermark`` library (MIT; github.com/ShieldMnt/invisible-watermark, imwatermark/
maxDct.py), which the Stable Diffusion reference code embeds in every generated image.

Positive proof only: a decoded payload that matches a known one within a few bit errors is
proof that the picture passed through software that embeds it (the chance of a random match
is stated with every finding). Absence proves nothing: most generators do not embed it, and
resizing, cropping, re-compression or editing remove it.

The library itself cannot be a dependency (it needs torch and the non-headless opencv-python),
so its decoder is re-implemented here, faithfully and with its defaults: the picture as BGR,
``cv2.COLOR_BGR2YUV``, the top-left part whose sides are multiples of 4, a level-1 Haar DWT of
the U channel (scales ``[0, 36, 36]``: only channel 1 is used), 4x4 blocks of the LL band in
row-major order, in each block the largest-magnitude coefficient other than the first, bit =
``(|c| mod 36) > 18``, bit ``k`` = majority vote over blocks ``k, k+L, k+2L, ...`` (ties count
as 1, as the library's ``mean * 255 > 127`` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode_item

SIGNAL = "provenance.sd_watermark"
REF = (
    "invisible-watermark 0.2.0 (ShieldMnt, MIT), method dwtDct (imwatermark/maxDct.py); "
    "embedded by the Stable Diffusion reference scripts (CompVis/stable-diffusion and "
    "Stability-AI/stablediffusion scripts/txt2img.py; Stability-AI/generative-models "
    "sgm/modules/diffusionmodules/sampling_utils/watermark)"
)
#: the library's defaults (EmbedMaxDct(scales=[0, 36, 36], block=4); channel 1 = U)
SCALE = 36
BLOCK = 4
CHANNEL = 1
#: block rows per strip of the decoding (memory only: the result does not depend on it)
STRIP_BLOCK_ROWS = 64
#: the library refuses images with fewer pixels (rows * cols < 256 * 256)
MIN_PIXELS = 256 * 256
#: a match may have at most this fraction of bit errors ...
MAX_BER = 0.10
#: ... and its chance under a random (fair-coin) decoding must stay at or below this
MAX_CHANCE = 1e-6
#: pywt's Haar analysis low-pass tap (pywt.Wavelet('haar').dec_lo[0]), used in pywt's order so
#: the LL band is bit-identical to ``pywt.dwt2(x, 'haar')[0]``
_H = 0.7071067811865476


def _bits_of(data: bytes) -> tuple[int, ...]:
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(data, dtype=np.uint8)))


@dataclass(frozen=True)
class Payload:
    """A known watermark payload and who embeds it."""

    name: str
    bits: tuple[int, ...]
    embedded_by: str


#: SDXL: WATERMARK_MESSAGE in Stability-AI/generative-models (also used by diffusers)
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
PAYLOADS = (
    Payload(
        "StableDiffusionV1",
        _bits_of(b"StableDiffusionV1"),
        "Stable Diffusion 1.x reference scripts (CompVis/stable-diffusion txt2img/img2img)",
    ),
    Payload(
        "SDV2",
        _bits_of(b"SDV2"),
        "Stable Diffusion 2.x reference scripts (Stability-AI/stablediffusion)",
    ),
    Payload(
        "SDXL",
        tuple(int(c) for c in bin(SDXL_MESSAGE)[2:]),
        "SDXL (Stability-AI/generative-models sgm; diffusers StableDiffusionXLWatermarker)",
    ),
)
#: how the picture is handed to the library's decoder: as BGR uint8 (what cv2.imread gives and
#: what the SD 1.x/2.x scripts embed into), with red and blue swapped (integrations that passed
#: RGB arrays), and both as float32 0..255 (sgm and diffusers embed into float arrays, whose
#: YUV conversion has another offset, so the largest coefficient of a block differs)
VARIANTS = (
    ("bgr", False, False),
    ("rgb_as_bgr", True, False),
    ("bgr_float32", False, True),
    ("rgb_as_bgr_float32", True, True),
)


def binomial_tail(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2): the chance that random bits match within k errors."""
    return math.fsum(math.comb(n, i) for i in range(k + 1)) / 2.0**n


def max_errors(n: int) -> int:
    """The most bit errors a match of an n-bit payload may have: at most MAX_BER of the bits,
    and a chance of a random match at or below MAX_CHANCE."""
    k = math.floor(MAX_BER * n)
    while k >= 0 and binomial_tail(n, k) > MAX_CHANCE:
        k -= 1
    return k


def haar_ll(plane: NDArray[Any]) -> NDArray[np.float64]:
    """The LL band of pywt.dwt2(plane, 'haar') for even sides, with pywt's arithmetic order
    (along axis 0 first, then axis 1) and precision (float32 stays float32, anything else is
    float64), so results are bit-identical."""
    f = plane if plane.dtype == np.float32 else plane.astype(np.float64)  # as pywt does
    h = f.dtype.type(_H)
    a, b = f[0::2, 0::2], f[0::2, 1::2]
    c, d = f[1::2, 0::2], f[1::2, 1::2]
    ll: NDArray[np.float64] = (a * h + c * h) * h + (b * h + d * h) * h
    return ll


def block_scores(bgr: NDArray[Any], as_float32: bool = False) -> NDArray[np.int64]:
    """The per-block bit (0/1) of every 4x4 LL block in the library's order (of the picture
    converted to float32 first when asked). Computed in strips of whole block rows (8 pixel
    rows each): every step is local to a block, so the result is the same as in one piece,
    and an 80-megapixel picture never needs a full float copy."""
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    # LL has rows/2 rows, blocks of 4: whole block rows are 8 pixel rows; the library's
    # trailing LL rows that do not fill a block are ignored, as in the library
    step = 2 * BLOCK * STRIP_BLOCK_ROWS
    out = [
        _strip_scores(bgr[y : min(y + step, rows), :cols], as_float32) for y in range(0, rows, step)
    ]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _strip_scores(strip: NDArray[Any], as_float32: bool) -> NDArray[np.int64]:
    part = np.ascontiguousarray(strip)
    yuv = cv2.cvtColor(part.astype(np.float32) if as_float32 else part, cv2.COLOR_BGR2YUV)
    ll = haar_ll(yuv[:, :, CHANNEL])
    br, bc = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    blocks = (
        ll[: br * BLOCK, : bc * BLOCK]
        .reshape(br, BLOCK, bc, BLOCK)
        .transpose(0, 2, 1, 3)
        .reshape(br * bc, BLOCK * BLOCK)
    )
    pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    val = np.abs(blocks[np.arange(blocks.shape[0]), pos])
    scores: NDArray[np.int64] = (np.mod(val, SCALE) > 0.5 * SCALE).astype(np.int64)
    return scores


def vote(scores: NDArray[np.int64], length: int) -> NDArray[np.uint8]:
    """Bit k = the library's ``mean(scores of blocks k, k+L, ...) * 255 > 127``."""
    idx = np.arange(scores.shape[0]) % length
    ones = np.bincount(idx, weights=scores, minlength=length)
    count = np.bincount(idx, minlength=length)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = ones / count  # a bit with no block: nan, which the library decodes as 0
    bits: NDArray[np.uint8] = (mean * 255 > 127).astype(np.uint8)
    return bits


def decode_bits(bgr: NDArray[Any], length: int) -> NDArray[np.uint8]:
    """What ``WatermarkDecoder('bits', length).decode(bgr, 'dwtDct')`` returns, as 0/1."""
    return vote(block_scores(bgr), length)


@dataclass(frozen=True)
class Match:
    payload: Payload
    variant: str
    bits: tuple[int, ...]
    errors: int
    allowed: int

    @property
    def ber(self) -> float:
        return self.errors / len(self.payload.bits)

    @property
    def chance(self) -> float:
        return binomial_tail(len(self.payload.bits), self.errors)

    @property
    def matched(self) -> bool:
        return self.errors <= self.allowed

    def as_dict(self) -> dict[str, Any]:
        return {
            "payload": self.payload.name,
            "input_variant": self.variant,
            "decoded_bits": "".join(map(str, self.bits)),
            "bit_errors": self.errors,
            "bits": len(self.payload.bits),
            "bit_error_rate": round(self.ber, 4),
            "max_bit_errors": self.allowed,
            "random_match_chance": float(f"{self.chance:.3g}"),
        }


def best_matches(rgb: NDArray[np.uint8]) -> list[Match]:
    """For each known payload, the decoding (over the input variants) with the fewest bit
    errors; matches first, then by chance of a random match."""
    scores: dict[str, NDArray[np.int64]] = {}
    for name, swap, as_float in VARIANTS:
        scores[name] = block_scores(rgb if swap else rgb[:, :, ::-1], as_float)
    out: list[Match] = []
    for p in PAYLOADS:
        want = np.asarray(p.bits, dtype=np.uint8)
        cands = []
        for name, block_bits in scores.items():
            bits = vote(block_bits, len(p.bits))
            errors = int(np.count_nonzero(bits != want))
            cands.append(
                Match(p, name, tuple(int(b) for b in bits), errors, max_errors(len(p.bits)))
            )
        out.append(min(cands, key=lambda m: m.errors))
    out.sort(key=lambda m: (not m.matched, m.chance))
    return out


LIMITS = (
    "Positive proof only. A match shows the pixels passed through software that embeds this "
    "watermark (the Stable Diffusion reference scripts and integrations that copied them); "
    "no match proves nothing: most generators and services do not embed it, and resizing, "
    "cropping, rotation, JPEG re-compression with chroma subsampling (most phones, messengers "
    "and sites; even at quality 95), screenshots and edits remove it. Anyone "
    "with the open-source library can also embed the payload into any picture, so a match "
    "shows that software touched the pixels, not who made the picture. Only the library's "
    "dwtDct method with its default settings is decoded (not dwtDctSvd or rivaGan)."
)


class SdWatermarkDetector(Detector):
    name = "sd_watermark"
    version = "1"
    media_types = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")

    def parameters(self) -> dict[str, Any]:
        return {
            "method": "dwtDct",
            "scales": [0, SCALE, SCALE],
            "block": BLOCK,
            "channel": "U (cv2.COLOR_BGR2YUV)",
            "payloads": {p.name: len(p.bits) for p in PAYLOADS},
            "max_bit_errors": {p.name: max_errors(len(p.bits)) for p in PAYLOADS},
            "max_ber": MAX_BER,
            "max_random_match_chance": MAX_CHANCE,
            "input_variants": [v[0] for v in VARIANTS],
            "min_pixels": MIN_PIXELS,
            "max_pixels": MAX_PIXELS,
        }

    def libraries(self) -> dict[str, str]:
        return {"numpy": np.__version__, "opencv": cv2.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            decoded = decode_item(item)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable(SIGNAL, exc.reason_en, exc.reason_ko)])
        h, w = decoded.rgb.shape[:2]
        if decoded.mode in ("L", "LA", "1", "I", "F") or decoded.mode.startswith("I;16"):
            return DetectorResult(
                [
                    not_applicable(
                        SIGNAL,
                        "greyscale image: the Stable Diffusion watermark lives in the colour "
                        "(U) channel, which a greyscale image does not have",
                        "흑백 이미지: Stable Diffusion 워터마크는 흑백 이미지에 없는 색 (U) "
                        "채널에 들어 있습니다",
                    )
                ]
            )
        if h * w < MIN_PIXELS:
            return DetectorResult(
                [
                    not_applicable(
                        SIGNAL,
                        f"{w}x{h} pixels is too small for the Stable Diffusion watermark (the "
                        f"library needs at least {MIN_PIXELS} pixels, e.g. 256x256)",
                        f"{w}x{h} 화소는 Stable Diffusion 워터마크에 너무 작습니다 (라이브러리는 "
                        f"최소 {MIN_PIXELS} 화소, 예: 256x256 이 필요합니다)",
                    )
                ]
            )
        try:
            matches = best_matches(decoded.rgb)
        except (cv2.error, ValueError, MemoryError) as exc:
            return DetectorResult(
                [
                    not_applicable(
                        SIGNAL,
                        f"the watermark could not be decoded: {type(exc).__name__}: {exc}",
                        f"워터마크를 디코딩할 수 없습니다: {type(exc).__name__}: {exc}",
                    )
                ]
            )
        best = matches[0]
        method = (
            "invisible-watermark dwtDct decoder re-implemented (level-1 Haar DWT of the U "
            f"channel, {BLOCK}x{BLOCK} blocks, scale {SCALE}, majority vote per bit); decoded "
            "bits compared with the known Stable Diffusion payloads"
        )
        extra: dict[str, Any] = {
            "matches": [m.as_dict() for m in matches],
            "chance_model": "P(at most k of n bits wrong) for fair-coin bits = "
            "sum_{i<=k} C(n,i) / 2^n",
            **({"notes": decoded.notes} if decoded.notes else {}),
        }
        threshold = {p.name: max_errors(len(p.bits)) for p in PAYLOADS}
        # one number for the generic evaluation; bit errors, decoded bits, chance: details
        value = {"payload": best.payload.name, "bit_error_rate": round(best.ber, 4)}
        if best.matched:
            return DetectorResult(
                [
                    Finding(
                        SIGNAL,
                        STATUS_INDICATES,
                        method,
                        REF,
                        value,
                        threshold,
                        f"the Stable Diffusion invisible watermark '{best.payload.name}' was "
                        f"decoded ({best.errors} of {len(best.payload.bits)} bits wrong; chance "
                        f"of a random match {best.chance:.1e}): indicates the picture passed "
                        f"through software that embeds it ({best.payload.embedded_by})",
                        f"Stable Diffusion 비가시 워터마크 '{best.payload.name}'가 "
                        "디코딩되었습니다 "
                        f"({len(best.payload.bits)} 비트 중 {best.errors} 비트 오류; 우연히 "
                        f"일치할 확률 {best.chance:.1e}): 이 워터마크를 삽입하는 소프트웨어"
                        f"({best.payload.embedded_by})를 거친 이미지임을 나타냅니다",
                        LIMITS,
                        positive_proof=True,
                        extra=extra,
                    )
                ]
            )
        return DetectorResult(
            [
                Finding(
                    SIGNAL,
                    STATUS_NO_EVIDENCE,
                    method,
                    REF,
                    value,
                    threshold,
                    "no Stable Diffusion invisible watermark found (this does not prove "
                    "absence: most generators do not embed it and edits remove it)",
                    "Stable Diffusion 비가시 워터마크가 발견되지 않았습니다 (부재의 증명은 "
                    "아닙니다: 대부분의 생성기는 이를 삽입하지 않으며 편집하면 제거됩니다)",
                    LIMITS,
                    extra=extra,
                )
            ]
        )
