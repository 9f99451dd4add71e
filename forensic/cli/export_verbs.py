"""``forensic export``: the case as a sealed BagIt bag (folder or zip) that verifies anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.case import Case, discover_case
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.errors import EXIT_OK


@app.command()
def export(
    out: Annotated[
        Path | None, typer.Option("--out", help="Destination folder, or a file ending in .zip.")
    ] = None,
    hash_list: Annotated[
        Path | None,
        typer.Option(
            "--hash-list",
            help="Instead of a bag: a takedown hash list (SHA-256, MD5, PDQ, vPDQ per item), "
            "FILE.csv or FILE.json. See docs/media-av.md.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing destination.")
    ] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help="Encrypted case: also write each item's plaintext (asks the passphrase; "
            "logged as a decryption).",
        ),
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Export the case as a sealed BagIt bag. / 사건을 봉인된 BagIt 묶음으로 반출합니다.

    The bag holds the custody log up to the entry before the export; the export is then logged.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.export import export_case

        if hash_list is not None:
            return _hash_list(ui, case_dir, passphrase_file, hash_list, out, force)
        if out is None:
            from forensic.media.matching import MediaAvUsageError

            raise MediaAvUsageError("out_required")
        case = Case.open(discover_case(case_dir), ui.session(passphrase_file))
        key = case.session.unlock()
        if decrypt and case.store.crypto is not None:
            case.check_key(key)
            case.store.crypto.identity()  # a wrong passphrase fails before any writing
        with ui.progress() as progress:
            result = export_case(case, key, out, force=force, progress=progress, decrypt=decrypt)
        if ui.json_mode:
            ui.emit_json({"ok": True, "export": result.as_dict()})
            return EXIT_OK
        if result.recovered:
            ui.warn(ui.t("export.recovered"))
        ui.say(
            "export.done",
            case_id=case.info.case_id,
            path=str(result.destination),
            files=result.files,
            bytes=human_bytes(result.bytes),
        )
        ui.say("export.manifest", manifest=result.manifest_sha256, tag=result.tagmanifest_sha256)
        ui.say(
            "export.logged",
            seq=result.entry.seq,
            head_seq=result.log_head_seq,
            head=result.log_head,
        )
        ui.say("export.check", name=result.bag_name)
        if decrypt:
            ui.warn(ui.t("crypt.export_plaintext_warning", path=str(result.destination)))
        return EXIT_OK

    run_verb(ui, body)


def _hash_list(
    ui: Ui,
    case_dir: Path | None,
    passphrase_file: Path | None,
    target: Path,
    out: Path | None,
    force: bool,
) -> int:
    """``export --hash-list FILE``: write the takedown hash list and log the export."""
    from forensic.case.case import tool_record
    from forensic.custody import PendingEntry
    from forensic.media.matching import MediaAvUsageError
    from forensic.media.perceptual import library_versions, store_perceptual, write_hash_list

    if out is not None:
        raise MediaAvUsageError("hash_list_with_out")
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise MediaAvUsageError("hash_list_format", path=str(target))
    if target.exists() and not force:
        raise MediaAvUsageError("hash_list_exists", path=str(target))
    case = Case.open(discover_case(case_dir), ui.session(passphrase_file))
    key = case.session.unlock()
    case.check_key(key)
    with ui.progress() as progress:
        store_perceptual(case, key, list(case.items()), progress)
    result = write_hash_list(case, target, fmt)
    details = {
        "hash_list": {k: result[k] for k in ("path", "format", "sha256", "size")},
        "items": result["items"],
        "with_pdq": result["with_pdq"],
        "with_vpdq": result["with_vpdq"],
        "record_problems": result["problems"],
        "tool": {**tool_record(), "libraries": library_versions()},
    }
    with case.writing(key):
        [entry] = case.record(
            key, [PendingEntry("export-hash-list", f"case:{case.info.case_id}", details)]
        )
    if ui.json_mode:
        ui.emit_json({"ok": True, "hash_list": {**result, "log_entry": entry.seq}})
        return EXIT_OK
    for problem in result["problems"]:
        ui.warn(ui.t("media_av.record_problem", problem=problem))
    ui.say(
        "media_av.hash_list_done",
        count=result["items"],
        path=result["path"],
        sha256=result["sha256"],
    )
    ui.say("media_av.hash_list_note")
    ui.say("media_av.logged", seq=entry.seq)
    return EXIT_OK
