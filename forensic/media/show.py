"""Human-readable lines of a metadata record (for ``forensic show`` and ``analyze``)."""

from __future__ import annotations

from typing import Any

from forensic.i18n import message
from forensic.media.warning_text import localized_warning

FIELD_ORDER = (
    "make",
    "model",
    "software",
    "datetime_original",
    "offset_time_original",
    "datetime",
    "gps_latitude",
    "gps_longitude",
    "gps_altitude",
    "orientation",
    "lens_make",
    "lens_model",
    "body_serial",
    "artist",
    "copyright",
    "user_comment",
)


def _short(value: Any, limit: int = 200) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def metadata_lines(record: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, value) rows summarising a record; ``--json`` gives the record whole."""

    def t(msg_key: str, **params: object) -> str:
        return message(f"media.{msg_key}", lang, **params)

    rows: list[tuple[str, str]] = []
    container = record.get("container", {})
    if container.get("width"):
        rows.append(
            (t("image"), f"{container.get('format')} {container['width']}×{container['height']}")
        )
    fields = record.get("exif", {}).get("fields", {})
    for name in FIELD_ORDER:
        if name in fields:
            rows.append((f"EXIF {name}", _short(fields[name])))
    xmp = record.get("xmp", {})
    if xmp.get("creator_tool"):
        rows.append(("XMP CreatorTool", _short(xmp["creator_tool"])))
    if xmp.get("digital_source_type"):
        rows.append(
            (
                t("source_type"),
                f"{xmp['digital_source_type']} ({xmp.get('digital_source_meaning') or '?'})",
            )
        )
    if xmp.get("history"):
        rows.append((t("history"), t("history_value", count=len(xmp["history"]))))
    iptc = record.get("iptc", {})
    if iptc.get("present"):
        rows.append(("IPTC", _short(", ".join(f"{k}={v}" for k, v in iptc["records"].items()))))
    icc = record.get("icc", {}).get("profile", {})
    if icc.get("description"):
        rows.append(("ICC", _short(icc["description"])))
    thumb = record.get("thumbnail", {})
    if thumb.get("present") and "differs" in thumb:
        rows.append(
            (
                t("thumbnail"),
                t(
                    "thumbnail_differs" if thumb["differs"] else "thumbnail_same",
                    diff=thumb.get("mean_abs_difference"),
                ),
            )
        )
    quant = record.get("jpeg_quant", {})
    if quant.get("family"):
        key = "quant_ijg" if quant["family"] == "ijg_standard" else "quant_custom"
        rows.append((t("quant"), t(key, quality=quant.get("estimated_quality"))))
    for gen in record.get("generator", {}).get("generators", []):
        rows.append((t("generator"), t("generator_value", name=gen["generator"], key=gen["key"])))
    c2pa = record.get("c2pa", {})
    if c2pa:
        state = str(c2pa.get("state", "none"))
        value = t(f"c2pa_{state}") if state in C2PA_STATES else state
        if c2pa.get("claim_generator"):
            value += f" — {c2pa['claim_generator']}"
        if c2pa.get("signer_untrusted"):
            value += " " + t("c2pa_untrusted_signer")
        if c2pa.get("remote_url"):
            value += f" ({c2pa['remote_url']})"
        rows.append(("C2PA", value))
        if c2pa.get("ai_origin"):
            rows.append((t("c2pa_ai"), ", ".join(c2pa.get("digital_source_types", []))))
    for w in record.get("warnings", []):
        rows.append((t("warning"), _short(localized_warning(str(w), lang), 300)))
    return rows


C2PA_STATES = ("none", "valid", "trusted", "invalid", "remote_not_fetched", "error", "not_checked")
