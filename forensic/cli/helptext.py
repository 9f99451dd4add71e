"""Help texts in the user's language, click's own headings and placeholders included.

Typer takes every help string when the verbs are declared, before ``--lang`` is parsed, so the
language is chosen once at start-up: a ``--lang`` already on the command line, else
``FORENSIC_LANG``, else the locale. The words click itself prints (``Usage:``, ``Options:``,
``[default: …]``, ``<path>``…) are translated as a help page is printed, by the context class
that every command of the app gets (:class:`LocalizedGroup`).
"""

from __future__ import annotations

import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from forensic.i18n import message, resolve_lang


def lang_on_command_line(argv: Sequence[str]) -> str | None:
    """The value of a ``--lang`` option already typed (``--lang ko`` or ``--lang=ko``)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


HELP_LANG = resolve_lang(lang_on_command_line(sys.argv[1:]))


def help_text(key: str, **params: object) -> str:
    """The help text ``help.<key>`` in the start-up language."""
    return message(f"help.{key}", HELP_LANG, **params)


# click's words, as the installed typer prints them, and the catalogue key of each
_HEADINGS = (
    ("Usage", "usage"),
    ("Options", "options"),
    ("Arguments", "arguments"),
    ("Commands", "commands"),
)
_PHRASES = (
    ("Show this message and exit.", "help_option"),
    ("[OPTIONS]", "options_metavar"),
    ("COMMAND [ARGS]...", "command_metavar"),
)
_TYPES = (
    ("str", "type_text"),
    ("path", "type_path"),
    ("float", "type_number"),
    ("int", "type_integer"),
    ("bool", "type_flag"),
)
_TYPE_RE = re.compile(r"<((?:list\[)?[A-Za-z]+(?:,[A-Za-z]+)*\]?)>( {2,})?")
#: click wraps by characters, and a Hangul character takes two columns: wrap Korean earlier
_WIDE_TEXT_SHARE = 3 / 4


def display_width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def localize_help(text: str, lang: str) -> str:
    """A help page click rendered in English scaffolding, in ``lang``."""
    if lang == "en":
        return text

    def t(key: str) -> str:
        return message(f"help.{key}", lang)

    for word, key in _HEADINGS:
        text = re.sub(rf"(?m)^(\s*){word}:", rf"\g<1>{t(key)}:", text)
    for phrase, key in _PHRASES:
        text = text.replace(phrase, t(key))
    text = re.sub(r"\[default:(?=\s)", f"[{t('default')}:", text)
    text = text.replace("[required]", f"[{t('required')}]")
    types = dict(_TYPES)

    def typed(m: re.Match[str]) -> str:
        inner = m.group(1)
        many = inner.startswith("list[")
        names = inner.lower().removeprefix("list[").removesuffix("]").split(",")
        if not all(n in types for n in names):
            return m.group(0)
        new = "<" + ",".join(t(types[n]) for n in names) + (" …" if many else "") + ">"
        spaces = m.group(2)
        if not spaces:
            return new
        old = f"<{inner}>"
        return new + " " * max(2, len(spaces) + display_width(old) - display_width(new))

    return _TYPE_RE.sub(typed, text)


class LocalizedContext(typer.Context):
    """A context whose help page is in the start-up language (and wraps to fit it)."""

    def make_formatter(self) -> Any:
        if HELP_LANG == "en" or self.terminal_width is not None:
            return super().make_formatter()
        columns = max(min(shutil.get_terminal_size().columns, self.max_content_width or 80) - 2, 50)
        return self.formatter_class(width=int(columns * _WIDE_TEXT_SHARE))

    def get_help(self) -> str:
        return localize_help(super().get_help(), HELP_LANG)


class LocalizedGroup(TyperGroup):
    """A typer group whose commands (and itself) print localized help pages."""

    context_class = LocalizedContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            command.context_class = LocalizedContext
