"""``forensic timestamp`` and ``forensic key cert`` (registered on the lead's typer apps)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _open_case,
    _unlock,
    app,
    key_app,
)
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK
from forensic.timestamp import (
    describe,
    load_config,
    pending_queue,
    stamp_head,
    tsas_from_options,
)
from forensic.timestamp.errors import TimestampUsageError


@app.command()
def timestamp(
    tsa: Annotated[
        list[str] | None,
        typer.Option("--tsa", help="TSA URL (repeatable); else the configured TSAs."),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None,
        typer.Option("--tsa-root", help="Root certificate (PEM) trusted for the --tsa URLs."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds to wait for each TSA.")
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
        case = _open_case(ui, case_dir)
        config = load_config()
        tsas = tsas_from_options(list(tsa or []), list(tsa_root or []))
        if not tsa:
            tsas = list(config.tsas)
        if not tsas and not pending_queue(case):
            raise TimestampUsageError("no_tsa")
        key, _ = _unlock(ui, passphrase_file)
        result = stamp_head(
            case, key, tsas, timeout=timeout if timeout is not None else config.timeout
        )
        still = pending_queue(case)
        if ui.json_mode:
            ui.emit_json({"ok": True, **result.as_dict(), "pending": len(still)})
            return EXIT_OK
        lines = describe(result, ui.lang)
        for line in lines[: len(result.tokens)]:
            ui.out.print(line, markup=False, highlight=False)
        for line in lines[len(result.tokens) :]:
            ui.warn(line)
        if result.entries:
            ui.say("timestamp.recorded", entries=", ".join(str(e.seq) for e in result.entries))
        if still:
            ui.say("timestamp.pending", count=len(still))
        return EXIT_OK

    run_verb(ui, body)


@key_app.command("cert")
def key_cert(
    import_files: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--import", help="CERT.pem KEY.pem issued by your organisation."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Examiner's name (self-signed certificate).")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    key_password: Annotated[
        str | None, typer.Option("--key-password", help="Password of the imported key, if any.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing one.")] = False,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Examiner X.509 certificate (ECDSA P-256) for signing reports. / 조사자 인증서."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.timestamp.examiner_cert import create_self_signed, import_cert

        session = ui.session(passphrase_file)
        home = session.home
        # the certificate's key is protected by the examiner passphrase: check it first
        session.unlock_or_create()
        passphrase = session.passphrase
        assert passphrase is not None
        if import_files is not None:
            cert = import_cert(
                home,
                import_files[0],
                import_files[1],
                passphrase=passphrase,
                key_password=key_password,
                force=force,
            )
        else:
            cert = create_self_signed(
                home,
                name=name or "forensic examiner",
                organisation=org,
                email=email,
                passphrase=passphrase,
                force=force,
            )
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "certificate": {
                        "path": str(cert.path),
                        "key_path": str(cert.key_path),
                        "subject": cert.subject,
                        "not_after": cert.not_after,
                        "sha256": cert.fingerprint_sha256,
                        "imported": cert.imported,
                    },
                }
            )
        else:
            ui.say(
                "timestamp.cert_imported" if cert.imported else "timestamp.cert_created",
                path=str(cert.path),
                subject=cert.subject,
                not_after=cert.not_after,
            )
        return EXIT_OK

    run_verb(ui, body)
