"""``init``, ``recover``, ``note``, ``key show`` and ``demo``: the case and its examiner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.case import Case
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
    key_app,
)
from forensic.cli.output import make_ui, run_verb
from forensic.custody import config_home
from forensic.custody.keys import read_key_record
from forensic.errors import (
    EXIT_INTEGRITY,
    EXIT_OK,
    CaseError,
)


# -- init ----------------------------------------------------------------------------------
@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="New case folder.")],
    case_id: Annotated[str, typer.Option("--case-id", help="Case number.")],
    title: Annotated[str, typer.Option("--title", help="Case title.")],
    examiner: Annotated[str, typer.Option("--examiner", help="Examiner's name.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation.")] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Store evidence as age ciphertext under a case key wrapped by your passphrase.",
        ),
    ] = False,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Case and message language: ko or en.")
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Create a case folder; refuses to touch an existing one. / 사건 폴더를 만듭니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.verify.script import verify_script

        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise CaseError("case_exists", path=str(directory))
        if (directory / "case.json").is_file() and encrypt:
            from forensic.store.crypt import CryptError

            raise CryptError("case_exists", path=str(directory))
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise CaseError("case_exists", path=str(directory))
        key, created = ui.session(passphrase_file).unlock_or_create()
        extra = {"verify.sh": verify_script()}
        encryption = None
        if encrypt:
            from forensic._internal.clock import utc_timestamp
            from forensic.case.rekey import recipients_text
            from forensic.store import crypt

            passphrase = ui.session().passphrase
            assert passphrase is not None  # the key was just unlocked with it
            identity = crypt.new_identity()
            recipient = str(identity.to_public())
            extra[crypt.IDENTITY_FILE] = crypt.wrap_identity(identity, passphrase, utc_timestamp())
            extra[crypt.RECIPIENTS_FILE] = recipients_text((recipient,), case_id)
            encryption = crypt.Encryption((recipient,))
        case, entry = Case.init(
            directory,
            session=ui.session(),
            case_id=case_id,
            title=title,
            examiner=examiner,
            organisation=org,
            lang=ui.lang,
            key=key,
            extra_files=extra,
            encryption=encryption,
        )
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "case": case.info.as_dict(),
                    "path": str(case.root),
                    "key_created": created,
                    "entry": entry.as_dict(),
                }
            )
        else:
            if created:
                ui.say("cli.key_created", path=str(config_home()))
            ui.say("cli.init_done", case_id=case_id, path=str(case.root))
            ui.say("cli.key_fingerprint", fingerprint=key.fingerprint)
            if encryption is not None:
                ui.say("crypt.init_encrypted", recipient=encryption.recipients[0])
        return EXIT_OK

    run_verb(ui, body)


# -- recover / note ------------------------------------------------------------------------
@app.command()
def recover(
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Quarantine and log what an interrupted run left behind. / 중단된 실행의 흔적을 격리·기록."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        key, _ = _unlock_existing(ui, passphrase_file)
        report = case.recover(key)
        doc = _show_recovery(ui, report)
        if ui.json_mode:
            ui.emit_json({"ok": True, "recovered": doc})
        elif report.empty:
            ui.say("cli.recover_nothing")
        return EXIT_OK

    run_verb(ui, body)


@app.command()
def note(
    text: Annotated[str, typer.Argument(help="The note.")],
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Add an examiner's note to the custody log. / 조사자 메모를 기록합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.note import add_note

        result = add_note(ui.session(passphrase_file), text, case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        _show_recovery(ui, result.recovery)
        ui.say("cli.note_done", seq=result.entry.seq)
        return EXIT_OK

    run_verb(ui, body)


# -- key -----------------------------------------------------------------------------------
@key_app.command("show")
def key_show(
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the examiner key's fingerprint (no passphrase needed)."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        record = read_key_record(config_home())
        kdf = record.get("kdf")
        doc = {
            "path": str(config_home()),
            "fingerprint": record.get("fingerprint"),
            "created": record.get("created"),
            "kdf": kdf.get("name") if isinstance(kdf, dict) else None,
        }
        if ui.json_mode:
            ui.emit_json({"ok": True, "key": doc})
        else:
            ui.say("cli.key_fingerprint", fingerprint=doc["fingerprint"])
        return EXIT_OK

    run_verb(ui, body)


# -- demo ----------------------------------------------------------------------------------
@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to create for the demo.")] = Path(
        "forensic-demo"
    ),
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on generated media, ending with verify. / 전체 과정 시연."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.cli.capture_verbs import _report_capture
        from forensic.cli.verify_verbs import _report_verify
        from forensic.demo import run_demo

        ui.say("cli.demo_start", path=str(out))
        with ui.progress() as progress:
            result = run_demo(out, progress, lang=ui.lang)
        if ui.json_mode:
            ui.emit_json({"ok": result.report.intact, **result.as_dict()})
        else:
            _report_capture(ui, result.capture, result.timestamp)
            ui.say("cli.demo_report", path=str(result.report_path))
            ui.say("cli.demo_export", path=str(result.export.destination))
            _report_verify(ui, result.report, result.verify_seq, None)
            ui.say("cli.demo_done", path=str(result.case_root))
        return EXIT_OK if result.report.intact else EXIT_INTEGRITY

    run_verb(ui, body)
