"""The embedded EXIF thumbnail, and whether its picture differs from the main image.

An edited photo often keeps the camera's original thumbnail: a thumbnail showing something
else than the main image is a lead worth an examiner's look (not proof of anything by itself).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.exif import read_exif
from forensic.media.safe import json_safe
from forensic.media.warning_text import warning_text

#: mean absolute grey-level difference (0-255) above which the thumbnail "differs"
DIFFER_THRESHOLD = 24.0
ASPECT_TOLERANCE = 0.05


def compare(thumb: bytes, path: Path) -> dict[str, Any]:
    from PIL import Image, ImageChops, ImageStat

    from forensic.media.safe import open_image

    t, _reduction = open_image(thumb)
    with t:
        t.load()
        tw, th = t.size
        tg = t.convert("L")
    im, reduction = open_image(path)
    with im:
        mw, mh = reduction.full if reduction is not None else im.size
        if im.format == "JPEG":
            im.draft("L", (tw * 2, th * 2))
        main = im.convert("L").resize((tw, th), Image.Resampling.BILINEAR)
    diff = ImageChops.difference(tg, main)
    mean = float(ImageStat.Stat(diff).mean[0])
    aspect_main, aspect_thumb = mw / mh, tw / th
    aspect_differs = abs(aspect_main - aspect_thumb) / aspect_main > ASPECT_TOLERANCE
    return {
        "width": tw,
        "height": th,
        "main_width": mw,
        "main_height": mh,
        "mean_abs_difference": round(mean, 2),
        "threshold": DIFFER_THRESHOLD,
        "aspect_differs": aspect_differs,
        "differs": aspect_differs or mean > DIFFER_THRESHOLD,
    }


class ThumbnailDescriber(ImageDescriber):
    name = "thumbnail"
    version = "1"
    types = frozenset({"image/jpeg", "image/tiff", "image/webp", "image/png"})

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"pillow": PIL.__version__}

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        data = read_exif(path, self.media_type_of(path))
        thumb = data.thumbnail
        result: dict[str, Any] = {"present": thumb is not None, "warnings": warnings}
        if thumb is None:
            return result
        result["size"] = len(thumb)
        result["sha256"] = hashlib.sha256(thumb).hexdigest()
        try:
            result.update(compare(thumb, path))
        except Exception as exc:  # Pillow raises many types on damaged data
            warnings.append(
                warning_text("thumbnail_uncomparable", reason=f"{type(exc).__name__}: {exc}")
            )
        return dict(json_safe(result))
