"""Checking, analysing, reporting, handing over, chats and trusted time; jobs and their stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from forensic.errors import ForensicError
from forensic.progress import ProgressReporter
from forensic.webapp.case_routes import needs_case, needs_key
from forensic.webapp.evidence_routes import Outcome, _t
from forensic.webapp.pages import case_path, csrf_refused, go, read_form, render, state_of
from forensic.webapp.state import AppState


async def job_page(request: Request) -> Response:
    job = state_of(request).jobs.get(request.path_params["job"])
    if job is None:
        return Response(status_code=404)
    return render(request, "job.html", job=job, snap=job.snapshot())


async def job_events(request: Request) -> Response:
    """Server-sent events: the job's progress every 0.2 s until it ends."""
    job = state_of(request).jobs.get(request.path_params["job"])
    if job is None:
        return Response(status_code=404)

    async def stream() -> AsyncIterator[bytes]:
        while True:
            snap = job.snapshot()
            yield f"data: {json.dumps(snap)}\n\n".encode()
            if snap["state"] != "running":
                return
            await asyncio.sleep(0.2)

    return StreamingResponse(stream(), media_type="text/event-stream")


def _start(request: Request, kind: str, work: object) -> Response:
    job = state_of(request).jobs.start(kind, work)  # type: ignore[arg-type]
    return go(f"/jobs/{job.job_id}")


async def _posted(request: Request, page: str, key: bool = True) -> dict[str, str] | Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    refused = needs_case(request) or (needs_key(request, page) if key else None)
    return refused if refused is not None else form


# -- verify ----------------------------------------------------------------------------------
async def verify_page(request: Request) -> Response:
    return needs_case(request) or render(request, "verify.html")


async def verify(request: Request) -> Response:
    form = await _posted(request, "/verify", key=False)
    if isinstance(form, Response):
        return form
    state = state_of(request)

    def work(progress: ProgressReporter) -> Outcome:
        from forensic.service.verification import verify as verify_case

        result = verify_case(state.session, state.case_dir, progress)
        report = result.report
        if report.intact:
            head = _t(state, "verify.intact", items=report.items, entries=report.log_entries)
            return Outcome((("ok", head),), extra={"intact": True})
        lines = [("problem", _t(state, "verify.problems", count=len(report.problems)))]
        for p in report.problems[:50]:
            name = result.name_of(p.location)
            where = p.location if name is None else f"{p.location} ({name})"
            lines.append(("problem", f"{p.area} {where}: {p.kind} {p.detail}"))
        return Outcome(tuple(lines), extra={"intact": False})

    return _start(request, "verify", work)


# -- analysis --------------------------------------------------------------------------------
async def analysis_page(request: Request) -> Response:
    return needs_case(request) or render(request, "analysis.html")


async def analysis(request: Request) -> Response:
    form = await _posted(request, "/analysis")
    if isinstance(form, Response):
        return form
    state = state_of(request)

    def work(progress: ProgressReporter) -> Outcome:
        from forensic.service.analysis import analyze

        result = analyze(
            state.session, metadata=True, detect=True, case_dir=state.case_dir, progress=progress
        )
        lang = "ko" if state.lang == "ko" else "en"
        lines: list[tuple[str, str]] = []
        for a, _entry in result.analysis or ():
            lines.append(("ok", _t(state, "analysis.item", item=a.item_id[:16], type=a.media_type)))
            for doc in a.docs.values():
                for f in doc["findings"]:
                    lines.append(("finding", _finding_text(state, f, lang)))
        if not lines:
            lines.append(("ok", _t(state, "analysis.nothing")))
        lines.append(("note", _t(state, "analysis.honest")))
        return Outcome(tuple(lines))

    return _start(request, "analysis", work)


def _finding_text(state: AppState, finding: dict[str, object], lang: str) -> str:
    from forensic.i18n import message

    indicates = finding.get("indicates")
    text = indicates.get(lang, "") if isinstance(indicates, dict) else ""
    status = message(f"analysis.status_{finding.get('status')}", state.lang)
    rates = finding.get("measured_error_rates")
    if isinstance(rates, dict) and "fpr_untouched" in rates:
        shown = _t(
            state,
            "analysis.fp_rate",
            rate=rates["fpr_untouched"],
            upper=rates.get("fpr_upper_95", "?"),
            n=rates.get("n_neg", "?"),
        )
    else:
        shown = _t(state, "analysis.fp_unknown")
    return f"{status} — {text} ({shown})"


# -- report ----------------------------------------------------------------------------------
async def report_page(request: Request) -> Response:
    if (refused := needs_case(request)) is not None:
        return refused
    from forensic.timestamp import load_config

    configured = bool(load_config(state_of(request).session.home).tsas)
    return render(request, "report.html", configured=configured)


async def report(request: Request) -> Response:
    form = await _posted(request, "/report")
    if isinstance(form, Response):
        return form
    state = state_of(request)
    lang = form.get("report_lang") if form.get("report_lang") in ("ko", "en") else state.lang
    sheet = form.get("hash_sheet", "auto")
    demo = form.get("practice_tsa") == "on"

    def work(progress: ProgressReporter) -> Outcome:
        from forensic.service.keys import create_certificate
        from forensic.service.opening import open_case
        from forensic.service.reporting import create_report
        from forensic.timestamp.examiner_cert import CERT_FILE

        lines: list[tuple[str, str]] = []
        if not (state.session.home / CERT_FILE).is_file():
            examiner = open_case(state.session, state.case_dir).info.examiner
            create_certificate(state.session, name=examiner)
            lines.append(("note", _t(state, "report.cert_created")))
        made = create_report(
            state.session,
            lang=lang,
            hash_sheet=sheet,
            demo_tsa=demo,
            case_dir=state.case_dir,
            progress=progress,
        ).report
        lines.append(("ok", _t(state, "report.made", pages=made.pages, items=made.items)))
        lines.append(("note", _t(state, "report.sha256", sha256=made.sha256)))
        if made.demo_tsa:
            lines.append(("warn", _t(state, "report.practice")))
        return Outcome(tuple(lines), download=str(made.path), extra={"pages": made.pages})

    return _start(request, "report", work)


async def download(request: Request) -> Response:
    """A finished job's file (a report), as an attachment, never cached."""
    state = state_of(request)
    job = state.jobs.get(request.path_params["job"])
    result = job.result if job is not None else None
    if not isinstance(result, Outcome) or result.download is None:
        return Response(status_code=404)
    path = Path(result.download)
    if not path.is_file() or case_path(state).resolve() not in path.resolve().parents:
        return Response(status_code=404)
    return FileResponse(path, media_type="application/pdf", filename=path.name)


# -- export ----------------------------------------------------------------------------------
async def export_page(request: Request) -> Response:
    if (refused := needs_case(request)) is not None:
        return refused
    root = case_path(state_of(request))
    return render(request, "export.html", out=str(root.parent / f"{root.name}-bag.zip"))


async def export(request: Request) -> Response:
    form = await _posted(request, "/export")
    if isinstance(form, Response):
        return form
    state = state_of(request)
    out = Path(form.get("out", "").strip() or f"{case_path(state)}-bag.zip")

    def work(progress: ProgressReporter) -> Outcome:
        from forensic.i18n import message
        from forensic.service.exporting import export_bag

        bag = export_bag(state.session, out, case_dir=state.case_dir, progress=progress)
        result = bag.export
        lines = [
            (
                "ok",
                message(
                    "export.done",
                    state.lang,
                    case_id=bag.case_id,
                    path=str(result.destination),
                    files=result.files,
                    bytes=result.bytes,
                ),
            )
        ]
        lines += [("warn", message(f"guide.export_{w}", state.lang, case="")) for w in bag.warnings]
        if result.zipped:
            step = message(
                "guide.next_export_zip",
                state.lang,
                parent=str(result.destination.parent),
                zip=result.destination.name,
                bag=result.bag_name,
            )
        else:
            step = message("guide.next_export", state.lang, path=str(result.destination))
        lines.append(("step", step))
        return Outcome(tuple(lines))

    return _start(request, "export", work)


# -- chats -----------------------------------------------------------------------------------
async def chats_page(request: Request) -> Response:
    if (refused := needs_case(request)) is not None:
        return refused
    state = state_of(request)
    from forensic.service.browsing import chat_groups
    from forensic.service.chat import show_chat

    groups = chat_groups(state.session, state.case_dir).groups
    chosen = request.query_params.get("group") or (groups[0].group if groups else None)
    query = request.query_params.get("q", "").strip()
    view, hits, error = None, None, None
    try:
        if chosen is not None:
            view = show_chat(state.session, chosen, case_dir=state.case_dir)
        if query:
            from forensic.service.text import search

            hits = search(state.session, query, state.case_dir).as_dict()["hits"]
    except ForensicError as exc:
        error = exc.diagnostics(state.lang)
    return render(
        request,
        "chats.html",
        groups=groups,
        chosen=chosen,
        view=view,
        q=query,
        hits=hits,
        error=error,
    )


async def mark(request: Request) -> Response:
    form = await _posted(request, "/chats")
    if isinstance(form, Response):
        return form
    state = state_of(request)
    from forensic.service.chat import mark_message

    try:
        mark_message(
            state.session, form.get("ref", ""), form.get("note") or None, case_dir=state.case_dir
        )
    except ForensicError as exc:
        return render(request, "message.html", 400, text=exc.diagnostics(state.lang))
    return go(f"/chats?group={form.get('group', '')}")


# -- trusted time ----------------------------------------------------------------------------
async def time_page(request: Request) -> Response:
    if (refused := needs_case(request)) is not None:
        return refused
    state = state_of(request)
    from forensic.service.browsing import trusted_time_status

    status = trusted_time_status(state.session, state.case_dir)
    return render(request, "time.html", stamps=status)


async def stamp(request: Request) -> Response:
    form = await _posted(request, "/time")
    if isinstance(form, Response):
        return form
    state = state_of(request)

    def work(progress: ProgressReporter) -> Outcome:
        from forensic.service.timestamping import timestamp_case
        from forensic.timestamp import describe

        done = timestamp_case(state.session, state.case_dir)
        lines = [("ok", line) for line in describe(done.result, state.lang)]
        lines.append(("note", _t(state, "time.pending", count=done.pending)))
        return Outcome(tuple(lines))

    return _start(request, "timestamp", work)
