"""The ``capture`` verb for web addresses and ``--screen``, in process.

Until app.py's ``capture`` verb routes URLs and ``--screen`` to
:func:`forensic.cli.search_verbs.capture_web_and_screen`, tests drive that same function through
this small typer command with the same options (the lead's snippet); once the verb is wired,
the real ``forensic capture`` is used.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from forensic.capture.web import WebOptions
from forensic.cli.app import _open_case, _unlock_existing
from forensic.cli.app import app as real_app
from forensic.cli.output import make_ui, run_verb
from forensic.cli.search_verbs import capture_web_and_screen
from tests.conftest import CliResult

shim = typer.Typer()


@shim.command()
def capture(
    urls: Annotated[list[str] | None, typer.Argument()] = None,
    screen: Annotated[bool, typer.Option("--screen")] = False,
    delay: Annotated[float, typer.Option("--delay")] = 0.0,
    timeout: Annotated[float, typer.Option("--timeout")] = 30.0,
    no_ocr: Annotated[bool, typer.Option("--no-ocr")] = False,
    note: Annotated[str | None, typer.Option("--note")] = None,
    case_dir: Annotated[Path | None, typer.Option("--case")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[str | None, typer.Option("--lang")] = None,
) -> None:
    ui = make_ui(lang, json_out, False)

    def body() -> int:
        case = _open_case(case_dir)
        key, _ = _unlock_existing(ui, None)
        options = WebOptions(timeout=timeout, note=note)
        return capture_web_and_screen(
            ui, case, key, list(urls or []), screen, delay, options, ocr=not no_ocr
        )

    run_verb(ui, body)


@shim.command()
def _unused() -> None:  # a second command keeps typer from collapsing the group
    pass


def wired() -> bool:
    """Whether the real ``forensic capture`` verb knows ``--screen``."""
    for command in real_app.registered_commands:
        callback = command.callback
        if callback is not None and (command.name or callback.__name__) == "capture":
            return "screen" in inspect.signature(callback).parameters
    return False


def run_capture(*args: str | os.PathLike[str]) -> CliResult:
    runner = CliRunner()
    if wired():
        from forensic.cli import app

        result = runner.invoke(app, ["capture", *[os.fspath(a) for a in args]])
    else:
        result = runner.invoke(shim, ["capture", *[os.fspath(a) for a in args]])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)
