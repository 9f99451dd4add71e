"""The container itself: format, dimensions, frames, truncation and data after the image end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg, read_png
from forensic.media.safe import json_safe
from forensic.media.warning_text import warning_text


class ContainerDescriber(ImageDescriber):
    name = "container"
    version = "1"

    def libraries(self) -> dict[str, str]:
        import PIL

        return {"pillow": PIL.__version__}

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        media_type = self.media_type_of(path)
        result: dict[str, Any] = {"media_type": media_type}
        try:
            if media_type == "image/jpeg":
                jpeg = read_jpeg(path)
                warnings.extend(jpeg.warnings)
                result["segments"] = [
                    {"marker": s.name, "offset": s.offset, "length": s.length}
                    for s in jpeg.segments[:200]
                ]
                result["complete"] = jpeg.has_eoi
                result["trailing_bytes"] = jpeg.trailing_bytes
                if jpeg.trailing_bytes:
                    warnings.append(warning_text("jpeg_trailing", count=jpeg.trailing_bytes))
            elif media_type == "image/png":
                png = read_png(path)
                warnings.extend(png.warnings)
                result["chunks"] = [
                    {"type": c.kind, "offset": c.offset, "length": c.length, "crc_ok": c.crc_ok}
                    for c in png.chunks[:500]
                ]
                result["complete"] = png.has_iend
                result["trailing_bytes"] = png.trailing_bytes
                if png.trailing_bytes:
                    warnings.append(warning_text("png_trailing", count=png.trailing_bytes))
        except OSError as exc:
            warnings.append(warning_text("unreadable", reason=exc.strerror or exc))
        try:
            from forensic.media.safe import open_image

            im, _reduction = open_image(path)  # the header only: nothing is decoded here
            with im:
                result.update(
                    {
                        "format": im.format,
                        "width": im.size[0],
                        "height": im.size[1],
                        "mode": im.mode,
                        "frames": int(getattr(im, "n_frames", 1)),
                    }
                )
        except Exception as exc:  # Pillow raises many types; unsupported HEIC among them
            warnings.append(
                warning_text("pillow_unreadable", reason=f"{type(exc).__name__}: {exc}")
            )
        result["warnings"] = warnings
        return dict(json_safe(result))
