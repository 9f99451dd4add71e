"""``list``, ``log`` and ``show``: what the case holds, read from its custody log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from forensic._internal.paths import display
from forensic.capture.transcript import transcript_context
from forensic.case import Case
from forensic.cli.app import (
    CaseOpt,
    JsonOpt,
    LangOpt,
    PassOpt,
    VerboseOpt,
    _open_case,
    _unlock_existing,
    app,
)
from forensic.cli.output import Ui, human_bytes, make_ui, run_verb
from forensic.errors import (
    EXIT_OK,
    KeyringError,
)
from forensic.media import load_record, metadata_lines
from forensic.store.crypt import CryptError
from forensic.timestamp import (
    first_covering_token,
)


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
