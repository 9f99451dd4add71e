"""The methods chapter in prose: per signal family what it looks for, its measured
false-positive rate and sample size, and what it cannot show.

The numbers come from the same data as ``forensic/analysis/error_rates.json`` (the file every
finding quotes), so the chapter and the item pages cannot disagree; the words come from the
report templates, in the report's language.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Paragraph

from forensic.report.model import ReportData
from forensic.report.parts import Flowables, ReportSection
from forensic.report.render import RenderContext, heading
from forensic.report.wording import findings_of, percent


def family_of(signal: str) -> str:
    return signal.split(".", 1)[0].split("[", 1)[0]


def families_used(data: ReportData) -> list[str]:
    """Signal families that produced a finding (not 'does not apply') for an item here."""
    seen: dict[str, None] = {}
    for d in data.items:
        for f in findings_of(d.findings):
            if f.get("status") != "not_applicable" and f.get("signal"):
                seen.setdefault(family_of(str(f["signal"])), None)
    return list(seen)


def family_rates(family: str) -> dict[str, Any] | None:
    """The family's measured rates: the largest false-positive rate and 95 % bound of its
    signals, and the sample sizes (None when none of its signals was measured)."""
    from forensic.analysis.interface import measured_error_rates

    signals = measured_error_rates().get("signals", {})
    measured = [
        v
        for k, v in (signals.items() if isinstance(signals, dict) else [])
        if family_of(k) == family and isinstance(v, dict) and v.get("fpr_untouched") is not None
    ]
    if not measured:
        return None
    sizes = sorted({int(v["n_neg"]) for v in measured if isinstance(v.get("n_neg"), int)})
    return {
        "signals": len(measured),
        "fpr": max(float(v["fpr_untouched"]) for v in measured),
        "bound": max(float(v.get("fpr_upper_95") or 0) for v in measured),
        "n": "–".join(str(n) for n in (sizes[0], sizes[-1]) if sizes)
        if len(sizes) > 1
        else (str(sizes[0]) if sizes else "?"),
    }


class MethodologySection(ReportSection):
    id = "methodology"
    title_key = "methodology.title"

    def render(self, ctx: RenderContext) -> Flowables:
        out: Flowables = [CondPageBreak(60 * mm), *heading(ctx, self)]
        out.append(ctx.p("methodology.acquisition", ctx.styles.body))
        families = families_used(ctx.data)
        if not families:
            out.append(ctx.p("methodology.no_detection", ctx.styles.note))
        else:
            out.append(ctx.p("methodology.detection_intro", ctx.styles.body))
        for family in families:
            out += self.family(ctx, family)
        out.append(Paragraph(escape(ctx.t("methodology.limitations_title")), ctx.styles.h3))
        out.append(ctx.p("methodology.limitations", ctx.styles.body))
        return out

    def family(self, ctx: RenderContext, family: str) -> Flowables:
        title = ctx.t(f"family.{family}.title")
        looks = ctx.t(f"family.{family}.looks")
        cannot = ctx.t(f"family.{family}.cannot")
        if title == f"family.{family}.title":
            title, looks, cannot = family, ctx.t("family.other.looks"), ctx.t("family.other.cannot")
        rates = family_rates(family)
        if rates is None:
            measured = ctx.t("methodology.not_measured")
        else:
            measured = ctx.t("methodology.measured", signals=rates["signals"], n=rates["n"],
                             fpr=percent(rates["fpr"]), bound=percent(rates["bound"]))  # fmt: skip
        text = f"<b>{escape(title)}</b> — {escape(looks)} {escape(measured)} {escape(cannot)}"
        return [Paragraph(text, ctx.styles.body)]
