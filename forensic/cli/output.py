"""Console output: rich for people, one JSON document on stdout for ``--json``."""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forensic._internal.paths import display, display_lines
from forensic.cli.helptext import help_text
from forensic.errors import EXIT_OPERATIONAL, ForensicError, KeyringError
from forensic.i18n import message, resolve_lang
from forensic.progress import ProgressReporter

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from forensic.custody.keys import PassphraseProvider
    from forensic.session import Session


def escape(text: str) -> str:
    """Every printed text goes through it: control characters (C0, DEL, C1, bidi overrides)
    shown escaped, line breaks kept, then rich's markup escaping (loaded on first use so
    ``forensic --help`` does not import rich's markup engine). Names inside a message are
    escaped whole, line breaks too, by :meth:`Ui.t`."""
    from rich.markup import escape as rich_escape

    return rich_escape(display_lines(text))


def new_table(**options: Any) -> Table:
    """A rich table (rich.table is loaded by the verbs that print one, not at start-up)."""
    from rich.table import Table

    return Table(**options)


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@dataclass
class Ui:
    """Per-invocation output settings shared by every verb."""

    lang: str
    json_mode: bool
    verbose: bool
    out: Console
    err: Console
    passphrase_file: Path | None = None
    verb: str = "forensic"
    _session: Session | None = field(default=None, repr=False)
    _bar: Progress | None = field(default=None, repr=False)

    def session(self, passphrase_file: Path | None = None) -> Session:
        """This invocation's session (one person, one command); ``run_verb`` closes it."""
        if passphrase_file is not None:
            self.passphrase_file = passphrase_file
        if self._session is None:
            from forensic.session import Session

            self._session = Session.default(
                passphrase_provider=lambda new: passphrase_provider(self, self.passphrase_file)(
                    new
                ),
                lang=self.lang,
                verb=self.verb,
            )
        return self._session

    def close_session(self) -> None:
        """Log the decryptions no ``access`` entry named yet (the verb wrote nothing after)."""
        if self._session is not None:
            for failure in self._session.close():
                self.warn(f"forensic: access not logged: {failure}")

    def t(self, key: str, **params: object) -> str:
        """A catalogue message for a person: every text parameter (a name, a path, a problem's
        detail) escaped by :func:`display`, so none can break a line or send a terminal code."""
        safe = {k: display(str(v)) if isinstance(v, (str, Path)) else v for k, v in params.items()}
        return message(key, self.lang, **safe)

    def say(self, key: str, **params: object) -> None:
        if not self.json_mode:
            self.out.print(escape(self.t(key, **params)))

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]{escape(text)}[/yellow]")

    def problem(self, text: str) -> None:
        self.err.print(f"[red]{escape(text)}[/red]")

    def emit_json(self, doc: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self) -> Iterator[ProgressReporter]:
        if self.json_mode or not self.err.is_terminal:
            yield ProgressReporter()
            return
        reporter = RichProgress(self)
        try:
            yield reporter
        finally:
            reporter.close()

    @contextmanager
    def paused_progress(self) -> Iterator[None]:
        """A prompt (the passphrase, asked when a reader first decrypts) never draws over a
        live progress bar: the bar stops while the question is on screen."""
        bar = self._bar
        if bar is None:
            yield
            return
        bar.stop()
        try:
            yield
        finally:
            bar.start()


class RichProgress(ProgressReporter):
    """A rich bar on stderr, drawn from the first phase on (a passphrase asked before any
    work starts is never under a live bar)."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def start(self, label: str, total: int | None) -> None:
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.ui.err,
                transient=True,
            )
            self.bar.start()
            self.ui._bar = self.bar
        self.task = self.bar.add_task(label, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, amount)

    def finish(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.remove_task(self.task)
            self.task = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.ui._bar = None
            self.bar = None


_VERB_NAMES = MappingProxyType({"list_items": "list", "ocr_verb": "ocr", "search_verb": "search"})


def _verb_name(body: Callable[[], int]) -> str:
    """The verb a body belongs to (``show.<locals>.body`` → ``show``), named in access entries."""
    outer = body.__qualname__.split(".")[0]
    return _VERB_NAMES.get(outer, outer.split("_")[0])


def make_ui(lang: str | None, json_mode: bool, verbose: bool) -> Ui:
    from rich.console import Console

    return Ui(
        lang=resolve_lang(lang),
        json_mode=json_mode,
        verbose=verbose,
        out=Console(highlight=False, soft_wrap=True),
        err=Console(stderr=True, highlight=False, soft_wrap=True),
    )


def read_private_text(path: Path) -> str:
    """A secret file's text; one that other accounts can read is refused (exit 2), naming it:
    whoever can read it holds the examiner key."""
    import stat

    with path.open("rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH):
            shown = f"{mode & 0o777:04o}"
            raise KeyringError("files.passphrase_shared", path=str(path), mode=shown)
        return fh.read().decode("utf-8")


def passphrase_provider(ui: Ui, passphrase_file: Path | None) -> PassphraseProvider:
    """Passphrase from --passphrase-file, FORENSIC_PASSPHRASE, or a hidden prompt."""

    def provide(new: bool) -> str:
        if passphrase_file is not None:
            try:
                return read_private_text(passphrase_file).rstrip("\r\n")
            except OSError as exc:
                raise KeyringError(
                    "passphrase_file", path=str(passphrase_file), reason=exc.strerror or str(exc)
                ) from exc
        env = os.environ.get("FORENSIC_PASSPHRASE")
        if env:
            return env
        if not sys.stdin.isatty():
            raise KeyringError("passphrase_needed")
        with ui.paused_progress():
            if new:
                return _prompt_new_passphrase(ui)
            return str(typer.prompt(ui.t("cli.passphrase_prompt"), hide_input=True))

    return provide


#: how many times a new passphrase is asked for when its two entries differ
NEW_PASSPHRASE_TRIES = 3


def _prompt_new_passphrase(ui: Ui) -> str:
    """A new passphrase typed twice; a mismatch asks again, up to ``NEW_PASSPHRASE_TRIES``."""
    for attempt in range(1, NEW_PASSPHRASE_TRIES + 1):
        first = typer.prompt(ui.t("cli.passphrase_new_prompt"), hide_input=True)
        second = typer.prompt(ui.t("cli.passphrase_repeat"), hide_input=True)
        if first == second:
            return str(first)
        if attempt < NEW_PASSPHRASE_TRIES:
            ui.warn(ui.t("guide.passphrase_retry", left=NEW_PASSPHRASE_TRIES - attempt))
    raise KeyringError("passphrase_mismatch")


QuietOpt = Annotated[bool, typer.Option("--quiet", help=help_text("view.quiet"))]


def next_step(ui: Ui, quiet: bool, key: str, **params: object) -> None:
    """One line saying what to do next (a newcomer's guide): not with --quiet or --json.

    Commands in it are meant to be pasted: their paths come through :func:`shell_word`.
    """
    if quiet or ui.json_mode:
        return
    ui.out.print(f"[cyan]{escape(ui.t(key, **params))}[/cyan]")


def shell_word(path: Path | str) -> str:
    """A path as one shell word (spaces, Korean, quotes survive a paste; controls shown)."""
    import shlex

    return shlex.quote(display(str(path)))


def case_option(case_dir: Path | None) -> str:
    """`` --case PATH`` for a hint when the verb was given one (else the case was found)."""
    return "" if case_dir is None else f" --case {shell_word(case_dir)}"


#: operating-system errors a user can act on (the disk, not the tool): named, not "unexpected"
_OS_ERROR_KEYS = MappingProxyType(
    {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_quota", errno.EROFS: "read_only_fs"}
)


def _operational_error(ui: Ui, exc: Exception) -> tuple[str, str]:
    """The error code and one line for an exception no ForensicError wrapped.

    A full disk can strike in any write (a log line, a metadata record, a figure); the custody
    log's rollback keeps the case valid, so the user is told what to do, with the file.
    """
    key = _OS_ERROR_KEYS.get(exc.errno or 0) if isinstance(exc, OSError) else None
    if isinstance(exc, OSError) and key is not None:
        text = ui.t(f"os_error.{key}")
        return key, f"{display(str(exc.filename))}: {text}" if exc.filename else text
    return "unexpected", ui.t("error.unexpected", reason=f"{type(exc).__name__}: {exc}")


def run_verb(ui: Ui, body: Callable[[], int]) -> None:
    """Run a verb; map errors to one line and the documented exit code, never a traceback."""
    ui.verb = _verb_name(body)
    try:
        try:
            code = body()
        finally:
            ui.close_session()
    except ForensicError as exc:
        if ui.verbose:
            ui.err.print(escape(traceback.format_exc()))
        text = exc.diagnostics(ui.lang)
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": False,
                    "error": {"code": exc.key, "message": text, "exit_code": exc.exit_code},
                }
            )
        ui.problem(f"forensic: {text}")
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if ui.verbose:
            ui.err.print(escape(traceback.format_exc()))
        code_name, text = _operational_error(ui, exc)
        if ui.json_mode:
            ui.emit_json(
                {
                    "ok": False,
                    "error": {"code": code_name, "message": text, "exit_code": EXIT_OPERATIONAL},
                }
            )
        ui.problem(f"forensic: {text}")
        raise typer.Exit(EXIT_OPERATIONAL) from None
    raise typer.Exit(code)
