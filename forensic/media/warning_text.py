"""Media warnings: stored in English, shown in the reader's language.

A metadata record is the same whatever the examiner's language, so a producer stores the
English catalogue text (:func:`warning_text`). A reader turns that text back into its key and
values through the English template and renders it in its own language
(:func:`localized_warning`); older records with the same wording translate too, and a text no
template matches (a library's own message) is shown as stored.
"""

from __future__ import annotations

import re
from functools import cache

from forensic.i18n import catalogue, message

TABLE = "media_warning"
PART_TABLE = "media_part"


def warning_text(key: str, **params: object) -> str:
    """The stored (English) text of the warning ``media_warning.<key>``."""
    return message(f"{TABLE}.{key}", "en", **params)


@cache
def _templates() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(key, pattern) of every English warning template, placeholders as named groups."""
    out = []
    for key, template in catalogue("en").items():
        if key.startswith(f"{TABLE}."):
            parts = re.split(r"\{([a-z_]+)\}", template)
            regex = "".join(
                re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)
            )
            out.append((key, re.compile(f"^{regex}$", re.DOTALL)))
    return tuple(out)


def localized_warning(text: str, lang: str) -> str:
    """A stored warning (``describer: text``) in ``lang``; untranslatable parts as stored."""
    if lang == "en":
        return text
    part, sep, rest = text.partition(": ")
    label = catalogue(lang).get(f"{PART_TABLE}.{part}") if sep else None
    body = rest if label else text
    for key, pattern in _templates():
        found = pattern.match(body)
        if found:
            body = message(key, lang, **found.groupdict())
            break
    return f"{label}: {body}" if label else body
