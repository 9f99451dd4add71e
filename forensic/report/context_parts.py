"""Per-item report blocks for where an item came from: its chat, its read text, its web page."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from forensic.i18n import message
from forensic.report.model import ItemData
from forensic.report.parts import Flowables, ItemPart
from forensic.report.render import CONTENT_WIDTH, RenderContext

OCR_QUOTE_LIMIT = 1500


class ChatContextPart(ItemPart):
    """The messages around the item in its chat: who sent it, when (as written), from where."""

    id = "chat_context"
    title_key = "item.chat_context"

    def applies(self, item: ItemData) -> bool:
        return bool(item.chat_contexts)

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        for c in item.chat_contexts:
            chat = str(c.chat.get("name") or c.group)
            head = ctx.t("context.in_chat", chat=chat, app=c.app)
            if not c.intact:
                head += " " + ctx.t("context.not_intact")
            out.append(Paragraph(escape(head), ctx.styles.small))
            rows = []
            for m in c.messages:
                d = m.get("date", {})
                who = (m.get("sender") or {}).get("name") or "?"
                text = str(m.get("text") or "")
                if m.get("forwarded_from"):
                    text += " — " + ctx.t("context.forwarded", source=m["forwarded_from"])
                mark = "▶ " if m.get("focus") else ""
                rows.append(
                    [
                        mark + str(m.get("id")),
                        f"{d.get('as_written', '')} [{d.get('zone', '')}]",
                        str(who),
                        text[:300],
                    ]
                )
            out.append(
                ctx.table(
                    [
                        ctx.t("context.col_id"),
                        ctx.t("context.col_time"),
                        ctx.t("context.col_sender"),
                        ctx.t("context.col_text"),
                    ],
                    rows,
                    [16 * mm, 42 * mm, 30 * mm, CONTENT_WIDTH - 88 * mm],
                )
            )
        return out


class OcrTextPart(ItemPart):
    """Text read from the item by OCR, quoted as derived data next to the untouched original."""

    id = "ocr_text"
    title_key = "context.ocr_title"

    def applies(self, item: ItemData) -> bool:
        return item.ocr_text is not None

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        text = item.ocr_text or ""
        quoted = text[:OCR_QUOTE_LIMIT] + (" …" if len(text) > OCR_QUOTE_LIMIT else "")
        return [
            Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3),
            Paragraph(escape(ctx.t("context.ocr_note")), ctx.styles.small),
            Paragraph(escape(quoted).replace("\n", "<br/>"), ctx.styles.body),
        ]


class WebCapturePart(ItemPart):
    """What a web capture proves and what it does not (TLS gives no signature over content)."""

    id = "web_capture"
    title_key = "context.web_title"

    def applies(self, item: ItemData) -> bool:
        return item.web_capture

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        return [
            Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3),
            Paragraph(escape(message("web.proves", ctx.lang)), ctx.styles.body),
            Paragraph(escape(message("web.does_not_prove", ctx.lang)), ctx.styles.body),
        ]


#: what an item's chapter shows of its context (placed before its metadata)
CONTEXT_PARTS: tuple[ItemPart, ...] = (ChatContextPart(), WebCapturePart(), OcrTextPart())
