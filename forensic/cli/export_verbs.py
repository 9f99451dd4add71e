"""``forensic export``: the case as a sealed BagIt bag (folder or zip) that verifies anywhere."""

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
    escape,
    human_bytes,
    make_ui,
    next_step,
    run_verb,
    shell_word,
)
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.service.exporting import BagExport, HashListExport, TimelineExport


@app.command(help=help_text("verb.export"))
def export(
    out: Annotated[Path | None, typer.Option("--out", help=help_text("export.out"))] = None,
    hash_list: Annotated[
        Path | None,
        typer.Option(
            "--hash-list",
            help=help_text("export.hash_list"),
        ),
    ] = None,
    timeline: Annotated[
        Path | None,
        typer.Option("--timeline", help=help_text("timeline.option")),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=help_text("export.force"))] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help=help_text("export.decrypt"),
        ),
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Export the case as a sealed BagIt bag. / 사건을 봉인된 BagIt 묶음으로 반출합니다.

    The bag holds the custody log up to the entry before the export; the export is then logged.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.exporting import (
            HashListExport,
            TimelineExport,
            export_bag,
            export_hash_list,
            export_timeline,
        )

        session = ui.session(passphrase_file)
        result: BagExport | HashListExport | TimelineExport
        with ui.progress() as progress:
            if timeline is not None:
                result = export_timeline(
                    session, timeline, force=force, out=out or hash_list, case_dir=case_dir
                )
            elif hash_list is not None:
                result = export_hash_list(
                    session, hash_list, force=force, out=out, case_dir=case_dir, progress=progress
                )
            else:
                result = export_bag(
                    session, out, force=force, decrypt=decrypt, case_dir=case_dir, progress=progress
                )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        elif isinstance(result, HashListExport):
            _show_hash_list(ui, result)
        elif isinstance(result, TimelineExport):
            _show_timeline(ui, result)
        else:
            _show_bag(ui, result)
            _guide_bag(ui, result, quiet, case_dir)
        return EXIT_OK

    run_verb(ui, body)


def _show_bag(ui: Ui, bag: BagExport) -> None:
    result = bag.export
    if result.recovered:
        ui.warn(ui.t("export.recovered"))
    ui.say(
        "export.done",
        case_id=bag.case_id,
        path=str(result.destination),
        files=result.files,
        bytes=human_bytes(result.bytes),
    )
    ui.say("export.manifest", manifest=result.manifest_sha256, tag=result.tagmanifest_sha256)
    ui.say(
        "export.logged",
        seq=result.entry.seq,
        head_seq=result.log_head_seq,
        head=result.log_head,
    )
    if bag.decrypted:
        ui.warn(ui.t("crypt.export_plaintext_warning", path=str(result.destination)))
    if bag.stamped is not None:
        from forensic.timestamp import describe

        for line in describe(bag.stamped, ui.lang):
            ui.out.print(escape(line))
    if bag.timestamp_error is not None:
        ui.problem(f"forensic: {bag.timestamp_error}")


def _guide_bag(ui: Ui, bag: BagExport, quiet: bool, case_dir: Path | None) -> None:
    """What the receiver would miss, then how anyone checks the bag (a line to paste)."""
    for warning in bag.warnings:
        ui.warn(ui.t(f"guide.export_{warning}", case=case_option(case_dir)))
    result = bag.export
    if result.zipped:
        next_step(
            ui,
            quiet,
            "guide.next_export_zip",
            parent=shell_word(result.destination.parent),
            zip=shell_word(result.destination.name),
            bag=shell_word(result.bag_name),
        )
    else:
        next_step(ui, quiet, "guide.next_export", path=shell_word(result.destination))


def _show_hash_list(ui: Ui, listed: HashListExport) -> None:
    for problem in listed.problems:
        ui.warn(ui.t("media_av.record_problem", problem=problem))
    ui.say("media_av.hash_list_done", count=listed.items, path=listed.path, sha256=listed.sha256)
    ui.say("media_av.hash_list_note")
    ui.say("media_av.logged", seq=listed.entry.seq)


def _show_timeline(ui: Ui, written: TimelineExport) -> None:
    if written.recovered:
        ui.warn(ui.t("export.recovered"))
    ui.say(
        "timeline.done",
        rows=written.rows,
        messages=written.messages,
        path=written.path,
        sha256=written.sha256,
    )
    if written.untimed_messages:
        ui.warn(ui.t("timeline.untimed", count=written.untimed_messages))
    ui.say("timeline.logged", seq=written.entry.seq, head_seq=written.log_head_seq)
    ui.say("timeline.note")
