"""The report's sections and per-item parts (registered in reading order)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Preformatted,
    Spacer,
    Table,
    TableStyle,
)

from forensic._internal.paths import display
from forensic.case.derived import open_case_file
from forensic.media import metadata_lines
from forensic.report.context_parts import CONTEXT_PARTS
from forensic.report.model import ItemData, ReportData, TokenData
from forensic.report.parts import (
    Flowables,
    ItemPart,
    ReportSection,
)
from forensic.report.redact import PreviewUnavailable, preview_image
from forensic.report.render import CONTENT_WIDTH, Outline, PdfImage, RenderContext, _color

CHUNK = 30  # rows per table: long tables split cheaply and repeat their header row


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def heading(ctx: RenderContext, section: ReportSection) -> Flowables:
    ctx.section_no += 1
    title = f"{ctx.section_no}. {ctx.t(section.title_key)}"
    return [Outline(title, 0), Paragraph(escape(title), ctx.styles.h1)]


def sub(ctx: RenderContext, key: str, level: int = 1, **params: object) -> Flowables:
    title = ctx.t(key, **params)
    return [Outline(title, level), Paragraph(escape(title), ctx.styles.h2)]


def token_label(ctx: RenderContext, tok: TokenData | None) -> str:
    if tok is None:
        return ctx.t("common.none_yet")
    mark = f" ({ctx.t('common.demo')})" if tok.demo or not tok.trusted else ""
    return f"{tok.gen_time} · {tok.tsa}{mark}"


class Deferred:
    """Flowables made only when the layout reaches them (bounded memory for big cases)."""

    def __init__(self, make: Callable[[], Iterable[Any]]) -> None:
        self.make = make


def chunked(
    ctx: RenderContext,
    header: list[str],
    source: Sequence[Any],
    widths: list[float],
    row: Callable[[Any], list[Any]] = list,
) -> Flowables:
    """Tables of :data:`CHUNK` rows, each row built from ``source`` only when laid out."""

    def make() -> Iterator[Any]:
        for start in range(0, max(len(source), 1), CHUNK):
            yield ctx.table(header, [row(x) for x in source[start : start + CHUNK]], widths)

    return [Deferred(make)]


def item_findings_summary(ctx: RenderContext, d: ItemData) -> str:
    lines: list[str] = []
    for name, doc in d.findings:
        summary = doc.get("summary") or doc.get("finding") or doc.get("result")
        if summary:
            lines.append(f"{name}: {summary}")
    if not lines:
        return ctx.t("common.no_analysis")
    return "; ".join(str(x) for x in lines)


# -- 1. cover -------------------------------------------------------------------------------
class Cover(ReportSection):
    id = "cover"
    title_key = "cover.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        out: Flowables = [Outline(ctx.t("cover.title"), 0)]
        if ctx.logo is not None:
            logo, (w, h) = ctx.logo
            height = 22 * mm
            out.append(PdfImage(logo, height * w / h, height))
        out += [
            Spacer(1, 18 * mm),
            Paragraph(escape(ctx.t("cover.title")), ctx.styles.title),
            Spacer(1, 3 * mm),
            Paragraph(escape(info.title), ctx.styles.subtitle),
            Spacer(1, 12 * mm),
            ctx.kv(
                [
                    (ctx.t("field.case_id"), info.case_id),
                    (ctx.t("field.case_title"), info.title),
                    (ctx.t("field.examiner"), info.examiner),
                    (ctx.t("field.organisation"), info.organisation or "—"),
                    (ctx.t("field.report_date"), data.created),
                    (ctx.t("field.report_id"), data.report_id),
                    (
                        ctx.t("field.tool"),
                        f"{data.tool.get('name')} {data.tool.get('version')}",
                    ),
                    (ctx.t("field.items"), str(len(data.items))),
                    (ctx.t("field.preview"), ctx.t(f"preview.{ctx.preview}")),
                ]
            ),
            Spacer(1, 8 * mm),
            Paragraph(escape(ctx.t("cover.proves_title")), ctx.styles.h3),
            ctx.p("cover.proves", ctx.styles.note),
            Paragraph(escape(ctx.t("cover.not_proves_title")), ctx.styles.h3),
            ctx.p("cover.not_proves", ctx.styles.note),
            NextPageTemplate("body"),
            PageBreak(),
        ]
        return out


# -- 2. summary -----------------------------------------------------------------------------
class Summary(ReportSection):
    id = "summary"
    title_key = "summary.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        ver = data.verification
        status = ctx.t("summary.intact" if ver.intact else "summary.not_intact")
        trusted = [t for t in data.tokens if t.trusted and not t.demo]
        out = heading(ctx, self)
        out.append(
            ctx.kv(
                [
                    (ctx.t("field.items"), str(len(data.items))),
                    (ctx.t("summary.total_size"), human_size(sum(d.item.size for d in data.items))),
                    (ctx.t("summary.verification"), status),
                    (ctx.t("summary.checked_at"), data.created),
                    (ctx.t("summary.log_entries"), str(len(data.entries))),
                    (
                        ctx.t("summary.tokens"),
                        ctx.t("summary.tokens_value", all=len(data.tokens), trusted=len(trusted)),
                    ),
                ]
            )
        )
        if not ver.intact:
            lines = [f"{p.area}/{p.kind}: {p.location} {p.detail}" for p in ver.problems[:50]]
            out.append(ctx.p("summary.problems", ctx.styles.note, problems="; ".join(lines)))
        out += sub(ctx, "summary.findings_title", level=1)

        def rows(d: ItemData) -> list[Any]:
            return [
                str(d.no),
                d.file_name,
                ctx.mono(d.sha256[:16] + "…", small=True),
                token_label(ctx, d.first_trusted),
                item_findings_summary(ctx, d),
            ]

        header = [
            ctx.t("col.no"),
            ctx.t("col.file"),
            ctx.t("col.sha256_short"),
            ctx.t("col.first_trusted"),
            ctx.t("col.findings"),
        ]
        out += chunked(ctx, header, data.items, [10 * mm, 38 * mm, 30 * mm, 44 * mm, 52 * mm], rows)
        out.append(PageBreak())
        return out


# -- 3. evidence inventory ------------------------------------------------------------------
def source_text(ctx: RenderContext, d: ItemData) -> str:
    """Where the item came from; names from the source are escaped (a right-to-left override or
    a control character in a file name must show as such, not reorder or hide the text)."""
    parts = []
    if d.source_url:
        parts.append(display(d.source_url))
    if d.chat:
        parts.append(ctx.t("item.chat_value", chat=display(d.chat)))
    if d.message:
        parts.append(ctx.t("item.message_value", message=display(str(d.message))))
    if not parts and d.item.acquisitions:
        parts.append(display(d.item.acquisitions[0].source_path))
    return " · ".join(parts) or "—"


class Inventory(ReportSection):
    id = "inventory"
    title_key = "inventory.title"

    def render(self, ctx: RenderContext) -> Flowables:
        out = heading(ctx, self)
        out.append(ctx.p("inventory.intro", ctx.styles.small))
        header = [
            ctx.t("col.no"),
            ctx.t("col.file"),
            ctx.t("col.type"),
            ctx.t("col.size"),
            ctx.t("col.sha256"),
            ctx.t("col.acquired"),
            ctx.t("col.first_trusted"),
            ctx.t("col.source"),
        ]

        def rows(d: ItemData) -> list[Any]:
            return [
                str(d.no),
                d.file_name,
                d.item.media_type or "—",
                human_size(d.item.size),
                ctx.mono(d.sha256, small=True),
                d.acquired,
                token_label(ctx, d.first_trusted),
                source_text(ctx, d),
            ]

        widths = [8, 25, 17, 14, 34, 24, 26, 26]
        out += chunked(ctx, header, ctx.data.items, [w * mm for w in widths], rows)
        out.append(PageBreak())
        return out


# -- 4. per item ----------------------------------------------------------------------------
class Items(ReportSection):
    id = "items"
    title_key = "items.title"

    def applies(self, case: ReportData) -> bool:
        return bool(case.items)

    def render(self, ctx: RenderContext) -> Flowables:
        out = heading(ctx, self)
        out.append(ctx.p(f"items.intro_{ctx.preview}", ctx.styles.small))

        def make() -> Iterator[Any]:
            for n, d in enumerate(ctx.data.items):
                if n:
                    yield PageBreak()
                title = ctx.t("items.item_title", no=d.no, name=d.file_name)
                yield Outline(title, 1)
                yield Paragraph(escape(title), ctx.styles.h2)
                yield ctx.mono(d.sha256)
                yield Spacer(1, 2 * mm)
                for part in ITEM_PARTS:
                    if part.applies(d):
                        yield from part.render(ctx, d)

        out.append(Deferred(make))
        out.append(PageBreak())
        return out


def preview_flowable(ctx: RenderContext, path: Any, max_h: float = 70 * mm) -> Any:
    try:
        data, (w, h) = preview_image(path, ctx.preview)
    except PreviewUnavailable as exc:
        return ctx.p(
            "item.preview_unavailable", ctx.styles.small, reason=exc.reason(ctx.lang)[:200]
        )
    width = min(CONTENT_WIDTH * 0.6, max_h * w / h)
    return PdfImage(data, width, width * h / w)


class PreviewPart(ItemPart):
    id = "preview"
    title_key = "item.preview"

    def applies(self, item: ItemData) -> bool:
        return True

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        if ctx.preview == "none":
            return [ctx.p("item.preview_omitted", ctx.styles.small)]
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        if not item.item.media_type.startswith("image/"):
            out.append(ctx.p("item.preview_not_image", ctx.styles.small, type=item.item.media_type))
            return out
        with ctx.data.case.store.plaintext_path(item.item.item_id) as path:
            out.append(preview_flowable(ctx, path))
        out.append(ctx.p(f"item.preview_note_{ctx.preview}", ctx.styles.tiny))
        return out


class AcquisitionPart(ItemPart):
    id = "acquisition"
    title_key = "item.acquisition"

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        it = item.item
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        rows: list[tuple[str, Any]] = [
            (ctx.t("col.file"), item.file_name),
            (ctx.t("col.type"), it.media_type or "—"),
            (ctx.t("col.size"), f"{human_size(it.size)} ({it.size} B)"),
            (ctx.t("item.stored_as"), ctx.mono(it.object_path, small=True)),
            (ctx.t("col.first_trusted"), token_label(ctx, item.first_trusted)),
            (ctx.t("col.source"), source_text(ctx, item)),
        ]
        for name in sorted(it.hashes):
            rows.append((name.upper(), ctx.mono(it.hashes[name], small=True)))
        out.append(ctx.kv(rows))
        header = [
            ctx.t("col.seq"),
            ctx.t("col.acquired"),
            ctx.t("item.examiner_host"),
            ctx.t("item.source_path"),
        ]
        acq_rows = [
            [
                str(a.seq),
                a.time,
                display(f"{a.details.get('examiner', '')} @ {a.details.get('host', '')}"),
                display(a.source_path),
            ]
            for a in it.acquisitions
        ]
        out.append(Spacer(1, 2 * mm))
        out += chunked(ctx, header, acq_rows, [14 * mm, 42 * mm, 40 * mm, 78 * mm])
        if item.chat or item.message:
            out.append(Paragraph(escape(ctx.t("item.chat_context")), ctx.styles.h3))
            out.append(
                ctx.kv(
                    [
                        (ctx.t("item.chat"), item.chat or "—"),
                        (ctx.t("item.message"), item.message or "—"),
                    ]
                )
            )
        if item.derived_problems:
            out.append(
                ctx.p(
                    "item.derived_problems",
                    ctx.styles.note,
                    problems="; ".join(item.derived_problems),
                )
            )
        return out


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], limit: int = 80) -> None:
    if len(out) >= limit:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out, limit)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for n, v in enumerate(value):
            _flatten(f"{prefix}[{n}]", v, out, limit)
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out.append((prefix, text[:400]))


class MetadataPart(ItemPart):
    """``media/<sha>/metadata.json`` when a log entry vouches for it."""

    id = "metadata"
    title_key = "item.metadata"

    def applies(self, item: ItemData) -> bool:
        return item.metadata is not None

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        # The curated, translated view `forensic show` uses; a raw dump only for unknown records.
        rows = metadata_lines(item.metadata or {}, ctx.lang)
        if not rows:
            _flatten("", item.metadata or {}, rows)
        return [
            Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3),
            ctx.table(
                [ctx.t("col.field"), ctx.t("col.value")],
                [[k, v] for k, v in rows],
                [60 * mm, CONTENT_WIDTH - 60 * mm],
            ),
        ]


def _finding_row(finding: dict[str, Any], lang: str) -> list[str]:
    said = finding.get("indicates") or {}
    statement = str(said.get(lang) or said.get("en") or "") if isinstance(said, dict) else ""
    if finding.get("positive_proof"):
        statement += " [positive proof]" if lang != "ko" else " [긍정 증거]"
    rates = finding.get("measured_error_rates")
    if isinstance(rates, dict) and rates.get("fpr_untouched") is not None:
        bound = rates.get("fpr_upper_95")
        statement += f" (FPR {rates['fpr_untouched']}" + (f", ≤ {bound} at 95 %" if bound else "")
        statement += f", n={rates.get('n_neg')})"
    value, threshold = finding.get("value"), finding.get("threshold")
    numbers = "" if value is None else str(value)
    if threshold is not None:
        numbers += f" / {threshold}"
    return [str(finding.get("signal", "")), str(finding.get("status", "")), statement, numbers]


class FindingsPart(ItemPart):
    """``analysis/<sha>/*.json`` findings and figures (redacted like the preview)."""

    id = "findings"
    title_key = "item.findings"

    def applies(self, item: ItemData) -> bool:
        return bool(item.findings or item.figures)

    def render(self, ctx: RenderContext, item: ItemData) -> Flowables:
        out: Flowables = [Paragraph(escape(ctx.t(self.title_key)), ctx.styles.h3)]
        for name, doc in item.findings:
            out.append(Paragraph(escape(name), ctx.styles.small))
            findings = doc.get("findings") if isinstance(doc, dict) else None
            if isinstance(findings, list) and findings:
                # One row per signal: what it found, in the report's language, with its numbers.
                out.append(
                    ctx.table(
                        [
                            ctx.t("col.signal"),
                            ctx.t("col.status"),
                            ctx.t("col.statement"),
                            ctx.t("col.value_threshold"),
                        ],
                        [_finding_row(f, ctx.lang) for f in findings if isinstance(f, dict)],
                        [34 * mm, 22 * mm, CONTENT_WIDTH - 90 * mm, 34 * mm],
                    )
                )
                continue
            rows: list[tuple[str, str]] = []
            _flatten("", doc, rows)
            out.append(
                ctx.table(
                    [ctx.t("col.field"), ctx.t("col.value")],
                    [[k, v] for k, v in rows],
                    [60 * mm, CONTENT_WIDTH - 60 * mm],
                )
            )
        if ctx.preview != "none":
            for fig in item.figures:
                out.append(Spacer(1, 2 * mm))
                with open_case_file(ctx.data.case, fig) as figure:  # decrypted in memory
                    out.append(KeepTogether([preview_flowable(ctx, figure, 55 * mm)]))
                out.append(Paragraph(escape(fig.name), ctx.styles.tiny))
        return out


# -- 5. integrity / identity / authenticity -------------------------------------------------
class Integrity(ReportSection):
    id = "integrity"
    title_key = "integrity.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        info = data.case.info
        out = heading(ctx, self)
        for key in ("integrity", "identity", "authenticity"):
            out += sub(ctx, f"integrity.{key}_title")
            out.append(ctx.p(f"integrity.{key}_text", ctx.styles.body))
        out += sub(ctx, "integrity.hashes_title")
        out += chunked(
            ctx,
            [ctx.t("col.no"), ctx.t("col.sha256"), ctx.t("col.hash_time"), ctx.t("col.seq")],
            data.items,
            [10 * mm, 100 * mm, 46 * mm, 18 * mm],
            lambda d: [
                str(d.no),
                ctx.mono(d.sha256, small=True),
                d.acquired,
                str(d.item.acquisitions[0].seq),
            ],
        )
        out += sub(ctx, "integrity.tokens_title")
        if data.tokens:
            trows = [
                [
                    t.tsa + (f" ({ctx.t('common.demo')})" if t.demo or not t.trusted else ""),
                    t.serial,
                    t.gen_time,
                    t.policy,
                    f"{t.head_seq}",
                    ctx.mono(t.head_hash, small=True),
                ]
                for t in data.tokens
            ]
            out += chunked(
                ctx,
                [
                    ctx.t("col.tsa"),
                    ctx.t("col.serial"),
                    ctx.t("col.gen_time"),
                    ctx.t("col.policy"),
                    ctx.t("col.head_seq"),
                    ctx.t("col.head_hash"),
                ],
                trows,
                [28 * mm, 24 * mm, 34 * mm, 26 * mm, 14 * mm, 48 * mm],
            )
            if any(t.demo or not t.trusted for t in data.tokens):
                out.append(ctx.p("integrity.demo_warning", ctx.styles.note))
        else:
            out.append(ctx.p("integrity.no_tokens", ctx.styles.note))
        out += sub(ctx, "integrity.log_title")
        out.append(
            ctx.kv(
                [
                    (ctx.t("integrity.log_entries"), str(len(data.entries))),
                    (ctx.t("integrity.log_head_seq"), str(data.head_seq)),
                    (ctx.t("integrity.log_head"), ctx.mono(data.head_hash, small=True)),
                    (
                        ctx.t("integrity.key_fp"),
                        ctx.mono(info.public_key_fingerprint, small=True),
                    ),
                    (
                        ctx.t("summary.verification"),
                        ctx.t(
                            "summary.intact" if data.verification.intact else "summary.not_intact"
                        ),
                    ),
                ]
            )
        )
        out.append(ctx.p("integrity.log_appendix", ctx.styles.small))
        out.append(PageBreak())
        return out


# -- 6. methodology and limitations ---------------------------------------------------------
class Methodology(ReportSection):
    id = "methodology"
    title_key = "methodology.title"

    def render(self, ctx: RenderContext) -> Flowables:
        out = heading(ctx, self)
        out.append(ctx.p("methodology.acquisition", ctx.styles.body))
        out += sub(ctx, "methodology.detection_title")
        text = ctx.data.methodology
        if not any(item.findings for item in ctx.data.items):
            out.append(ctx.p("methodology.no_detection", ctx.styles.note))
        if text is not None:
            out.append(ctx.p("methodology.quoted", ctx.styles.small))
            out.append(Preformatted(text, ctx.styles.mono_small, maxLineLength=110))
        out += sub(ctx, "methodology.limitations_title")
        out.append(ctx.p("methodology.limitations", ctx.styles.body))
        out.append(PageBreak())
        return out


# -- 7. hash confirmation sheet -------------------------------------------------------------
def signature_block(ctx: RenderContext, roles: list[str]) -> Table:
    rows = []
    for role in roles:
        rows.append(
            [
                Paragraph(escape(ctx.t(role)), ctx.styles.cell_head),
                Paragraph(escape(ctx.t("sign.name")), ctx.styles.cell),
                "",
                Paragraph(escape(ctx.t("sign.date")), ctx.styles.cell),
                "",
                Paragraph(escape(ctx.t("sign.signature")), ctx.styles.cell),
                "",
            ]
        )
    t = Table(
        rows,
        colWidths=[30 * mm, 14 * mm, 36 * mm, 14 * mm, 28 * mm, 18 * mm, 34 * mm],
        rowHeights=[14 * mm] * len(rows),
    )
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, _color("rule")),
                ("BACKGROUND", (0, 0), (0, -1), _color("accent")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


class HashSheet(ReportSection):
    id = "hash_sheet"
    title_key = "hash_sheet.title"

    def render(self, ctx: RenderContext) -> Flowables:
        info = ctx.data.case.info
        out = heading(ctx, self)
        out.append(
            ctx.kv(
                [
                    (ctx.t("field.case_id"), info.case_id),
                    (ctx.t("field.report_id"), ctx.data.report_id),
                    (ctx.t("field.examiner"), info.examiner),
                    (ctx.t("hash_sheet.algorithm"), "SHA-256 (FIPS 180-4)"),
                ]
            )
        )
        out.append(Spacer(1, 3 * mm))
        out.append(ctx.p("hash_sheet.intro", ctx.styles.body))
        out += chunked(
            ctx,
            [ctx.t("col.no"), ctx.t("col.file"), ctx.t("col.size"), ctx.t("col.sha256")],
            ctx.data.items,
            [9 * mm, 40 * mm, 16 * mm, 109 * mm],
            lambda d: [
                str(d.no),
                d.file_name,
                human_size(d.item.size),
                ctx.mono(d.sha256, small=True),
            ],
        )
        out.append(CondPageBreak(70 * mm))
        out.append(Spacer(1, 4 * mm))
        out.append(ctx.p("hash_sheet.confirm", ctx.styles.body))
        out.append(Spacer(1, 3 * mm))
        out.append(signature_block(ctx, ["sign.examiner", "sign.participant"]))
        out.append(Spacer(1, 2 * mm))
        out.append(ctx.p("hash_sheet.participant_note", ctx.styles.tiny))
        out.append(PageBreak())
        return out


# -- 8. how to verify -----------------------------------------------------------------------
class HowToVerify(ReportSection):
    id = "verify"
    title_key = "verify.title"

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        out = heading(ctx, self)
        out.append(ctx.p("verify.intro", ctx.styles.body))
        out += sub(ctx, "verify.objects_title")
        sample = data.items[0] if data.items else None
        cmds = ["cd CASE_FOLDER"]
        encrypted = data.case.info.encryption is not None
        if sample is not None and sample.item.encrypted:
            # The stored file is ciphertext: its hash is the ciphertext's, not the evidence's.
            cmds.append(f"sha256sum {sample.item.object_path}")
            cmds.append(f"#  → {sample.item.object_sha256}")
            cmds.append("forensic verify --decrypt --case .")
            cmds.append(f"age -d -i KEY.txt {sample.item.object_path} | sha256sum")
            cmds.append(f"#  → {sample.sha256}")
        elif sample is not None:
            cmds.append(f"sha256sum {sample.item.object_path}")
            cmds.append(f"#  → {sample.sha256}")
        out.append(ctx.p("encrypted.objects" if encrypted else "verify.objects", ctx.styles.body))
        out.append(Preformatted("\n".join(cmds), ctx.styles.mono_small, maxLineLength=95))
        out += sub(ctx, "verify.script_title")
        out.append(ctx.p("verify.script", ctx.styles.body))
        out.append(Preformatted("sh verify.sh .\nforensic verify --case .", ctx.styles.mono_small))
        out += sub(ctx, "verify.ts_title")
        out.append(ctx.p("verify.ts", ctx.styles.body))
        ts_cmds = []
        for tok in data.tokens[:5]:
            chain = tok.tsr.removesuffix(".tsr") + ".chain.pem"
            ts_cmds.append(
                f"sed -n '{tok.head_seq + 1}p' custody/log.jsonl | tr -d '\\n' | sha256sum\n"
                f"#  → {tok.head_hash}\n"
                f"openssl ts -verify -digest {tok.head_hash} \\\n"
                f"    -in {tok.tsr} -CAfile {chain}"
            )
        if not ts_cmds:
            ts_cmds.append(
                "openssl ts -verify -digest HEAD_HASH -in timestamps/N-TSA.tsr \\\n"
                "    -CAfile timestamps/N-TSA.chain.pem"
            )
        out.append(Preformatted("\n\n".join(ts_cmds), ctx.styles.mono_small, maxLineLength=95))
        out += sub(ctx, "verify.pdf_title")
        out.append(ctx.p("verify.pdf", ctx.styles.body, report_id=data.report_id))
        if encrypted:
            out.append(ctx.p("encrypted.pdf", ctx.styles.body, report_id=data.report_id))
        pdf = f"reports/{data.report_id}.pdf"
        pdf_cmds = (
            f"age -d -i KEY.txt -o REPORT.pdf {pdf}\n"
            "pdfsig REPORT.pdf\n"
            "pyhanko sign validate --trust CA.pem REPORT.pdf\n"
            f"sha256sum {pdf} REPORT.pdf\n"
            if encrypted
            else f"pdfsig {pdf}\npyhanko sign validate --trust CA.pem {pdf}\nsha256sum {pdf}\n"
        )
        out.append(
            Preformatted(
                pdf_cmds + "grep '\"report\"' custody/log.jsonl | tail -n 1",
                ctx.styles.mono_small,
            )
        )
        out.append(PageBreak())
        return out


# -- 9. examiner declaration ----------------------------------------------------------------
class Declaration(ReportSection):
    id = "declaration"
    title_key = "declaration.title"

    def render(self, ctx: RenderContext) -> Flowables:
        info = ctx.data.case.info
        out = heading(ctx, self)
        out.append(
            ctx.p(
                "declaration.text",
                ctx.styles.body,
                examiner=info.examiner,
                organisation=info.organisation or "—",
                case_id=info.case_id,
                report_id=ctx.data.report_id,
                items=len(ctx.data.items),
                head=ctx.data.head_hash,
                head_seq=ctx.data.head_seq,
            )
        )
        out.append(Spacer(1, 6 * mm))
        out.append(ctx.p("declaration.digital", ctx.styles.note))
        out.append(Spacer(1, 4 * mm))
        out.append(signature_block(ctx, ["sign.examiner"]))
        out.append(PageBreak())
        return out


# -- appendix: the full custody log ---------------------------------------------------------
class LogAppendix(ReportSection):
    id = "log_appendix"
    title_key = "appendix.title"

    def render(self, ctx: RenderContext) -> Flowables:
        out = heading(ctx, self)
        out.append(ctx.p("appendix.intro", ctx.styles.small))

        def row(e: Any) -> list[Any]:
            subject = e.subject
            if subject.startswith("sha256:"):
                subject = subject[:23] + "…"
            return [str(e.seq), e.time, e.action, subject, ctx.mono(e.hash, small=True)]

        out += chunked(
            ctx,
            [
                ctx.t("col.seq"),
                ctx.t("col.time"),
                ctx.t("col.action"),
                ctx.t("col.subject"),
                ctx.t("col.entry_hash"),
            ],
            ctx.data.entries,
            [12 * mm, 40 * mm, 24 * mm, 44 * mm, 54 * mm],
            row,
        )
        return out


#: the blocks of an item's chapter, in order: its context (chat, web page, OCR) before its
#: metadata
ITEM_PARTS: tuple[ItemPart, ...] = (
    PreviewPart(),
    AcquisitionPart(),
    *CONTEXT_PARTS,
    MetadataPart(),
    FindingsPart(),
)
#: the report's chapters, in order
SECTIONS: tuple[ReportSection, ...] = (
    Cover(),
    Summary(),
    Inventory(),
    Items(),
    Integrity(),
    Methodology(),
    HashSheet(),
    HowToVerify(),
    Declaration(),
    LogAppendix(),
)
