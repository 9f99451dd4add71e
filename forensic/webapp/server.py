"""The app's ASGI application and its server on 127.0.0.1 (port 0: the system picks one)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import MappingProxyType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from forensic.i18n import templates_dir
from forensic.session import Session
from forensic.webapp import case_routes as cr
from forensic.webapp import evidence_routes as er
from forensic.webapp import work_routes as wr
from forensic.webapp.pages import environment
from forensic.webapp.security import SecurityMiddleware
from forensic.webapp.state import AppState

HOST = "127.0.0.1"
STATIC = MappingProxyType(
    {
        "app.css": ("app/static/app.css", "text/css"),
        "app.js": ("app/static/app.js", "text/javascript"),
        "NanumGothic.ttf": ("fonts/NanumGothic.ttf", "font/ttf"),
        "NanumGothicBold.ttf": ("fonts/NanumGothicBold.ttf", "font/ttf"),
    }
)


async def static(request: Request) -> Response:
    """The page's own assets, from the package (no CDN: the app works offline)."""
    found = STATIC.get(request.path_params["name"])
    if found is None:
        return Response(status_code=404)
    rel, media_type = found
    return FileResponse(templates_dir() / rel, media_type=media_type)


def routes() -> list[Route]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/", cr.home, methods=get),
        Route("/case", cr.create_case, methods=post),
        Route("/strength", cr.strength, methods=post),
        Route("/unlock", cr.unlock_page, methods=get),
        Route("/unlock", cr.unlock, methods=post),
        Route("/lang", cr.set_lang, methods=post),
        Route("/evidence", er.evidence_page, methods=get),
        Route("/evidence/upload", er.upload, methods=post),
        Route("/evidence/url", er.capture_url, methods=post),
        Route("/items", er.items_page, methods=get),
        Route("/items/{item}/preview", er.preview, methods=get),
        Route("/items/{item}/reveal", er.reveal, methods=post),
        Route("/hide", er.hide_all, methods=post),
        Route("/jobs/{job}", wr.job_page, methods=get),
        Route("/events/{job}", wr.job_events, methods=get),
        Route("/download/{job}", wr.download, methods=get),
        Route("/verify", wr.verify_page, methods=get),
        Route("/verify", wr.verify, methods=post),
        Route("/analysis", wr.analysis_page, methods=get),
        Route("/analysis", wr.analysis, methods=post),
        Route("/report", wr.report_page, methods=get),
        Route("/report", wr.report, methods=post),
        Route("/export", wr.export_page, methods=get),
        Route("/export", wr.export, methods=post),
        Route("/chats", wr.chats_page, methods=get),
        Route("/chats/mark", wr.mark, methods=post),
        Route("/time", wr.time_page, methods=get),
        Route("/time", wr.stamp, methods=post),
        Route("/static/{name}", static, methods=get),
    ]


async def use_case_error(request: Request, exc: Exception) -> Response:
    """A use case's refusal (a damaged case, a locked case, a wrong item) as a page in the
    user's language, never a traceback."""
    from forensic.errors import ForensicError, KeyringError
    from forensic.webapp.pages import go, render, state_of

    assert isinstance(exc, ForensicError)
    if isinstance(exc, KeyringError) and exc.key == "passphrase_needed":
        return go(f"/unlock?next={request.url.path}")
    return render(request, "message.html", 400, text=exc.diagnostics(state_of(request).lang))


def build_app(state: AppState) -> SecurityMiddleware:
    from forensic.errors import ForensicError

    app = Starlette(routes=routes(), exception_handlers={ForensicError: use_case_error})
    app.state.forensic = state
    app.state.templates = environment()
    return SecurityMiddleware(app, state.guard, lambda: state.lang)


class AppServer:
    """uvicorn on a socket bound to 127.0.0.1 before the server starts (so the port is known)."""

    def __init__(self, session: Session, case_dir: Path | None, port: int = 0) -> None:
        import uvicorn

        self.state = AppState.create(session, case_dir)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, port))
        self.sock.listen(128)  # the printed address answers as soon as the server runs
        self.state.guard.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.state),
            log_level="critical",  # nothing about requests (names, items) on the console
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.state.guard.port

    @property
    def url(self) -> str:
        """The one-time address (the token is exchanged for a cookie on first use)."""
        return f"http://{HOST}:{self.port}/?token={self.state.guard.token}"

    def serve(self) -> None:
        """Run until interrupted (the ``forensic app`` verb)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.close_session()

    def start(self) -> None:
        """Run in a thread (tests)."""
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def close_session(self) -> list[str]:
        """Log what was decrypted for previews (one ``access`` entry per case)."""
        return self.state.session.close()
