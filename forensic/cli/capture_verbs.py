"""``capture``: files, folders, chat exports, web pages and the screen into the case."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.markup import escape

from forensic._internal.paths import display
from forensic.capture import CaptureOptions, CaptureResult, capture_paths, parse_hash_list
from forensic.capture.web import WebOptions, WebUsageError, is_web_url
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
)
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.errors import (
    EXIT_OK,
    EXIT_OPERATIONAL,
    ForensicError,
    UsageError,
)
from forensic.timestamp import (
    TimestampResult,
    describe,
    stamp_after_write,
)


# -- capture -------------------------------------------------------------------------------
@app.command()
def capture(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files, folders, or http(s):// addresses.")
    ] = None,
    hashes: Annotated[
        str | None, typer.Option("--hash", help="Extra hashes: md5,sha1,sha512 (SHA-256 always).")
    ] = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Acquire link targets inside the tree.")
    ] = False,
    note: Annotated[str | None, typer.Option("--note", help="Examiner's note.")] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="Where the evidence was found.")
    ] = None,
    screen: Annotated[
        bool, typer.Option("--screen", help="Capture what is on the screen now.")
    ] = False,
    delay: Annotated[float, typer.Option("--delay", help="Seconds to wait before --screen.")] = 0.0,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds a web page may take to load.")
    ] = 30.0,
    no_ocr: Annotated[
        bool, typer.Option("--no-ocr", help="Do not read text from web and screen captures.")
    ] = False,
    source: Annotated[
        str | None,
        typer.Option("--source", help="telegram | kakaotalk | files (default: detected)."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="Zone of chat times written without one (default Asia/Seoul)."
        ),
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Acquire files, folders, chat exports, web pages or the screen. / 파일과 폴더를 수집합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        urls = [p for p in paths or [] if is_web_url(p)]
        if urls or screen:
            # search_verbs registers its own verbs on this app, hence the late import.
            from forensic.cli.search_verbs import capture_web_and_screen

            if len(urls) != len(paths or []):
                raise WebUsageError("mixed_inputs")
            case = _open_case(ui, case_dir)
            key, _ = _unlock_existing(ui, passphrase_file)
            web = WebOptions(timeout=timeout, note=note)
            code = capture_web_and_screen(ui, case, key, urls, screen, delay, web, ocr=not no_ocr)
            stamped = stamp_after_write(case, key)
            if stamped is not None and not ui.json_mode:
                for line in describe(stamped, ui.lang):
                    ui.out.print(escape(line))
            return code
        if not paths:
            raise UsageError("no_paths")
        options = CaptureOptions(
            hashes=parse_hash_list(hashes),
            follow_symlinks=follow_symlinks,
            note=note,
            source_url=source_url,
            source=source,
            timezone=timezone,
        )
        case = _open_case(ui, case_dir)
        key, _ = _unlock_existing(ui, passphrase_file)
        with ui.progress() as progress:
            result = capture_paths(case, key, [os.fsencode(p) for p in paths], options, progress)
        # Trusted time for the new log head when TSAs are configured (failures are queued).
        try:
            stamped = stamp_after_write(case, key)
        except ForensicError as exc:
            # The capture is committed; a timestamp configuration problem must not hide that.
            stamped = None
            _report_capture(ui, result, None)
            ui.problem(f"forensic: {exc.diagnostics(ui.lang)}")
            return exc.exit_code
        _report_capture(ui, result, stamped)
        return EXIT_OPERATIONAL if result.failed else EXIT_OK

    run_verb(ui, body)


class _AcquiredJson(list[dict[str, Any]]):
    """The ``acquired`` array of ``capture --json``, made item by item while it is encoded.

    A list only to the JSON encoder (which with ``indent`` is the pure-Python one: it asks for
    the length, then iterates); it holds nothing itself.
    """

    def __init__(self, result: CaptureResult) -> None:
        super().__init__()
        self.result = result

    def __len__(self) -> int:
        return len(self.result.acquired)

    def __bool__(self) -> bool:
        return bool(self.result.acquired)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for a in self.result.acquired:
            yield {
                "sha256": a.item_id,
                "size": a.size,
                "media_type": a.media_type,
                "path": display(a.path),
                "new_object": a.new_object,
                "seq": a.seq,
                "hashes": a.hashes,
            }


def _report_capture(ui: Ui, result: CaptureResult, stamped: TimestampResult | None = None) -> None:
    recovery = _show_recovery(ui, result.recovery)
    failures = [
        {
            "path": display(f.path),
            "reason": f.reason,
            "message": ui.t(f"reason.{f.reason}", **f.params),
            "skipped": f.skipped,
        }
        for f in result.failures
    ]
    if ui.json_mode:
        doc = {
            "ok": not result.failed,
            "run": result.run_id,
            "recovered": recovery,
            "acquired": _AcquiredJson(result),
            "links": [display(link.path) for link in result.links],
            "groups": [g.group_id for g in result.groups],
            "failures": failures,
            "timestamp": stamped.as_dict() if stamped is not None else None,
        }
        # The same document ``ui.emit_json`` writes, written as it is encoded: the acquired
        # items are read back one at a time, never all held (100,000 files: 36 MB of text).
        chunks: list[str] = []
        for chunk in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(doc):
            chunks.append(chunk)
            if len(chunks) >= 4096:
                sys.stdout.write("".join(chunks))
                chunks.clear()
        sys.stdout.write("".join(chunks) + "\n")
        sys.stdout.flush()
        return
    ui.say(
        "cli.captured",
        count=len(result.acquired),
        new=result.acquired.new_objects,
        bytes=human_bytes(result.acquired.total_size),
    )
    if result.links:
        ui.say("cli.capture_links", count=len(result.links))
    for f in failures:
        key = "cli.capture_skipped" if f["skipped"] else "cli.capture_failure"
        text = ui.t(key, path=f["path"], reason=f["message"])
        if f["skipped"]:
            ui.warn(text)
        else:
            ui.problem(text)
    if result.failed:
        ui.problem(ui.t("error.capture_failed", count=len(result.failed)))
    if stamped is not None:
        for line in describe(stamped, ui.lang):
            ui.out.print(escape(line))
