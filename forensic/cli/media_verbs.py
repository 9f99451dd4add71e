"""``forensic analyze``: metadata records (``--metadata``) and detection findings (``--detect``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, _show_recovery, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, escape, make_ui, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.service.analysis import AnalyzeResult


@app.command(help=help_text("verb.analyze"))
def analyze(
    items: Annotated[
        list[str] | None,
        typer.Argument(help=help_text("analyze.items"), metavar=help_text("meta.items")),
    ] = None,
    metadata: Annotated[
        bool, typer.Option("--metadata", help=help_text("analyze.metadata"))
    ] = False,
    detect: Annotated[
        bool,
        typer.Option(
            "--detect",
            help=help_text("analyze.detect"),
        ),
    ] = False,
    all_items: Annotated[bool, typer.Option("--all", help=help_text("analyze.all"))] = False,
    executor: Annotated[
        str, typer.Option("--executor", help=help_text("analyze_cluster.executor"))
    ] = "local",
    certs: Annotated[
        Path | None, typer.Option("--certs", help=help_text("analyze_cluster.certs"))
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Analyse items and record the results in the case. / 증거를 분석하고 기록합니다.

    Without ITEMs and --all: the items that have no metadata record (--metadata) or no
    detection findings (--detect) yet.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.analysis import analyze as analyze_case

        with ui.progress() as progress:
            result = analyze_case(
                ui.session(passphrase_file),
                items or (),
                metadata=metadata,
                detect=detect,
                all_items=all_items,
                case_dir=case_dir,
                progress=progress,
                executor=executor,
                certs=certs,
            )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        if result.recovery is not None:
            _show_recovery(ui, result.recovery)
        if result.metadata is not None:
            _print_metadata(ui, result)
        if result.analysis is not None:
            _print_analysis(ui, result)
        return EXIT_OK

    run_verb(ui, body)


def _print_metadata(ui: Ui, result: AnalyzeResult) -> None:
    from forensic.media.show import metadata_lines

    done = result.metadata or ()
    if not done:
        ui.say("media.nothing")
        return
    for record, _entry in done:
        ui.say(
            "media.analyzed_item",
            item=record.item_id[:16],
            media_type=record.media_type,
            warnings=len(record.warnings),
        )
        for label, value in metadata_lines(record.as_dict(), ui.lang):
            ui.out.print(f"  {escape(label)}: {escape(value)}")
    ui.say("media.analyzed", count=len(done), entries=", ".join(str(e.seq) for _r, e in done))


def _print_analysis(ui: Ui, result: AnalyzeResult) -> None:
    analysed = result.analysis or ()
    if not analysed:
        ui.say("analysis.nothing")
        return
    lang = "ko" if ui.lang == "ko" else "en"
    for a, _entry in analysed:
        ui.say("analysis.analyzed_item", item=a.item_id[:16], media_type=a.media_type)
        for doc in a.docs.values():
            for f in doc["findings"]:
                ui.say(
                    "analysis.finding",
                    status=ui.t(f"analysis.status_{f['status']}"),
                    signal=f["signal"],
                    text=f["indicates"][lang],
                )
        if a.not_applicable:
            ui.say(
                "analysis.not_applicable",
                media_type=a.media_type,
                detectors=", ".join(a.not_applicable),
            )
    ui.say(
        "analysis.analyzed",
        count=len(analysed),
        entries=", ".join(str(e.seq) for _a, e in analysed),
    )
