"""Adding evidence (uploads, a chat export, a web address) and looking at the items."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forensic.errors import ForensicError
from forensic.progress import ProgressReporter
from forensic.webapp.case_routes import needs_case, needs_key
from forensic.webapp.pages import case_path, csrf_refused, go, read_form, render, state_of
from forensic.webapp.state import AppState

KINDS = ("files", "kakaotalk", "telegram")


@dataclass(frozen=True)
class Outcome:
    """What a finished job tells the person: lines (level, text), and what to download."""

    lines: tuple[tuple[str, str], ...]
    download: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def evidence_page(request: Request) -> Response:
    return needs_case(request) or render(request, "evidence.html", kinds=KINDS, error=None)


async def upload(request: Request) -> Response:
    """Stream the files into the case's upload folder, then capture them in a job."""
    if (refused := needs_case(request) or needs_key(request, "/evidence")) is not None:
        return refused
    state = state_of(request)
    from forensic.webapp.uploads import receive_upload, upload_folder

    key = state.session.unlock()
    root = case_path(state)
    holder = upload_folder(root, key)
    folder = holder.__enter__()
    try:
        parts = await receive_upload(
            request.stream(),
            request.headers.get("content-type", ""),
            root,
            folder,
            lambda fields: state.guard.csrf_ok(fields.get("csrf")),
        )
    except ForensicError as exc:
        holder.__exit__(None, None, None)
        status = 403 if exc.key == "app.security.no_csrf" else 400
        return render(
            request, "evidence.html", status, kinds=KINDS, error=exc.diagnostics(state.lang)
        )
    except BaseException as exc:
        holder.__exit__(type(exc), exc, exc.__traceback__)
        raise
    kind = parts.fields.get("kind", "files")
    if not parts.files:
        holder.__exit__(None, None, None)
        return render(request, "evidence.html", 400, kinds=KINDS, error=_t(state, "upload.empty"))

    def work(progress: ProgressReporter) -> Outcome:
        try:
            return _capture(state, folder, parts.files, kind, progress)
        finally:
            holder.__exit__(None, None, None)

    job = state.jobs.start("capture", work)
    return go(f"/jobs/{job.job_id}")


def _t(state: AppState, key: str, **params: object) -> str:
    from forensic.i18n import message

    return message(f"app.{key}", state.lang, **params)


def _capture(
    state: AppState, folder: Any, names: list[str], kind: str, progress: ProgressReporter
) -> Outcome:
    from forensic.service.capture import CaptureSettings, FilesCaptured, capture, capture_inputs

    settings = CaptureSettings(
        source=kind if kind in ("kakaotalk", "telegram") else None,
        uploads=str(folder),
        note=_t(state, "upload.note"),
    )
    inputs = capture_inputs([folder / name for name in names])
    result = capture(state.session, inputs, settings, progress, case_dir=state.case_dir)
    assert isinstance(result, FilesCaptured)
    lines: list[tuple[str, str]] = []
    acquired = len(result.result.acquired)
    new = sum(1 for a in result.result.acquired if a.new_object)
    lines.append(("ok", _t(state, "upload.acquired", count=acquired, new=new)))
    for chat in result.chats():
        lines.append(("ok", str(chat["summary"])))
        if chat.get("zone_warning"):
            lines.append(("warn", str(chat["zone_warning"])))
    prefix = str(folder) + "/"
    for failure in result.failures():
        path = str(failure["path"]).removeprefix(prefix)
        lines.append(("problem", _t(state, "upload.refused", name=path, why=failure["message"])))
    if result.timestamp_error is not None:
        lines.append(("warn", result.timestamp_error.diagnostics(state.lang)))
    return Outcome(tuple(lines))


async def capture_url(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    if (refused := needs_case(request) or needs_key(request, "/evidence")) is not None:
        return refused
    state = state_of(request)
    from forensic.service.capture import CaptureSettings, FetchedCaptured, capture, capture_inputs

    url = form.get("url", "").strip()
    inputs = capture_inputs([url])

    def work(progress: ProgressReporter) -> Outcome:
        result = capture(
            state.session, inputs, CaptureSettings(), progress, case_dir=state.case_dir
        )
        assert isinstance(result, FetchedCaptured)
        lines = []
        for attempt in result.attempts:
            if attempt.error is not None:
                lines.append(("problem", attempt.error.diagnostics(state.lang)))
                continue
            lines.append(("ok", _t(state, "upload.page_captured", url=url)))
            lines.extend((level, text) for level, text in attempt.said)
        return Outcome(tuple(lines))

    try:
        job = state.jobs.start("capture", work) if inputs else None
    except ForensicError as exc:
        return render(request, "evidence.html", 400, kinds=KINDS, error=exc.diagnostics(state.lang))
    return go(f"/jobs/{job.job_id}") if job else go("/evidence")


async def items_page(request: Request) -> Response:
    if (refused := needs_case(request)) is not None:
        return refused
    state = state_of(request)
    from forensic.service.reading import item_name, list_items

    listed = list_items(state.session, state.case_dir)
    rows = [
        {
            "no": n,
            "id": item.item_id,
            "name": item_name(item),
            "type": item.media_type,
            "size": item.size,
            "acquired": item.acquired_utc,
            "image": item.media_type.startswith("image/"),
            "revealed": state.is_revealed(item.item_id),
        }
        for n, item in enumerate(listed.items, start=1)
    ]
    return render(request, "items.html", rows=rows, zone=listed.zone)


async def preview(request: Request) -> Response:
    """The blurred preview, or the picture once its reveal was logged."""
    if (refused := needs_case(request)) is not None:
        return refused
    state = state_of(request)
    from forensic.service.browsing import item_preview

    item = request.path_params["item"]
    picture = state.revealed_picture(item)
    if picture is not None:
        return Response(picture, media_type="image/png")
    shown = item_preview(state.session, item, reveal=False, case_dir=state.case_dir)
    if shown.data is None:
        return Response(status_code=404)
    return Response(shown.data, media_type=shown.media_type)


async def reveal(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    if (refused := needs_case(request) or needs_key(request, "/items")) is not None:
        return refused
    state = state_of(request)
    from forensic.service.browsing import item_preview

    shown = item_preview(
        state.session, request.path_params["item"], reveal=True, case_dir=state.case_dir
    )
    if shown.data is not None:
        state.reveal(shown.item_id, shown.data)
    return go(f"/items#item-{shown.item_id[:16]}")


async def hide_all(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    state_of(request).hide_all()
    return go("/items")
