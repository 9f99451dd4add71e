"""Byte-exact path records: the original name survives even when it is not valid UTF-8."""

from __future__ import annotations

import base64
import os


def path_record(path: bytes | str) -> dict[str, str]:
    raw = os.fsencode(path)
    text = raw.decode("utf-8", errors="backslashreplace")
    return {"path": text, "path_b64": base64.b64encode(raw).decode("ascii")}


def display(path: bytes | str) -> str:
    """A terminal-safe rendering: control and bidi-override characters are escaped.

    The one escaper for everything a person reads on a terminal (names, paths, problem texts):
    CR, LF and TAB included, so no name can start a line of its own or move the cursor."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = str(path).encode("utf-8", errors="backslashreplace")
    text = raw.decode("utf-8", errors="backslashreplace")
    if text.isascii() and text.isprintable():  # U+0020-U+007E only: nothing to escape
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F  # DEL and C1 controls (U+009B acts as ESC [ in terminals)
            or code in (0x061C, 0x200E, 0x200F)  # bidi marks
            or 0x202A <= code <= 0x202E
            or 0x2066 <= code <= 0x2069
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def display_lines(text: str) -> str:
    """:func:`display` for a text of several lines: each line escaped, the line breaks kept
    (a message's own layout; the names inside it are escaped by :func:`display` first)."""
    return "\n".join(display(line) for line in text.split("\n"))
