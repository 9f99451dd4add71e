"""Message catalogues (Korean and English) for every user-facing string.

Strings live in ``templates/i18n/<lang>.toml`` so that translators never touch Python code.
"""

from __future__ import annotations

import locale
import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGS = ("en", "ko")


def templates_dir() -> Path:
    """The installed templates folder (inside the wheel) or the source checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "i18n").is_dir():
            return candidate
    raise FileNotFoundError("forensic templates folder not found")


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = templates_dir() / "i18n" / f"{lang}.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def resolve_lang(explicit: str | None = None) -> str:
    """--lang, else FORENSIC_LANG, else the locale, else English."""
    for value in (explicit, os.environ.get("FORENSIC_LANG")):
        if value:
            value = value.lower()[:2]
            if value in LANGS:
                return value
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        loc = os.environ.get(var)
        if loc:
            return "ko" if loc.lower().startswith("ko") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "ko" if loc.lower().startswith("ko") else "en"


def message(key: str, lang: str = "en", /, **params: object) -> str:
    """Format a catalogue message; falls back to English, then to the key itself."""
    text = catalogue(lang).get(key) or catalogue("en").get(key)
    if text is None:
        return key if not params else f"{key} {params}"
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
