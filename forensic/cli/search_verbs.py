"""``forensic ocr`` and ``forensic search``: the text read from evidence, and finding by it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, escape, make_ui, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.service.text import ChatHit


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
    since: Annotated[
        str | None, typer.Option("--since", help=help_text("chat_search.since"))
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help=help_text("chat_search.until"))
    ] = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help=help_text("chat_search.sender"))
    ] = None,
    chat: Annotated[str | None, typer.Option("--chat", help=help_text("chat_search.chat"))] = None,
    regex: Annotated[bool, typer.Option("--regex", help=help_text("chat_search.regex"))] = False,
    by_time: Annotated[
        bool, typer.Option("--by-time", help=help_text("chat_search.by_time"))
    ] = False,
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find chat messages and items by text, each hit cited. / 글자로 메시지와 증거 찾기."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.text import ChatHit, SearchOptions, search

        options = SearchOptions(since, until, sender, chat, regex, by_time)
        outcome = search(ui.session(), text, case_dir, options)
        if ui.json_mode:
            ui.emit_json(outcome.as_dict())
            return EXIT_OK
        if not outcome.hits:
            ui.say("web.search_none", text=text)
            return EXIT_OK
        for h in outcome.hits:
            if isinstance(h, ChatHit):
                _print_message_hit(ui, h, outcome.zone)
            else:
                ui.say(
                    "web.search_hit", item=h.hit.item_id, source=h.hit.source, snippet=h.hit.snippet
                )
        return EXIT_OK

    run_verb(ui, body)


def _print_message_hit(ui: Ui, hit: ChatHit, zone: str) -> None:
    """Two lines: where the message is and when (case zone and UTC), then what it says."""
    from forensic.cli.chat_verbs import shown_time

    m = hit.hit.message
    where = m.chat_name or m.member or m.file
    ui.out.print(
        escape(
            display(
                ui.t(
                    "chat_view.hit",
                    ref=m.ref.text,
                    chat=where,
                    sender=m.sender_name or (ui.t("chat_shot.own") if m.box is not None else "?"),
                    time=shown_time(ui, m, zone),
                )
            )
        )
    )
    ui.out.print("    " + escape(display(hit.hit.snippet)))
    if m.box is not None:  # read from a screenshot: say so beside every such hit
        box = ",".join(map(str, m.box))
        where_on = ui.t("chat_shot.where", item=m.item_sha256[:12], box=box,
                        confidence=f"{m.confidence or 0:.2f}")  # fmt: skip
        ui.out.print("    " + escape(display(where_on)) + " · " + ui.t("chat_shot.derived"))
