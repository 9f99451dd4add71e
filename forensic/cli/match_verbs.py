"""``forensic match``: which captured items are near-duplicates of given photos (PDQ / vPDQ)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _open_case,
    _unlock,
    app,
)
from forensic.cli.output import Ui, make_ui, run_verb
from forensic.errors import EXIT_OK
from forensic.media.matching import DEFAULT_THRESHOLD

ThresholdOpt = Annotated[
    int,
    typer.Option(
        "--threshold",
        help=f"Largest PDQ distance (bits of 256) reported as a near-duplicate "
        f"(default {DEFAULT_THRESHOLD}, measured: docs/media-av.md).",
    ),
]


@app.command()
def match(
    photos: Annotated[
        list[Path] | None,
        typer.Argument(help="Photos to look for (read here, never acquired, never sent)."),
    ] = None,
    within: Annotated[
        bool, typer.Option("--within", help="Also find near-duplicates among the case's items.")
    ] = False,
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find near-duplicates of photos among captured items (PDQ). / 유사 사진 찾기.

    Finds re-uploads, recompressions, rescales, crops, rotations and mirror images of the given
    photos among the case's images and video frames. The photos are read and hashed on this
    machine only; they are not added to the case. Items without perceptual hashes get them
    first (logged as `perceptual` entries); the search is logged as a `match` entry that names
    the query photos by SHA-256 only.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.custody import PendingEntry
        from forensic.media.matching import (
            MatchReport,
            MediaAvUsageError,
            load_candidates,
            match_queries,
            match_within,
            read_query,
        )
        from forensic.media.perceptual import MediaReadError, library_versions, store_perceptual

        if not photos and not within:
            raise MediaAvUsageError("no_query")
        if not 0 <= threshold <= 256:
            raise MediaAvUsageError("threshold_range", value=threshold)
        case = _open_case(ui, case_dir)
        key, _ = _unlock(ui, passphrase_file)
        queries = []
        unreadable = []
        for photo in photos or []:
            try:
                queries.append(read_query(photo))
            except MediaReadError as exc:
                unreadable.append({"path": str(photo), "reason": str(exc)})
                ui.warn(ui.t("media_av.query_unreadable", path=str(photo), reason=str(exc)))
        items = case.items()
        with ui.progress() as progress:
            run = store_perceptual(case, key, list(items), progress)
        for stored in run.stored:
            for warning in stored.record.get("warnings", []):
                ui.warn(ui.t("media_av.item_warning", item=stored.item_id[:12], warning=warning))
        candidates, problems = load_candidates(case)
        for problem in problems:
            ui.warn(ui.t("media_av.record_problem", problem=problem))
        report = match_queries(queries, candidates, threshold)
        inside: MatchReport | None = match_within(candidates, threshold) if within else None
        details: dict[str, Any] = {
            "queries": [
                {"sha256": q.sha256, "quality": q.quality, "variants": len(q.variants)}
                for q in queries
            ],
            "queries_unreadable": len(unreadable),
            "acquired": False,
            "threshold": threshold,
            "within": within,
            "compared": report.compared + (inside.compared if inside else 0),
            "matches": [_log_match(m.as_dict(), queries) for m in report.matches],
            "tool": {**_tool(), "libraries": library_versions()},
        }
        if inside is not None:
            details["within_matches"] = [m.as_dict() for m in inside.matches]
        with case.writing(key):
            [entry] = case.record(
                key, [PendingEntry("match", f"case:{case.info.case_id}", details)]
            )
        names: dict[str, str | None] = {str(i): _name(it) for i, it in items.items()}
        if ui.json_mode:
            doc: dict[str, Any] = {
                "ok": True,
                "acquired": False,
                "threshold": threshold,
                "queries": [
                    {"path": q.name, "sha256": q.sha256, "quality": q.quality} for q in queries
                ],
                "unreadable": unreadable,
                "perceptual": {
                    "computed": [s.item_id for s in run.stored],
                    "already": len(run.already),
                    "not_media": len(run.not_media),
                },
                "compared": report.compared,
                "matches": [{**m.as_dict(), "name": names.get(m.item_id)} for m in report.matches],
                "not_comparable": report.not_comparable,
                "record_problems": problems,
                "log_entry": entry.seq,
            }
            if inside is not None:
                doc["within"] = {
                    "compared": inside.compared,
                    "matches": [
                        {
                            **m.as_dict(),
                            "query_name": names.get(m.query),
                            "name": names.get(m.item_id),
                        }
                        for m in inside.matches
                    ],
                    "not_comparable": inside.not_comparable,
                }
            ui.emit_json(doc)
            return EXIT_OK
        ui.say("media_av.not_acquired")
        if run.stored:
            ui.say(
                "media_av.hashed",
                count=len(run.stored),
                seqs=", ".join(str(s.seq) for s in run.stored),
            )
        for q in queries:
            if q.quality < 50:
                ui.warn(ui.t("media_av.low_quality_query", name=q.name, quality=q.quality))
        low_items = sum(1 for n in report.not_comparable if "item" in n)
        if low_items:
            ui.warn(ui.t("media_av.low_quality_items", count=low_items))
        if queries:
            _show(ui, report, names, threshold, query_names=None)
        if inside is not None:
            ui.say("media_av.within_title")
            _show(ui, inside, names, threshold, query_names=names)
        ui.say("media_av.logged", seq=entry.seq)
        return EXIT_OK

    run_verb(ui, body)


def _tool() -> dict[str, Any]:
    from forensic.case.case import tool_record

    return tool_record()


def _log_match(match: dict[str, Any], queries: list[Any]) -> dict[str, Any]:
    """The log names a query photo by its SHA-256, never by its path."""
    by_name = {q.name: q.sha256 for q in queries}
    return {**match, "query": by_name.get(match["query"], match["query"])}


def _name(item: Any) -> str | None:
    for acq in item.acquisitions:
        if acq.source_path:
            return str(acq.source_path).replace("\\", "/").rsplit("/", 1)[-1]
    return None


def _show(
    ui: Ui,
    report: Any,
    names: dict[str, str | None],
    threshold: int,
    query_names: dict[str, str | None] | None,
) -> None:
    if not report.matches:
        ui.say("media_av.no_matches", threshold=threshold, compared=report.compared)
        return
    ui.say("media_av.found", count=len(report.matches), threshold=threshold)
    table = Table(show_lines=False)
    for col in ("query", "item", "name", "kind", "distance", "quality", "transform", "time"):
        table.add_column(ui.t(f"media_av.col_{col}"), overflow="fold")
    for m in report.matches:
        query = (
            f"{m.query[:12]} {query_names.get(m.query) or ''}".strip()
            if query_names is not None
            else Path(m.query).name
        )
        when = ""
        if m.kind == "video" and m.seconds is not None:
            when = f"{m.seconds:.1f} s ({m.frames_matched}/{m.frames_compared})"
        table.add_row(
            escape(query),
            m.item_id[:10],
            escape(names.get(m.item_id) or ""),
            m.kind,
            str(m.distance),
            f"{m.query_quality}/{m.item_quality}",
            escape(m.transform),
            when,
        )
    ui.out.print(table)
