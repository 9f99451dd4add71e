"""``capture``: files, folders, chat exports, web pages and the screen into the case."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, _show_recovery, app
from forensic.cli.helptext import help_text
from forensic.cli.output import (
    QuietOpt,
    Ui,
    case_option,
    escape,
    human_bytes,
    make_ui,
    next_step,
    run_verb,
)
from forensic.errors import EXIT_OK, EXIT_OPERATIONAL

if TYPE_CHECKING:
    from forensic.capture.acquire import CaptureResult
    from forensic.service.capture import CaptureOutcome, FetchedCaptured, FilesCaptured
    from forensic.timestamp import TimestampResult


# -- capture -------------------------------------------------------------------------------
@app.command(help=help_text("verb.capture"))
def capture(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help=help_text("capture.paths"), metavar=help_text("meta.paths")),
    ] = None,
    hashes: Annotated[str | None, typer.Option("--hash", help=help_text("capture.hash"))] = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help=help_text("capture.follow_symlinks"))
    ] = False,
    note: Annotated[str | None, typer.Option("--note", help=help_text("capture.note"))] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help=help_text("capture.source_url"))
    ] = None,
    participant: Annotated[
        str | None, typer.Option("--participant", help=help_text("capture_seizure.participant"))
    ] = None,
    screen: Annotated[bool, typer.Option("--screen", help=help_text("capture.screen"))] = False,
    delay: Annotated[float, typer.Option("--delay", help=help_text("capture.delay"))] = 0.0,
    timeout: Annotated[float, typer.Option("--timeout", help=help_text("capture.timeout"))] = 30.0,
    no_ocr: Annotated[bool, typer.Option("--no-ocr", help=help_text("capture.no_ocr"))] = False,
    source: Annotated[
        str | None,
        typer.Option("--source", help=help_text("capture.source")),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help=help_text("capture.timezone")),
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Acquire files, folders, chat exports, web pages or the screen. / 파일과 폴더를 수집합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.capture.acquire import parse_hash_list
        from forensic.service.capture import CaptureSettings, capture_inputs
        from forensic.service.capture import capture as capture_case

        settings = CaptureSettings(
            hashes=parse_hash_list(hashes),
            follow_symlinks=follow_symlinks,
            note=note,
            source_url=source_url,
            participant=participant,
            source=source,
            timezone=timezone,
            delay=delay,
            timeout=timeout,
            ocr=not no_ocr,
        )
        session = ui.session(passphrase_file)
        with ui.progress() as progress:
            outcome = capture_case(
                session, capture_inputs(paths or [], screen), settings, progress, case_dir=case_dir
            )
        code = _report(ui, outcome)
        if code == EXIT_OK:
            stamped = outcome.stamped is not None and bool(outcome.stamped.tokens)
            key = "guide.next_capture_stamped" if stamped else "guide.next_capture"
            next_step(ui, quiet, key, case=case_option(case_dir))
        return code

    run_verb(ui, body)


def _report(ui: Ui, outcome: CaptureOutcome) -> int:
    """Render the outcome; a timestamp configuration problem is said after the capture."""
    from forensic.service.capture import FilesCaptured

    if isinstance(outcome, FilesCaptured):
        _render_files(ui, outcome)
    else:
        _render_fetched(ui, outcome)
    if outcome.timestamp_error is not None:
        ui.problem(f"forensic: {outcome.timestamp_error.diagnostics(ui.lang)}")
        return outcome.timestamp_error.exit_code
    return EXIT_OPERATIONAL if outcome.failed else EXIT_OK


def _report_capture(ui: Ui, result: CaptureResult, stamped: TimestampResult | None = None) -> None:
    """A file capture made elsewhere (the demo), shown like ``capture`` shows its own."""
    from forensic.service.capture import FilesCaptured

    _render_files(ui, FilesCaptured(result, stamped, None, ui.lang))


def _emit_streamed(doc: dict[str, object]) -> None:
    """The document ``ui.emit_json`` writes, written while it is encoded: lazy arrays are read
    one item at a time, never all held (100,000 files: 36 MB of text)."""
    chunks: list[str] = []
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(doc):
        chunks.append(chunk)
        if len(chunks) >= 4096:
            sys.stdout.write("".join(chunks))
            chunks.clear()
    sys.stdout.write("".join(chunks) + "\n")
    sys.stdout.flush()


def _render_files(ui: Ui, outcome: FilesCaptured) -> None:
    if ui.json_mode:
        _emit_streamed(outcome.as_dict())
        return
    result = outcome.result
    _show_recovery(ui, result.recovery)
    ui.say(
        "cli.captured",
        count=len(result.acquired),
        new=result.acquired.new_objects,
        bytes=human_bytes(result.acquired.total_size),
    )
    if result.links:
        ui.say("cli.capture_links", count=len(result.links))
    for line in outcome.screenshot_lines():
        ui.out.print(escape(line))
    if outcome.screenshots:
        ui.warn(ui.t("chat_shot.caveat"))
    for chat in outcome.chats():
        ui.out.print(escape(chat["summary"]))
        if chat["zone_warning"]:
            ui.warn(chat["zone_warning"])
    for f in outcome.failures():
        key = "cli.capture_skipped" if f["skipped"] else "cli.capture_failure"
        text = ui.t(key, path=f["path"], reason=f["message"])
        if f["skipped"]:
            ui.warn(text)
        else:
            ui.problem(text)
    if result.failed:
        ui.problem(ui.t("error.capture_failed", count=len(result.failed)))
    _render_stamped(ui, outcome.stamped)


def _render_fetched(ui: Ui, outcome: FetchedCaptured) -> None:
    if ui.json_mode:
        ui.emit_json(outcome.as_dict())
        return
    for attempt in outcome.attempts:
        if attempt.capture is None:
            ui.problem(f"forensic: {attempt.failure()['message']}")
            continue
        _show_recovery(ui, attempt.capture.recovery)
        for channel, text in attempt.said:
            if channel == "warn":
                ui.warn(text)
            else:
                ui.out.print(escape(text))
    _render_stamped(ui, outcome.stamped)


def _render_stamped(ui: Ui, stamped: TimestampResult | None) -> None:
    if stamped is not None:
        from forensic.timestamp import describe

        for line in describe(stamped, ui.lang):
            ui.out.print(escape(line))
