"""Per-item blocks for where an item came from: its chat, its read text, its web page."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.platypus import Paragraph

from forensic.i18n import message
from forensic.report.model import ItemData
from forensic.report.parts import Flowables, ItemPart
from forensic.report.render import RenderContext

OCR_QUOTE_LIMIT = 400


class ChatContextPart(ItemPart):
    """Where the item sits in a chat, pointing to the chat chapter that quotes the messages."""

    id = "chat_context"
    title_key = "item.chat_context"

    def applies(self, item: ItemData) -> bool:
        return bool(item.chat_links or item.export_of)

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        chats = ctx.data.chats
        for group in item.export_of:
            chat = next((c for c in chats if c.group == group), None)
            n = len(chat.messages) if chat else 0
            total = chat.message_total if chat else 0
            out.append(ctx.p("item.export_file", ctx.styles.small, total=total, quoted=n))
        if item.chat_links:
            out.append(ctx.p("item.linked_message", ctx.styles.small, n=len(item.chat_links)))
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
            Paragraph(escape(ctx.t("context.ocr_note")), ctx.styles.tiny),
            Paragraph(escape(quoted).replace("\n", "<br/>"), ctx.styles.small),
        ]


class WebCapturePart(ItemPart):
    """What a web capture proves and what it does not (TLS gives no signature over content)."""

    id = "web_capture"
    title_key = "context.web_title"

    def applies(self, item: ItemData) -> bool:
        return item.web_capture

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        both = f"{message('web.proves', ctx.lang)} {message('web.does_not_prove', ctx.lang)}"
        return [
            Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3),
            Paragraph(escape(both), ctx.styles.small),
        ]


#: what an item's page shows of its context (after its findings, before its metadata)
CONTEXT_PARTS: tuple[ItemPart, ...] = (ChatContextPart(), WebCapturePart(), OcrTextPart())
