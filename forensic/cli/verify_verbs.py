"""``verify``: adapter of :mod:`forensic.service.verification`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.errors import EXIT_INTEGRITY, EXIT_OK

if TYPE_CHECKING:
    from forensic.custody.parties import Handover
    from forensic.service.verification import Verification
    from forensic.verify import VerificationReport


# -- verify --------------------------------------------------------------------------------
@app.command(help=help_text("verb.verify"))
def verify(
    expect_key: Annotated[
        str | None,
        typer.Option("--expect-key", help=help_text("verify.expect_key")),
    ] = None,
    expect_head: Annotated[
        str | None,
        typer.Option("--expect-head", help=help_text("trust.expect_head")),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help=help_text("verify.no_record"))
    ] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help=help_text("verify.decrypt"),
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
        from forensic.service.verification import verify

        with ui.progress() as progress:
            result = verify(
                ui.session(passphrase_file),
                case_dir,
                progress,
                expect_key=expect_key,
                expect_head=expect_head,
                no_record=no_record,
                decrypt=decrypt,
            )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        else:
            _report_verify(
                ui, result.report, result.recorded_seq, result.not_recorded, result.name_of
            )
            _report_trust(ui, result)
        return EXIT_OK if result.intact else EXIT_INTEGRITY

    run_verb(ui, body)


def _report_signatures(ui: Ui, report: VerificationReport) -> None:
    """One line per stored report: its signature, PAdES level and trusted time."""
    from forensic._internal.clock import local_and_utc

    for r in report.reports:
        if r.signature == "not_checked":
            ui.say("signing.verify_report_not_checked", report_id=r.report_id)
        elif r.signature != "valid" or r.timestamp == "invalid":
            ui.problem(ui.t("signing.verify_report_invalid", report_id=r.report_id))
        elif r.timestamp == "valid" and r.gen_time and not r.trusted:
            shown = local_and_utc(r.gen_time, report.zone).text()
            ui.warn(ui.t("signing.verify_report_untrusted", report_id=r.report_id,
                         level=r.level, time=shown, tsa=display(r.tsa or "-")))  # fmt: skip
        elif r.timestamp == "valid" and r.gen_time:
            shown = local_and_utc(r.gen_time, report.zone).text()
            ui.say("signing.verify_report_valid", report_id=r.report_id, level=r.level,
                   time=shown, tsa=display(r.tsa or "-"))  # fmt: skip
        else:
            key = "pending" if r.timestamp == "pending" else "none"
            ui.say(f"signing.verify_report_{key}", report_id=r.report_id, level=r.level)


def _report_verify(
    ui: Ui,
    report: VerificationReport,
    recorded: int | None,
    not_recorded: str | None,
    name_of: Callable[[str], str | None] = lambda _location: None,
) -> None:
    """The human rendering of a verification (``demo`` ends with one too); ``name_of`` gives
    the original file name of the item an object path holds, shown beside the path."""
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
            name = name_of(p.location)
            ui.problem(
                ui.t(
                    "cli.verify_problem",
                    area=p.area,
                    location=p.location if name is None else f"{p.location} ({display(name)})",
                    kind=p.kind,
                    detail=p.detail,
                )
            )
        if len(report.problems) > 50:
            ui.problem(ui.t("cli.more_problems", count=len(report.problems) - 50))
        if all(p.area == "interrupted" or p.kind == "object_unrecorded" for p in report.problems):
            ui.warn(ui.t("cli.verify_interrupted"))
    _report_signatures(ui, report)
    report_handovers(ui, report.handovers)
    if report.encrypted_objects and not report.plaintext_checked:
        ui.say("crypt.verify_ciphertext_note")
    ui.say("cli.key_fingerprint", fingerprint=report.key_fingerprint)
    if report.log_head:
        ui.say("cli.head", head=report.log_head)
    if recorded is not None:
        ui.say("cli.verify_recorded", seq=recorded)
    elif not_recorded:
        ui.say("cli.verify_not_recorded", reason=not_recorded)


def report_handovers(ui: Ui, handovers: Sequence[Handover]) -> None:
    """Each hand-over: received (its receipt entry) or, loudly, NOT YET RECEIVED."""
    for given in handovers:
        params = {"seq": given.seq, "name": given.receiver_name, "role": given.receiver_role}
        if given.received:
            ui.say("custody_cli.received_line", receipt=given.receipt_seq, **params)
        else:
            ui.warn(ui.t("custody_cli.not_received", fingerprint=given.receiver, **params))


def _report_trust(ui: Ui, result: Verification) -> None:
    """Loudly: tokens that are no trusted time on this machine; what the machine pinned."""
    report = result.report
    untrusted = [t for t in report.untrusted_tokens if not t.demo]
    for check in untrusted[:20]:
        ui.warn(
            ui.t(
                "trust.untrusted_token",
                tsa=display(str(check.token.get("tsa", ""))),
                tsr=display(str(check.token.get("tsr", ""))),
                root=check.root_sha256,
            )
        )
    if len(untrusted) > 20:
        ui.warn(ui.t("cli.more_problems", count=len(untrusted) - 20))
    demo = sum(1 for t in report.untrusted_tokens if t.demo)
    if demo:
        ui.warn(ui.t("trust.demo_tokens", count=demo))
    if result.pinned_now:
        ui.say("trust.pinned_now")
    elif report.known is not None and report.log_intact:
        ui.say("trust.known_matches", seq=report.known.head_seq)
