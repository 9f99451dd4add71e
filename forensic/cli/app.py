"""Verbs of the ``forensic`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from forensic import __version__
from forensic.case import Case, RecoveryReport, discover_case
from forensic.cli.output import Ui
from forensic.custody.keys import ExaminerKey
from forensic.i18n import message, resolve_lang

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


def _unlock(ui: Ui, passphrase_file: Path | None) -> tuple[ExaminerKey, bool]:
    """The examiner key; only ``init`` and the ``key`` verbs create one."""
    return ui.session(passphrase_file).unlock(), False


_unlock_existing = _unlock


def _open_case(ui: Ui, case_dir: Path | None) -> Case:
    return Case.open(discover_case(case_dir), ui.session())


def _show_recovery(ui: Ui, report: RecoveryReport) -> dict[str, Any] | None:
    if report.empty:
        return None
    doc = {
        "torn_log_bytes": report.torn_log_bytes,
        "partial_files": list(report.partial_files),
        "quarantined_objects": list(report.quarantined_objects),
        "interrupted_runs": [r.get("run") for r in report.interrupted_runs],
        "finished_runs": list(report.finished_runs),
    }
    if not ui.json_mode:
        parts = []
        if report.torn_log_bytes:
            parts.append(f"{report.torn_log_bytes} bytes of an unsigned log tail set aside")
        if report.partial_files:
            parts.append(f"{len(report.partial_files)} partial copy file(s) removed")
        if report.quarantined_objects:
            parts.append(f"{len(report.quarantined_objects)} unrecorded object(s) quarantined")
        if report.interrupted_runs:
            runs = ", ".join(str(r.get("run")) for r in report.interrupted_runs)
            parts.append(f"interrupted run(s) {runs}")
        for run in report.finished_runs:
            parts.append(f"committed {run.get('action')} {run.get('run')} finished")
        ui.warn(ui.t("cli.recovered", detail="; ".join(parts)))
    return doc


def main() -> None:
    app()
