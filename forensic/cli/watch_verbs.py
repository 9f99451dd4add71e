"""``forensic watch URL...``, ``forensic watch status`` and ``forensic takedown``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, make_ui, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from forensic.capture.watch import Check
    from forensic.service.watching import WatchStatus


def _check_line(ui: Ui, check: Check, zone: str) -> None:
    from forensic._internal.clock import local_and_utc

    ui.say(
        "watch.check",
        time=local_and_utc(check.started, zone).text(),
        state=ui.t(f"watch.state_{check.state}"),
        url=check.url,
        reason=f" ({check.reason})" if check.reason else "",
    )
    if check.group:
        ui.say("watch.captured", group=check.group)


def _status(ui: Ui, status: WatchStatus) -> None:
    from forensic._internal.clock import local_and_utc

    if ui.json_mode:
        ui.emit_json(status.as_dict())
        return
    if not status.urls:
        ui.say("watch.none")
    for timeline in status.urls:
        ui.say("watch.url", url=timeline.url, checks=timeline.checks)
        for span in timeline.spans:
            tok = span.covered_by
            trusted = (
                ui.t("watch.trusted", tsa=str(tok.get("tsa")),
                     time=local_and_utc(str(tok.get("gen_time")), status.zone).text())
                if tok else ui.t("watch.untrusted")
            )  # fmt: skip
            ui.say(
                "watch.span",
                state=ui.t(f"watch.state_{span.state}"),
                start=local_and_utc(span.first.started, status.zone).text(),
                end=local_and_utc(span.last.started, status.zone).text(),
                trusted=trusted,
            )
    if status.plan is not None:
        ui.say("watch.plan_open", plan=status.plan.plan_id, urls=len(status.plan.urls))


@app.command("watch", help=help_text("watch_verb.main"))
def watch_verb(
    urls: Annotated[
        list[str] | None,
        typer.Argument(help=help_text("watch_verb.urls"), show_default=False, metavar="URL"),
    ] = None,
    every: Annotated[str, typer.Option("--every", help=help_text("watch_verb.every"))] = "6h",
    until: Annotated[
        str | None, typer.Option("--until", help=help_text("watch_verb.until"))
    ] = None,
    once: Annotated[bool, typer.Option("--once", help=help_text("watch_verb.once"))] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help=help_text("watch_verb.timeout"))
    ] = 30.0,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.capture.watch import parse_every
        from forensic.service.opening import open_case
        from forensic.service.watching import (
            WatchSettings,
            WatchUsageError,
            parse_until,
            watch,
            watch_status,
        )

        given = list(urls or [])
        if given == ["status"]:
            _status(ui, watch_status(ui.session(passphrase_file), case_dir))
            return EXIT_OK
        seconds = parse_every(every)
        if seconds is None:
            raise WatchUsageError("bad_every", value=every)
        zone = open_case(ui.session(passphrase_file), case_dir).info.timezone
        settings = WatchSettings(
            every_seconds=seconds, until=parse_until(until, zone), once=once, timeout=timeout
        )
        run = watch(
            ui.session(passphrase_file),
            given,
            settings,
            case_dir=case_dir,
            on_check=lambda c: _check_line(ui, c, zone),
        )
        if ui.json_mode:
            ui.emit_json(run.as_dict())
            return EXIT_OK
        if run.ended:
            ui.say(f"watch.ended_{run.ended}")
        if run.timestamp_error:
            ui.warn(run.timestamp_error)
        return EXIT_OK

    run_verb(ui, body)


@app.command("takedown", help=help_text("takedown_verb.main"))
def takedown_verb(
    to: Annotated[str, typer.Option("--to", help=help_text("takedown_verb.to"))],
    out: Annotated[Path, typer.Option("--out", help=help_text("takedown_verb.out"))],
    items: Annotated[
        list[str] | None, typer.Option("--items", help=help_text("takedown_verb.items"))
    ] = None,
    urls: Annotated[
        list[str] | None, typer.Option("--urls", help=help_text("takedown_verb.urls"))
    ] = None,
    recipient_key: Annotated[
        str | None,
        typer.Option("--recipient-key", help=help_text("takedown_verb.recipient_key")),
    ] = None,
    plaintext: Annotated[
        bool, typer.Option("--plaintext", help=help_text("takedown_verb.plaintext"))
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.takedown import takedown

        def split(values: list[str] | None, pattern: str = ",") -> list[str]:
            parts = (v.strip() for value in values or [] for v in re.split(pattern, value))
            return [v for v in parts if v]

        with ui.progress() as progress:
            result = takedown(
                ui.session(passphrase_file),
                to,
                split(items),
                split(urls, r",(?=https?://)"),  # a comma inside a URL stays
                out,
                age_recipient=recipient_key,
                plaintext=plaintext,
                case_dir=case_dir,
                progress=progress,
            )
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        p = result.package
        ui.say("takedown.written", id=p.tracking_id, folder=p.folder, zip=p.zip_path)
        ui.say("takedown.counts", items=len(p.items), urls=len(p.urls), files=len(p.files))
        for warning in result.warnings:
            ui.warn(ui.t(f"takedown.warn_{warning}"))
        ui.say("takedown.not_sent")
        return EXIT_OK

    run_verb(ui, body)
