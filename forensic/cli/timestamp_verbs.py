"""``forensic timestamp`` and ``forensic key cert`` (registered on the main typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display_lines
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app, key_app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, make_ui, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.service.timestamping import TimestampOutcome


@app.command(help=help_text("verb.timestamp"))
def timestamp(
    tsa: Annotated[
        list[str] | None,
        typer.Option("--tsa", help=help_text("timestamp.tsa")),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None,
        typer.Option("--tsa-root", help=help_text("timestamp.tsa_root")),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help=help_text("timestamp.timeout"))
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Time-stamp the custody log head (RFC 3161) and send queued requests. / 타임스탬프.

    Only the SHA-256 of the log's last line is sent, never an evidence hash. A TSA that fails
    leaves its request queued (exit 0); run the command again when online.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.timestamping import timestamp_case
        from forensic.timestamp import describe

        outcome = timestamp_case(
            ui.session(passphrase_file),
            case_dir,
            urls=tsa or [],
            roots=tsa_root or [],
            timeout=timeout,
        )
        if ui.json_mode:
            ui.emit_json(outcome.as_dict())
            return EXIT_OK
        result = outcome.result
        lines = describe(result, ui.lang)
        for line in lines[: len(result.tokens)]:
            ui.out.print(display_lines(line), markup=False, highlight=False)
        for line in lines[len(result.tokens) :]:
            ui.warn(line)
        _report_stamps(ui, outcome)
        if result.entries:
            ui.say("timestamp.recorded", entries=", ".join(str(e.seq) for e in result.entries))
        if outcome.pending:
            ui.say("timestamp.pending", count=outcome.pending)
        return EXIT_OK

    run_verb(ui, body)


def _import_password(ui: Ui, key_path: Path, password_file: Path | None) -> str | None:
    """The imported key's password: from ``--key-password-file``, else asked at a terminal
    when the key is encrypted (never from the command line)."""
    import sys

    from forensic.service.keys import key_needs_password, read_password_file

    if password_file is not None:
        return read_password_file(password_file)
    if not key_needs_password(key_path) or not sys.stdin.isatty():
        return None  # an encrypted key then fails with a pointer to --key-password-file
    return str(typer.prompt(ui.t("signing.key_password_prompt"), hide_input=True))


def _report_stamps(ui: Ui, outcome: TimestampOutcome) -> None:
    """The stored reports that received their document time-stamp."""
    from forensic._internal.clock import local_and_utc

    result = outcome.result
    for stamp in result.reports:
        ui.say(
            "signing.report_stamped",
            report_id=stamp.report_id,
            tsa=stamp.tsa,
            time=local_and_utc(stamp.gen_time, outcome.zone).text(),
            path=stamp.path,
        )
    if result.reports:
        ui.say("signing.report_stamped_copy_note")


@key_app.command("cert", help=help_text("verb.key_cert"))
def key_cert(
    import_files: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--import", help=help_text("key_cert.import")),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help=help_text("key_cert.name"))] = None,
    org: Annotated[str | None, typer.Option("--org", help=help_text("key_cert.org"))] = None,
    email: Annotated[str | None, typer.Option("--email", help=help_text("key_cert.email"))] = None,
    key_password_file: Annotated[
        Path | None,
        typer.Option("--key-password-file", help=help_text("signing.key_password_file")),
    ] = None,
    key_password: Annotated[
        str | None,
        typer.Option("--key-password", hidden=True, help=help_text("signing.key_password")),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=help_text("key_cert.force"))] = False,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Examiner X.509 certificate (ECDSA P-256) for signing reports. / 조사자 인증서."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.keys import create_certificate, import_certificate

        if key_password is not None:
            from forensic.timestamp import TimestampUsageError

            raise TimestampUsageError("signing.key_password_argv")
        session = ui.session(passphrase_file)
        if import_files is not None:
            result = import_certificate(
                session,
                *import_files,
                key_password=_import_password(ui, import_files[1], key_password_file),
                force=force,
            )
        else:
            result = create_certificate(
                session, name=name, organisation=org, email=email, force=force
            )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        if result.key_created:
            ui.say("cli.key_created", path=str(session.home))
        cert = result.cert
        ui.say(
            "timestamp.cert_imported" if cert.imported else "timestamp.cert_created",
            path=str(cert.path),
            subject=cert.subject,
            not_after=cert.not_after,
        )
        return EXIT_OK

    run_verb(ui, body)
