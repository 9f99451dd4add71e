"""The JPEG grid of every pixel and the regions that disagree with the image's main grid (ZERO).

Nikoukhah, Anger, Ehret, Colom, Morel & Grompone von Gioi, 'JPEG grid detection based on the
number of DCT zeros and its application to automatic and localized forgery detection', CVPR
Workshops 2019; Nikoukhah, Anger, Colom, Morel & Grompone von Gioi, 'ZERO: a local JPEG grid
origin detector based on the number of DCT zeros and its applications in image forensics',
IPOL 11 (2021) 396-433.

JPEG quantises the DCT of each block of its 8x8 grid: most coefficients become zero. For every
8x8 window of the luminance (rounded to integers), the number of DCT coefficients with
|c| < 0.5 is counted; each pixel votes for the grid origin (one of 64) of the window that
covers it with the most zeros (no vote on a tie, or when that window is constant along a row
or a column). The most voted grid is the image's main grid when its number of false alarms
(NFA: number of tests x binomial tail of the votes at chance 1/64) is below 1. Connected
groups of pixels voting for another grid are tested the same way: NFA < 1 marks a region whose
JPEG history differs from the rest (a splice from another JPEG, a pasted copy moved by a
non-multiple of 8) -- or, when the main grid itself is not at (0, 0), pixels cropped after an
earlier JPEG compression, i.e. non-aligned double JPEG compression.

Implementation (numpy + OpenCV, no loop per pixel): the 8x8 DCT of all windows is separable
-- a row DCT of every 8-pixel run (one matrix product per column phase), then a column DCT of
every 8-row window as one matrix product per output row -- and the votes come from two 8x8
max-filters of an integer key ``zeros * 128 + constant * 64 + grid`` (a tie shows as two
different grids for the keys ordered up and down). Region growing links pixels voting for the
same grid within a Chebyshev distance of 9 (the paper's W); that is the 8-connected
components of the votes dilated by a 9x9 square.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
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
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode, open_bounded, png_bytes

#: images with a side below this carry too few 8x8 windows for the a-contrario test
MIN_SIDE = 64
#: at most this many pixels are analysed: the central region (origin on the 8x8 grid) of larger
#: images, so that a 12 MP photo stays within its time budget (see docs/detection.md)
ZERO_MAX_PIXELS = 8_000_000
#: |DCT coefficient| below this counts as zero (the paper: 0.5, the midpoint between 0 and the
#: finest JPEG step; 1e-3 lower so that float32 rounding cannot decide coefficients of exactly
#: 0.5, e.g. the (4, 0) coefficient of a block whose alternating column sum is 4)
ZERO_THRESHOLD = 0.5 - 1e-3
#: region growing: pixels voting for the same grid within this Chebyshev distance are linked
REGION_LINK = 9
#: window rows per stripe (memory) and per column-DCT batch (cache)
STRIPE = 256
BATCH_ROWS = 16
#: speed pre-filter for region growing: a grid is grown only if it holds at least this share
#: of the votes of some TILE x TILE tile (4x chance) ...
TILE = 64
TILE_SHARE = 1 / 16
#: ... and only the MAX_GROWN grids with the densest such tile
MAX_GROWN = 8
#: the figure is at most this wide/high
FIGURE_MAX = 1024
ZERO_REF = (
    "Nikoukhah, Anger, Ehret, Colom, Morel & Grompone von Gioi, 'JPEG grid detection based on "
    "the number of DCT zeros and its application to automatic and localized forgery "
    "detection', CVPR Workshops 2019; Nikoukhah, Anger, Colom, Morel & Grompone von Gioi, "
    "'ZERO: a local JPEG grid origin detector based on the number of DCT zeros and its "
    "applications in image forensics', IPOL 11 (2021) 396-433"
)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")


def _dct_matrix() -> NDArray[np.float32]:
    n = np.arange(8)
    m = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16.0) * np.sqrt(2 / 8)
    m[0, :] = np.sqrt(1 / 8)
    out: NDArray[np.float32] = m.astype(np.float32)
    return out


_DCT = _dct_matrix()
_DCT_T = np.ascontiguousarray(_DCT.T)
_BYTE_SUM = np.uint64(0x0101010101010101)


# --- luminance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Luminance:
    """Integer luminance (uint8) of an image, and how it was obtained."""

    y: NDArray[np.uint8]
    source: str
    notes: tuple[str, ...]


def luminance(path: Path) -> Luminance:
    """The luminance of an image file (see :func:`luminance_from_bytes`). Raises
    :class:`NotAnalysable`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotAnalysable(
            f"the file cannot be read: {exc}", f"파일을 읽을 수 없습니다: {exc}"
        ) from exc
    return luminance_from_bytes(data)


def item_luminance(item: AnalysisInput) -> Luminance:
    """Decoded once per item for the grid and resampling detectors (the item's shared cache).

    JPEG: libjpeg's own Y plane (no colour round trip, so window DCTs on the stored grid lie
    close to the stored quantised coefficients). Other images: round(0.299 R + 0.587 G +
    0.114 B), as in the paper. Raises :class:`NotAnalysable`."""
    return item.cache.get("luminance", lambda: luminance(item.path))


def luminance_from_bytes(data: bytes) -> Luminance:
    """:func:`luminance` of file contents (no cache): what the evaluation scores on bytes."""
    if data[:3] == b"\xff\xd8\xff":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = open_bounded(data)
                if im.mode == "RGB":
                    im.draft("YCbCr", im.size)
                im.load()
                if im.mode == "CMYK":
                    raise NotAnalysable(
                        "CMYK JPEG: the luminance grid test does not apply",
                        "CMYK JPEG: 휘도 격자 검정이 적용되지 않습니다",
                    )
                if im.mode in ("L", "YCbCr"):
                    y = np.asarray(im.getchannel(0), dtype=np.uint8)
                    source = "libjpeg Y plane"
                else:
                    y = _rounded_luma(np.asarray(im.convert("RGB"), dtype=np.uint8))
                    source = "round(0.299 R + 0.587 G + 0.114 B)"
        except NotAnalysable:
            raise
        except Exception as exc:
            raise NotAnalysable(
                f"the JPEG cannot be decoded: {type(exc).__name__}: {exc}",
                f"JPEG를 디코딩할 수 없습니다: {type(exc).__name__}: {exc}",
            ) from exc
        notes: tuple[str, ...] = ()
    else:
        decoded = decode(data)
        y = _rounded_luma(decoded.rgb)
        source = "round(0.299 R + 0.587 G + 0.114 B)"
        notes = tuple(decoded.notes)
    if min(y.shape) < MIN_SIDE:
        raise NotAnalysable(
            f"{y.shape[1]}x{y.shape[0]} pixels is too small for the JPEG grid and resampling "
            f"statistics (at least {MIN_SIDE}x{MIN_SIDE})",
            f"{y.shape[1]}x{y.shape[0]} 화소는 JPEG 격자·리샘플링 통계에 너무 작습니다 "
            f"(최소 {MIN_SIDE}x{MIN_SIDE})",
        )
    return Luminance(np.ascontiguousarray(y), source, notes)


def _rounded_luma(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    out: NDArray[np.uint8] = np.rint(0.299 * r + 0.587 * g + 0.114 * b).astype(np.uint8)
    return out


def central_region(shape: tuple[int, int], max_pixels: int) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) of the analysed region: the whole image, or for larger ones the
    central region of at most ``max_pixels`` with the image's aspect ratio and its origin on
    the 8x8 grid (so grid origins keep their meaning)."""
    h, w = shape
    if h * w <= max_pixels:
        return 0, 0, w, h
    s = math.sqrt(max_pixels / (h * w))
    cw, ch = max(MIN_SIDE, int(w * s)), max(MIN_SIDE, int(h * s))
    x0, y0 = ((w - cw) // 2) // 8 * 8, ((h - ch) // 2) // 8 * 8
    return x0, y0, cw, ch


# --- votes -----------------------------------------------------------------------------------


def zero_counts(y: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Number of AC coefficients with |c| < ZERO_THRESHOLD of the orthonormal 8x8 DCT of the
    window starting at every (row, column): shape (H - 7, W - 7). Works on horizontal
    stripes of STRIPE output rows (memory ~ 36 bytes x STRIPE x W)."""
    h, w = y.shape
    hb, wb = h - 7, w - 7
    m = (wb + 7) // 8  # window positions per column phase
    counts = np.empty((hb, wb), np.uint8)
    padded = np.zeros((STRIPE + 7, 8 * m + 8), np.float32)
    rows = np.empty((STRIPE + 7, 8, m, 8), np.float32)
    out = np.empty((BATCH_ROWS, 8, m * 8), np.float32)
    mask = np.empty((BATCH_ROWS, 8, m * 8), np.bool_)
    per_u = np.empty((BATCH_ROWS, m * 8), np.uint8)
    thr = np.float32(ZERO_THRESHOLD)
    for s0 in range(0, hb, STRIPE):
        sh = min(STRIPE, hb - s0)  # output rows of this stripe
        padded[: sh + 7, :w] = y[s0 : s0 + sh + 7]
        # row DCT of every 8-pixel run: rows[r, p, j, u] is coefficient u of the run starting
        # at column 8 j + p
        for p in range(8):
            np.matmul(
                padded[: sh + 7, p : p + 8 * m].reshape(sh + 7, m, 8), _DCT_T, out=rows[: sh + 7, p]
            )
        for p in range(8):
            cols = (wb - p + 7) // 8
            # 8 consecutive rows of phase p as one (8, m * 8) matrix per output row
            flat = rows[: sh + 7, p].reshape(sh + 7, m * 8)
            windows = sliding_window_view(flat, 8, axis=0).transpose(0, 2, 1)
            for r0 in range(0, sh, BATCH_ROWS):
                b = min(BATCH_ROWS, sh - r0)
                o, k, c = out[:b], mask[:b], per_u[:b]
                np.matmul(_DCT, windows[r0 : r0 + b], out=o)  # o[i, v, 8 j + u]
                np.abs(o, out=o)
                np.less(o, thr, out=k)
                k[:, 0, 0::8] = False  # the DC coefficient is not counted
                np.add.reduce(k.view(np.uint8), axis=1, out=c)
                # sum the 8 u-counts (each <= 8) of a window with one multiply of their bytes
                total = (c.view(np.uint64) * _BYTE_SUM) >> np.uint64(56)
                counts[s0 + r0 : s0 + r0 + b, p::8] = total[:, :cols]
    return counts


def constant_windows(y: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Windows constant along every row or along every column (they vote for nothing: their
    zeros say nothing about a grid): shape (H - 7, W - 7)."""
    h, w = y.shape
    k_row, k_col = np.ones((1, 8), np.uint8), np.ones((8, 1), np.uint8)
    anchor_r, anchor_c = (0, 0), (0, 0)
    flat_rows = cv2.dilate(y, k_row, anchor=anchor_r) == cv2.erode(y, k_row, anchor=anchor_r)
    flat_cols = cv2.dilate(y, k_col, anchor=anchor_c) == cv2.erode(y, k_col, anchor=anchor_c)
    along_x = np.asarray(cv2.erode(flat_rows.view(np.uint8), k_col, anchor=anchor_c), bool)
    along_y = np.asarray(cv2.erode(flat_cols.view(np.uint8), k_row, anchor=anchor_r), bool)
    out: NDArray[np.bool_] = (along_x | along_y)[: h - 7, : w - 7]
    return out


def grid_votes(y: NDArray[np.uint8]) -> NDArray[np.int8]:
    """Per pixel the grid origin ``dx + 8 dy`` (0..63) of the covering 8x8 window with the most
    DCT zeros, or -1 (a tie, a constant window, no zero at all, or within 7 pixels of the
    border where fewer than 64 windows cover the pixel)."""
    h, w = y.shape
    z = zero_counts(y).astype(np.uint16)
    const = constant_windows(y).astype(np.uint16)
    hb, wb = z.shape
    pattern = (np.arange(8)[None, :] + 8 * np.arange(8)[:, None]).astype(np.uint16)
    grid = np.tile(pattern, (hb // 8 + 1, wb // 8 + 1))[:hb, :wb]
    base = z * 128 + const * 64
    kernel = np.ones((8, 8), np.uint8)
    up = np.zeros((h, w), np.uint16)
    down = np.zeros((h, w), np.uint16)
    up[:hb, :wb] = base + grid
    down[:hb, :wb] = base + (63 - grid)
    # max over the windows starting at rows py-7..py and columns px-7..px
    up = np.asarray(cv2.dilate(up, kernel, anchor=(7, 7), borderValue=0), np.uint16)
    down = np.asarray(cv2.dilate(down, kernel, anchor=(7, 7), borderValue=0), np.uint16)
    g = (up & 63).astype(np.int8)
    unique = (g == (63 - (down & 63)).astype(np.int8)) & ((up & 64) == 0) & ((up >> 7) > 0)
    votes: NDArray[np.int8] = np.where(unique, g, np.int8(-1)).astype(np.int8)
    votes[:7, :] = -1
    votes[h - 7 :, :] = -1
    votes[:, :7] = -1
    votes[:, w - 7 :] = -1
    return votes


# --- a-contrario tests -----------------------------------------------------------------------


def log10_nfa(n: int, k: int, p: float, log_nt: float) -> float:
    """log10(NT * P[Binomial(n, p) >= k]), summed in log space (exact to float precision)."""
    if n <= 0 or k <= 0:
        return log_nt
    k = min(k, n)
    if k <= n * p:
        # the tail holds most of the mass: 1 - P[X < k], k terms
        i = np.arange(0, k, dtype=np.float64)
        logt = _log_binom_terms(n, 0, p, i.size)
        below = float(np.exp(logt).sum())
        return log_nt + math.log10(max(1.0 - below, 1e-300))
    total = -math.inf
    start = k
    while start <= n:
        size = min(4096, n - start + 1)
        logt = _log_binom_terms(n, start, p, size)
        total = float(np.logaddexp(total, np.logaddexp.reduce(logt)))
        if logt[-1] - total < -50:  # decreasing terms past the mode: the rest is negligible
            break
        start += size
    return log_nt + total / math.log(10)


def _log_binom_terms(n: int, start: int, p: float, size: int) -> NDArray[np.float64]:
    """ln C(n, i) p^i (1-p)^(n-i) for i = start .. start + size - 1."""
    first = (
        math.lgamma(n + 1)
        - math.lgamma(start + 1)
        - math.lgamma(n - start + 1)
        + start * math.log(p)
        + (n - start) * math.log1p(-p)
    )
    i = np.arange(start, start + size - 1, dtype=np.float64)
    steps = np.log((n - i) / (i + 1)) + math.log(p / (1 - p))
    out: NDArray[np.float64] = first + np.concatenate(([0.0], np.cumsum(steps)))
    return out


def log_number_of_tests(width: int, height: int) -> float:
    """64 grids x 64 x (W H)^2 rectangles, as in the paper (for the main grid and regions)."""
    return 2 * math.log10(64) + 2 * math.log10(width) + 2 * math.log10(height)


@dataclass(frozen=True)
class Region:
    x0: int
    y0: int
    x1: int
    y1: int
    grid: int
    votes: int
    log10_nfa: float

    def as_dict(self, offset: tuple[int, int]) -> dict[str, Any]:
        ox, oy = offset
        return {
            "bbox": [self.x0 + ox, self.y0 + oy, self.x1 + ox, self.y1 + oy],
            "grid": [self.grid % 8, self.grid // 8],
            "votes": self.votes,
            "log10_nfa": round(self.log10_nfa, 3),
        }


@dataclass(frozen=True)
class ZeroResult:
    votes: NDArray[np.int8]
    main_grid: int  # -1: no meaningful grid
    grid_log10_nfa: tuple[float, ...]  # per grid 0..63
    grid_votes: tuple[int, ...]
    regions: tuple[Region, ...]
    mask: NDArray[np.bool_]  # pixels of meaningful regions, closed like the paper's mask
    grown: tuple[int, ...]  # grids whose regions were grown

    def secondary_grids(self) -> list[int]:
        """Meaningful global grids other than the main one (two JPEG histories)."""
        return [g for g, v in enumerate(self.grid_log10_nfa) if v < 0 and g != self.main_grid]


def zero(y: NDArray[np.uint8]) -> ZeroResult:
    """The paper's analysis of one luminance image: votes, main grid, foreign regions."""
    h, w = y.shape
    votes = grid_votes(y)
    log_nt = log_number_of_tests(w, h)
    counts = np.bincount((votes.ravel().astype(np.int16) + 1), minlength=65)[1:]
    # votes are correlated within 8x8 windows: /64 counts roughly independent votes
    n = h * w // 64
    lnfa = tuple(log10_nfa(n, int(c) // 64, 1 / 64, log_nt) for c in counts)
    best = int(np.argmax(counts))
    main = best if counts[best] > 0 and lnfa[best] < 0 else -1
    regions, mask, grown = foreign_regions(votes, main, log_nt)
    return ZeroResult(
        votes,
        main,
        lnfa,
        tuple(int(c) for c in counts),
        tuple(regions),
        mask,
        tuple(grown),
    )


def foreign_regions(
    votes: NDArray[np.int8], exclude: int, log_nt: float
) -> tuple[list[Region], NDArray[np.bool_], list[int]]:
    """Regions voting for a grid other than ``exclude`` (-1: any grid) with NFA < 1."""
    h, w = votes.shape
    min_size = math.ceil(64 * log_nt / math.log10(64))
    valid = (votes >= 0) & (votes != exclude)
    th, tw = -(-h // TILE), -(-w // TILE)
    tile_id = (np.arange(h) // TILE)[:, None] * tw + (np.arange(w) // TILE)[None, :]
    flat = (tile_id[valid] * 64 + votes[valid]).astype(np.int64)
    per_tile = np.bincount(flat, minlength=th * tw * 64).reshape(th * tw, 64)
    totals = per_tile.sum(axis=0)
    densest = per_tile.max(axis=0)
    tile_pixels = TILE * TILE
    candidates = [
        g
        for g in range(64)
        if g != exclude and totals[g] >= min_size and densest[g] >= TILE_SHARE * tile_pixels
    ]
    candidates = sorted(candidates, key=lambda g: (-int(densest[g]), g))[:MAX_GROWN]
    regions: list[Region] = []
    mask = np.zeros((h, w), np.uint8)
    side = 2 * (REGION_LINK // 2) + 1  # 9: squares of half-side 4 touch iff distance <= 9
    square = np.ones((side, side), np.uint8)
    for g in sorted(candidates):
        member = (votes == g).view(np.uint8)
        linked = cv2.dilate(member, square)
        n_lab, labels = cv2.connectedComponents(linked, connectivity=8, ltype=cv2.CV_32S)
        lab = labels[member.view(bool)]
        sizes = np.bincount(lab, minlength=n_lab)
        ys, xs = np.nonzero(member)
        for comp in np.nonzero(sizes >= min_size)[0]:
            sel = lab == comp
            cx, cy = xs[sel], ys[sel]
            x0, x1, y0, y1 = int(cx.min()), int(cx.max()), int(cy.min()), int(cy.max())
            n = (x1 - x0 + 1) * (y1 - y0 + 1) // 64
            k = int(sizes[comp]) // 64
            value = log10_nfa(n, k, 1 / 64, log_nt)
            if value < 0:
                regions.append(Region(x0, y0, x1, y1, g, int(sizes[comp]), value))
                mask[cy, cx] = 1
    if regions:  # the paper's regularisation: a closing with a (2W+1) square
        big = np.ones((2 * REGION_LINK + 1, 2 * REGION_LINK + 1), np.uint8)
        mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, big), np.uint8)
    regions.sort(key=lambda r: (r.log10_nfa, r.y0, r.x0))
    return regions, mask.astype(bool), sorted(candidates)


# --- figure and heatmap ----------------------------------------------------------------------


def _palette() -> NDArray[np.uint8]:
    """A fixed colour per grid origin (hue from the origin), black for no vote."""
    hues = (np.arange(64) * 37 % 64) * (180 / 64)
    hsv = np.stack([hues, np.full(64, 200), np.full(64, 230)], axis=1).astype(np.uint8)
    rgb = cv2.cvtColor(hsv[None, :, :], cv2.COLOR_HSV2RGB)[0]
    return np.vstack([rgb, np.zeros((1, 3), np.uint8)])


def vote_figure(result: ZeroResult) -> NDArray[np.uint8]:
    """The vote map: main grid grey, other grids coloured, no vote black, regions outlined."""
    votes = result.votes
    h, w = votes.shape
    step = max(1, math.ceil(max(h, w) / FIGURE_MAX))
    small = votes[::step, ::step].astype(np.int16)
    colours = _palette()
    img = colours[np.where(small < 0, 64, small)]
    if result.main_grid >= 0:
        img[small == result.main_grid] = (96, 96, 96)
    for r in result.regions:
        x0, x1, y0, y1 = r.x0 // step, r.x1 // step, r.y0 // step, r.y1 // step
        img[y0 : y1 + 1, [x0, x1]] = (255, 0, 0)
        img[[y0, y1], x0 : x1 + 1] = (255, 0, 0)
    return np.ascontiguousarray(img)


def heatmap(result: ZeroResult, full: tuple[int, int], offset: tuple[int, int]) -> NDArray[Any]:
    """Per 8x8 cell of the whole image: 1 inside meaningful regions, elsewhere half the share
    of the cell's votes for a grid other than the main one (0 outside the analysed region)."""
    votes = result.votes
    h, w = votes.shape
    ch, cw = h // 8, w // 8
    v = votes[: ch * 8, : cw * 8].reshape(ch, 8, cw, 8)
    valid = (v >= 0).sum(axis=(1, 3))
    if result.main_grid >= 0:
        other = ((v >= 0) & (v != result.main_grid)).sum(axis=(1, 3))
        share = other / np.maximum(valid, 1)
    else:
        share = np.zeros((ch, cw))
    inside = result.mask[: ch * 8, : cw * 8].reshape(ch, 8, cw, 8).mean(axis=(1, 3))
    cells = np.maximum(0.5 * share, (inside > 0.5).astype(np.float64))
    fh, fw = full
    out = np.zeros((-(-fh // 8), -(-fw // 8)), np.float32)
    oy, ox = offset[1] // 8, offset[0] // 8
    out[oy : oy + ch, ox : ox + cw] = cells
    return out


# --- detector --------------------------------------------------------------------------------

LIMITS_REGIONS = (
    "Finds regions whose 8x8 JPEG grid differs from the main one; blind to a splice whose "
    "source was never JPEG-compressed at a coarser quality than the final file, to pastes "
    "moved by multiples of 8 pixels, and after strong re-compression or resizing (messengers) "
    "that erase the earlier grid. Smooth or saturated areas cast no vote. A region means a "
    "different compression history, not necessarily a changed content (a logo or caption "
    "added in an editor also shows). Speed pre-filter: a grid is grown into regions only "
    "where it holds at least 1/16 of some 64x64 tile's votes (at most 8 grids), so large "
    "regions voting at 2-4x chance are not examined; images over "
    f"{ZERO_MAX_PIXELS // 1_000_000} MP are analysed on their central "
    f"{ZERO_MAX_PIXELS // 1_000_000} MP only."
)
LIMITS_ORIGIN = (
    "A JPEG grid not at (0, 0) means the pixels were shifted (cropped) after a JPEG "
    "compression: ordinary cropping in an editor does this too, so it says how the file was "
    "made, not that content was changed. Two meaningful global grids mean two JPEG "
    "compressions on different grids (non-aligned double JPEG). Blind when the last "
    "compression was coarser than the first (its zeros dominate) and after resizing; no "
    "false-positive rate measured yet."
)


class GridZeroDetector(Detector):
    """ZERO: the JPEG grid origin per pixel, a-contrario main grid and foreign regions."""

    name = "jpeg_grid"
    version = "1"
    media_types = IMAGE_TYPES

    def parameters(self) -> dict[str, Any]:
        return {
            "zero_threshold": ZERO_THRESHOLD,
            "binomial_p": 1 / 64,
            "votes_per_independent_observation": 64,
            "number_of_tests": "64^2 W^2 H^2",
            "nfa_threshold": 1.0,
            "region_link_distance": REGION_LINK,
            "mask_closing": 2 * REGION_LINK + 1,
            "grow_tile": TILE,
            "grow_tile_share": TILE_SHARE,
            "grow_max_grids": MAX_GROWN,
            "max_pixels_analysed": ZERO_MAX_PIXELS,
            "min_side": MIN_SIDE,
            "max_pixels": MAX_PIXELS,
            "figure_max": FIGURE_MAX,
            "luminance": "JPEG: libjpeg Y plane; other: round(0.299 R + 0.587 G + 0.114 B)",
        }

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"numpy": np.__version__, "opencv": cv2.__version__, "pillow": PIL.__version__}

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        try:
            lum = item_luminance(item)
        except NotAnalysable as exc:
            return DetectorResult([not_applicable(self.name, exc.reason_en, exc.reason_ko)])
        full = lum.y.shape
        x0, y0, cw, ch = central_region((full[0], full[1]), ZERO_MAX_PIXELS)
        result = zero(lum.y[y0 : y0 + ch, x0 : x0 + cw])
        fig = f"{self.name}-votes.png"
        figures = {fig: png_bytes(vote_figure(result))}
        offset = (x0, y0)
        details: dict[str, Any] = {
            "analysed_region": {"x": x0, "y": y0, "width": cw, "height": ch},
            "image_size": {"width": full[1], "height": full[0]},
            "luminance": lum.source,
            "main_grid": _grid_dict(result, result.main_grid),
            "meaningful_global_grids": [_grid_dict(result, g) for g in result.secondary_grids()],
            "regions": [r.as_dict(offset) for r in result.regions],
            "grids_grown": [[g % 8, g // 8] for g in result.grown],
            "figure_legend": "grey: main grid; colours: other grid origins; black: no vote; "
            "red boxes: regions with NFA < 1",
        }
        if lum.notes:
            details["notes"] = list(lum.notes)
        findings = [self._regions(result, details, fig), self._origin(result, details, fig)]
        heat = heatmap(result, (full[0], full[1]), offset)
        return DetectorResult(findings, figures, {"jpeg.grid_zero": heat})

    def _regions(self, result: ZeroResult, details: dict[str, Any], fig: str) -> Finding:
        method = (
            "ZERO: per-pixel vote for the 8x8 grid origin with the most DCT zeros; regions "
            "voting for another grid than the main one, a-contrario test (NFA < 1)"
        )
        value = round(max((-r.log10_nfa for r in result.regions), default=0.0), 3)
        if result.regions:
            best = result.regions[0]
            where = best.as_dict(details_offset(details))
            return Finding(
                "jpeg.grid_zero",
                STATUS_INDICATES,
                method,
                ZERO_REF,
                value,
                0.0,
                f"indicates {len(result.regions)} region(s) whose JPEG grid differs from the "
                f"rest of the image (most meaningful: box {where['bbox']}, grid "
                f"{tuple(where['grid'])}, NFA 10^{where['log10_nfa']}): consistent with "
                "content pasted from another JPEG or moved off the 8x8 grid",
                f"이미지의 나머지와 JPEG 격자가 다른 영역 {len(result.regions)}곳을 나타냅니다 "
                f"(가장 유의한 영역: 상자 {where['bbox']}, 격자 {tuple(where['grid'])}, "
                f"NFA 10^{where['log10_nfa']}): 다른 JPEG에서 붙여 넣었거나 8x8 격자에서 "
                "벗어나게 옮긴 내용과 일치합니다",
                LIMITS_REGIONS,
                figures=[fig],
                extra=details,
            )
        return Finding(
            "jpeg.grid_zero",
            STATUS_NO_EVIDENCE,
            method,
            ZERO_REF,
            value,
            0.0,
            "no evidence of a region with a different JPEG grid (this does not prove absence)",
            "JPEG 격자가 다른 영역의 증거가 없습니다 (부재의 증명은 아닙니다)",
            LIMITS_REGIONS,
            figures=[fig],
            extra=details,
        )

    def _origin(self, result: ZeroResult, details: dict[str, Any], fig: str) -> Finding:
        method = (
            "ZERO: the most voted 8x8 grid origin and every other meaningful global grid "
            "(NFA < 1); origin (0, 0) is the file's own grid"
        )
        shifted = [g for g in [result.main_grid, *result.secondary_grids()] if g > 0]
        value = round(max((-result.grid_log10_nfa[g] for g in shifted), default=0.0), 3)
        extra = {
            "main_grid": details["main_grid"],
            "meaningful_global_grids": details["meaningful_global_grids"],
        }
        if result.main_grid < 0 and not result.secondary_grids():
            return Finding(
                "jpeg.grid_nonaligned",
                STATUS_INFO,
                method,
                ZERO_REF,
                value,
                0.0,
                "no meaningful JPEG grid in the pixels: consistent with an image never "
                "JPEG-compressed, or compressed at a very high quality, or resized since",
                "화소에서 유의한 JPEG 격자가 없습니다: JPEG로 압축된 적이 없거나, 매우 높은 "
                "품질로 압축되었거나, 이후 크기가 바뀐 이미지와 일치합니다",
                LIMITS_ORIGIN,
                figures=[fig],
                extra=extra,
            )
        if shifted:
            g = shifted[0]
            two = len(result.secondary_grids()) > 0 and result.main_grid >= 0
            return Finding(
                "jpeg.grid_nonaligned",
                STATUS_INDICATES,
                method,
                ZERO_REF,
                value,
                0.0,
                f"indicates a JPEG grid at origin ({g % 8}, {g // 8}), not on the file's own "
                "grid: consistent with cropping after JPEG compression"
                + (
                    " and a second compression on another grid (non-aligned double JPEG)"
                    if two
                    else ""
                ),
                f"파일 자체 격자가 아닌 원점 ({g % 8}, {g // 8})의 JPEG 격자를 나타냅니다: JPEG "
                "압축 후 잘라내기와 일치합니다"
                + (" (다른 격자에서의 두 번째 압축: 어긋난 이중 JPEG)" if two else ""),
                LIMITS_ORIGIN,
                figures=[fig],
                extra=extra,
            )
        return Finding(
            "jpeg.grid_nonaligned",
            STATUS_NO_EVIDENCE,
            method,
            ZERO_REF,
            value,
            0.0,
            "the JPEG grid lies at (0, 0), the file's own grid: no evidence of cropping after "
            "compression or of non-aligned double JPEG (this does not prove absence)",
            "JPEG 격자가 파일 자체 격자인 (0, 0)에 있습니다: 압축 후 잘라내기나 어긋난 이중 "
            "JPEG의 증거가 없습니다 (부재의 증명은 아닙니다)",
            LIMITS_ORIGIN,
            figures=[fig],
            extra=extra,
        )


def details_offset(details: dict[str, Any]) -> tuple[int, int]:
    region = details["analysed_region"]
    return int(region["x"]), int(region["y"])


def _grid_dict(result: ZeroResult, g: int) -> dict[str, Any] | None:
    if g < 0:
        best = int(np.argmax(result.grid_votes))
        return {
            "found": False,
            "most_voted": [best % 8, best // 8],
            "log10_nfa": round(result.grid_log10_nfa[best], 3),
        }
    return {
        "found": True,
        "grid": [g % 8, g // 8],
        "votes": result.grid_votes[g],
        "log10_nfa": round(result.grid_log10_nfa[g], 3),
    }
