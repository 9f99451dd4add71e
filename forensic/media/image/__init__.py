"""Image describers: EXIF, XMP, IPTC IIM, ICC, thumbnail, JPEG quantisation, PNG text."""

from __future__ import annotations

from forensic.media.interface import MediaDescriber


def image_describers() -> list[MediaDescriber]:
    from forensic.media.image.basic import ContainerDescriber
    from forensic.media.image.exif import ExifDescriber
    from forensic.media.image.generators import GeneratorDescriber
    from forensic.media.image.icc import IccDescriber
    from forensic.media.image.iptc import IptcDescriber
    from forensic.media.image.jpeg_quant import JpegQuantDescriber
    from forensic.media.image.thumbnail import ThumbnailDescriber
    from forensic.media.image.xmp import XmpDescriber

    return [
        ContainerDescriber(),
        ExifDescriber(),
        XmpDescriber(),
        IptcDescriber(),
        IccDescriber(),
        ThumbnailDescriber(),
        JpegQuantDescriber(),
        GeneratorDescriber(),
    ]
