"""XMP packets: every property, plus IPTC DigitalSourceType, creator tool and edit history."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from lxml import etree

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg, read_png, read_riff
from forensic.media.safe import clean_text, json_safe
from forensic.media.warning_text import warning_text

MAX_XMP_BYTES = 4 * 1024 * 1024
SCAN_BYTES = 16 * 1024 * 1024
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PREFIXES = MappingProxyType(
    {
        "http://ns.adobe.com/xap/1.0/": "xmp",
        "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
        "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
        "http://ns.adobe.com/xap/1.0/sType/ResourceRef#": "stRef",
        "http://purl.org/dc/elements/1.1/": "dc",
        "http://ns.adobe.com/photoshop/1.0/": "photoshop",
        "http://ns.adobe.com/tiff/1.0/": "tiff",
        "http://ns.adobe.com/exif/1.0/": "exif",
        "http://cipa.jp/exif/1.0/": "exifEX",
        "http://ns.adobe.com/exif/1.0/aux/": "aux",
        "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
        "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
        "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
        "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
        "http://ns.google.com/photos/1.0/image/": "GImage",
        "http://ns.google.com/photos/1.0/camera/": "GCamera",
        "http://ns.adobe.com/xmp/note/": "xmpNote",
        "http://ns.adobe.com/pdf/1.3/": "pdf",
        RDF: "rdf",
    }
)
DIGITAL_SOURCE_MEANING = MappingProxyType(
    {
        "trainedAlgorithmicMedia": "created by a generative AI model",
        "compositeWithTrainedAlgorithmicMedia": "edited or composited with generative AI",
        "algorithmicMedia": "created algorithmically (not by a trained model)",
        "compositeSynthetic": "composite including synthetic elements",
        "digitalCapture": "captured by a digital camera",
        "digitalArt": "created by a person with digital tools",
        "composite": "composite of several elements",
        "minorHumanEdits": "captured, with minor human edits",
        "dataDrivenMedia": "produced from data",
        "negativeFilm": "digitised from a negative film",
        "positiveFilm": "digitised from a positive film",
        "print": "digitised from a print",
        "screenCapture": "screen capture",
        "virtualRecording": "recording of a virtual event",
    }
)


def _qname(tag: str, nsmap: dict[str, str]) -> str:
    if not tag.startswith("{"):
        return tag
    ns, local = tag[1:].split("}", 1)
    prefix = PREFIXES.get(ns) or next((p for p, u in nsmap.items() if u == ns and p), None)
    return f"{prefix or ns}:{local}"


def _value(el: Any, nsmap: dict[str, str], depth: int = 0) -> Any:
    if depth > 20:
        return "[nested too deep]"
    children = [c for c in el if isinstance(c.tag, str)]
    resource = el.get(f"{{{RDF}}}resource")
    if resource is not None:
        return clean_text(resource, 4096)
    if not children:
        attrs = {
            _qname(k, nsmap): clean_text(v, 4096)
            for k, v in el.attrib.items()
            if not k.startswith(f"{{{RDF}}}") and not k.startswith("{http://www.w3.org/XML")
        }
        if attrs:
            return attrs
        return clean_text(el.text or "", 65536)
    first = children[0]
    if len(children) == 1 and first.tag in (f"{{{RDF}}}Seq", f"{{{RDF}}}Bag", f"{{{RDF}}}Alt"):
        return [_value(li, nsmap, depth + 1) for li in first if isinstance(li.tag, str)][:1000]
    if len(children) == 1 and first.tag == f"{{{RDF}}}Description":
        return _struct(first, nsmap, depth + 1)
    return _struct(el, nsmap, depth + 1)


def _struct(el: Any, nsmap: dict[str, str], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in el.attrib.items():
        if not k.startswith(f"{{{RDF}}}") and not k.startswith("{http://www.w3.org/XML"):
            out[_qname(k, nsmap)] = clean_text(v, 65536)
    for child in el:
        if isinstance(child.tag, str):
            out[_qname(child.tag, nsmap)] = _value(child, nsmap, depth + 1)
    return out


def parse_xmp(packet: bytes) -> tuple[dict[str, Any], list[str]]:
    """All properties of an XMP packet as ``prefix:Name → value``."""
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    if start < 0:
        return {}, ["XMP packet has no x:xmpmeta or rdf:RDF element"]
    end_tag = b"</x:xmpmeta>" if packet[start:].startswith(b"<x:xmpmeta") else b"</rdf:RDF>"
    end = packet.find(end_tag, start)
    if end < 0:
        return {}, ["XMP packet is cut off (no closing element)"]
    body = packet[start : end + len(end_tag)]
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return {}, [f"XMP is not well-formed XML: {clean_text(str(exc), 300)}"]
    props: dict[str, Any] = {}
    for desc in root.iter(f"{{{RDF}}}Description"):
        parent = desc.getparent()
        if parent is None or parent.tag != f"{{{RDF}}}RDF":
            continue
        nsmap = {k or "": v for k, v in desc.nsmap.items()}
        props.update(_struct(desc, nsmap, 0))
    return props, []


def find_packets(path: Path, media_type: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(where, packet) for each XMP packet in the container; bounded scan as a fallback."""
    packets: list[tuple[str, bytes]] = []
    warnings: list[str] = []
    if media_type == "image/jpeg":
        jpeg = read_jpeg(path)
        for seg in jpeg.app(0xE1, XMP_APP1):
            packets.append((f"JPEG APP1 at byte {seg.offset}", seg.data[len(XMP_APP1) :]))
        ext = jpeg.app(0xE1, XMP_EXT_APP1)
        if ext:
            parts: dict[str, list[tuple[int, bytes]]] = {}
            for seg in ext:
                body = seg.data[len(XMP_EXT_APP1) :]
                guid, offset = body[:32].decode("latin-1"), int.from_bytes(body[36:40], "big")
                parts.setdefault(guid, []).append((offset, body[40:]))
            for guid, pieces in parts.items():
                data = b"".join(c for _, c in sorted(pieces))
                packets.append((f"JPEG extended XMP {guid}", data))
    elif media_type == "image/png":
        for chunk in read_png(path).chunks:
            if chunk.kind == "iTXt" and chunk.data.startswith(b"XML:com.adobe.xmp\x00"):
                text = _itxt_text(chunk.data)
                if text is not None:
                    packets.append((f"PNG iTXt at byte {chunk.offset}", text))
                else:
                    warnings.append(warning_text("xmp_itxt_undecodable", pos=chunk.offset))
    elif media_type == "image/webp":
        chunks, warns = read_riff(path, frozenset({"XMP "}))
        warnings.extend(warns)
        packets.extend(("WebP XMP chunk", c.data) for c in chunks if c.kind == "XMP ")
    if not packets:
        with path.open("rb") as fh:
            data = fh.read(SCAN_BYTES)
        start = data.find(b"<x:xmpmeta")
        if start >= 0:
            end = data.find(b"</x:xmpmeta>", start)
            stop = end + 12 if end >= 0 else len(data)
            packets.append((f"packet at byte {start}", data[start:stop]))
    return packets, warnings


def _itxt_text(data: bytes) -> bytes | None:
    import zlib

    try:
        _keyword, rest = data.split(b"\x00", 1)
        flag, _method, rest = rest[0], rest[1], rest[2:]
        _lang, rest = rest.split(b"\x00", 1)
        _translated, text = rest.split(b"\x00", 1)
        if flag:
            dec = zlib.decompressobj()
            text = dec.decompress(text, MAX_XMP_BYTES + 1)
        return text
    except (ValueError, IndexError, zlib.error):
        return None


def _source_type(props: dict[str, Any]) -> str | None:
    value = props.get("Iptc4xmpExt:DigitalSourceType")
    if isinstance(value, str) and value:
        return value
    return None


class XmpDescriber(ImageDescriber):
    name = "xmp"
    version = "1"

    def libraries(self) -> dict[str, str]:
        return {"lxml": ".".join(str(p) for p in etree.LXML_VERSION)}

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        props: dict[str, Any] = {}
        where: list[str] = []
        try:
            packets, warns = find_packets(path, self.media_type_of(path))
            warnings.extend(warns)
            for source, packet in packets:
                where.append(source)
                if len(packet) > MAX_XMP_BYTES:
                    warnings.append(
                        warning_text(
                            "xmp_too_large", source=source, size=len(packet), limit=MAX_XMP_BYTES
                        )
                    )
                    continue
                found, warns = parse_xmp(packet)
                warnings.extend(f"{source}: {w}" for w in warns)
                props.update(found)
        except OSError as exc:
            warnings.append(warning_text("xmp_unreadable", reason=exc.strerror or exc))
        dst = _source_type(props)
        history = props.get("xmpMM:History")
        result: dict[str, Any] = {
            "present": bool(where),
            "sources": where,
            "creator_tool": props.get("xmp:CreatorTool"),
            "digital_source_type": dst,
            "digital_source_meaning": (
                DIGITAL_SOURCE_MEANING.get(dst.rstrip("/").rsplit("/", 1)[-1]) if dst else None
            ),
            "history": history if isinstance(history, list) else None,
            "photoshop_history": props.get("photoshop:History"),
            "properties": props,
            "warnings": warnings,
        }
        return dict(json_safe(result))
