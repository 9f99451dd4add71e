"""``forensic encrypt`` and ``forensic share``: encryption at rest (age, X25519)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.case import Case, discover_case
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.custody.keys import ExaminerKey
from forensic.errors import EXIT_OK


def _unlock(ui: Ui, case: Case, passphrase_file: Path | None) -> tuple[ExaminerKey, str]:
    session = ui.session(passphrase_file)
    key = session.unlock()
    case.check_key(key)
    assert session.passphrase is not None  # the key was just unlocked with it
    return key, session.passphrase


@app.command()
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
        from forensic.case.rekey import encrypt_case

        case = Case.open(discover_case(case_dir), ui.session())
        key, passphrase = _unlock(ui, case, passphrase_file)
        with ui.progress() as progress:
            result = encrypt_case(case, key, passphrase, progress)
        if ui.json_mode:
            ui.emit_json({"ok": True, "encrypt": result.as_dict()})
            return EXIT_OK
        ui.say(
            "crypt.encrypted",
            count=result.objects,
            bytes=human_bytes(result.bytes),
            seq=result.seq,
            recipient=result.recipients[0],
        )
        if result.derived:
            ui.say("derived.reencrypted", count=result.derived)
        ui.warn(ui.t("crypt.ssd_warning"))
        return EXIT_OK

    run_verb(ui, body)


@app.command()
def share(
    recipient: Annotated[
        list[str],
        typer.Option("--recipient", "-r", help="age recipient (age1…), e.g. a lawyer's key."),
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
        from forensic.case.rekey import share_case
        from forensic.store.crypt import parse_recipient

        for r in recipient:  # a bad recipient fails before any passphrase prompt
            parse_recipient(r)
        case = Case.open(discover_case(case_dir), ui.session())
        key, _ = _unlock(ui, case, passphrase_file)
        with ui.progress() as progress:
            result = share_case(case, key, recipient, progress)
        if ui.json_mode:
            ui.emit_json({"ok": True, "share": result.as_dict()})
            return EXIT_OK
        ui.say("crypt.shared", added=", ".join(result.added), count=result.objects, seq=result.seq)
        if result.derived:
            ui.say("derived.reencrypted", count=result.derived)
        ui.say("crypt.recipients", recipients=", ".join(result.recipients))
        return EXIT_OK

    run_verb(ui, body)
