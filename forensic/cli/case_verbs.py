"""``init``, ``recover``, ``note``, ``key show`` and ``demo``: the case and its examiner."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.clock import DEFAULT_TIMEZONE
from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _show_recovery,
    app,
    key_app,
)
from forensic.cli.helptext import help_text
from forensic.cli.output import (
    QuietOpt,
    Ui,
    case_option,
    make_ui,
    next_step,
    run_verb,
    shell_word,
)
from forensic.errors import EXIT_INTEGRITY, EXIT_OK

if TYPE_CHECKING:
    from forensic.service.case_setup import InitResult


# -- init ----------------------------------------------------------------------------------
@app.command(help=help_text("verb.init"))
def init(
    directory: Annotated[
        Path, typer.Argument(help=help_text("init.directory"), metavar=help_text("meta.directory"))
    ],
    case_id: Annotated[str, typer.Option("--case-id", help=help_text("init.case_id"))],
    title: Annotated[str, typer.Option("--title", help=help_text("init.title"))],
    examiner: Annotated[str, typer.Option("--examiner", help=help_text("init.examiner"))],
    org: Annotated[str | None, typer.Option("--org", help=help_text("init.org"))] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help=help_text("init.encrypt"),
        ),
    ] = False,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: Annotated[str | None, typer.Option("--lang", help=help_text("init.lang"))] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", help=help_text("init.timezone"))
    ] = DEFAULT_TIMEZONE,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Create a case folder; refuses to touch an existing one. / 사건 폴더를 만듭니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.case_setup import init_case

        result = init_case(
            ui.session(passphrase_file),
            directory,
            case_id=case_id,
            title=title,
            examiner=examiner,
            organisation=org,
            encrypt=encrypt,
            lang=ui.lang,
            timezone=timezone,
        )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        _show_init(ui, result, directory, quiet)
        return EXIT_OK

    run_verb(ui, body)


def _show_init(ui: Ui, result: InitResult, directory: Path, quiet: bool) -> None:
    """The case made, what losing the passphrase would cost for this kind of case, and the
    next step."""
    if result.key_created:
        ui.say("guide.key_created", path=str(ui.session().home))
    strength = result.passphrase
    if strength is not None and strength.weak:
        ui.warn(
            ui.t(
                "guide.passphrase_weak_plain",
                score=strength.score,
                reasons=strength.describe(ui.lang),
            )
        )
    ui.say("cli.init_done", case_id=result.case.info.case_id, path=str(result.case.root))
    ui.say("cli.key_fingerprint", fingerprint=result.key_fingerprint)
    if result.recipient is not None:
        ui.say("crypt.init_encrypted", recipient=result.recipient)
        ui.warn(ui.t("guide.loss_encrypted", case=case_option(directory)))
    elif result.key_created:
        ui.say("guide.loss_plain")
    next_step(ui, quiet, "guide.next_init", case=shell_word(directory))


# -- recover / note ------------------------------------------------------------------------
@app.command(help=help_text("verb.recover"))
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
        from forensic.service.case_setup import recover_case

        result = recover_case(ui.session(passphrase_file), case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        elif result.recovery.empty:
            ui.say("cli.recover_nothing")
        else:
            _show_recovery(ui, result.recovery)
        return EXIT_OK

    run_verb(ui, body)


@app.command(help=help_text("verb.note"))
def note(
    text: Annotated[
        str, typer.Argument(help=help_text("note.text"), metavar=help_text("meta.text"))
    ],
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
@key_app.command("show", help=help_text("verb.key_show"))
def key_show(
    pem: Annotated[bool, typer.Option("--pem", help=help_text("custody.pem"))] = False,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the examiner key's fingerprint (no passphrase needed)."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.keys import show_key

        if pem:  # for a hand-over to this person: made on first use, like the case's key
            key, _created = ui.session().unlock_or_create()
            typer.echo(key.public_pem.decode("ascii"), nl=False)
            return EXIT_OK
        result = show_key(ui.session())
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        else:
            ui.say("cli.key_fingerprint", fingerprint=result.fingerprint)
        return EXIT_OK

    run_verb(ui, body)


# -- demo ----------------------------------------------------------------------------------
@app.command(help=help_text("verb.demo"))
def demo(
    out: Annotated[Path, typer.Option("--out", help=help_text("demo.out"))] = Path("forensic-demo"),
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on generated media, ending with verify. / 전체 과정 시연."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.cli.capture_verbs import _report_capture
        from forensic.cli.verify_verbs import _report_verify
        from forensic.service.demo import run_demo

        ui.say("cli.demo_start", path=str(out))
        with ui.progress() as progress:
            result = run_demo(out, progress, lang=ui.lang)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        else:
            _report_capture(ui, result.capture, result.timestamp)
            ui.say("cli.demo_report", path=str(result.report_path))
            ui.say("cli.demo_export", path=str(result.export.destination))
            _report_verify(ui, result.report, result.verify_seq, None)
            ui.say("cli.demo_done", path=str(result.case_root))
        return EXIT_OK if result.report.intact else EXIT_INTEGRITY

    run_verb(ui, body)
