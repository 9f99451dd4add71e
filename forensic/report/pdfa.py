"""PDF/A-3b: XMP identification, sRGB OutputIntent, the case manifest as an associated file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pikepdf
from PIL import ImageCms

MANIFEST_NAME = "case-manifest.json"


def srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def mime_type(name: str) -> str:
    suffix = Path(name).suffix
    return (
        "application/json"
        if suffix == ".json"
        else "application/jsonl"
        if suffix == ".jsonl"
        else "application/octet-stream"
    )


def make_pdfa(
    src: Path,
    dst: Path,
    *,
    manifest: dict[str, Any],
    title: str,
    author: str,
    lang: str,
    attachments: dict[str, bytes] | None = None,
) -> None:
    """Rewrite ``src`` as PDF/A-3b into ``dst`` (no object streams, for the widest readers),
    with the manifest and ``attachments`` (name -> bytes) as associated files."""
    with pikepdf.open(src) as pdf:
        drop_unused_standard_fonts(pdf)
        icc = pdf.make_stream(srgb_icc())
        icc["/N"] = 3
        intent = pdfa_output_intent(pdf, icc)
        pdf.Root.OutputIntents = pikepdf.Array([intent])
        pdf.Root.Lang = pikepdf.String("ko-KR" if lang == "ko" else "en-GB")
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
        now = dt.datetime.now(dt.UTC)
        stamp = now.strftime("D:%Y%m%d%H%M%SZ")
        files = {MANIFEST_NAME: json.dumps(manifest, indent=2, ensure_ascii=False).encode()}
        files.update(attachments or {})
        for name, body in files.items():
            pdf.attachments[name] = pikepdf.AttachedFileSpec(
                pdf,
                body,
                description=f"forensic report data: {name}",
                filename=name,
                mime_type=mime_type(name),
                creation_date=stamp,
                mod_date=stamp,
                relationship=pikepdf.Name.Data,
            )
        pdf.Root.AF = pikepdf.Array([pdf.attachments[name].obj for name in files])
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
            meta["dc:title"] = title
            meta["dc:creator"] = [author]
            meta["xmp:CreateDate"] = now.isoformat()
            meta["xmp:ModifyDate"] = now.isoformat()
            meta["xmp:MetadataDate"] = now.isoformat()
            meta["pdf:Producer"] = str(pdf.docinfo.get("/Producer", "forensic"))
        pdf.save(
            dst, fix_metadata_version=False, object_stream_mode=pikepdf.ObjectStreamMode.disable
        )


def pdfa_output_intent(pdf: pikepdf.Pdf, icc: pikepdf.Stream) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
        Info=pikepdf.String("sRGB IEC61966-2.1"),
        DestOutputProfile=icc,
    )


SHOW_OPS = frozenset({"Tj", "TJ", "'", '"'})


def drop_unused_standard_fonts(pdf: pikepdf.Pdf) -> None:
    """Drop reportlab's never-shown Helvetica selections and the unembedded font itself.

    reportlab selects its initial font (Helvetica, not embedded) at the start of every text
    object and immediately selects the real font. A ``Tf`` naming an unembedded font is
    removed only when another ``Tf`` follows before any text is shown, so the font in effect
    for every shown glyph is unchanged; a standard font that really shows text stays (and the
    PDF/A test then fails).
    """
    done: set[tuple[int, int]] = set()
    for page in pdf.pages:
        _clean(pdf, page.obj, page, is_page=True)
        resources: Any = page.obj.get("/Resources")
        xobjects: Any = resources.get("/XObject") if resources is not None else None
        for xobj in (xobjects or {}).values():
            if xobj.get("/Subtype") == "/Form" and xobj.objgen not in done:
                done.add(xobj.objgen)
                _clean(pdf, xobj, xobj, is_page=False)


def _clean(pdf: pikepdf.Pdf, holder: Any, content: Any, *, is_page: bool) -> None:
    resources: Any = holder.get("/Resources")
    fonts: Any = resources.get("/Font") if resources is not None else None
    if fonts is None:
        return
    unembedded = {
        str(name)
        for name, font in fonts.items()
        if font.get("/Subtype") == "/Type1" and "/FontDescriptor" not in font
    }
    if not unembedded:
        return
    kept: list[Any] = []
    pending: int | None = None  # index in kept of a Tf that may be dropped
    drop: set[int] = set()
    for instruction in pikepdf.parse_content_stream(content):
        operands, op = instruction.operands, instruction.operator
        name = str(op)
        if name == "Tf":
            if pending is not None:
                drop.add(pending)
                pending = None
            if operands and str(operands[0]) in unembedded:
                pending = len(kept)
        elif name in SHOW_OPS:
            pending = None
        kept.append((operands, op))
    if pending is not None:
        drop.add(pending)
    kept = [ins for n, ins in enumerate(kept) if n not in drop]
    used = {str(ops[0]) for ops, o in kept if str(o) == "Tf" and ops}
    data = pikepdf.unparse_content_stream(kept)
    if is_page:
        holder.Contents = pdf.make_stream(data)
    else:
        holder.write(data)
    if unembedded - used:
        # resource dictionaries are shared: give this page or form its own
        own = pikepdf.Dictionary({k: v for k, v in fonts.items() if k not in unembedded - used})
        copy = pikepdf.Dictionary(dict(resources.items()))
        copy.Font = own
        holder.Resources = copy
