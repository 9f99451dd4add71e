"""What an item keeps of a given original photo, and where it differs from it.

Most manipulated intimate images start from an ordinary photo of the person: a face pasted onto
another body, a body regenerated around her face and background. After messenger
re-compression pixel statistics are at chance; a comparison with the original is not. The item
is aligned to the original (SIFT keypoints, Lowe's ratio test, a RANSAC homography: tolerant of
crop, rescale, rotation and re-compression), the original is warped into the item's frame,
colours are matched globally, and the per-block difference marks what the original does not
explain. PDQ distances of the aligned regions say how alike they are in a form anyone can
recompute.

What it cannot show: which of the two came first (the "original" is whatever the user says it
is), content the original does not cover (counted apart as "outside the original"), changes
smaller than a block or as faint as re-compression noise, and a change that copies the
original's own content (a region moved within the picture is marked, a region re-generated
identically is not). Measured on generated manipulations in ``docs/detection.md``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: pictures are aligned and compared at most this size (longest side, pixels)
WORK_SIDE = 1024
#: keypoints detected per picture
FEATURES = 4000
#: Lowe's ratio test
RATIO = 0.75
#: RANSAC reprojection tolerance at the working size (pixels)
RANSAC_PX = 4.0
#: fewest RANSAC inliers, and smallest inlier share of the ratio-test matches, for an alignment
MIN_INLIERS = 20
MIN_INLIER_SHARE = 0.15
#: the homography's linear part must scale by 1/8 to 8 and stay nearly affine
SCALE_RANGE = (0.125, 8.0)
MAX_PERSPECTIVE = 2e-3
#: block side (working pixels) of the difference map, and the blur before differencing
BLOCK = 8
BLUR_SIGMA = 1.5
#: a block "differs" when its median colour difference (0-255, after colour matching) is over
#: this; set on unaltered re-compressed copies (docs/detection.md, "Comparison")
DIFF_THRESHOLD = 14.0
#: changed regions smaller than this share of the item are dropped (re-compression specks)
MIN_REGION_SHARE = 0.004
#: the figure: longest side, and the blur that keeps the content unreadable
FIGURE_SIDE = 480
FIGURE_BLUR = 12
PARAMETERS = MappingProxyType(
    {
        "work_side": WORK_SIDE,
        "features": FEATURES,
        "ratio": RATIO,
        "ransac_px": RANSAC_PX,
        "min_inliers": MIN_INLIERS,
        "min_inlier_share": MIN_INLIER_SHARE,
        "block": BLOCK,
        "blur_sigma": BLUR_SIGMA,
        "diff_threshold": DIFF_THRESHOLD,
        "min_region_share": MIN_REGION_SHARE,
    }
)
METHOD = (
    "SIFT keypoints (OpenCV), Lowe ratio test, RANSAC homography; the original warped into the "
    "item's frame, global per-channel gain/offset colour match, block median difference; PDQ "
    "(Meta) of the aligned regions"
)


class CompareInputError(Exception):
    """A picture that cannot be compared (not an image, refused as too large, no pixels)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class WorkImage:
    """A picture at the working size and what it was at full size."""

    rgb: NDArray[np.uint8]
    width: int
    height: int

    @property
    def scale(self) -> float:
        """Working pixels per full-size pixel."""
        return float(self.rgb.shape[1]) / self.width


@dataclass(frozen=True)
class Region:
    """One connected area of the item that the original does not explain."""

    box: tuple[int, int, int, int]  # x, y, w, h in the item's full-size pixels
    share: float  # of the item's area
    pdq_distance: int | None  # PDQ of the item's box vs. the aligned original's box

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "share": round(self.share, 4),
            "pdq_distance": self.pdq_distance,
        }


@dataclass(frozen=True)
class Comparison:
    """The result; ``aligned`` False means the item shows no alignable part of the original."""

    aligned: bool
    reason: str | None
    matches: int
    inliers: int
    homography: tuple[tuple[float, ...], ...] | None  # item full-size <- original full-size
    explained: float  # share of the item the aligned original explains
    changed: float  # share of the item inside the original's frame that differs
    outside: float  # share of the item the original does not cover
    pdq_distance: int | None  # the item vs. the aligned original over their common frame
    regions: tuple[Region, ...] = ()
    mask: NDArray[np.uint8] | None = field(default=None, repr=False)  # working size, 255 differs

    def as_dict(self) -> dict[str, Any]:
        return {
            "aligned": self.aligned,
            "reason": self.reason,
            "matches": self.matches,
            "inliers": self.inliers,
            "homography": [list(r) for r in self.homography] if self.homography else None,
            "explained": round(self.explained, 4),
            "changed": round(self.changed, 4),
            "outside": round(self.outside, 4),
            "pdq_distance": self.pdq_distance,
            "regions": [r.as_dict() for r in self.regions],
            "parameters": dict(PARAMETERS),
            "method": METHOD,
        }


def read_work_image(source: Path | bytes) -> WorkImage:
    """The picture decoded no larger than needed for the working size (EXIF orientation
    applied, as a person sees it). Raises :class:`CompareInputError`."""
    from PIL import Image, ImageOps

    from forensic.media.safe import ImageRefused, open_image

    try:
        im, _reduction = open_image(source, fit=(WORK_SIDE, WORK_SIDE))
        with im:
            declared = _declared_size(source) or im.size
            im.seek(0)
            decoded = im.size
            oriented = ImageOps.exif_transpose(im)
            turned = oriented.size != decoded and oriented.size == decoded[::-1]
            full = declared[::-1] if turned else declared
            rgb_im = oriented.convert("RGB")
            rgb_im.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
            rgb = np.asarray(rgb_im, dtype=np.uint8)
    except ImageRefused as exc:
        raise CompareInputError(exc.key, **exc.params) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CompareInputError("unreadable", reason=f"{type(exc).__name__}: {exc}") from exc
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 16:
        raise CompareInputError("too_small", width=full[0], height=full[1])
    return WorkImage(np.ascontiguousarray(rgb), int(full[0]), int(full[1]))


def _declared_size(source: Path | bytes) -> tuple[int, int] | None:
    """The size the file declares (its header only: a JPEG may be decoded reduced)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # open_image has already read this header: not expected
        return None


def _grey(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _homography(
    original: NDArray[np.uint8], item: NDArray[np.uint8]
) -> tuple[NDArray[np.float64] | None, int, int, str | None]:
    """The homography item <- original at the working size, the ratio-test matches, the
    RANSAC inliers, and why none was accepted."""
    import cv2

    sift = cv2.SIFT_create(nfeatures=FEATURES)  # type: ignore[attr-defined]
    k1, d1 = sift.detectAndCompute(_grey(original), None)
    k2, d2 = sift.detectAndCompute(_grey(item), None)
    if d1 is None or d2 is None or len(k1) < MIN_INLIERS or len(k2) < MIN_INLIERS:
        return None, 0, 0, "too_few_keypoints"
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(d1, d2, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None, len(good), 0, "too_few_matches"
    src = np.asarray([k1[m.queryIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    dst = np.asarray([k2[m.trainIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    h, inl = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX, maxIters=5000, confidence=0.999)
    inliers = int(inl.sum()) if inl is not None else 0
    if h is None or inliers < MIN_INLIERS or inliers < MIN_INLIER_SHARE * len(good):
        return None, len(good), inliers, "no_consistent_geometry"
    h = np.asarray(h, dtype=np.float64) / h[2, 2]
    sv = np.linalg.svd(h[:2, :2], compute_uv=False)
    if (
        sv.min() < SCALE_RANGE[0]
        or sv.max() > SCALE_RANGE[1]
        or np.abs(h[2, :2]).max() > MAX_PERSPECTIVE
    ):
        return None, len(good), inliers, "implausible_geometry"
    return h, len(good), inliers, None


def _colour_match(
    warped: NDArray[np.float32], item: NDArray[np.float32], valid: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """The warped original with a per-channel gain and offset fitted to the item (robustly:
    over the middle 80 % of differences), so that a global colour or brightness change does
    not mark the whole picture."""
    out = warped.copy()
    for c in range(3):
        a, b = warped[..., c][valid], item[..., c][valid]
        if a.size < 16:
            continue
        for _ in range(2):
            gain, offset = np.polyfit(a, b, 1) if a.std() > 1e-3 else (1.0, float((b - a).mean()))
            r = np.abs(b - (gain * a + offset))
            keep = r <= np.percentile(r, 80)
            a, b = a[keep], b[keep]
        out[..., c] = warped[..., c] * np.float32(gain) + np.float32(offset)
    return out


def _block_difference(
    warped: NDArray[np.float32], item: NDArray[np.float32], valid: NDArray[np.bool_]
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Per block: the median of the largest channel difference, and whether the block lies
    wholly inside the original's frame."""
    import cv2

    a = cv2.GaussianBlur(warped, (0, 0), BLUR_SIGMA)
    b = cv2.GaussianBlur(item, (0, 0), BLUR_SIGMA)
    d = np.abs(a - b).max(axis=2)
    h, w = d.shape
    bh, bw = h // BLOCK, w // BLOCK
    blocks = d[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3)
    med = np.median(blocks.reshape(bh, bw, -1), axis=2).astype(np.float32)
    inside = np.asarray(
        valid[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).all(axis=(1, 3)),
        dtype=np.bool_,
    )
    return med, inside


def _changed_mask(
    med: NDArray[np.float32], inside: NDArray[np.bool_], shape: tuple[int, int]
) -> NDArray[np.uint8]:
    """Blocks over the threshold, closed and opened, small specks dropped; at working size."""
    import cv2

    over = ((med > DIFF_THRESHOLD) & inside).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    over = np.asarray(cv2.morphologyEx(over, cv2.MORPH_CLOSE, kernel), dtype=np.uint8)
    over = np.asarray(
        cv2.morphologyEx(over, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)), dtype=np.uint8
    )
    over &= inside.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(over, connectivity=8)
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        keep[i] = stats[i, cv2.CC_STAT_AREA] >= MIN_REGION_SHARE * over.size
    cleaned = keep[labels].astype(np.uint8) * 255
    h, w = shape
    full = np.zeros((h, w), dtype=np.uint8)
    up = cv2.resize(
        cleaned,
        (cleaned.shape[1] * BLOCK, cleaned.shape[0] * BLOCK),
        interpolation=cv2.INTER_NEAREST,
    )
    full[: up.shape[0], : up.shape[1]] = up
    return full


def _pdq(rgb: NDArray[np.uint8]) -> tuple[str, int] | None:
    from forensic.media.perceptual import pdq_of_rgb

    if min(rgb.shape[:2]) < 16:
        return None
    p = pdq_of_rgb(rgb)
    return p.hex, p.quality


def _pdq_distance(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> int | None:
    from forensic.media.perceptual import hamming

    pa, pb = _pdq(a), _pdq(b)
    return None if pa is None or pb is None else hamming(pa[0], pb[0])


def _regions(
    mask: NDArray[np.uint8], item: WorkImage, aligned: NDArray[np.uint8]
) -> tuple[Region, ...]:
    import cv2

    n, _labels, stats, _ = cv2.connectedComponentsWithStats(
        (mask > 0).astype(np.uint8), connectivity=8
    )
    inv = 1 / item.scale
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        box = (round(x * inv), round(y * inv), round(w * inv), round(h * inv))
        dist = _pdq_distance(item.rgb[y : y + h, x : x + w], aligned[y : y + h, x : x + w])
        out.append(Region(box, area / mask.size, dist))
    return tuple(sorted(out, key=lambda r: -r.share))


def compare_images(original: WorkImage, item: WorkImage) -> Comparison:
    """Align ``item`` to ``original`` and map where they differ."""
    import cv2

    h_work, matches, inliers, reason = _homography(original.rgb, item.rgb)
    if h_work is None:
        return Comparison(False, reason, matches, inliers, None, 0.0, 0.0, 1.0, None)
    ih, iw = item.rgb.shape[:2]
    warped = cv2.warpPerspective(original.rgb, h_work, (iw, ih), flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(
        np.full(original.rgb.shape[:2], 255, np.uint8), h_work, (iw, ih), flags=cv2.INTER_NEAREST
    )
    valid = cv2.erode(cover, np.ones((5, 5), np.uint8)) > 0
    if valid.mean() < 0.01:
        return Comparison(False, "no_overlap", matches, inliers, None, 0.0, 0.0, 1.0, None)
    item_f = item.rgb.astype(np.float32)
    matched = _colour_match(warped.astype(np.float32), item_f, valid)
    med, inside = _block_difference(matched, item_f, valid)
    mask = _changed_mask(med, inside, (ih, iw))
    aligned = np.clip(np.rint(matched), 0, 255).astype(np.uint8)
    changed = float((mask > 0).mean())
    outside = float((~valid).mean())
    ys, xs = np.nonzero(valid)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    whole = _pdq_distance(item.rgb[y0:y1, x0:x1], aligned[y0:y1, x0:x1])
    # full-size homography: item_full <- item_work <- original_work <- original_full
    s_o = np.diag([original.scale, original.scale, 1.0])
    s_i = np.diag([1 / item.scale, 1 / item.scale, 1.0])
    h_full = s_i @ h_work @ s_o
    h_full = h_full / h_full[2, 2]
    return Comparison(
        True,
        None,
        matches,
        inliers,
        tuple(tuple(round(float(v), 8) for v in row) for row in h_full),
        max(0.0, 1.0 - changed - outside),
        changed,
        outside,
        whole,
        _regions(mask, item, aligned),
        mask,
    )


def mask_png(mask: NDArray[np.uint8]) -> bytes:
    """The changed-region mask (white = differs from the original), at the working size."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def figure_png(item: WorkImage, result: Comparison) -> bytes:
    """The item heavily blurred (its content unreadable: it may be intimate) with the regions
    that differ from the original outlined in red and numbered."""
    import cv2
    from PIL import Image, ImageDraw, ImageFilter

    im = Image.fromarray(item.rgb)
    scale = min(1.0, FIGURE_SIDE / max(im.size))
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    im = im.resize(size).filter(ImageFilter.GaussianBlur(FIGURE_BLUR))
    draw = ImageDraw.Draw(im)
    if result.mask is not None:
        small = cv2.resize(result.mask, size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(
            (small > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        for c in contours:
            pts = [tuple(int(v) for v in p[0]) for p in c]
            if len(pts) > 1:
                draw.line([*pts, pts[0]], fill=(255, 0, 0), width=2)
    full_to_fig = scale * item.scale
    for n, region in enumerate(result.regions, start=1):
        x, y = region.box[0] * full_to_fig, region.box[1] * full_to_fig
        draw.text((x + 3, y + 2), str(n), fill=(255, 255, 0))
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()
