"""``forensic timestamp`` and ``forensic key cert`` (registered on the lead's typer apps)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic._internal.paths import display_lines
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app, key_app
from forensic.cli.helptext import help_text
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK


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
        if result.entries:
            ui.say("timestamp.recorded", entries=", ".join(str(e.seq) for e in result.entries))
        if outcome.pending:
            ui.say("timestamp.pending", count=outcome.pending)
        return EXIT_OK

    run_verb(ui, body)


@key_app.command("cert", help=help_text("verb.key_cert"))
def key_cert(
    import_files: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--import", help=help_text("key_cert.import")),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help=help_text("key_cert.name"))] = None,
    org: Annotated[str | None, typer.Option("--org", help=help_text("key_cert.org"))] = None,
    email: Annotated[str | None, typer.Option("--email", help=help_text("key_cert.email"))] = None,
    key_password: Annotated[
        str | None, typer.Option("--key-password", help=help_text("key_cert.key_password"))
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

        session = ui.session(passphrase_file)
        if import_files is not None:
            result = import_certificate(
                session, *import_files, key_password=key_password, force=force
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
