"""``forensic analyze``: metadata records (``--metadata``) and detection findings (``--detect``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from forensic.analysis.errors import AnalysisUsageError
from forensic.analysis.store import ANALYSIS_DIR, analyze_items
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
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK
from forensic.media import metadata_lines, store_metadata
from forensic.media.record import load_record


@app.command()
def analyze(
    items: Annotated[
        list[str] | None, typer.Argument(help="Items (SHA-256 or a unique prefix).")
    ] = None,
    metadata: Annotated[
        bool, typer.Option("--metadata", help="Record image/media metadata (EXIF, XMP, C2PA…).")
    ] = False,
    detect: Annotated[
        bool,
        typer.Option(
            "--detect",
            help=(
                "Run the detectors (provenance, JPEG, JPEG grid, resampling, pixel maps, "
                "spectrum, faces, copy-move, video, optional ONNX) and record their findings."
            ),
        ),
    ] = False,
    all_items: Annotated[
        bool, typer.Option("--all", help="Every item, even those that already have a record.")
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Analyse items and record the results in the case. / 증거를 분석하고 기록합니다.

    Without ITEMs and --all: the items that have no metadata record (--metadata) or no
    detection findings (--detect) yet.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        if not metadata and not detect:
            raise AnalysisUsageError("no_mode")
        case = _open_case(ui, case_dir)
        entries = case.entries()
        if items:
            chosen = [str(case.resolve_item(i, entries).item_id) for i in items]
        else:
            chosen = [str(i) for i in case.items(entries)]
        chosen = list(dict.fromkeys(chosen))
        meta_ids = (
            chosen if items or all_items else [i for i in chosen if load_record(case, i) is None]
        )
        detect_ids = (
            chosen
            if items or all_items
            else [
                i
                for i in chosen
                if not (case.root / ANALYSIS_DIR / i / "provenance.json").is_file()
            ]
        )
        meta_ids = meta_ids if metadata else []
        detect_ids = detect_ids if detect else []
        key, _ = _unlock_existing(ui, passphrase_file)
        recovered = None
        done = []
        analysed = []
        if meta_ids or detect_ids:
            with case.writing(key) as report, ui.progress() as progress:
                recovered = _show_recovery(ui, report)
                if meta_ids:
                    done = store_metadata(case, key, meta_ids, progress)
                if detect_ids:
                    analysed = analyze_items(case, key, detect_ids, progress)
        if ui.json_mode:
            doc: dict[str, object] = {"ok": True, "recovered": recovered}
            if metadata:
                doc["metadata"] = [
                    {"seq": entry.seq, "record": record.as_dict()} for record, entry in done
                ]
            if detect:
                doc["analysis"] = [
                    {
                        "seq": entry.seq,
                        "item": a.item_id,
                        "media_type": a.media_type,
                        "not_applicable": a.not_applicable,
                        "detectors": a.docs,
                        "files": a.files,
                    }
                    for a, entry in analysed
                ]
            ui.emit_json(doc)
            return EXIT_OK
        if metadata:
            _print_metadata(ui, done)
        if detect:
            _print_analysis(ui, analysed)
        return EXIT_OK

    run_verb(ui, body)


def _print_metadata(ui: Any, done: list[Any]) -> None:
    if not done:
        ui.say("media.nothing")
        return
    for record, _entry in done:
        ui.say(
            "media.analyzed_item",
            item=record.item_id[:16],
            media_type=record.media_type,
            warnings=len(record.warnings),
        )
        for label, value in metadata_lines(record.as_dict(), ui.lang):
            ui.out.print(f"  {escape(label)}: {escape(value)}")
    ui.say("media.analyzed", count=len(done), entries=", ".join(str(e.seq) for _r, e in done))


def _print_analysis(ui: Any, analysed: list[Any]) -> None:
    if not analysed:
        ui.say("analysis.nothing")
        return
    lang = "ko" if ui.lang == "ko" else "en"
    for a, _entry in analysed:
        ui.say("analysis.analyzed_item", item=a.item_id[:16], media_type=a.media_type)
        for doc in a.docs.values():
            for f in doc["findings"]:
                ui.say(
                    "analysis.finding",
                    status=ui.t(f"analysis.status_{f['status']}"),
                    signal=f["signal"],
                    text=f["indicates"][lang],
                )
        if a.not_applicable:
            ui.say(
                "analysis.not_applicable",
                media_type=a.media_type,
                detectors=", ".join(a.not_applicable),
            )
    ui.say(
        "analysis.analyzed",
        count=len(analysed),
        entries=", ".join(str(e.seq) for _a, e in analysed),
    )
