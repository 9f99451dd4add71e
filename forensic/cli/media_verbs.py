"""``forensic analyze``: metadata records of items (more analyses join as options)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _open_case,
    _show_recovery,
    _unlock_existing,
    app,
)
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK
from forensic.media import metadata_lines, store_metadata
from forensic.media.errors import MediaUsageError
from forensic.media.record import load_record


@app.command()
def analyze(
    items: Annotated[
        list[str] | None, typer.Argument(help="Items (SHA-256 or a unique prefix).")
    ] = None,
    metadata: Annotated[
        bool, typer.Option("--metadata", help="Record image/media metadata (EXIF, XMP, C2PA…).")
    ] = False,
    all_items: Annotated[
        bool, typer.Option("--all", help="Every item, even those that already have a record.")
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Analyse items and record the results in the case. / 증거를 분석하고 기록합니다.

    Without ITEMs and --all: the items that have no metadata record yet.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        if not metadata:
            raise MediaUsageError("no_mode")
        case = _open_case(case_dir)
        entries = case.entries()
        if items:
            chosen = [case.resolve_item(i, entries).item_id for i in items]
        elif all_items:
            chosen = list(case.items(entries))
        else:
            chosen = [i for i in case.items(entries) if load_record(case, i) is None]
        chosen = list(dict.fromkeys(chosen))
        key, _ = _unlock_existing(ui, passphrase_file)
        recovered = None
        done = []
        if chosen:
            with case.writing(key) as report, ui.progress() as progress:
                recovered = _show_recovery(ui, report)
                done = store_metadata(case, key, [str(c) for c in chosen], progress)
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "recovered": recovered,
                    "metadata": [
                        {"seq": entry.seq, "record": record.as_dict()} for record, entry in done
                    ],
                }
            )
            return EXIT_OK
        if not done:
            ui.say("media.nothing")
            return EXIT_OK
        for record, _entry in done:
            ui.say(
                "media.analyzed_item",
                item=record.item_id[:16],
                media_type=record.media_type,
                warnings=len(record.warnings),
            )
            for label, value in metadata_lines(record.as_dict(), ui.lang):
                ui.out.print(f"  {escape(label)}: {escape(value)}")
        ui.say(
            "media.analyzed",
            count=len(done),
            entries=", ".join(str(e.seq) for _r, e in done),
        )
        return EXIT_OK

    run_verb(ui, body)
