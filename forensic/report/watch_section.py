"""The report chapter on where the evidence was published: each watched URL's availability
over time (``forensic watch``), as a table and a small chart, with the trusted time of each
period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from forensic._internal.clock import parse_utc, utc_timestamp
from forensic._internal.paths import display
from forensic.capture.watch import Span, UrlTimeline, timelines
from forensic.report.model import ReportData, TokenData, first_trusted
from forensic.report.parts import Flowables, ReportSection
from forensic.report.render import CONTENT_WIDTH, RenderContext, heading

#: table columns (mm): state, from, until, checks, trusted time
COLUMNS = (32.0, 40.0, 40.0, 18.0, 44.0)
STATE_COLOURS = (
    ("available", "#2e7d32"),
    ("changed", "#1565c0"),
    ("gone", "#c62828"),
    ("unreachable", "#9e9e9e"),
)
ROW = 5 * mm


def _token_doc(tok: TokenData | None) -> dict[str, Any] | None:
    if tok is None:
        return None
    return {"tsa": tok.tsa, "gen_time": tok.gen_time, "trusted": tok.trusted, "demo": tok.demo}


def watched(data: ReportData) -> list[UrlTimeline]:
    return timelines(data.entries, lambda seq: _token_doc(first_trusted(seq, data.tokens)))


class Availability(ReportSection):
    id = "watch"
    title_key = "watch.title"

    def applies(self, case: ReportData) -> bool:
        return any(e.action == "watch" and e.details.get("kind") == "check" for e in case.entries)

    def render(self, ctx: RenderContext) -> Flowables:
        data = ctx.data
        found = watched(data)
        out = heading(ctx, self)
        out.append(ctx.p("watch.intro", ctx.styles.small, zone=data.zone))
        out.append(chart(found, data.when))
        out.append(ctx.p("watch.chart", ctx.styles.tiny))
        head = [ctx.t("watch.col_state"), ctx.t("watch.col_from"), ctx.t("watch.col_to"),
                ctx.t("watch.col_checks"), ctx.t("watch.col_trusted")]  # fmt: skip
        for n, timeline in enumerate(found, start=1):
            out.append(Spacer(1, 3 * mm))
            out.append(ctx.p("watch.summary", ctx.styles.body, **_summary(ctx, n, timeline)))
            rows = [_row(ctx, span) for span in timeline.spans]
            out.append(ctx.table(head, rows, [w * mm for w in COLUMNS]))
        return out


def _summary(ctx: RenderContext, n: int, t: UrlTimeline) -> dict[str, object]:
    data = ctx.data
    never = ctx.t("watch.never")
    return {
        "url": f"#{n} {display(t.url)}",
        "checks": t.checks,
        "first": data.when(t.first_seen.started) if t.first_seen else never,
        "last": data.when(t.last_seen.started) if t.last_seen else never,
        "gone": data.when(t.gone_at.started) if t.gone_at else ctx.t("watch.not_gone"),
    }


def _row(ctx: RenderContext, span: Span) -> list[str]:
    data = ctx.data
    tok = span.covered_by
    if tok is None:
        trusted = ctx.t("watch.none")
    else:
        key = "watch.trusted" if tok["trusted"] and not tok["demo"] else "watch.untrusted"
        trusted = ctx.t(key, tsa=str(tok["tsa"]), time=data.when(str(tok["gen_time"])))
    checks = span.count
    state = ctx.t(f"watch.state_{span.state}")
    if span.first.reason:
        state = f"{state} ({span.first.reason})"
    return [state, data.when(span.first.started), data.when(span.last.started), str(checks),
            trusted]  # fmt: skip


def chart(found: list[UrlTimeline], when: Callable[[str], str]) -> Drawing:
    """One bar per URL from the first to the last check, coloured by state; the first and
    last check's times under it (``when``: the case's zone with UTC)."""
    moments = [parse_utc(c.started) for t in found for s in t.spans for c in (s.first, s.last)]
    start, end = min(moments), max(moments)
    total = max((end - start).total_seconds(), 1.0)
    label_w = 14 * mm
    width = CONTENT_WIDTH - label_w
    axis = 5 * mm
    drawing = Drawing(CONTENT_WIDTH, ROW * len(found) + 2 * mm + axis)
    drawing.add(String(label_w, 1, when(utc_timestamp(start)), fontSize=6))
    drawing.add(String(CONTENT_WIDTH, 1, when(utc_timestamp(end)), fontSize=6, textAnchor="end"))
    for n, t in enumerate(found):
        y = (len(found) - 1 - n) * ROW + 1 * mm + axis
        drawing.add(String(0, y + 1, f"#{n + 1}", fontSize=7))
        for i, span in enumerate(t.spans):
            x0 = min((parse_utc(span.first.started) - start).total_seconds() / total, 1.0)
            x0 = min(x0 * width, width - 2.0)
            upto = t.spans[i + 1].first.started if i + 1 < len(t.spans) else span.last.started
            x1 = (parse_utc(upto) - start).total_seconds() / total * width
            colour = colors.HexColor(dict(STATE_COLOURS).get(span.state, "#000000"))
            bar = Rect(label_w + x0, y, max(x1 - x0, 2.0), ROW - 1.5 * mm)
            bar.fillColor, bar.strokeColor = colour, None
            drawing.add(bar)
    return drawing
