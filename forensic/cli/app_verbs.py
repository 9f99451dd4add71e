"""``forensic app``: the local web app, opened in the browser (docs/user-guide, "The app")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import LangOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command("app", help=help_text("app.verb"))
def start_app(
    case_dir: Annotated[Path | None, typer.Option("--case", help=help_text("app.case"))] = None,
    port: Annotated[int, typer.Option("--port", help=help_text("app.port"))] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help=help_text("app.no_browser"))
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Start the local app. / 로컬 앱을 시작합니다."""
    ui = make_ui(lang, False, False)

    def body() -> int:
        from forensic.session import Session
        from forensic.webapp.server import AppServer

        session = Session.default(lang=ui.lang, verb="app")
        server = AppServer(session, case_dir.absolute() if case_dir else None, port)
        ui.say("app.cli.started", url=server.url)
        ui.say("app.cli.stop")
        if not no_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.serve()
        return EXIT_OK

    run_verb(ui, body)
