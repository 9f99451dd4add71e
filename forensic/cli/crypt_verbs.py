"""``forensic encrypt`` and ``forensic share``: encryption at rest (age, X25519)."""

from __future__ import annotations

from typing import Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import human_bytes, make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command(help=help_text("verb.encrypt"))
def encrypt(
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Switch a plain case to encrypted storage. / 평문 사건을 암호화 저장으로 전환합니다.

    Every object is re-encrypted (logged: old and new SHA-256); the old plaintext files are
    then unlinked, which does NOT securely erase them on SSDs (see docs/decisions/0013).
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.encryption import encrypt_evidence

        with ui.progress() as progress:
            result = encrypt_evidence(ui.session(passphrase_file), case_dir, progress)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        rekey = result.rekey
        ui.say(
            "crypt.encrypted",
            count=rekey.objects,
            bytes=human_bytes(rekey.bytes),
            seq=rekey.seq,
            recipient=rekey.recipients[0],
        )
        if rekey.derived:
            ui.say("derived.reencrypted", count=rekey.derived)
        ui.warn(ui.t("crypt.ssd_warning"))
        return EXIT_OK

    run_verb(ui, body)


@app.command(help=help_text("verb.share"))
def share(
    recipient: Annotated[
        list[str],
        typer.Option("--recipient", "-r", help=help_text("share.recipient")),
    ],
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Let another age key decrypt the evidence. / 다른 age 키도 증거를 복호화할 수 있게 합니다.

    Every object is re-encrypted to all recipients; old ciphertext is removed only after the
    new one is durable and logged.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.encryption import share_evidence

        with ui.progress() as progress:
            result = share_evidence(ui.session(passphrase_file), recipient, case_dir, progress)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        rekey = result.rekey
        ui.say("crypt.shared", added=", ".join(rekey.added), count=rekey.objects, seq=rekey.seq)
        if rekey.derived:
            ui.say("derived.reencrypted", count=rekey.derived)
        ui.say("crypt.recipients", recipients=", ".join(rekey.recipients))
        return EXIT_OK

    run_verb(ui, body)
