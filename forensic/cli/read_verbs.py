"""``list``, ``log`` and ``show``: adapters of :mod:`forensic.service.reading`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from forensic._internal.paths import display
from forensic.cli.app import CaseOpt, JsonOpt, LangOpt, PassOpt, VerboseOpt, app
from forensic.cli.helptext import help_text
from forensic.cli.output import Ui, escape, human_bytes, make_ui, new_table, run_verb
from forensic.errors import EXIT_OK

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from forensic.custody import CustodyEntry
    from forensic.service.reading import ItemList, ItemView, LogView


# -- list / log / show ---------------------------------------------------------------------
WideOpt = Annotated[
    bool,
    typer.Option("--wide", help=help_text("view.wide")),
]
ZoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help=help_text("view.timezone")),
]


@app.command("list", help=help_text("verb.list"))
def list_items(
    wide: WideOpt = False,
    timezone: ZoneOpt = None,
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """List the evidence items. / 증거 목록을 보여 줍니다.

    One line per item: its number (what show, analyze and report --items take), file name,
    type, size, the first 12 digits of its SHA-256 and when it was acquired.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.cli.verify_verbs import report_handovers
        from forensic.service.reading import list_items

        result = list_items(ui.session(), case_dir, zone=timezone)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        elif not result.items:
            ui.say("cli.list_empty")
        else:
            ui.out.print(_wide_item_table(ui, result) if wide else _item_table(ui, result))
        if not ui.json_mode:
            report_handovers(ui, result.handovers)
        return EXIT_OK

    run_verb(ui, body)


def _one_line(text: str) -> Text:
    """A cell that never wraps: cut with an ellipsis when the terminal is too narrow (plain
    text, never read as markup; control characters shown escaped)."""
    from rich.text import Text

    return Text(display(text), no_wrap=True, overflow="ellipsis")


def _compact_table(title: str) -> Table:
    """A table without side borders, one line per row, fitted to the terminal (COLUMNS)."""
    from rich import box

    return new_table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )


def shown(utc: str, zone: str) -> str:
    """A recorded UTC time as a person reads it: in ``zone`` with UTC beside it
    (``2026-12-03 22:49:27 KST (13:49:27 UTC)``); as recorded when it does not parse."""
    from forensic._internal.clock import local_and_utc

    try:
        return local_and_utc(utc, zone).text()
    except ValueError:
        return display(utc)


def _local_only(utc: str, zone: str) -> str:
    """``2026-12-04 00:04:56 KST``: for a table whose next column holds the UTC time."""
    from forensic._internal.clock import local_and_utc

    try:
        moment = local_and_utc(utc, zone)
    except ValueError:
        return display(utc)
    return f"{moment.local.strftime('%Y-%m-%d %H:%M:%S')} {moment.local.tzname() or zone}"


@dataclass(frozen=True)
class CompactTimes:
    """How an 80-column table shows times: local, to the minute; the header names the zone
    and its UTC offset (``Acquired (KST, UTC+09:00)``), or, where the offset changes between
    rows (summer time), each row carries its UTC time in brackets. ``--wide`` and ``show``
    print every time in full with UTC beside it (:func:`shown`)."""

    zone: str
    label: str
    """The zone's abbreviation when every row has the same (``KST``), else its name."""
    offset: str | None
    """The one UTC offset of every row (``+09:00``), else None."""

    def row(self, utc: str) -> str:
        from forensic._internal.clock import local_and_utc

        try:
            moment = local_and_utc(utc, self.zone)
        except ValueError:
            return display(utc)
        local = moment.local.strftime("%Y-%m-%d %H:%M")
        if self.offset is not None:
            return local
        same_day = moment.local.date() == moment.utc.date()
        return f"{local} ({moment.utc.strftime('%H:%M' if same_day else '%m-%d %H:%M')} UTC)"

    def title(self, ui: Ui, title: str) -> str:
        """The table's title with the zone's offset: ``… · times in KST = UTC+09:00``."""
        if self.offset is None or self.offset == "+00:00":
            return title
        return f"{title} · " + ui.t("table_zone.note", zone=self.label, offset=self.offset)


def compact_times(zone: str, utc_times: list[str]) -> CompactTimes:
    from forensic._internal.clock import local_and_utc
    from forensic.service.reading import zone_label

    offsets = set()
    for utc in utc_times or [utc_now()]:
        try:
            offsets.add(local_and_utc(utc, zone).local.strftime("%z"))
        except ValueError:
            continue
    label = zone_label(zone, utc_times)
    if len(offsets) != 1:
        return CompactTimes(zone, label, None)
    raw = offsets.pop() or "+0000"
    return CompactTimes(zone, label, f"{raw[:3]}:{raw[3:]}")


def utc_now() -> str:
    from forensic._internal.clock import utc_timestamp

    return utc_timestamp()


def _item_table(ui: Ui, result: ItemList) -> Table:
    from forensic.service.reading import acquired_time, item_name

    times = [acquired_time(item) for item in result.items]
    compact = compact_times(result.zone, times)
    table = _compact_table(compact.title(ui, ui.t("table.items_title")))
    table.add_column(ui.t("table.no"), justify="right", no_wrap=True)
    table.add_column(ui.t("table.name"), ratio=1)
    table.add_column(ui.t("table.type"))
    table.add_column(ui.t("table.size"), justify="right", no_wrap=True)
    table.add_column(ui.t("table.sha256_short"), no_wrap=True)
    table.add_column(ui.t("table.acquired_in", zone=compact.label), no_wrap=True)
    for n, (item, acquired) in enumerate(zip(result.items, times, strict=True), start=1):
        more = len(item.acquisitions) - 1
        table.add_row(
            str(n),
            _one_line(item_name(item) + (f" (+{more})" if more else "")),
            _one_line(item.media_type),
            human_bytes(item.size),
            item.item_id[:12],
            _one_line(compact.row(acquired)),  # --wide: to the second, UTC beside
        )
    return table


def _wide_item_table(ui: Ui, result: ItemList) -> Table:
    from forensic.service.reading import acquired_time, item_name, zone_label

    times = [acquired_time(item) for item in result.items]
    table = new_table(title=ui.t("table.items_title"))
    zone = zone_label(result.zone, times)
    for header in (
        ui.t("table.no"),
        ui.t("table.item"),
        ui.t("table.name"),
        ui.t("table.type"),
        ui.t("table.size"),
        ui.t("table.acquired_in", zone=zone),
        ui.t("table.acquired"),
        ui.t("table.source"),
    ):
        table.add_column(header, overflow="fold")
    for n, (item, acquired) in enumerate(zip(result.items, times, strict=True), start=1):
        sources = [escape(display(a.source_path)) for a in item.acquisitions]
        table.add_row(
            str(n),
            item.item_id,
            escape(display(item_name(item))),
            escape(item.media_type),
            human_bytes(item.size),
            _local_only(acquired, result.zone),  # UTC is the next column
            escape(acquired),
            "\n".join(sources),
        )
    return table


@app.command(help=help_text("verb.log"))
def log(
    access: Annotated[
        bool,
        typer.Option("--access", help=help_text("log.access")),
    ] = False,
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help=help_text("view.action")),
    ] = None,
    item: Annotated[
        str | None,
        typer.Option("--item", help=help_text("view.item")),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help=help_text("view.since")),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help=help_text("view.until")),
    ] = None,
    wide: WideOpt = False,
    timezone: ZoneOpt = None,
    case_dir: CaseOpt = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Show the custody log. / 관리연속성 기록을 보여 줍니다.

    One line per entry; times without an offset in --since/--until are read in the display zone.
    """
    ui = make_ui(lang, json_out, verbose)

    def body() -> int:
        from forensic.service.reading import LogFilter, read_log

        where = LogFilter(access, tuple(action or ()), item, since, until)
        result = read_log(ui.session(), case_dir, where=where, zone=timezone)
        if ui.json_mode:
            ui.emit_json(result.as_dict())
        else:
            ui.out.print(_log_table(ui, result, wide))
        return EXIT_OK

    run_verb(ui, body)


def _log_table(ui: Ui, result: LogView, wide: bool) -> Table:
    times = [e.time for e in result.entries]
    compact = compact_times(result.zone, times)
    if wide:
        table = new_table(title=ui.t("table.log_title"))
        for col in ("seq", "time_in", "time", "action", "subject"):
            table.add_column(ui.t(f"table.{col}", zone=compact.label), overflow="fold")
    else:
        table = _compact_table(compact.title(ui, ui.t("table.log_title")))
        table.add_column(ui.t("table.seq"), justify="right", no_wrap=True)
        table.add_column(ui.t("table.time_in", zone=compact.label), no_wrap=True)
        table.add_column(ui.t("table.action"))
        table.add_column(ui.t("table.subject"), ratio=1)
    for e in result.entries:
        action, subject = _log_row(ui, result, e, wide)
        if wide:
            when = shown(e.time, result.zone)
            table.add_row(str(e.seq), when, e.time, escape(action), escape(subject))
        else:
            when = compact.row(e.time)
            table.add_row(str(e.seq), _one_line(when), _one_line(action), _one_line(subject))
    return table


def _item_label(result: LogView, item_id: str, wide: bool) -> str:
    """``#3 피해자_사진.jpg`` (wide: with the full SHA-256 after it)."""
    label = result.labels.get(item_id)
    if label is None:
        return item_id if wide else item_id[:12]
    text = f"#{label.no} {label.name}".rstrip()
    return f"{text} (sha256:{item_id})" if wide else text


def _log_row(ui: Ui, result: LogView, entry: CustodyEntry, wide: bool) -> tuple[str, str]:
    """(action, subject); an item entry names the item's number and file name; an access reads
    as who (the signing key), which verb, which items."""
    from forensic.service.reading import access_details

    acc = access_details(entry)
    if acc is None:
        if entry.subject.startswith("sha256:"):
            return entry.action, _item_label(result, entry.subject.removeprefix("sha256:"), wide)
        return entry.action, display(entry.subject)
    ids = [str(i) for i in acc.get("items", []) or []]
    decrypted = ui.t("crypt.yes" if acc.get("decrypted") else "crypt.no")
    if wide:
        names = [_item_label(result, i, wide) for i in ids]
        subject = ui.t(
            "crypt.log_access",
            actor=entry.actor[:16],
            count=len(names),
            items=", ".join(names),
            decrypted=decrypted,
        )
    else:  # the items first: they are what a reader of one line looks for
        names = [f"#{result.labels[i].no}" if i in result.labels else i[:12] for i in ids]
        subject = ui.t(
            "table.access_short",
            items=", ".join(names[:6]) + (" …" if len(names) > 6 else ""),
            actor=entry.actor[:8],
            decrypted=decrypted,
        )
    return f"access: {acc.get('verb')}", display(subject)


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
        from forensic.cli.verify_verbs import report_handovers
        from forensic.service.reading import show_item

        view = show_item(ui.session(passphrase_file), item, case_dir, no_record=no_record)
        if ui.json_mode:
            ui.emit_json(view.as_dict())
            return EXIT_OK
        ui.out.print(_item_view_table(ui, view))
        report_handovers(ui, [h for h in view.handovers if not h.received])
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
    elif not trusted["trusted"] and not trusted["demo"]:
        # the TSA's name is the case's word only: an untrusted root never reads as that TSA
        text = ui.t(
            "trust.show_untrusted",
            gen_time=shown(str(trusted["gen_time"]), view.zone),
            tsa=display(str(trusted["tsa"])),
            seq=trusted["entry_seq"],
        )
        table.add_row(ui.t("table.first_trusted"), escape(text))
    else:
        label = "" if trusted["trusted"] else " " + ui.t("cli.untrusted_token")
        when = shown(str(trusted["gen_time"]), view.zone)
        tsa = display(str(trusted["tsa"]))
        table.add_row(
            ui.t("table.first_trusted"),
            escape(f"{when} ({tsa}, #{trusted['entry_seq']}){label}"),
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
        table.add_row(f"#{a.seq} {ui.t('table.acquired')}", shown(a.acquired_utc, view.zone))
        table.add_row(f"#{a.seq} {ui.t('table.source')}", escape(display(src.get("path", ""))))
        st = src.get("stat", {})
        if st:
            table.add_row(
                f"#{a.seq} {ui.t('table.file_times')}",
                ui.t(
                    "table.file_times_value",
                    mtime=st.get("mtime"),
                    atime=st.get("atime"),
                    ctime=st.get("ctime"),
                ),
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
        if c.zone_check.get("disagreements"):
            stated = c.zone_check.get("stated") or {}
            warning = ui.t(
                "chat_view.zone_warning",
                derived=", ".join(f"UTC{o}" for o in c.zone_check.get("derived_offsets") or {}),
                zone=stated.get("zone"),
                count=c.zone_check["disagreements"],
            )
            table.add_row("⚠", f"[yellow]{escape(warning)}[/yellow]")
        for m in c.messages:
            d = m.get("date", {})
            who = (m.get("sender") or {}).get("name") or "?"
            line = f"{d.get('as_written')} [{d.get('zone')}] {who}: {m.get('text', '')}"
            if m.get("forwarded_from"):
                line += " — " + ui.t("chat.forwarded", source=m["forwarded_from"])
            table.add_row(("▶ " if m.get("focus") else "  ") + str(m.get("id")), escape(line))
