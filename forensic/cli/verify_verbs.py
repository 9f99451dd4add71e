"""``verify``: re-hash every object and re-check the whole custody log."""

from __future__ import annotations

from typing import Annotated

import typer

from forensic.case.lock import case_lock
from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _open_case,
    _unlock_existing,
    app,
)
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.custody.keys import ExaminerKey
from forensic.errors import (
    EXIT_INTEGRITY,
    EXIT_OK,
    KeyringError,
)
from forensic.store.crypt import CryptError
from forensic.verify import VerificationReport, record_verification, verify_case


# -- verify --------------------------------------------------------------------------------
@app.command()
def verify(
    expect_key: Annotated[
        str | None,
        typer.Option("--expect-key", help="Require this examiner key fingerprint (prefix)."),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not append the result to the custody log.")
    ] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help="Encrypted case: also decrypt every object and re-hash its plaintext "
            "(needs the passphrase; logged as an access).",
        ),
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Re-hash every object and re-check the whole custody log. / 사건 전체를 검증합니다.

    Exit 0 when intact, 1 naming each problem.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        recorded: int | None = None
        not_recorded: str | None = None
        key: ExaminerKey | None = None
        if decrypt:
            # Decryption needs the case identity, unwrapped with the examiner's passphrase.
            key, _ = _unlock_existing(ui, passphrase_file)
            case.check_key(key)
            if case.store.crypto is not None:
                try:
                    case.store.crypto.identity()
                except CryptError as exc:
                    # An edited encryption record or a replaced key file: verify names it (it
                    # checks case.json and keys/ against the log); a wrong passphrase stops here.
                    if exc.key != "identity_unreadable":
                        raise
        if no_record:
            not_recorded = "--no-record"
            key = None
        elif key is None:
            # Unlock before taking the lock, so no prompt ever holds the case.
            try:
                key, _ = _unlock_existing(ui, passphrase_file)
                case.check_key(key)
            except KeyringError as exc:
                # A third party without the examiner's key still gets the full verification.
                key, not_recorded = None, exc.diagnostics(ui.lang)
        with case_lock(case.root, case.session.lock_timeout):
            with ui.progress() as progress:
                report = verify_case(case, progress, expect_key=expect_key, decrypt=decrypt)
            if key is not None:
                if not report.log_intact or report.interrupted:
                    not_recorded = ui.t("error.log_not_intact")
                else:
                    recorded = record_verification(case, key, report).seq
                    case.record_access(key, locked=True)
        _report_verify(ui, report, recorded, not_recorded)
        return EXIT_OK if report.intact else EXIT_INTEGRITY

    run_verb(ui, body)


def _report_verify(
    ui: Ui, report: VerificationReport, recorded: int | None, not_recorded: str | None
) -> None:
    if ui.json_mode:
        doc = report.as_dict()
        doc["ok"] = report.intact
        doc["recorded_seq"] = recorded
        ui.emit_json(doc)
        return
    if report.intact:
        ui.say(
            "cli.verify_ok",
            case_id=report.case_id,
            items=report.items,
            bytes=human_bytes(report.bytes_checked),
            entries=report.log_entries,
        )
    else:
        ui.problem(ui.t("cli.verify_bad", case_id=report.case_id, count=len(report.problems)))
        for p in report.problems[:50]:
            ui.problem(
                ui.t(
                    "cli.verify_problem",
                    area=p.area,
                    location=p.location,
                    kind=p.kind,
                    detail=p.detail,
                )
            )
        if len(report.problems) > 50:
            ui.problem(ui.t("cli.more_problems", count=len(report.problems) - 50))
        if all(p.area == "interrupted" or p.kind == "object_unrecorded" for p in report.problems):
            ui.warn(ui.t("cli.verify_interrupted"))
    if report.encrypted_objects and not report.plaintext_checked:
        ui.say("crypt.verify_ciphertext_note")
    ui.say("cli.key_fingerprint", fingerprint=report.key_fingerprint)
    if report.log_head:
        ui.say("cli.head", head=report.log_head)
    if recorded is not None:
        ui.say("cli.verify_recorded", seq=recorded)
    elif not_recorded:
        ui.say("cli.verify_not_recorded", reason=not_recorded)
