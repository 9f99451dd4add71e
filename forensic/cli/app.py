"""Verbs of the ``forensic`` command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic import __version__
from forensic._internal.paths import display
from forensic.cli.helptext import HELP_LANG, LocalizedGroup, help_text
from forensic.cli.output import Ui
from forensic.i18n import message

if TYPE_CHECKING:
    from forensic.case import RecoveryReport

app = typer.Typer(
    name="forensic",
    help=message("cli.help", HELP_LANG),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    cls=LocalizedGroup,
)
key_app = typer.Typer(help=help_text("verb.key"), no_args_is_help=True, cls=LocalizedGroup)
app.add_typer(key_app, name="key")

JsonOpt = Annotated[bool, typer.Option("--json", help=help_text("common.json"))]
LangOpt = Annotated[str | None, typer.Option("--lang", help=help_text("common.lang"))]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help=help_text("common.verbose"))]
CaseOpt = Annotated[
    Path | None,
    typer.Option("--case", help=help_text("common.case")),
]
PassOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help=help_text("common.passphrase_file")),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forensic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help=help_text("common.version")
        ),
    ] = False,
) -> None:
    """forensic: preserve digital evidence so that it holds up in court."""


def _show_recovery(ui: Ui, report: RecoveryReport) -> None:
    """One warning line naming what an interrupted earlier run left and what was done."""
    if report.empty or ui.json_mode:
        return
    parts = []
    if report.torn_log_bytes:
        parts.append(ui.t("cli.recovered_torn", bytes=report.torn_log_bytes))
    if report.partial_files:
        parts.append(ui.t("cli.recovered_partial", count=len(report.partial_files)))
    if report.quarantined_objects:
        parts.append(ui.t("cli.recovered_quarantined", count=len(report.quarantined_objects)))
    if report.interrupted_runs:
        runs = ", ".join(str(r.get("run")) for r in report.interrupted_runs)
        parts.append(ui.t("cli.recovered_interrupted", runs=runs))
    if report.unlogged_files:
        parts.append(ui.t("cli.recovered_unlogged", count=len(report.unlogged_files)))
    for rec in report.plaintext_removed:
        for path in rec.get("removed", []):
            parts.append(ui.t("error.files.plaintext_removed", path=display(str(path))))
    for run in report.finished_runs:
        parts.append(ui.t("cli.recovered_finished", action=run.get("action"), run=run.get("run")))
    ui.warn(ui.t("cli.recovered", detail="; ".join(parts)))


def main() -> None:
    app()
