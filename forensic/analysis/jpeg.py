"""JPEG forensics: quality estimate, aligned double compression (DCT-histogram periodicity)
and the position of the 8x8 compression grid (a shifted grid: cropping or non-aligned
re-compression)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    error_rate,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, MIN_SIDE, NotAnalysable, open_bounded
from forensic.media.image.jpeg_quant import estimate_quality

#: zig-zag positions 1..N of the AC coefficients whose histograms are examined
AC_POSITIONS = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (2, 1), (1, 2), (0, 3), (3, 0))
HIST_MAX = 24
MIN_COUNT = 200
#: default threshold when no measurement exists yet (replaced by the measured one)
DEFAULT_DQ_THRESHOLD = 0.5
DQ_REF = (
    "Popescu & Farid, 'Statistical tools for digital forensics', IH 2004; Lin, He, Tang & Tang, "
    "'Fast, automatic and fine-grained tampered JPEG image detection via DCT coefficient "
    "analysis', Pattern Recognition 2009"
)
GRID_REF = (
    "Fan & de Queiroz, 'Identification of bitmap compression history: JPEG detection and "
    "quantizer estimation', IEEE TIP 2003"
)


def dct_matrix() -> NDArray[np.float64]:
    n = np.arange(8)
    m: NDArray[np.float64] = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16.0) * np.sqrt(
        2 / 8
    )
    m[0, :] = np.sqrt(1 / 8)
    return m


def block_dct(y: NDArray[np.float64], k: int = 8) -> NDArray[np.float64]:
    """8x8 block DCT of a luminance plane (cropped to whole blocks): (by, bx, k, k), the
    k x k lowest frequencies of each block (all 64 by default)."""
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    d = dct_matrix()[:k]
    out: NDArray[np.float64] = np.empty((h // 8, w // 8, k, k))
    # D @ block @ D.T as two large matrix products instead of one einsum (several times
    # faster), 64 block rows at a time (no full-size temporaries)
    for r in range(0, h // 8, 64):
        part = y[r * 8 : min(h, (r + 64) * 8), :w] - 128.0
        rows = np.matmul(d, part.reshape(-1, 8, w))  # (strip, k, W)
        cols = (rows.reshape(-1, 8) @ d.T).reshape(-1, k, w // 8, k)
        out[r : r + cols.shape[0]] = cols.transpose(0, 2, 1, 3)
    return out


def double_jpeg_score(y: NDArray[np.float64], qtable: list[int]) -> float | None:
    """Periodicity of the quantised-coefficient histograms: mean |log(h(k)/neighbour mean)|
    over |k| = 2..HIST_MAX-1, weighted by counts. ~0.1 for single compression; larger when a
    first compression with a different table left periodic empty or peaked bins."""
    coef = block_dct(y, 1 + max(max(p) for p in AC_POSITIONS))
    q = np.asarray(qtable, dtype=np.float64).reshape(8, 8)
    total, weight = 0.0, 0.0
    for u, v in AC_POSITIONS:
        k = np.abs(np.rint(coef[:, :, u, v] / q[u, v])).astype(np.int64).ravel()
        h = np.bincount(k, minlength=HIST_MAX + 2)[: HIST_MAX + 1].astype(np.float64)
        if h[1:].sum() < MIN_COUNT:
            continue
        mid = h[2:HIST_MAX]
        nb = 0.5 * (h[1 : HIST_MAX - 1] + h[3 : HIST_MAX + 1])
        live = (mid + nb) >= 4
        if not live.any():
            continue
        dev = np.abs(np.log((mid[live] + 1.0) / (nb[live] + 1.0)))
        w = mid[live] + nb[live]
        total += float((dev * w).sum())
        weight += float(w.sum())
    if weight == 0:
        return None
    return round(total / weight, 6)


def grid_offset(y: NDArray[np.float64]) -> tuple[int, int, float]:
    """Where the 8x8 blocking is strongest: (dx, dy, contrast). (0, 0) is the aligned grid."""

    def axis(diff: NDArray[np.float64]) -> tuple[int, float]:
        prof = diff.mean(axis=0)
        n = (prof.size // 8) * 8
        per = prof[:n].reshape(-1, 8).mean(axis=0)  # per[p]: boundary between p and p+1
        best = int(np.argmax(per))
        rest = np.delete(per, best)
        contrast = float((per[best] - rest.mean()) / (rest.std() + 1e-9))
        return (best + 1) % 8, contrast

    def absdiff(axis_: int) -> NDArray[np.float64]:
        d = np.diff(y, axis=axis_)
        return np.abs(d, out=d)  # in place: one full-size temporary, not two

    dx, cx = axis(absdiff(1))
    dy, cy = axis(absdiff(0).T)
    return dx, dy, round(min(cx, cy), 4)


def dq_threshold() -> float:
    rates = error_rate("jpeg.double_compression")
    if rates and isinstance(rates.get("threshold"), (int, float)):
        return float(rates["threshold"])
    return DEFAULT_DQ_THRESHOLD


class JpegDetector(Detector):
    name = "jpeg"
    version = "2"
    media_types = ("image/jpeg",)

    def parameters(self) -> dict[str, Any]:
        return {
            "ac_positions": [list(p) for p in AC_POSITIONS],
            "hist_max": HIST_MAX,
            "min_count": MIN_COUNT,
            "double_compression_threshold": dq_threshold(),
            "max_pixels": MAX_PIXELS,
            "min_side": MIN_SIDE,
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"numpy": np.__version__, "pillow": PIL.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            data = item.read_bytes()
            y, tables = load_jpeg(data)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable("jpeg", exc.reason_en, exc.reason_ko)])
        quality, exact = estimate_quality(tables)
        findings = [
            Finding(
                "jpeg.quality",
                STATUS_INFO,
                "IJG table scaling fit of the luminance table",
                "Independent JPEG Group libjpeg (jcparam.c) quality scaling",
                quality,
                None,
                f"JPEG quality estimate {quality} "
                f"({'exact IJG tables' if exact else 'closest IJG quality; custom tables'})",
                f"JPEG 품질 추정 {quality} "
                f"({'IJG 표준 테이블과 일치' if exact else '가장 가까운 IJG 품질; 자체 테이블'})",
                "Messengers re-compress (KakaoTalk, Telegram): the quality says how the last "
                "encoder saved the file, not how it was made.",
            )
        ]
        if 0 not in tables:
            findings.append(
                not_applicable(
                    "jpeg.double_compression",
                    "no luminance quantisation table",
                    "휘도 양자화 테이블이 없습니다",
                )
            )
            return DetectorResult(findings)
        score = double_jpeg_score(y, tables[0])
        thr = dq_threshold()
        lim = (
            "Detects an earlier compression on the same 8x8 grid with a different table; blind "
            "when both qualities are equal, weak when the last quality is lower than the first, "
            "and it does not localise. Ordinary re-saving (an editor, a messenger) also "
            "double-compresses: this says the file was compressed twice, not that content "
            "was changed."
        )
        if score is None:
            findings.append(
                not_applicable(
                    "jpeg.double_compression",
                    "too few non-zero DCT coefficients for the histogram test",
                    "히스토그램 검정에 필요한 0이 아닌 DCT 계수가 부족합니다",
                )
            )
        elif score > thr:
            findings.append(
                Finding(
                    "jpeg.double_compression",
                    STATUS_INDICATES,
                    "periodicity of quantised DCT-coefficient histograms (aligned double JPEG)",
                    DQ_REF,
                    score,
                    thr,
                    "indicates aligned double JPEG compression (compressed at least twice with "
                    "different quality)",
                    "정렬된 이중 JPEG 압축(서로 다른 품질로 두 번 이상 압축)을 나타냅니다",
                    lim,
                )
            )
        else:
            findings.append(
                Finding(
                    "jpeg.double_compression",
                    STATUS_NO_EVIDENCE,
                    "periodicity of quantised DCT-coefficient histograms (aligned double JPEG)",
                    DQ_REF,
                    score,
                    thr,
                    "no evidence of aligned double JPEG compression (this does not prove absence)",
                    "정렬된 이중 JPEG 압축의 증거가 없습니다 (부재의 증명은 아닙니다)",
                    lim,
                )
            )
        dx, dy, contrast = grid_offset(y)
        shifted = (dx, dy) != (0, 0)
        findings.append(
            Finding(
                "jpeg.grid",
                STATUS_INFO,
                "position of the strongest 8x8 blocking in the pixel differences",
                GRID_REF,
                {"dx": dx, "dy": dy, "contrast": contrast},
                None,
                (
                    f"the strongest 8x8 blocking lies at offset ({dx}, {dy}), "
                    "not on the file's own grid: "
                    "consistent with cropping or re-compression of a shifted JPEG"
                )
                if shifted
                else f"the 8x8 blocking lies on the file's own grid (contrast {contrast})",
                (
                    f"가장 강한 8x8 블록 경계가 ({dx}, {dy}) 위치에 있습니다: "
                    "잘라내기 또는 어긋난 JPEG의 "
                    "재압축과 일치합니다"
                )
                if shifted
                else f"8x8 블록 경계가 파일 자체의 격자에 있습니다 (대비 {contrast})",
                "Reported for the examiner, no decision: smooth or small images give a weak "
                "contrast; no false-positive rate measured yet.",
            )
        )
        return DetectorResult(findings)


def load_jpeg(data: bytes) -> tuple[NDArray[np.float64], dict[int, list[int]]]:
    """The JPEG's luminance plane (Y of YCbCr as decoded) and its quantisation tables."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = open_bounded(data)
            tables = {int(k): list(v) for k, v in (getattr(im, "quantization", {}) or {}).items()}
            if im.mode == "RGB":
                # ask libjpeg for its decoded YCbCr planes: no colour round trip, so the block DCT
                # of Y lies close to the stored quantised coefficients
                im.draft("YCbCr", im.size)
            im.load()
            if im.mode == "CMYK":
                raise NotAnalysable(
                    "CMYK JPEG: the luminance DCT test does not apply",
                    "CMYK JPEG: 휘도 DCT 검정이 적용되지 않습니다",
                )
            plane = im.convert("L") if im.mode in ("L", "1") else im.convert("YCbCr").getchannel(0)
            y = np.asarray(plane, dtype=np.float64)  # Y only: a third of the memory
    except NotAnalysable:
        raise
    except Exception as exc:
        raise NotAnalysable(
            f"the JPEG cannot be decoded: {type(exc).__name__}: {exc}",
            f"JPEG를 디코딩할 수 없습니다: {type(exc).__name__}: {exc}",
        ) from exc
    if y.ndim == 3:
        y = y[..., 0]
    if min(y.shape) < MIN_SIDE:
        raise NotAnalysable(
            f"{y.shape[1]}x{y.shape[0]} pixels is too small for JPEG statistics",
            f"{y.shape[1]}x{y.shape[0]} 화소는 JPEG 통계에 너무 작습니다",
        )
    return y, tables
