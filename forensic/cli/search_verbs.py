"""``forensic search`` and ``forensic ocr``, and the part of ``forensic capture`` that handles
web addresses and ``--screen`` (called from the ``capture`` verb in app.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from forensic.capture.ocr import ocr_items, search, tesseract_info
from forensic.capture.screen import capture_screen
from forensic.capture.web import WebOptions, capture_url, check_url
from forensic.case.case import Case
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
from forensic.cli.output import Ui, make_ui, run_verb
from forensic.custody.keys import ExaminerKey
from forensic.errors import EXIT_OK, EXIT_OPERATIONAL, ForensicError


def _ocr_quietly(ui: Ui, case: Case, key: ExaminerKey, item_ids: list[str]) -> list[dict[str, Any]]:
    """Read the text of freshly captured items; a missing tesseract is a warning, not a failure."""
    try:
        records = ocr_items(case, key, item_ids)
    except ForensicError as exc:
        if not ui.json_mode:
            ui.warn(exc.diagnostics(ui.lang))
        return [{"error": exc.key, "message": exc.diagnostics(ui.lang)}]
    return [
        {"sha256": r.item_id, "method": r.method, "chars": r.chars, "path": r.path}
        for r in records
        if r.skipped is None
    ]


def capture_web_and_screen(
    ui: Ui,
    case: Case,
    key: ExaminerKey,
    urls: list[str],
    screen: bool,
    delay: float,
    options: WebOptions,
    ocr: bool = True,
) -> int:
    """Capture each URL (one failing page does not stop the others), then the screen."""
    for url in urls:
        check_url(url)  # a malformed address is a usage error before anything is fetched
    doc: dict[str, Any] = {"ok": True, "web": [], "screen": None, "failures": []}
    failed = 0
    for url in urls:
        try:
            with ui.progress() as progress:
                result = capture_url(case, key, url, options, progress)
        except ForensicError as exc:
            failed += 1
            text = exc.diagnostics(ui.lang)
            doc["failures"].append({"url": url, "reason": exc.key, "message": text})
            if not ui.json_mode:
                ui.problem(f"forensic: {text}")
            continue
        warnings = [ui.t(k, **p) for k, p in result.warnings]
        entry: dict[str, Any] = {
            "url": url,
            "final_url": result.final_url,
            "http_status": result.status,
            "group": result.capture.group_id,
            "run": result.capture.run_id,
            "recovered": _show_recovery(ui, result.capture.recovery),
            "server": result.metadata["server"],
            "tls_problem": (result.metadata["tls"] or {}).get("problem"),
            "warnings": warnings,
            "items": [
                {
                    "sha256": a.item_id,
                    "name": a.path.decode().split(":", 1)[1],
                    "size": a.size,
                    "media_type": a.media_type,
                    "new_object": a.new_object,
                    "seq": a.seq,
                }
                for a in result.capture.acquired
            ],
            "limits": result.metadata["limits"],
        }
        if ocr:
            readable = [
                i["sha256"]
                for i in entry["items"]
                if i["name"] in ("screenshot.png", "rendered.html")
            ]
            entry["ocr"] = _ocr_quietly(ui, case, key, readable)
        doc["web"].append(entry)
        if not ui.json_mode:
            ui.say(
                "web.captured",
                url=url,
                final_url=result.final_url,
                status=result.status,
                count=len(entry["items"]),
                group=result.capture.group_id,
            )
            for item in entry["items"]:
                ui.out.print(escape(f"  {item['sha256']}  {item['name']}  {item['size']} B"))
            for text in warnings:
                ui.warn(text)
            ui.out.print(escape(ui.t("web.does_not_prove")))
    if screen:
        try:
            with ui.progress() as progress:
                shot = capture_screen(case, key, delay, progress, options.note)
        except ForensicError as exc:
            failed += 1
            text = exc.diagnostics(ui.lang)
            doc["failures"].append({"screen": True, "reason": exc.key, "message": text})
            if not ui.json_mode:
                ui.problem(f"forensic: {text}")
        else:
            doc["screen"] = {
                "sha256": shot.item_id,
                "width": shot.width,
                "height": shot.height,
                "group": shot.capture.group_id,
                "run": shot.capture.run_id,
                "seq": shot.capture.acquired[0].seq,
                "details": shot.details,
            }
            if ocr:
                doc["screen"]["ocr"] = _ocr_quietly(ui, case, key, [shot.item_id])
            ui.say("web.screen_captured", width=shot.width, height=shot.height, item=shot.item_id)
    doc["ok"] = failed == 0
    if ui.json_mode:
        ui.emit_json(doc)
    return EXIT_OPERATIONAL if failed else EXIT_OK


@app.command("ocr")
def ocr_verb(
    items: Annotated[
        list[str] | None, typer.Argument(help="Items (SHA-256 or prefix); default: all unread.")
    ] = None,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Read Korean and English text from images and pages (derived data). / 글자 읽기(OCR)."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        key, _ = _unlock_existing(ui, passphrase_file)
        records = ocr_items(case, key, list(items or []))
        read = [r for r in records if r.skipped is None]
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "read": [
                        {"sha256": r.item_id, "method": r.method, "chars": r.chars, "path": r.path}
                        for r in read
                    ],
                    "skipped": [
                        {"sha256": r.item_id, "media_type": r.skipped}
                        for r in records
                        if r.skipped is not None
                    ],
                }
            )
            return EXIT_OK
        for r in records:
            if r.skipped is None:
                ui.say("web.ocr_item", item=r.item_id, chars=r.chars, method=r.method)
            elif items:
                ui.warn(ui.t("web.ocr_skipped", item=r.item_id, reason=r.skipped))
        ui.say("web.ocr_done", count=len(read), empty=sum(1 for r in read if r.chars == 0))
        return EXIT_OK

    run_verb(ui, body)


@app.command("search")
def search_verb(
    text: Annotated[str, typer.Argument(help="Text to find (Korean or English).")],
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find items by the text read from them or by source, URL and note. / 글자로 증거 찾기."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        hits = search(case, text)
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "query": text,
                    "hits": [
                        {
                            "sha256": h.item_id,
                            "kind": h.kind,
                            "field": h.field,
                            "snippet": h.snippet,
                            "media_type": h.media_type,
                            "source": h.source,
                        }
                        for h in hits
                    ],
                }
            )
            return EXIT_OK
        if not hits:
            ui.say("web.search_none", text=text)
            return EXIT_OK
        for h in hits:
            if h.kind == "message":
                ui.say("web.search_message", chat=h.field, source=h.source, snippet=h.snippet)
            else:
                ui.say("web.search_hit", item=h.item_id, source=h.source, snippet=h.snippet)
        return EXIT_OK

    run_verb(ui, body)


__all__ = ["capture_web_and_screen", "tesseract_info"]
