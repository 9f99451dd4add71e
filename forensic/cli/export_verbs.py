"""``forensic export``: the case as a sealed BagIt bag (folder or zip) that verifies anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.case import Case, discover_case
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.output import human_bytes, make_ui, passphrase_provider, run_verb
from forensic.custody import config_home, load_or_create_key
from forensic.errors import EXIT_OK


@app.command()
def export(
    out: Annotated[
        Path, typer.Option("--out", help="Destination folder, or a file ending in .zip.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing destination.")
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Export the case as a sealed BagIt bag. / 사건을 봉인된 BagIt 묶음으로 반출합니다.

    The bag holds the custody log up to the entry before the export; the export is then logged.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.export import export_case

        case = Case.open(discover_case(case_dir))
        key, _ = load_or_create_key(config_home(), passphrase_provider(ui, passphrase_file))
        with ui.progress() as progress:
            result = export_case(case, key, out, force=force, progress=progress)
        if ui.json_mode:
            ui.emit_json({"ok": True, "export": result.as_dict()})
            return EXIT_OK
        if result.recovered:
            ui.warn(ui.t("export.recovered"))
        ui.say(
            "export.done",
            case_id=case.info.case_id,
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
        ui.say("export.check", name=result.bag_name)
        return EXIT_OK

    run_verb(ui, body)
