"""``forensic report``: a signed PDF/A report of the case for court (registered on the app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, _open_case, app
from forensic.cli.output import human_bytes, make_ui, run_verb
from forensic.errors import EXIT_INTEGRITY, EXIT_OK


@app.command()
def report(
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write a copy to FILE.pdf.")
    ] = None,
    preview: Annotated[
        str,
        typer.Option(
            "--preview", help="blur (default: unrecoverable), none, or full (logged, warns)."
        ),
    ] = "blur",
    items: Annotated[
        list[str] | None,
        typer.Option("--items", help="Only these items (SHA-256 or unique prefix; repeatable)."),
    ] = None,
    logo: Annotated[
        Path | None, typer.Option("--logo", help="Organisation logo (PNG/JPEG) for the header.")
    ] = None,
    tsa: Annotated[
        str | None,
        typer.Option("--tsa", help="TSA URL for the signature's timestamp (else configured)."),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None, typer.Option("--tsa-root", help="Root certificate for --tsa.")
    ] = None,
    demo_tsa: Annotated[
        bool,
        typer.Option("--demo-tsa", help="Use the offline demo TSA (NOT trusted; practice only)."),
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Signed PDF/A report of the case for court. / 법정 제출용 서명 보고서(PDF/A).

    The report is stored in reports/ and its SHA-256 is written to the custody log.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.report import PREVIEW_MODES, ReportOptions, build_report
        from forensic.report.errors import ReportUsageError
        from forensic.timestamp import TimestampAuthority, load_config, tsas_from_options
        from forensic.timestamp import demo_tsa as make_demo_tsa
        from forensic.timestamp.examiner_cert import CERT_FILE, load_signing_key

        if preview not in PREVIEW_MODES:
            raise ReportUsageError("bad_preview", mode=preview)
        case = _open_case(ui, case_dir)
        session = ui.session(passphrase_file)
        home = session.home
        if not (home / CERT_FILE).is_file():
            raise ReportUsageError("no_cert", path=str(home / CERT_FILE))
        config = load_config()
        chosen: TimestampAuthority | None
        if demo_tsa:
            chosen = make_demo_tsa()
        elif tsa:
            chosen = tsas_from_options([tsa], list(tsa_root or []))[0]
        else:
            chosen = config.tsas[0] if config.tsas else None
        if chosen is None:
            raise ReportUsageError("no_tsa")
        key = session.unlock()  # only `init` creates an examiner key
        assert session.passphrase is not None
        cert_pem, cert_key = load_signing_key(home, session.passphrase)
        if preview == "full":
            ui.warn(ui.t("report.full_preview_warning"))
        lang_doc = (
            ui.lang if lang else case.info.lang if case.info.lang in ("ko", "en") else ui.lang
        )
        options = ReportOptions(
            lang=lang_doc,
            preview=preview,
            items=tuple(items or ()),
            out=out,
            logo=logo,
            tsa=chosen,
            timeout=config.timeout,
        )
        with ui.progress() as progress:
            result = build_report(
                case, key, options, cert_pem=cert_pem, cert_key=cert_key, progress=progress
            )
        if ui.json_mode:
            ui.emit_json({"ok": result.verified_intact, "report": result.as_dict()})
        else:
            ui.say(
                "report.done",
                path=str(result.path),
                pages=result.pages,
                items=result.items,
                size=human_bytes(result.size),
            )
            ui.say("report.sha256", sha256=result.sha256, seq=result.entry.seq)
            if result.copy is not None:
                ui.say("report.copied", path=str(result.copy))
            if result.demo_tsa:
                ui.warn(ui.t("report.demo_tsa"))
            if not result.verified_intact:
                ui.warn(ui.t("report.not_intact"))
        return EXIT_OK if result.verified_intact else EXIT_INTEGRITY

    run_verb(ui, body)
