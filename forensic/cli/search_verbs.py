"""``forensic ocr`` and ``forensic search``: the text read from evidence, and finding by it."""

from __future__ import annotations

from typing import Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command("ocr", help=help_text("verb.ocr"))
def ocr_verb(
    items: Annotated[
        list[str] | None,
        typer.Argument(help=help_text("ocr.items"), metavar=help_text("meta.items")),
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Read Korean and English text from images and pages (derived data). / 글자 읽기(OCR)."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.text import ocr

        outcome = ocr(ui.session(passphrase_file), items or [], case_dir)
        if ui.json_mode:
            ui.emit_json(outcome.as_dict())
            return EXIT_OK
        for r in outcome.records:
            if r.skipped is None:
                ui.say("web.ocr_item", item=r.item_id, chars=r.chars, method=r.method)
            elif r.why is not None:  # an image not read (a bomb, tesseract failed): always said
                ui.warn(ui.t("web.ocr_skipped", item=r.item_id, reason=r.reason(ui.lang)))
            elif outcome.named:
                ui.warn(ui.t("web.ocr_skipped", item=r.item_id, reason=r.skipped))
        read = outcome.read
        ui.say("web.ocr_done", count=len(read), empty=sum(1 for r in read if r.chars == 0))
        return EXIT_OK

    run_verb(ui, body)


@app.command("search", help=help_text("verb.search"))
def search_verb(
    text: Annotated[
        str, typer.Argument(help=help_text("search.text"), metavar=help_text("meta.text"))
    ],
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find items by the text read from them or by source, URL and note. / 글자로 증거 찾기."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.text import search

        outcome = search(ui.session(), text, case_dir)
        if ui.json_mode:
            ui.emit_json(outcome.as_dict())
            return EXIT_OK
        if not outcome.hits:
            ui.say("web.search_none", text=text)
            return EXIT_OK
        for h in outcome.hits:
            if h.kind == "message":
                ui.say("web.search_message", chat=h.field, source=h.source, snippet=h.snippet)
            else:
                ui.say("web.search_hit", item=h.item_id, source=h.source, snippet=h.snippet)
        return EXIT_OK

    run_verb(ui, body)
