"""Verbs of the ``forensic`` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from forensic import __version__
from forensic._internal.paths import display
from forensic.capture import CaptureOptions, CaptureResult, capture_paths, parse_hash_list
from forensic.capture.transcript import transcript_context
from forensic.capture.web import WebOptions, WebUsageError, is_web_url
from forensic.case import Case, RecoveryReport, discover_case
from forensic.case.lock import case_lock
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.custody import config_home
from forensic.custody.keys import ExaminerKey, read_key_record
from forensic.errors import (
    EXIT_INTEGRITY,
    EXIT_OK,
    EXIT_OPERATIONAL,
    CaseError,
    ForensicError,
    KeyringError,
    UsageError,
)
from forensic.i18n import message, resolve_lang
from forensic.media import load_record, metadata_lines
from forensic.store.crypt import CryptError
from forensic.timestamp import (
    TimestampResult,
    describe,
    first_covering_token,
    stamp_after_write,
)
from forensic.verify import VerificationReport, record_verification, verify_case

app = typer.Typer(
    name="forensic",
    help=message("cli.help", resolve_lang()),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="Examiner key / 조사자 키", no_args_is_help=True)
app.add_typer(key_app, name="key")

JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
LangOpt = Annotated[
    str | None, typer.Option("--lang", help="ko or en (else FORENSIC_LANG, else the locale).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")]
CaseOpt = Annotated[
    Path | None,
    typer.Option("--case", help="Case folder (else FORENSIC_CASE, else this folder or a parent)."),
]
PassOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the key passphrase from this file."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forensic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """forensic: preserve digital evidence so that it holds up in court."""


def _unlock(ui: Ui, passphrase_file: Path | None) -> tuple[ExaminerKey, bool]:
    """The examiner key; only ``init`` and the ``key`` verbs create one."""
    return ui.session(passphrase_file).unlock(), False


_unlock_existing = _unlock


def _open_case(ui: Ui, case_dir: Path | None) -> Case:
    return Case.open(discover_case(case_dir), ui.session())


def _show_recovery(ui: Ui, report: RecoveryReport) -> dict[str, Any] | None:
    if report.empty:
        return None
    doc = {
        "torn_log_bytes": report.torn_log_bytes,
        "partial_files": list(report.partial_files),
        "quarantined_objects": list(report.quarantined_objects),
        "interrupted_runs": [r.get("run") for r in report.interrupted_runs],
        "finished_runs": list(report.finished_runs),
    }
    if not ui.json_mode:
        parts = []
        if report.torn_log_bytes:
            parts.append(f"{report.torn_log_bytes} bytes of an unsigned log tail set aside")
        if report.partial_files:
            parts.append(f"{len(report.partial_files)} partial copy file(s) removed")
        if report.quarantined_objects:
            parts.append(f"{len(report.quarantined_objects)} unrecorded object(s) quarantined")
        if report.interrupted_runs:
            runs = ", ".join(str(r.get("run")) for r in report.interrupted_runs)
            parts.append(f"interrupted run(s) {runs}")
        for run in report.finished_runs:
            parts.append(f"committed {run.get('action')} {run.get('run')} finished")
        ui.warn(ui.t("cli.recovered", detail="; ".join(parts)))
    return doc


# -- init ----------------------------------------------------------------------------------
@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="New case folder.")],
    case_id: Annotated[str, typer.Option("--case-id", help="Case number.")],
    title: Annotated[str, typer.Option("--title", help="Case title.")],
    examiner: Annotated[str, typer.Option("--examiner", help="Examiner's name.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation.")] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Store evidence as age ciphertext under a case key wrapped by your passphrase.",
        ),
    ] = False,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Case and message language: ko or en.")
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Create a case folder; refuses to touch an existing one. / 사건 폴더를 만듭니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.verify.script import verify_script

        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise CaseError("case_exists", path=str(directory))
        if (directory / "case.json").is_file() and encrypt:
            from forensic.store.crypt import CryptError

            raise CryptError("case_exists", path=str(directory))
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise CaseError("case_exists", path=str(directory))
        key, created = ui.session(passphrase_file).unlock_or_create()
        extra = {"verify.sh": verify_script()}
        encryption = None
        if encrypt:
            from forensic._internal.clock import utc_timestamp
            from forensic.case.rekey import recipients_text
            from forensic.store import crypt

            passphrase = ui.session().passphrase
            assert passphrase is not None  # the key was just unlocked with it
            identity = crypt.new_identity()
            recipient = str(identity.to_public())
            extra[crypt.IDENTITY_FILE] = crypt.wrap_identity(identity, passphrase, utc_timestamp())
            extra[crypt.RECIPIENTS_FILE] = recipients_text((recipient,), case_id)
            encryption = crypt.Encryption((recipient,))
        case, entry = Case.init(
            directory,
            session=ui.session(),
            case_id=case_id,
            title=title,
            examiner=examiner,
            organisation=org,
            lang=ui.lang,
            key=key,
            extra_files=extra,
            encryption=encryption,
        )
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "case": case.info.as_dict(),
                    "path": str(case.root),
                    "key_created": created,
                    "entry": entry.as_dict(),
                }
            )
        else:
            if created:
                ui.say("cli.key_created", path=str(config_home()))
            ui.say("cli.init_done", case_id=case_id, path=str(case.root))
            ui.say("cli.key_fingerprint", fingerprint=key.fingerprint)
            if encryption is not None:
                ui.say("crypt.init_encrypted", recipient=encryption.recipients[0])
        return EXIT_OK

    run_verb(ui, body)


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


# -- verify --------------------------------------------------------------------------------
@app.command()
def verify(
    expect_key: Annotated[
        str | None,
        typer.Option("--expect-key", help="Require this examiner key fingerprint (prefix)."),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not append the result to the custody log.")
    ] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help="Encrypted case: also decrypt every object and re-hash its plaintext "
            "(needs the passphrase; logged as an access).",
        ),
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Re-hash every object and re-check the whole custody log. / 사건 전체를 검증합니다.

    Exit 0 when intact, 1 naming each problem.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        recorded: int | None = None
        not_recorded: str | None = None
        key: ExaminerKey | None = None
        if decrypt:
            # Decryption needs the case identity, unwrapped with the examiner's passphrase.
            key, _ = _unlock_existing(ui, passphrase_file)
            case.check_key(key)
            if case.store.crypto is not None:
                try:
                    case.store.crypto.identity()
                except CryptError as exc:
                    # An edited encryption record or a replaced key file: verify names it (it
                    # checks case.json and keys/ against the log); a wrong passphrase stops here.
                    if exc.key != "identity_unreadable":
                        raise
        if no_record:
            not_recorded = "--no-record"
            key = None
        elif key is None:
            # Unlock before taking the lock, so no prompt ever holds the case.
            try:
                key, _ = _unlock_existing(ui, passphrase_file)
                case.check_key(key)
            except KeyringError as exc:
                # A third party without the examiner's key still gets the full verification.
                key, not_recorded = None, exc.diagnostics(ui.lang)
        with case_lock(case.root, case.session.lock_timeout):
            with ui.progress() as progress:
                report = verify_case(case, progress, expect_key=expect_key, decrypt=decrypt)
            if key is not None:
                if not report.log_intact or report.interrupted:
                    not_recorded = ui.t("error.log_not_intact")
                else:
                    recorded = record_verification(case, key, report).seq
                    case.record_access(key, locked=True)
        _report_verify(ui, report, recorded, not_recorded)
        return EXIT_OK if report.intact else EXIT_INTEGRITY

    run_verb(ui, body)


def _report_verify(
    ui: Ui, report: VerificationReport, recorded: int | None, not_recorded: str | None
) -> None:
    if ui.json_mode:
        doc = report.as_dict()
        doc["ok"] = report.intact
        doc["recorded_seq"] = recorded
        ui.emit_json(doc)
        return
    if report.intact:
        ui.say(
            "cli.verify_ok",
            case_id=report.case_id,
            items=report.items,
            bytes=human_bytes(report.bytes_checked),
            entries=report.log_entries,
        )
    else:
        ui.problem(ui.t("cli.verify_bad", case_id=report.case_id, count=len(report.problems)))
        for p in report.problems[:50]:
            ui.problem(
                ui.t(
                    "cli.verify_problem",
                    area=p.area,
                    location=p.location,
                    kind=p.kind,
                    detail=p.detail,
                )
            )
        if len(report.problems) > 50:
            ui.problem(ui.t("cli.more_problems", count=len(report.problems) - 50))
        if all(p.area == "interrupted" or p.kind == "object_unrecorded" for p in report.problems):
            ui.warn(ui.t("cli.verify_interrupted"))
    if report.encrypted_objects and not report.plaintext_checked:
        ui.say("crypt.verify_ciphertext_note")
    ui.say("cli.key_fingerprint", fingerprint=report.key_fingerprint)
    if report.log_head:
        ui.say("cli.head", head=report.log_head)
    if recorded is not None:
        ui.say("cli.verify_recorded", seq=recorded)
    elif not_recorded:
        ui.say("cli.verify_not_recorded", reason=not_recorded)


# -- recover / note ------------------------------------------------------------------------
@app.command()
def recover(
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Quarantine and log what an interrupted run left behind. / 중단된 실행의 흔적을 격리·기록."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        key, _ = _unlock_existing(ui, passphrase_file)
        report = case.recover(key)
        doc = _show_recovery(ui, report)
        if ui.json_mode:
            ui.emit_json({"ok": True, "recovered": doc})
        elif report.empty:
            ui.say("cli.recover_nothing")
        return EXIT_OK

    run_verb(ui, body)


@app.command()
def note(
    text: Annotated[str, typer.Argument(help="The note.")],
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Add an examiner's note to the custody log. / 조사자 메모를 기록합니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.note import add_note

        result = add_note(ui.session(passphrase_file), text, case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        _show_recovery(ui, result.recovery)
        ui.say("cli.note_done", seq=result.entry.seq)
        return EXIT_OK

    run_verb(ui, body)


# -- list / log / show ---------------------------------------------------------------------
@app.command("list")
def list_items(
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """List the evidence items. / 증거 목록을 보여 줍니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        items = case.items()
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "case_id": case.info.case_id,
                    "items": [
                        {
                            "no": n,
                            "sha256": item.item_id,
                            "size": item.size,
                            "media_type": item.media_type,
                            "hashes": item.hashes,
                            "object": item.object_path,
                            "acquisitions": [
                                {"seq": a.seq, "time": a.time, "source": a.source_path}
                                for a in item.acquisitions
                            ],
                        }
                        for n, item in enumerate(items.values(), start=1)
                    ],
                }
            )
            return EXIT_OK
        if not items:
            ui.say("cli.list_empty")
            return EXIT_OK
        table = Table(title=ui.t("table.items_title"))
        for col in ("no", "item", "type", "size", "acquired", "source"):
            table.add_column(ui.t(f"table.{col}"), overflow="fold")
        for n, item in enumerate(items.values(), start=1):
            first = item.acquisitions[0]
            table.add_row(
                str(n),
                item.item_id,
                item.media_type,
                human_bytes(item.size),
                first.details.get("acquired", first.time),
                escape(display(first.source_path))
                + (f" (+{len(item.acquisitions) - 1})" if len(item.acquisitions) > 1 else ""),
            )
        ui.out.print(table)
        return EXIT_OK

    run_verb(ui, body)


@app.command()
def log(
    access: Annotated[
        bool,
        typer.Option("--access", help="Only access entries: who viewed, exported or decrypted."),
    ] = False,
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the custody log. / 관리연속성 기록을 보여 줍니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        entries = case.entries()
        if access:
            # An export entry is an access record too (details.access).
            entries = [e for e in entries if e.action == "access" or "access" in e.details]
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "case_id": case.info.case_id,
                    "entries": [{**e.as_dict(), "hash": e.hash} for e in entries],
                }
            )
            return EXIT_OK
        table = Table(title=ui.t("table.log_title"))
        for col in ("seq", "time", "action", "subject"):
            table.add_column(ui.t(f"table.{col}"), overflow="fold")
        for e in entries:
            subject = display(e.subject)
            action = e.action
            acc = e.details if e.action == "access" else e.details.get("access")
            if isinstance(acc, dict):
                # Who (the signing key), which verb, which items: readable at a glance.
                action = f"access: {acc.get('verb')}"
                names = [str(i)[:12] for i in acc.get("items", []) or []]
                subject = ui.t(
                    "crypt.log_access",
                    actor=e.actor[:16],
                    count=len(names),
                    items=", ".join(names[:6]) + (" …" if len(names) > 6 else ""),
                    decrypted=ui.t("crypt.yes" if acc.get("decrypted") else "crypt.no"),
                )
            table.add_row(str(e.seq), e.time, escape(action), escape(subject))
        ui.out.print(table)
        return EXIT_OK

    run_verb(ui, body)


@app.command()
def show(
    item: Annotated[str, typer.Argument(help="SHA-256 of the item, or a unique prefix.")],
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not log this view as an access entry.")
    ] = False,
    case_dir: CaseOpt = None,
    passphrase_file: PassOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Everything the case knows about one item. / 증거 하나의 모든 정보를 보여 줍니다.

    The view is logged as an ``access`` entry when the examiner key can be unlocked; anyone
    else still sees the record (the log is readable without a key) and is told it was not
    logged.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        case = _open_case(ui, case_dir)
        entries = case.entries()
        found = case.resolve_item(item, entries)
        access_seq, access_note = _record_view(ui, case, found.item_id, passphrase_file, no_record)
        trusted = first_covering_token(entries, found.acquisitions[0].seq)
        derived_note: str | None = None
        try:  # encrypted case: derived files need the case key (the log does not)
            contexts = transcript_context(case, found.item_id, entries=entries)
            record = load_record(case, found.item_id)
        except CryptError as exc:
            contexts, record = [], None
            derived_note = ui.t("derived.not_shown", reason=exc.diagnostics(ui.lang))
        if access_seq is not None:
            case.session.take_decrypted(
                case.root
            )  # this view's own access entry already names the item
        doc = {
            "sha256": found.item_id,
            "size": found.size,
            "media_type": found.media_type,
            "hashes": found.hashes,
            "object": found.object_path,
            "first_trusted_time": trusted,
            "chat_context": [c.as_dict() for c in contexts],
            "metadata": record,
            "acquisitions": [
                {"seq": a.seq, "time": a.time, **a.details} for a in found.acquisitions
            ],
            "encrypted": found.encrypted,
        }
        if derived_note is not None:
            doc["derived_not_shown"] = derived_note
        if found.encrypted:
            doc["encrypted_object"] = {"sha256": found.object_sha256, "size": found.object_size}
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": True,
                    "item": doc,
                    "access_seq": access_seq,
                    "access_not_logged": access_note,
                }
            )
            return EXIT_OK
        table = Table(show_header=True)
        table.add_column(ui.t("table.field"))
        table.add_column(ui.t("table.value"), overflow="fold")
        table.add_row("SHA-256", found.item_id)
        for name, value in sorted(found.hashes.items()):
            if name != "sha256":
                table.add_row(name.upper(), value)
        table.add_row(ui.t("table.size"), f"{found.size} ({human_bytes(found.size)})")
        table.add_row(ui.t("table.type"), found.media_type)
        if found.encrypted:
            table.add_row(ui.t("crypt.stored_encrypted"), escape(found.object_path))
        if trusted is None:
            table.add_row(ui.t("table.first_trusted"), ui.t("cli.no_trusted_time"))
        else:
            label = "" if trusted["trusted"] else " " + ui.t("cli.untrusted_token")
            table.add_row(
                ui.t("table.first_trusted"),
                escape(f"{trusted['gen_time']} ({trusted['tsa']}, #{trusted['entry_seq']}){label}"),
            )
        for a in found.acquisitions:
            src = a.details.get("source", {})
            table.add_row(f"#{a.seq} {ui.t('table.acquired')}", str(a.details.get("acquired")))
            table.add_row(f"#{a.seq} {ui.t('table.source')}", escape(display(src.get("path", ""))))
            st = src.get("stat", {})
            if st:
                table.add_row(
                    f"#{a.seq} mtime/atime/ctime",
                    f"{st.get('mtime')} / {st.get('atime')} / {st.get('ctime')}",
                )
            for extra in ("note", "source_url", "host", "examiner"):
                if a.details.get(extra):
                    table.add_row(f"#{a.seq} {extra}", escape(str(a.details[extra])))
        if record is not None:
            for label, value in metadata_lines(record, ui.lang):
                table.add_row(escape(label), escape(value))
        for c in contexts:
            chat = c.chat.get("name") or c.group
            table.add_row(
                ui.t("chat.transcript_heading"),
                escape(ui.t("chat.in_chat", chat=chat, app=c.app)) + ("" if c.intact else " (!)"),
            )
            for m in c.messages:
                d = m.get("date", {})
                who = (m.get("sender") or {}).get("name") or "?"
                line = f"{d.get('as_written')} [{d.get('zone')}] {who}: {m.get('text', '')}"
                if m.get("forwarded_from"):
                    line += " — " + ui.t("chat.forwarded", source=m["forwarded_from"])
                table.add_row(("▶ " if m.get("focus") else "  ") + str(m.get("id")), escape(line))
        ui.out.print(table)
        if derived_note is not None:
            ui.warn(derived_note)
        if access_seq is not None:
            ui.say("crypt.view_logged", seq=access_seq)
        elif access_note:
            ui.say("crypt.view_not_logged", reason=access_note)
        return EXIT_OK

    run_verb(ui, body)


def _record_view(
    ui: Ui, case: Case, item_id: str, passphrase_file: Path | None, no_record: bool
) -> tuple[int | None, str | None]:
    """Log a ``show`` as an access entry when the examiner key is at hand."""
    if no_record:
        return None, "--no-record"
    try:
        key, _ = _unlock_existing(ui, passphrase_file)
        case.check_key(key)
    except KeyringError as exc:
        return None, exc.diagnostics(ui.lang)
    entry = case.record_access(key, verb="show", items=[item_id], decrypted=False)
    return (entry.seq if entry is not None else None), None


# -- key -----------------------------------------------------------------------------------
@key_app.command("show")
def key_show(
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the examiner key's fingerprint (no passphrase needed)."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        record = read_key_record(config_home())
        kdf = record.get("kdf")
        doc = {
            "path": str(config_home()),
            "fingerprint": record.get("fingerprint"),
            "created": record.get("created"),
            "kdf": kdf.get("name") if isinstance(kdf, dict) else None,
        }
        if ui.json_mode:
            ui.emit_json({"ok": True, "key": doc})
        else:
            ui.say("cli.key_fingerprint", fingerprint=doc["fingerprint"])
        return EXIT_OK

    run_verb(ui, body)


# -- demo ----------------------------------------------------------------------------------
@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to create for the demo.")] = Path(
        "forensic-demo"
    ),
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on generated media, ending with verify. / 전체 과정 시연."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.demo import run_demo

        ui.say("cli.demo_start", path=str(out))
        with ui.progress() as progress:
            result = run_demo(out, progress, lang=ui.lang)
        if ui.json_mode:
            ui.emit_json({"ok": result.report.intact, **result.as_dict()})
        else:
            _report_capture(ui, result.capture, result.timestamp)
            ui.say("cli.demo_report", path=str(result.report_path))
            ui.say("cli.demo_export", path=str(result.export.destination))
            _report_verify(ui, result.report, result.verify_seq, None)
            ui.say("cli.demo_done", path=str(result.case_root))
        return EXIT_OK if result.report.intact else EXIT_INTEGRITY

    run_verb(ui, body)


def main() -> None:
    app()
