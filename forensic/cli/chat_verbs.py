"""``mark``, ``unmark``, ``chat show`` and ``chat marks``: messages cited, and a chat to read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import LocalizedGroup, help_text
from forensic.cli.output import Ui, escape, make_ui, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.chat.citation import CitedMessage
    from forensic.chat.view import ViewedMessage
    from forensic.service.chat import ChatView

chat_app = typer.Typer(help=help_text("chat_verb.chat"), no_args_is_help=True, cls=LocalizedGroup)
app.add_typer(chat_app, name="chat")

RefArg = Annotated[
    str, typer.Argument(help=help_text("chat.ref"), metavar=help_text("chat.meta_ref"))
]
ContextOpt = Annotated[int, typer.Option("--context", help=help_text("chat.context"))]


def shown_time(ui: Ui, m: CitedMessage, zone: str) -> str:
    """The message's time in the case zone with UTC beside it (as written when it has none)."""
    from forensic._internal.clock import local_and_utc

    if m.time.utc:
        try:
            text = local_and_utc(m.time.utc, zone).text()
        except ValueError:
            text = m.time.utc
    else:
        text = ui.t("chat_view.as_written", time=m.time.as_written)
    return text + (" ⚠" if m.time.stated else "")


@app.command("mark", help=help_text("chat_verb.mark"))
def mark_verb(
    ref: RefArg,
    note: Annotated[str | None, typer.Option("--note", help=help_text("chat.note"))] = None,
    context: ContextOpt = 3,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Record in the custody log that a message is cited. / 인용할 메시지 표시."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.chat import mark_message

        result = mark_message(ui.session(passphrase_file), ref, note, context, case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        m = result.message
        ui.say(
            "chat_view.marked",
            ref=m.ref.text,
            seq=result.entry.seq,
            sender=m.sender_name or "?",
            time=shown_time(ui, m, result.zone),
        )
        return EXIT_OK

    run_verb(ui, body)


@app.command("unmark", help=help_text("chat_verb.unmark"))
def unmark_verb(
    ref: RefArg,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Withdraw a mark (the log keeps both entries). / 표시 취소."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.chat import unmark_message

        result = unmark_message(ui.session(passphrase_file), ref, case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        ui.say("chat_view.unmarked", ref=result.ref.text, seq=result.entry.seq)
        return EXIT_OK

    run_verb(ui, body)


@chat_app.command("show", help=help_text("chat_verb.show"))
def chat_show_verb(
    group: Annotated[
        str, typer.Argument(help=help_text("chat.group"), metavar=help_text("chat.meta_group"))
    ],
    around: Annotated[str | None, typer.Option("--around", help=help_text("chat.around"))] = None,
    context: ContextOpt = 3,
    marked: Annotated[bool, typer.Option("--marked", help=help_text("chat.marked"))] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """A chat to read: sender, time in the case zone and UTC, media, marks. / 대화 보기."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.chat import show_chat

        view = show_chat(ui.session(passphrase_file), group, around, context, marked, case_dir)
        if ui.json_mode:
            ui.emit_json(view.as_dict())
            return EXIT_OK
        _print_view(ui, view)
        return EXIT_OK

    run_verb(ui, body)


@chat_app.command("marks", help=help_text("chat_verb.marks"))
def chat_marks_verb(
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The messages marked as cited. / 표시한 메시지 목록."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.chat import list_marks

        result = list_marks(ui.session(), case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        if not result.marks:
            ui.say("chat_view.no_marks")
        for mark in result.marks:
            line = f"★ {mark.ref.text}  #{mark.seq}"
            if mark.note:
                line += f"  {mark.note}"
            ui.out.print(escape(display(line)))
        return EXIT_OK

    run_verb(ui, body)


def _print_view(ui: Ui, view: ChatView) -> None:
    ui.out.print(
        escape(display(ui.t("chat_view.heading", group=view.group, app=view.app, zone=view.zone)))
    )
    check = view.zone_check
    if check.get("disagreements"):
        stated = check.get("stated") or {}
        ui.warn(
            ui.t(
                "chat_view.zone_warning",
                derived=", ".join(f"UTC{o}" for o in check.get("derived_offsets") or {}),
                zone=stated.get("zone"),
                count=check.get("disagreements"),
            )
        )
    last_chat: int | None = None
    for viewed in view.messages:
        m = viewed.message
        if m.ref.chat != last_chat:
            ui.out.print(
                escape(
                    display(
                        ui.t("chat_view.chat", index=m.ref.chat, chat=m.chat_name or m.member or "")
                    )
                )
            )
            last_chat = m.ref.chat
        elif viewed.gap_before:
            ui.out.print("   …")
        _print_message(ui, viewed, view.zone)


def _print_message(ui: Ui, viewed: ViewedMessage, zone: str) -> None:
    m = viewed.message
    sign = "★" if viewed.mark is not None else ("▶" if viewed.focus else " ")
    who = m.sender_name or (ui.t("chat_shot.own") if m.box is not None else "?")
    if m.sender_id:
        who += f" [{m.sender_id}]"
    head = f"{sign} {m.ref.message}  {shown_time(ui, m, zone)}  {who}"
    if m.forwarded_from:
        head += "  " + ui.t("chat.forwarded", source=m.forwarded_from)
    style = "bold yellow" if viewed.mark is not None else ("bold" if viewed.focus else "")
    text = escape(display(head))
    ui.out.print(f"[{style}]{text}[/{style}]" if style else text)
    for line in m.text.splitlines() or [""]:
        ui.out.print("      " + escape(display(line)))
    for media in m.media:
        state = "chat_view.media_present" if media.present else "chat_view.media_missing"
        name = media.name or (media.sha256 or "")[:12]
        ui.out.print(
            "      " + escape(display(ui.t(state, role=media.role, name=name, status=media.status)))
        )
    if m.box is not None:
        where = ui.t("chat_shot.where", item=m.item_sha256[:12], box=",".join(map(str, m.box)),
                     confidence=f"{m.confidence or 0:.2f}")  # fmt: skip
        ui.out.print("      " + escape(display(where)) + " · " + ui.t("chat_shot.derived"))
        if m.same_as:
            ui.out.print(
                "      " + escape(display(ui.t("chat_shot.same_as", refs=", ".join(m.same_as))))
            )
    if viewed.mark is not None and viewed.mark.note:
        ui.out.print("      " + escape(display(ui.t("chat_view.note", note=viewed.mark.note))))
