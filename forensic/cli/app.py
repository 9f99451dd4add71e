"""Verbs of the ``forensic`` command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic import __version__
from forensic.cli.output import Ui
from forensic.i18n import message, resolve_lang

if TYPE_CHECKING:
    from forensic.case import RecoveryReport

app = typer.Typer(
    name="forensic",
    help=message("cli.help", resolve_lang()),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="Examiner key / 조사자 키", no_args_is_help=True)
app.add_typer(key_app, name="key")

JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
LangOpt = Annotated[
    str | None, typer.Option("--lang", help="ko or en (else FORENSIC_LANG, else the locale).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")]
CaseOpt = Annotated[
    Path | None,
    typer.Option("--case", help="Case folder (else FORENSIC_CASE, else this folder or a parent)."),
]
PassOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the key passphrase from this file."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forensic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
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
    for run in report.finished_runs:
        parts.append(ui.t("cli.recovered_finished", action=run.get("action"), run=run.get("run")))
    ui.warn(ui.t("cli.recovered", detail="; ".join(parts)))


def main() -> None:
    app()
