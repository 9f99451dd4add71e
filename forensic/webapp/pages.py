"""Rendering and the request plumbing every route shares: templates, forms, CSRF, redirects."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from forensic._internal.clock import DEFAULT_TIMEZONE, local_and_utc
from forensic._internal.paths import display
from forensic.i18n import message, templates_dir
from forensic.webapp.state import AppState

MAX_FORM_BYTES = 256 * 1024
NAV = ("home", "evidence", "items", "chats", "verify", "analysis", "report", "export", "time")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir() / "app")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["name"] = display
    return env


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.forensic
    return state


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page in the session's language; every visible word comes from the ``app`` tables."""
    state = state_of(request)
    lang = state.lang

    def t(key: str, **params: object) -> str:
        return message(f"app.{key}", lang, **params)

    zone = str(context.get("zone") or DEFAULT_TIMEZONE)

    def when(utc: str) -> str:
        return local_and_utc(utc, zone).text()  # the case's zone, UTC beside it

    env: Environment = request.app.state.templates
    html = env.get_template(template).render(
        t=t,
        when=when,
        lang=lang,
        csrf=state.guard.csrf,
        nav=NAV,
        has_case=state.has_case(),
        unlocked=state.session.key is not None,
        has_key=state.session.has_key(),
        case_dir=str(state.case_dir) if state.case_dir else "",
        **context,
    )
    return HTMLResponse(html, status_code=status)


async def read_form(request: Request) -> dict[str, str] | None:
    """A url-encoded form, bounded; ``None`` when its CSRF token is missing or wrong."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {k: v[-1] for k, v in parsed.items()}
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not state_of(request).guard.csrf_ok(given):
        return None
    return form


def csrf_refused(request: Request) -> Response:
    return Response(
        message("app.security.no_csrf", state_of(request).lang),
        status_code=403,
        media_type="text/plain; charset=utf-8",
    )


def go(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def case_path(state: AppState) -> Path:
    assert state.case_dir is not None
    return state.case_dir
