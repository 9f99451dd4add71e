"""``forensic match``: which captured items are near-duplicates of given photos (PDQ / vPDQ)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, escape, make_ui, new_table, run_verb
from forensic.errors import EXIT_OK
from forensic.service.matching import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from collections.abc import Mapping

    from forensic.media.matching import MatchReport
    from forensic.service.matching import MatchResult

ThresholdOpt = Annotated[
    int,
    typer.Option(
        "--threshold",
        help=help_text("match.threshold", threshold=DEFAULT_THRESHOLD),
    ),
]


@app.command(help=help_text("verb.match"))
def match(
    photos: Annotated[
        list[Path] | None,
        typer.Argument(help=help_text("match.photos"), metavar=help_text("meta.photos")),
    ] = None,
    within: Annotated[bool, typer.Option("--within", help=help_text("match.within"))] = False,
    face: Annotated[bool, typer.Option("--face", help=help_text("match_face.face"))] = False,
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    face_threshold: Annotated[
        float | None,
        typer.Option("--face-threshold", help=help_text("match_face.threshold")),
    ] = None,
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
    if face or face_threshold is not None:

        def face_body() -> int:
            from forensic.media.face_prints import FaceQueryError

            if within or not face:
                raise FaceQueryError("face_options")
            return _face_body(ui, photos or [], face_threshold, case_dir, passphrase_file)

        run_verb(ui, face_body)
        return

    def body() -> int:
        from forensic.service.matching import find_matches

        with ui.progress() as progress:
            result = find_matches(
                ui.session(passphrase_file),
                photos or (),
                within=within,
                threshold=threshold,
                case_dir=case_dir,
                progress=progress,
            )
        _warn(ui, result)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        ui.say("media_av.not_acquired")
        if result.perceptual.stored:
            seqs = ", ".join(str(s.seq) for s in result.perceptual.stored)
            ui.say("media_av.hashed", count=len(result.perceptual.stored), seqs=seqs)
        for q in result.queries:
            if q.quality < 50:
                ui.warn(ui.t("media_av.low_quality_query", name=q.name, quality=q.quality))
        low_items = sum(1 for n in result.found.not_comparable if "item" in n)
        if low_items:
            ui.warn(ui.t("media_av.low_quality_items", count=low_items))
        if result.queries:
            _show(ui, result.found, result.names, threshold, query_names=None)
        if result.within is not None:
            ui.say("media_av.within_title")
            _show(ui, result.within, result.names, threshold, query_names=result.names)
        ui.say("media_av.logged", seq=result.entry.seq)
        return EXIT_OK

    run_verb(ui, body)


def _warn(ui: Ui, result: MatchResult) -> None:
    """What was skipped or could not be used: on stderr, with ``--json`` too."""
    for unreadable in result.unreadable:
        ui.warn(ui.t("media_av.query_unreadable", path=unreadable.path, reason=unreadable.reason))
    for item, warning in result.item_warnings():
        ui.warn(ui.t("media_av.item_warning", item=item[:12], warning=warning))
    for problem in result.record_problems:
        ui.warn(ui.t("media_av.record_problem", problem=problem))


def _show(
    ui: Ui,
    report: MatchReport,
    names: Mapping[str, str | None],
    threshold: int,
    query_names: Mapping[str, str | None] | None,
) -> None:
    if not report.matches:
        ui.say("media_av.no_matches", threshold=threshold, compared=report.compared)
        return
    ui.say("media_av.found", count=len(report.matches), threshold=threshold)
    table = new_table(show_lines=False)
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


def _face_body(
    ui: Ui,
    photos: list[Path],
    threshold: float | None,
    case_dir: Path | None,
    passphrase_file: Path | None,
) -> int:
    """``match --face``: the ranked items with a face like the one in each photo."""
    from forensic.service.matching import find_face_matches

    with ui.progress() as progress:
        result = find_face_matches(
            ui.session(passphrase_file),
            photos,
            threshold=threshold,
            case_dir=case_dir,
            progress=progress,
            lang=ui.lang,
        )
    for problem in result.record_problems:
        ui.warn(ui.t("face_match.record_problem", problem=problem))
    if ui.json_mode:
        ui.emit_json(result.as_dict())
        return EXIT_OK
    ui.say("face_match.not_acquired")
    if result.computed:
        ui.say("face_match.described", count=len(result.computed))
    m = result.as_dict()["measured"]
    ui.say(
        "face_match.measured",
        threshold=result.threshold,
        false=m["false_matches"],
        pairs=m["different_pairs"],
        same=m["copy_matched"],
        same_pairs=m["copy_pairs"],
    )
    c = result.comparison
    if not c.matches:
        ui.say("face_match.none", compared=c.compared, faces=c.faces_in_case)
    else:
        ui.say("face_match.found", count=len(c.matches), threshold=result.threshold)
        table = new_table(show_lines=False)
        for col in ("rank", "item", "name", "face", "distance", "crop"):
            table.add_column(ui.t(f"face_match.col_{col}"), overflow="fold")
        for rank, fm in enumerate(c.matches, start=1):
            table.add_row(
                str(rank),
                fm.item_id[:10],
                escape(result.names.get(fm.item_id) or ""),
                str(fm.face),
                f"{fm.distance:.3f}",
                escape(fm.crop),
            )
        ui.out.print(table)
    ui.say("media_av.logged", seq=result.entry.seq)
    return EXIT_OK
