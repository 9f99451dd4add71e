"""Layout: fonts (embedded TrueType), styles, page template, 'page X / Y', PDF outline."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from forensic.i18n import templates_dir
from forensic.report.model import ReportData

FONT = "NanumGothic"
FONT_BOLD = "NanumGothic-Bold"
FONT_MONO = "NanumGothicCoding"


@cache
def register_fonts() -> None:
    folder = templates_dir() / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "NanumGothic.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "NanumGothicBold.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_MONO, str(folder / "NanumGothicCoding.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


@cache
def strings(lang: str) -> dict[str, str]:
    """``templates/report/<lang>.toml``: every text of the report, flattened."""
    path = templates_dir() / "report" / f"{lang}.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: dict[str, str] = {}

    def flat(prefix: str, table: dict[str, Any]) -> None:
        for k, v in table.items():
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                flat(name, v)
            else:
                out[name] = str(v)

    flat("", data)
    return out


@cache
def layout() -> dict[str, Any]:
    with (templates_dir() / "report" / "layout.toml").open("rb") as fh:
        return dict(tomllib.load(fh))


def _color(name: str) -> colors.Color:
    return colors.HexColor(str(layout()["colors"][name]))


@dataclass
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    tiny: ParagraphStyle
    mono: ParagraphStyle
    mono_small: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    note: ParagraphStyle
    warning: ParagraphStyle
    mono_tiny: ParagraphStyle


def make_styles(lang: str) -> Styles:
    wrap = "CJK" if lang == "ko" else None
    accent = _color("accent")
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=14, wordWrap=wrap)
    return Styles(
        body=base,
        small=ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, spaceBefore=3),
        tiny=ParagraphStyle("tiny", parent=base, fontSize=7, leading=9),
        mono=ParagraphStyle("mono", parent=base, fontName=FONT_MONO, fontSize=8.2, leading=11),
        mono_small=ParagraphStyle(
            "mono_small", parent=base, fontName=FONT_MONO, fontSize=7, leading=9, wordWrap="CJK"
        ),
        mono_tiny=ParagraphStyle(
            "mono_tiny", parent=base, fontName=FONT_MONO, fontSize=6.4, leading=8, wordWrap="CJK"
        ),
        h1=ParagraphStyle(
            "h1",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=20,
            spaceBefore=4,
            spaceAfter=8,
            textColor=accent,
        ),
        h2=ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=5,
            textColor=accent,
        ),
        h3=ParagraphStyle(
            "h3", parent=base, fontName=FONT_BOLD, fontSize=10, leading=14, spaceBefore=6
        ),
        title=ParagraphStyle(
            "title",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=22,
            leading=30,
            alignment=TA_CENTER,
            textColor=accent,
        ),
        subtitle=ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=18, alignment=TA_CENTER
        ),
        cell=ParagraphStyle("cell", parent=base, fontSize=8, leading=10.5),
        cell_head=ParagraphStyle(
            "cell_head",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=8,
            leading=10.5,
            textColor=colors.white,
        ),
        note=ParagraphStyle(
            "note",
            parent=base,
            fontSize=8.5,
            leading=12,
            backColor=_color("note_bg"),
            borderColor=_color("note_border"),
            borderWidth=0.6,
            borderPadding=6,
            spaceBefore=6,
            spaceAfter=10,
        ),
        warning=warning_style(base),
    )


def warning_style(base: ParagraphStyle) -> ParagraphStyle:
    """A boxed note in the warning colour (a demo TSA, a failed verification)."""
    return ParagraphStyle(
        "warning",
        parent=base,
        fontSize=8.5,
        leading=12,
        textColor=_color("warning"),
        backColor=_color("warning_bg"),
        borderColor=_color("warning"),
        borderWidth=0.6,
        borderPadding=5,
        spaceBefore=6,
        spaceAfter=8,
    )


@dataclass
class RenderContext:
    data: ReportData
    lang: str
    styles: Styles
    strings: dict[str, str]
    preview: str
    logo: tuple[bytes, tuple[int, int]] | None = None
    images: dict[str, Any] = field(default_factory=dict)
    section_no: int = 0

    def t(self, key: str, **params: object) -> str:
        """A report string (plain text; escape before putting it into a Paragraph)."""
        text = self.strings.get(key)
        if text is None:
            text = strings("en").get(key, key)
        return text.format(**params) if params else text

    def p(self, key: str, style: ParagraphStyle | None = None, **params: object) -> Paragraph:
        """A paragraph from a string whose template may hold simple markup (<b>, <br/>)."""
        esc = {k: escape(str(v)) for k, v in params.items()}
        return Paragraph(self.t(key, **esc), style or self.styles.body)

    def text(self, value: object, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(str(value)), style or self.styles.body)

    def table(
        self,
        header: list[str] | None,
        rows: list[list[Any]],
        widths: list[float],
        *,
        zebra: bool = True,
        repeat: bool = True,
    ) -> Table:
        cell = self.styles.cell
        body = [
            [c if isinstance(c, Flowable) else Paragraph(escape(str(c)), cell) for c in row]
            for row in rows
        ]
        data: list[list[Any]] = []
        if header is not None:
            data.append([Paragraph(escape(h), self.styles.cell_head) for h in header])
        data.extend(body)
        t = Table(data, colWidths=widths, repeatRows=1 if header is not None and repeat else 0)
        style: list[Any] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, _color("rule")),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header is not None:
            style.append(("BACKGROUND", (0, 0), (-1, 0), _color("accent")))
        if zebra:
            first = 1 if header is not None else 0
            for r in range(first + 1, len(data), 2):
                style.append(("BACKGROUND", (0, r), (-1, r), _color("zebra")))
        t.setStyle(TableStyle(style))
        return t

    def lines(self, value: str, small: bool = False) -> Paragraph:
        """Text whose newlines are kept as line breaks."""
        style = self.styles.tiny if small else self.styles.cell
        return Paragraph(escape(value).replace("\n", "<br/>"), style)

    def kv(
        self, rows: list[tuple[str, Any]], key_width: float = 45 * mm, width: float | None = None
    ) -> Table:
        """A two-column label / value table, ``width`` wide (the content width)."""
        total = CONTENT_WIDTH if width is None else width
        width = total - key_width
        cells = [
            [
                Paragraph(escape(k), self.styles.cell_head),
                v if isinstance(v, Flowable) else Paragraph(escape(str(v)), self.styles.cell),
            ]
            for k, v in rows
        ]
        t = Table(cells, colWidths=[key_width, width])
        t.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("GRID", (0, 0), (-1, -1), 0.4, _color("rule")),
                    ("BACKGROUND", (0, 0), (0, -1), _color("accent_soft")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        return t

    def mono(self, value: str, small: bool = False, tiny: bool = False) -> Paragraph:
        style = self.styles.mono_tiny if tiny else self.styles.mono_small if small else None
        return Paragraph(escape(value).replace("\n", "<br/>"), style or self.styles.mono)


def heading(ctx: RenderContext, section: Any) -> list[Any]:
    """A numbered chapter heading (``section``: a ReportSection) with its outline entry."""
    ctx.section_no += 1
    title = f"{ctx.section_no}. {ctx.t(section.title_key)}"
    return [Outline(title, 0), Paragraph(escape(title), ctx.styles.h1)]


def sub(ctx: RenderContext, key: str, level: int = 1, **params: object) -> list[Any]:
    """A sub-heading with its outline entry."""
    title = ctx.t(key, **params)
    return [Outline(title, level), Paragraph(escape(title), ctx.styles.h2)]


PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = PAGE_W - 2 * MARGIN_X
FRAME_HEIGHT = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM


class Outline(Flowable):
    """A zero-size marker: a PDF outline (bookmark) entry at this point."""

    _counter = 0

    def __init__(self, title: str, level: int = 0) -> None:
        super().__init__()
        Outline._counter += 1
        self.key = f"o{Outline._counter}"
        self.title = title
        self.level = level
        self.width = self.height = 0

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        c = self.canv
        c.bookmarkPage(self.key)
        c.addOutlineEntry(self.title, self.key, level=self.level, closed=self.level > 0)


class PdfImage(Flowable):
    """An image drawn from its encoded bytes; nothing decoded is kept after drawing.

    (reportlab's ``Image`` keeps the decoded pixels of every image until the document is
    saved: hundreds of MiB for a 1,000-item report.)
    """

    def __init__(self, data: bytes, width: float, height: float) -> None:
        super().__init__()
        self.data = data
        self.width = width
        self.height = height

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        from reportlab.lib.utils import ImageReader

        self.canv.drawImage(ImageReader(_bytesio(self.data)), 0, 0, self.width, self.height)


class NumberedCanvas(Canvas):
    """'page X / Y' on every page without holding pages in memory.

    Y is a form XObject drawn once at the end, when the page count is known.
    """

    page_label = "{page} / {pages}"
    TOTAL_FORM = "forensicPageTotal"

    def showPage(self) -> None:
        self._footer()
        super().showPage()

    def save(self) -> None:
        total = self.getPageNumber() - 1
        self.beginForm(self.TOTAL_FORM)
        self.setFont(FONT, 8)
        self.setFillColor(colors.HexColor("#555555"))
        self.drawString(0, 0, str(total))
        self.endForm()
        super().save()

    def _footer(self) -> None:
        page = self.getPageNumber()
        if page == 1:
            return
        before, _, after = self.page_label.partition("{pages}")
        self.saveState()
        self.setFont(FONT, 8)
        self.setFillColor(colors.HexColor("#555555"))
        x = PAGE_W - MARGIN_X - 30 * mm
        y = 10 * mm
        text = before.format(page=page)
        self.drawString(x, y, text)
        x += self.stringWidth(text, FONT, 8)
        self.saveState()
        self.translate(x, y)
        self.doForm(self.TOTAL_FORM)
        self.restoreState()
        if after:
            self.drawString(x + self.stringWidth("0000", FONT, 8), y, after)
        self.restoreState()


class LazyStory(list[Any]):
    """A story that reportlab consumes from the front while a generator refills it."""

    def __init__(self, source: Iterator[Any], buffer: int = 40) -> None:
        super().__init__()
        self._source = source
        self._buffer = buffer
        self._fill()

    def _fill(self) -> None:
        while list.__len__(self) < self._buffer:
            try:
                self.append(next(self._source))
            except StopIteration:
                return

    def __len__(self) -> int:
        self._fill()
        return list.__len__(self)

    def __delitem__(self, index: Any) -> None:
        list.__delitem__(self, index)
        self._fill()


class ReportDoc(BaseDocTemplate):
    def __init__(self, path: Path, ctx: RenderContext) -> None:
        info = ctx.data.case.info
        super().__init__(
            str(path),
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=ctx.t("doc.title", case_id=info.case_id),
            author=info.examiner,
            subject=ctx.t("doc.subject", report_id=ctx.data.report_id),
            creator=f"forensic {ctx.data.tool.get('version', '')}",
            lang="ko-KR" if ctx.lang == "ko" else "en-GB",
            invariant=False,
        )
        self.ctx = ctx
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, CONTENT_WIDTH, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM)
        self.addPageTemplates(
            [
                PageTemplate("cover", [frame], onPage=self._cover_page),
                PageTemplate("body", [frame], onPage=self._body_page),
            ]
        )

    def _cover_page(self, canv: Canvas, doc: Any) -> None:
        canv.saveState()
        canv.setFillColor(_color("accent"))
        canv.rect(0, PAGE_H - 12 * mm, PAGE_W, 12 * mm, stroke=0, fill=1)
        canv.restoreState()

    def _body_page(self, canv: Canvas, doc: Any) -> None:
        ctx = self.ctx
        info = ctx.data.case.info
        canv.saveState()
        y = PAGE_H - 13 * mm
        x = MARGIN_X
        if ctx.logo is not None:
            from reportlab.lib.utils import ImageReader

            data, (w, h) = ctx.logo
            lh = 8 * mm
            lw = lh * w / h
            canv.drawImage(ImageReader(_bytesio(data)), x, y - 2 * mm, lw, lh)
            x += lw + 3 * mm
        canv.setFont(FONT_BOLD, 8.5)
        canv.setFillColor(_color("accent"))
        canv.drawString(x, y + 2, ctx.t("header.left", case_id=info.case_id))
        canv.setFont(FONT, 8)
        canv.setFillColor(colors.HexColor("#444444"))
        canv.drawRightString(
            PAGE_W - MARGIN_X, y + 2, ctx.t("header.right", report_id=ctx.data.report_id)
        )
        if info.organisation:
            canv.drawString(x, y - 8, info.organisation)
        if ctx.data.demo_used:
            # every page of a report whose times came from the practice TSA says so
            canv.setFont(FONT_BOLD, 8)
            canv.setFillColor(_color("warning"))
            canv.drawCentredString(PAGE_W / 2, y - 8, ctx.t("header.demo"))
            canv.setFillColor(colors.HexColor("#444444"))
            canv.setFont(FONT, 8)
        canv.setStrokeColor(_color("accent"))
        canv.setLineWidth(0.8)
        canv.line(MARGIN_X, y - 12, PAGE_W - MARGIN_X, y - 12)
        canv.setStrokeColor(_color("rule"))
        canv.setLineWidth(0.4)
        canv.line(MARGIN_X, 14 * mm, PAGE_W - MARGIN_X, 14 * mm)
        canv.setFont(FONT, 7.5)
        canv.drawString(MARGIN_X, 10 * mm, ctx.t("footer.left", report_id=ctx.data.report_id))
        canv.drawString(MARGIN_X, 6.5 * mm, ctx.t("footer.zone", zone=ctx.data.zone))
        canv.restoreState()


def _bytesio(data: bytes) -> Any:
    import io

    return io.BytesIO(data)
