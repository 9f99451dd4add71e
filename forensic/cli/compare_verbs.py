"""``forensic compare``: what an item keeps of an original photo, and where it differs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import escape, make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command(help=help_text("compare.verb"))
def compare(
    original: Annotated[
        Path,
        typer.Argument(
            help=help_text("compare.original"), metavar=help_text("compare.meta_original")
        ),
    ],
    item: Annotated[
        str, typer.Argument(help=help_text("compare.item"), metavar=help_text("meta.item"))
    ],
    acquire_original: Annotated[
        bool, typer.Option("--acquire-original", help=help_text("compare.acquire"))
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Compare an item with an original photo. / 원본 사진과 비교."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.comparing import compare_to_original

        result = compare_to_original(
            ui.session(passphrase_file),
            original,
            item,
            acquire=acquire_original,
            case_dir=case_dir,
        )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        if result.acquired:
            ui.say("compare.acquired", item=result.original_sha256[:12])
        else:
            ui.say("compare.not_acquired")
        ui.out.print(escape(result.sentence(ui.lang)))
        c = result.comparison
        if c.aligned:
            for n, r in enumerate(c.regions, start=1):
                x, y, w, h = r.box
                ui.say(
                    "compare.region", n=n, share=round(r.share * 100, 1), x=x, y=y, w=w, h=h,
                    pdq="-" if r.pdq_distance is None else r.pdq_distance,
                )  # fmt: skip
            pdq = "-" if c.pdq_distance is None else c.pdq_distance
            ui.say("compare.details", matches=c.matches, inliers=c.inliers, pdq=pdq)
            if result.files:
                names = ", ".join(str(f["path"]) for f in result.files)
                ui.say("compare.figure", files=names)
        ui.say("compare.logged", seq=result.entry.seq)
        return EXIT_OK

    run_verb(ui, body)
