"""``list``, ``log`` and ``show``: adapters of :mod:`forensic.service.reading`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, escape, human_bytes, make_ui, new_table, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from rich.table import Table

    from forensic.custody import CustodyEntry
    from forensic.service.reading import ItemList, ItemView


# -- list / log / show ---------------------------------------------------------------------
@app.command("list", help=help_text("verb.list"))
def list_items(
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """List the evidence items. / 증거 목록을 보여 줍니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.reading import list_items

        result = list_items(ui.session(), case_dir)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        elif not result.items:
            ui.say("cli.list_empty")
        else:
            ui.out.print(_item_table(ui, result))
        return EXIT_OK

    run_verb(ui, body)


def _item_table(ui: Ui, result: ItemList) -> Table:
    table = new_table(title=ui.t("table.items_title"))
    for col in ("no", "item", "type", "size", "acquired", "source"):
        table.add_column(ui.t(f"table.{col}"), overflow="fold")
    for n, item in enumerate(result.items, start=1):
        first = item.acquisitions[0]
        more = len(item.acquisitions) - 1
        table.add_row(
            str(n),
            item.item_id,
            item.media_type,
            human_bytes(item.size),
            first.details.get("acquired", first.time),
            escape(display(first.source_path)) + (f" (+{more})" if more else ""),
        )
    return table


@app.command(help=help_text("verb.log"))
def log(
    access: Annotated[
        bool,
        typer.Option("--access", help=help_text("log.access")),
    ] = False,
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the custody log. / 관리연속성 기록을 보여 줍니다."""
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.reading import read_log

        result = read_log(ui.session(), case_dir, access_only=access)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        table = new_table(title=ui.t("table.log_title"))
        for col in ("seq", "time", "action", "subject"):
            table.add_column(ui.t(f"table.{col}"), overflow="fold")
        for e in result.entries:
            action, subject = _log_row(ui, e)
            table.add_row(str(e.seq), e.time, escape(action), escape(subject))
        ui.out.print(table)
        return EXIT_OK

    run_verb(ui, body)


def _log_row(ui: Ui, entry: CustodyEntry) -> tuple[str, str]:
    """(action, subject); an access reads as who (the signing key), which verb, which items."""
    from forensic.service.reading import access_details

    acc = access_details(entry)
    if acc is None:
        return entry.action, display(entry.subject)
    names = [str(i)[:12] for i in acc.get("items", []) or []]
    subject = ui.t(
        "crypt.log_access",
        actor=entry.actor[:16],
        count=len(names),
        items=", ".join(names[:6]) + (" …" if len(names) > 6 else ""),
        decrypted=ui.t("crypt.yes" if acc.get("decrypted") else "crypt.no"),
    )
    return f"access: {acc.get('verb')}", subject


@app.command(help=help_text("verb.show"))
def show(
    item: Annotated[
        str, typer.Argument(help=help_text("show.item"), metavar=help_text("meta.item"))
    ],
    no_record: Annotated[
        bool, typer.Option("--no-record", help=help_text("show.no_record"))
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
        from forensic.service.reading import show_item

        view = show_item(ui.session(passphrase_file), item, case_dir, no_record=no_record)
        if ui.json_mode:
            ui.emit_json(view.as_dict())
            return EXIT_OK
        ui.out.print(_item_view_table(ui, view))
        if view.derived_not_shown is not None:
            ui.warn(view.derived_not_shown)
        if view.access_seq is not None:
            ui.say("crypt.view_logged", seq=view.access_seq)
        elif view.access_not_logged:
            ui.say("crypt.view_not_logged", reason=view.access_not_logged)
        return EXIT_OK

    run_verb(ui, body)


def _item_view_table(ui: Ui, view: ItemView) -> Table:
    found = view.item
    table = new_table(show_header=True)
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
    trusted = view.first_trusted_time
    if trusted is None:
        table.add_row(ui.t("table.first_trusted"), ui.t("cli.no_trusted_time"))
    else:
        label = "" if trusted["trusted"] else " " + ui.t("cli.untrusted_token")
        table.add_row(
            ui.t("table.first_trusted"),
            escape(f"{trusted['gen_time']} ({trusted['tsa']}, #{trusted['entry_seq']}){label}"),
        )
    _acquisition_rows(ui, table, view)
    if view.metadata is not None:
        from forensic.media import metadata_lines

        for label, value in metadata_lines(view.metadata, ui.lang):
            table.add_row(escape(label), escape(value))
    _chat_rows(ui, table, view)
    return table


def _acquisition_rows(ui: Ui, table: Table, view: ItemView) -> None:
    for a in view.item.acquisitions:
        src = a.details.get("source", {})
        table.add_row(f"#{a.seq} {ui.t('table.acquired')}", str(a.details.get("acquired")))
        table.add_row(f"#{a.seq} {ui.t('table.source')}", escape(display(src.get("path", ""))))
        st = src.get("stat", {})
        if st:
            table.add_row(
                f"#{a.seq} {ui.t('table.file_times')}",
                f"{st.get('mtime')} / {st.get('atime')} / {st.get('ctime')}",
            )
        for extra in ("note", "source_url", "host", "examiner"):
            if a.details.get(extra):
                label = ui.t(f"table.acq_{extra}")
                table.add_row(f"#{a.seq} {label}", escape(str(a.details[extra])))


def _chat_rows(ui: Ui, table: Table, view: ItemView) -> None:
    for c in view.chat_context:
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
