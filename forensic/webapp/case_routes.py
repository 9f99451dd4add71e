"""Starting a case, unlocking the examiner key, the language, the dashboard."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from forensic.errors import ForensicError
from forensic.webapp.pages import csrf_refused, go, read_form, render, state_of

ROLES = ("self", "counsel", "police")


async def home(request: Request) -> Response:
    state = state_of(request)
    if not state.has_case():
        default = state.case_dir or Path.home() / "forensic-cases" / _new_case_id()
        return render(request, "create.html", folder=str(default), roles=ROLES, error=None)
    from forensic.service.opening import open_case

    case = open_case(state.session, state.case_dir)
    return render(request, "home.html", info=case.info, items=len(case.items()))


def _new_case_id() -> str:
    return "CASE-" + datetime.now().strftime("%Y%m%d-%H%M%S")


async def create_case(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    state = state_of(request)
    from forensic.service.case_setup import init_case

    role = form.get("role", "self")
    name = form.get("examiner", "").strip()
    folder = Path(form.get("folder", "").strip() or (state.case_dir or ""))
    error = None
    if not name or not form.get("title", "").strip() or not str(folder):
        error = render_missing(request)
    if error is None:
        state.slot.put(form.get("passphrase", ""))
        role_label = render_role(request, role if role in ROLES else "self")
        try:
            init_case(
                state.session,
                folder,
                case_id=form.get("case_id", "").strip() or _new_case_id(),
                title=form["title"].strip(),
                examiner=f"{name} ({role_label})",
                encrypt=form.get("encrypt") == "on",
            )
        except ForensicError as exc:
            error = exc.diagnostics(state.lang)
    if error is not None:
        return render(
            request, "create.html", 400, folder=str(folder), roles=ROLES, error=error, form=form
        )
    state.case_dir = folder
    return go("/evidence")


def render_missing(request: Request) -> str:
    from forensic.i18n import message

    return message("app.create.missing", state_of(request).lang)


def render_role(request: Request, role: str) -> str:
    from forensic.i18n import message

    return message(f"app.create.role_{role}", state_of(request).lang)


async def strength(request: Request) -> Response:
    """The strength meter: zxcvbn's score and why it is weak, worded in the user's language."""
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    from forensic.service.case_setup import MIN_ENCRYPTED_SCORE, passphrase_strength

    lang = state_of(request).lang
    found = passphrase_strength(form.get("passphrase", ""), (form.get("title", ""),))
    return JSONResponse(
        {
            "score": found.score,
            "needed": MIN_ENCRYPTED_SCORE,
            "weak": found.weak,
            "text": found.describe(lang) if found.weak else "",
        }
    )


async def unlock_page(request: Request) -> Response:
    return render(request, "unlock.html", error=None, next=request.query_params.get("next", "/"))


async def unlock(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    state = state_of(request)
    state.slot.put(form.get("passphrase", ""))
    target = form.get("next", "/")
    target = target if target.startswith("/") and not target.startswith("//") else "/"
    try:
        state.session.unlock()
    except ForensicError as exc:
        return render(request, "unlock.html", 400, error=exc.diagnostics(state.lang), next=target)
    return go(target)


async def set_lang(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return csrf_refused(request)
    state = state_of(request)
    if form.get("lang") in ("ko", "en"):
        state.session.lang = form["lang"]
    target = form.get("next", "/")
    return go(target if target.startswith("/") and not target.startswith("//") else "/")


def needs_key(request: Request, page: str) -> Response | None:
    """A redirect to the unlock page when the work needs the key and it is still locked."""
    state = state_of(request)
    if state.session.key is None and state.session.has_key():
        return go(f"/unlock?next={page}")
    return None


def needs_case(request: Request) -> Response | None:
    return None if state_of(request).has_case() else go("/")
