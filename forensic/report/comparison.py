"""An item's comparisons with an original photo (``forensic compare``), in its chapter.

Each recorded comparison is said in the plain words ``compare`` printed: how much of the item
her original explains after alignment, how many regions differ and how alike they are (PDQ).
The original is named by its SHA-256 only (the log names it so); the figure stays in the case
(it is redacted, but the report never prints the item's pixels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.platypus import Paragraph

from forensic.i18n import message
from forensic.report.parts import Flowables, ItemPart

if TYPE_CHECKING:
    from forensic.report.model import ItemData
    from forensic.report.render import RenderContext


def comparison_sentence(doc: dict[str, Any], lang: str) -> str:
    """The statement of one stored comparison document, its original named by hash."""
    c = doc.get("comparison") or {}
    sha = str((doc.get("original") or {}).get("sha256") or "?")
    name = f"(SHA-256 {sha[:16]}…)"
    if not c.get("aligned"):
        return message("compare.not_aligned", lang, name=name)
    regions = c.get("regions") or []
    return message(
        "compare.summary_changed" if regions else "compare.summary_same",
        lang,
        percent=round(float(c.get("explained") or 0) * 100),
        name=name,
        regions=len(regions),
        outside=round(float(c.get("outside") or 0) * 100),
    )


class ComparisonPart(ItemPart):
    id = "comparison"
    title_key = "compare_report.title"

    def applies(self, item: ItemData) -> bool:
        return bool(item.comparisons)

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        for doc in item.comparisons:
            original = doc.get("original") or {}
            acquired = ctx.t(
                "compare_report.acquired"
                if original.get("acquired")
                else "compare_report.not_acquired"
            )
            out.append(ctx.text(comparison_sentence(doc, ctx.lang), ctx.styles.body))
            out.append(
                ctx.p(
                    "compare_report.original",
                    ctx.styles.small,
                    sha256=str(original.get("sha256") or "?"),
                    acquired=acquired,
                )
            )
            for n, r in enumerate((doc.get("comparison") or {}).get("regions") or [], start=1):
                out.append(region_line(ctx, n, r))
        out.append(ctx.p("compare_report.limits", ctx.styles.tiny))
        return out


def region_line(ctx: RenderContext, n: int, region: dict[str, Any]) -> Any:
    x, y, w, h = [*list(region.get("box") or []), 0, 0, 0, 0][:4]
    pdq = region.get("pdq_distance")
    share = round(float(region.get("share") or 0) * 100, 1)
    return ctx.p(
        "compare_report.region", ctx.styles.small, n=n, share=share, x=x, y=y, w=w, h=h,
        pdq="—" if pdq is None else pdq,
    )  # fmt: skip
