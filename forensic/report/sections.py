"""The report's chapters, in reading order: what a prosecutor reads in minutes.

Cover, summary and evidence list, at most one page per item, the chat evidence, the chain of
custody with what the hashes, the log and the time stamps establish in law, the methods in
prose, how to verify, the hash sheet and the declaration. Every finding, figure and log entry
is attached to the PDF as data; ``--detail full`` prints them in an appendix as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepInFrame,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Preformatted,
    Spacer,
    Table,
    TableStyle,
)

from forensic._internal.paths import display
from forensic.report.chat_excerpts import ChatExcerpt, ChatMessage, MissingMedia
from forensic.report.comparison import ComparisonPart
from forensic.report.context_parts import CONTEXT_PARTS
from forensic.report.methods import MethodologySection
from forensic.report.model import ItemData, ReportData, TokenData
from forensic.report.parts import Flowables, ItemPart, ReportSection
from forensic.report.redact import PreviewUnavailable, preview_image
from forensic.report.render import (
    CONTENT_WIDTH,
    FRAME_HEIGHT,
    Outline,
    PdfImage,
    RenderContext,
    _color,
    heading,
    sub,
)
from forensic.report.watch_section import Availability
from forensic.report.wording import (
    human_value,
    item_signals,
    rate_words,
    signal_name,
    withhold,
)

CHUNK = 30  # rows per table: long tables split cheaply and repeat their header row
SUMMARY_ROWS = 25  # items with indications listed in the summary (the rest counted)
FINDINGS_PER_PAGE = 6
METADATA_ROWS = 8
#: evidence list columns (mm): number, file, SHA-256 (one monospace line), acquisition time
LIST_COLUMNS = (10.0, 46.0, 80.0, 38.0)
#: hash sheet columns (mm)
SHEET_COLUMNS = (10.0, 52.0, 18.0, 94.0)


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def token_label(ctx: RenderContext, tok: TokenData | None) -> str:
    if tok is None:
        return ctx.t("common.none_yet")
    text = f"{ctx.data.when(tok.gen_time)} · {tok.tsa}"
    if tok.demo:
        return f"{text} ({ctx.t('common.demo')})"
    if not tok.trusted:
        return f"{text} ({ctx.t('common.untrusted')})"
    return text


class Deferred:
    """Flowables made only when the layout reaches them (bounded memory for big cases)."""

    def __init__(self, make: Callable[[], Iterable[Any]]) -> None:
        self.make = make


def chunked(
    ctx: RenderContext,
    header: list[str],
    source: Sequence[Any],
    widths: Sequence[float],
    row: Callable[[Any], list[Any]] = list,
) -> Flowables:
    """Tables of :data:`CHUNK` rows, each row built from ``source`` only when laid out."""

    def make() -> Iterator[Any]:
        for start in range(0, max(len(source), 1), CHUNK):
            rows = [row(x) for x in source[start : start + CHUNK]]
            yield ctx.table(header, rows, [w * mm for w in widths])

    return [Deferred(make)]


def findings_line(ctx: RenderContext, d: ItemData) -> str:
    """What was found for one item, in one line: the summary and the item page say the same."""
    sig = item_signals(d.findings)
    if not sig.analysed:
        return ctx.t("finding.not_analysed")
    if sig.indicating:
        names = sorted({signal_name(ctx.t, str(f.get("signal", ""))) for f in sig.indicating})
        return ctx.t("finding.indicates_list", signals=", ".join(names))
    return ctx.t("finding.none_found", n=sig.no_sign)


def source_text(ctx: RenderContext, d: ItemData) -> str:
    """Where the item came from; names from the source are escaped (a right-to-left override or
    a control character in a file name must show as such, not reorder or hide the text)."""
    parts = []
    if d.source_url:
        parts.append(display(d.source_url))
    for group, chat, message in d.chat_links[:3]:
        name = chat_name(ctx.data, group, chat)
        parts.append(ctx.t("item.in_chat", chat=display(name), message=display(message)))
    if not d.chat_links and (d.chat or d.message):
        parts.append(ctx.t("item.chat_value", chat=display(d.chat or "—")))
        if d.message:
            parts.append(ctx.t("item.message_value", message=display(str(d.message))))
    if not parts and d.item.acquisitions:
        parts.append(display(d.item.acquisitions[0].source_path))
    return " · ".join(parts) or "—"


def chat_name(data: ReportData, group: str, chat: int) -> str:
    for c in data.chats:
        if c.group == group and 0 <= chat < len(c.chats):
            return str(c.chats[chat])
    return group


# -- cover ----------------------------------------------------------------------------------
class Cover(ReportSection):
    id = "cover"
    title_key = "cover.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        out: Flowables = [Outline(ctx.t("cover.title"), 0)]
        if ctx.logo is not None:
            logo, (w, h) = ctx.logo
            out.append(PdfImage(logo, 22 * mm * w / h, 22 * mm))
        rows: list[tuple[str, Any]] = [
            (ctx.t("field.case_id"), info.case_id),
            (ctx.t("field.case_title"), info.title),
            (ctx.t("field.examiner"), info.examiner),
        ]
        if info.organisation:
            rows.append((ctx.t("field.organisation"), info.organisation))
        rows += [
            (ctx.t("field.report_date"), data.when(data.created)),
            (ctx.t("field.report_id"), data.report_id),
            (ctx.t("field.tool"), f"{data.tool.get('name')} {data.tool.get('version')}"),
            (ctx.t("field.items"), str(len(data.items))),
            (ctx.t("field.preview"), ctx.t(f"preview.{ctx.preview}")),
        ]
        out += [
            Spacer(1, 14 * mm),
            Paragraph(escape(ctx.t("cover.title")), ctx.styles.title),
            Spacer(1, 3 * mm),
            Paragraph(escape(info.title), ctx.styles.subtitle),
            Spacer(1, 10 * mm),
            ctx.kv(rows),
            Spacer(1, 6 * mm),
            Paragraph(escape(ctx.t("cover.proves_title")), ctx.styles.h3),
            Paragraph(cover_proves(ctx), ctx.styles.note),
            Paragraph(escape(ctx.t("cover.not_proves_title")), ctx.styles.h3),
            ctx.p("cover.not_proves", ctx.styles.note),
        ]
        if data.signature_level == "B-B":
            key = "cover.offline_queued" if data.timestamp_queued else "cover.offline"
            out.append(ctx.p(key, ctx.styles.warning))
        if data.demo_used:
            out.append(ctx.p("cover.demo", ctx.styles.warning))
        out += [NextPageTemplate("body"), PageBreak()]
        return out


def cover_proves(ctx: RenderContext) -> str:
    """What this case's report can establish: the time claim only when trusted tokens exist."""
    data = ctx.data
    lines = [ctx.t("cover.proves_integrity"), ctx.t("cover.proves_identity")]
    if data.trusted_tokens:
        lines.append(ctx.t("cover.proves_time"))
    else:
        lines.append(ctx.t("cover.no_trusted_time"))
    if any(d.findings for d in data.items):
        lines.append(ctx.t("cover.proves_analysis"))
    return "<br/>".join(lines)


# -- summary --------------------------------------------------------------------------------
class Summary(ReportSection):
    id = "summary"
    title_key = "summary.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        ver = data.verification
        first = min(data.trusted_tokens, key=lambda t: t.gen_time, default=None)
        out = heading(ctx, self)
        rows: list[tuple[str, Any]] = [
            (ctx.t("field.case"), f"{info.case_id} · {info.title}"),
            (ctx.t("field.items"), ctx.t("summary.items_value", n=len(data.items),
                                         size=human_size(sum(d.item.size for d in data.items)))),
            (ctx.t("summary.verification"),
             ctx.t("summary.intact" if ver.intact else "summary.not_intact",
                   when=data.when(data.created))),
            (ctx.t("summary.trusted_time"),
             token_label(ctx, first) if first else ctx.t("summary.no_trusted_time")),
            (ctx.t("summary.tokens"), tokens_value(ctx)),
            (ctx.t("summary.log_head"), ctx.mono(f"#{data.head_seq} {data.head_hash}", small=True)),
            (ctx.t("summary.key_fp"), ctx.mono(info.public_key_fingerprint, small=True)),
        ]  # fmt: skip
        if data.chats:
            rows.append((ctx.t("summary.chats"), chats_value(ctx)))
        out.append(ctx.kv(rows))
        out.append(ctx.p("summary.anchor", ctx.styles.small))
        if not ver.intact:
            lines = [f"{p.area}/{p.kind}: {p.location}" for p in ver.problems[:20]]
            out.append(ctx.p("summary.problems", ctx.styles.warning, problems="; ".join(lines)))
        out += sub(ctx, "summary.findings_title")
        out += summary_findings(ctx)
        return out


def tokens_value(ctx: RenderContext) -> str:
    tokens = ctx.data.tokens
    trusted = len(ctx.data.trusted_tokens)
    demo = sum(1 for t in tokens if t.demo)
    return ctx.t("summary.tokens_value", all=len(tokens), trusted=trusted, demo=demo,
                 untrusted=len(tokens) - trusted - demo)  # fmt: skip


def chats_value(ctx: RenderContext) -> str:
    chats = ctx.data.chats
    quoted = sum(len(c.messages) for c in chats)
    missing = sum(len(c.missing) for c in chats)
    return ctx.t("summary.chats_value", n=len(chats), quoted=quoted, missing=missing)


def summary_findings(ctx: RenderContext) -> Flowables:
    items = ctx.data.items
    flagged = [d for d in items if item_signals(d.findings).indicating]
    analysed = sum(1 for d in items if d.findings)
    out: Flowables = [
        ctx.p("summary.findings_counts", ctx.styles.body, flagged=len(flagged),
              clean=analysed - len(flagged), none=len(items) - analysed),
    ]  # fmt: skip
    if flagged:
        rows = [[str(d.no), d.file_name, findings_line(ctx, d)] for d in flagged[:SUMMARY_ROWS]]
        head = [ctx.t("col.no"), ctx.t("col.file"), ctx.t("col.findings")]
        out.append(ctx.table(head, rows, [10 * mm, 50 * mm, CONTENT_WIDTH - 60 * mm]))
        if len(flagged) > SUMMARY_ROWS:
            out.append(ctx.p("summary.more_flagged", ctx.styles.small,
                             n=len(flagged) - SUMMARY_ROWS))  # fmt: skip
    out.append(ctx.p("summary.findings_note", ctx.styles.small))
    return out


# -- evidence list --------------------------------------------------------------------------
class Inventory(ReportSection):
    id = "inventory"
    title_key = "inventory.title"

    def render(self, ctx: RenderContext) -> Flowables:
        out: Flowables = [CondPageBreak(70 * mm), *heading(ctx, self)]
        out.append(ctx.p("inventory.intro", ctx.styles.small))
        header = [ctx.t("col.no"), ctx.t("col.file_type"), ctx.t("col.sha256"),
                  ctx.t("col.acquired")]  # fmt: skip

        def rows(d: ItemData) -> list[Any]:
            what = f"{d.file_name}\n{d.item.media_type or '—'} · {human_size(d.item.size)}"
            return [
                str(d.no),
                ctx.lines(what),
                ctx.mono(d.sha256, tiny=True),
                ctx.data.when(d.acquired),
            ]

        out += chunked(ctx, header, ctx.data.items, LIST_COLUMNS, rows)
        out.append(PageBreak())
        return out


# -- one page per item ----------------------------------------------------------------------
class Items(ReportSection):
    id = "items"
    title_key = "items.title"

    def applies(self, case: ReportData) -> bool:
        return bool(case.items)

    def render(self, ctx: RenderContext) -> Flowables:
        ctx.section_no += 1
        chapter = f"{ctx.section_no}. {ctx.t(self.title_key)}"

        def make() -> Iterator[Any]:
            for n, d in enumerate(ctx.data.items):
                if n:
                    yield PageBreak()
                title = ctx.t("items.item_title", no=d.no, name=d.file_name)
                yield Outline(title, 1)
                body: Flowables = [Paragraph(escape(title), ctx.styles.h2)]
                if n == 0:
                    body.insert(0, Paragraph(escape(chapter), ctx.styles.h1))
                    body.append(ctx.p(f"items.intro_{ctx.preview}", ctx.styles.tiny))
                for part in ITEM_PARTS:
                    if part.applies(d):
                        body.extend(part.render(ctx, d))
                # at most one page: what does not fit is shrunk, never carried over
                yield KeepInFrame(CONTENT_WIDTH, FRAME_HEIGHT - 4 * mm, body, mode="shrink")

        return [Outline(chapter, 0), Deferred(make), PageBreak()]


def thumbnail(ctx: RenderContext, d: ItemData) -> Any:
    """The redacted preview (or why there is none), at most 38 mm."""
    if ctx.preview == "none":
        return ctx.text(ctx.t("item.preview_omitted"), ctx.styles.tiny)
    if not d.item.media_type.startswith("image/"):
        return ctx.text(ctx.t("item.preview_not_image"), ctx.styles.tiny)
    with ctx.data.case.store.plaintext_path(d.item.item_id) as path:
        try:
            data, (w, h) = preview_image(path, ctx.preview)
        except PreviewUnavailable:
            return ctx.text(ctx.t("item.preview_unavailable"), ctx.styles.tiny)
    side = 38 * mm
    scale = side / max(w, h)
    return PdfImage(data, w * scale, h * scale)


class IdentityPart(ItemPart):
    """Thumbnail beside the file's identity: name, type, source, times, hashes."""

    id = "identity"
    title_key = "item.identity"

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        it = item.item
        rows: list[tuple[str, Any]] = [
            (ctx.t("col.file"), item.file_name),
            (ctx.t("col.type_size"), ctx.t("item.type_size", type=it.media_type or "—",
                                          size=human_size(it.size), bytes=f"{it.size:,}")),
            (ctx.t("col.source"), source_text(ctx, item)),
            (ctx.t("col.acquired"), ctx.t("item.acquired_value", when=ctx.data.when(item.acquired),
                                          n=len(it.acquisitions))),
            (ctx.t("col.first_trusted"), token_label(ctx, item.first_trusted)),
            ("SHA-256", ctx.mono(item.sha256, small=True)),
        ]  # fmt: skip
        for name in sorted(it.hashes):
            if name != "sha256":
                rows.append((name.upper(), ctx.mono(it.hashes[name], small=True)))
        side = 42 * mm
        kv = ctx.kv(rows, key_width=30 * mm, width=CONTENT_WIDTH - side)
        table = Table([[thumbnail(ctx, item), kv]], colWidths=[side, CONTENT_WIDTH - side])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))  # fmt: skip
        out: Flowables = [table]
        if item.derived_problems:
            out.append(ctx.p("item.derived_problems", ctx.styles.warning,
                             problems="; ".join(item.derived_problems)))  # fmt: skip
        return out


class FindingsPart(ItemPart):
    """Only what indicates (or is positive proof), each with its measured false-positive rate
    in words, and one line counting the checks that found no sign."""

    id = "findings"
    title_key = "item.findings"

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        sig = item_signals(item.findings)
        if not sig.analysed:
            return [*out, ctx.p("finding.not_analysed_long", ctx.styles.small)]
        for f in sig.indicating[:FINDINGS_PER_PAGE]:
            said = f.get("indicates")
            text = str(said.get(ctx.lang) or said.get("en") or "") if isinstance(said, dict) else ""
            key = "finding.positive_proof" if f.get("positive_proof") else "finding.indicates"
            out.append(
                ctx.p(
                    key,
                    ctx.styles.body,
                    signal=signal_name(ctx.t, str(f["signal"])),
                    text=text,
                    rate=rate_words(ctx.t, f.get("measured_error_rates")),
                )
            )
        if len(sig.indicating) > FINDINGS_PER_PAGE:
            out.append(ctx.p("finding.more", ctx.styles.small,
                             n=len(sig.indicating) - FINDINGS_PER_PAGE))  # fmt: skip
        if sig.no_sign:
            key = "finding.further_none" if sig.indicating else "finding.all_none"
            out.append(ctx.p(key, ctx.styles.body, n=sig.no_sign))
        if sig.failed:
            out.append(ctx.p("finding.failed", ctx.styles.small, n=sig.failed))
        if item.figures:
            out.append(ctx.p("finding.figures", ctx.styles.tiny, n=len(item.figures)))
        return out


class MetadataPart(ItemPart):
    """A few curated metadata lines; positions, serial numbers and owner names withheld from
    print unless ``--show-location`` (the whole record is attached)."""

    id = "metadata"
    title_key = "item.metadata"

    def applies(self, item: ItemData) -> bool:
        return item.metadata is not None

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        from forensic.media import metadata_lines

        record = item.metadata or {}
        removed: list[str] = []
        if not ctx.data.show_location:
            record, removed = withhold(record)
        rows = [(k, human_value(v, 160)) for k, v in metadata_lines(record, ctx.lang)]
        if not rows and not removed:
            return []
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        if rows:
            shown = [[k, v] for k, v in rows[:METADATA_ROWS]]
            out.append(ctx.table(None, shown, [45 * mm, CONTENT_WIDTH - 45 * mm]))
        if len(rows) > METADATA_ROWS:
            out.append(ctx.p("item.metadata_more", ctx.styles.tiny, n=len(rows) - METADATA_ROWS))
        if removed:
            out.append(ctx.p("item.withheld", ctx.styles.small, n=len(removed)))
        elif ctx.data.show_location:
            out.append(ctx.p("item.location_shown", ctx.styles.tiny))
        return out


# -- chat evidence --------------------------------------------------------------------------
class ChatEvidence(ReportSection):
    id = "chats"
    title_key = "chat.title"

    def applies(self, case: ReportData) -> bool:
        return bool(case.chats)

    def render(self, ctx: RenderContext) -> Flowables:
        out = heading(ctx, self)
        out.append(ctx.p("chat.intro", ctx.styles.small, zone=ctx.data.zone))
        for n, chat in enumerate(ctx.data.chats, start=1):
            out += chat_block(ctx, n, chat)
        out.append(PageBreak())
        return out


def zone_words(ctx: RenderContext, chat: ChatExcerpt) -> str:
    known = ("user", "case", "default", "export", "derived")
    origin = chat.zone_from if chat.zone_from in known else "other"
    return ctx.t("chat.zone_value", zone=chat.zone or "—", origin=ctx.t(f"chat.zone_{origin}"))


def chat_block(ctx: RenderContext, n: int, chat: ChatExcerpt) -> Flowables:
    names = ", ".join(chat.chats) or chat.group
    title = sub(ctx, "chat.chat_title", n=n, chats=display(names), app=chat.app)
    out: Flowables = [CondPageBreak(50 * mm), *title]
    files = "\n".join(f"{display(p)}  {s}" for p, s in chat.export_files) or "—"
    rows: list[tuple[str, Any]] = [
        (ctx.t("chat.export_files"), ctx.mono(files, small=True)),
        (ctx.t("chat.transcript"), ctx.t("chat.transcript_value", path=chat.transcript,
                                        n=chat.message_total)),
        (ctx.t("chat.zone"), zone_words(ctx, chat)),
    ]  # fmt: skip
    out.append(ctx.kv(rows, key_width=34 * mm))
    if not chat.intact:
        return [*out, ctx.p("chat.not_intact", ctx.styles.warning)]
    if chat.messages:
        out.append(Spacer(1, 2 * mm))
        head = [ctx.t("chat.col_id"), ctx.t("chat.col_time"), ctx.t("chat.col_sender"),
                ctx.t("chat.col_text")]  # fmt: skip
        out += chunked(
            ctx, head, chat.messages, (18, 42, 26, 88), lambda m: message_row(ctx, m, chat)
        )
        out.append(ctx.p("chat.legend", ctx.styles.tiny))
    else:
        out.append(ctx.p("chat.no_focus", ctx.styles.small))
    if chat.missing:
        out.append(Paragraph(escape(ctx.t("chat.missing_title", n=len(chat.missing))),
                             ctx.styles.h3))  # fmt: skip
        head = [ctx.t("chat.col_id"), ctx.t("chat.col_ref"), ctx.t("chat.col_status")]
        out += chunked(ctx, head, chat.missing, (18, 110, 46), lambda m: missing_row(ctx, m))
    return out


def missing_row(ctx: RenderContext, m: MissingMedia) -> list[str]:
    return [m.message, display(m.ref) or role_word(ctx, m.role), ctx.t(f"chat.media_{m.status}")]


def role_word(ctx: RenderContext, role: str) -> str:
    word = ctx.t(f"chat.role_{role}")
    return word if word != f"chat.role_{role}" else ctx.t("chat.role_other")


def message_row(ctx: RenderContext, m: ChatMessage, chat: ChatExcerpt | None = None) -> list[Any]:
    mark = {"media": "▶ ", "mark": "★ "}.get(m.focus, "")
    ident = mark + m.id + (f"\n{ctx.t('chat.line', line=m.line)}" if m.line else "")
    when = ctx.data.when(m.utc) if m.utc else "—"
    when += "\n" + ctx.t("chat.as_written", text=m.as_written or "—")
    if m.zone_from == "derived":
        when += "\n" + ctx.t("chat.zone_derived_message", zone=m.zone)
    text = m.text
    if m.forwarded_from:
        text += "\n" + ctx.t("chat.forwarded", source=m.forwarded_from)
    if m.media:
        text += "\n" + ctx.t("chat.media", files=", ".join(m.media))
    if m.box is not None:
        item = chat.export_files[0][1][:16] if chat and chat.export_files else "?"
        box = ",".join(map(str, m.box))
        where = ctx.t("chat_shot.where", item=item, box=box, confidence=f"{m.confidence or 0:.2f}")
        text += "\n" + where + "\n" + ctx.t("chat_shot.derived")
    if m.note:
        text += "\n" + ctx.t("chat.note", note=m.note)
    if m.sender is None and m.box is not None:
        return [
            ctx.lines(ident),
            ctx.lines(when, small=True),
            ctx.t("chat_shot.own"),
            ctx.lines(text),
        ]
    sender = m.sender if m.sender is not None else ctx.t("chat.deleted_sender")
    return [ctx.lines(ident), ctx.lines(when, small=True), display(sender), ctx.lines(text)]


# -- chain of custody and what it establishes -----------------------------------------------
class Custody(ReportSection):
    id = "custody"
    title_key = "custody.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        out = heading(ctx, self)
        out.append(ctx.p("custody.intro", ctx.styles.small))
        head = [ctx.t("custody.col_person"), ctx.t("custody.col_host"),
                ctx.t("custody.col_event"), ctx.t("custody.col_count"),
                ctx.t("custody.col_first"), ctx.t("custody.col_last")]  # fmt: skip
        out += chunked(ctx, head, custody_rows(ctx), (30, 26, 30, 12, 38, 38))
        out += custody_holders(ctx)
        out.append(Spacer(1, 2 * mm))
        out.append(ctx.kv([
            (ctx.t("custody.entries"), str(len(data.entries))),
            (ctx.t("summary.log_head"), ctx.mono(f"#{data.head_seq} {data.head_hash}", small=True)),
            (ctx.t("summary.key_fp"), ctx.mono(data.case.info.public_key_fingerprint, small=True)),
        ]))  # fmt: skip
        out.append(ctx.p("custody.attached", ctx.styles.small))
        out += sub(ctx, "legal.title")
        out += legal_framing(ctx)
        return out


def custody_holders(ctx: RenderContext) -> Flowables:
    """Who held the evidence, from when to when, and what they did (a case with hand-overs):
    one row per holder, from the receipt (or the case's start) to the next hand-over."""
    from forensic.custody.parties import handovers

    given = handovers(ctx.data.entries)
    if not given:
        return []
    parties = ctx.data.case.parties()
    entries = ctx.data.entries
    holders: list[tuple[str, str, str | None]] = [(entries[0].actor, entries[0].time, None)]
    for h in given:
        holders[-1] = (*holders[-1][:2], h.time)
        if h.received:
            holders.append((h.receiver, str(h.receipt_time), None))
    rows = []
    for fp, start, end in holders:
        party = parties.get(fp)
        until = ctx.data.when(end) if end else ctx.t("custody_people.still")
        done = sorted({e.action for e in entries if e.actor == fp})
        labels = [ctx.t(f"action.{a}") for a in done]
        did = ", ".join(t if t != f"action.{a}" else a for a, t in zip(done, labels, strict=True))
        name, role = (party.name, party.role) if party else (fp[:16], "")
        rows.append([display(name), display(role), ctx.mono(fp[:16], small=True),
                     ctx.data.when(start), until, did])  # fmt: skip
    head = [ctx.t("custody_people.col_person"), ctx.t("custody_people.col_role"),
            ctx.t("custody_people.col_key"), ctx.t("custody_people.col_from"),
            ctx.t("custody_people.col_until"), ctx.t("custody_people.col_did")]  # fmt: skip
    out: Flowables = [Spacer(1, 2 * mm), ctx.p("custody_people.intro", ctx.styles.small)]
    out += chunked(ctx, head, rows, (28, 18, 30, 34, 34, 30))
    for h in given:
        if not h.received:
            out.append(ctx.p("custody_people.not_received", ctx.styles.note, seq=h.seq,
                             name=display(h.receiver_name), role=h.receiver_role))  # fmt: skip
    return out


def custody_rows(ctx: RenderContext) -> list[list[str]]:
    """Events grouped by person, computer and action, in the order they first happened."""
    groups: dict[tuple[str, str, str], list[Any]] = {}
    examiner = ctx.data.case.info.examiner
    parties = ctx.data.case.parties()
    for e in ctx.data.entries:
        party = parties.get(e.actor)
        named = party.name if party is not None and party.since_seq else None
        who = str(named or e.details.get("examiner") or examiner)
        key = (who, str(e.details.get("host") or "—"), e.action)
        groups.setdefault(key, []).append(e)
    rows = []
    for (who, host, action), events in groups.items():
        label = ctx.t(f"action.{action}")
        rows.append([display(who), display(host), label if label != f"action.{action}" else action,
                     str(len(events)), ctx.data.when(events[0].time),
                     ctx.data.when(events[-1].time)])  # fmt: skip
    return rows


def legal_framing(ctx: RenderContext) -> Flowables:
    """무결성 / 동일성 / 진정성, each claim only as far as this case supports it."""
    data = ctx.data
    tokens = data.tokens
    demo = sum(1 for t in tokens if t.demo)
    untrusted = len(tokens) - len(data.trusted_tokens) - demo
    integrity = [ctx.t("legal.integrity_hashes" if data.verification.intact
                       else "legal.integrity_problems")]  # fmt: skip
    integrity.append(ctx.t("legal.integrity_log"))
    if data.trusted_tokens:
        integrity.append(ctx.t("legal.integrity_tokens", n=len(data.trusted_tokens)))
    else:
        integrity.append(ctx.t("legal.integrity_no_tokens"))
    if demo:
        integrity.append(ctx.t("legal.demo_tokens", n=demo))
    if untrusted:
        integrity.append(ctx.t("legal.untrusted_tokens", n=untrusted))
    witness = "legal.witness" if data.hash_sheet == "seizure" else "legal.no_witness"
    return [
        Paragraph(escape(ctx.t("legal.integrity_title")), ctx.styles.h3),
        Paragraph(escape(" ".join(integrity)), ctx.styles.body),
        Paragraph(escape(ctx.t("legal.identity_title")), ctx.styles.h3),
        ctx.p("legal.identity", ctx.styles.body),
        Paragraph(escape(ctx.t("legal.authenticity_title")), ctx.styles.h3),
        ctx.p("legal.authenticity", ctx.styles.body),
        ctx.p(witness, ctx.styles.small),
    ]


# -- how to verify --------------------------------------------------------------------------
class HowToVerify(ReportSection):
    id = "verify"
    title_key = "verify.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        out: Flowables = [CondPageBreak(80 * mm), *heading(ctx, self)]
        out.append(ctx.p("verify.intro", ctx.styles.body))
        sample = data.items[0] if data.items else None
        cmds = ["cd CASE_FOLDER", "sh verify.sh ."]
        if sample is not None:
            cmds.append(f"sha256sum {sample.item.object_path}")
            if sample.item.encrypted:
                cmds.append(f"age -d -i KEY.txt {sample.item.object_path} | sha256sum")
            cmds.append(f"#  → {sample.sha256}")
        tok = data.tokens[0] if data.tokens else None
        if tok is not None:
            chain = tok.tsr.removesuffix(".tsr") + ".chain.pem"
            cmds += [f"sed -n '{tok.head_seq + 1}p' custody/log.jsonl | tr -d '\\n' | sha256sum",
                     f"openssl ts -verify -digest {tok.head_hash} \\",
                     f"    -in {tok.tsr} -CAfile {chain}"]  # fmt: skip
        pdf = f"reports/{data.report_id}.pdf"
        cmds += [f"pdfsig {pdf}", f"sha256sum {pdf}"]
        out.append(Preformatted("\n".join(cmds), ctx.styles.mono_small, maxLineLength=96))
        key = "verify.steps_encrypted" if data.case.info.encryption is not None else "verify.steps"
        out.append(ctx.p(key, ctx.styles.small, report_id=data.report_id))
        return out


# -- hash sheet -----------------------------------------------------------------------------
def signature_block(ctx: RenderContext, roles: list[str]) -> Table:
    rows = [
        [Paragraph(escape(ctx.t(role)), ctx.styles.cell_head),
         Paragraph(escape(ctx.t("sign.name")), ctx.styles.cell), "",
         Paragraph(escape(ctx.t("sign.date")), ctx.styles.cell), "",
         Paragraph(escape(ctx.t("sign.signature")), ctx.styles.cell), ""]
        for role in roles
    ]  # fmt: skip
    t = Table(rows, colWidths=[w * mm for w in (32, 14, 32, 14, 26, 20, 36)],
              rowHeights=[13 * mm] * len(rows))  # fmt: skip
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, _color("rule")),
                           ("BACKGROUND", (0, 0), (0, -1), _color("accent")),
                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))  # fmt: skip
    return t


class HashSheet(ReportSection):
    id = "hash_sheet"
    title_key = "hash_sheet.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        kind = data.hash_sheet
        out: Flowables = [PageBreak(), *heading(ctx, self)]
        if kind == "handover":
            return out + handover_sheet(ctx)
        out.append(Paragraph(escape(ctx.t(f"hash_sheet.kind_{kind}")), ctx.styles.h3))
        out.append(ctx.kv([
            (ctx.t("field.case_id"), f"{info.case_id} · {info.title}"),
            (ctx.t("field.report_id"), data.report_id),
            (ctx.t(f"hash_sheet.collector_{kind}"), info.examiner),
            (ctx.t("hash_sheet.algorithm"), "SHA-256 (FIPS 180-4)"),
            (ctx.t("summary.log_head"), ctx.mono(f"#{data.head_seq} {data.head_hash}", small=True)),
            (ctx.t("summary.key_fp"), ctx.mono(info.public_key_fingerprint, small=True)),
        ]))  # fmt: skip
        out.append(Spacer(1, 2 * mm))
        out += chunked(
            ctx,
            [ctx.t("col.no"), ctx.t("col.file"), ctx.t("col.size"), ctx.t("col.sha256")],
            data.items,
            SHEET_COLUMNS,
            lambda d: [
                str(d.no),
                d.file_name,
                human_size(d.item.size),
                ctx.mono(d.sha256, small=True),
            ],
        )
        out += [CondPageBreak(65 * mm), Spacer(1, 3 * mm)]
        out.append(ctx.p(f"hash_sheet.confirm_{kind}", ctx.styles.body, examiner=info.examiner,
                         when=data.when(data.created)))  # fmt: skip
        out.append(Spacer(1, 3 * mm))
        roles = ["sign.collector", "sign.officer"] if kind == "self" else [
            "sign.examiner", "sign.participant"]  # fmt: skip
        out.append(signature_block(ctx, roles))
        out.append(ctx.p(f"hash_sheet.note_{kind}", ctx.styles.tiny))
        return out


def handover_sheet(ctx: RenderContext) -> Flowables:
    """The hand-over variant (해시값 확인서 at a hand-over): what was handed (the items as of
    the hand-over's head, their hashes, the head), both people's names, key fingerprints and
    signature lines. The newest hand-over of the log is the one confirmed."""
    from forensic.custody.parties import handovers

    data = ctx.data
    given = handovers(data.entries)[-1]
    parties = data.case.parties()
    sender = parties.get(given.sender)
    handed = [d for d in data.items if d.item.acquisitions[0].seq <= given.head_seq]
    received = (
        ctx.t("handover_sheet.received", seq=given.receipt_seq, when=data.when(given.receipt_time))
        if given.received
        else ctx.t("handover_sheet.not_received")
    )
    out: Flowables = [Paragraph(escape(ctx.t("handover_sheet.kind")), ctx.styles.h3)]
    out.append(ctx.kv([
        (ctx.t("field.case_id"), f"{data.case.info.case_id} · {data.case.info.title}"),
        (ctx.t("field.report_id"), data.report_id),
        (ctx.t("handover_sheet.from"), display(sender.name if sender else given.sender[:16])),
        (ctx.t("handover_sheet.from_key"), ctx.mono(given.sender, small=True)),
        (ctx.t("handover_sheet.to"), display(f"{given.receiver_name} ({given.receiver_role})")),
        (ctx.t("handover_sheet.to_key"), ctx.mono(given.receiver, small=True)),
        (ctx.t("handover_sheet.when"), data.when(given.time)),
        (ctx.t("hash_sheet.algorithm"), "SHA-256 (FIPS 180-4)"),
        (ctx.t("handover_sheet.head"),
         ctx.mono(f"#{given.head_seq} {given.head_hash}", small=True)),
        (ctx.t("handover_sheet.receipt"), received),
        *([(ctx.t("handover_sheet.bag"), ctx.mono(given.bag_manifest, small=True))]
          if given.bag_manifest else []),
    ]))  # fmt: skip
    out.append(Spacer(1, 2 * mm))
    out += chunked(
        ctx,
        [ctx.t("col.no"), ctx.t("col.file"), ctx.t("col.size"), ctx.t("col.sha256")],
        handed,
        SHEET_COLUMNS,
        lambda d: [str(d.no), d.file_name, human_size(d.item.size), ctx.mono(d.sha256, small=True)],
    )
    out += [CondPageBreak(65 * mm), Spacer(1, 3 * mm)]
    out.append(ctx.p("handover_sheet.confirm", ctx.styles.body, items=len(handed),
                     bytes=given.bytes, head=given.head_hash[:16]))  # fmt: skip
    out.append(Spacer(1, 3 * mm))
    out.append(signature_block(ctx, ["handover_sheet.sign_from", "handover_sheet.sign_to"]))
    out.append(ctx.p("handover_sheet.note", ctx.styles.tiny))
    return out


# -- declaration ----------------------------------------------------------------------------
class Declaration(ReportSection):
    id = "declaration"
    title_key = "declaration.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        org = ctx.t("declaration.org", organisation=info.organisation) if info.organisation else ""
        out: Flowables = [CondPageBreak(120 * mm), *heading(ctx, self)]
        out.append(ctx.p("declaration.text", ctx.styles.body, examiner=info.examiner, org=org,
                         case_id=info.case_id, report_id=data.report_id, items=len(data.items),
                         head=data.head_hash, head_seq=data.head_seq,
                         intact=ctx.t("declaration.intact" if data.verification.intact
                                      else "declaration.not_intact")))  # fmt: skip
        out.append(ctx.p("declaration.references", ctx.styles.small))
        if data.foreign_references:
            out.append(ctx.p("declaration.foreign", ctx.styles.small))
        out.append(ctx.p("declaration.limits", ctx.styles.small))
        digital = "declaration.digital_demo" if data.demo_used else "declaration.digital"
        if data.signature_level == "B-B":
            digital = "declaration.digital_offline"
        out.append(ctx.p(digital, ctx.styles.note))
        out.append(signature_block(ctx, ["sign.examiner"]))
        return out


# -- appendix (--detail full) ---------------------------------------------------------------
class Appendix(ReportSection):
    id = "appendix"
    title_key = "appendix.title"

    def applies(self, case: ReportData) -> bool:
        return case.detail == "full"

    def render(self, ctx: RenderContext) -> Flowables:
        out: Flowables = [PageBreak(), *heading(ctx, self)]
        out.append(ctx.p("appendix.intro", ctx.styles.small))
        rows: list[list[Any]] = []
        for d in ctx.data.items:
            for _name, doc in d.findings:
                for f in doc.get("findings", []) if isinstance(doc, dict) else []:
                    if isinstance(f, dict) and f.get("status") != "not_applicable":
                        rows.append(finding_row(ctx, d, f))
        out += sub(ctx, "appendix.findings_title")
        if rows:
            head = [ctx.t("col.no"), ctx.t("col.signal"), ctx.t("col.status"),
                    ctx.t("col.value_threshold"), ctx.t("col.rate")]  # fmt: skip
            out += chunked(ctx, head, rows, (10, 44, 30, 34, 56))
        else:
            out.append(ctx.p("finding.not_analysed_long", ctx.styles.small))
        out += sub(ctx, "appendix.log_title")
        head = [ctx.t("col.seq"), ctx.t("col.time"), ctx.t("col.action"), ctx.t("col.subject"),
                ctx.t("col.entry_hash")]  # fmt: skip
        out += chunked(ctx, head, ctx.data.entries, (10, 38, 24, 36, 66), lambda e: log_row(ctx, e))
        return out


def finding_row(ctx: RenderContext, d: ItemData, f: dict[str, Any]) -> list[Any]:
    from forensic.report.wording import status_word

    value = human_value(f.get("value"), 80)
    if f.get("threshold") is not None:
        value += f" / {human_value(f.get('threshold'), 40)}"
    return [str(d.no), signal_name(ctx.t, str(f.get("signal", ""))),
            status_word(ctx.t, str(f.get("status", ""))), value,
            rate_words(ctx.t, f.get("measured_error_rates"))]  # fmt: skip


def log_row(ctx: RenderContext, e: Any) -> list[Any]:
    subject = e.subject if len(e.subject) <= 30 else e.subject[:29] + "…"
    label = ctx.t(f"action.{e.action}")
    return [str(e.seq), ctx.data.when(e.time), label if label != f"action.{e.action}" else e.action,
            display(subject), ctx.mono(e.hash, tiny=True)]  # fmt: skip


#: the blocks of an item's page, in order
ITEM_PARTS: tuple[ItemPart, ...] = (
    IdentityPart(), FindingsPart(), ComparisonPart(), *CONTEXT_PARTS, MetadataPart(),
)  # fmt: skip
#: the report's chapters, in order
SECTIONS: tuple[ReportSection, ...] = (
    Cover(),
    Summary(),
    Inventory(),
    Items(),
    ChatEvidence(),
    Availability(),
    Custody(),
    MethodologySection(),
    HowToVerify(),
    HashSheet(),
    Declaration(),
    Appendix(),
)
