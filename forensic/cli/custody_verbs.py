"""``forensic handover`` and ``forensic receive``: custody from one person to the next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, _show_recovery, app
from forensic.cli.helptext import help_text
from forensic.cli.output import human_bytes, make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command(help=help_text("custody_verb.handover"))
def handover(
    to: Annotated[str, typer.Option("--to", help=help_text("custody.to"))],
    role: Annotated[str, typer.Option("--role", help=help_text("custody.role"))],
    recipient_key: Annotated[
        Path, typer.Option("--recipient-key", help=help_text("custody.recipient_key"))
    ],
    org: Annotated[str | None, typer.Option("--org", help=help_text("custody.org"))] = None,
    age_recipient: Annotated[
        list[str] | None,
        typer.Option("--age-recipient", help=help_text("custody.age_recipient")),
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Hand the case over to another person. / 사건을 다른 사람에게 인계합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.custody import handover as handover_case

        with ui.progress() as progress:
            result = handover_case(
                ui.session(passphrase_file),
                to_name=to,
                role=role,
                recipient_key=recipient_key,
                organisation=org,
                age_recipients=tuple(age_recipient or ()),
                case_dir=case_dir,
                progress=progress,
            )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        _show_recovery(ui, result.recovery)
        given = result.handover
        ui.say(
            "custody_cli.handed",
            seq=given.seq,
            name=given.receiver_name,
            role=given.receiver_role,
            fingerprint=given.receiver,
            items=given.items,
            bytes=human_bytes(given.bytes),
            head=given.head_hash,
        )
        ui.say("custody_cli.handed_next")
        return EXIT_OK

    run_verb(ui, body)


@app.command(help=help_text("custody_verb.receive"))
def receive(
    source: Annotated[
        Path, typer.Argument(help=help_text("custody.source"), metavar=help_text("meta.directory"))
    ],
    into: Annotated[Path | None, typer.Option("--into", help=help_text("custody.into"))] = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Verify a handed-over case and sign its receipt. / 인계받은 사건을 검증하고 인수 확인에
    서명합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.custody import receive as receive_case

        with ui.progress() as progress:
            result = receive_case(ui.session(passphrase_file), source, into=into, progress=progress)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        _show_recovery(ui, result.recovery)
        given = result.handover
        ui.say(
            "custody_cli.received",
            seq=result.entry.seq,
            handover=given.seq,
            sender=result.sender,
            head=given.head_hash,
            case=str(result.case_root),
        )
        return EXIT_OK

    run_verb(ui, body)
