"""``forensic report``: a signed PDF/A report of the case for court (registered on the app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import (
    QuietOpt,
    Ui,
    case_option,
    human_bytes,
    make_ui,
    next_step,
    run_verb,
    shell_word,
)
from forensic.errors import EXIT_INTEGRITY, EXIT_OK

if TYPE_CHECKING:
    from forensic.service.reporting import ReportOutcome


DetailOpt = Annotated[str, typer.Option("--detail", help=help_text("report_layout.detail"))]
HashSheetOpt = Annotated[
    str, typer.Option("--hash-sheet", help=help_text("report_layout.hash_sheet"))
]
ShowLocationOpt = Annotated[
    bool, typer.Option("--show-location", help=help_text("report_layout.show_location"))
]
ForeignOpt = Annotated[
    bool, typer.Option("--foreign-references", help=help_text("report_layout.foreign_references"))
]


@app.command(help=help_text("verb.report"))
def report(
    out: Annotated[Path | None, typer.Option("--out", help=help_text("report.out"))] = None,
    preview: Annotated[
        str,
        typer.Option("--preview", help=help_text("report.preview")),
    ] = "blur",
    items: Annotated[
        list[str] | None,
        typer.Option("--items", help=help_text("report.items")),
    ] = None,
    logo: Annotated[Path | None, typer.Option("--logo", help=help_text("report.logo"))] = None,
    tsa: Annotated[
        str | None,
        typer.Option("--tsa", help=help_text("report.tsa")),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None, typer.Option("--tsa-root", help=help_text("report.tsa_root"))
    ] = None,
    demo_tsa: Annotated[
        bool,
        typer.Option("--demo-tsa", help=help_text("report.demo_tsa")),
    ] = False,
    detail: DetailOpt = "summary",
    hash_sheet: HashSheetOpt = "auto",
    show_location: ShowLocationOpt = False,
    foreign_references: ForeignOpt = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Signed PDF/A report of the case for court. / 법정 제출용 서명 보고서(PDF/A).

    The report is stored in reports/ and its SHA-256 is written to the custody log.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.reporting import create_report

        with ui.progress() as progress:
            outcome = create_report(
                ui.session(passphrase_file),
                preview=preview,
                items=items or (),
                out=out,
                logo=logo,
                tsa=tsa,
                tsa_roots=tsa_root or (),
                demo_tsa=demo_tsa,
                lang=ui.lang if lang else None,
                case_dir=case_dir,
                progress=progress,
                detail=detail,
                hash_sheet=hash_sheet,
                show_location=show_location,
                foreign_references=foreign_references,
            )
        if outcome.preview == "full":
            ui.warn(ui.t("report.full_preview_warning"))
        if outcome.key_rewrapped is not None:
            ui.warn(ui.t("signing.key_rewrapped", path=str(outcome.key_rewrapped)))
        if ui.json_mode:
            ui.emit_json(outcome.as_dict())
        else:
            _show(ui, outcome, case_option(case_dir))
            handed = outcome.report.copy or outcome.report.path
            next_step(
                ui, quiet, "guide.next_report", path=shell_word(handed), case=case_option(case_dir)
            )
        return EXIT_OK if outcome.intact else EXIT_INTEGRITY

    run_verb(ui, body)


def _show(ui: Ui, outcome: ReportOutcome, case: str) -> None:
    result = outcome.report
    ui.say(
        "report.done",
        path=str(result.path),
        pages=result.pages,
        items=result.items,
        size=human_bytes(result.size),
    )
    ui.say("report.sha256", sha256=result.sha256, seq=result.entry.seq)
    if result.copy is not None:
        ui.say("report.copied", path=str(result.copy))
    if result.signature_level == "B-B":
        failure = result.tsa_failure
        reason = failure.for_reader(ui.lang) if failure is not None else "-"
        ui.warn(ui.t("signing.report_b_b", reason=reason, case=case))
    elif result.tsa:
        ui.say("signing.report_b_t", tsa=result.tsa)
    if result.demo_tsa:
        ui.warn(ui.t("report.demo_tsa"))
    if not outcome.intact:
        ui.warn(ui.t("report.not_intact"))
